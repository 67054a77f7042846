"""The Django admin: entry through the policy, writes through the services, events untouchable."""

from __future__ import annotations

import pytest

from sharehub.events.models import Event
from sharehub.org import services
from sharehub.org.models import ApiToken, Department, Membership, User
from tests import factories

pytestmark = pytest.mark.django_db


def test_org_admin_opens_admin(people, client_for):
    client = client_for(people["admin"])
    response = client.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/admin/org/department/" in html
    assert "/admin/org/user/" in html
    assert "/admin/events/event/" not in html  # the audit trail is the auditor's, not the admin's
    for path in (
        "/admin/org/department/",
        "/admin/org/user/",
        "/admin/org/apitoken/",
        "/admin/catalog/resource/",
        "/admin/catalog/category/",
        "/admin/access/grant/",
    ):
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize("who", ["tax_member", "tax_steward", "auditor"])
def test_plain_member_is_sent_to_admin_login(people, client_for, who):
    response = client_for(people[who]).get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert client_for(people[who]).get("/admin/org/department/").status_code == 302


def test_superuser_flag_alone_does_not_open_admin(db, client_for):
    user = factories.person("root_only")
    User.objects.filter(pk=user.pk).update(is_superuser=True, is_staff=True)
    user.refresh_from_db()
    assert client_for(user).get("/admin/").status_code == 302


def test_nobody_changes_or_deletes_events_in_admin(people, client_for):
    both = factories.person("admin_auditor", admin=True, auditor=True)
    event = Event.objects.order_by("seq").first()
    before = (event.seq, event.hash, event.target_label)
    for user in (both, people["admin"], people["auditor"]):
        client = client_for(user)
        assert client.get(f"/admin/events/event/{event.pk}/delete/").status_code in (302, 403, 404)
        assert client.post(f"/admin/events/event/{event.pk}/delete/", {"post": "yes"}).status_code in (302, 403, 404)
        client.post(f"/admin/events/event/{event.pk}/change/", {"target_label": "forged", "action": "x"})
        assert client.get("/admin/events/event/add/").status_code in (302, 403)
        client.post(
            "/admin/events/event/", {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
        )
    event.refresh_from_db()
    assert (event.seq, event.hash, event.target_label) == before
    # The admin who is also an auditor may look, read-only.
    client = client_for(both)
    assert client.get("/admin/events/event/").status_code == 200
    change_page = client.get(f"/admin/events/event/{event.pk}/change/")
    assert change_page.status_code == 200
    assert b'name="_save"' not in change_page.content
    assert client_for(people["admin"]).get("/admin/events/event/").status_code == 403


def test_department_created_through_the_service(people, org_units, client_for):
    client = client_for(people["admin"])
    response = client.post(
        "/admin/org/department/add/",
        {
            "name": "医保局",
            "code": "YBJ",
            "parent": org_units["hr"].pk,
            "description": "",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-user": people["health_member"].pk,
            "memberships-0-role": "head",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    dept = Department.objects.get(code="YBJ")
    assert dept.path == f"{org_units['hr'].path}{dept.pk}/"
    assert Event.objects.filter(action="department.created", target_id=str(dept.pk), actor=people["admin"]).exists()
    membership = Membership.objects.get(user=people["health_member"], department=dept)
    assert membership.role == "head"
    assert Event.objects.filter(action="membership.set", actor=people["admin"]).exists()


def test_department_move_keeps_paths(people, org_units, client_for):
    client = client_for(people["admin"])
    hr, social, tax = org_units["hr"], org_units["social"], org_units["tax"]
    grandchild = factories.department("社保稽核科", "SBJH", parent=social)
    response = client.post(
        f"/admin/org/department/{hr.pk}/change/",
        {
            "name": hr.name,
            "code": hr.code,
            "parent": tax.pk,
            "description": "",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    for d in (hr, social, grandchild):
        d.refresh_from_db()
    assert hr.path == f"/{tax.pk}/{hr.pk}/"
    assert social.path == f"{hr.path}{social.pk}/"
    assert grandchild.path == f"{social.path}{grandchild.pk}/"
    assert Event.objects.filter(action="department.moved", target_id=str(hr.pk)).exists()


def test_department_cannot_move_under_its_child(people, org_units, client_for):
    hr, social = org_units["hr"], org_units["social"]
    response = client_for(people["admin"]).post(
        f"/admin/org/department/{hr.pk}/change/",
        {
            "name": hr.name,
            "code": hr.code,
            "parent": social.pk,
            "description": "",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200  # the form comes back with the error
    hr.refresh_from_db()
    assert hr.parent_id is None


def test_person_created_through_the_service(people, client_for):
    response = client_for(people["admin"]).post(
        "/admin/org/user/add/",
        {
            "username": "new_person",
            "display_name": "新同事",
            "email": "new@example.org",
            "password1": "a-long-enough-secret-7",
            "password2": "a-long-enough-secret-7",
            "is_auditor": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user = User.objects.get(username="new_person")
    assert user.is_auditor and not user.is_org_admin
    assert user.check_password("a-long-enough-secret-7")
    assert Event.objects.filter(action="person.created", target_id=str(user.pk), actor=people["admin"]).exists()


def test_membership_inline_on_user_goes_through_services(people, org_units, client_for):
    user = people["tax_member"]
    existing = Membership.objects.get(user=user)
    response = client_for(people["admin"]).post(
        f"/admin/org/user/{user.pk}/change/",
        {
            "display_name": "tax_member",
            "email": "",
            "time_zone": "",
            "is_active": "on",
            "is_org_admin": "",
            "memberships-TOTAL_FORMS": "2",
            "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": existing.pk,
            "memberships-0-user": user.pk,
            "memberships-0-department": org_units["tax"].pk,
            "memberships-0-role": "member",
            "memberships-0-DELETE": "on",
            "memberships-1-user": user.pk,
            "memberships-1-department": org_units["health"].pk,
            "memberships-1-role": "steward",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(Membership.objects.filter(user=user).values_list("department__code", "role")) == [("WJW", "steward")]
    assert Event.objects.filter(action="membership.removed", target_id=str(user.pk)).exists()
    assert Event.objects.filter(action="membership.set", target_id=str(user.pk), actor=people["admin"]).exists()


def test_roles_changed_through_the_service(people, client_for):
    user = people["tax_member"]
    response = client_for(people["admin"]).post(
        f"/admin/org/user/{user.pk}/change/",
        {
            "display_name": "tax_member",
            "email": "",
            "time_zone": "",
            "is_active": "on",
            "is_org_admin": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user.refresh_from_db()
    assert user.is_org_admin and user.is_staff
    assert Event.objects.filter(action="person.roles_changed", target_id=str(user.pk)).exists()


def test_admin_sets_a_password_and_it_is_logged(people, client_for):
    user = people["tax_member"]
    response = client_for(people["admin"]).post(
        f"/admin/org/user/{user.pk}/password/",
        {"password1": "another-long-secret-8", "password2": "another-long-secret-8", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user.refresh_from_db()
    assert user.check_password("another-long-secret-8")
    assert Event.objects.filter(action="person.password_set", target_id=str(user.pk), actor=people["admin"]).exists()


def test_token_revoke_action(people, client_for):
    user = people["tax_member"]
    token, secret = services.issue_token(user, user, "脚本")
    response = client_for(people["admin"]).post(
        "/admin/org/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert services.user_for_token(secret) is None
    assert Event.objects.filter(action="token.revoked", actor=people["admin"]).exists()
    assert client_for(people["admin"]).get("/admin/org/apitoken/add/").status_code == 403
    assert ApiToken.objects.count() == 1


def test_admin_password_link_goes_to_the_logged_page(people, client_for):
    response = client_for(people["admin"]).get("/admin/password_change/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/"


def test_unknown_time_zone_is_refused(people, client_for):
    user = people["tax_member"]
    response = client_for(people["admin"]).post(
        f"/admin/org/user/{user.pk}/change/",
        {
            "display_name": "tax_member",
            "email": "",
            "time_zone": "Mars/Olympus",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.time_zone == ""
