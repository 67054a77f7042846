"""The organization console through the API (issue 14): the department tree (edit, move, merge, archive, restore)
and people (profile, roles, bulk changes, handover and deactivation), for organization admins only."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sharehub.events.models import Event
from sharehub.org import services, tree
from sharehub.org.models import Department, Membership, User
from sharehub.org.schemas import BulkActionName
from tests import factories
from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db


def _events(action: str) -> list[Event]:
    return list(Event.objects.filter(action=action).order_by("seq"))


def _statements(client, path: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params or {})
        assert response.status_code == 200, response.content
    return len(captured)


# --- departments -----------------------------------------------------------------------------------------------


def test_department_list_says_archived_and_merged_into(api_as, people, org_units):
    tree.merge_departments(None, org_units["social"], org_units["health"])
    rows = {row["code"]: row for row in api_as(people["health_member"]).get("/departments").json()}
    assert rows["SBZX"]["archived"] is True and rows["SBZX"]["merged_into"] == org_units["health"].pk
    assert rows["SWJ"]["archived"] is False and rows["SWJ"]["merged_into"] is None
    assert rows["SWJ"]["path"] and "depth" in rows["SWJ"]


def test_admin_edits_and_moves_a_department(api_as, people, org_units):
    health, tax = org_units["health"], org_units["tax"]
    payload = {"name": "卫健委", "description": " 新的说明 ", "parent": tax.pk}
    response = api_as(people["admin"]).patch(f"/departments/{health.pk}", payload)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "卫健委" and body["description"] == "新的说明"
    assert body["parent"] == tax.pk and body["depth"] == 1 and body["path"] == f"{tax.path}{health.pk}/"
    assert _events("department.updated")[-1].details["name"] == "卫健委"
    assert _events("department.moved")[-1].details == {"parent": tax.pk}
    response = api_as(people["admin"]).patch(f"/departments/{health.pk}", {"parent": None})
    assert response.json()["parent"] is None and response.json()["depth"] == 0


def test_department_edit_is_404_for_non_admins(api_as, people, org_units):
    response = api_as(people["tax_steward"]).patch(f"/departments/{org_units['tax'].pk}", {"name": "x"})
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"code": "RSJ"}, "code"),
        ({"name": ""}, "name"),
        ({"parent": 999999}, "parent"),
        ({"description": "x" * 2001}, "description"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_department_edit_is_422_naming_the_field(api_as, people, org_units, payload, field):
    response = api_as(people["admin"]).patch(f"/departments/{org_units['tax'].pk}", payload)
    assert response.status_code == 422, response.content
    assert field in error_of(response)["fields"]


def test_moving_under_its_own_sub_department_is_422_and_changes_nothing(api_as, people, org_units):
    hr, social = org_units["hr"], org_units["social"]
    response = api_as(people["admin"]).patch(f"/departments/{hr.pk}", {"name": "人社", "parent": social.pk})
    assert response.status_code == 422
    assert "parent" in error_of(response)["fields"]
    hr.refresh_from_db()
    assert hr.name == "人力资源和社会保障局" and hr.parent_id is None


def test_merge_preview_then_merge(api_as, people, org_units):
    social, health = org_units["social"], org_units["health"]
    client = api_as(people["admin"])
    preview = client.get(f"/departments/{social.pk}/merge-preview", {"into": health.pk})
    assert preview.status_code == 200, preview.content
    body = preview.json()
    counts = {item["name"]: item["count"] for item in body["items"]}
    assert counts["members"] == 1 and body["total"] == sum(counts.values())
    members = next(item for item in body["items"] if item["name"] == "members")
    assert members["examples"] and members["label"]
    assert body["into"]["id"] == health.pk and body["expected"]
    assert body["allowed"] is True and body["refused"] == {}

    response = client.post(f"/departments/{social.pk}/merge", {"into": health.pk, "expected": body["expected"]})
    assert response.status_code == 200, response.content
    merged = response.json()
    assert merged["moved"]["members"] == 1
    assert merged["department"]["archived"] is True and merged["department"]["merged_into"] == health.pk
    assert Membership.objects.filter(user=people["social_member"], department=health).exists()
    assert _events("department.merged")[-1].details["merged"] == social.pk

    again = client.post(f"/departments/{social.pk}/merge", {"into": health.pk})
    assert again.status_code == 409
    assert error_of(again)["code"] == "conflict"
    assert client.get(f"/departments/{social.pk}/merge-preview", {"into": health.pk}).status_code == 409


def test_merge_refused_when_holdings_changed_since_the_preview(api_as, people, org_units):
    tax, health = org_units["tax"], org_units["health"]
    client = api_as(people["admin"])
    expected = client.get(f"/departments/{tax.pk}/merge-preview", {"into": health.pk}).json()["expected"]
    factories.member(tax, username="latecomer")
    response = client.post(f"/departments/{tax.pk}/merge", {"into": health.pk, "expected": expected})
    assert response.status_code == 409
    assert Department.objects.get(pk=tax.pk).merged_into_id is None


@pytest.mark.parametrize("target", ["self", "inside", "unknown"])
def test_merge_into_itself_its_sub_department_or_nothing_is_422_on_into(api_as, people, org_units, target):
    hr = org_units["hr"]
    into = {"self": hr.pk, "inside": org_units["social"].pk, "unknown": 999999}[target]
    client = api_as(people["admin"])
    merge = client.post(f"/departments/{hr.pk}/merge", {"into": into})
    assert merge.status_code == 422, merge.content
    reason = error_of(merge)["fields"]["into"]
    preview = client.get(f"/departments/{hr.pk}/merge-preview", {"into": into})  # a check: it says why not
    assert preview.status_code == 200, preview.content
    body = preview.json()
    assert body["allowed"] is False and body["refused"] == {"into": reason}
    assert body["items"] == [] and body["expected"] == ""


def test_merge_is_404_for_non_admins(api_as, people, org_units):
    client = api_as(people["hr_head"])
    social, health = org_units["social"], org_units["health"]
    assert client.get(f"/departments/{social.pk}/merge-preview", {"into": health.pk}).status_code == 404
    assert client.post(f"/departments/{social.pk}/merge", {"into": health.pk}).status_code == 404
    assert Department.objects.get(pk=social.pk).archived_at is None


def test_archive_check_archive_and_restore(api_as, people, org_units):
    client = api_as(people["admin"])
    hr = org_units["hr"]
    check = client.get(f"/departments/{hr.pk}/archive-check").json()
    assert check["allowed"] is False
    assert {b["name"] for b in check["blockers"]} >= {"sub_departments", "members"}
    refused = client.post(f"/departments/{hr.pk}/archive")
    assert refused.status_code == 409
    assert error_of(refused)["code"] == "conflict"

    empty = factories.department("空部门", "KBM")
    assert client.get(f"/departments/{empty.pk}/archive-check").json() == {
        "department": {"id": empty.pk, "name": "空部门", "code": "KBM"},
        "allowed": True,
        "blockers": [],
        "kept": [],
    }
    archived = client.post(f"/departments/{empty.pk}/archive")
    assert archived.status_code == 200, archived.content
    assert archived.json()["archived"] is True and archived.json()["archived_at"]
    assert _events("department.archived")[-1].details == {"code": "KBM"}
    assert client.post(f"/departments/{empty.pk}/archive").status_code == 409

    restored = client.post(f"/departments/{empty.pk}/restore")
    assert restored.status_code == 200
    assert restored.json()["archived"] is False
    assert _events("department.restored")[-1].details == {"code": "KBM"}
    assert client.post(f"/departments/{empty.pk}/restore").status_code == 409


def test_archived_department_cannot_be_moved_and_restore_needs_its_parent(api_as, people, org_units):
    client = api_as(people["admin"])
    parent = factories.department("上级", "SJ")
    child = factories.department("下级", "XJ", parent=parent)
    tree.archive_department(None, child)
    tree.archive_department(None, parent)
    moved = client.patch(f"/departments/{child.pk}", {"parent": org_units["tax"].pk})
    assert moved.status_code == 422 and "parent" in error_of(moved)["fields"]
    restored = client.post(f"/departments/{child.pk}/restore")
    assert restored.status_code == 422 and "parent" in error_of(restored)["fields"]


def test_archive_and_restore_are_404_for_non_admins(api_as, people):
    empty = factories.department("空部门", "KBM")
    client = api_as(people["auditor"])
    assert client.get(f"/departments/{empty.pk}/archive-check").status_code == 404
    assert client.post(f"/departments/{empty.pk}/archive").status_code == 404
    assert client.post(f"/departments/{empty.pk}/restore").status_code == 404


def test_a_read_token_checks_but_cannot_archive(api_as, people):
    empty = factories.department("空部门", "KBM")
    _token, raw = services.issue_token(people["admin"], people["admin"], "read", scopes=["organization:read"])
    client = api_as(token=raw)
    assert client.get(f"/departments/{empty.pk}/archive-check").status_code == 200
    response = client.post(f"/departments/{empty.pk}/archive")
    assert response.status_code == 403
    assert "scopes" in error_of(response)["fields"]
    assert client.patch(f"/people/{people['tax_member'].pk}", {"display_name": "x"}).status_code == 403
    assert Department.objects.get(pk=empty.pk).archived_at is None


def test_archive_replays_with_an_idempotency_key(api_as, people):
    empty = factories.department("空部门", "KBM")
    client = api_as(people["admin"])
    client.headers["HTTP_IDEMPOTENCY_KEY"] = "archive-kbm"
    first = client.post(f"/departments/{empty.pk}/archive")
    second = client.post(f"/departments/{empty.pk}/archive")
    assert first.status_code == second.status_code == 200
    assert second["Idempotent-Replayed"] == "true"
    assert len(_events("department.archived")) == 1


def test_department_list_statements_do_not_grow(api_as, people):
    client = api_as(people["health_member"])
    few = _statements(client, "/departments")
    for _ in range(5):
        tree.archive_department(None, factories.department())
    assert _statements(client, "/departments") == few


# --- people ----------------------------------------------------------------------------------------------------


def test_admin_edits_a_profile(api_as, people):
    person = people["tax_member"]
    payload = {"display_name": " 小李 ", "email": "li@example.org", "language": "zh-hans"}
    response = api_as(people["admin"]).patch(f"/people/{person.pk}", payload)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["display_name"], body["email"], body["language"]) == ("小李", "li@example.org", "zh-hans")
    assert body["is_active"] is True and body["memberships"][0]["department"]["code"] == "SWJ"
    details = [e.details for e in _events("person.updated")]
    assert {"display_name": "小李", "email": "li@example.org"} in details and {"language": "zh-hans"} in details


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"language": "klingon"}, "language"),
        ({"display_name": "x" * 121}, "display_name"),
    ],
)
def test_bad_profile_is_422_naming_the_field_and_changes_nothing(api_as, people, payload, field):
    person = people["tax_member"]
    response = api_as(people["admin"]).patch(f"/people/{person.pk}", {"display_name": "改了", **payload})
    assert response.status_code == 422
    assert field in error_of(response)["fields"]
    person.refresh_from_db()
    assert person.display_name == "tax_member"


def test_people_console_is_404_for_non_admins(api_as, people, org_units):
    client = api_as(people["hr_head"])
    person = people["social_member"]
    assert client.patch(f"/people/{person.pk}", {"display_name": "x"}).status_code == 404
    assert _put(client, f"/people/{person.pk}/roles", {"is_org_admin": True, "is_auditor": False}).status_code == 404
    assert client.post("/people/bulk", {"ids": [person.pk], "action": "make_auditor"}).status_code == 404
    assert client.get(f"/people/{person.pk}/handover").status_code == 404
    assert client.post(f"/people/{person.pk}/deactivate", {}).status_code == 404
    assert client.post(f"/people/{person.pk}/reactivate").status_code == 404
    assert User.objects.get(pk=person.pk).is_active


def _put(client, path: str, data):
    import json

    from tests.api.conftest import API

    return client.client.put(API + path, json.dumps(data), content_type="application/json", **client.headers)


def test_admin_sets_org_roles_but_not_away_from_themselves(api_as, people):
    client = api_as(people["admin"])
    person = people["tax_member"]
    response = _put(client, f"/people/{person.pk}/roles", {"is_org_admin": False, "is_auditor": True})
    assert response.status_code == 200, response.content
    assert response.json()["is_auditor"] is True
    assert _events("person.roles_changed")[-1].details == {"auditor": True}
    own = _put(client, f"/people/{people['admin'].pk}/roles", {"is_org_admin": False, "is_auditor": False})
    assert own.status_code == 422
    assert "is_org_admin" in error_of(own)["fields"]
    missing = _put(client, f"/people/{person.pk}/roles", {"is_auditor": True})
    assert missing.status_code == 422 and "is_org_admin" in error_of(missing)["fields"]
    number = _put(client, f"/people/{person.pk}/roles", {"is_org_admin": False, "is_auditor": 0})
    assert number.status_code == 422 and "is_auditor" in error_of(number)["fields"]


def test_bulk_adds_several_people_to_a_department(api_as, people, org_units):
    health = org_units["health"]
    ids = [people["tax_member"].pk, people["social_member"].pk]
    payload = {"ids": ids, "action": "add", "department": health.pk, "role": "member"}
    response = api_as(people["admin"]).post("/people/bulk", payload)
    assert response.status_code == 200, response.content
    assert response.json() == {"action": "add", "count": 2}
    assert Membership.objects.filter(department=health, user_id__in=ids).count() == 2
    assert len([e for e in _events("membership.set") if e.details["department"] == health.pk]) >= 2


def test_bulk_refusal_names_each_person_and_changes_nothing(api_as, people):
    ids = [people["tax_member"].pk, people["tax_steward"].pk]
    response = api_as(people["admin"]).post("/people/bulk", {"ids": ids, "action": "deactivate"})
    assert response.status_code == 422
    fields = error_of(response)["fields"]
    assert set(fields) == {"ids.1"} and "handover" in fields["ids.1"]
    assert User.objects.get(pk=people["tax_member"].pk).is_active


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"ids": [999999], "action": "make_auditor"}, "ids.0"),
        ({"ids": [], "action": "make_auditor"}, "ids"),
        ({"ids": [1], "action": "promote"}, "action"),
        ({"ids": [1], "action": "add", "role": "member"}, "department"),
        ({"ids": [1], "action": "add", "department": 999999, "role": "member"}, "department"),
    ],
)
def test_bad_bulk_is_422_naming_the_field(api_as, people, payload, field):
    payload["ids"] = [people["tax_member"].pk if i == 1 else i for i in payload["ids"]]
    response = api_as(people["admin"]).post("/people/bulk", payload)
    assert response.status_code == 422, response.content
    assert field in error_of(response)["fields"]


def test_bulk_actions_are_the_services(api_as):
    from typing import get_args

    assert get_args(BulkActionName) == services.BULK_ACTIONS


def test_handover_lists_what_they_hold_and_who_may_take_over(api_as, people, org_units):
    tax = org_units["tax"]
    response = api_as(people["admin"]).get(f"/people/{people['tax_steward'].pk}/handover")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["needs_successor"] is True and body["refusal"] == "" and body["is_active"] is True
    departments = next(p for p in body["parts"] if p["key"] == "departments")
    assert departments["count"] == 1 and departments["items"][0]["key"] == tax.pk
    choices = {c["department_id"]: [p["username"] for p in c["people"]] for c in body["successors"]}
    assert choices[tax.pk] == ["tax_member"]
    own = api_as(people["admin"]).get(f"/people/{people['admin'].pk}/handover").json()
    assert own["refusal"]


def test_deactivate_with_handover_then_reactivate(api_as, people, org_units):
    tax = org_units["tax"]
    client = api_as(people["admin"])
    leaver, successor = people["tax_steward"], people["tax_member"]
    missing = client.post(f"/people/{leaver.pk}/deactivate", {"reason": "调岗"})
    assert missing.status_code == 422
    assert f"departments.{tax.pk}" in error_of(missing)["fields"]

    response = client.post(f"/people/{leaver.pk}/deactivate", {"departments": {str(tax.pk): successor.pk}})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["person"]["is_active"] is False and body["counts"]["departments"] == 1
    assert Membership.objects.get(user=successor, department=tax).role == "steward"
    assert _events("person.handed_over")[-1].details["successors"] == [successor.pk]

    again = client.post(f"/people/{leaver.pk}/deactivate", {"successor": successor.pk})
    assert again.status_code == 409
    listed = client.get("/people", {"status": "deactivated"}).json()["items"]
    assert [p["username"] for p in listed] == ["tax_steward"]

    back = client.post(f"/people/{leaver.pk}/reactivate")
    assert back.status_code == 200 and back.json()["is_active"] is True
    assert _events("person.updated")[-1].details == {"is_active": True}


def test_deactivating_oneself_or_a_stranger_successor_is_422(api_as, people, org_units):
    client = api_as(people["admin"])
    own = client.post(f"/people/{people['admin'].pk}/deactivate", {})
    assert own.status_code == 422 and "person" in error_of(own)["fields"]
    tax = org_units["tax"]
    stranger = client.post(
        f"/people/{people['tax_steward'].pk}/deactivate", {"departments": {str(tax.pk): people["health_member"].pk}}
    )
    assert stranger.status_code == 422 and f"departments.{tax.pk}" in error_of(stranger)["fields"]
    assert User.objects.get(pk=people["tax_steward"].pk).is_active


# --- the people list's console filters -------------------------------------------------------------------------


def test_admins_filter_people_like_the_console(api_as, people, org_units):
    client = api_as(people["admin"])
    in_hr = client.get("/people", {"department": org_units["hr"].pk}).json()["items"]
    assert sorted(p["username"] for p in in_hr) == ["hr_head", "social_member"]  # with its sub-departments
    heads = client.get("/people", {"department": org_units["hr"].pk, "role": "head"}).json()["items"]
    assert [p["username"] for p in heads] == ["hr_head"]
    services.update_person(None, people["tax_member"], is_active=False)
    everyone = client.get("/people", {"status": "all"}).json()["items"]
    assert "tax_member" in [p["username"] for p in everyone]
    assert "tax_member" not in [p["username"] for p in client.get("/people").json()["items"]]
    assert client.get("/people", {"department": 999999}).json()["items"] == []


def test_others_may_not_use_the_admin_filters(api_as, people, org_units):
    client = api_as(people["health_member"])
    in_hr = client.get("/people", {"department": org_units["hr"].pk}).json()["items"]
    assert sorted(p["username"] for p in in_hr) == ["hr_head", "social_member"]
    for params, field in (({"role": "head"}, "role"), ({"status": "deactivated"}, "status")):
        response = client.get("/people", params)
        assert response.status_code == 403
        assert field in error_of(response)["fields"]


def test_admin_people_list_statements_do_not_grow(api_as, people, org_units):
    client = api_as(people["admin"])
    params = {"department": org_units["hr"].pk, "status": "all", "q": "_"}
    few = _statements(client, "/people", params)
    for n in range(6):
        factories.member(org_units["social"], username=f"user_{n}")
    assert _statements(client, "/people", params) == few
