"""The background sweep: grants expiring soon and expired, reminders before a deadline, escalation
when overdue, each recorded once and turned into notifications for the right people; access ends
at expiry whether or not the sweep ran."""

from __future__ import annotations

import contextlib
import io
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from unittest import mock

import pytest
from django.core.management import call_command

from sharehub.access import services
from sharehub.access.models import AccessRequest, AccessSettings, Grant
from sharehub.access.queries import RequestFilters, visible_requests
from sharehub.catalog.models import Resource
from sharehub.events import consumers
from sharehub.events.chain import verify_chain
from sharehub.events.models import Event
from sharehub.feeds.models import Notification
from sharehub.org.models import Membership
from sharehub.policy.engine import Action, can, visible
from tests import factories

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
MONDAY = date(2030, 1, 7)
T0 = datetime.combine(MONDAY, time(10, 0), tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.TIME_ZONE = "Asia/Shanghai"


@contextlib.contextmanager
def clock(moment: datetime):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def local(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def world(org_units, people):
    tax, health = org_units["tax"], org_units["health"]
    w = dict(people)
    w.update(org_units)
    w["tax_head"] = factories.member(tax, Membership.Role.HEAD, username="tax_head")
    w["health_colleague"] = factories.member(health, Membership.Role.MEMBER, username="health_colleague")
    w["doc"] = factories.resource(tax, by=people["tax_steward"], sharing_type="conditional", max_grant_days=90)
    w["head_only"] = factories.resource(
        tax, by=people["tax_steward"], sharing_type="conditional", requires_head_approval=True
    )
    return w


def request_at(world, moment: datetime, *, actor=None, resource=None, period_days: int = 10, **kwargs):
    with clock(moment):
        return services.create_request(
            actor or world["health_member"],
            resource or world["doc"],
            purpose="核验",
            use_category="verification",
            period_days=period_days,
            accept_terms=True,
            **kwargs,
        )


def grant_at(world, moment: datetime, period_days: int, **kwargs) -> Grant:
    request = request_at(world, moment, period_days=period_days, **kwargs)
    with clock(moment):
        services.approve_request(world["tax_steward"], request)
    return Grant.objects.get(request=request)


def sweep_at(moment: datetime) -> dict[str, int]:
    with clock(moment):
        return services.sweep()


def events(action: str, **target) -> list[Event]:
    queryset = Event.objects.filter(action=action).order_by("seq")
    if "grant" in target:
        queryset = queryset.filter(target_type="access.grant", target_id=str(target["grant"].pk))
    if "request" in target:
        queryset = queryset.filter(target_type="access.accessrequest", target_id=str(target["request"].pk))
    return list(queryset)


def notified(event: Event) -> set[int]:
    return set(Notification.objects.filter(event=event).values_list("recipient_id", flat=True))


def ids(*people) -> set[int]:
    return {p.pk for p in people}


# --- grants ----------------------------------------------------------------------------------------


def test_a_grant_within_the_notice_window_is_noted_expiring_once(world):
    grant = grant_at(world, T0, 5)
    assert AccessSettings.current().expiry_notice_days == 7
    assert sweep_at(T0 + timedelta(hours=1))["expiring"] == 1
    assert sweep_at(T0 + timedelta(hours=2))["expiring"] == 0
    assert sweep_at(T0 + timedelta(days=4))["expiring"] == 0
    (event,) = events("grant.expiring", grant=grant)
    assert event.actor_id is None
    assert event.details["recipients"] == [world["health_member"].pk]
    assert event.details["grant"] == grant.pk and event.details["resource_id"] == world["doc"].pk
    grant.refresh_from_db()
    assert grant.expiring_noted_at == T0 + timedelta(hours=1) and grant.expired_noted_at is None


def test_the_notice_window_edges(world):
    grant = grant_at(world, T0, 30)
    assert sweep_at(grant.valid_until - timedelta(days=7, microseconds=1)) == {
        "expiring": 0,
        "expired": 0,
        "reminded": 0,
        "escalated": 0,
    }
    assert sweep_at(grant.valid_until - timedelta(days=7))["expiring"] == 1
    assert len(events("grant.expiring", grant=grant)) == 1


def test_the_notice_window_follows_the_settings(world):
    AccessSettings.objects.update_or_create(pk=1, defaults={"expiry_notice_days": 1})
    grant = grant_at(world, T0, 5)
    assert sweep_at(T0 + timedelta(days=3))["expiring"] == 0
    assert sweep_at(grant.valid_until - timedelta(hours=23))["expiring"] == 1


def test_an_expired_grant_is_noted_once(world):
    grant = grant_at(world, T0, 5)
    sweep_at(T0 + timedelta(days=1))
    assert sweep_at(grant.valid_until - timedelta(microseconds=1))["expired"] == 0
    assert sweep_at(grant.valid_until)["expired"] == 1
    assert sweep_at(grant.valid_until + timedelta(days=1))["expired"] == 0
    assert sweep_at(grant.valid_until + timedelta(days=100)) == {
        "expiring": 0,
        "expired": 0,
        "reminded": 0,
        "escalated": 0,
    }
    assert len(events("grant.expiring", grant=grant)) == 1
    (event,) = events("grant.expired", grant=grant)
    assert event.details["recipients"] == [world["health_member"].pk]


def test_a_grant_that_expired_unseen_gets_only_the_expired_event(world):
    grant = grant_at(world, T0, 5)
    assert sweep_at(T0 + timedelta(days=30)) == {"expiring": 0, "expired": 1, "reminded": 0, "escalated": 0}
    assert sweep_at(T0 + timedelta(days=31))["expired"] == 0
    assert events("grant.expiring", grant=grant) == []
    assert len(events("grant.expired", grant=grant)) == 1


def test_a_revoked_grant_is_never_noted(world):
    grant = grant_at(world, T0, 5)
    with clock(T0 + timedelta(hours=1)):
        services.revoke_grant(world["tax_steward"], grant, reason="停止")
    assert sweep_at(T0 + timedelta(days=1))["expiring"] == 0
    assert sweep_at(T0 + timedelta(days=10))["expired"] == 0
    assert events("grant.expiring", grant=grant) == [] and events("grant.expired", grant=grant) == []


def test_a_department_grant_notes_reach_every_member_and_the_requester(world):
    grant = grant_at(world, T0, 3, for_department=world["health"])
    sweep_at(T0 + timedelta(hours=1))
    sweep_at(T0 + timedelta(days=3))
    consumers.run_pending()
    members = ids(world["health_member"], world["health_colleague"])
    for action in ("grant.expiring", "grant.expired"):
        (event,) = events(action, grant=grant)
        assert set(event.details["recipients"]) == members
        assert notified(event) == members


def test_access_ends_at_expiry_even_if_the_sweep_never_ran(world):
    grant = grant_at(world, T0, 5)
    member, doc = world["health_member"], world["doc"]
    readable = Resource.objects.filter(pk=doc.pk)
    for moment, allowed in [
        (grant.valid_until - timedelta(microseconds=1), True),
        (grant.valid_until, False),
        (grant.valid_until + timedelta(days=1), False),
    ]:
        assert bool(can(member, Action.READ, doc, now=moment)) is allowed, moment
        with clock(moment):
            assert bool(can(member, Action.READ, doc)) is allowed, moment
            assert visible(member, readable, Action.READ).exists() is allowed, moment
            assert can(member, Action.VIEW, doc)  # the entry stays visible
    assert not Event.objects.filter(action__in=["grant.expiring", "grant.expired"]).exists()
    assert Grant.objects.get(pk=grant.pk).expired_noted_at is None


# --- deadlines ---------------------------------------------------------------------------------------


def test_the_reminder_comes_once_within_the_reminder_days(world):
    request = request_at(world, T0)
    deadline = datetime.combine(date(2030, 1, 21), time.max, tzinfo=SHANGHAI)
    assert request.deadline_at == deadline
    assert sweep_at(local(date(2030, 1, 8)))["reminded"] == 0
    assert sweep_at(local(date(2030, 1, 16), 23, 59))["reminded"] == 0  # three working days left
    assert sweep_at(local(date(2030, 1, 17), 0, 1))["reminded"] == 1  # two left: 18 and 21 Jan
    assert sweep_at(local(date(2030, 1, 18)))["reminded"] == 0
    (event,) = events("access.reminder", request=request)
    assert set(event.details["recipients"]) == ids(world["tax_steward"], world["tax_head"])
    request.refresh_from_db()
    assert request.reminded_at is not None
    assert list(request.notes.values_list("kind", flat=True)) == ["submitted", "reminded"]


def test_a_request_at_the_head_step_reminds_the_head_only(world):
    request = request_at(world, T0, resource=world["head_only"])
    with clock(T0):
        services.approve_request(world["tax_steward"], request)
    sweep_at(local(date(2030, 1, 18)))
    (event,) = events("access.reminder", request=request)
    assert event.details["recipients"] == [world["tax_head"].pk]


def test_no_reminder_or_escalation_while_waiting_for_the_requester(world):
    request = request_at(world, T0)
    with clock(T0):
        services.ask_for_information(world["tax_steward"], request, question="？")
    assert sweep_at(local(date(2030, 1, 18)))["reminded"] == 0
    assert sweep_at(local(date(2030, 2, 28)))["escalated"] == 0
    assert events("access.reminder") == [] and events("access.escalated") == []


def test_decided_requests_are_neither_reminded_nor_escalated(world):
    approved = request_at(world, T0)
    rejected = request_at(world, T0, actor=world["health_colleague"])
    with clock(T0):
        services.approve_request(world["tax_steward"], approved)
        services.reject_request(world["tax_steward"], rejected, reason="否")
    assert sweep_at(local(date(2030, 1, 18)))["reminded"] == 0
    assert sweep_at(local(date(2030, 3, 1)))["escalated"] == 0
    assert events("access.reminder") == [] and events("access.escalated") == []


def test_an_answer_moves_the_deadline_and_allows_a_new_reminder(world):
    request = request_at(world, T0)
    sweep_at(local(date(2030, 1, 17)))
    with clock(local(date(2030, 1, 17), 11)):
        services.ask_for_information(world["tax_steward"], request, question="？")
    with clock(local(date(2030, 1, 22))):  # 18, 21, 22 Jan waited
        services.give_information(world["health_member"], request, answer="好")
    request.refresh_from_db()
    assert request.deadline_at == datetime.combine(date(2030, 1, 24), time.max, tzinfo=SHANGHAI)
    assert request.reminded_at is None
    assert sweep_at(local(date(2030, 1, 22), 12))["reminded"] == 1
    assert len(events("access.reminder", request=request)) == 2
    assert sweep_at(local(date(2030, 1, 24), 23))["escalated"] == 0
    assert sweep_at(local(date(2030, 1, 25), 0, 0))["escalated"] == 1


def test_an_overdue_request_is_escalated_to_heads_and_admins_once(world):
    request = request_at(world, T0)
    deadline = request.deadline_at
    assert sweep_at(deadline - timedelta(microseconds=1))["escalated"] == 0
    assert sweep_at(deadline)["escalated"] == 1
    assert sweep_at(deadline + timedelta(days=3))["escalated"] == 0
    (event,) = events("access.escalated", request=request)
    assert set(event.details["recipients"]) == ids(world["tax_head"], world["admin"])
    assert event.actor_id is None
    request.refresh_from_db()
    assert request.status == AccessRequest.Status.PENDING and request.escalated_at == deadline
    # Admins find it among the overdue requests.
    with clock(deadline + timedelta(days=3)):
        assert list(visible_requests(world["admin"], RequestFilters(overdue=True))) == [request]
        assert list(visible_requests(world["tax_steward"], RequestFilters(overdue=True))) == [request]
        assert list(visible_requests(world["hr_head"], RequestFilters(overdue=True))) == []


def test_notifications_reach_the_right_people(world):
    request = request_at(world, T0)
    grant = grant_at(world, T0, 3, actor=world["health_colleague"])
    sweep_at(T0 + timedelta(hours=1))  # the grant expires soon
    sweep_at(T0 + timedelta(days=3))  # ... and has expired
    sweep_at(local(date(2030, 1, 17)))  # the request is due soon
    sweep_at(local(date(2030, 1, 22)))  # ... and overdue
    consumers.run_pending()
    stewards = ids(world["tax_steward"], world["tax_head"])
    expected = {
        ("access.reminder", request.pk): stewards,
        ("access.escalated", request.pk): ids(world["tax_head"], world["admin"]),
        ("grant.expiring", grant.pk): ids(world["health_colleague"]),
        ("grant.expired", grant.pk): ids(world["health_colleague"]),
    }
    for (action, target), people in expected.items():
        (event,) = [e for e in events(action) if e.target_id == str(target)]
        assert notified(event) == people, action
    # Nobody else heard of the sweep's events; a second run delivers nothing twice.
    sweep_events = Event.objects.filter(action__in=[a for a, _ in expected])
    before = Notification.objects.filter(event__in=sweep_events).count()
    assert before == sum(len(p) for p in expected.values())
    consumers.run_pending()
    assert Notification.objects.filter(event__in=sweep_events).count() == before
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_the_worker_command_runs_one_round(world):
    grant = grant_at(world, T0, 2)
    request = request_at(world, T0, actor=world["health_colleague"])
    out = io.StringIO()
    with clock(T0 + timedelta(days=30)):
        call_command("worker", "--once", stdout=out)
    lines = out.getvalue().splitlines()
    assert any(line.startswith("log readers:") for line in lines), lines
    assert "access sweep: {'expiring': 0, 'expired': 1, 'reminded': 0, 'escalated': 1}" in lines
    (expired,) = events("grant.expired", grant=grant)
    (escalated,) = events("access.escalated", request=request)
    # The log readers ran after the sweep committed, so its events are already notifications.
    assert notified(expired) == ids(world["health_member"])
    assert notified(escalated) == ids(world["tax_head"], world["admin"])
    out = io.StringIO()
    with clock(T0 + timedelta(days=31)):
        call_command("worker", "--once", stdout=out)
    assert "access sweep: {'expiring': 0, 'expired': 0, 'reminded': 0, 'escalated': 0}" in out.getvalue()
    assert verify_chain().ok
