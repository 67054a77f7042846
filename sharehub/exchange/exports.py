"""Records as CSV or XLSX files: every matching row (up to MAX_EXPORT) as the reader may see it,
masked like the JSON pages, recorded as one read event."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

from django.http import HttpResponse
from django.utils.translation import gettext as _

from sharehub.errors import Invalid
from sharehub.exchange import queries

MAX_EXPORT = 100_000
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _formula_safe(value) -> object:
    """Text starting like a formula is prefixed with ' so a spreadsheet shows it instead of running it."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def collect(actor, view: queries.DatasetView, query: queries.RecordQuery, *, via: str):
    """(field names, rows) of every matching record; one read event for all of them."""
    rows: list[dict] = []
    consents: list[int] = []
    page_query = replace(query, limit=queries.MAX_LIMIT, cursor=query.cursor)
    while True:
        page = queries.read_records(actor, view, page_query, via=via, log=False)
        rows.extend(page.rows)
        consents.extend(page.consents)
        if len(rows) > MAX_EXPORT:
            raise Invalid(
                fields={"format": _("More than %(n)s records match; narrow the filters or use the JSON pages.")
                        % {"n": MAX_EXPORT}}
            )  # fmt: skip
        if page.next_cursor is None:
            break
        page_query = replace(page_query, cursor=page.next_cursor)
    queries.note_records_read(actor, view, len(rows), page.fields, sorted(set(consents)), via=via)
    return page.fields, rows


def export_response(actor, view: queries.DatasetView, query: queries.RecordQuery, output: str, *, via: str):
    names, rows = collect(actor, view, query, via=via)
    header = [queries.RECORD_ID, *names]
    if output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        for row in rows:
            writer.writerow([_formula_safe(row.get(name)) for name in header])
        body = ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM lets Excel read UTF-8
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title="records")
        sheet.append(header)
        for row in rows:
            sheet.append([_formula_safe(row.get(name)) for name in header])
        buffer = io.BytesIO()
        book.save(buffer)
        body = buffer.getvalue()
    response = HttpResponse(body, content_type=CONTENT_TYPES[output])
    response["Content-Disposition"] = f'attachment; filename="{view.resource.code}.{output}"'
    return response
