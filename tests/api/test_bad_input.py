"""Hostile or odd input gets a 4xx in the error shape, never a 500, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/resources/%C2%B2", 404, None),
        (f"/resources/{HUGE}", 404, None),
        ("/resources/a%00b", 404, None),
        ("/resources?q=%00", 422, "q"),
        ("/resources?tag=a%00", 422, "tag"),
        (f"/resources?department={HUGE}", 422, "department"),
        (f"/resources?category={HUGE}", 422, "category"),
        ("/resources?updated_since=9999-12-31T23:59:59-23:59", 422, "updated_since"),
        ("/resources?limit=0", 422, "limit"),
        ("/resources?cursor=%00", 422, "cursor"),
        (f"/people?cursor={HUGE}", 422, "cursor"),
        ("/people?q=%00", 422, "q"),
        (f"/resources/1/versions/{HUGE}", 404, None),
        (f"/resources/1/attachments/{HUGE}", 404, None),
    ],
)
def test_odd_query_and_path(api_as, people, catalog, path, status, field):
    response = api_as(people["admin"]).client.get("/api/v1" + path)
    assert response.status_code == status, response.content
    if field:
        assert field in error_of(response)["fields"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/audit/events?actor=%00", "actor"),
        ("/audit/events?target_id=%00", "target_id"),
        (f"/audit/events?cursor={HUGE}", "cursor"),
        (f"/audit/events?department={HUGE}", "department"),
    ],
)
def test_odd_audit_query(api_as, people, path, field):
    response = api_as(people["auditor"]).client.get("/api/v1" + path)
    assert response.status_code == 422
    assert field in error_of(response)["fields"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "a\x00b"}, "title"),
        ({"tags": ["ok", "a\x00"]}, "tags.1"),
        ({"dataset_fields": [{"name": "x", "description": "a\x00"}]}, "dataset_fields.0.description"),
        ({"steward": int(HUGE)}, "steward"),
        ({"related": [int(HUGE)]}, "related.0"),
        ({"scope_departments": [int(HUGE)]}, "scope_departments.0"),
        ({"category": int(HUGE)}, "category"),
    ],
)
def test_odd_patch_bodies_are_422(api_as, people, catalog, payload, field):
    response = api_as(people["admin"]).patch(f"/resources/{catalog['open'].pk}", payload)
    assert response.status_code == 422, response.content
    fields = error_of(response)["fields"]
    assert any(name == field or name.startswith(field + ".") for name in fields), fields


def test_nul_in_org_bodies_is_422(api_as, people):
    client = api_as(people["admin"])
    response = client.post("/departments", {"name": "x\x00", "code": "A"})
    assert response.status_code == 422 and "name" in error_of(response)["fields"]
    response = client.post("/people", {"username": "x", "display_name": "a\x00"})
    assert response.status_code == 422 and "display_name" in error_of(response)["fields"]


def test_control_characters_in_upload_names_are_dropped(api_as, people, catalog):
    response = api_as(people["admin"]).upload(f"/resources/{catalog['open'].pk}/attachments", "a\x00b.txt", b"x")
    assert response.status_code == 201
    assert response.json()["filename"] == "ab.txt"


@pytest.mark.parametrize(
    "raw", ["2024-01-01T00:00:00+00:00|99999999999999999999999", "9999-12-31T23:59:59-23:59|1", "x|1"]
)
def test_forged_cursor_is_422(api_as, people, raw):
    import base64

    cursor = base64.urlsafe_b64encode(raw.encode()).decode()
    response = api_as(people["admin"]).get("/resources", {"cursor": cursor})
    assert response.status_code == 422
    assert "cursor" in error_of(response)["fields"]
