"""Working days: Monday to Friday, minus public holidays, plus worked weekend days (调休), as the
organization's calendar (CalendarDay rows: the official arrangement, and the organization's local days,
which win) says. Days are counted in the organization's time zone."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta

from django.conf import settings

from sharehub.access.models import CalendarDay


def _zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def overrides_between(start: datetime, end: datetime) -> dict[date, bool]:
    """The calendar's exceptions over a period, loaded once for many `working_days_between` calls."""
    return _overrides(local_day(start), local_day(end))


def _overrides(start: date, end: date) -> dict[date, bool]:
    """Where a date has an official and a local day, the local one wins (read last: "official" > "local")."""
    rows = (
        CalendarDay.objects.filter(date__gte=start, date__lte=end)
        .order_by("-source")
        .values_list("date", "is_working_day")
    )
    return dict(rows)


def is_working_day(day: date, overrides: dict[date, bool] | None = None) -> bool:
    if overrides is None:
        overrides = _overrides(day, day)
    if day in overrides:
        return overrides[day]
    return day.weekday() < 5


def local_day(moment: datetime) -> date:
    return moment.astimezone(_zone()).date()


def end_of_day(day: date) -> datetime:
    """The last microsecond of `day` in the organization's zone."""
    return datetime.combine(day, time.max, tzinfo=_zone())


def add_working_days(start: datetime, days: int) -> datetime:
    """The end of the `days`-th working day after the day of `start` (0: the end of that same day)."""
    first = local_day(start)
    horizon = first + timedelta(days=days * 3 + 60)
    overrides = _overrides(first, horizon)
    day, counted = first, 0
    while counted < days:
        day += timedelta(days=1)
        if day > horizon:  # a calendar with months of holidays: widen the window
            overrides |= _overrides(day, day + timedelta(days=days * 3 + 60))
            horizon = day + timedelta(days=days * 3 + 60)
        if is_working_day(day, overrides):
            counted += 1
    return end_of_day(day)


def working_days_between(start: datetime, end: datetime, overrides: dict[date, bool] | None = None) -> int:
    """Working days after the day of `start`, up to and including the day of `end` (`overrides`:
    the calendar over at least that period, from `overrides_between`)."""
    first, last = local_day(start), local_day(end)
    if last <= first:
        return 0
    if overrides is None:
        overrides = _overrides(first, last)
    return sum(
        1 for offset in range(1, (last - first).days + 1) if is_working_day(first + timedelta(days=offset), overrides)
    )
