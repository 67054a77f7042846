"""`sharehub calendar load [YEAR ...]`: what it says and how it exits, in-process and as the real script.

The years the installed chinesecalendar has are read from it, so these tests hold when a newer release
publishes next year's arrangement."""

from __future__ import annotations

import io
import os
import subprocess
import zoneinfo
from datetime import UTC, datetime
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sharehub.access import holidays, services
from sharehub.access.models import CalendarDay
from sharehub.events.models import Event
from tests.cli.conftest import console_script

pytestmark = pytest.mark.django_db

FIRST, LAST = holidays.published_years()
VERSION = holidays.package_version()
NOT_YET = "{year}: not yet published in chinesecalendar " + f"{VERSION} (it has {FIRST}–{LAST})."


def run(*args) -> str:
    out = io.StringIO()
    call_command("calendar", "load", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def fails(*args) -> tuple[str, CommandError]:
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("calendar", "load", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue(), caught.value


def in_year(year: int, month: int = 12, day: int = 31, hour: int = 20):
    """Django's clock at a moment of `year` in Shanghai (20:00 on 31 Dec is still that year there)."""
    moment = datetime(year, month, day, hour, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai")).astimezone(UTC)
    return mock.patch("django.utils.timezone.now", return_value=moment)


def test_an_explicit_year_loads_and_says_what_it_added():
    assert run("2026").strip() == "2026: added 39, changed 0, removed 0, kept 0 official days."
    assert CalendarDay.objects.filter(source="official", date__year=2026).count() == 39
    assert Event.objects.filter(action="calendar.official_loaded", actor_name="").count() == 1


def test_running_it_twice_changes_nothing_and_says_so():
    run("2026")
    before = list(CalendarDay.objects.order_by("pk").values_list())
    assert run("2026").strip() == "2026: nothing to change, 39 official days kept."
    assert list(CalendarDay.objects.order_by("pk").values_list()) == before
    assert Event.objects.filter(action="calendar.official_loaded").count() == 1


def test_local_days_are_named_as_kept(people):
    services.add_local_day(people["admin"], day="2026-05-06", is_working_day=False, name="建局纪念日")
    assert run("2026").strip().endswith("; 1 local day left as they are.")
    assert CalendarDay.objects.get(source="local").name == "建局纪念日"


def test_without_years_it_loads_this_year_and_the_next_in_the_organizations_zone():
    # 31 Dec 20:00 in Shanghai is 12:00 UTC: this year is LAST there, whatever UTC says later that day.
    with in_year(LAST):
        printed = run()
    lines = printed.strip().splitlines()
    assert lines[0].startswith(f"{LAST}: added ")
    assert lines[1] == NOT_YET.format(year=LAST + 1)
    assert CalendarDay.objects.filter(date__year=LAST).exists()
    assert not CalendarDay.objects.filter(date__year=LAST + 1).exists()


def test_without_years_the_day_after_new_year_in_shanghai_counts_as_the_new_year():
    # 1 Jan 02:00 in Shanghai is still 31 Dec in UTC: the default years follow the organization's zone.
    with in_year(LAST - 1, month=1, day=1, hour=2):
        printed = run()
    assert printed.splitlines()[0].startswith(f"{LAST - 1}: added ")
    assert printed.splitlines()[1].startswith(f"{LAST}: added ")


def test_an_explicit_year_that_is_not_published_fails_naming_it():
    printed, error = fails(str(LAST), str(LAST + 1))
    assert printed.splitlines()[0].startswith(f"{LAST}: added ")  # the years it has are loaded all the same
    assert printed.splitlines()[1] == NOT_YET.format(year=LAST + 1)
    assert error.returncode == 1
    assert str(error).startswith(f"Could not load the official days of {LAST + 1} with chinesecalendar {VERSION};")
    assert "pip install -U chinesecalendar" in str(error)


def test_a_year_before_the_package_begins_fails_too():
    printed, error = fails(str(FIRST - 1))
    only = f"chinesecalendar {VERSION} has the official holidays of {FIRST}–{LAST} only."
    assert printed.strip() == f"{FIRST - 1}: {only}"
    assert error.returncode == 1


def test_without_years_it_fails_when_this_year_is_not_published():
    with in_year(LAST + 1, month=6, day=1):
        printed, error = fails()
    assert f"{LAST + 1}: not yet published" in printed and f"{LAST + 2}: not yet published" in printed
    assert str(error).startswith(f"Could not load the official days of {LAST + 1} with")  # next year is no failure


@pytest.mark.parametrize("year", ["1899", "2101", "twenty", "-5"])
def test_a_year_outside_1900_to_2100_is_refused_before_anything_loads(year):
    with pytest.raises(CommandError) as caught:
        call_command("calendar", "load", "2026", year, stdout=io.StringIO(), stderr=io.StringIO())
    assert "argument YEAR" in str(caught.value)
    assert not CalendarDay.objects.exists()


@pytest.fixture
def sharehub(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env["SHAREHUB_DATA_DIR"] = str(tmp_path / "data")
    script = console_script()

    def _run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [script, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False
        )

    return _run


def test_the_console_script_exit_codes(sharehub):
    first = sharehub("calendar", "load", "2026")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().splitlines()[-1] == "2026: added 39, changed 0, removed 0, kept 0 official days."
    again = sharehub("calendar", "load", "2026")
    assert (again.returncode, again.stdout.strip()) == (0, "2026: nothing to change, 39 official days kept.")

    missing = sharehub("calendar", "load", str(LAST + 1))
    assert missing.returncode == 1
    assert f"{LAST + 1}: not yet published in chinesecalendar {VERSION}" in missing.stdout
    assert f"Could not load the official days of {LAST + 1}" in missing.stderr and "Traceback" not in missing.stderr

    bad = sharehub("calendar", "load", "1800")
    assert bad.returncode == 2
    assert "'1800': Give a year from 1900 to 2100." in bad.stderr and "Traceback" not in bad.stderr
    assert sharehub("calendar").returncode == 2  # the action is required
