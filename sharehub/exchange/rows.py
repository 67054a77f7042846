"""Checking incoming rows against a dataset's schema, one row at a time, with every problem named by
row, field, value and reason (the error report of an import)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from django.utils.translation import gettext as _

from sharehub.exchange.storage import Codec, Prepared
from sharehub.exchange.types import FieldValueError, parser

MAX_VALUE_SHOWN = 200


@dataclass(frozen=True)
class RowError:
    row: int  # as the person counts: the first data row of a file is 1 (its header is row 0)
    field: str
    value: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CheckedRows:
    # (row number, record key digest, parsed values), or with `prepare`, the row as writing stores it for a row
    # that gives every field
    valid: list[tuple[int, str, dict[str, Any] | Prepared]]
    errors: list[RowError]
    rows: int = 0

    @property
    def rejected_rows(self) -> int:
        return len({e.row for e in self.errors})


def _shown(codec: Codec, name: str, raw: Any, *, keep_sensitive: bool) -> str:
    if name in codec.encrypted and not keep_sensitive:
        return ""
    text = "" if raw is None else str(raw)
    return text if len(text) <= MAX_VALUE_SHOWN else text[: MAX_VALUE_SHOWN - 1] + "…"


def check_rows(
    codec: Codec,
    rows: Iterable[dict[str, Any]],
    *,
    keep_sensitive: bool = True,
    progress: Callable[[int], None] | None = None,
    prepare: bool = False,
) -> CheckedRows:
    """Parse every row by the schema. A row with any problem is left out of `valid` whole. A field the
    row leaves out (not even null) is left out of its parsed values too, so that updating keeps it.

    `keep_sensitive`: show the given value of an encrypted field in the report (the API answers the
    caller at once); leave it out where the report is stored (the page's import).

    `prepare` (when the rows are about to be written): a row that gives every field is kept as what writing
    it stores (`Codec.prepare`: encrypted, digested, fingerprinted) instead of its parsed values, so that the
    write transaction does only the writing, and a large file is not held twice."""
    checked = CheckedRows(valid=[], errors=[])
    seen: dict[str, int] = {}
    known = codec.by_name.keys()
    key_names = {f.name for f in codec.key_fields}
    # Per field, resolved once: its name, its parser, and whether a row must give it a value.
    columns = [(f.name, parser(f.type, choices=f.choices), f.required or f.name in key_names) for f in codec.fields]
    width = len(columns)
    for number, row in enumerate(rows, start=1):
        checked.rows = number
        if progress is not None and number % 1000 == 0:
            progress(1000)
        if not isinstance(row, dict):
            checked.errors.append(RowError(number, "", "", _("A row must be an object of field names and values.")))
            continue
        problems = []
        if not known >= row.keys():
            problems = [
                RowError(number, str(name)[:64], _shown(codec, "", raw, keep_sensitive=True), _("No such field."))
                for name, raw in row.items()
                if name not in known
            ]
        parsed: dict[str, Any] = {}
        for name, parse_field, must in columns:
            if name in row:
                raw = row[name]
            elif must:
                raw = None
            else:
                continue  # left out: an update keeps the stored value, an insert leaves it empty
            try:
                value = parse_field(raw)
            except FieldValueError as error:
                shown = _shown(codec, name, raw, keep_sensitive=keep_sensitive)
                problems.append(RowError(number, name, shown, str(error.reason)))
                continue
            if value is None and must:
                reason = _("Part of the record key; cannot be empty.") if name in key_names else _("Required.")
                problems.append(RowError(number, name, "", reason))
            parsed[name] = value
        if problems:
            checked.errors.extend(problems)
            continue
        key = codec.key_of(parsed)
        first = seen.get(key)
        if first is not None:
            names = ", ".join(f.name for f in codec.key_fields)
            checked.errors.append(RowError(number, names, "", _("Same record key as row %(row)s.") % {"row": first}))
            continue
        seen[key] = number
        checked.valid.append((number, key, codec.prepare(key, parsed) if prepare and len(parsed) == width else parsed))
    if progress is not None:
        progress(checked.rows % 1000)
    return checked
