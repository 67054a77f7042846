"""Mainland China's official public holidays and 调休 working days, as the State Council arranges them
each year (it publishes the next year's around November), read from the maintained `chinesecalendar`
package (import name `chinese_calendar`). A year the installed release does not have yet is
`NotPublished`: upgrading the package brings it."""

from __future__ import annotations

from datetime import date
from functools import cache
from importlib import metadata

from chinese_calendar import constants
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

PACKAGE = "chinesecalendar"

# The package's English names, as stored in CalendarDay.name, and as the pages show them.
NAMES = {
    "New Year's Day": pgettext_lazy("public holiday", "New Year's Day"),
    "Spring Festival": pgettext_lazy("public holiday", "Spring Festival"),
    "Tomb-sweeping Day": pgettext_lazy("public holiday", "Tomb-sweeping Day"),
    "Labour Day": pgettext_lazy("public holiday", "Labour Day"),
    "Dragon Boat Festival": pgettext_lazy("public holiday", "Dragon Boat Festival"),
    "Mid-autumn Festival": pgettext_lazy("public holiday", "Mid-autumn Festival"),
    "National Day": pgettext_lazy("public holiday", "National Day"),
    "Anti-Fascist 70th Day": pgettext_lazy("public holiday", "Anti-Fascist War Victory 70th Anniversary"),
}


def label(name: str) -> str:
    """An official holiday's name in the current language (a name the package adds later stays English)."""
    return str(NAMES.get(name, name))


@cache
def package_version() -> str:
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:  # pragma: no cover - installed some other way
        import chinese_calendar

        return getattr(chinese_calendar, "__version__", "?")


@cache
def published_years() -> tuple[int, int]:
    """The first and last year the installed release has."""
    years = {day.year for day in constants.holidays}
    return min(years), max(years)


class NotPublished(Exception):
    """The installed release has no arrangement for this year."""

    def __init__(self, year: int):
        self.year = year
        super().__init__(self.message)

    @property
    def message(self) -> str:
        first, last = published_years()
        values = {"year": self.year, "version": package_version(), "first": first, "last": last}
        if self.year > last:
            return _("%(year)s: not yet published in chinesecalendar %(version)s (it has %(first)s–%(last)s).") % values
        return _("%(year)s: chinesecalendar %(version)s has the official holidays of %(first)s–%(last)s only.") % values


def official_days(year: int) -> dict[date, tuple[bool, str]]:
    """The official exceptions of `year`: date -> (is a working day, the holiday's English name). Days off
    include the weekend days inside a holiday period; working days are the weekend days worked (调休)."""
    first, last = published_years()
    if not first <= year <= last:
        raise NotPublished(year)
    days = {day: (False, str(name)) for day, name in constants.holidays.items() if day.year == year}
    days.update({day: (True, str(name)) for day, name in constants.workdays.items() if day.year == year})
    return days
