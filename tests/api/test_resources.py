"""/resources: list, create, get, edit, transitions, and who sees the body."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sharehub.catalog.models import Resource
from tests import factories
from tests.api.conftest import error_of, grant, read_events

pytestmark = pytest.mark.django_db

RESOURCE_KEYS = {
    "id", "code", "title", "summary", "kind", "owner_department", "steward", "sharing_type", "scope", "conditions",
    "restriction_basis", "status", "tags", "update_frequency", "category", "data_grade", "project", "version",
    "created_at", "updated_at", "published_at", "link_url", "dataset_fields", "related", "can_read", "body",
    "body_html",
}  # fmt: skip


def codes(response) -> set[str]:
    return {row["code"] for row in response.json()["items"]}


# --- list


def test_list_applies_the_policy(api_as, people, catalog):
    outsider = api_as(people["health_member"]).get("/resources")
    assert outsider.status_code == 200
    assert codes(outsider) == {catalog["open"].code, catalog["conditional"].code}
    scoped = api_as(people["social_member"]).get("/resources")
    assert catalog["hr_scoped"].code in codes(scoped)
    owner = api_as(people["tax_member"]).get("/resources")
    assert codes(owner) == {r.code for r in catalog.values()}


def test_list_marks_readable_items_without_bodies_by_default(api_as, people, catalog):
    rows = {r["code"]: r for r in api_as(people["health_member"]).get("/resources").json()["items"]}
    assert rows[catalog["open"].code]["can_read"] is True
    assert rows[catalog["conditional"].code]["can_read"] is False
    assert all(row["body"] is None for row in rows.values())
    assert read_events() == []


def test_list_with_bodies_records_one_read_event(api_as, people, catalog):
    grant(catalog["conditional"], user=people["health_member"])
    response = api_as(people["health_member"]).get("/resources", {"include_body": "true"})
    rows = {r["code"]: r for r in response.json()["items"]}
    assert rows[catalog["conditional"].code]["body"] == "正文 body text"
    assert rows[catalog["open"].code]["body_html"].startswith("<p>")
    events = read_events()
    assert len(events) == 1
    assert events[0].details["resources"] == [catalog["conditional"].code]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"sharing_type": "conditional"}, {"conditional"}),
        ({"tag": "税务"}, {"open"}),
        ({"status": "draft"}, {"draft"}),
        ({"q": "人社"}, {"hr_scoped"}),
        ({"kind": "dataset"}, set()),
    ],
)
def test_list_filters(api_as, people, catalog, params, expected):
    response = api_as(people["tax_member"]).get("/resources", params)
    assert response.status_code == 200
    assert codes(response) == {catalog[name].code for name in expected}


def test_list_filters_by_department_and_updated_since(api_as, people, catalog, org_units):
    client = api_as(people["admin"])
    assert codes(client.get("/resources", {"department": org_units["health"].pk})) == set()
    assert len(codes(client.get("/resources", {"department": org_units["tax"].pk}))) == 5
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    assert codes(client.get("/resources", {"updated_since": future})) == set()


def test_list_bad_filter_is_422_naming_it(api_as, people):
    response = api_as(people["tax_member"]).get("/resources", {"kind": "spaceship", "department": "x"})
    assert response.status_code == 422
    assert {"kind", "department"} <= set(error_of(response)["fields"])


def test_list_bad_cursor_is_422(api_as, people):
    response = api_as(people["tax_member"]).get("/resources", {"cursor": "not-a-cursor"})
    assert response.status_code == 422
    assert "cursor" in error_of(response)["fields"]


def test_cursor_walks_all_items_once_with_tied_timestamps(api_as, people, org_units):
    tax = org_units["tax"]
    made = [factories.resource(tax, by=people["tax_steward"]) for _ in range(7)]
    Resource.objects.filter(pk__in=[r.pk for r in made]).update(updated_at=timezone.now())
    client = api_as(people["tax_member"])
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = client.get("/resources", params).json()
        seen += [row["id"] for row in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7
    assert seen == sorted(seen, reverse=True)


# --- create


def test_create_draft(api_as, people, org_units, catalog):
    payload = {
        "owner_department": org_units["tax"].pk,
        "kind": "dataset",
        "title": "纳税人名录",
        "summary": "全市纳税人",
        "body": "# 说明",
        "tags": ["名录"],
        "update_frequency": "monthly",
        "dataset_fields": [{"name": "tax_id", "sensitivity": "sensitive"}, "name"],
        "related": [catalog["open"].code, catalog["draft"].pk],
        "sharing_type": "conditional",
        "conditions": "仅限核验",
        "scope_all": False,
        "scope_departments": [org_units["hr"].pk],
    }
    response = api_as(people["tax_member"]).post("/resources", payload)
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == RESOURCE_KEYS
    assert body["status"] == "draft" and body["version"] == 1
    assert body["code"].startswith("SWJ-")
    assert body["scope"] == {
        "all": False,
        "departments": [{"id": org_units["hr"].pk, "name": "人力资源和社会保障局", "code": "RSJ"}],
    }
    assert body["related"] == sorted([catalog["open"].code, catalog["draft"].code])
    assert [f["name"] for f in body["dataset_fields"]] == ["tax_id", "name"]
    assert body["body_html"] == "<h1>说明</h1>\n"


def test_steward_creates_published(api_as, people, org_units):
    payload = {"owner_department": org_units["tax"].pk, "kind": "notice", "title": "通知", "publish": True}
    response = api_as(people["tax_steward"]).post("/resources", payload)
    assert response.status_code == 201
    assert response.json()["status"] == "published"


def test_member_may_not_publish_at_creation(api_as, people, org_units):
    payload = {"owner_department": org_units["tax"].pk, "kind": "notice", "title": "通知", "publish": True}
    response = api_as(people["tax_member"]).post("/resources", payload)
    assert response.status_code == 403


def test_create_in_other_department_is_403(api_as, people, org_units):
    payload = {"owner_department": org_units["tax"].pk, "kind": "notice", "title": "通知"}
    assert api_as(people["health_member"]).post("/resources", payload).status_code == 403


def test_create_missing_and_wrong_fields_are_422_naming_them(api_as, people, org_units):
    response = api_as(people["tax_member"]).post(
        "/resources", {"owner_department": org_units["tax"].pk, "kind": "document", "tags": "oops", "title": 5}
    )
    assert response.status_code == 422
    assert {"tags", "title"} <= set(error_of(response)["fields"])


def test_create_service_validation_is_422(api_as, people, org_units):
    payload = {"owner_department": org_units["tax"].pk, "kind": "document", "title": "x", "sharing_type": "conditional"}
    response = api_as(people["tax_member"]).post("/resources", payload)
    assert response.status_code == 422
    assert "conditions" in error_of(response)["fields"]


def test_create_with_unknown_related_code_is_422(api_as, people, org_units, catalog):
    payload = {"owner_department": org_units["tax"].pk, "kind": "document", "title": "x", "related": ["NOPE-1"]}
    response = api_as(people["health_member"]).post("/resources", payload)
    assert response.status_code in (403, 422)
    response = api_as(people["tax_member"]).post("/resources", payload)
    assert response.status_code == 422
    assert "related" in error_of(response)["fields"]


# --- get


def test_get_by_id_and_by_code(api_as, people, catalog):
    client = api_as(people["health_member"])
    by_id = client.get(f"/resources/{catalog['open'].pk}")
    by_code = client.get(f"/resources/{catalog['open'].code}")
    assert by_id.status_code == by_code.status_code == 200
    assert by_id.json() == by_code.json()
    assert by_id.json()["body"] == "正文 body text"
    assert by_id.json()["tags"] == ["公开", "税务"] or set(by_id.json()["tags"]) == {"公开", "税务"}


def test_open_read_records_no_event(api_as, people, catalog):
    api_as(people["health_member"]).get(f"/resources/{catalog['open'].pk}")
    assert read_events() == []


def test_conditional_without_grant_hides_body(api_as, people, catalog):
    response = api_as(people["health_member"]).get(f"/resources/{catalog['conditional'].pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["can_read"] is False
    assert body["body"] is None and body["body_html"] is None
    assert body["conditions"] == "仅用于业务核验"
    assert read_events() == []


@pytest.mark.parametrize("to", ["user", "department"])
def test_conditional_with_active_grant_shows_body_and_records_one_read(api_as, people, catalog, org_units, to):
    reader = people["health_member"]
    if to == "user":
        grant(catalog["conditional"], user=reader)
    else:
        grant(catalog["conditional"], department=org_units["health"])
    response = api_as(reader).get(f"/resources/{catalog['conditional'].pk}")
    assert response.json()["body"] == "正文 body text"
    assert response.json()["can_read"] is True
    events = read_events()
    assert len(events) == 1
    assert events[0].actor_id == reader.pk
    assert events[0].details == {"via": "api", "resources": [catalog["conditional"].code], "count": 1}


def test_revoked_grant_hides_body(api_as, people, catalog):
    grant(catalog["conditional"], user=people["health_member"], revoked=True)
    response = api_as(people["health_member"]).get(f"/resources/{catalog['conditional'].pk}")
    assert response.json()["body"] is None


def test_related_codes_hide_what_the_caller_may_not_see(api_as, people, catalog):
    client = api_as(people["tax_steward"])
    related = [catalog["restricted"].pk, catalog["open"].pk]
    assert client.patch(f"/resources/{catalog['hr_scoped'].pk}", {"related": related}).status_code == 200
    seen = api_as(people["social_member"]).get(f"/resources/{catalog['hr_scoped'].pk}").json()["related"]
    assert seen == [catalog["open"].code]


# --- edit


def test_member_edits_content_and_gets_a_new_version(api_as, people, catalog):
    response = api_as(people["tax_member"]).patch(
        f"/resources/{catalog['open'].code}", {"title": "新标题", "note": "改名"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "新标题"
    assert response.json()["version"] == 2


def test_member_may_not_change_sharing(api_as, people, catalog):
    response = api_as(people["tax_member"]).patch(f"/resources/{catalog['open'].pk}", {"sharing_type": "restricted"})
    assert response.status_code == 403


def test_steward_changes_sharing(api_as, people, catalog):
    response = api_as(people["tax_steward"]).patch(
        f"/resources/{catalog['open'].pk}", {"sharing_type": "restricted", "restriction_basis": "法规"}
    )
    assert response.status_code == 200
    assert response.json()["sharing_type"] == "restricted"


def test_outsider_who_sees_the_entry_gets_403_on_edit(api_as, people, catalog):
    response = api_as(people["health_member"]).patch(f"/resources/{catalog['open'].pk}", {"title": "x"})
    assert response.status_code == 403
    assert "税务局" in error_of(response)["message"]


def test_patch_unknown_fields_are_422_naming_them(api_as, people, catalog):
    response = api_as(people["tax_member"]).patch(f"/resources/{catalog['open'].pk}", {"colour": "red", "size": 1})
    assert response.status_code == 422
    assert {"colour", "size"} <= set(error_of(response)["fields"])


def test_patch_wrong_type_is_422_naming_the_field(api_as, people, catalog):
    response = api_as(people["tax_member"]).patch(f"/resources/{catalog['open'].pk}", {"scope_all": [1, 2]})
    assert response.status_code == 422
    assert "scope_all" in error_of(response)["fields"]


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b'{"title": '])
def test_malformed_json_is_400(api_as, people, catalog, raw):
    response = api_as(people["tax_member"]).patch(f"/resources/{catalog['open'].pk}", raw=raw)
    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_json"


def test_json_that_is_not_an_object_is_422(api_as, people, catalog):
    response = api_as(people["tax_member"]).patch(f"/resources/{catalog['open'].pk}", raw=b"[1, 2]")
    assert response.status_code == 422


# --- transitions


def test_steward_publishes_archives_restores(api_as, people, catalog):
    client = api_as(people["tax_steward"])
    ident = catalog["draft"].code
    assert client.post(f"/resources/{ident}/publish").json()["status"] == "published"
    assert client.post(f"/resources/{ident}/archive").json()["status"] == "archived"
    assert client.post(f"/resources/{ident}/restore").json()["status"] == "published"


def test_wrong_transition_is_422(api_as, people, catalog):
    response = api_as(people["tax_steward"]).post(f"/resources/{catalog['open'].pk}/restore")
    assert response.status_code == 422


@pytest.mark.parametrize("verb", ["publish", "archive", "restore"])
def test_member_may_not_transition(api_as, people, catalog, verb):
    response = api_as(people["tax_member"]).post(f"/resources/{catalog['draft'].pk}/{verb}")
    assert response.status_code == 403


def test_outsider_transition_on_visible_entry_is_403(api_as, people, catalog):
    response = api_as(people["health_member"]).post(f"/resources/{catalog['open'].pk}/archive")
    assert response.status_code == 403


# --- explain


def test_explain_gives_each_decision_and_contacts(api_as, people, catalog):
    response = api_as(people["health_member"]).get(f"/resources/{catalog['conditional'].code}/explain")
    assert response.status_code == 200
    body = response.json()
    assert body["decisions"]["view"]["allowed"] is True
    read = body["decisions"]["read"]
    assert read["allowed"] is False and read["code"] == "conditional_no_grant"
    assert "税务局" in read["message"] and read["next_step"]
    assert body["decisions"]["edit"]["allowed"] is False
    assert body["decisions"]["manage"]["allowed"] is False
    assert body["steward"]["username"] == "tax_steward"
    assert body["owner_department"]["code"] == "SWJ"
    assert [c["username"] for c in body["department_contacts"]] == ["tax_steward"]


def test_list_query_count_does_not_grow_with_rows(api_as, people, org_units, catalog):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_as(people["health_member"])

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/resources", {"include_body": "true"}).status_code == 200
        return len(captured)

    few = count()
    for _ in range(6):
        factories.resource(org_units["tax"], by=people["tax_steward"], sharing_type="conditional", tags=["x"])
    assert count() == few
