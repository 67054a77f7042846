"""/me, /departments and /people."""

from __future__ import annotations

import pytest

from sharehub.org.models import Membership
from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db


def test_me_lists_memberships(api_as, people, org_units):
    response = api_as(people["tax_steward"]).get("/me")
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "tax_steward"
    assert body["kind"] == "person"
    assert body["is_org_admin"] is False and body["is_auditor"] is False
    assert body["memberships"] == [
        {"department": {"id": org_units["tax"].pk, "name": "税务局", "code": "SWJ"}, "role": "steward"}
    ]


def test_me_anonymous_is_401_in_the_error_shape(api_as):
    response = api_as().get("/me")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"


def test_departments_list_tree_order_with_depth(api_as, people, org_units):
    response = api_as(people["health_member"]).get("/departments")
    assert response.status_code == 200
    rows = {row["code"]: row for row in response.json()}
    assert rows["SBZX"]["parent"] == org_units["hr"].pk
    assert rows["SBZX"]["depth"] == 1
    assert rows["RSJ"]["depth"] == 0 and rows["RSJ"]["parent"] is None


def test_department_detail_counts_members_and_names_stewards(api_as, people, org_units):
    response = api_as(people["health_member"]).get(f"/departments/{org_units['tax'].pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["members_count"] == 2
    assert [s["username"] for s in body["stewards"]] == ["tax_steward"]


def test_department_detail_unknown_is_404(api_as, people):
    response = api_as(people["health_member"]).get("/departments/999999")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_admin_creates_department_under_parent(api_as, people, org_units):
    response = api_as(people["admin"]).post(
        "/departments", {"name": "征管科", "code": "ZGK", "parent": org_units["tax"].pk}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["parent"] == org_units["tax"].pk and body["depth"] == 1


def test_member_may_not_create_department(api_as, people):
    response = api_as(people["tax_steward"]).post("/departments", {"name": "新部门", "code": "XBM"})
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


def test_department_with_unknown_parent_is_422_on_parent(api_as, people):
    response = api_as(people["admin"]).post("/departments", {"name": "新部门", "code": "XBM", "parent": 99999})
    assert response.status_code == 422
    assert "parent" in error_of(response)["fields"]


def test_duplicate_department_code_is_422_on_code(api_as, people):
    response = api_as(people["admin"]).post("/departments", {"name": "另一个", "code": "SWJ"})
    assert response.status_code == 422
    assert "code" in error_of(response)["fields"]


def test_people_list_shows_memberships(api_as, people):
    response = api_as(people["health_member"]).get("/people")
    assert response.status_code == 200
    rows = {row["username"]: row for row in response.json()["items"]}
    assert rows["hr_head"]["memberships"][0]["role"] == "head"
    assert rows["admin"]["memberships"] == []


def test_people_pages_walk_everyone_once(api_as, people):
    client = api_as(people["health_member"])
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get("/people", params).json()
        seen += [row["id"] for row in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == len(people)


def test_people_filter_by_department(api_as, people, org_units):
    response = api_as(people["health_member"]).get("/people", {"department": org_units["tax"].pk})
    assert sorted(row["username"] for row in response.json()["items"]) == ["tax_member", "tax_steward"]


def test_admin_creates_person(api_as, people):
    payload = {"username": "newbie", "display_name": "新人", "email": "newbie@example.org", "is_auditor": True}
    response = api_as(people["admin"]).post("/people", payload)
    assert response.status_code == 201, response.content
    assert response.json()["username"] == "newbie"


def test_member_may_not_create_person(api_as, people):
    response = api_as(people["tax_member"]).post("/people", {"username": "newbie"})
    assert response.status_code == 403


def test_person_with_unknown_field_is_422_naming_it(api_as, people):
    response = api_as(people["admin"]).post("/people", {"username": "newbie", "shoe_size": 42})
    assert response.status_code == 422
    assert "shoe_size" in error_of(response)["fields"]


def test_admin_sets_and_removes_membership(api_as, people, org_units):
    client = api_as(people["admin"])
    person, health = people["tax_member"], org_units["health"]
    response = client.post(f"/people/{person.pk}/memberships", {"department": health.pk, "role": "steward"})
    assert response.status_code == 200, response.content
    assert response.json()["role"] == "steward"
    assert Membership.objects.get(user=person, department=health).role == "steward"
    response = client.delete(f"/people/{person.pk}/memberships/{health.pk}")
    assert response.status_code == 204
    assert not Membership.objects.filter(user=person, department=health).exists()


def test_removing_absent_membership_is_404(api_as, people, org_units):
    response = api_as(people["admin"]).delete(f"/people/{people['tax_member'].pk}/memberships/{org_units['hr'].pk}")
    assert response.status_code == 404


def test_membership_with_bad_role_is_422_on_role(api_as, people, org_units):
    response = api_as(people["admin"]).post(
        f"/people/{people['tax_member'].pk}/memberships", {"department": org_units["hr"].pk, "role": "king"}
    )
    assert response.status_code == 422
    assert "role" in error_of(response)["fields"]


def test_member_may_not_change_memberships(api_as, people, org_units):
    client = api_as(people["tax_steward"])
    response = client.post(f"/people/{people['tax_member'].pk}/memberships", {"department": org_units["tax"].pk})
    assert response.status_code == 403
    response = client.delete(f"/people/{people['tax_member'].pk}/memberships/{org_units['tax'].pk}")
    assert response.status_code == 403


def test_membership_of_unknown_person_is_404(api_as, people, org_units):
    response = api_as(people["admin"]).post("/people/999999/memberships", {"department": org_units["tax"].pk})
    assert response.status_code == 404
