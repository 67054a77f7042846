"""`sharehub calendar load [YEAR ...]`: the official public holidays and 调休 working days of mainland
China, from the `chinesecalendar` package, into the working-day calendar that deadlines count.

The operator at the command line acts as the organization (actor None in the services). Local days,
added by the organization's admins, are never changed by a load.
"""

from __future__ import annotations

import argparse

from django.core.management.base import CommandError
from django.utils import timezone, translation

from sharehub.access import calendar, holidays, services
from sharehub.console import SharehubCommand, apply_migrations
from sharehub.errors import Invalid


def _year(raw: str) -> int:
    errors: dict[str, str] = {}
    with translation.override("en"):
        year = services.clean_year(errors, raw)
    if year is None:
        raise argparse.ArgumentTypeError(f"{raw!r}: {errors['year']}")
    return year


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def describe(load: services.CalendarLoad) -> str:
    """One sentence on what loading a year did."""
    local = f"; {_plural(load.local, 'local day')} left as they are" if load.local else ""
    if not load.changed_anything:
        return f"{load.year}: nothing to change, {_plural(load.kept, 'official day')} kept{local}."
    return (
        f"{load.year}: added {load.added}, changed {load.changed}, removed {load.removed}, "
        f"kept {load.kept} official days{local}."
    )


class Command(SharehubCommand):
    help = (
        "Load mainland China's official public holidays and 调休 working days from the chinesecalendar "
        "package into the working-day calendar. Loading again changes nothing; local days are kept."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{load}")
        load = actions.add_parser(
            "load",
            help="load the official days of some years (default: this year and the next)",
            description="Load the official days of the years given, or of this year and the next (in the "
            "organization's time zone). A year the installed chinesecalendar does not have yet is named; "
            "a year asked for explicitly that cannot be loaded makes the command fail.",
        )
        load.add_argument("years", nargs="*", type=_year, metavar="YEAR", help="a year from 1900 to 2100")

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        apply_migrations(self)
        with translation.override("en"):  # an operator's console, in English like the other commands
            getattr(self, f"_{options['action']}")(options)

    def _load(self, options) -> None:
        explicit = bool(options["years"])
        this_year = calendar.local_day(timezone.now()).year
        years = sorted(set(options["years"])) if explicit else [this_year, this_year + 1]
        failed: list[int] = []
        for year in years:
            try:
                load = services.load_official_year(None, year)
            except Invalid as error:
                failed.append(year)
                self.stdout.write(str(error.fields.get("year", error.message)))
                continue
            line = describe(load)
            self.stdout.write(self.style.SUCCESS(line) if load.changed_anything else line)
        # Without years, next year's arrangement may simply not be out yet: only this year must load.
        must_load = failed if explicit else [year for year in failed if year == this_year]
        if must_load:
            names = ", ".join(str(year) for year in must_load)
            raise CommandError(
                f"Could not load the official days of {names} with chinesecalendar {holidays.package_version()}; "
                f"upgrade it (pip install -U {holidays.PACKAGE}) once the State Council's arrangement is out."
            )
