"""LDAP sign-in, accounts made at first sign-in, mapping rules and the sync, against a real slapd."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from sharehub.access import services as access
from sharehub.access.models import Grant
from sharehub.catalog.models import Resource
from sharehub.directory import ldap, services
from sharehub.directory.models import DirectoryAccount, SyncRun
from sharehub.events.models import Event
from sharehub.org.models import Membership, User
from tests import factories
from tests.directory import slapd as slapd_server
from tests.directory.conftest import ldap_settings

pytestmark = pytest.mark.django_db


def sign_in(username: str, password: str) -> tuple[Client, object]:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": password})
    return client, response


def roles_of(user) -> dict[str, str]:
    return {m.department.code: m.role for m in Membership.objects.filter(user=user).select_related("department")}


def actions_about(user) -> list[str]:
    return list(Event.objects.filter(target_type="org.user", target_id=str(user.pk)).values_list("action", flat=True))


def test_first_sign_in_makes_the_person_with_the_rules_departments(ldap_on, mapping):
    client, response = sign_in("p01", slapd_server.password_of("p01"))
    assert response.status_code == 302 and response["Location"] == reverse("home")
    user = User.objects.get(username="p01")
    assert user.display_name == "职员01" and user.email == "p01@example.org"
    assert not user.has_usable_password()  # the directory keeps the password, Sharehub none
    # the tax stewards group rule comes first and decides the role in 税务局 over the attribute rule
    assert roles_of(user) == {"TAX": "steward"}
    account = DirectoryAccount.objects.get(user=user)
    assert account.source == "ldap" and account.dn == slapd_server.person_dn("p01", "tax")
    assert slapd_server.group_dn("tax-stewards") in account.groups
    assert account.attributes["departmentnumber"] == ["税务局"]
    actions = actions_about(user)
    assert {"person.created", "directory.account_linked", "membership.set", "auth.login"} <= set(actions)
    assert client.get(reverse("home")).status_code == 200

    # a person in no special group gets the member role from the attribute rule
    sign_in("p12", slapd_server.password_of("p12"))
    assert roles_of(User.objects.get(username="p12")) == {"HR": "member"}
    sign_in("p11", slapd_server.password_of("p11"))
    assert roles_of(User.objects.get(username="p11")) == {"HR": "head"}


def test_second_sign_in_follows_the_directory(ldap_on, mapping):
    sign_in("p02", slapd_server.password_of("p02"))
    user = User.objects.get(username="p02")
    assert roles_of(user) == {"TAX": "steward"}
    ldap_on.set_groups("p02", remove=("tax-stewards",))
    ldap_on.set_attribute("p02", "displayName", "王二")
    sign_in("p02", slapd_server.password_of("p02"))
    user.refresh_from_db()
    assert user.display_name == "王二"
    assert roles_of(user) == {"TAX": "member"}
    assert User.objects.filter(username="p02").count() == 1


def test_wrong_or_empty_password_is_refused(ldap_on, mapping):
    _client, response = sign_in("p03", "wrong")
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()
    _client, response = sign_in("nobody", "pw-nobody")
    assert response.status_code == 200
    # an empty password never reaches the directory (where it would be an anonymous bind, and succeed)
    assert not ldap.check_password(ldap_settings(ldap_on), slapd_server.person_dn("p03", "tax"), "")
    assert ldap.check_password(ldap_settings(ldap_on), slapd_server.person_dn("p03", "tax"), "pw-p03")
    assert not User.objects.filter(username__in=["p03", "nobody"]).exists()
    assert Event.objects.filter(action="auth.login_failed").count() == 2


def test_directory_down_says_so_and_local_admin_still_signs_in(ldap_on, mapping):
    admin = factories.person("breakglass", admin=True)
    ldap_on.stop()
    _client, response = sign_in("p04", slapd_server.password_of("p04"))
    assert response.status_code == 200
    assert "The directory could not be reached" in response.content.decode()
    assert not User.objects.filter(username="p04").exists()
    _client, response = sign_in(admin.username, factories.PASSWORD)
    assert response.status_code == 302


def test_wrong_service_bind_is_a_clear_message_not_an_error(settings, slapd, mapping):
    settings.DIRECTORY_LDAP = ldap_settings(slapd, bind_password="not-it")
    _client, response = sign_in("p04", slapd_server.password_of("p04"))
    assert response.status_code == 200
    assert "The directory could not be reached" in response.content.decode()


def test_local_passwords_off_for_directory_people_but_not_for_local_admins(settings, ldap_on, mapping):
    sign_in("p05", slapd_server.password_of("p05"))
    person = User.objects.get(username="p05")
    person.set_password("local-password-55")
    person.save()
    admin = factories.person("breakglass", admin=True)
    assert sign_in("p05", "local-password-55")[1].status_code == 302
    settings.DIRECTORY_LOCAL_PASSWORDS = False
    assert sign_in("p05", "local-password-55")[1].status_code == 200
    assert sign_in("p05", slapd_server.password_of("p05"))[1].status_code == 302  # the directory's own still works
    assert sign_in("breakglass", factories.PASSWORD)[1].status_code == 302
    assert admin.is_org_admin


def test_a_local_admin_with_the_same_name_is_not_taken_over(ldap_on, mapping):
    factories.person("p06", admin=True)
    _client, response = sign_in("p06", slapd_server.password_of("p06"))
    assert response.status_code == 200
    assert not DirectoryAccount.objects.exists()


def test_paged_search_reads_more_than_the_server_answers_at_once(ldap_on):
    cfg = ldap_settings(ldap_on)
    people = ldap.everyone(cfg, ["departmentNumber"])
    assert len(people) == 50  # the server caps an answer at 20 entries: only pages get them all
    p01 = next(p for p in people if p.username == "p01")
    assert set(p01.groups) == {slapd_server.group_dn("tax-stewards"), slapd_server.group_dn("staff")}
    with pytest.raises(ldap.DirectoryUnavailable):
        ldap.everyone(ldap_settings(ldap_on, page_size=100), [])  # more than the server's page limit


def test_sync_makes_everyone_once_and_changes_nothing_the_second_time(ldap_on, mapping, capsys):
    call_command("directory", "sync")
    out = capsys.readouterr().out
    assert "people 50, created 50" in out
    assert User.objects.filter(directory_accounts__source="ldap").count() == 50
    assert Membership.objects.filter(department__code="HEALTH").count() == 20
    assert roles_of(User.objects.get(username="p01")) == {"TAX": "steward"}
    run = SyncRun.objects.get()
    assert run.finished_at and not run.error and run.counts["created"] == 50
    assert Event.objects.filter(action="directory.synced").count() == 1
    events = Event.objects.count()
    call_command("directory", "sync")
    assert "Nothing to change" in capsys.readouterr().out
    assert Event.objects.count() == events + 1  # only the second sync's own summary


def test_dry_run_prints_what_would_change_and_writes_nothing(ldap_on, mapping, capsys):
    call_command("directory", "sync", "--dry-run")
    out = capsys.readouterr().out
    assert "Would change (dry run" in out
    assert "p01: new person" in out and "p01: 税务局 as steward" in out
    assert "Dry run: people 50, created 50" in out
    assert not User.objects.filter(username="p01").exists()
    assert not SyncRun.objects.exists() and not Event.objects.filter(action__startswith="directory.sync").exists()


@pytest.fixture
def grants(ldap_on, mapping, departments):
    """After a first sync: p07 (税务局) holds a grant in their own name and one through their department."""
    call_command("directory", "sync", verbosity=0)
    steward = User.objects.get(username="p01")
    health = departments["health"]
    resource = factories.resource(health, sharing_type=Resource.SharingType.CONDITIONAL)
    holder = User.objects.get(username="p07")
    values = {"purpose": "核验", "use_category": "verification", "period_days": 30, "accept_terms": True}
    own = access.create_request(holder, resource, **values)
    owner = Membership.objects.filter(department=health, role__in=["steward", "head"]).first().user
    access.approve_request(owner, own, requester_only=True)
    for_department = access.create_request(steward, resource, for_department=departments["tax"], **values)
    access.approve_request(owner, for_department)
    return {"holder": holder, "resource": resource}


def test_sync_deactivates_who_left_and_ends_their_grants(ldap_on, grants, capsys):
    holder = grants["holder"]
    own = Grant.objects.get(grantee_user=holder, revoked_at__isnull=True)
    department_grant = Grant.objects.get(grantee_department__code="TAX")
    ldap_on.delete_person("p07")

    call_command("directory", "sync", "--dry-run")
    assert "p07: not in the directory: deactivated, 1 grants end" in capsys.readouterr().out
    holder.refresh_from_db()
    assert holder.is_active

    call_command("directory", "sync")
    holder.refresh_from_db()
    own.refresh_from_db()
    department_grant.refresh_from_db()
    assert not holder.is_active
    assert own.revoked_at is not None and "left the directory" in own.revoke_reason
    assert department_grant.revoked_at is None  # the department keeps it; the policy reads nothing for p07
    revoked = Event.objects.get(action="grant.revoked", target_id=str(own.pk))
    assert revoked.actor_id is None and revoked.details["reason"] == own.revoke_reason
    assert {"person.updated", "directory.person_left"} <= set(actions_about(holder))
    assert sign_in("p07", slapd_server.password_of("p07"))[1].status_code == 200


def test_a_person_back_in_the_directory_is_reactivated(ldap_on, mapping):
    call_command("directory", "sync", verbosity=0)
    ldap_on.delete_person("p08")
    call_command("directory", "sync", verbosity=0)
    assert not User.objects.get(username="p08").is_active
    with ldap_on._admin() as conn:
        dn = slapd_server.person_dn("p08", "tax")
        assert conn.add(dn, "inetOrgPerson", {"uid": "p08", "cn": "p08", "sn": "p08", "departmentNumber": "税务局"})
    call_command("directory", "sync", verbosity=0)
    user = User.objects.get(username="p08")
    assert user.is_active and roles_of(user) == {"TAX": "member"}


def test_sync_moves_a_person_whose_groups_and_attributes_changed(ldap_on, mapping):
    call_command("directory", "sync", verbosity=0)
    user = User.objects.get(username="p01")
    assert roles_of(user) == {"TAX": "steward"}
    ldap_on.set_groups("p01", remove=("tax-stewards",), add=("hr-heads",))
    ldap_on.set_attribute("p01", "departmentNumber", "卫生健康委员会")
    call_command("directory", "sync", verbosity=0)
    assert roles_of(user) == {"HR": "head", "HEALTH": "member"}
    removed = Event.objects.filter(action="membership.removed", target_id=str(user.pk))
    assert removed.count() == 1 and removed.get().actor_id is None


def test_memberships_set_by_hand_stay(ldap_on, mapping, departments):
    from sharehub.org import services as org

    call_command("directory", "sync", verbosity=0)
    user = User.objects.get(username="p12")
    org.set_membership(None, user, departments["health"], "member")  # an admin's own decision
    call_command("directory", "sync", verbosity=0)
    assert roles_of(user) == {"HR": "member", "HEALTH": "member"}


def test_sync_with_the_directory_down_fails_clearly_and_changes_nothing(ldap_on, mapping):
    call_command("directory", "sync", verbosity=0)
    ldap_on.stop()
    with pytest.raises(CommandError, match="The sync stopped and changed nothing: the directory at ldap://"):
        call_command("directory", "sync")
    assert User.objects.filter(is_active=False).count() == 0
    assert SyncRun.objects.order_by("-started_at").first().error


def test_a_search_that_finds_nobody_does_not_deactivate_everyone(settings, ldap_on, mapping):
    call_command("directory", "sync", verbosity=0)
    settings.DIRECTORY_LDAP = ldap_settings(ldap_on, user_base=f"ou=nowhere,{slapd_server.SUFFIX}")
    with pytest.raises(CommandError, match="changed nothing"):
        call_command("directory", "sync")
    assert not User.objects.filter(is_active=False).exists()


def test_sync_without_ldap_is_a_clear_error():
    with pytest.raises(CommandError, match="no LDAP directory is configured"):
        call_command("directory", "sync")


def test_scheduled_sync_runs_when_due(settings, ldap_on, mapping):
    from datetime import timedelta

    from django.utils import timezone

    assert isinstance(services.scheduled_sync(), dict)
    assert services.scheduled_sync() == "not due"
    assert isinstance(services.scheduled_sync(now=timezone.now() + timedelta(minutes=61)), dict)
    settings.DIRECTORY_SYNC_MINUTES = 0
    assert services.scheduled_sync() == "off"


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_sync(ldap_on, mapping):
    from sharehub import worker

    results = worker.run_once()
    assert isinstance(results["directory sync"], dict) and results["directory sync"]["created"] == 50
