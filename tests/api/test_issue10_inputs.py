"""The inputs of issue 10 (item 1.3) that gave 500s: each gets a 4xx in the one error shape."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from sharehub.access.models import AccessRequest
from tests import factories
from tests.api.conftest import API, error_of, grant

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"
SURROGATE = '"\\ud800"'  # a lone surrogate, as JSON escapes it


@pytest.fixture
def admin(people):
    client = Client(raise_request_exception=False)
    client.force_login(people["admin"])
    return client


def _json(client, method: str, path: str, raw: str):
    if method in ("get", "delete"):
        return getattr(client, method)(API + path)
    return getattr(client, method)(API + path, raw, content_type="application/json")


def _write_routes(catalog, people, org_units) -> list[tuple[str, str, str, str]]:
    """(method, path, JSON body with a lone surrogate, the field it is in)."""
    requested = AccessRequest.objects.create(
        resource=catalog["conditional"],
        requester=people["health_member"],
        purpose="x",
        use_category="verification",
        period_days=5,
        asked_period_days=5,
        deadline_at="2030-01-01T00:00:00Z",
        terms_accepted_at="2029-01-01T00:00:00Z",
    )
    held = grant(catalog["conditional"], user=people["health_member"])
    open_ = catalog["open"].pk
    return [
        ("post", "/search/saved", f'{{"name": {SURROGATE}, "query": "x"}}', "name"),
        ("post", "/search/terms", f'{{"text": {SURROGATE}}}', "text"),
        ("post", "/departments", f'{{"name": {SURROGATE}, "code": "ZZ"}}', "name"),
        ("post", "/people", f'{{"username": "u", "display_name": {SURROGATE}}}', "display_name"),
        ("post", "/resources", f'{{"owner_department": {org_units["tax"].pk}, "kind": "document", '
         f'"title": {SURROGATE}}}', "title"),
        ("patch", f"/resources/{open_}", f'{{"tags": ["ok", {SURROGATE}]}}', "tags.1"),
        ("post", f"/resources/{catalog['conditional'].pk}/requests", f'{{"purpose": {SURROGATE}}}', "purpose"),
        ("post", f"/requests/{requested.pk}/reject", f'{{"reason": {SURROGATE}}}', "reason"),
        ("post", f"/grants/{held.pk}/revoke", f'{{"reason": {SURROGATE}}}', "reason"),
        ("post", "/search/saved", f'{{"name": "n", "filters": {{{SURROGATE}: "x"}}}}', "filters.\\ud800"),
    ]  # fmt: skip


def test_a_lone_surrogate_in_any_json_string_is_422_naming_the_field(admin, catalog, people, org_units):
    for method, path, raw, field in _write_routes(catalog, people, org_units):
        response = _json(admin, method, path, raw)
        assert response.status_code == 422, (path, response.content)
        fields = error_of(response)["fields"]
        assert field in fields or field.startswith("filters."), (path, fields)
        assert any(name.split(".")[0] == field.split(".")[0] for name in fields), (path, fields)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/requests/²"),
        ("get", "/grants/²"),
        ("post", "/grants/²/revoke"),
        ("post", "/requests/²/approve"),
        ("get", "/requests/١٢"),
        ("get", f"/requests/{HUGE}"),
        ("get", f"/grants/{HUGE}"),
        ("get", f"/departments/{HUGE}"),
        ("get", "/departments/²"),
        ("delete", f"/search/saved/{HUGE}"),
        ("get", f"/resources/1/versions/{HUGE}"),
        ("post", f"/people/{HUGE}/memberships"),
    ],
)
def test_ids_in_the_path_that_cannot_be_ids_are_404(admin, people, method, path):
    response = _json(admin, method, path, '{"reason": "x", "department": 1}')
    assert response.status_code == 404, response.content
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize(
    "query",
    [
        f"/people?department={HUGE}",
        "/people?department=²",
        f"/grants?resource={HUGE}",
        f"/requests?resource={HUGE}",
        f"/search?department={HUGE}",
        f"/resources/1/diff?from=1&to={HUGE}",
    ],
)
def test_integers_too_big_for_the_database_are_422(admin, catalog, query):
    response = admin.get(API + query)
    assert response.status_code == 422, response.content
    assert error_of(response)["fields"]


def test_a_30_mb_json_body_is_413(admin, settings):
    raw = json.dumps({"name": "x" * (30 * 1024 * 1024), "query": "x"})
    response = _json(admin, "post", "/search/saved", raw)
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"


def test_more_than_a_thousand_query_parameters_is_400(admin):
    query = "&".join(f"p{n}=1" for n in range(1100))
    response = admin.get(f"{API}/resources?{query}")
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_multipart_without_a_boundary_is_400(admin, catalog):
    response = admin.post(
        f"{API}/resources/{catalog['open'].pk}/attachments", b"--x\r\n", content_type="multipart/form-data"
    )
    assert response.status_code == 400, response.content
    assert error_of(response)["code"] == "bad_request"


def _multipart(name: str, content: bytes) -> tuple[bytes, str]:
    """A multipart body built by hand: Django's test client would shorten the name before sending it."""
    boundary = "sharehub-test-boundary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
    head += "Content-Type: application/octet-stream\r\n\r\n"
    body = head.encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("size", [10, 6 << 20], ids=["in-memory", "spooled-to-disk"])
@pytest.mark.parametrize(
    ("name", "kept"),
    [("a" * 600 + ".txt", ".txt"), ("文" * 250 + ".txt", ".txt"), ("a." + "b" * 900, "bbb"), ("文" * 300, "文文")],
)
def test_a_long_filename_is_shortened_safely(admin, catalog, name, kept, size):
    body, content_type = _multipart(name, b"x" * size)
    response = admin.post(f"{API}/resources/{catalog['open'].pk}/attachments", body, content_type=content_type)
    assert response.status_code == 201, response.content[:300]
    stored = response.json()["filename"]
    assert len(stored) <= 200
    assert kept in stored


@pytest.mark.parametrize("name", ["a" * 1000 + ".txt", "文" * 1000 + ".txt"])
def test_a_thousand_character_filename_is_a_clear_400(admin, catalog, name):
    """Django reads at most 1024 bytes of a part's headers; the name does not fit, so the body cannot be read."""
    body, content_type = _multipart(name, b"x")
    response = admin.post(f"{API}/resources/{catalog['open'].pk}/attachments", body, content_type=content_type)
    assert response.status_code == 400
    assert "file name" in error_of(response)["message"]


def test_a_wrong_method_is_405_in_the_error_shape_with_allow(admin):
    response = admin.put(API + "/resources")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("path", ["/nope", "/resources/1/nope", "/resources/", "/"])
def test_an_unknown_api_path_is_404_in_the_error_shape(admin, path):
    response = admin.get(API + path)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert response["Content-Type"].startswith("application/json")


def test_an_unknown_api_path_is_404_for_anonymous_callers_too():
    response = Client().post(API + "/nope", "{}", content_type="application/json")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_notifications_mark_read_with_huge_ids_is_422(admin):
    response = _json(admin, "post", "/notifications/read", json.dumps({"ids": [int(HUGE)]}))
    assert response.status_code == 422
    assert "ids.0" in error_of(response)["fields"]


def test_a_person_in_the_org_can_still_use_ordinary_ids(api_as, people, org_units):
    person = factories.member(org_units["tax"], username="plain")
    response = api_as(people["admin"]).get("/people", {"department": org_units["tax"].pk})
    assert response.status_code == 200
    assert person.username in [p["username"] for p in response.json()["items"]]


def test_a_request_django_refuses_before_the_api_is_400_in_the_error_shape():
    response = Client(raise_request_exception=False).get(API + "/me", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_an_empty_optional_query_value_is_no_filter_and_a_repeated_one_is_422(admin, catalog):
    everything = admin.get(API + "/search").json()["total"]
    assert admin.get(API + "/search?kind=&sharing_type=&updated=&department=").json()["total"] == everything
    assert admin.get(API + "/resources?kind=&updated_since=").status_code == 200
    response = admin.get(API + "/search?updated=7d&updated=30d")
    assert response.status_code == 422
    assert "updated" in error_of(response)["fields"]


@pytest.mark.parametrize("value", ["0.5", "1700000000", "yesterday", "2024-13-45"])
def test_times_are_iso_8601_only(admin, value):
    response = admin.get(API + "/resources", {"updated_since": value})
    assert response.status_code == 422
    assert "updated_since" in error_of(response)["fields"]


def test_json_true_is_not_an_id_or_a_number(admin, catalog):
    response = _json(admin, "post", "/notifications/read", json.dumps({"ids": [True]}))
    assert response.status_code == 422 and "ids.0" in error_of(response)["fields"]
