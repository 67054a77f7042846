"""The calendar page: everyone signed in reads it, in English and Chinese; organization admins add and
remove local days and load the official ones there."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse

from sharehub.access import holidays
from sharehub.access.models import CalendarDay
from sharehub.events.models import Event

pytestmark = pytest.mark.django_db

PAGE_2026 = "/calendar/2026/"


def html_of(response) -> str:
    return response.content.decode()


def cell(html: str, day: date) -> str:
    """The classes of a day's cell in the month grids (the n-th grid is month n)."""
    months = html.split('<table class="sh-cal-month">')[1:]
    spans = re.findall(r'<span class="sh-cal-day ([^"]+)"[^>]*>(\d+)', months[day.month - 1])
    return next(classes for classes, number in spans if int(number) == day.day)


def test_a_member_reads_the_year_with_holidays_and_worked_weekends_marked(client_for, people, loaded_2026):
    response = client_for(people["tax_member"]).get(PAGE_2026)
    assert response.status_code == 200
    html = html_of(response)
    assert html.count('<table class="sh-cal-month">') == 12
    assert cell(html, date(2026, 2, 16)) == "sh-cal-holiday"
    assert cell(html, date(2026, 2, 14)) == "sh-cal-worked"  # Saturday worked (调休)
    assert cell(html, date(2026, 2, 7)) == "sh-cal-weekend"
    assert cell(html, date(2026, 2, 24)) == "sh-cal-workday"
    assert cell(html, date(2026, 10, 10)) == "sh-cal-worked"
    # The grids start on Monday: 1 Feb 2026 is a Sunday, so six empty cells come first.
    february = html.split('<table class="sh-cal-month">')[2]
    assert re.search(r"<tbody>\s*<tr>(<td></td>){6}<td><span", february)
    # The exceptions below: holidays with their runs of days off and their worked weekend days.
    rows = html.split('id="calendar-exceptions"')[1]
    assert "Spring Festival" in rows and "National Day" in rows and "(9 days)" in rows and "(7 days)" in rows
    assert "14 Feb 2026" in rows and "28 Feb 2026" in rows and "20 Sep 2026" in rows
    assert "39 official days of 2026 are loaded from chinesecalendar" in html
    # No way to change it for a member.
    for marker in ('id="add-local-day"', reverse("access:calendar_load", args=[2026]), "calendar/local-days/"):
        assert marker not in html


def test_the_page_in_chinese(client_for, people, loaded_2026):
    client = client_for(people["tax_member"])
    client.cookies["django_language"] = "zh-hans"
    html = html_of(client.get(PAGE_2026))
    assert 'lang="zh-hans"' in html
    holidays = ("春节", "国庆节", "中秋节", "劳动节", "清明节", "端午节", "元旦")
    for text in ("工作日历", *holidays, "调休", "二月", "法定节假日"):
        assert text in html, text
    for english in ("Spring Festival", "Working-day calendar", "Days off", "official holiday"):
        assert english not in html, english
    assert "2026年2月14日" in html


def test_an_admin_adds_and_removes_a_local_day_from_the_page(client_for, people, loaded_2026):
    admin = client_for(people["admin"])
    html = html_of(admin.get(PAGE_2026))
    assert 'id="add-local-day"' in html and reverse("access:calendar_load", args=[2026]) in html

    added = admin.post(
        reverse("access:calendar_add"), {"date": "2026-10-08", "kind": "off", "name": "补休", "year": "2026"}
    )
    assert added.status_code == 302 and added["Location"] == PAGE_2026
    day = CalendarDay.objects.get(source="local")
    assert (day.date, day.is_working_day, day.name) == (date(2026, 10, 8), False, "补休")
    html = html_of(admin.get(PAGE_2026))
    assert "Added the local day 8 Oct 2026 (补休)." in html
    assert cell(html, date(2026, 10, 8)) == "sh-cal-local-off"
    remove_url = reverse("access:calendar_remove", args=["2026-10-08"])
    assert f'action="{remove_url}"' in html

    worked = admin.post(reverse("access:calendar_add"), {"date": "2026-10-07", "kind": "working", "name": "值班"})
    assert worked.status_code == 302
    html = html_of(admin.get(PAGE_2026))
    assert cell(html, date(2026, 10, 7)) == "sh-cal-local-work"
    assert "in place of the official day (National Day)" in html

    removed = admin.post(remove_url)
    assert removed.status_code == 302
    assert not CalendarDay.objects.filter(date=date(2026, 10, 8)).exists()
    events = Event.objects.filter(action__startswith="calendar.local").order_by("seq")
    actions = list(events.values_list("action", "actor_name"))
    assert actions == [
        ("calendar.local_day_added", "admin"),
        ("calendar.local_day_added", "admin"),
        ("calendar.local_day_removed", "admin"),
    ]


def test_bad_input_on_the_page_answers_422_naming_the_field(client_for, people):
    admin = client_for(people["admin"])
    url = reverse("access:calendar_add")
    bad = admin.post(url, {"date": "2026-02-30", "kind": "off", "name": "x", "year": "2026"})
    assert bad.status_code == 422
    html = html_of(bad)
    assert 'id="id_date_error">2026-02-30 is not a date on the calendar.' in html
    assert 'value="2026-02-30"' in html and 'value="x"' in html  # what was typed stays
    no_name = admin.post(url, {"date": "2026-03-02", "kind": "working", "name": ""})
    assert no_name.status_code == 422 and 'id="id_name_error">This field is required.' in html_of(no_name)
    assert '<option value="working" selected>' in html_of(no_name)
    odd_kind = admin.post(url, {"date": "2026-03-02", "kind": "sometimes", "name": "x"})
    assert odd_kind.status_code == 422 and 'id="id_kind_error">Choose a day off or a working day.' in html_of(odd_kind)
    admin.post(url, {"date": "2026-03-02", "kind": "off", "name": "x"})
    duplicate = admin.post(url, {"date": "2026-03-02", "kind": "off", "name": "y"})
    assert duplicate.status_code == 422
    assert "is a local day already; remove it first to change it." in html_of(duplicate)
    assert CalendarDay.objects.count() == 1
    assert admin.post(reverse("access:calendar_remove", args=["2026-13-01"])).status_code == 422
    assert admin.post(reverse("access:calendar_remove", args=["2026-03-03"])).status_code == 404


def test_an_admin_loads_the_official_days_from_the_page(client_for, people):
    admin = client_for(people["admin"])
    html = html_of(admin.get(PAGE_2026))
    assert "The official holidays of 2026 are not loaded" in html
    loaded = admin.post(reverse("access:calendar_load", args=[2026]), follow=True)
    assert "2026: added 39, changed 0, removed 0 official days; 0 kept." in html_of(loaded)
    assert CalendarDay.objects.filter(source="official").count() == 39
    again = admin.post(reverse("access:calendar_load", args=[2026]), follow=True)
    assert "2026: the official days are up to date (39); nothing changed." in html_of(again)

    unpublished = holidays.published_years()[1] + 1
    html = html_of(admin.get(f"/calendar/{unpublished}/"))
    assert f"The State Council's arrangement for {unpublished} is not in chinesecalendar" in html
    assert reverse("access:calendar_load", args=[unpublished]) not in html
    refused = admin.post(reverse("access:calendar_load", args=[unpublished]), follow=True)
    assert f"{unpublished}: not yet published in chinesecalendar" in html_of(refused)


def test_members_cannot_change_the_calendar(client_for, people, loaded_2026):
    member = client_for(people["tax_steward"])
    before = CalendarDay.objects.count()
    added = member.post(reverse("access:calendar_add"), {"date": "2026-10-08", "kind": "off", "name": "x"})
    assert added.status_code == 403
    assert "Only organization admins change the working-day calendar." in html_of(added)
    assert member.post(reverse("access:calendar_load", args=[2026])).status_code == 403
    CalendarDay.objects.create(date=date(2026, 10, 8), name="x")
    assert member.post(reverse("access:calendar_remove", args=["2026-10-08"])).status_code == 403
    assert CalendarDay.objects.count() == before + 1


def test_navigation_years_and_sign_in(client, client_for, people):
    assert client.get(PAGE_2026).status_code == 302  # sign in first
    member = client_for(people["tax_member"])
    html = html_of(member.get(PAGE_2026))
    assert 'href="/calendar/2025/"' in html and 'href="/calendar/2027/"' in html
    assert member.get("/calendar/1899/").status_code == 404
    assert member.get("/calendar/2101/").status_code == 404
    assert 'href="/calendar/2099/"' in html_of(member.get("/calendar/2100/"))
    assert 'href="/calendar/2101/"' not in html_of(member.get("/calendar/2100/"))
    assert member.get("/calendar/").status_code == 200
    # Everyone reaches it from the menu.
    assert f'href="{reverse("access:calendar")}"' in html_of(member.get("/"))


def test_an_empty_year_says_every_weekday_counts(client_for, people):
    html = html_of(client_for(people["tax_member"]).get("/calendar/1950/"))
    assert "No exceptions this year" in html
    assert "The State Council&#x27;s arrangement for 1950 is not in" in html or "arrangement for 1950" in html


def test_the_admin_list_sends_additions_to_the_page(client_for, people, loaded_2026):
    superuser = people["admin"]
    superuser.is_superuser = True  # Django's own admin is for organization admins who are superusers
    superuser.save(update_fields=["is_superuser"])
    admin = client_for(superuser)
    assert admin.get("/admin/access/calendarday/").status_code == 200
    add = admin.get("/admin/access/calendarday/add/")
    assert add.status_code == 302 and add["Location"] == reverse("access:calendar") + "#add-local-day"
    official = CalendarDay.objects.filter(source="official").first()
    assert admin.get(f"/admin/access/calendarday/{official.pk}/delete/").status_code == 403
