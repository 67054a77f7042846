"""/audit/events: auditors only, filters, seq cursor; read events are one per request."""

from __future__ import annotations

import pytest

from sharehub.events.models import Event
from tests.api.conftest import error_of, grant, read_events

pytestmark = pytest.mark.django_db


def test_auditor_reads_the_log_with_the_chain(api_as, people, catalog):
    response = api_as(people["auditor"]).get("/audit/events", {"limit": 5})
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 5
    assert [e["seq"] for e in items] == sorted((e["seq"] for e in items), reverse=True)
    newest = Event.objects.order_by("-seq").first()
    assert items[0]["seq"] == newest.seq and items[0]["hash"] == newest.hash
    assert items[0]["prev_hash"] == items[1]["hash"]
    assert set(items[0]) == {
        "seq", "created_at", "actor", "action", "target_type", "target_id", "target_label", "departments",
        "details", "hash", "prev_hash", "action_name", "description", "readable_details",
    }  # fmt: skip


@pytest.mark.parametrize("who", ["admin", "tax_steward", "health_member"])
def test_others_get_403(api_as, people, who):
    response = api_as(people[who]).get("/audit/events")
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


def test_filters(api_as, people, catalog, org_units):
    client = api_as(people["auditor"])
    resource = catalog["open"]
    by_target = client.get(
        "/audit/events", {"target_type": "catalog.resource", "target_id": resource.pk, "action": "resource."}
    ).json()["items"]
    assert {e["action"] for e in by_target} == {"resource.created", "resource.published"}
    by_actor = client.get("/audit/events", {"actor": "tax_steward", "action": "resource.created"}).json()["items"]
    assert len(by_actor) == len(catalog)
    by_dept = client.get("/audit/events", {"department": org_units["health"].pk}).json()["items"]
    assert by_dept and all(org_units["health"].pk in [d["id"] for d in e["departments"]] for e in by_dept)
    assert client.get("/audit/events", {"since": "2999-01-01T00:00:00Z"}).json()["items"] == []
    assert client.get("/audit/events", {"until": "2000-01-01T00:00:00Z"}).json()["items"] == []


def test_bad_filter_is_422(api_as, people):
    response = api_as(people["auditor"]).get("/audit/events", {"since": "yesterday", "cursor": "x"})
    assert response.status_code == 422
    assert {"since", "cursor"} <= set(error_of(response)["fields"])


def test_cursor_walks_the_whole_log_once(api_as, people, catalog):
    client = api_as(people["auditor"])
    seen, cursor = [], None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        body = client.get("/audit/events", params).json()
        seen += [e["seq"] for e in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(Event.objects.values_list("seq", flat=True), reverse=True)


def test_one_read_event_per_request_for_many_closed_resources(api_as, people, catalog, org_units):
    grant(catalog["conditional"], department=org_units["health"])
    admin = api_as(people["admin"])
    admin.get("/resources", {"include_body": "true"})
    events = read_events()
    assert len(events) == 1
    assert events[0].details["count"] == 2  # conditional and restricted; open content is not logged
    assert sorted(events[0].details["resources"]) == sorted([catalog["conditional"].code, catalog["restricted"].code])
    admin.get(f"/resources/{catalog['restricted'].pk}")
    admin.get(f"/resources/{catalog['restricted'].pk}")
    assert len(read_events()) == 3


def test_read_events_are_visible_to_the_auditor(api_as, people, catalog):
    api_as(people["tax_member"]).get(f"/resources/{catalog['restricted'].pk}")
    items = api_as(people["auditor"]).get("/audit/events", {"action": "resource.read"}).json()["items"]
    assert len(items) == 1
    assert items[0]["actor"] == "tax_member"
    assert items[0]["details"]["via"] == "api"
