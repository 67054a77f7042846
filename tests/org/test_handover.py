"""Deactivation with a handover (/manage/people/<id>/deactivate/, sharehub.org.handover): what the person holds,
the successors and their checks, and the one transaction that passes everything on and deactivates them."""

from __future__ import annotations

import pytest
from django.test import Client

from sharehub.access import services as access
from sharehub.access.models import AccessRequest, Grant
from sharehub.catalog.models import Resource
from sharehub.errors import Conflict
from sharehub.events.models import Event
from sharehub.org import handover, services
from sharehub.org.models import ApiToken, Membership, User
from tests import factories

pytestmark = pytest.mark.django_db

VALUES = {"purpose": "核验", "use_category": "verification", "period_days": 30, "accept_terms": True}


@pytest.fixture
def leaver(org_units, people):
    """tax_steward, 税务局's only steward: stewards a conditional resource someone asked for, holds a grant
    and an open request of their own at 卫健委, and an API token."""
    steward = people["tax_steward"]
    tax_resource = factories.resource(
        org_units["tax"], by=steward, title="企业纳税明细", sharing_type="conditional", conditions="核验"
    )
    waiting = access.create_request(people["health_member"], tax_resource, **VALUES)
    health_steward = factories.member(org_units["health"], "steward", username="health_steward")
    granted = factories.resource(org_units["health"], by=health_steward, sharing_type="conditional", title="疫苗台账")
    asked = factories.resource(org_units["health"], by=health_steward, sharing_type="conditional", title="床位数据")
    access.approve_request(health_steward, access.create_request(steward, granted, **VALUES))
    own = access.create_request(steward, asked, **VALUES)
    token, _secret = services.issue_token(None, steward, "nightly export")
    return {
        "person": steward,
        "resource": tax_resource,
        "waiting": waiting,
        "own": own,
        "grant": Grant.objects.get(grantee_user=steward),
        "token": token,
    }


def _url(person) -> str:
    return f"/manage/people/{person.pk}/deactivate/"


def test_step_one_lists_what_the_person_holds(leaver, people, client_for):
    response = client_for(people["admin"]).get(_url(leaver["person"]))
    assert response.status_code == 200
    found = response.context["found"]
    counts = {h.part.key: h.count for h in found.holdings}
    assert counts == {
        "departments": 1,
        "resources": 1,
        "waiting_requests": 1,
        "own_requests": 1,
        "grants": 1,
        "webhooks": 0,
        "follows": counts["follows"],
        "tokens": 1,
    }
    html = response.content.decode()
    assert "税务局" in html and "the only steward" in html and "企业纳税明细" in html and "nightly export" in html
    assert found.needs_successor


def test_a_successor_must_be_an_active_member_of_the_department(leaver, people, client_for, org_units):
    client = client_for(people["admin"])
    person = leaver["person"]
    response = client.post(_url(person), {"step": "2", "successor": people["health_member"].pk})
    assert response.status_code == 422
    errors = response.context["errors"]
    assert "is not a member of 税务局" in errors[f"department-{org_units['tax'].pk}"]
    assert f"resource-{leaver['resource'].pk}" in errors
    response = client.post(_url(person), {"step": "2"})
    assert response.status_code == 422 and "Choose who takes over in 税务局" in response.content.decode()
    services.update_person(None, people["tax_member"], is_active=False)
    response = client.post(_url(person), {"step": "2", "successor": people["tax_member"].pk})
    assert response.status_code == 422 and "successor" in response.context["errors"]
    response = client.post(_url(person), {"step": "2", "successor": "x\x00", "reason": "r" * 501})
    assert response.status_code == 422 and {"successor", "reason"} <= set(response.context["errors"])
    person.refresh_from_db()
    assert person.is_active


def test_the_handover_end_to_end(leaver, people, client_for, org_units):
    person, successor = leaver["person"], people["tax_member"]
    own_session = client_for(person)
    assert own_session.get("/").status_code == 200
    client = client_for(people["admin"])
    confirm = client.post(_url(person), {"step": "2", "successor": successor.pk, "reason": "调岗"})
    assert confirm.status_code == 200 and confirm.context["step"] == 3
    assert "Hand over and deactivate" in confirm.content.decode()
    assert not Membership.objects.filter(user=successor, role="steward").exists()  # nothing happened yet
    last = Event.objects.order_by("-seq").values_list("seq", flat=True).first()

    done = client.post(_url(person), {**confirm.context["hidden"], "step": "3"})
    assert done.status_code == 302

    assert Membership.objects.get(user=successor, department=org_units["tax"]).role == "steward"
    assert Resource.objects.get(pk=leaver["resource"].pk).steward_id == successor.pk
    assert AccessRequest.objects.get(pk=leaver["own"].pk).status == "withdrawn"
    assert AccessRequest.objects.get(pk=leaver["waiting"].pk).status == "pending"  # now the successor's to decide
    grant = Grant.objects.get(pk=leaver["grant"].pk)
    assert grant.revoked_at is not None and grant.revoke_reason == "调岗"
    assert ApiToken.objects.get(pk=leaver["token"].pk).revoked_at is not None
    person.refresh_from_db()
    assert not person.is_active
    assert Membership.objects.filter(user=person).exists()  # kept for the record

    actions = list(Event.objects.filter(seq__gt=last).order_by("seq").values_list("action", flat=True))
    for action in (
        "membership.set",
        "resource.updated",
        "access.withdrawn",
        "grant.revoked",
        "token.revoked",
        "person.updated",
        "person.handed_over",
    ):
        assert action in actions, action
    summary = Event.objects.get(action="person.handed_over")
    assert summary.details["successors"] == [successor.pk] and summary.details["counts"]["grants"] == 1

    assert own_session.get("/").status_code == 302  # the session ended with the account
    sign_in = Client().post("/accounts/login/", {"username": person.username, "password": factories.PASSWORD})
    assert sign_in.status_code == 200  # the form again, not signed in
    assert client.get(_url(person)).status_code == 302  # already deactivated: back to their page


def test_one_successor_per_department_and_resource(leaver, people, client_for, org_units):
    person = leaver["person"]
    other = factories.member(org_units["tax"], "head", username="tax_head")
    client = client_for(people["admin"])
    data = {
        "step": "2",
        f"department-{org_units['tax'].pk}": people["tax_member"].pk,
        f"resource-{leaver['resource'].pk}": other.pk,
    }
    confirm = client.post(_url(person), data)
    assert confirm.status_code == 200
    assert client.post(_url(person), {**confirm.context["hidden"], "step": "3"}).status_code == 302
    assert Membership.objects.get(user=people["tax_member"], department=org_units["tax"]).role == "steward"
    assert Membership.objects.get(user=other, department=org_units["tax"]).role == "head"  # a head stays head
    assert Resource.objects.get(pk=leaver["resource"].pk).steward_id == other.pk


def test_two_admins_deactivating_the_same_person_the_second_is_told(leaver, people):
    person, successor = leaver["person"], people["tax_member"]
    second_admin = factories.person("admin2", admin=True)
    stale = User.objects.get(pk=person.pk)
    handover.hand_over(people["admin"], person, handover.Plan(successor=successor))
    with pytest.raises(Conflict, match="was deactivated meanwhile"):
        handover.hand_over(second_admin, stale, handover.Plan(successor=successor))
    assert Event.objects.filter(action="person.handed_over").count() == 1


def test_the_page_tells_the_second_admin(leaver, people, client_for):
    person = leaver["person"]
    client = client_for(people["admin"])
    confirm = client.post(_url(person), {"step": "2", "successor": people["tax_member"].pk})
    handover.hand_over(people["admin"], person, handover.Plan(successor=people["tax_member"]))
    response = client.post(_url(person), {**confirm.context["hidden"], "step": "3"}, follow=True)
    assert "already deactivated" in response.content.decode()


def test_someone_holding_only_tokens_is_deactivated_without_successors(people, client_for):
    person = people["health_member"]
    services.issue_token(None, person, "script")
    client = client_for(people["admin"])
    step_one = client.get(_url(person))
    assert not step_one.context["found"].needs_successor
    confirm = client.post(_url(person), {"step": "2"})
    assert confirm.status_code == 200 and confirm.context["step"] == 3
    assert client.post(_url(person), {"step": "3"}).status_code == 302
    assert not User.objects.get(pk=person.pk).is_active
    assert not ApiToken.objects.filter(user=person, revoked_at__isnull=True).exists()


def test_leave_counts_in_a_dry_run_and_changes_nothing(leaver):
    person = leaver["person"]
    counts = handover.leave(None, person, reason="left", dry_run=True)
    assert counts["grants"] == 1 and counts["tokens"] == 1 and counts["own_requests"] == 1
    person.refresh_from_db()
    assert person.is_active


def test_leaving_turns_off_their_webhooks(people):
    from django.utils import timezone

    from sharehub.feeds.models import WebhookEndpoint

    person = people["tax_member"]
    endpoint = WebhookEndpoint.objects.create(
        owner=person,
        url="https://hooks.example.org/in",
        event_types=["resource."],
        secret="",
        created_at=timezone.now(),
    )
    assert handover.holdings(people["admin"], person).of("webhooks").count == 1
    counts = handover.leave(people["admin"], person, reason="left")
    endpoint.refresh_from_db()
    assert counts["webhooks"] == 1 and not endpoint.active and endpoint.disabled_reason
    assert Event.objects.filter(action="webhook.changed", target_id=str(endpoint.pk)).exists()
