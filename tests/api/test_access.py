"""Who gets in: 401, 404 for what the caller may not know, bearer tokens, CSRF, OpenAPI."""

from __future__ import annotations

import pytest
from django.test import Client

from sharehub.org import services as org
from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db


def resource_routes(ident) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", f"/resources/{ident}", None),
        ("patch", f"/resources/{ident}", {"title": "x"}),
        ("post", f"/resources/{ident}/publish", None),
        ("post", f"/resources/{ident}/archive", None),
        ("post", f"/resources/{ident}/restore", None),
        ("get", f"/resources/{ident}/versions", None),
        ("get", f"/resources/{ident}/versions/1", None),
        ("get", f"/resources/{ident}/diff?from=1&to=1", None),
        ("get", f"/resources/{ident}/attachments", None),
        ("get", f"/resources/{ident}/attachments/1", None),
        ("delete", f"/resources/{ident}/attachments/1", None),
        ("get", f"/resources/{ident}/explain", None),
    ]


def call(client, method: str, path: str, data):
    if method == "get":
        return client.client.get("/api/v1" + path, **client.headers)
    if method == "delete":
        return client.delete(path)
    return getattr(client, method)(path, data)


@pytest.mark.parametrize("which", ["restricted", "draft", "missing"])
def test_unknown_resource_is_404_on_every_route(api_as, people, catalog, which):
    ident = 999999 if which == "missing" else catalog[which].pk
    client = api_as(people["health_member"])
    for method, path, data in resource_routes(ident):
        response = call(client, method, path, data)
        assert response.status_code == 404, (method, path, response.content)
        assert error_of(response)["code"] == "not_found"
    upload = client.upload(f"/resources/{ident}/attachments", "a.txt", b"a")
    assert upload.status_code == 404


def test_restricted_is_404_by_code_too(api_as, people, catalog):
    response = api_as(people["health_member"]).get(f"/resources/{catalog['restricted'].code}")
    assert response.status_code == 404


def test_out_of_scope_resource_is_404(api_as, people, catalog):
    assert api_as(people["health_member"]).get(f"/resources/{catalog['hr_scoped'].pk}").status_code == 404
    assert api_as(people["social_member"]).get(f"/resources/{catalog['hr_scoped'].pk}").status_code == 200


def test_missing_and_forbidden_look_the_same(api_as, people, catalog):
    client = api_as(people["health_member"])
    hidden = client.get(f"/resources/{catalog['restricted'].pk}")
    missing = client.get("/resources/999999")
    assert hidden.json() == missing.json()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/me"),
        ("get", "/departments"),
        ("post", "/departments"),
        ("get", "/departments/1"),
        ("get", "/people"),
        ("post", "/people"),
        ("post", "/people/1/memberships"),
        ("delete", "/people/1/memberships/1"),
        ("get", "/resources"),
        ("post", "/resources"),
        *[(m, p) for m, p, _d in resource_routes(1)],
        ("post", "/resources/1/attachments"),
        ("get", "/audit/events"),
    ],
)
def test_anonymous_is_401(api_as, catalog, method, path):
    response = call(api_as(), method, path, {})
    assert response.status_code == 401, response.content
    assert error_of(response)["code"] == "unauthenticated"


def test_bearer_token_authenticates(api_as, people):
    user = people["health_member"]
    _token, raw = org.issue_token(user, user, "script")
    response = api_as(token=raw).get("/me")
    assert response.status_code == 200
    assert response.json()["username"] == "health_member"


def test_bearer_token_needs_no_csrf(api_as, people, org_units):
    user = people["tax_member"]
    _token, raw = org.issue_token(user, user, "script")
    client = api_as(token=raw)
    client.client = Client(enforce_csrf_checks=True)
    response = client.post("/resources", {"owner_department": org_units["tax"].pk, "kind": "notice", "title": "t"})
    assert response.status_code == 201, response.content


def test_revoked_token_is_401(api_as, people):
    user = people["health_member"]
    token, raw = org.issue_token(user, user, "script")
    org.revoke_token(user, token)
    response = api_as(token=raw).get("/me")
    assert response.status_code == 401
    assert error_of(response)["code"] == "token_refused" and "revoked" in error_of(response)["message"]


def test_garbage_token_is_401(api_as):
    assert api_as(token="shr_nope").get("/me").status_code == 401


def test_session_needs_csrf_for_unsafe_methods(people, org_units):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["tax_member"])
    assert client.get("/api/v1/me").status_code == 200
    response = client.post(
        "/api/v1/resources",
        {"owner_department": org_units["tax"].pk, "kind": "notice", "title": "t"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert error_of(response)["code"] == "csrf_failed"


def test_openapi_renders(api_as, people):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/resources/{ident}/attachments/{attachment_id}" in paths
    assert "/api/v1/audit/events" in paths
    assert Client().get("/api/v1/docs").status_code == 200
