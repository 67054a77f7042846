"""`/api/v1/calendar`: the year's exceptions with their source for every caller; local days and loads
for organization admins; bad input answers 422 naming the field."""

from __future__ import annotations

from datetime import date

import pytest

from sharehub.access import holidays
from sharehub.access.models import CalendarDay
from sharehub.events.models import Event
from sharehub.org import services as org
from tests.api.conftest import Api

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(people) -> Api:
    return Api(people["admin"])


@pytest.fixture
def member(people) -> Api:
    return Api(people["tax_member"])


def by_date(body: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for day in body["days"]:
        found.setdefault(day["date"], []).append(day)
    return found


def test_everyone_reads_the_year_with_the_source_of_each_day(member, loaded_2026):
    response = member.get("/calendar/2026")
    assert response.status_code == 200
    body = response.json()
    assert body["year"] == 2026 and body["official_published"] is True and body["official_days"] == 39
    assert body["package"] == f"chinesecalendar {holidays.package_version()}"
    days = by_date(body)
    assert days["2026-02-16"] == [
        {"date": "2026-02-16", "is_working_day": False, "name": "Spring Festival", "label": "Spring Festival",
         "source": "official", "in_force": True},
    ]  # fmt: skip
    assert days["2026-02-14"][0]["is_working_day"] is True
    assert days["2026-09-20"][0]["is_working_day"] is True and days["2026-09-20"][0]["name"] == "National Day"
    assert [d["date"] for d in body["days"]] == sorted(d["date"] for d in body["days"])


def test_a_service_account_token_reads_it_too_and_labels_follow_the_language(people, org_units, loaded_2026):
    account = org.create_service_account(None, department=org_units["tax"], username="erp", display_name="ERP")
    _token, secret = org.issue_token(None, account, "calendar")
    client = Api(token=secret)
    english = client.get("/calendar/2026").json()
    chinese = client.client.get(
        "/api/v1/calendar/2026", HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).json()
    assert by_date(english)["2026-10-01"][0]["label"] == "National Day"
    assert by_date(chinese)["2026-10-01"][0]["label"] == "国庆节"
    assert by_date(chinese)["2026-02-16"][0]["label"] == "春节"
    assert by_date(chinese)["2026-10-01"][0]["name"] == "National Day"  # stored as the package gives it


def test_an_admin_adds_and_removes_a_local_day(admin, member, loaded_2026):
    created = admin.post("/calendar/local-days", {"date": "2026-10-07", "is_working_day": True, "name": "国庆值班"})
    assert created.status_code == 201
    assert created.json() == {
        "date": "2026-10-07", "is_working_day": True, "name": "国庆值班", "label": "国庆值班", "source": "local",
        "in_force": True,
    }  # fmt: skip
    days = by_date(member.get("/calendar/2026").json())["2026-10-07"]
    assert [(d["source"], d["in_force"]) for d in days] == [("official", False), ("local", True)]
    assert Event.objects.filter(action="calendar.local_day_added", actor_name="admin").count() == 1

    assert admin.delete("/calendar/local-days/2026-10-07").status_code == 204
    days = by_date(member.get("/calendar/2026").json())["2026-10-07"]
    assert [(d["source"], d["in_force"]) for d in days] == [("official", True)]
    again = admin.delete("/calendar/local-days/2026-10-07")
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"


def test_an_admin_loads_a_year(admin):
    first = admin.post("/calendar/2026/load")
    assert first.status_code == 200
    assert first.json() == {
        "year": 2026, "added": 39, "changed": 0, "removed": 0, "kept": 0, "local_days": 0,
        "package": f"chinesecalendar {holidays.package_version()}",
    }  # fmt: skip
    again = admin.post("/calendar/2026/load").json()
    assert (again["added"], again["kept"]) == (0, 39)
    unpublished = holidays.published_years()[1] + 1
    refused = admin.post(f"/calendar/{unpublished}/load")
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"]["year"].startswith(f"{unpublished}: not yet published in chinesecalendar")


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"date": "2026-02-30"}, "date", "2026-02-30 is not a date on the calendar."),
        ({"date": "2026-13-01"}, "date", "2026-13-01 is not a date on the calendar."),
        ({"date": "next friday"}, "date", "Give the date as YYYY-MM-DD, such as 2026-10-09."),
        ({"date": "1899-12-31"}, "date", "Give a date in the years 1900 to 2100."),
        ({"date": "2101-01-01"}, "date", "Give a date in the years 1900 to 2100."),
        ({"date": ""}, "date", "Give the date as YYYY-MM-DD, such as 2026-10-09."),
        ({"is_working_day": None}, "is_working_day", "Must be true or false."),
        ({"is_working_day": "maybe"}, "is_working_day", "Must be true or false."),
        ({"name": ""}, "name", "This field is required."),
        ({"name": "x" * 101}, "name", "At most 100 characters."),
        ({"colour": "red"}, "colour", "Unknown field."),
    ],
)
def test_bad_local_days_answer_422_naming_the_field(admin, body, field, reason):
    response = admin.post("/calendar/local-days", {"date": "2026-06-01", "is_working_day": False, "name": "x", **body})
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {field: reason}
    assert not CalendarDay.objects.exists()


def test_a_duplicate_local_day_answers_422_on_the_date(admin):
    day = {"date": "2026-06-01", "is_working_day": False, "name": "x"}
    assert admin.post("/calendar/local-days", day).status_code == 201
    duplicate = admin.post("/calendar/local-days", {**day, "is_working_day": True})
    assert duplicate.status_code == 422
    assert duplicate.json()["error"]["fields"] == {
        "date": "2026-06-01 is a local day already; remove it first to change it."
    }
    assert CalendarDay.objects.get().is_working_day is False


@pytest.mark.parametrize("year", ["1899", "2101", "0", "99999999999"])
def test_a_year_out_of_range_answers_422_naming_the_year(member, admin, year):
    for response in (member.get(f"/calendar/{year}"), admin.post(f"/calendar/{year}/load")):
        assert response.status_code == 422
        assert response.json()["error"]["fields"] == {"year": "Give a year from 1900 to 2100."}


def test_malformed_paths(member, admin):
    assert member.get("/calendar/twenty").status_code == 404
    bad = admin.delete("/calendar/local-days/2026-02-30")
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"] == {"date": "2026-02-30 is not a date on the calendar."}
    assert member.get("/calendar/1900").status_code == 200 and member.get("/calendar/2100").status_code == 200


def test_non_admins_get_403_and_change_nothing(people, loaded_2026):
    CalendarDay.objects.create(date=date(2026, 6, 1), name="x")
    before = CalendarDay.objects.count()
    for person in ("tax_steward", "hr_head", "auditor"):
        caller = Api(people[person])
        added = caller.post("/calendar/local-days", {"date": "2026-06-02", "is_working_day": False, "name": "x"})
        assert added.status_code == 403, person
        assert added.json()["error"]["message"] == "Only organization admins change the working-day calendar."
        assert caller.delete("/calendar/local-days/2026-06-01").status_code == 403
        assert caller.post("/calendar/2026/load").status_code == 403
    assert CalendarDay.objects.count() == before


def test_signed_out_callers_get_401(client):
    assert client.get("/api/v1/calendar/2026").status_code == 401
