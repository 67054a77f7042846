"""The official calendar loaded for real from the installed `chinesecalendar`: known 2026 dates (the State
Council's arrangement, 国办发明电〔2025〕7号), deadlines across 春节 and 国庆, loading again, and local
days that a load never changes."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from unittest import mock

import pytest

from sharehub.access import calendar, holidays, services
from sharehub.access.calendar import add_working_days, is_working_day
from sharehub.access.models import CalendarDay
from sharehub.errors import Forbidden, Invalid, NotFound
from sharehub.events.chain import verify_chain
from sharehub.events.models import Event
from tests import factories

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
OFFICIAL, LOCAL = CalendarDay.Source.OFFICIAL, CalendarDay.Source.LOCAL


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=SHANGHAI)


def official(day: date) -> CalendarDay:
    return CalendarDay.objects.get(date=day, source=OFFICIAL)


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def snapshot() -> list[tuple]:
    return list(CalendarDay.objects.order_by("pk").values_list("pk", "date", "is_working_day", "name", "source"))


# --- the 2026 arrangement, as published and as the package has it ----------------------------------


def test_spring_festival_2026_is_feb_15_to_23_with_saturdays_14_and_28_worked(loaded_2026):
    for day in days_between(date(2026, 2, 15), date(2026, 2, 23)):
        row = official(day)
        assert (row.is_working_day, row.name) == (False, "Spring Festival"), day
        assert not is_working_day(day)
    for day in (date(2026, 2, 14), date(2026, 2, 28)):
        assert day.weekday() == 5  # Saturdays
        row = official(day)
        assert (row.is_working_day, row.name) == (True, "Spring Festival"), day
        assert is_working_day(day)
    # The days around it are ordinary: the Friday before is worked, the Sunday after the 28th is not.
    assert is_working_day(date(2026, 2, 13)) and not is_working_day(date(2026, 3, 1))
    assert not CalendarDay.objects.filter(date__in=[date(2026, 2, 13), date(2026, 2, 24), date(2026, 3, 1)]).exists()


def test_national_day_2026_is_oct_1_to_7_with_sun_sep_20_and_sat_oct_10_worked(loaded_2026):
    for day in days_between(date(2026, 10, 1), date(2026, 10, 7)):
        row = official(day)
        assert (row.is_working_day, row.name) == (False, "National Day"), day
        assert not is_working_day(day)
    assert date(2026, 9, 20).weekday() == 6 and date(2026, 10, 10).weekday() == 5
    for day in (date(2026, 9, 20), date(2026, 10, 10)):
        row = official(day)
        assert (row.is_working_day, row.name) == (True, "National Day"), day
        assert is_working_day(day)
    assert is_working_day(date(2026, 10, 8)) and is_working_day(date(2026, 10, 9))


def test_the_whole_2026_load_matches_the_package(loaded_2026):
    expected = holidays.official_days(2026)
    stored = {d.date: (d.is_working_day, d.name) for d in CalendarDay.objects.filter(source=OFFICIAL)}
    assert stored == expected
    assert loaded_2026.added == len(expected) == 39  # 33 days off and 6 weekend days worked in 1.11.0
    assert sum(1 for working, _name in expected.values() if working) == 6
    assert {name for _working, name in expected.values()} == {
        "New Year's Day", "Spring Festival", "Tomb-sweeping Day", "Labour Day", "Dragon Boat Festival",
        "Mid-autumn Festival", "National Day",
    }  # fmt: skip


# --- deadlines across the holidays -----------------------------------------------------------------


def test_add_working_days_across_the_spring_festival(loaded_2026):
    thursday = date(2026, 2, 12)
    # 13 Feb (Fri), 14 (Sat, worked), then nothing until 24 Feb; 24-27, 28 (Sat, worked), 2-4 Mar.
    assert add_working_days(at(date(2026, 2, 13)), 1) == end_of(date(2026, 2, 14))
    assert add_working_days(at(date(2026, 2, 13)), 2) == end_of(date(2026, 2, 24))
    assert add_working_days(at(thursday), 10) == end_of(date(2026, 3, 4))
    # An empty calendar would have said 26 Feb: eleven calendar days early.
    CalendarDay.objects.all().delete()
    assert add_working_days(at(thursday), 10) == end_of(date(2026, 2, 26))


@pytest.fixture
def world(org_units, people):
    resource = factories.resource(org_units["tax"], by=people["tax_steward"], sharing_type="conditional")
    return {"resource": resource, "requester": people["health_member"]}


def test_a_request_before_mid_autumn_and_national_day_gets_a_deadline_after_them(loaded_2026, world):
    # Thursday 24 Sep: 25 Sep (中秋) and 1-7 Oct are off, Saturday 10 Oct is worked. Ten working days:
    # 28, 29, 30 Sep, 8, 9, 10, 12, 13, 14, 15 Oct.
    with mock.patch("django.utils.timezone.now", return_value=at(date(2026, 9, 24)).astimezone(UTC)):
        request = services.create_request(
            world["requester"], world["resource"], purpose="核验", use_category="verification",
            period_days=5, accept_terms=True,
        )  # fmt: skip
    assert request.deadline_at == end_of(date(2026, 10, 15))


# --- loading again --------------------------------------------------------------------------------


def test_loading_again_changes_nothing(loaded_2026):
    before, events = snapshot(), Event.objects.count()
    again = services.load_official_year(None, 2026)
    assert (again.added, again.changed, again.removed, again.kept) == (0, 0, 0, 39)
    assert not again.changed_anything
    assert snapshot() == before
    assert Event.objects.count() == events  # nothing changed, nothing to record


def test_a_load_repairs_official_days_that_differ_from_the_package(loaded_2026):
    CalendarDay.objects.filter(date=date(2026, 2, 16), source=OFFICIAL).update(is_working_day=True, name="x")
    CalendarDay.objects.create(date=date(2026, 3, 2), is_working_day=False, name="Spring Festival", source=OFFICIAL)
    official(date(2026, 10, 1)).delete()
    result = services.load_official_year(None, 2026)
    assert (result.added, result.changed, result.removed, result.kept) == (1, 1, 1, 37)
    assert {d.date: (d.is_working_day, d.name) for d in CalendarDay.objects.all()} == holidays.official_days(2026)
    event = Event.objects.filter(action="calendar.official_loaded").latest("seq")
    assert event.details["added"] == 1 and event.details["changed"] == 1 and event.details["removed"] == 1
    assert event.details["package"] == f"chinesecalendar {holidays.package_version()}"


def test_a_year_the_package_does_not_have_is_refused_naming_the_year(db):
    first, last = holidays.published_years()
    for year in (last + 1, first - 1):
        with pytest.raises(Invalid) as refused:
            services.load_official_year(None, year)
        assert str(year) in refused.value.fields["year"]
        assert f"chinesecalendar {holidays.package_version()}" in refused.value.fields["year"]
    assert "not yet published" in str(holidays.NotPublished(last + 1).message)
    with pytest.raises(Invalid) as out_of_range:
        services.load_official_year(None, 2101)
    assert out_of_range.value.fields == {"year": "Give a year from 1900 to 2100."}
    assert not CalendarDay.objects.exists() and not Event.objects.exists()


# --- local days ------------------------------------------------------------------------------------


def test_local_days_survive_a_load_and_win_over_official_ones(people):
    admin = people["admin"]
    anniversary = services.add_local_day(admin, day="2026-05-06", is_working_day=False, name="建局纪念日")
    on_duty = services.add_local_day(admin, day=date(2026, 2, 16), is_working_day=True, name="春节值班")
    before = snapshot()
    result = services.load_official_year(admin, 2026)
    assert result.local == 2 and result.added == 39
    assert [row for row in snapshot() if row[4] == LOCAL] == before  # untouched
    # The official 16 Feb is stored beside the local one, which wins.
    assert official(date(2026, 2, 16)).is_working_day is False
    assert is_working_day(date(2026, 2, 16)) and not is_working_day(date(2026, 5, 6))
    assert calendar.working_days_between(at(date(2026, 2, 13)), at(date(2026, 2, 24))) == 3  # 14, 16, 24 Feb
    # Loading again keeps them too; removing the local day gives the official one back.
    services.load_official_year(admin, 2026)
    assert CalendarDay.objects.filter(pk__in=[anniversary.pk, on_duty.pk]).count() == 2
    services.remove_local_day(admin, "2026-02-16")
    assert not is_working_day(date(2026, 2, 16))
    assert not CalendarDay.objects.filter(pk=on_duty.pk).exists()


def test_each_change_is_an_event_naming_who_made_it(people, loaded_2026):
    admin = people["admin"]
    services.add_local_day(admin, day="2026-10-08", is_working_day=False, name="补休")
    services.remove_local_day(admin, "2026-10-08")
    CalendarDay.objects.filter(source=OFFICIAL, date=date(2026, 1, 1)).delete()
    services.load_official_year(admin, 2026)
    events = list(Event.objects.filter(action__startswith="calendar.").order_by("seq"))
    assert [(e.action, e.actor_name) for e in events] == [
        ("calendar.official_loaded", ""),  # the fixture's load, from the command line
        ("calendar.local_day_added", "admin"),
        ("calendar.local_day_removed", "admin"),
        ("calendar.official_loaded", "admin"),
    ]
    assert events[1].details == {"date": "2026-10-08", "is_working_day": False, "name": "补休", "source": "local"}
    assert events[0].details["added"] == 39 and events[3].details["added"] == 1
    assert verify_chain().ok


def test_a_local_day_replacing_an_official_one_says_so_in_its_event(people, loaded_2026):
    services.add_local_day(people["admin"], day="2026-10-07", is_working_day=True, name="国庆值班")
    event = Event.objects.get(action="calendar.local_day_added")
    assert event.details["replaces"] == "National Day"


def test_local_day_input_is_checked_field_by_field(people):
    admin = people["admin"]
    cases = [
        ({"day": "2026-02-30"}, "date", "2026-02-30 is not a date on the calendar."),
        ({"day": "2026/02/03"}, "date", "Give the date as YYYY-MM-DD, such as 2026-10-09."),
        ({"day": "1899-12-31"}, "date", "Give a date in the years 1900 to 2100."),
        ({"is_working_day": "yes"}, "is_working_day", "Must be true or false."),
        ({"name": "  "}, "name", "This field is required."),
        ({"name": "长" * 101}, "name", "At most 100 characters."),
    ]
    for change, field, message in cases:
        values = {"day": "2026-06-01", "is_working_day": False, "name": "测试", **change}
        with pytest.raises(Invalid) as refused:
            services.add_local_day(admin, **values)
        assert refused.value.fields == {field: message}, change
    services.add_local_day(admin, day="2026-06-01", is_working_day=False, name="测试")
    with pytest.raises(Invalid) as duplicate:
        services.add_local_day(admin, day="2026-06-01", is_working_day=True, name="又一次")
    assert duplicate.value.fields == {"date": "2026-06-01 is a local day already; remove it first to change it."}
    with pytest.raises(NotFound):
        services.remove_local_day(admin, "2026-06-02")
    assert CalendarDay.objects.count() == 1


def test_only_organization_admins_change_the_calendar(people):
    for person in (people["tax_steward"], people["hr_head"], people["auditor"]):
        with pytest.raises(Forbidden):
            services.add_local_day(person, day="2026-06-01", is_working_day=False, name="x")
        with pytest.raises(Forbidden):
            services.load_official_year(person, 2026)
    CalendarDay.objects.create(date=date(2026, 6, 1), name="x")
    with pytest.raises(Forbidden):
        services.remove_local_day(people["tax_member"], "2026-06-01")
    assert CalendarDay.objects.count() == 1
    assert not Event.objects.filter(action__startswith="calendar.").exists()
