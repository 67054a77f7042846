"""The demo's time machinery: the stand-in clock, the working-time axis and the timeline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from sharehub.catalog.models import Project
from sharehub.demo.history import DAY_MINUTES, Clock, Timeline, WorkingTime, frozen_time
from sharehub.events.models import ConsumerCursor
from sharehub.org.models import User
from tests import factories


def test_the_axis_covers_working_days_before_the_day_of_loading_in_working_hours():
    axis = WorkingTime(date(2026, 12, 7), days=10)  # a Monday
    assert axis.dates[-1] == date(2026, 12, 4) and axis.first_day == date(2026, 11, 23)
    assert all(day.weekday() < 5 for day in axis.dates)
    moments = [axis.moment(x) for x in range(0, int(axis.end), 97)]
    assert moments == sorted(moments) and len(set(moments)) == len(moments)
    for moment in moments:
        local = moment.astimezone(axis.zone)
        assert local.weekday() < 5 and (8, 30) <= (local.hour, local.minute) <= (17, 30)
    assert axis.moment(axis.end + 1000) < datetime(2026, 12, 6, tzinfo=axis.zone)  # clamped inside the history
    assert axis.at_date(date(2026, 11, 28)) == axis.at_date(date(2026, 11, 30)) == 5 * DAY_MINUTES  # a weekend
    assert axis.at_date(date(2026, 12, 7)) == axis.end


def test_the_clock_only_moves_forward():
    start = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
    clock = Clock(start)
    clock.set(start)
    clock.set(start + timedelta(seconds=1))
    with pytest.raises(ValueError, match="cannot go back"):
        clock.set(start)


@pytest.mark.django_db
def test_frozen_time_is_what_django_and_the_models_read_and_is_undone():
    real_now = timezone.now
    department = factories.department("税务局", "SWJ")
    moment = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
    with frozen_time(Clock(moment)) as clock:
        assert timezone.now() == moment
        user = User.objects.create(username="someone")  # date_joined: default=timezone.now
        project = Project.objects.create(name="一网通办", department=department)  # created_at: auto_now_add
        clock.set(moment + timedelta(days=1))
        cursor = ConsumerCursor.objects.create(name="reader")  # updated_at: auto_now
    assert user.date_joined == moment and project.created_at == moment
    assert cursor.updated_at == moment + timedelta(days=1)
    assert timezone.now is real_now
    assert User.objects.create(username="later").date_joined > moment + timedelta(days=300)


def test_the_timeline_runs_steps_in_the_order_of_time_with_the_clock_set():
    axis = WorkingTime(date(2026, 12, 7), days=5)
    timeline = Timeline(axis)
    seen: list[tuple[str, datetime]] = []
    with frozen_time(Clock(axis.moment(0))) as clock:
        timeline.at(2 * DAY_MINUTES, lambda: seen.append(("third", timezone.now())))
        timeline.at(10, lambda: seen.append(("first", timezone.now())))
        timeline.at_moment(axis.morning(axis.dates[1]), lambda: seen.append(("second", timezone.now())))
        timeline.at(10, lambda: seen.append(("first, scheduled later", timezone.now())))
        timeline.run(clock)
    assert [name for name, _when in seen] == ["first", "first, scheduled later", "second", "third"]
    assert [when for _name, when in seen] == sorted(when for _name, when in seen)
    assert seen[2][1].astimezone(axis.zone).hour == 7
