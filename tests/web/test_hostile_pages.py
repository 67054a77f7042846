"""Property test: every page URL, enumerated from the URLconf, answers hostile path values, query strings
and form fields with something other than a 5xx (issue 10, item 1.3): `²` and huge numbers as ids,
NUL characters, very long text, odd dates."""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories

pytestmark = pytest.mark.django_db

SKIPPED = ("admin/", "api/v1/", "i18n/", "accounts/logout/")
QUERY_KEYS = [
    "q", "department", "kind", "tag", "sharing_type", "status", "updated", "sort", "page", "resource", "a", "b",
    "next", "scope", "category", "actor", "action", "target_type", "target_id", "since", "until", "tab", "unread",
    "ids", "name", "query", "reason", "title", "owner_department", "period_days", "use_category", "fields",
]  # fmt: skip
HOSTILE = [
    "²", "١٢", "𝟙", "99999999999999999999", "9223372036854775808", "-1", "0", "0.5", "", "\x00", "a\x00b",
    "x" * 3000, "2024-13-45", "9999-12-31T23:59:59-23:59", "0001-01-01", "SWJ-2026-0001", "申请", "//evil.example",
    "javascript:alert(1)", "%", "1_000",
]  # fmt: skip


def _routes(patterns=None, prefix: str = "") -> list[str]:
    """Every page route as text, converters and named groups left as `<name>` placeholders."""
    found = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        text = str(entry.pattern).lstrip("^").rstrip("$")
        text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", text)
        text = re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", text)
        if isinstance(entry, URLResolver):
            found += _routes(entry.url_patterns, prefix + text)
        elif isinstance(entry, URLPattern):
            found.append(prefix + text)
    return sorted({r for r in found if not r.startswith(SKIPPED)})


ROUTES = _routes()


@st.composite
def page_requests(draw, route: str) -> dict:
    path = "/" + route
    for name in re.findall(r"<(\w+)>", route):
        value = "publish" if name == "verb" else draw(st.sampled_from(["1", "2", *HOSTILE[:-3]]) | st.just("{code}"))
        path = path.replace(f"<{name}>", quote(value, safe="{}") or "x", 1)
    keys = draw(st.lists(st.sampled_from(QUERY_KEYS), max_size=4, unique=True))
    value = st.sampled_from(HOSTILE) | st.text(max_size=10)
    values = {key: draw(st.lists(value, min_size=1, max_size=2)) for key in keys}
    method = draw(st.sampled_from(["get", "post"]))
    return {"method": method, "path": path, "data": values}


@pytest.fixture
def browsers(org_units, people):
    resource = factories.resource(org_units["tax"], by=people["tax_steward"], title="公开资源")
    clients = {}
    for who in ("admin", "tax_steward", "health_member", "auditor"):
        clients[who] = Client(raise_request_exception=False)
        clients[who].force_login(people[who])
    return resource, clients


@pytest.mark.parametrize("route", ROUTES)
def test_no_page_answers_hostile_input_with_a_5xx(browsers, route):
    resource, clients = browsers

    @settings(
        max_examples=6,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(request=page_requests(route), who=st.sampled_from(sorted(clients)))
    def check(request, who):
        client, path = clients[who], request["path"].replace("{code}", resource.code)
        if request["method"] == "get":
            response = client.get(path + "?" + urlencode(request["data"], doseq=True))
        else:
            response = client.post(path, request["data"])
        assert response.status_code < 500, (who, request)

    check()


def test_the_pages_are_all_here():
    assert "resources/<ident>/" in ROUTES
    assert "notifications/<nid>/read/" in ROUTES
    assert len(ROUTES) >= 35
