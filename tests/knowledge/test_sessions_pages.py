"""The sharing-session pages: the lists, the month calendar, a session's page and its forms, .ics files, the
personal feed; odd input gets a 4xx; a person who may not do something is refused on every route."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone, translation
from icalendar import Calendar

from sharehub.knowledge import sessions
from sharehub.knowledge import sessions_queries as queries
from sharehub.knowledge.models import Session, SessionMaterial, SessionRating, Signup
from tests.knowledge.sessions_helpers import move_to_past, schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(people, org_units):
    return schedule(
        people["tax_member"], org_units["tax"], capacity=1, speakers=[people["tax_steward"]], title="金税四期分享"
    )


def _form(org_units, **changes) -> dict:
    start = timezone.localtime(timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    data = {
        "title": "数据共享实践",
        "host_department": str(org_units["tax"].pk),
        "speakers": "tax_steward, hr_head",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "place": "三楼会议室",
        "link": "",
        "capacity": "30",
        "description": "## 议程\n1. 介绍",
    }
    data.update(changes)
    return data


# --- lists and the calendar


def test_upcoming_list_shows_seats_and_my_place(client_for, people, session):
    sessions.sign_up(people["health_member"], session)
    page = client_for(people["health_member"]).get("/sessions/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "金税四期分享" in text and "You have a seat" in text and "sh-full" in text
    assert 'href="/help/sessions/"' in text


def test_department_filter_and_past_tab(client_for, people, org_units, session):
    other = schedule(people["health_member"], org_units["health"], title="卫健委分享")
    client = client_for(people["social_member"])
    text = client.get("/sessions/", {"department": org_units["health"].pk}).content.decode()
    assert "卫健委分享" in text and "金税四期分享" not in text
    assert client.get("/sessions/", {"department": "x²"}).status_code == 200
    sessions.sign_up(people["social_member"], other)
    move_to_past(other)
    sessions.rate_session(people["social_member"], other, 4, "好")
    past = client.get("/sessions/past/").content.decode()
    assert "卫健委分享" in past and "4.0" in past and "金税四期分享" not in past


def test_month_calendar(client_for, people, session):
    month = timezone.localtime(session.starts_at).strftime("%Y-%m")
    client = client_for(people["health_member"])
    page = client.get("/sessions/calendar/", {"month": month})
    assert page.status_code == 200
    text = page.content.decode()
    assert "sh-month-grid" in text and text.count("金税四期分享") >= 2  # the grid and the phone list
    for odd in ("2026-13", "abc", "99999-01", "-1-1", ""):
        assert client.get("/sessions/calendar/", {"month": odd}).status_code == 200


def test_pages_in_chinese(client_for, people, session):
    client = client_for(people["health_member"])
    with translation.override("zh-hans"):
        for url in ("/sessions/", f"/sessions/{session.pk}/", "/sessions/calendar/", "/sessions/feed/"):
            response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
            assert response.status_code == 200, url
    assert "分享会" in client.get("/sessions/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


def test_anonymous_is_sent_to_sign_in(session):
    for url in ("/sessions/", f"/sessions/{session.pk}/", f"/sessions/{session.pk}/invite.ics"):
        response = Client().get(url)
        assert response.status_code == 302 and "/login" in response["Location"]


# --- a session's page


def test_session_page_signup_waiting_and_promotion(client_for, people, session):
    first, second = client_for(people["health_member"]), client_for(people["social_member"])
    page = first.get(f"/sessions/{session.pk}/").content.decode()
    assert "1 seat left" in page and "sh-signup" in page and "<h2>" not in page
    assert first.post(f"/sessions/{session.pk}/signup/").status_code == 302
    assert "You have a seat." in first.get(f"/sessions/{session.pk}/").content.decode()
    second.post(f"/sessions/{session.pk}/signup/")
    assert "You are number 1 on the waiting list." in second.get(f"/sessions/{session.pk}/").content.decode()
    assert first.post(f"/sessions/{session.pk}/signup/").status_code == 409
    first.post(f"/sessions/{session.pk}/signup/cancel/")
    assert "You have a seat." in second.get(f"/sessions/{session.pk}/").content.decode()


def test_description_is_sanitized(client_for, people, org_units):
    session = schedule(
        people["tax_member"], org_units["tax"], description="<script>alert(1)</script> [x](javascript:alert(1))"
    )
    text = client_for(people["health_member"]).get(f"/sessions/{session.pk}/").content.decode()
    assert "<script>alert(1)" not in text and 'href="javascript:' not in text


def test_unknown_sessions_are_404(client_for, people, session):
    client = client_for(people["health_member"])
    for url in ("/sessions/99999999/", "/sessions/99999999999999999999/", "/sessions/99999999/invite.ics"):
        assert client.get(url).status_code == 404, url
    assert client.post("/sessions/99999999/signup/").status_code == 404


def test_organizer_routes_refuse_others(client_for, people, session):
    client = client_for(people["health_member"])
    assert client.get(f"/sessions/{session.pk}/edit/").status_code == 403
    assert client.post(f"/sessions/{session.pk}/cancel/").status_code == 403
    assert client.post(f"/sessions/{session.pk}/recording/", {"recording_url": "https://x.org"}).status_code == 403
    upload = SimpleUploadedFile("a.txt", b"hello")
    assert client.post(f"/sessions/{session.pk}/materials/", {"file": upload}).status_code == 403
    assert client.post(f"/sessions/{session.pk}/attendance/", {"present": []}).status_code == 403
    assert "sh-attendees" not in client.get(f"/sessions/{session.pk}/").content.decode()
    session.refresh_from_db()
    assert session.status == "scheduled" and session.recording_url == ""


# --- scheduling and editing through the form


def test_schedule_through_the_form(client_for, people, org_units):
    client = client_for(people["tax_member"])
    page = client.get("/sessions/new/")
    assert page.status_code == 200 and 'type="datetime-local"' in page.content.decode()
    response = client.post("/sessions/new/", _form(org_units))
    assert response.status_code == 302, response.content.decode()[:2000]
    made = Session.objects.get(title="数据共享实践")
    assert [u.username for u in queries.speakers_in_order(made)] == ["tax_steward", "hr_head"]
    assert made.capacity == 30


def test_form_errors_come_back_on_the_form(client_for, people, org_units):
    client = client_for(people["tax_member"])
    start = timezone.localtime(timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    cases = [
        ({"starts_at": start}, "The session cannot start in the past."),
        ({"speakers": "nobody_here"}, "No such people: nobody_here."),
        ({"place": "", "link": ""}, "Give a place, an online link, or both."),
        ({"link": "javascript:alert(1)"}, "Enter a web address starting with http:// or https://."),
        ({"capacity": "0"}, "greater than or equal to 1"),
        ({"host_department": str(org_units["health"].pk)}, "Select a valid choice"),
        ({"title": "标题\x00"}, "Null characters are not allowed."),
    ]
    for changes, message in cases:
        response = client.post("/sessions/new/", _form(org_units, **changes))
        assert response.status_code == 422, changes
        assert message in response.content.decode(), changes
    assert not Session.objects.exists()


def test_people_of_no_department_cannot_schedule(client_for, people):
    from tests import factories

    loner = factories.person("loner")
    assert client_for(loner).get("/sessions/new/").status_code == 403
    assert "sh-schedule" not in client_for(loner).get("/sessions/").content.decode()


def test_edit_through_the_form(client_for, people, org_units, session):
    client = client_for(people["tax_member"])
    page = client.get(f"/sessions/{session.pk}/edit/")
    assert page.status_code == 200 and "金税四期分享" in page.content.decode()
    data = _form(org_units, title="改过的标题", speakers="tax_steward")
    assert client.post(f"/sessions/{session.pk}/edit/", data).status_code == 302
    session.refresh_from_db()
    assert session.title == "改过的标题" and session.sequence == 1


def test_cancel_through_the_page(client_for, people, session):
    sessions.sign_up(people["health_member"], session)
    client = client_for(people["tax_member"])
    assert client.post(f"/sessions/{session.pk}/cancel/", {"reason": "讲者出差"}).status_code == 302
    session.refresh_from_db()
    assert session.status == "cancelled"
    text = client_for(people["health_member"]).get(f"/sessions/{session.pk}/").content.decode()
    assert "This session was cancelled." in text and "sh-signup" not in text
    assert client.get(f"/sessions/{session.pk}/edit/").status_code == 409


# --- after the session


def test_materials_upload_download_and_remove(client_for, people, session):
    organizer = client_for(people["tax_member"])
    upload = SimpleUploadedFile("讲义.txt", "第一页".encode())
    assert organizer.post(f"/sessions/{session.pk}/materials/", {"file": upload}).status_code == 302
    material = SessionMaterial.objects.get()
    reader = client_for(people["health_member"])
    download = reader.get(f"/sessions/{session.pk}/materials/{material.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == "第一页".encode()
    assert download["X-Content-Type-Options"] == "nosniff"
    other = schedule(people["tax_member"], session.host_department)
    assert reader.get(f"/sessions/{other.pk}/materials/{material.pk}/").status_code == 404
    assert organizer.post(f"/sessions/{session.pk}/materials/", {}).status_code == 422
    assert reader.post(f"/sessions/{session.pk}/materials/{material.pk}/remove/").status_code == 403
    assert organizer.post(f"/sessions/{session.pk}/materials/{material.pk}/remove/").status_code == 302
    assert not SessionMaterial.objects.exists()


def test_too_large_material(client_for, people, session, settings):
    settings.UPLOAD_LIMIT_BYTES = 4
    upload = SimpleUploadedFile("big.txt", b"12345")
    response = client_for(people["tax_member"]).post(f"/sessions/{session.pk}/materials/", {"file": upload})
    assert response.status_code == 413 and "sh-upload-error" in response.content.decode()


def test_attendance_and_rating_after_the_start(client_for, people, session):
    sessions.sign_up(people["health_member"], session)
    move_to_past(session)
    organizer = client_for(people["tax_member"])
    page = organizer.get(f"/sessions/{session.pk}/").content.decode()
    assert "sh-attendees" in page and f'value="{people["health_member"].pk}"' in page
    response = organizer.post(f"/sessions/{session.pk}/attendance/", {"present": [people["health_member"].pk]})
    assert response.status_code == 302
    assert Signup.objects.get(user=people["health_member"]).attended is True
    rater = client_for(people["health_member"])
    assert "sh-rate-form" in rater.get(f"/sessions/{session.pk}/").content.decode()
    assert rater.post(f"/sessions/{session.pk}/rate/", {"stars": "9"}).status_code == 422
    assert rater.post(f"/sessions/{session.pk}/rate/", {"stars": "5", "comment": "实用"}).status_code == 302
    assert SessionRating.objects.get().stars == 5
    assert "实用" in client_for(people["social_member"]).get(f"/sessions/{session.pk}/").content.decode()
    assert client_for(people["social_member"]).post(f"/sessions/{session.pk}/rate/", {"stars": "5"}).status_code == 403


# --- iCalendar


def test_invitation_ics(client_for, people, session):
    sessions.sign_up(people["health_member"], session)
    response = client_for(people["health_member"]).get(f"/sessions/{session.pk}/invite.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["method"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["uid"]) == f"session-{session.pk}@sharehub"
    assert int(event["sequence"]) == 0
    assert event.decoded("dtstart") == session.starts_at
    assert event["dtstart"].to_ical().endswith(b"Z")
    assert str(event["location"]) == "三楼会议室"
    assert str(event["url"]).endswith(f"/sessions/{session.pk}/")
    assert "金税四期分享" in str(event["summary"])


def test_cancelled_invitation_is_a_cancel_with_a_higher_sequence(client_for, people, session):
    sessions.update_session(people["tax_member"], session, {"place": "二楼"})
    sessions.cancel_session(people["tax_member"], session)
    response = client_for(people["health_member"]).get(f"/sessions/{session.pk}/invite.ics")
    calendar = Calendar.from_ical(response.content)
    (event,) = calendar.walk("VEVENT")
    assert str(calendar["method"]) == "CANCEL" and str(event["status"]) == "CANCELLED"
    assert int(event["sequence"]) == 2 and str(event["uid"]) == f"session-{session.pk}@sharehub"


def test_personal_feed(client_for, people, org_units, session):
    other = schedule(
        people["health_member"], org_units["health"], title="卫健委分享", place="", link="https://m.example.org/1"
    )
    sessions.sign_up(people["health_member"], session)
    client = client_for(people["health_member"])
    page = client.get("/sessions/feed/").content.decode()
    token = queries.feed_token(people["health_member"])
    assert f"/sessions/feed/{token}.ics" in page
    response = Client().get(f"/sessions/feed/{token}.ics")  # no session cookie
    assert response.status_code == 200 and response["Content-Type"] == "text/calendar; charset=utf-8"
    events = {str(e["uid"]): e for e in Calendar.from_ical(response.content).walk("VEVENT")}
    assert set(events) == {f"session-{session.pk}@sharehub", f"session-{other.pk}@sharehub"}
    assert "(you have a seat)" in str(events[f"session-{session.pk}@sharehub"]["summary"])
    assert "seat" not in str(events[f"session-{other.pk}@sharehub"]["summary"])
    assert str(events[f"session-{other.pk}@sharehub"]["location"]) == "https://m.example.org/1"
    assert client.post("/sessions/feed/renew/").status_code == 302
    assert Client().get(f"/sessions/feed/{token}.ics").status_code == 404
    for bad in ("x", "a" * 400, token[:-3] + "abc", "%00"):
        assert Client().get(f"/sessions/feed/{bad}.ics").status_code == 404
