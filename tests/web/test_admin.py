"""The Django admin: entry through the policy, writes through the services, events untouchable."""

from __future__ import annotations

import re
from html import unescape

import pytest

from sharehub.events.models import Event
from sharehub.org import services
from sharehub.org.models import ApiToken, Department, Membership, User
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _admin_is_superuser(db, request):
    """Django's admin is for superusers who are organization admins: the tests' admin is one here."""
    if "people" in request.fixturenames:
        services.set_superuser(None, request.getfixturevalue("people")["admin"], True)


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
    both = services.set_superuser(None, factories.person("admin_auditor", admin=True, auditor=True), True)
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


# --- superusers only (issue 14) --------------------------------------------------------------------------


def test_an_org_admin_who_is_not_a_superuser_uses_the_console(db, client_for):
    plain = factories.person("plain_admin", admin=True)
    client = client_for(plain)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert client.get("/admin/org/department/").status_code == 302
    home = client.get("/").content.decode()
    assert 'href="/admin/"' not in home and 'href="/manage/"' in home  # the nav's Administration entry is gone
    assert 'href="/admin/"' not in client.get("/manage/").content.decode()


def test_a_superuser_sees_the_administration_entry(people, client_for):
    client = client_for(people["admin"])
    assert 'href="/admin/"' in client.get("/").content.decode()
    assert 'href="/admin/"' in client.get("/manage/").content.decode()


def test_a_service_account_is_never_a_superuser(people, org_units):
    from sharehub.errors import Invalid

    robot = services.create_service_account(None, department=org_units["tax"], username="robot")
    with pytest.raises(Invalid):
        services.set_superuser(None, robot, True)
    with pytest.raises(Invalid):
        services.set_superuser(None, people["tax_member"], True)
    User.objects.filter(pk=robot.pk).update(is_superuser=True, is_org_admin=True)
    robot.refresh_from_db()
    from sharehub.policy.engine import OrgAction, can

    assert not can(robot, OrgAction.ADMIN_SITE)


def test_superuser_is_set_in_the_admin_through_the_service(people, client_for):
    other = factories.person("second_admin", admin=True)
    response = client_for(people["admin"]).post(
        f"/admin/org/user/{other.pk}/change/",
        {
            "display_name": "second_admin",
            "email": "",
            "time_zone": "",
            "is_active": "on",
            "is_org_admin": "on",
            "is_superuser": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    other.refresh_from_db()
    assert other.is_superuser
    event = Event.objects.get(action="person.superuser_set", target_id=str(other.pk))
    assert event.actor == people["admin"] and event.details == {"superuser": True}
    # A person who is not an organization admin is refused at the field.
    member = people["tax_member"]
    response = client_for(people["admin"]).post(
        f"/admin/org/user/{member.pk}/change/",
        {
            "display_name": "tax_member",
            "email": "",
            "time_zone": "",
            "is_active": "on",
            "is_superuser": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200 and b"errorlist" in response.content
    member.refresh_from_db()
    assert not member.is_superuser


def test_createadmin_makes_a_superuser_who_opens_the_admin(db, client_for, capsys):
    from django.core.management import call_command

    call_command("createadmin", "--username", "root", "--password", "a-long-enough-secret-7", verbosity=0)
    root = User.objects.get(username="root")
    assert root.is_org_admin and root.is_superuser
    assert Event.objects.filter(action="person.superuser_set", target_id=str(root.pk), actor=None).exists()
    assert client_for(root).get("/admin/").status_code == 200
    assert "superuser" in capsys.readouterr().out


# --- Django's admin in Chinese ---------------------------------------------------------------------------

# Words that are data or names, not interface text: the organization's codes and login names of this test, the
# product's name, "API" (API 令牌), and what Django's own Chinese keeps in Latin letters (LDAP, Control, Mac, ...).
_NOT_UI = re.compile(
    r"^(?:Sharehub|API|LDAP|Control|Command|Mac|SWJ|RSJ|SBZX|WJW|admin|auditor|robot|attacker"
    r"|\w+_(?:member|steward|head))$"
)
# Data shown as it is stored: action codes and target types (department.created, org.user), hashes, the password
# hash's algorithm and masked salt and digest ("argon2id", "daca7b*****"), token prefixes, JSON details, the
# browser name the test client sends.
_DATA = re.compile(
    r"\b[a-z_]+(?:\.[a-z_]+)+\b|\b[0-9a-f]{12,64}\b|\S*\*{6,}|\bargon2(?:id)?\b|shr_\S+|<unknown>|^\s*[\"\[{].*$"
)


def _english_left(html: str) -> set[str]:
    """The runs of visible text (and titles, placeholders, labels for screen readers) holding an English word.
    Image alt text is left out: Django writes its boolean icons' and search icon's in English in its own code."""
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    attributes = re.findall(r'(?:title|placeholder|aria-label)="([^"]*)"', html)
    text = unescape(re.sub(r"(?s)<[^>]+>", "\n", html) + "\n" + "\n".join(unescape(a) for a in attributes))
    left = set()
    for line in text.splitlines():
        words = re.findall(r"[A-Za-z][A-Za-z’'_-]{2,}", _DATA.sub(" ", line))
        if any(not _NOT_UI.match(word) for word in words):
            left.add(line.strip())
    return left


def test_every_admin_page_is_in_chinese(people, org_units, client_for, settings):
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib import admin

    from sharehub.catalog.models import DataGrade

    DataGrade.objects.all().delete()  # seeded with English descriptions: data, not interface
    services.create_service_account(None, department=org_units["tax"], username="robot", display_name="接口")
    services.issue_token(None, people["tax_member"], "脚本")
    common = {"user_agent": "<unknown>", "http_accept": "*/*", "path_info": "/accounts/login/"}
    AccessAttempt.objects.create(username="attacker", ip_address="10.0.0.1", failures_since_start=3, **common)
    AccessLog.objects.create(username="admin", ip_address="10.0.0.2", **common)
    AccessFailureLog.objects.create(username="attacker", ip_address="10.0.0.1", locked_out=True, **common)
    services.set_org_roles(None, people["admin"], is_auditor=True)  # the event log's pages too
    client = client_for(people["admin"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    pages = ["/admin/"]
    for model in admin.site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        pages += [base, f"{base}add/"]
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(f"{base}{first.pk}/change/")
    pages.append(f"/admin/org/user/{people['admin'].pk}/password/")
    untranslated, shown = {}, 0
    for page in pages:
        response = client.get(page)
        if response.status_code != 200:
            assert response.status_code in (302, 403), page  # not offered to anyone (add an event, ...)
            continue
        shown += 1
        assert 'lang="zh-hans"' in response.content.decode(), page
        left = _english_left(response.content.decode())
        if left:
            untranslated[page] = sorted(left)
    assert shown > 30
    assert not untranslated, untranslated
