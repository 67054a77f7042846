"""The console's service accounts (/manage/service-accounts/) and organization settings (/manage/settings/)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from sharehub.access.models import AccessSettings, ApprovalRule
from sharehub.events.models import Event
from sharehub.org import services
from sharehub.org.models import ApiToken, Membership, User

pytestmark = pytest.mark.django_db

LIST = "/manage/service-accounts/"


def html_of(response) -> str:
    return response.content.decode()


@pytest.fixture
def erp(org_units):
    return services.create_service_account(None, department=org_units["tax"], username="erp-sync", display_name="ERP")


@pytest.fixture
def admin(people, client_for):
    return client_for(people["admin"])


def _bearer(secret: str):
    return Client().get("/api/v1/resources", HTTP_AUTHORIZATION=f"Bearer {secret}")


@pytest.mark.parametrize(
    "path",
    [
        LIST,
        "/manage/service-accounts/{pk}/",
        "/manage/settings/",
        "/manage/settings/approval/{dept}/",
    ],
)
@pytest.mark.parametrize("who", ["tax_member", "tax_steward", "hr_head", "auditor"])
def test_others_get_404(people, client_for, erp, org_units, path, who):
    client = client_for(people[who])
    url = path.format(pk=erp.pk, dept=org_units["tax"].pk)
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "x", "decision_working_days": "3"}).status_code == 404
    assert Client().get(url).status_code == 302  # anonymous: to the sign-in page


@pytest.mark.parametrize("path", ["edit/", "active/", "tokens/1/revoke/"])
def test_others_cannot_change_an_account(people, client_for, erp, path):
    response = client_for(people["tax_steward"]).post(f"{LIST}{erp.pk}/{path}", {"active": "0", "display_name": "x"})
    assert response.status_code == 404
    erp.refresh_from_db()
    assert erp.is_active and erp.display_name == "ERP"


def test_a_person_is_not_a_service_account(admin, people):
    assert admin.get(f"{LIST}{people['tax_member'].pk}/").status_code == 404
    assert admin.post(f"{LIST}{people['tax_member'].pk}/active/", {"active": "0"}).status_code == 404


def test_list_shows_accounts_with_their_tokens(admin, erp, org_units):
    crm = services.create_service_account(None, department=org_units["health"], username="crm")
    token, _secret = services.issue_token(None, erp, "nightly")
    services.issue_token(None, erp, "old")[0].__class__.objects.filter(name="old").update(revoked_at=timezone.now())
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    response = admin.get(LIST)
    assert response.status_code == 200
    html = html_of(response)
    assert "erp-sync" in html and "crm" in html and "ERP" in html
    rows = {a.username: a for a in response.context["page_obj"].object_list}
    assert rows["erp-sync"].active_tokens == 1 and rows["erp-sync"].last_token_use is not None
    assert rows["crm"].active_tokens == 0 and rows["crm"].last_token_use is None
    only_health = admin.get(LIST, {"department": org_units["health"].pk})
    assert [a.username for a in only_health.context["page_obj"].object_list] == [crm.username]
    services.update_person(None, crm, is_active=False)
    inactive = admin.get(LIST, {"state": "inactive"})
    assert [a.username for a in inactive.context["page_obj"].object_list] == ["crm"]
    assert admin.get(LIST, {"department": "x'--", "state": "nope", "page": "-1"}).status_code == 200


def test_list_runs_a_constant_number_of_statements(admin, org_units, django_assert_max_num_queries):
    def account(n):
        user = services.create_service_account(None, department=org_units["tax"], username=f"sys{n}")
        services.issue_token(None, user, "t")

    account(0)
    with django_assert_max_num_queries(12) as one:
        assert admin.get(LIST).status_code == 200
    for n in range(1, 60):
        account(n)
    with django_assert_max_num_queries(12) as many:
        response = admin.get(LIST)
    assert len(response.context["page_obj"].object_list) == 50
    assert len(many.captured_queries) == len(one.captured_queries) == 9  # the pin: read the statements to move it


def test_admin_creates_an_account(admin, people, org_units):
    response = admin.post(LIST, {"username": "tax-bot", "display_name": "税务接口", "department": org_units["tax"].pk})
    account = User.objects.get(username="tax-bot")
    assert response.status_code == 302 and response["Location"] == f"{LIST}{account.pk}/"
    assert account.is_service and account.service_owner == org_units["tax"]
    assert Membership.objects.filter(user=account, department=org_units["tax"], role="member").exists()
    assert Event.objects.filter(action="service_account.created", target_id=str(account.pk), actor=people["admin"])


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"username": "bad name", "department": "tax"}, "username"),
        ({"username": "erp-sync", "department": "tax"}, "username"),
        ({"username": "ok-bot", "department": ""}, "department"),
        ({"username": "ok-bot", "department": "999999"}, "department"),
        ({"username": "ok-bot", "display_name": "x" * 130, "department": "tax"}, "display_name"),
        ({"username": "ok\x00bot", "department": "tax"}, "username"),
    ],
)
def test_bad_input_is_422_at_the_field(admin, erp, org_units, data, field):
    data = {**data, "department": org_units["tax"].pk if data["department"] == "tax" else data["department"]}
    before = User.objects.count()
    response = admin.post(LIST, data)
    assert response.status_code == 422
    assert field in response.context["errors"]
    assert "is-invalid" in html_of(response)
    assert User.objects.count() == before


def test_an_archived_department_owns_no_new_account(admin, org_units):
    from sharehub.org.models import Department

    Department.objects.filter(pk=org_units["health"].pk).update(archived_at=timezone.now())
    response = admin.post(LIST, {"username": "late-bot", "department": org_units["health"].pk})
    assert response.status_code == 422 and "department" in response.context["errors"]
    assert org_units["health"].name not in [d.name for d in response.context["departments"]]


def test_rename_and_move_an_account(admin, people, erp, org_units):
    response = admin.post(f"{LIST}{erp.pk}/edit/", {"display_name": "ERP 同步", "department": org_units["health"].pk})
    assert response.status_code == 302
    erp.refresh_from_db()
    assert erp.display_name == "ERP 同步" and erp.service_owner == org_units["health"]
    assert list(Membership.objects.filter(user=erp).values_list("department__code", flat=True)) == ["WJW"]
    assert Event.objects.filter(action="person.updated", target_id=str(erp.pk), details__display_name="ERP 同步")
    moved = Event.objects.get(action="service_account.moved", target_id=str(erp.pk))
    assert moved.details == {"department": org_units["health"].pk, "previous_department": org_units["tax"].pk}
    assert moved.actor == people["admin"]
    # Nothing changed: no event.
    count = Event.objects.count()
    admin.post(f"{LIST}{erp.pk}/edit/", {"display_name": "ERP 同步", "department": org_units["health"].pk})
    assert Event.objects.count() == count


def test_edit_with_bad_input_changes_nothing(admin, erp, org_units):
    count = Event.objects.count()
    response = admin.post(f"{LIST}{erp.pk}/edit/", {"display_name": "y" * 121, "department": org_units["hr"].pk})
    assert response.status_code == 422 and "display_name" in response.context["edit_errors"]
    response = admin.post(f"{LIST}{erp.pk}/edit/", {"display_name": "ERP", "department": "abc"})
    assert response.status_code == 422 and "department" in response.context["edit_errors"]
    erp.refresh_from_db()
    assert erp.service_owner == org_units["tax"] and Event.objects.count() == count


def test_deactivate_refuses_its_tokens_and_reactivate_restores_them(admin, people, erp):
    _token, secret = services.issue_token(None, erp, "nightly")
    assert _bearer(secret).status_code == 200
    assert admin.post(f"{LIST}{erp.pk}/active/", {"active": "0"}).status_code == 302
    refused = _bearer(secret)
    assert refused.status_code == 401 and "deactivated" in html_of(refused)
    assert Event.objects.filter(action="person.updated", target_id=str(erp.pk), details__is_active=False).exists()
    page = admin.get(f"{LIST}{erp.pk}/")
    assert "Reactivate" in html_of(page) and "Make a token" not in html_of(page)
    assert admin.post(f"{LIST}{erp.pk}/active/", {"active": "1"}).status_code == 302
    assert _bearer(secret).status_code == 200
    assert admin.post(f"{LIST}{erp.pk}/active/", {"active": "maybe"}).status_code == 422


def test_make_a_token_shown_once_and_revoke_it(admin, people, erp):
    page = f"{LIST}{erp.pk}/"
    response = admin.post(page, {"name": "ERP 夜间同步", "scopes": ["read"], "days": "30"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = response.context["secret"]
    assert secret.startswith("shr_") and secret in html_of(response)
    token = ApiToken.objects.get(user=erp)
    assert token.scopes == ["read"] and (token.expires_at - timezone.now()).days in (29, 30)
    assert Event.objects.filter(action="token.issued", target_id=str(erp.pk), actor=people["admin"]).exists()
    again = admin.get(page)
    assert secret not in html_of(again) and token.prefix in html_of(again)
    assert _bearer(secret).status_code == 200
    assert admin.post(f"{page}tokens/{token.pk}/revoke/").status_code == 302
    refused = _bearer(secret)
    assert refused.status_code == 401 and "revoked" in html_of(refused)
    assert Event.objects.filter(action="token.revoked", target_id=str(erp.pk), actor=people["admin"]).exists()


def test_a_token_of_someone_else_is_not_revoked_here(admin, people, erp):
    other, _secret = services.issue_token(None, people["tax_member"], "mine")
    assert admin.post(f"{LIST}{erp.pk}/tokens/{other.pk}/revoke/").status_code == 404
    other.refresh_from_db()
    assert other.revoked_at is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "scopes": ["read"], "days": "30"}, "name"),
        ({"name": "x", "scopes": ["read"], "days": "0"}, "days"),
        ({"name": "x", "scopes": ["no-such-scope"], "days": "30"}, "scopes"),
        ({"name": "x\x00y", "scopes": ["read"], "days": "30"}, "name"),
    ],
)
def test_bad_token_input_is_422(admin, erp, data, field):
    response = admin.post(f"{LIST}{erp.pk}/", data)
    assert response.status_code == 422 and field in response.context["errors"]
    assert response["Cache-Control"] == "no-store"
    assert not ApiToken.objects.filter(user=erp).exists()


def test_account_page_statement_count(admin, erp, django_assert_max_num_queries):
    services.issue_token(None, erp, "t0")
    with django_assert_max_num_queries(14) as one:
        assert admin.get(f"{LIST}{erp.pk}/").status_code == 200
    for n in range(1, 55):
        services.issue_token(None, erp, f"t{n}")
    with django_assert_max_num_queries(14) as many:
        assert admin.get(f"{LIST}{erp.pk}/").status_code == 200
    assert len(many.captured_queries) == len(one.captured_queries) == 10


def test_the_console_links_every_page(admin):
    html = html_of(admin.get("/manage/"))
    for href in (LIST, "/manage/sign-ins/", "/manage/settings/"):
        assert f'href="{href}"' in html


# --- organization settings ------------------------------------------------------------------------------


def test_admin_changes_the_access_settings(admin, people):
    response = admin.get("/manage/settings/")
    assert response.status_code == 200 and 'value="10"' in html_of(response)
    response = admin.post(
        "/manage/settings/", {"decision_working_days": "7", "reminder_working_days": "1", "expiry_notice_days": "14"}
    )
    assert response.status_code == 302
    current = AccessSettings.current()
    assert (current.decision_working_days, current.reminder_working_days, current.expiry_notice_days) == (7, 1, 14)
    event = Event.objects.get(action="access.settings_changed")
    assert event.actor == people["admin"]
    assert event.details == {"decision_working_days": 7, "reminder_working_days": 1, "expiry_notice_days": 14}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            {"decision_working_days": "0", "reminder_working_days": "1", "expiry_notice_days": "7"},
            "decision_working_days",
        ),
        (
            {"decision_working_days": "abc", "reminder_working_days": "1", "expiry_notice_days": "7"},
            "decision_working_days",
        ),
        (
            {"decision_working_days": "5", "reminder_working_days": "5", "expiry_notice_days": "7"},
            "reminder_working_days",
        ),
        (
            {"decision_working_days": "5", "reminder_working_days": "1", "expiry_notice_days": "-1"},
            "expiry_notice_days",
        ),
        ({"decision_working_days": "5", "reminder_working_days": "1"}, "expiry_notice_days"),
    ],
)
def test_bad_settings_are_422_at_the_field(admin, data, field):
    response = admin.post("/manage/settings/", data)
    assert response.status_code == 422 and field in response.context["errors"]
    assert "is-invalid" in html_of(response)
    current = AccessSettings.current()
    assert current.decision_working_days == 10
    assert not Event.objects.filter(action="access.settings_changed").exists()


def test_admin_sets_an_approval_rule(admin, people, org_units):
    tax, hr, health = org_units["tax"], org_units["hr"], org_units["health"]
    page = f"/manage/settings/approval/{tax.pk}/"
    assert admin.get(page).status_code == 200
    response = admin.post(page, {"head_for_outsiders": "on", "trusted": [hr.pk, health.pk]})
    assert response.status_code == 302
    rule = ApprovalRule.objects.get(department=tax)
    assert rule.head_for_outsiders
    assert set(rule.trusted_departments.values_list("pk", flat=True)) == {hr.pk, health.pk}
    event = Event.objects.get(action="access.approval_rule_set")
    assert event.actor == people["admin"]
    assert event.details == {"head_for_outsiders": True, "trusted_departments": sorted([hr.pk, health.pk])}
    listing = html_of(admin.get("/manage/settings/"))
    assert hr.name in listing
    # Saving the same again records nothing; turning it off does.
    admin.post(page, {"head_for_outsiders": "on", "trusted": [hr.pk, health.pk]})
    assert Event.objects.filter(action="access.approval_rule_set").count() == 1
    admin.post(page, {})
    rule.refresh_from_db()
    assert not rule.head_for_outsiders and not rule.trusted_departments.exists()
    assert Event.objects.filter(action="access.approval_rule_set").count() == 2


def test_bad_approval_rule_is_422(admin, org_units):
    page = f"/manage/settings/approval/{org_units['tax'].pk}/"
    response = admin.post(page, {"head_for_outsiders": "on", "trusted": ["999999"]})
    assert response.status_code == 422 and "trusted" in response.context["errors"]
    assert not ApprovalRule.objects.exists()
    assert admin.get("/manage/settings/approval/999999/").status_code == 404


def test_settings_page_statement_count(admin, org_units, django_assert_max_num_queries):
    from sharehub.access import services as access
    from tests import factories

    AccessSettings.current()  # the organization's row exists once anyone has looked
    access.set_approval_rule(None, org_units["tax"], head_for_outsiders=True, trusted_departments=[org_units["hr"]])
    with django_assert_max_num_queries(14) as one:
        assert admin.get("/manage/settings/").status_code == 200
    for n in range(60):
        department = factories.department(f"科室{n}", f"KS{n}")
        access.set_approval_rule(None, department, head_for_outsiders=True, trusted_departments=[org_units["hr"]])
    with django_assert_max_num_queries(14) as many:
        assert admin.get("/manage/settings/").status_code == 200
    assert len(many.captured_queries) == len(one.captured_queries) == 10
