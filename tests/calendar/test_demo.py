"""`sharehub demo` loads the official calendar of its years before the history runs, so the history's
deadlines skip the holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from sharehub.access import holidays
from sharehub.access.calendar import add_working_days, local_day
from sharehub.access.models import AccessRequest, AccessSettings, CalendarDay, RequestNote
from sharehub.demo import generator
from sharehub.events.models import Event

pytestmark = pytest.mark.django_db


def weekdays_after(day: date, count: int) -> date:
    """The deadline an empty calendar would give: `count` Mondays to Fridays after `day`."""
    while count:
        day += timedelta(days=1)
        count -= day.weekday() < 5
    return day


def test_the_demo_loads_the_calendar_and_its_deadlines_skip_the_holidays():
    now = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    summary = generator.load(seed=42, scale=0.05, now=now)

    first, last = holidays.published_years()
    years = range(summary.history_from.year, 2028)
    for year in years:
        official = CalendarDay.objects.filter(source="official", date__year=year).count()
        if first <= year <= last:
            assert summary.calendar[year] == official == len(holidays.official_days(year)), year
        else:
            assert summary.calendar[year].startswith(f"{year}: not yet published in chinesecalendar"), year
            assert official == 0
    loads = Event.objects.filter(action="calendar.official_loaded").order_by("seq")
    assert {e.actor_name for e in loads} == {"admin"}
    assert loads.first().created_at < AccessRequest.objects.order_by("created_at").first().created_at

    days = AccessSettings.current().decision_working_days
    paused = set(RequestNote.objects.filter(kind=RequestNote.Kind.INFO_ASKED).values_list("request_id", flat=True))
    moved = 0
    for request in AccessRequest.objects.exclude(pk__in=paused):
        assert request.deadline_at == add_working_days(request.created_at, days), request.pk
        moved += local_day(request.deadline_at) > weekdays_after(local_day(request.created_at), days)
    assert moved  # some of the history's requests waited across a holiday (春节, 劳动节, 国庆 with this seed)
    # 2026's 国庆 from a Thursday before it: the same count as the demo's deadlines makes it 15 Oct, not 8 Oct.
    assert local_day(add_working_days(datetime(2026, 9, 24, 2, tzinfo=UTC), days)).isoformat() == "2026-10-15"
