"""Reading attachments' text never happens inside the upload's transaction, and hostile files hit limits.

Each bomb here is small on disk: an XLSX that claims millions of empty cells, a DOCX whose zip directory
says it inflates past the limit. The upload commits at once; the background reader, a child process under
caps, stores the file's fate on the blob; the resource page says the text was not (fully) indexed and why.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from sharehub.catalog import extract, services, tasks
from sharehub.catalog.models import Blob
from sharehub.events.models import Event
from tests import factories

XLSX_COLUMN_LIMIT = "XFD"  # column 16,384


def sparse_xlsx(rows: int) -> bytes:
    """A valid workbook whose every row has one value in the last column: a reader pads each row with 16,383
    empty cells, so `rows` rows cost 16,384 x rows cells while the file stays a few kilobytes."""
    workbook = Workbook()
    workbook.active.title = "bomb"
    workbook.active["A1"] = "header"
    out = io.BytesIO()
    workbook.save(out)
    cells = "".join(f'<row r="{r}"><c r="{XLSX_COLUMN_LIMIT}{r}"><v>{r}</v></c></row>' for r in range(2, rows + 2))
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="A1:{XLSX_COLUMN_LIMIT}{rows + 1}"/><sheetData>'
        f'<row r="1"><c r="A1" t="inlineStr"><is><t>header</t></is></c></row>{cells}</sheetData></worksheet>'
    )
    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    rebuilt = io.BytesIO()
    with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = sheet.encode() if info.filename == "xl/worksheets/sheet1.xml" else source.read(info.filename)
            target.writestr(info.filename, data)
    return rebuilt.getvalue()


def inflating_docx(megabytes: int) -> bytes:
    """A DOCX-shaped zip whose document part inflates to `megabytes` of spaces."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b" " * (megabytes * 1024 * 1024))
    return out.getvalue()


@pytest.fixture
def resource(org_units, people):
    return factories.resource(org_units["tax"], by=people["tax_steward"], title="税源明细")


def test_upload_commits_before_any_parsing(resource, people, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a file was parsed during the upload")

    monkeypatch.setattr(extract, "extract", refuse)
    monkeypatch.setattr(tasks, "read_in_child", refuse)
    attachment = services.add_attachment(people["tax_steward"], resource, "明细.xlsx", [sparse_xlsx(10)])
    assert attachment.blob.text_status == Blob.TextStatus.PENDING
    assert attachment.blob.text == ""


def test_millions_of_empty_cells_stop_at_the_cell_limit(resource, people, settings):
    settings.EXTRACT_MAX_CELLS = 200_000
    content = sparse_xlsx(2_000)  # 32.8 million cells
    assert len(content) < 30_000
    services.add_attachment(people["tax_steward"], resource, "明细.xlsx", [content])
    assert tasks.extract_pending() == 1
    blob = Blob.objects.get()
    assert (blob.text_status, blob.text_reason) == (Blob.TextStatus.PARTIAL, extract.TOO_MANY_CELLS)
    assert blob.text.startswith("bomb\nheader\n")


def test_a_file_that_inflates_past_the_limit_is_not_opened(resource, people, settings):
    settings.EXTRACT_MAX_UNCOMPRESSED_BYTES = 4 * 1024 * 1024
    content = inflating_docx(16)
    assert len(content) < 40_000
    services.add_attachment(people["tax_steward"], resource, "通知.docx", [content])
    tasks.extract_pending()
    blob = Blob.objects.get()
    assert (blob.text_status, blob.text_reason) == (Blob.TextStatus.SKIPPED, extract.INFLATES_TOO_MUCH)
    assert blob.text == ""
    assert resource.attachments.get().removed_at is None  # still stored and attached


def test_reading_past_the_time_limit_is_stopped(resource, people, settings):
    settings.EXTRACT_MAX_CELLS = 10**12
    settings.EXTRACT_TIMEOUT_SECONDS = 1
    services.add_attachment(people["tax_steward"], resource, "明细.xlsx", [sparse_xlsx(20_000)])
    tasks.extract_pending()
    blob = Blob.objects.get()
    assert (blob.text_status, blob.text_reason) == (Blob.TextStatus.FAILED, extract.TIMED_OUT)


def test_a_child_over_its_memory_cap_fails_cleanly(tmp_path, settings):
    settings.EXTRACT_MEMORY_BYTES = 8 * 1024 * 1024  # not even enough to start Python
    path = tmp_path / "a.txt"
    path.write_text("纳税人")
    result = tasks.read_in_child(path, "text/plain")
    assert (result.status, result.reason) == (extract.FAILED, extract.OUT_OF_MEMORY)


def test_text_past_the_character_limit_is_kept_in_part(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("社保" * 600)
    result = extract.extract(str(path), "text/plain", extract.Limits(max_chars=1000))
    assert (result.status, result.reason, len(result.text)) == (extract.PARTIAL, extract.TOO_MANY_CHARS, 1000)


def test_reading_logs_one_event_per_resource_and_search_finds_the_text(org_units, people):
    from sharehub.events import consumers
    from sharehub.search.queries import search

    steward = people["tax_steward"]
    first = factories.resource(org_units["tax"], by=steward, title="甲")
    second = factories.resource(org_units["tax"], by=steward, title="乙")
    services.add_attachment(steward, first, "a.txt", ["纳税信用评价结果 appendix".encode()])
    services.add_attachment(steward, second, "b.txt", ["纳税信用评价结果 appendix".encode()])
    tasks.extract_pending()
    events = Event.objects.filter(action="resource.attachment_text_read").order_by("seq")
    assert [e.target_label for e in events] == [str(first), str(second)]
    assert events[0].details["status"] == "done" and events[0].actor_id is None
    consumers.run_pending()
    titles = sorted(hit.resource.title for hit in search(people["health_member"], "appendix").hits)
    assert titles == ["乙", "甲"]


def test_a_claimed_blob_is_not_read_twice_and_an_expired_claim_is_retried(resource, people):
    services.add_attachment(people["tax_steward"], resource, "a.txt", [b"text"])
    claimed = tasks._claim_one()
    assert claimed is not None and tasks._claim_one() is None
    Blob.objects.filter(pk=claimed.pk).update(text_claimed_until=None)  # the worker died; its claim ran out
    assert tasks.extract_pending() == 1
    blob = Blob.objects.get()
    assert (blob.text_status, blob.text_attempts) == (Blob.TextStatus.DONE, 2)


def test_a_blob_that_keeps_killing_its_reader_is_given_up(resource, people):
    services.add_attachment(people["tax_steward"], resource, "a.txt", [b"text"])
    Blob.objects.update(text_attempts=tasks.MAX_ATTEMPTS)
    tasks.extract_pending()
    blob = Blob.objects.get()
    assert (blob.text_status, blob.text_reason) == (Blob.TextStatus.FAILED, extract.STOPPED_REPEATEDLY)


def test_the_resource_page_says_why_text_was_not_indexed(resource, people, client_for, settings):
    settings.EXTRACT_MAX_UNCOMPRESSED_BYTES = 1024 * 1024
    services.add_attachment(people["tax_steward"], resource, "通知.docx", [inflating_docx(4)])
    client = client_for(people["tax_member"])
    page = client.get(f"/resources/{resource.code}/").content.decode()
    assert "Waiting to be read for search" in page
    tasks.extract_pending()
    page = client.get(f"/resources/{resource.code}/").content.decode()
    assert "Not indexed for search" in page
    assert "expands to more than" in page
    api = client.get(f"/api/v1/resources/{resource.code}/attachments").json()
    assert api[0]["text_status"] == "skipped" and api[0]["text_reason"] == "inflates_too_much"
    assert "expands to more than" in api[0]["text_note"]
