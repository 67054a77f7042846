"""Working-day arithmetic (design invariant 7: deadlines count working days): weekends, configured
holidays, worked weekend days (调休), the organization's time zone, and the request deadline that
pauses while the requester is asked for more information."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from unittest import mock

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sharehub.access import calendar, services
from sharehub.access.calendar import add_working_days, working_days_between
from sharehub.access.models import AccessSettings, CalendarDay
from tests import factories

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _organization_zone(settings):
    settings.TIME_ZONE = "Asia/Shanghai"


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A moment on `day` in the organization's zone."""
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=SHANGHAI)


def holiday(day: date, name: str = "假日") -> CalendarDay:
    return CalendarDay.objects.create(date=day, is_working_day=False, name=name)


def worked(day: date, name: str = "调休上班") -> CalendarDay:
    return CalendarDay.objects.create(date=day, is_working_day=True, name=name)


MONDAY = date(2025, 1, 6)
FRIDAY = date(2025, 1, 10)
SATURDAY = date(2025, 1, 11)
SUNDAY = date(2025, 1, 12)


def spring_festival_2025() -> None:
    """The 2025 Spring Festival as the State Council published it: 28 Jan - 4 Feb off, with Sunday
    26 Jan and Saturday 8 Feb worked."""
    for day in (date(2025, 1, 28), date(2025, 1, 29), date(2025, 1, 30), date(2025, 1, 31)):
        holiday(day, "春节")
    for day in (date(2025, 2, 3), date(2025, 2, 4)):
        holiday(day, "春节")
    worked(date(2025, 1, 26), "春节调休")
    worked(date(2025, 2, 8), "春节调休")


# --- add_working_days -------------------------------------------------------------------------


def test_zero_days_is_the_end_of_the_same_day():
    assert add_working_days(at(MONDAY, 9), 0) == end_of(MONDAY)
    # Zero counts no day at all, so even a Saturday stays a Saturday.
    assert add_working_days(at(SATURDAY, 9), 0) == end_of(SATURDAY)


def test_within_a_week():
    assert add_working_days(at(MONDAY), 1) == end_of(MONDAY + timedelta(days=1))
    assert add_working_days(at(MONDAY), 4) == end_of(FRIDAY)


def test_across_a_weekend():
    assert add_working_days(at(FRIDAY), 1) == end_of(date(2025, 1, 13))  # Monday
    assert add_working_days(at(date(2025, 1, 9)), 2) == end_of(date(2025, 1, 13))  # Thursday + 2
    assert add_working_days(at(MONDAY), 5) == end_of(date(2025, 1, 13))
    assert add_working_days(at(MONDAY), 10) == end_of(date(2025, 1, 20))


def test_starting_on_a_weekend_counts_from_the_next_working_day():
    assert add_working_days(at(SATURDAY), 1) == end_of(date(2025, 1, 13))
    assert add_working_days(at(SUNDAY), 1) == end_of(date(2025, 1, 13))
    assert add_working_days(at(SUNDAY), 5) == end_of(date(2025, 1, 17))


def test_a_holiday_on_a_weekday_is_skipped():
    holiday(date(2025, 1, 8))  # Wednesday
    assert add_working_days(at(MONDAY), 1) == end_of(date(2025, 1, 7))
    assert add_working_days(at(MONDAY), 2) == end_of(date(2025, 1, 9))
    assert add_working_days(at(MONDAY), 4) == end_of(date(2025, 1, 13))


def test_a_worked_saturday_counts():
    worked(SATURDAY)
    assert add_working_days(at(FRIDAY), 1) == end_of(SATURDAY)
    assert add_working_days(at(FRIDAY), 2) == end_of(date(2025, 1, 13))
    assert add_working_days(at(MONDAY), 10) == end_of(date(2025, 1, 17))


def test_spring_festival_with_its_worked_weekend_days():
    spring_festival_2025()
    # Friday 24 Jan: Sunday 26 (worked), Monday 27, then the holiday until Wednesday 5 Feb.
    assert add_working_days(at(date(2025, 1, 24)), 1) == end_of(date(2025, 1, 26))
    assert add_working_days(at(date(2025, 1, 24)), 2) == end_of(date(2025, 1, 27))
    assert add_working_days(at(date(2025, 1, 24)), 3) == end_of(date(2025, 2, 5))
    # 5, 6, 7 Feb, Saturday 8 Feb (worked), Monday 10 Feb.
    assert add_working_days(at(date(2025, 1, 27)), 5) == end_of(date(2025, 2, 10))


def test_the_ten_day_deadline_across_the_spring_festival():
    spring_festival_2025()
    # From Thursday 23 Jan: 24, 26, 27, 5 Feb, 6, 7, 8, 10, 11, 12.
    assert add_working_days(at(date(2025, 1, 23)), 10) == end_of(date(2025, 2, 12))


def test_a_large_count():
    # 250 working days are exactly 50 weeks without holidays.
    assert add_working_days(at(MONDAY), 250) == end_of(MONDAY + timedelta(weeks=50))
    spring_festival_2025()
    # Six weekdays off and two weekend days worked: four working days lost, the end moves from
    # Monday to Friday of the same week.
    assert add_working_days(at(MONDAY), 250) == end_of(MONDAY + timedelta(weeks=50, days=4))


def test_a_calendar_with_months_of_holidays_widens_its_window():
    # Every weekday for 30 weeks after the start is a holiday: the lookup window (days*3+60) is
    # far too short for 2 days and has to grow.
    start = MONDAY
    day = start + timedelta(days=1)
    while day < start + timedelta(weeks=30):
        if day.weekday() < 5:
            holiday(day)
        day += timedelta(days=1)
    first_working = start + timedelta(weeks=30)  # a Monday
    assert add_working_days(at(start), 1) == end_of(first_working)
    assert add_working_days(at(start), 2) == end_of(first_working + timedelta(days=1))


# --- the organization's time zone ------------------------------------------------------------


def test_days_are_counted_in_the_organizations_zone_not_utc():
    # Sunday 16:30 UTC is Monday 00:30 in Shanghai: the request arrives on a working Monday.
    sunday_evening_utc = datetime(2025, 1, 5, 16, 30, tzinfo=UTC)
    assert calendar.local_day(sunday_evening_utc) == MONDAY
    assert add_working_days(sunday_evening_utc, 1) == end_of(date(2025, 1, 7))
    assert add_working_days(sunday_evening_utc, 0) == end_of(MONDAY)
    # One microsecond earlier, 23:59:59.999999 on Sunday in Shanghai.
    just_before = datetime(2025, 1, 5, 15, 59, 59, 999999, tzinfo=UTC)
    assert calendar.local_day(just_before) == date(2025, 1, 5)
    assert add_working_days(just_before, 1) == end_of(MONDAY)


def test_friday_evening_utc_is_saturday_in_shanghai():
    friday_evening_utc = datetime(2025, 1, 10, 17, 0, tzinfo=UTC)  # Saturday 01:00 in Shanghai
    assert add_working_days(friday_evening_utc, 1) == end_of(date(2025, 1, 13))
    worked(SATURDAY)
    # Now the Saturday is worked but it is the start day, which never counts.
    assert add_working_days(friday_evening_utc, 1) == end_of(date(2025, 1, 13))
    assert add_working_days(datetime(2025, 1, 10, 15, 0, tzinfo=UTC), 1) == end_of(SATURDAY)


def test_the_end_of_a_day_is_local_midnight_minus_a_microsecond():
    deadline = add_working_days(at(MONDAY), 1)
    assert deadline.astimezone(UTC) == datetime(2025, 1, 7, 15, 59, 59, 999999, tzinfo=UTC)
    assert calendar.local_day(deadline) == date(2025, 1, 7)
    assert calendar.local_day(deadline + timedelta(microseconds=1)) == date(2025, 1, 8)


def test_a_holiday_is_looked_up_by_its_local_date():
    holiday(date(2025, 1, 7))  # Tuesday
    # Monday 20:00 UTC is already Tuesday in Shanghai, a holiday; one working day on is Wednesday.
    assert add_working_days(datetime(2025, 1, 6, 20, 0, tzinfo=UTC), 1) == end_of(date(2025, 1, 8))


def test_another_organization_zone_moves_the_day(settings):
    settings.TIME_ZONE = "UTC"
    sunday_evening_utc = datetime(2025, 1, 5, 16, 30, tzinfo=UTC)
    assert calendar.local_day(sunday_evening_utc) == date(2025, 1, 5)
    assert add_working_days(sunday_evening_utc, 1) == datetime.combine(MONDAY, time.max, tzinfo=UTC)


# --- working_days_between ----------------------------------------------------------------------


def test_working_days_between_counts_after_the_start_day_up_to_the_end_day():
    assert working_days_between(at(MONDAY, 9), at(MONDAY, 17)) == 0
    assert working_days_between(at(MONDAY), at(date(2025, 1, 7))) == 1
    assert working_days_between(at(FRIDAY), at(date(2025, 1, 13))) == 1
    assert working_days_between(at(FRIDAY), at(SUNDAY)) == 0
    assert working_days_between(at(MONDAY), at(date(2025, 1, 20))) == 10
    assert working_days_between(at(SATURDAY), at(date(2025, 1, 13))) == 1


def test_working_days_between_backwards_is_zero():
    assert working_days_between(at(date(2025, 1, 20)), at(MONDAY)) == 0


def test_working_days_between_with_holidays_and_worked_days():
    spring_festival_2025()
    assert working_days_between(at(date(2025, 1, 24)), at(date(2025, 2, 10))) == 7  # 26, 27 Jan; 5-8, 10 Feb
    assert working_days_between(at(date(2025, 1, 27)), at(date(2025, 2, 4))) == 0


def test_working_days_between_in_the_organizations_zone():
    # Both moments are on Monday 6 Jan in UTC, but 20:00 UTC is Tuesday in Shanghai.
    assert working_days_between(datetime(2025, 1, 6, 1, 0, tzinfo=UTC), datetime(2025, 1, 6, 20, 0, tzinfo=UTC)) == 1


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    start_offset=st.integers(0, 60),
    hour=st.integers(0, 23),
    days=st.integers(0, 40),
    overrides=st.dictionaries(st.integers(0, 120), st.booleans(), max_size=25),
)
def test_add_and_between_agree_with_a_plain_day_by_day_count(start_offset, hour, days, overrides):
    """An independent day-by-day reading of the calendar, and the two functions as inverses."""
    base = date(2025, 1, 1)
    with transaction.atomic():
        for offset, working in overrides.items():
            CalendarDay.objects.create(date=base + timedelta(days=offset), is_working_day=working)
        start = datetime.combine(base + timedelta(days=start_offset), time(hour, 30), tzinfo=SHANGHAI)

        def working(day: date) -> bool:
            offset = (day - base).days
            return overrides[offset] if offset in overrides else day.weekday() < 5

        day, counted = start.date(), 0
        while counted < days:
            day += timedelta(days=1)
            counted += working(day)
        deadline = add_working_days(start, days)
        assert deadline == end_of(day)
        assert working_days_between(start, deadline) == days
        # From UTC the same moments give the same answers.
        assert add_working_days(start.astimezone(UTC), days) == deadline
        transaction.set_rollback(True)


# --- the request deadline -----------------------------------------------------------------------


@pytest.fixture
def world(org_units, people):
    tax = org_units["tax"]
    resource = factories.resource(tax, by=people["tax_steward"], sharing_type="conditional")
    return {"resource": resource, "steward": people["tax_steward"], "requester": people["health_member"]}


def _request(world):
    return services.create_request(
        world["requester"],
        world["resource"],
        purpose="核验",
        use_category="verification",
        period_days=5,
        accept_terms=True,
    )


def test_the_request_deadline_is_ten_working_days_by_default(world):
    assert AccessSettings.current().decision_working_days == 10
    with mock.patch("django.utils.timezone.now", return_value=at(MONDAY, 11).astimezone(UTC)):
        request = _request(world)
    assert request.deadline_at == end_of(date(2025, 1, 20))


def test_the_request_deadline_follows_the_settings_and_the_calendar(world):
    AccessSettings.objects.update_or_create(pk=1, defaults={"decision_working_days": 3})
    holiday(date(2025, 1, 8))
    with mock.patch("django.utils.timezone.now", return_value=at(MONDAY, 23, 30).astimezone(UTC)):
        request = _request(world)
    assert request.deadline_at == end_of(date(2025, 1, 10))


def test_a_request_late_at_night_utc_counts_from_the_local_day(world):
    # Friday 17:00 UTC is Saturday 01:00 in Shanghai: the ten days start on Monday 13 Jan.
    with mock.patch("django.utils.timezone.now", return_value=datetime(2025, 1, 10, 17, 0, tzinfo=UTC)):
        request = _request(world)
    assert request.deadline_at == end_of(date(2025, 1, 24))


def _ask_and_answer(world, asked_at: datetime, answered_at: datetime):
    with mock.patch("django.utils.timezone.now", return_value=at(MONDAY, 9).astimezone(UTC)):
        request = _request(world)
    original = request.deadline_at
    with mock.patch("django.utils.timezone.now", return_value=asked_at.astimezone(UTC)):
        services.ask_for_information(world["steward"], request, question="用途再具体一些？")
    request.refresh_from_db()
    assert request.status == "info" and request.paused_at == asked_at
    with mock.patch("django.utils.timezone.now", return_value=answered_at.astimezone(UTC)):
        services.give_information(world["requester"], request, answer="用于社保资格核验。")
    request.refresh_from_db()
    assert request.status == "pending" and request.paused_at is None
    return original, request.deadline_at


def test_waiting_for_information_moves_the_deadline_by_the_working_days_waited(world):
    # Asked Tuesday 7 Jan, answered Friday 10 Jan: 8, 9, 10 Jan waited (3 working days).
    original, moved = _ask_and_answer(world, at(date(2025, 1, 7)), at(FRIDAY, 15))
    assert original == end_of(date(2025, 1, 20))
    assert moved == end_of(date(2025, 1, 23))
    assert moved == add_working_days(original, working_days_between(at(date(2025, 1, 7)), at(FRIDAY)))


def test_an_answer_the_same_day_keeps_the_deadline(world):
    original, moved = _ask_and_answer(world, at(date(2025, 1, 7), 9), at(date(2025, 1, 7), 17))
    assert moved == original


def test_a_pause_over_a_weekend_and_a_holiday_counts_only_working_days(world):
    holiday(date(2025, 1, 13))  # the Monday after
    # Asked Friday 10 Jan, answered Tuesday 14 Jan: Saturday, Sunday and the holiday do not count.
    original, moved = _ask_and_answer(world, at(FRIDAY), at(date(2025, 1, 14)))
    # The original deadline already skipped the holiday: Monday 20 -> Tuesday 21 Jan.
    assert original == end_of(date(2025, 1, 21))
    assert moved == end_of(date(2025, 1, 22))
