"""An open question nobody answered for N working days is escalated once to the heads of the department
asked, by the worker's periodic job, on a frozen clock (as the access sweep's tests move time)."""

from __future__ import annotations

import contextlib
import zoneinfo
from datetime import UTC, date, datetime, time
from unittest import mock

import pytest

from sharehub import worker
from sharehub.access.models import CalendarDay
from sharehub.events import consumers
from sharehub.events.models import Event
from sharehub.feeds.models import Notification
from sharehub.knowledge import qa
from sharehub.org.models import Membership
from tests import factories

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
MONDAY = date(2030, 1, 7)


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.TIME_ZONE = "Asia/Shanghai"


@contextlib.contextmanager
def clock(moment: datetime):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def local(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI).astimezone(UTC)


def day(offset: int) -> date:
    return date.fromordinal(MONDAY.toordinal() + offset)


@pytest.fixture
def world(org_units, people):
    w = dict(people)
    w.update(org_units)
    w["tax_head"] = factories.member(org_units["tax"], Membership.Role.HEAD, username="tax_head")
    return w


def ask_at(world, moment, **kwargs):
    kwargs.setdefault("title", "无人回答的问题")
    kwargs.setdefault("department", world["tax"])
    with clock(moment):
        return qa.ask_question(world["health_member"], **kwargs)


def sweep_at(moment) -> int:
    with clock(moment):
        return qa.escalate_unanswered()


def test_escalated_once_after_three_working_days_to_the_heads(world):
    question = ask_at(world, local(MONDAY))
    assert sweep_at(local(day(2), 18)) == 0  # Wednesday: two working days
    assert sweep_at(local(day(3), 9)) == 1  # Thursday: the third
    question.refresh_from_db()
    assert question.escalated_at == local(day(3), 9)
    event = Event.objects.get(action="question.escalated")
    assert event.details["recipients"] == [world["tax_head"].pk]
    assert event.details["days"] == 3 and event.actor_id is None
    assert sweep_at(local(day(10))) == 0  # once
    consumers.run_pending()
    note = Notification.objects.get(event=event)
    assert note.recipient_id == world["tax_head"].pk


def test_weekends_and_holidays_do_not_count(world):
    friday = day(4)
    ask_at(world, local(friday))
    assert sweep_at(local(day(8))) == 0  # Monday, Tuesday: two
    CalendarDay.objects.create(date=day(9), is_working_day=False, name="假日", source="local")
    assert sweep_at(local(day(9), 20)) == 0  # Wednesday is a holiday
    assert sweep_at(local(day(10))) == 1


def test_answered_closed_and_tag_only_questions_are_not_escalated(world):
    answered = ask_at(world, local(MONDAY), title="有人答了")
    qa.answer_question(world["tax_steward"], answered, "答")
    closed = ask_at(world, local(MONDAY), title="关了")
    qa.close_question(world["health_member"], closed)
    factories.resource(world["tax"], by=world["tax_steward"], tags=["社保"])
    ask_at(world, local(MONDAY), title="只问标签", department=None, tag="社保")
    assert sweep_at(local(day(14))) == 0
    assert not Event.objects.filter(action="question.escalated").exists()


def test_a_question_about_a_resource_goes_to_the_owner_departments_heads(world):
    doc = factories.resource(world["hr"], by=world["hr_head"])
    ask_at(world, local(MONDAY), department=None, resource=doc.code)
    assert sweep_at(local(day(3))) == 1
    assert Event.objects.get(action="question.escalated").details["recipients"] == [world["hr_head"].pk]


def test_a_department_without_heads_escalates_to_its_stewards(world):
    ask_at(world, local(MONDAY), department=world["health"])
    steward = factories.member(world["health"], Membership.Role.STEWARD, username="health_steward")
    assert sweep_at(local(day(3))) == 1
    assert Event.objects.get(action="question.escalated").details["recipients"] == [steward.pk]


def test_the_number_of_days_is_a_setting(world, settings):
    settings.SHAREHUB_QUESTION_ESCALATION_DAYS = 1
    ask_at(world, local(MONDAY))
    assert sweep_at(local(day(0), 23)) == 0
    assert sweep_at(local(day(1))) == 1
    settings.SHAREHUB_QUESTION_ESCALATION_DAYS = "nonsense"
    assert qa.escalation_days() == qa.DEFAULT_ESCALATION_DAYS


def test_the_worker_runs_the_job(world):
    assert "question escalation" in worker._periodic
    ask_at(world, local(MONDAY))
    with clock(local(day(7))):  # the job as the worker calls it (other apps' jobs are their tests' business)
        assert worker._periodic["question escalation"]() == 1
