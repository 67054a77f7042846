"""A file with the answer to "ask for information" (issue 10): the requester attaches it on the
request page or through the API; it goes to the catalog's content-addressed storage, before any
write transaction and with no text extraction; only the requester and the request's deciders can
download it; past the upload limit the answer is refused with 413 and nothing changes."""

from __future__ import annotations

import hashlib
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from sharehub.access import services
from sharehub.access.models import AccessRequest, RequestAttachment
from sharehub.catalog import extract, files
from sharehub.catalog import tasks as catalog_tasks
from sharehub.catalog.files import blob_path
from tests import factories
from tests.access.conftest import make_request
from tests.api.conftest import Api

CONTENT = "单位参保证明\n".encode() * 50


@pytest.fixture
def asked(people, conditional) -> AccessRequest:
    access_request = make_request(people["social_member"], conditional)
    return services.ask_for_information(people["tax_steward"], access_request, question="请提供参保证明")


@pytest.fixture
def guarded_storage(monkeypatch):
    """Storage runs outside every write transaction; text is never extracted from these files."""
    store = files.store_upload
    calls = []

    def outside_transactions(chunks, limit=None):
        assert connection.savepoint_ids == [], "a file is written inside a write transaction"
        calls.append(1)
        return store(chunks, limit)

    monkeypatch.setattr(files, "store_upload", outside_transactions)
    with (
        mock.patch.object(extract, "extract", side_effect=AssertionError("text extracted")),
        mock.patch.object(catalog_tasks, "read_in_child", side_effect=AssertionError("text extracted")),
    ):
        yield calls


def _answer(client, access_request, content=CONTENT, name="参保证明.txt", answer="见附件"):
    return client.post(
        reverse("access:answer", args=[access_request.pk]),
        {"answer": answer, "attachment": SimpleUploadedFile(name, content)},
    )


def test_requester_answers_with_a_file_and_the_parties_download_it(
    client_for, people, org_units, asked, guarded_storage
):
    requester = client_for(people["social_member"])
    response = _answer(requester, asked)
    assert response.status_code == 302
    asked.refresh_from_db()
    assert asked.status == "pending"
    attachment = RequestAttachment.objects.get()
    assert attachment.note.kind == "info_given" and attachment.request == asked
    assert attachment.sha256 == hashlib.sha256(CONTENT).hexdigest() and attachment.size == len(CONTENT)
    assert blob_path(attachment.sha256).read_bytes() == CONTENT
    assert guarded_storage == [1]
    url = reverse("access:file", args=[asked.pk, attachment.pk])
    for who in ("social_member", "tax_steward", "admin"):
        client = client_for(people[who])
        assert url in client.get(reverse("access:detail", args=[asked.pk])).content.decode()
        download = client.get(url)
        assert download.status_code == 200, who
        assert b"".join(download.streaming_content) == CONTENT
        assert download["Content-Disposition"].startswith("attachment;")
        assert download["X-Content-Type-Options"] == "nosniff"
    # Nobody else, not even another department's steward or a colleague of the owner department.
    other_steward = factories.member(org_units["health"], "steward", username="health_steward")
    for outsider in (people["health_member"], people["tax_member"], other_steward, people["auditor"]):
        assert client_for(outsider).get(url).status_code == 404
    assert client_for(people["tax_steward"]).get(reverse("access:file", args=[asked.pk, 999999])).status_code == 404


def test_a_file_past_the_limit_is_refused_with_413_and_nothing_changes(
    client_for, people, asked, settings, guarded_storage
):
    settings.UPLOAD_LIMIT_BYTES = 100
    response = _answer(client_for(people["social_member"]), asked)
    assert response.status_code == 413
    assert "larger than 0 MB" in response.content.decode()  # next to the file field
    asked.refresh_from_db()
    assert asked.status == "info" and not RequestAttachment.objects.exists()
    assert not any(p.is_file() for p in settings.BLOB_DIR.rglob("*"))


def test_an_answer_without_text_stores_no_file(client_for, people, asked, settings, guarded_storage):
    response = _answer(client_for(people["social_member"]), asked, answer="  ")
    assert response.status_code == 422 and "This field is required." in response.content.decode()
    assert guarded_storage == [] and not RequestAttachment.objects.exists()


def test_only_the_requester_answers_even_with_a_file(client_for, people, asked, guarded_storage):
    assert _answer(client_for(people["tax_steward"]), asked).status_code == 403
    assert _answer(client_for(people["health_member"]), asked).status_code == 404
    assert guarded_storage == [] and not RequestAttachment.objects.exists()


def test_answer_with_a_file_through_the_api(people, org_units, asked, guarded_storage, settings):
    requester = Api(people["social_member"])
    response = requester.client.post(
        f"/api/v1/requests/{asked.pk}/answer-with-file",
        {"answer": "见附件", "file": SimpleUploadedFile("proof.pdf", b"%PDF-1.4 tiny")},
    )
    assert response.status_code == 200, response.content
    [given] = [n for n in response.json()["notes"] if n["kind"] == "info_given"]
    [item] = given["attachments"]
    assert item["filename"] == "proof.pdf" and item["size"] == len(b"%PDF-1.4 tiny")
    assert item["mime_type"] == "application/pdf"
    steward = Api(people["tax_steward"])
    download = steward.client.get(item["url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 tiny"
    assert "attachment;" in download["Content-Disposition"]
    assert Api(people["health_member"]).client.get(item["url"]).status_code == 404
    detail = steward.get(f"/requests/{asked.pk}").json()
    assert [n["attachments"] for n in detail["notes"] if n["kind"] == "info_given"] == [[item]]
    # past the limit: 413 in the error shape
    again = services.ask_for_information(people["tax_steward"], asked, question="再补充")
    settings.UPLOAD_LIMIT_BYTES = 5
    response = requester.client.post(
        f"/api/v1/requests/{again.pk}/answer-with-file",
        {"answer": "见附件", "file": SimpleUploadedFile("big.txt", b"0123456789")},
    )
    assert response.status_code == 413 and response.json()["error"]["fields"]["file"]
    assert RequestAttachment.objects.count() == 1
