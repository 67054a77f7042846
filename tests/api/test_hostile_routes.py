"""Property test: every API route, enumerated from the ninja API object's own OpenAPI document, answers
hostile path, query and body values with a 2xx or a 4xx in the one error shape, never a 5xx (issue 10,
item 1.3). The values are the kinds that once gave 500s: digits that `int()` refuses (`²`), integers too
big for the database, NUL and lone surrogates, very long text, odd dates and file names."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sharehub.access.models import AccessRequest
from sharehub.api import api
from sharehub.search.models import SavedSearch, SearchTerm
from tests.api.conftest import error_of, grant

pytestmark = pytest.mark.django_db

SCHEMA = api.get_openapi_schema()
OPERATIONS = sorted(
    (method.upper(), path, operation)
    for path, item in SCHEMA["paths"].items()
    for method, operation in item.items()
    if path.endswith(("openapi.json", "docs")) is False
)

HOSTILE_TEXT = [
    "²", "١٢", "𝟙", "99999999999999999999", "-9223372036854775809", "9223372036854775808", "-1", "0", "1e3",
    "0.5", " ", "\x00", "a\x00b", "x" * 3000, "NaN", "true", "[]", "{}", "../../etc/passwd", "%00", "2024-13-45",
    "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "1_000", "0x10", "SWJ-2026-0001", "申请", "\u202e",
]  # fmt: skip
SURROGATE = "\ud800"
HUGE_INTS = [2**63, 2**64, -(2**63) - 1, 10**30, 0, -1]

text = st.sampled_from(HOSTILE_TEXT) | st.text(max_size=20)
valid_ids = st.sampled_from(["1", "2", "3"])
path_values = valid_ids | st.sampled_from([v for v in HOSTILE_TEXT if v.strip() and "/" not in v])
scalar_json = st.one_of(
    st.sampled_from([SURROGATE, "a" + SURROGATE, "\x00", "a\x00b"]),
    st.sampled_from(HOSTILE_TEXT),
    st.sampled_from(HUGE_INTS),
    st.sampled_from([1e308, -0.0, 0.5, True, False, None, 1, 2]),
)
json_values = st.recursive(
    scalar_json,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text | st.just(SURROGATE), inner, max_size=3),
    max_leaves=6,
)


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _plausible(schema: dict):
    """A value the schema accepts, so that a body gets past its other fields to the hostile one."""
    schema = _resolve(schema)
    if "anyOf" in schema:
        return _plausible(next(s for s in schema["anyOf"] if s.get("type") != "null"))
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {name: _plausible(prop) for name, prop in schema.get("properties", {}).items()}
    if kind == "array":
        return [_plausible(schema["items"])] if schema.get("minItems") else []
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return True
    if schema.get("format") == "date-time":
        return "2030-01-01T00:00:00Z"
    return "plausible" if kind == "string" else None


def _json_schema(operation: dict) -> dict | None:
    content = operation.get("requestBody", {}).get("content", {})
    return content["application/json"]["schema"] if "application/json" in content else None


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _query_names(operation: dict) -> list[str]:
    return [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]


@st.composite
def requests_for(draw, method: str, path: str, operation: dict) -> dict:
    url = path
    for name in _path_names(path):
        url = url.replace("{" + name + "}", quote(draw(path_values), safe=""))
    query = {}
    for name in _query_names(operation):
        if draw(st.booleans()):
            query[name] = draw(st.lists(text, min_size=1, max_size=2))
    if query:
        url += "?" + urlencode(query, doseq=True)
    body = None
    if "multipart/form-data" in operation.get("requestBody", {}).get("content", {}):
        name = draw(st.sampled_from(["a" * 600 + ".txt", "a." + "b" * 900, "文" * 300, "..", "\x00.txt", "x.pdf"]))
        body = ("multipart", name)
    elif _json_schema(operation) is not None:
        fields = _plausible(_json_schema(operation))
        names = sorted(fields) or ["extra"]
        for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True)):
            fields[name] = draw(json_values)
        body = ("json", json.dumps(draw(st.sampled_from([fields, fields, fields, fields, [], "x"]))))
    return {"method": method, "url": url, "body": body}


def _send(client: Client, request: dict):
    call = getattr(client, request["method"].lower())
    kind, payload = request["body"] or (None, None)
    if kind == "json":
        return call(request["url"], payload, content_type="application/json")
    if kind == "multipart":
        boundary = "hostile-boundary"
        raw = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{payload}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\nx\r\n--{boundary}--\r\n"
        ).encode()
        return call(request["url"], raw, content_type=f"multipart/form-data; boundary={boundary}")
    return call(request["url"])


@pytest.fixture
def world(catalog, people):
    """Rows for the small ids to hit: a request, a grant, a saved search, a dictionary word."""
    AccessRequest.objects.create(
        resource=catalog["conditional"],
        requester=people["health_member"],
        purpose="x",
        use_category="verification",
        period_days=5,
        asked_period_days=5,
        deadline_at="2030-01-01T00:00:00Z",
        terms_accepted_at="2029-01-01T00:00:00Z",
    )
    grant(catalog["conditional"], user=people["health_member"])
    SavedSearch.objects.create(owner=people["admin"], name="mine", query="税务")
    SearchTerm.objects.create(text="智税通", created_by=people["admin"])
    clients = {}
    for who in ("admin", "tax_steward", "health_member"):
        clients[who] = Client(raise_request_exception=False)
        clients[who].force_login(people[who])
    return clients


HOSTILE = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_no_route_answers_hostile_input_with_a_5xx(world, method, path, operation):
    @HOSTILE
    @given(request=requests_for(method, path, operation), who=st.sampled_from(sorted(world)))
    def check(request, who):
        response = _send(world[who], request)
        assert response.status_code < 500, (request, response.content[:500])
        if response.status_code >= 400:
            error_of(response)

    check()


def test_the_routes_are_all_here():
    assert len(OPERATIONS) >= 45
    assert ("POST", "/api/v1/search/saved") in {(m, p) for m, p, _ in OPERATIONS}
