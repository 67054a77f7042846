"""How a dataset's fields read on the access pages: "label (column_name)" with a sensitivity badge,
instead of the bare column name. The label is the field's own label when the publisher gave one,
else its description; a field with neither shows its column name alone."""

from __future__ import annotations

from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import get_language

MAX_LABEL = 60


@dataclass(frozen=True)
class DatasetField:
    name: str
    label: str
    sensitivity: str


def field_label(info: dict) -> str:
    """The field's label in the reader's language, else in the other one."""
    zh, en = info.get("label_zh") or "", info.get("label_en") or ""
    return (zh or en) if (get_language() or "").startswith("zh") else (en or zh)


def describe(resource, names) -> list[DatasetField]:
    """The named fields of `resource` (in the order given), read from its field list."""
    known = {f.get("name"): f for f in resource.dataset_fields or [] if isinstance(f, dict)}
    described = []
    for name in names:
        info = known.get(name, {})
        label = str(field_label(info) or info.get("description") or "").strip()
        if len(label) > MAX_LABEL:
            label = label[: MAX_LABEL - 1] + "…"
        described.append(DatasetField(name, label if label != name else "", str(info.get("sensitivity") or "")))
    return described


def render(field: DatasetField, *, badge: bool = True) -> SafeString:
    return render_to_string("access/_dataset_field.html", {"f": field, "badge": badge})


def choices(resource, names) -> list[tuple[str, SafeString]]:
    """Checkbox choices: the column name as value, label and badge as what the person reads."""
    return [(f.name, render(f)) for f in describe(resource, names)]
