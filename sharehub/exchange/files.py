"""Reading uploaded tables (CSV or XLSX) into rows of raw values, and mapping their columns to a
dataset's fields. Parsing happens here, outside any transaction; checking is `exchange.rows`."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from sharehub.errors import Invalid
from sharehub.exchange.queries import RECORD_ID

MAX_COLUMNS = 500
SNIFF_BYTES = 64 * 1024
CHUNK_BYTES = 1024 * 1024
ENCODINGS = ("utf-8-sig", "gb18030")  # Excel in Chinese saves "CSV" as GBK; gb18030 is its superset


@dataclass
class Table:
    columns: list[str]
    kind: str  # csv or xlsx
    source: Any

    def rows(self) -> Iterator[list[Any]]:
        """Data rows after the header, as lists of raw cell values; blank rows are skipped."""
        if self.kind == "xlsx":
            sheet = self.source
            first = True
            for values in sheet.iter_rows(values_only=True):
                if first:
                    first = False
                    continue
                if any(v not in (None, "") for v in values):
                    yield list(values)
            return
        reader = self.source
        for values in reader:
            if any(v.strip() for v in values):
                yield values


def _is_xlsx(head: bytes) -> bool:
    return head.startswith(b"PK\x03\x04")


def open_table(data: bytes | Path, filename: str = "") -> Table:
    """A table from the bytes (or path) of a CSV or XLSX file; Invalid names the problem. A CSV file given by
    its path is read as its rows are (a file of a million rows is not held in memory)."""
    if isinstance(data, Path) and not filename.lower().endswith(".xlsx"):
        with data.open("rb") as handle:
            head = handle.read(4)
        if not _is_xlsx(head):
            return _open_csv_file(data)
    raw = data.read_bytes() if isinstance(data, Path) else data
    if not raw.strip():
        raise Invalid(fields={"file": _("The file is empty.")})
    if _is_xlsx(raw[:4]) or filename.lower().endswith(".xlsx"):
        return _open_xlsx(raw)
    return _open_csv(raw)


def _open_xlsx(raw: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        reason = _("Not a readable XLSX workbook (%(error)s).") % {"error": type(error).__name__}
        raise Invalid(fields={"file": reason}) from None
    sheet = book.worksheets[0] if book.worksheets else None
    if sheet is None:
        raise Invalid(fields={"file": _("The workbook has no sheet.")})
    header = next(sheet.iter_rows(values_only=True, max_row=1), None)
    columns = _columns([("" if v is None else str(v)) for v in header or ()])
    return Table(columns, "xlsx", sheet)


def _not_text() -> Invalid:
    return Invalid(fields={"file": _("The file is neither UTF-8 nor GB18030 text; save it as “CSV UTF-8”.")})


def _holds_nul() -> Invalid:
    return Invalid(fields={"file": _("The file holds NUL characters; it is not a text table.")})


def _open_csv(raw: bytes) -> Table:
    for encoding in ENCODINGS:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _not_text()
    if "\x00" in text:
        raise _holds_nul()
    head = text[:SNIFF_BYTES]
    del text  # the rows are decoded again as they are read, rather than kept as a str of the whole file
    return _csv_table(head, io.TextIOWrapper(io.BytesIO(raw), encoding=encoding, newline=""))


def _open_csv_file(path: Path) -> Table:
    """`_open_csv` of a file's bytes, which are checked in chunks first (blank, encoding, NUL characters, in
    that order, as for bytes) and then read as the rows are."""
    blank, found = True, None
    for encoding in ENCODINGS:
        decoder, head, nul = codecs.getincrementaldecoder(encoding)(), [], False
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(CHUNK_BYTES):
                    blank = blank and not chunk.strip()
                    text = decoder.decode(chunk)
                    nul = nul or "\x00" in text
                    if sum(map(len, head)) < SNIFF_BYTES:
                        head.append(text)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        found = encoding
        break
    if blank:
        raise Invalid(fields={"file": _("The file is empty.")})
    if found is None:
        raise _not_text()
    if nul:
        raise _holds_nul()
    return _csv_table("".join(head)[:SNIFF_BYTES], path.open(encoding=found, newline=""))


def _csv_table(head: str, stream) -> Table:
    """A table reading `stream` (text) as CSV in the dialect that `head`, its beginning, shows."""
    try:
        dialect = csv.Sniffer().sniff(head, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(stream, dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise Invalid(fields={"file": _("The file has no header row.")}) from None
    except csv.Error as error:
        raise Invalid(fields={"file": _("Not a readable CSV file (%(error)s).") % {"error": error}}) from None
    return Table(_columns(header), "csv", _Guarded(reader))


class _Guarded:
    """A CSV reader whose format errors are Invalid with the line, not a crash."""

    def __init__(self, reader) -> None:
        self.reader = reader

    def __iter__(self):
        while True:
            try:
                yield next(self.reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise Invalid(
                    fields={"file": _("Not readable near line %(line)s (%(error)s).")
                            % {"line": self.reader.line_num, "error": error}}
                ) from None  # fmt: skip


def _columns(header: list[str]) -> list[str]:
    columns = [str(c).strip() for c in header]
    if not any(columns):
        raise Invalid(fields={"file": _("The first row must name the columns.")})
    if len(columns) > MAX_COLUMNS:
        raise Invalid(fields={"file": _("At most %(n)s columns.") % {"n": MAX_COLUMNS}})
    return columns


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-（）()]", "", str(text)).lower()


def guess_mapping(columns: list[str], fields) -> dict[str, str]:
    """Column → field name, matching the field's name or either label; unmatched columns map to ""."""
    by_text = {}
    for field in fields:
        for text in (field.name, field.label_zh, field.label_en):
            if text:
                by_text.setdefault(_norm(text), field.name)
    mapping, used = {}, set()
    for column in columns:
        name = by_text.get(_norm(column), "")
        if name in used:
            name = ""
        used.add(name)
        mapping[column] = name
    return mapping


def left_out(mapping: dict[str, str]) -> list[str]:
    """The columns a mapping leaves out that the person should hear of: all unmapped ones but the record
    ids of an export (records are matched by their key)."""
    return [column for column, field in mapping.items() if not field and column != RECORD_ID]


def check_mapping(mapping: Any, columns: list[str], fields) -> dict[str, str]:
    """A mapping as given (column → field name or ""), checked: known columns and fields, no field twice."""
    if not isinstance(mapping, dict):
        raise Invalid(fields={"mapping": _("Give the mapping as column → field.")})
    names = {f.name for f in fields}
    errors = {}
    seen: dict[str, str] = {}
    clean = {}
    for column in columns:
        target = mapping.get(column, "")
        if not isinstance(target, str):
            target = ""
        if target and target not in names:
            errors[f"mapping.{column}"] = _("No field named %(name)s.") % {"name": target}
        elif target and target in seen:
            errors[f"mapping.{column}"] = _("%(name)s is already taken by column %(column)s.") % {
                "name": target,
                "column": seen[target],
            }
        elif target:
            seen[target] = column
        clean[column] = target
    unknown = [c for c in mapping if c not in columns]
    if unknown:
        errors["mapping"] = _("The file has no column %(names)s.") % {"names": ", ".join(map(str, unknown[:5]))}
    if not seen and not errors:
        errors["mapping"] = _("Map at least one column to a field.")
    if errors:
        raise Invalid(fields=errors)
    return clean


def mapped_rows(table: Table, mapping: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Rows as field name → raw value, by the mapping (unmapped columns dropped)."""
    positions = [(i, mapping.get(c, "")) for i, c in enumerate(table.columns)]
    positions = [(i, name) for i, name in positions if name]
    for values in table.rows():
        yield {name: (values[i] if i < len(values) else None) for i, name in positions}
