"""How a dataset's fields read on the access pages: "label (column_name)" with a sensitivity badge,
instead of the bare column name. The label is the field's own `label` when the publisher gave one,
else its description; a field with neither shows its column name alone."""

from __future__ import annotations

from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

MAX_LABEL = 60


@dataclass(frozen=True)
class DatasetField:
    name: str
    label: str
    sensitivity: str


def describe(resource, names) -> list[DatasetField]:
    """The named fields of `resource` (in the order given), read from its field list."""
    known = {f.get("name"): f for f in resource.dataset_fields or [] if isinstance(f, dict)}
    described = []
    for name in names:
        info = known.get(name, {})
        label = str(info.get("label") or info.get("description") or "").strip()
        if len(label) > MAX_LABEL:
            label = label[: MAX_LABEL - 1] + "…"
        described.append(DatasetField(name, label if label != name else "", str(info.get("sensitivity") or "")))
    return described


def render(field: DatasetField, *, badge: bool = True) -> SafeString:
    return render_to_string("access/_dataset_field.html", {"f": field, "badge": badge})


def choices(resource, names) -> list[tuple[str, SafeString]]:
    """Checkbox choices: the column name as value, label and badge as what the person reads."""
    return [(f.name, render(f)) for f in describe(resource, names)]
