"""Time for the demo's history: a clock that stands in for Django's while the demo loads, a working-time
axis that places every step on a working day, and a timeline that runs the steps in the order of time.

The history ends on the day of loading. It is laid on the working days (Monday to Friday, 08:30 to
17:30 in the organization's zone) before that day, counted back from it: a step is "so many working
minutes after the first working day of the history". The seed decides those offsets, so the same seed
gives the same steps at the same working-day offsets and times of day whenever it is loaded.
"""

from __future__ import annotations

import bisect
import zoneinfo
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.apps import apps
from django.conf import settings
from django.utils import timezone

WORKING_DAYS = 280  # about 13 months of working days: the catalog went live a little over a year ago
DAY_STARTS = time(8, 30)
DAY_MINUTES = 9 * 60  # 08:30 to 17:30
SWEEP_TIME = time(7, 0)  # the background sweep's daily round before anyone is at work


class Clock:
    """What `django.utils.timezone.now` returns while the demo loads. It only moves forward, so the
    event log's times follow its sequence numbers."""

    def __init__(self, start: datetime):
        self.current = start

    def now(self) -> datetime:
        return self.current

    def set(self, moment: datetime) -> None:
        if moment < self.current:
            raise ValueError(f"the demo clock cannot go back from {self.current} to {moment}")
        self.current = moment


@contextmanager
def frozen_time(clock: Clock) -> Iterator[Clock]:
    """Make Django read the time from `clock`: `timezone.now`, which services, `auto_now` and
    `auto_now_add` look up at call time, and model fields whose default is `timezone.now` itself
    (such as `date_joined`), which keep the function they were given and cache it."""
    real_now = timezone.now
    fields = [
        f for model in apps.get_models() for f in model._meta.concrete_fields if getattr(f, "default", None) is real_now
    ]
    timezone.now = clock.now
    for f in fields:
        f.default = clock.now
        f.__dict__.pop("_get_default", None)
    try:
        yield clock
    finally:
        timezone.now = real_now
        for f in fields:
            f.default = real_now
            f.__dict__.pop("_get_default", None)


class WorkingTime:
    """The working days before `today`, oldest first. A position `x` on this axis is in working
    minutes from 08:30 on the first of them; `moment(x)` is strictly increasing in `x`."""

    def __init__(self, today: date, days: int = WORKING_DAYS):
        self.zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        self.today = today
        dates: list[date] = []
        day = today
        while len(dates) < days:
            day -= timedelta(days=1)
            if day.weekday() < 5:
                dates.append(day)
        self.dates = dates[::-1]
        self.end = float(days * DAY_MINUTES)

    @staticmethod
    def day_of_moment(moment: datetime) -> date:
        """The day `moment` falls on in the organization's zone."""
        return moment.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()

    @property
    def first_day(self) -> date:
        return self.dates[0]

    def moment(self, x: float) -> datetime:
        x = min(max(x, 0.0), self.end - 1 / 60)
        index = int(x // DAY_MINUTES)
        seconds = round((x - index * DAY_MINUTES) * 60)
        start = datetime.combine(self.dates[index], DAY_STARTS, tzinfo=self.zone)
        return (start + timedelta(seconds=seconds)).astimezone(UTC)

    def day_of(self, x: float) -> date:
        return self.dates[min(int(max(x, 0.0) // DAY_MINUTES), len(self.dates) - 1)]

    def at_date(self, day: date) -> float:
        """The position of 08:30 on `day`, or on the first working day after it; the end of the axis
        for a day after its last."""
        return float(bisect.bisect_left(self.dates, day) * DAY_MINUTES)

    def days(self, working_days: float) -> float:
        return working_days * DAY_MINUTES

    def morning(self, day: date) -> datetime:
        return datetime.combine(day, SWEEP_TIME, tzinfo=self.zone)


@dataclass(order=True)
class _Step:
    when: datetime
    x: float
    order: int
    action: Callable[[], None] = field(compare=False)


class Timeline:
    """Steps of the history, run in the order of their time (then of their position on the working-time
    axis, then of scheduling), each with the clock set to its time."""

    def __init__(self, axis: WorkingTime):
        self.axis = axis
        self._steps: list[_Step] = []

    def at(self, x: float, action: Callable[[], None]) -> None:
        """Schedule `action` at position `x` of the working-time axis."""
        self._steps.append(_Step(self.axis.moment(x), x, len(self._steps), action))

    def at_moment(self, when: datetime, action: Callable[[], None]) -> None:
        """Schedule `action` at a time of its own (the background sweep runs outside working hours)."""
        self._steps.append(_Step(when, -1.0, len(self._steps), action))

    def __len__(self) -> int:
        return len(self._steps)

    def run(self, clock: Clock) -> None:
        for step in sorted(self._steps):
            clock.set(step.when)
            step.action()
