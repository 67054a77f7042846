"""Uploads and downloads through the pages."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sharehub.catalog import files
from sharehub.catalog.models import Attachment
from tests import factories
from tests.catalog.helpers import grant, reads

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
NAME = "报表<script>.txt"


@pytest.fixture
def resource(org_units, people):
    return factories.resource(org_units["tax"], by=people["tax_steward"], sharing_type="conditional")


def upload(client, resource, name=NAME, content=PNG):
    return client.post(reverse("catalog:attach", args=[resource.code]), {"file": SimpleUploadedFile(name, content)})


def test_upload_and_download_round_trip(client_for, people, resource):
    client = client_for(people["tax_member"])
    response = upload(client, resource)
    assert response.status_code == 302
    attachment = Attachment.objects.get(resource=resource)
    assert attachment.filename == NAME
    assert attachment.blob.mime_type == "image/png"  # sniffed from the content, not the name

    html = client.get(reverse("catalog:detail", args=[resource.code])).content.decode()
    assert "报表&lt;script&gt;.txt" in html
    assert "报表<script>" not in html

    download = client.get(reverse("catalog:attachment", args=[resource.code, attachment.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    assert download["Content-Type"] == "image/png"
    assert download["X-Content-Type-Options"] == "nosniff"
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert quote(NAME) in disposition  # RFC 5987 filename*=utf-8''…


def test_a_file_missing_from_storage_is_a_404_and_no_read(client_for, people, resource, caplog):
    upload(client_for(people["tax_member"]), resource)
    attachment = Attachment.objects.get(resource=resource)
    files.blob_path(attachment.blob.sha256).unlink()
    viewer = people["health_member"]
    grant(resource, user=viewer)
    client = client_for(viewer)
    page = client.get(reverse("catalog:attachment", args=[resource.code, attachment.pk]))
    api = client.get(f"/api/v1/resources/{resource.code}/attachments/{attachment.pk}")
    assert page.status_code == 404 and api.status_code == 404
    assert api.json()["error"]["message"] == "The file is missing from storage; an admin has been told."
    assert "is missing from storage" in caplog.text
    assert not reads(resource).filter(actor=viewer).exists()


def test_download_of_closed_content_is_recorded(client_for, people, resource):
    upload(client_for(people["tax_member"]), resource)
    attachment = Attachment.objects.get(resource=resource)
    viewer = people["health_member"]
    url = reverse("catalog:attachment", args=[resource.code, attachment.pk])
    assert client_for(viewer).get(url).status_code == 403  # sees the entry, may not read
    grant(resource, user=viewer)
    response = client_for(viewer).get(url)
    assert response.status_code == 200
    event = reads(resource).get(actor=viewer)
    assert event.details["via"] == "download"


def test_oversized_upload_is_413_and_leaves_nothing(client_for, people, resource, settings):
    settings.UPLOAD_LIMIT_BYTES = 1024
    client = client_for(people["tax_member"])
    response = upload(client, resource, content=b"x" * 4096)
    assert response.status_code == 413
    assert "larger than the limit" in response.content.decode()
    assert not Attachment.objects.filter(resource=resource).exists()
    leftovers = [p for p in settings.BLOB_DIR.rglob("*") if p.is_file()]
    assert leftovers == []


def test_upload_without_a_file_is_422(client_for, people, resource):
    response = client_for(people["tax_member"]).post(reverse("catalog:attach", args=[resource.code]))
    assert response.status_code == 422
    assert "sh-upload-error" in response.content.decode()


def test_upload_by_a_reader_who_may_not_edit_is_403(client_for, people, org_units):
    open_resource = factories.resource(org_units["tax"], by=people["tax_steward"])
    response = upload(client_for(people["health_member"]), open_resource)
    assert response.status_code == 403
    assert not Attachment.objects.exists()


def test_remove_attachment(client_for, people, resource, org_units):
    client = client_for(people["tax_member"])
    upload(client, resource)
    attachment = Attachment.objects.get(resource=resource)
    remove = reverse("catalog:detach", args=[resource.code, attachment.pk])
    assert client.get(remove).status_code == 405
    assert client.post(remove).status_code == 302
    attachment.refresh_from_db()
    assert attachment.removed_at is not None
    assert NAME not in client.get(reverse("catalog:detail", args=[resource.code])).content.decode()
    url = reverse("catalog:attachment", args=[resource.code, attachment.pk])
    assert client.get(url).status_code == 404


def test_reader_cannot_remove(client_for, people, org_units):
    open_resource = factories.resource(org_units["tax"], by=people["tax_steward"])
    upload(client_for(people["tax_member"]), open_resource, name="a.txt", content=b"hello")
    attachment = Attachment.objects.get(resource=open_resource)
    response = client_for(people["health_member"]).post(
        reverse("catalog:detach", args=[open_resource.code, attachment.pk])
    )
    assert response.status_code == 403
    attachment.refresh_from_db()
    assert attachment.removed_at is None
