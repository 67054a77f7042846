"""Versions, diffs and attachments of a resource."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.api.conftest import error_of, grant, read_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def edited(api_as, people, catalog):
    """The conditional resource at version 3."""
    client = api_as(people["tax_member"])
    ident = catalog["conditional"].pk
    assert client.patch(f"/resources/{ident}", {"body": "第二版\n新行", "note": "v2"}).status_code == 200
    assert client.patch(f"/resources/{ident}", {"title": "第三版标题", "note": "v3"}).status_code == 200
    return catalog["conditional"]


def test_versions_list_newest_first(api_as, people, edited):
    response = api_as(people["tax_member"]).get(f"/resources/{edited.pk}/versions")
    assert response.status_code == 200
    rows = response.json()
    assert [v["number"] for v in rows] == [3, 2, 1]
    assert rows[0]["note"] == "v3"
    assert rows[0]["author"]["username"] == "tax_member"


def test_version_snapshot_records_a_read(api_as, people, edited):
    before = len(read_events())
    response = api_as(people["tax_member"]).get(f"/resources/{edited.code}/versions/2")
    assert response.status_code == 200
    assert response.json()["snapshot"]["body"] == "第二版\n新行"
    assert len(read_events()) == before + 1


def test_missing_version_is_404(api_as, people, edited):
    assert api_as(people["tax_member"]).get(f"/resources/{edited.pk}/versions/9").status_code == 404


def test_diff_between_versions(api_as, people, edited):
    before = len(read_events())
    response = api_as(people["tax_member"]).get(f"/resources/{edited.pk}/diff", {"from": 1, "to": 3})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["from"], body["to"]) == (1, 3)
    fields = {change["field"]: change for change in body["changes"]}
    assert set(fields) == {"title", "body"}
    assert {"kind": "added", "text": "新行"} in fields["body"]["lines"]
    assert len(read_events()) == before + 1


def test_diff_needs_both_numbers(api_as, people, edited):
    response = api_as(people["tax_member"]).get(f"/resources/{edited.pk}/diff", {"from": "one"})
    assert response.status_code == 422
    assert {"from", "to"} <= set(error_of(response)["fields"])


def test_versions_of_conditional_need_a_grant(api_as, people, edited):
    client = api_as(people["health_member"])
    assert client.get(f"/resources/{edited.pk}/versions").status_code == 403
    assert client.get(f"/resources/{edited.pk}/diff", {"from": 1, "to": 2}).status_code == 403
    grant(edited, user=people["health_member"])
    assert client.get(f"/resources/{edited.pk}/versions").status_code == 200


# --- attachments


def upload(client, resource, name="报告.txt", content=b"hello, world"):
    return client.upload(f"/resources/{resource.pk}/attachments", name, content)


def test_upload_list_download_delete(api_as, people, catalog):
    client = api_as(people["tax_member"])
    resource = catalog["conditional"]
    response = upload(client, resource)
    assert response.status_code == 201, response.content
    attachment = response.json()
    assert attachment["filename"] == "报告.txt"
    assert attachment["size"] == 12 and attachment["mime_type"] == "text/plain"

    listed = client.get(f"/resources/{resource.pk}/attachments").json()
    assert [a["id"] for a in listed] == [attachment["id"]]

    before = len(read_events())
    download = client.client.get(attachment["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"hello, world"
    assert download["Content-Type"] == "text/plain"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment;")
    assert f"filename*=UTF-8''{quote('报告.txt')}" in download["Content-Disposition"]
    assert len(read_events()) == before + 1

    assert client.delete(f"/resources/{resource.pk}/attachments/{attachment['id']}").status_code == 204
    assert client.get(f"/resources/{resource.pk}/attachments").json() == []
    assert client.client.get(attachment["download_url"]).status_code == 404


def test_upload_over_the_limit_is_413(api_as, people, catalog, settings):
    settings.UPLOAD_LIMIT_BYTES = 10
    response = upload(api_as(people["tax_member"]), catalog["open"], content=b"x" * 11)
    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "too_large" and "file" in error["fields"]


def test_upload_without_file_is_422_naming_it(api_as, people, catalog):
    response = api_as(people["tax_member"]).client.post(f"/api/v1/resources/{catalog['open'].pk}/attachments", {})
    assert response.status_code == 422
    assert "file" in error_of(response)["fields"]


def test_outsider_may_not_upload_or_delete(api_as, people, catalog):
    attachment = upload(api_as(people["tax_member"]), catalog["open"]).json()
    client = api_as(people["health_member"])
    assert upload(client, catalog["open"]).status_code == 403
    assert client.delete(f"/resources/{catalog['open'].pk}/attachments/{attachment['id']}").status_code == 403
    download = client.client.get(attachment["download_url"])
    assert download.status_code == 200
    assert read_events() == []  # open content is not logged


def test_conditional_attachments_need_a_grant(api_as, people, catalog):
    attachment = upload(api_as(people["tax_member"]), catalog["conditional"]).json()
    client = api_as(people["health_member"])
    assert client.get(f"/resources/{catalog['conditional'].pk}/attachments").status_code == 403
    assert client.client.get(attachment["download_url"]).status_code == 403


def test_content_disposition_escapes_quotes_and_keeps_the_name():
    from sharehub.catalog.files import content_disposition

    header = content_disposition('a"b\\c 报告.pdf')
    assert header.startswith('attachment; filename="a_b_c __.pdf";')
    assert header.endswith("filename*=UTF-8''a%22b%5Cc%20%E6%8A%A5%E5%91%8A.pdf")
