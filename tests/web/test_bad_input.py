"""Odd input on page URLs (issue 10, item 1.3): a 4xx page, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client

from tests import factories

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"


@pytest.fixture
def browser(people):
    client = Client(raise_request_exception=False)
    client.force_login(people["admin"])
    return client


@pytest.fixture
def steward_browser(people):
    client = Client(raise_request_exception=False)
    client.force_login(people["tax_steward"])
    return client


@pytest.fixture
def resource(org_units, people):
    return factories.resource(org_units["tax"], by=people["tax_steward"], title="公开资源")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/resources/²/"),
        ("get", "/resources/١٢/"),
        ("get", f"/resources/{HUGE}/"),
        ("get", "/requests/²/"),
        ("get", f"/requests/{HUGE}/"),
        ("post", "/requests/²/approve/"),
        ("post", "/grants/²/revoke/"),
        ("post", f"/grants/{HUGE}/revoke/"),
        ("post", f"/notifications/{HUGE}/read/"),
        ("get", f"/departments/{HUGE}/"),
        ("post", f"/tokens/{HUGE}/revoke/"),
        ("get", f"/search/saved/{HUGE}/"),
        ("post", f"/search/saved/{HUGE}/delete/"),
        ("get", f"/resources/SWJ-2026-0001/attachments/{HUGE}/"),
    ],
)
def test_ids_that_cannot_be_ids_are_404(browser, resource, method, path):
    response = getattr(browser, method)(path)
    assert response.status_code == 404, response.status_code


@pytest.mark.parametrize(
    "path",
    [
        "/resources/new/?department=²",
        f"/resources/new/?department={HUGE}",
        "/resources/?department=²",
        f"/resources/?department={HUGE}",
        f"/resources/?page={HUGE}",
        "/resources/{code}/diff/?a=²&b=1",
        f"/resources/{{code}}/diff/?a=1&b={HUGE}",
        "/requests/inbox/?resource=²",
        f"/requests/inbox/?resource={HUGE}",
        f"/requests/inbox/?page={HUGE}",
        f"/requests/?page={HUGE}",
        f"/grants/?page={HUGE}",
        f"/search/?department={HUGE}",
        "/search/?department=²",
        f"/search/?page={HUGE}",
        f"/audit/?department={HUGE}",
        f"/notifications/?page={HUGE}",
        f"/departments/?q={HUGE}",
    ],
)
def test_odd_numbers_in_query_strings_are_not_500(browser, resource, path):
    response = browser.get(path.format(code=resource.code))
    assert response.status_code < 500, (path, response.status_code)


def test_bulk_decision_with_odd_ids_is_not_500(steward_browser):
    response = steward_browser.post("/requests/inbox/decide/", {"ids": ["²", HUGE, "1"], "action": "approve"})
    assert response.status_code == 302


def test_a_body_over_the_limit_is_a_413_page(browser, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = browser.post("/search/saved/", {"name": "x" * 4096})
    assert response.status_code == 413
    assert "too large" in response.content.decode()


def test_too_many_fields_is_a_400_page(browser):
    query = "&".join(f"p{n}=1" for n in range(1100))
    response = browser.get(f"/resources/?{query}")
    assert response.status_code == 400
    assert "too many fields" in response.content.decode()


def test_multipart_without_a_boundary_is_a_400_page(browser, resource):
    response = browser.post(f"/resources/{resource.code}/attachments/", b"--x\r\n", content_type="multipart/form-data")
    assert response.status_code == 400
