"""The people console (/manage/people/): the list with its filters, bulk changes (to all or to none, one event
per person changed), one person's page, and the protections of one's own and the last admin role."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sharehub.events.models import Event
from sharehub.org import services
from sharehub.org.models import Membership, User
from tests import factories

pytestmark = pytest.mark.django_db

LIST = "/manage/people/"


def _names(response) -> list[str]:
    return [row["person"].username for row in response.context["rows"]]


@pytest.fixture
def admin_client(people, client_for):
    return client_for(people["admin"])


def test_the_console_is_404_for_anyone_but_an_admin(people, client_for):
    target = people["tax_member"]
    routes = [
        ("get", LIST),
        ("post", LIST),
        ("get", f"{LIST}{target.pk}/"),
        ("post", f"{LIST}{target.pk}/profile/"),
        ("post", f"{LIST}{target.pk}/memberships/"),
        ("post", f"{LIST}{target.pk}/roles/"),
        ("post", f"{LIST}{target.pk}/password/"),
        ("post", f"{LIST}{target.pk}/reactivate/"),
        ("get", f"{LIST}{target.pk}/deactivate/"),
        ("post", f"{LIST}{target.pk}/deactivate/"),
    ]
    for who in ("auditor", "hr_head", "tax_steward"):
        client = client_for(people[who])
        for method, url in routes:
            assert getattr(client, method)(url).status_code == 404, (who, method, url)
    assert client_for(people["admin"]).get(f"{LIST}99999/").status_code == 404
    target.refresh_from_db()
    assert target.is_active


def test_the_list_shows_departments_roles_and_how_people_sign_in(admin_client, people, org_units):
    User.objects.filter(pk=people["tax_steward"].pk).update(last_login=timezone.now())
    services.set_password(None, people["health_member"], None)
    response = admin_client.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "税务局 · steward" in html and "社会保险中心 · member" in html
    assert "Last sign-in" in html and "never signed in" in html
    ways = {row["person"].username: row["ways"] for row in response.context["rows"]}
    assert ways["tax_member"] == ["password"] and ways["health_member"] == []
    assert 'data-check-all="#bulk-form input[name=ids]"' in html


def test_filters_by_text_department_with_sub_departments_role_org_role_status_and_kind(admin_client, people, org_units):
    services.create_service_account(None, department=org_units["hr"], username="hr-erp")
    services.update_person(None, people["health_member"], is_active=False)
    assert "hr-erp" not in _names(admin_client.get(LIST))  # persons by default
    assert "hr-erp" in _names(admin_client.get(LIST, {"kind": "service"}))
    assert _names(admin_client.get(LIST, {"q": "TAX_"})) == ["tax_member", "tax_steward"]
    hr = _names(admin_client.get(LIST, {"department": org_units["hr"].pk}))
    assert hr == ["hr_head", "social_member"]  # 社保中心 is under 人社局
    assert _names(admin_client.get(LIST, {"department": org_units["hr"].pk, "role": "head"})) == ["hr_head"]
    assert _names(admin_client.get(LIST, {"role": "steward"})) == ["tax_steward"]
    assert _names(admin_client.get(LIST, {"org_role": "auditor"})) == ["auditor"]
    assert _names(admin_client.get(LIST, {"status": "deactivated"})) == ["health_member"]
    assert "health_member" not in _names(admin_client.get(LIST, {"status": "active"}))
    odd = admin_client.get(LIST, {"department": "x" * 300, "role": "king", "sort": "?", "q": "a\x00b"})
    assert odd.status_code == 200


def test_sorting_by_last_sign_in(admin_client, people):
    now = timezone.now()
    User.objects.filter(pk=people["hr_head"].pk).update(last_login=now)
    User.objects.filter(pk=people["tax_member"].pk).update(last_login=now - timezone.timedelta(days=3))
    latest = _names(admin_client.get(LIST, {"sort": "-last_login"}))
    assert latest[:3] == ["hr_head", "admin", "tax_member"]  # the admin signed in when the test began
    assert _names(admin_client.get(LIST, {"sort": "-name"}))[0] == "tax_steward"


def _statements(client, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(LIST, params).status_code == 200
    return len(queries)


def test_the_list_runs_the_same_statements_for_a_few_people_as_for_a_full_page(admin_client, org_units):
    few = _statements(admin_client)
    for n in range(60):
        factories.person(f"many{n:02}", departments={org_units["tax"]: "member", org_units["social"]: "member"})
    many = _statements(admin_client)
    filtered = _statements(admin_client, department=org_units["tax"].pk, role="member", q="many", page="2")
    assert few == many == filtered
    assert many <= 12


def _bulk(client, people, action, **fields):
    data = {"ids": [p.pk for p in people], "action": action, **fields}
    return client.post(LIST + "?status=active", data)


def test_bulk_add_to_a_department_applies_to_all_with_an_event_each(admin_client, people, org_units):
    chosen = [people["tax_member"], people["health_member"]]
    last = Event.objects.order_by("-seq").values_list("seq", flat=True).first()
    response = _bulk(admin_client, chosen, "add", bulk_department=org_units["social"].pk, bulk_role="member")
    assert response.status_code == 302 and response["Location"].endswith("?status=active")
    for person in chosen:
        assert Membership.objects.filter(user=person, department=org_units["social"], role="member").exists()
    added = Event.objects.filter(seq__gt=last)
    assert {e.action for e in added} == {"membership.set"}
    assert sorted(int(e.target_id) for e in added) == sorted(p.pk for p in chosen)


def test_bulk_change_of_role_refuses_all_when_one_person_is_not_a_member(admin_client, people, org_units):
    before = Event.objects.count()
    chosen = [people["tax_member"], people["health_member"]]
    response = _bulk(admin_client, chosen, "set_role", bulk_department=org_units["tax"].pk, bulk_role="steward")
    assert response.status_code == 422
    refused = {p.username: why for p, why in response.context["refused"]}
    assert list(refused) == ["health_member"] and "Not a member of 税务局" in refused["health_member"]
    assert Membership.objects.get(user=people["tax_member"], department=org_units["tax"]).role == "member"
    assert Event.objects.count() == before  # nothing half-done


def test_bulk_input_errors_name_the_field(admin_client, people):
    response = _bulk(admin_client, [people["tax_member"]], "add", bulk_department="", bulk_role="member")
    assert response.status_code == 422 and "bulk_department" in response.context["errors"]
    response = _bulk(admin_client, [people["tax_member"]], "fly")
    assert response.status_code == 422 and "action" in response.context["errors"]
    response = _bulk(admin_client, [], "make_auditor")
    assert response.status_code == 422 and "ids" in response.context["errors"]


def test_bulk_remove_auditor_and_reactivate(admin_client, people, org_units):
    chosen = [people["tax_member"], people["tax_steward"]]
    assert _bulk(admin_client, chosen, "remove", bulk_department=org_units["tax"].pk).status_code == 302
    assert not Membership.objects.filter(department=org_units["tax"]).exists()
    assert _bulk(admin_client, chosen, "make_auditor").status_code == 302
    assert all(User.objects.get(pk=p.pk).is_auditor for p in chosen)
    assert Event.objects.filter(action="person.roles_changed", details__auditor=True).count() == 2
    services.update_person(None, people["tax_member"], is_active=False)
    assert _bulk(admin_client, chosen, "reactivate").status_code == 302
    assert User.objects.get(pk=people["tax_member"].pk).is_active


def test_bulk_deactivation_sends_who_holds_something_to_the_handover(admin_client, people):
    chosen = [people["tax_member"], people["tax_steward"]]  # the steward is 税务局's only steward
    response = _bulk(admin_client, chosen, "deactivate")
    assert response.status_code == 422
    assert [p.username for p, _why in response.context["refused"]] == ["tax_steward"]
    assert f"/manage/people/{people['tax_steward'].pk}/deactivate/" in response.content.decode()
    assert User.objects.get(pk=people["tax_member"].pk).is_active  # nobody changed
    token, _secret = services.issue_token(None, people["tax_member"], "script")
    assert _bulk(admin_client, [people["tax_member"]], "deactivate").status_code == 302
    member = User.objects.get(pk=people["tax_member"].pk)
    token.refresh_from_db()
    assert not member.is_active and token.revoked_at is not None


def test_bulk_deactivation_of_both_co_stewards_is_refused(admin_client, people, org_units, client_for):
    second = factories.member(org_units["tax"], username="co_steward", role="steward")
    signed_in = client_for(second)
    chosen = [people["tax_steward"], second]  # neither alone is the only steward; together they are all of them
    response = _bulk(admin_client, chosen, "deactivate")
    assert response.status_code == 422
    assert {p.username for p, _why in response.context["refused"]} == {"tax_steward", "co_steward"}
    assert "without a steward or head" in response.content.decode()
    assert User.objects.filter(pk__in=[u.pk for u in chosen], is_active=True).count() == 2  # nobody changed
    assert _bulk(admin_client, [second], "deactivate").status_code == 302
    assert signed_in.get("/tokens/").status_code == 302  # a deactivated account's session signs no one in


def test_an_admin_cannot_deactivate_themselves_or_the_last_admin(admin_client, people, client_for):
    admin = people["admin"]
    response = _bulk(admin_client, [admin], "deactivate")
    assert response.status_code == 422 and "cannot deactivate yourself" in response.content.decode()
    assert "cannot deactivate yourself" in admin_client.get(f"{LIST}{admin.pk}/deactivate/").content.decode()
    response = admin_client.post(f"{LIST}{admin.pk}/roles/", {"is_auditor": "on"})
    assert response.status_code == 422 and "own admin role" in response.context["errors"]["is_org_admin"]
    other = factories.person("admin2", admin=True)
    services.update_person(None, other, is_active=False)
    assert User.objects.get(pk=admin.pk).is_org_admin
    second = factories.person("admin3", admin=True)
    response = client_for(second).post(f"{LIST}{admin.pk}/roles/", {})
    assert response.status_code == 302  # admin3 is still an admin, so admin may lose the role
    response = admin_client.post(f"{LIST}{second.pk}/roles/", {})
    assert response.status_code == 404  # admin is no admin any more
    third = factories.person("admin4", admin=True)
    services.update_person(None, third, is_active=False)
    response = client_for(second).post(f"{LIST}{second.pk}/roles/", {})
    assert response.status_code == 422


def test_the_last_active_admin_cannot_lose_the_role(people):
    admin = people["admin"]
    assert "last active admin" in services.admin_role_refusal(None, admin, is_org_admin=False)


def test_the_person_page_edits_profile_memberships_roles_and_password(admin_client, people, org_units):
    person = people["tax_member"]
    url = f"{LIST}{person.pk}/"
    page = admin_client.get(url)
    assert page.status_code == 200 and f"/tokens/all/?owner={person.username}" in page.content.decode()
    response = admin_client.post(
        url + "profile/", {"display_name": "王芳", "email": "wang@example.org", "language": "en"}
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.display_name, person.email, person.language) == ("王芳", "wang@example.org", "en")
    assert Event.objects.filter(action="person.updated", details__language="en").exists()
    bad = admin_client.post(url + "profile/", {"display_name": "x", "email": "not-an-email", "language": "xx"})
    assert bad.status_code == 422 and set(bad.context["errors"]) == {"email"}
    bad_language = admin_client.post(url + "profile/", {"display_name": "x", "email": "", "language": "xx"})
    assert bad_language.status_code == 422 and "language" in bad_language.context["errors"]
    person.refresh_from_db()
    assert person.display_name == "王芳"  # nothing half-saved

    social = org_units["social"]
    assert (
        admin_client.post(url + "memberships/", {"op": "add", "department": social.pk, "role": "steward"}).status_code
        == 302
    )
    assert Membership.objects.get(user=person, department=social).role == "steward"
    assert (
        admin_client.post(url + "memberships/", {"op": "set", "department": social.pk, "role": "head"}).status_code
        == 302
    )
    assert Membership.objects.get(user=person, department=social).role == "head"
    bad = admin_client.post(url + "memberships/", {"op": "set", "department": social.pk, "role": "king"})
    assert bad.status_code == 422 and "role" in bad.context["errors"]
    bad = admin_client.post(url + "memberships/", {"op": "add", "department": "", "role": "member"})
    assert bad.status_code == 422 and "department" in bad.context["errors"]
    assert admin_client.post(url + "memberships/", {"op": "remove", "department": social.pk}).status_code == 302
    assert not Membership.objects.filter(user=person, department=social).exists()

    assert admin_client.post(url + "roles/", {"is_auditor": "on"}).status_code == 302
    person.refresh_from_db()
    assert person.is_auditor and not person.is_org_admin

    weak = admin_client.post(url + "password/", {"password": "123"})
    assert weak.status_code == 422 and "password" in weak.context["errors"]
    assert admin_client.post(url + "password/", {"password": "a-long-new-passphrase-7"}).status_code == 302
    person.refresh_from_db()
    assert person.check_password("a-long-new-passphrase-7")


def test_the_pages_speak_chinese(admin_client, people):
    html = admin_client.get(LIST, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "资源管理员" in html and "组织管理" in html and "最近登录" in html
    html = admin_client.get(f"{LIST}{people['tax_steward'].pk}/deactivate/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "唯一的资源管理员" in html.content.decode()
