"""Shared parts of the exchange invariant tests: an oracle of what a reader sees of each field, written from
the rules in `sharehub.policy.fields`'s docstring (not from its code), and readers of every route that gives
records out (API JSON, by key, change feed, CSV, XLSX, the data page)."""

from __future__ import annotations

import csv
import html
import io
import json
import re

from openpyxl import load_workbook

FULL, MASKED, HIDDEN = "full", "masked", "hidden"
SENSITIVITIES = ("public", "internal", "sensitive", "secret")
RULES = ("none", "partial", "hash", "hidden")


def by_rule(sensitivity: str, rule: str) -> str:
    """What anyone who reads without a grant naming the field sees: secret fields are left out whatever their
    rule; hidden leaves it out; none shows it; partial and hash show a masked form."""
    if sensitivity == "secret" or rule == "hidden":
        return HIDDEN
    return FULL if rule == "none" else MASKED


def oracle(*, sees_all: bool, named: set[str], whole: bool, field: dict) -> str:
    """The view of one field for a reader who may read the dataset."""
    if sees_all:  # admin, member of the owner department
        return FULL
    if field["name"] in named:  # named by an active grant: in full, a secret field only this way
        return FULL
    if whole and field["sensitivity"] != "secret":  # a grant naming no fields: all but the secret ones
        return FULL
    return by_rule(field["sensitivity"], field["masking"])


# --- reading a route's answer into {record key digest: {field: value}} ------------------------------------


def rows_of_json(body: dict) -> dict[str, dict]:
    return {row["_id"]: {k: v for k, v in row.items() if k != "_id"} for row in body["items"]}


def rows_of_csv(content: bytes) -> dict[str, dict]:
    text = content.decode("utf-8-sig")
    return {row.pop("_id"): row for row in csv.DictReader(io.StringIO(text))}


def xlsx_cells(content: bytes) -> list[list]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return [list(row) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]


def rows_of_xlsx(content: bytes) -> dict[str, dict]:
    header, *rows = xlsx_cells(content)
    out = {}
    for row in rows:
        values = dict(zip(header, row, strict=True))
        out[values.pop("_id")] = {k: ("" if v is None else v) for k, v in values.items()}
    return out


def xlsx_text(content: bytes) -> str:
    return "\n".join("" if cell is None else str(cell) for row in xlsx_cells(content) for cell in row)


def body_text(response) -> str:
    """Everything a route answered, as text to search for plaintext: XLSX cell text, else the body."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Type", "").startswith("application/vnd.openxmlformats"):
        return xlsx_text(content)
    text = content.decode("utf-8", errors="replace")
    if response.get("Content-Type", "").startswith("application/json"):
        # JSON may escape non-ASCII (\\uXXXX), which a substring search would miss
        return json.dumps(json.loads(text), ensure_ascii=False)
    return html.unescape(text)


HEX = re.compile(r"^[0-9a-f]{16}$")


def forms(value: str) -> list[bytes]:
    """The ways a database may write a text: UTF-8, JSON with \\u escapes, UTF-16."""
    out = {value.encode("utf-8"), json.dumps(value)[1:-1].encode("ascii"), value.encode("utf-16-le")}
    return sorted(out)


def found_in(blob: bytes, values: list[str]) -> list[str]:
    return [v for v in values if any(form in blob for form in forms(v))]
