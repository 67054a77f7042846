"""Attachments: type sniffed from the content, plain text read for search (PDF, DOCX, XLSX, TXT, MD) in
the background after the upload committed, and files stored once by their SHA-256."""

from __future__ import annotations

import hashlib
import io

import docx
import pytest
from openpyxl import Workbook

from sharehub.catalog import files, services, tasks
from sharehub.catalog.models import Blob
from tests import factories


def _pdf_with_text(text: str) -> bytes:
    """A one-page PDF whose content stream shows `text` in Helvetica (ASCII only)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _docx_with(paragraph: str, cell: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(paragraph)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = cell
    table.rows[0].cells[1].text = "二〇二六年"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _xlsx_with(sheet_title: str, value: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title
    sheet.append(["纳税人识别号", "名称"])
    sheet.append(["91310000X", value])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


CASES = [
    ("report.pdf", _pdf_with_text("Sharehub tax registry quarterly"), "application/pdf", "tax registry quarterly"),
    ("通知.docx", _docx_with("社保缴费基数核定通知", "营业执照"), files.DOCX, "社保缴费基数核定通知"),
    ("名单.xlsx", _xlsx_with("登记", "某某科技有限公司"), files.XLSX, "某某科技有限公司"),
    ("说明.txt", "纳税人登记信息说明\nplain text".encode(), "text/plain", "纳税人登记信息说明"),
    ("readme.md", "# 标题\n\n共享目录 *markdown*".encode(), "text/markdown", "共享目录"),
]


def attach_and_read(actor, resource, name: str, content: bytes) -> Blob:
    """Upload, then run the background reader once, as `sharehub serve`'s worker thread would."""
    attachment = services.add_attachment(actor, resource, name, [content])
    tasks.extract_pending()
    return Blob.objects.get(pk=attachment.blob_id)


@pytest.mark.parametrize(("name", "content", "mime", "expected"), CASES, ids=[c[0] for c in CASES])
def test_type_is_sniffed_and_text_extracted(org_units, people, name, content, mime, expected):
    resource = factories.resource(org_units["tax"], by=people["tax_steward"])
    blob = attach_and_read(people["tax_steward"], resource, name, content)
    assert blob.mime_type == mime
    assert blob.text_status == Blob.TextStatus.DONE
    assert expected in blob.text
    assert blob.sha256 == hashlib.sha256(content).hexdigest()
    assert files.blob_path(blob.sha256).read_bytes() == content


def test_type_comes_from_the_content_not_the_name(org_units, people):
    resource = factories.resource(org_units["tax"], by=people["tax_steward"])
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    blob = attach_and_read(people["tax_steward"], resource, "looks-like.pdf", png)
    assert blob.mime_type == "image/png"
    assert blob.text == ""
    assert blob.text_status == Blob.TextStatus.NONE


def test_same_content_is_stored_once(org_units, people):
    steward = people["tax_steward"]
    first = factories.resource(org_units["tax"], by=steward)
    second = factories.resource(org_units["tax"], by=steward)
    services.add_attachment(steward, first, "a.txt", [b"same bytes"])
    services.add_attachment(steward, second, "b.txt", [b"same bytes"])
    assert Blob.objects.count() == 1
    assert second.attachments.get().blob == first.attachments.get().blob


def test_a_damaged_file_still_attaches_with_no_text(org_units, people):
    resource = factories.resource(org_units["tax"], by=people["tax_steward"])
    blob = attach_and_read(people["tax_steward"], resource, "broken.pdf", b"%PDF-1.4 truncated")
    assert blob.mime_type == "application/pdf"
    assert blob.text == ""
    assert (blob.text_status, blob.text_reason) in {(Blob.TextStatus.FAILED, "damaged"), (Blob.TextStatus.DONE, "")}


def test_file_names_lose_paths_and_control_characters():
    assert files.clean_filename("../../etc/passwd") == "passwd"
    assert files.clean_filename("C:\\Users\\x\\报告\x07.docx") == "报告.docx"
    with pytest.raises(files.Invalid):
        files.clean_filename("../")
