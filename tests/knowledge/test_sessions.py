"""Sharing sessions through their services: scheduling, seats and the waiting list, edits and cancellation,
reminders with a moved clock, materials, attendance, ratings and the credit they earn, the calendar feed's key,
and the events and notifications each act leaves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sharehub.errors import Conflict, Forbidden, Invalid, TooLarge
from sharehub.events.models import Event
from sharehub.feeds.models import Notification
from sharehub.knowledge import sessions
from sharehub.knowledge import sessions_queries as queries
from sharehub.knowledge.models import Credit, Session, SessionMaterial, SessionRating, Signup
from tests.knowledge.sessions_helpers import move_to_past, schedule

pytestmark = pytest.mark.django_db


def _status(session, user) -> str | None:
    found = Signup.objects.filter(session=session, user=user).first()
    return found.status if found else None


def _last(action: str) -> Event:
    return Event.objects.filter(action=action).order_by("-seq").first()


# --- scheduling


def test_a_member_schedules_for_their_department(people, org_units):
    session = schedule(people["tax_member"], org_units["tax"], speakers=[people["tax_steward"]])
    assert session.host_department == org_units["tax"]
    assert session.starts_at.utcoffset() == timedelta(0)
    assert [s.pk for s in queries.speakers_in_order(session)] == [people["tax_steward"].pk]
    event = _last("session.scheduled")
    assert event.target_type == "knowledge.session" and event.target_id == str(session.pk)
    assert event.details["recipients"] == [people["tax_steward"].pk]


def test_only_members_of_the_host_department_schedule(people, org_units):
    with pytest.raises(Forbidden):
        schedule(people["health_member"], org_units["tax"])
    assert schedule(people["admin"], org_units["tax"]).pk
    assert not Session.objects.filter(created_by=people["health_member"]).exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": True}, "capacity"),
        ({"capacity": "12a"}, "capacity"),
        ({"link": "javascript:alert(1)", "place": ""}, "link"),
        ({"link": "ftp://example.org/x"}, "link"),
        ({"place": "", "link": ""}, "place"),
        ({"host_department": 99999999}, "host_department"),
        ({"host_department": "²"}, "host_department"),
        ({"speakers": [99999999]}, "speakers"),
        ({"speakers": "tax_member"}, "speakers"),
        ({"title": "bad\ud800"}, "title"),
        ({"starts_at": "yesterday"}, "starts_at"),
        ({"nonsense": 1}, "nonsense"),
    ],
)
def test_bad_input_names_the_field(people, org_units, changes, field):
    with pytest.raises(Invalid) as caught:
        schedule(people["tax_member"], org_units["tax"], **changes)
    assert field in caught.value.fields


def test_times_must_make_sense(people, org_units):
    now = timezone.now()
    tax = org_units["tax"]
    with pytest.raises(Invalid) as caught:
        schedule(people["tax_member"], tax, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))
    assert "starts_at" in caught.value.fields
    with pytest.raises(Invalid) as caught:
        schedule(people["tax_member"], tax, starts_at=now + timedelta(hours=2), ends_at=now + timedelta(hours=1))
    assert "ends_at" in caught.value.fields
    with pytest.raises(Invalid) as caught:
        schedule(people["tax_member"], tax, starts_at=now + timedelta(hours=2), ends_at=now + timedelta(days=9))
    assert "ends_at" in caught.value.fields


def test_control_characters_are_dropped(people, org_units):
    session = schedule(
        people["tax_member"],
        org_units["tax"],
        title="分享\x07会\n标题",
        description="第一行\x1b\n第二行",
        place="A\x01",
    )
    assert session.title == "分享会 标题"
    assert session.description == "第一行\n第二行"
    assert session.place == "A"


def test_a_naive_time_is_in_the_readers_zone(people, org_units):
    from zoneinfo import ZoneInfo

    start = (
        (timezone.now() + timedelta(days=3))
        .astimezone(ZoneInfo("Asia/Shanghai"))
        .replace(hour=15, minute=0, second=0, microsecond=0)
    )
    with timezone.override(ZoneInfo("Asia/Shanghai")):
        session = schedule(
            people["tax_member"],
            org_units["tax"],
            starts_at=start.replace(tzinfo=None),
            ends_at=(start + timedelta(hours=1)).replace(tzinfo=None),
        )
    assert session.starts_at.astimezone(ZoneInfo("UTC")).hour == 7


# --- seats and the waiting list


def test_signups_fill_the_seats_then_the_waiting_list(people, org_units):
    session = schedule(people["tax_member"], org_units["tax"], capacity=1)
    first = sessions.sign_up(people["health_member"], session)
    second = sessions.sign_up(people["social_member"], session)
    third = sessions.sign_up(people["hr_head"], session)
    assert (first.status, second.status, third.status) == ("confirmed", "waiting", "waiting")
    assert queries.waiting_position(second) == 1 and queries.waiting_position(third) == 2
    with pytest.raises(Conflict):
        sessions.sign_up(people["health_member"], session)


def test_a_freed_seat_goes_to_the_first_waiting_who_is_told(people, org_units, django_capture_on_commit_callbacks):
    session = schedule(people["tax_member"], org_units["tax"], capacity=1)
    sessions.sign_up(people["health_member"], session)
    sessions.sign_up(people["social_member"], session)
    sessions.sign_up(people["hr_head"], session)
    with django_capture_on_commit_callbacks(execute=True):
        promoted = sessions.cancel_signup(people["health_member"], session)
    assert [p.user_id for p in promoted] == [people["social_member"].pk]
    assert _status(session, people["social_member"]) == "confirmed"
    assert _status(session, people["hr_head"]) == "waiting"
    assert _status(session, people["health_member"]) == "cancelled"
    event = _last("session.promoted")
    assert event.details["recipients"] == [people["social_member"].pk]
    told = Notification.objects.filter(recipient=people["social_member"], event=event)
    assert told.count() == 1


def test_leaving_the_waiting_list_promotes_nobody(people, org_units):
    session = schedule(people["tax_member"], org_units["tax"], capacity=1)
    sessions.sign_up(people["health_member"], session)
    sessions.sign_up(people["social_member"], session)
    assert sessions.cancel_signup(people["social_member"], session) == []
    assert not Event.objects.filter(action="session.promoted").exists()


def test_signing_up_again_after_giving_up_queues_at_the_end(people, org_units):
    session = schedule(people["tax_member"], org_units["tax"], capacity=1)
    sessions.sign_up(people["health_member"], session)
    sessions.sign_up(people["social_member"], session)
    sessions.cancel_signup(people["health_member"], session)
    again = sessions.sign_up(people["health_member"], session)
    assert again.status == "waiting" and queries.waiting_position(again) == 1


def test_raising_capacity_promotes_and_lowering_unconfirms_nobody(people, org_units):
    session = schedule(people["tax_member"], org_units["tax"], capacity=1)
    for who in ("health_member", "social_member", "hr_head"):
        sessions.sign_up(people[who], session)
    sessions.update_session(people["tax_member"], session, {"capacity": 2})
    assert _status(session, people["social_member"]) == "confirmed"
    assert _status(session, people["hr_head"]) == "waiting"
    sessions.update_session(people["tax_member"], session, {"capacity": 1})
    assert Signup.objects.filter(session=session, status="confirmed").count() == 2
    joined = sessions.cancel_signup(people["health_member"], session)
    assert joined == []  # still two confirmed for one seat: nobody moves up


def test_no_signups_once_started_or_cancelled(people, org_units):
    session = schedule(people["tax_member"], org_units["tax"])
    move_to_past(session)
    with pytest.raises(Conflict):
        sessions.sign_up(people["health_member"], session)
    other = schedule(people["tax_member"], org_units["tax"])
    sessions.cancel_session(people["tax_member"], other)
    with pytest.raises(Conflict):
        sessions.sign_up(people["health_member"], other)


def test_service_accounts_do_not_sign_up(people, org_units):
    from sharehub.org import services as org

    session = schedule(people["tax_member"], org_units["tax"])
    robot = org.create_service_account(people["admin"], username="erp-robot", department=org_units["tax"])
    with pytest.raises(Forbidden):
        sessions.sign_up(robot, session)


# --- edits and cancellation


def test_an_edit_raises_the_sequence_and_tells_those_signed_up_of_a_new_time(people, org_units):
    session = schedule(people["tax_member"], org_units["tax"], capacity=1)
    sessions.sign_up(people["health_member"], session)
    sessions.sign_up(people["social_member"], session)
    sessions.update_session(people["tax_member"], session, {"title": "新标题"})
    session.refresh_from_db()
    assert session.sequence == 1
    assert _last("session.updated").details["recipients"] == []
    later = session.starts_at + timedelta(days=1)
    sessions.update_session(people["tax_member"], session, {"starts_at": later, "ends_at": later + timedelta(hours=2)})
    session.refresh_from_db()
    assert session.sequence == 2
    event = _last("session.updated")
    assert event.details["recipients"] == sorted([people["health_member"].pk, people["social_member"].pk])
    assert event.details["fields"] == ["ends_at", "starts_at"]
    sessions.update_session(people["tax_member"], session, {"title": "新标题"})  # unchanged: nothing recorded
    assert Event.objects.filter(action="session.updated").count() == 2


def test_who_may_change_a_session(people, org_units):
    session = schedule(people["tax_member"], org_units["tax"], speakers=[people["health_member"]])
    sessions.update_session(people["health_member"], session, {"place": "二楼"})  # a speaker
    sessions.update_session(people["tax_steward"], session, {"place": "一楼"})  # the host's steward
    with pytest.raises(Forbidden):
        sessions.update_session(people["social_member"], session, {"place": "地下室"})
    with pytest.raises(Forbidden):
        sessions.update_session(people["health_member"], session, {"host_department": org_units["hr"].pk})


def test_cancelling_tells_everyone_signed_up(people, org_units, django_capture_on_commit_callbacks):
    session = schedule(people["tax_member"], org_units["tax"], capacity=1)
    sessions.sign_up(people["health_member"], session)
    sessions.sign_up(people["social_member"], session)
    with django_capture_on_commit_callbacks(execute=True):
        sessions.cancel_session(people["tax_member"], session, "讲者出差")
    session.refresh_from_db()
    assert session.status == "cancelled" and session.sequence == 1
    event = _last("session.cancelled")
    assert set(event.details["recipients"]) == {people["health_member"].pk, people["social_member"].pk}
    assert Notification.objects.filter(event=event).count() == 2
    with pytest.raises(Conflict):
        sessions.cancel_session(people["tax_member"], session)
    with pytest.raises(Conflict):
        sessions.update_session(people["tax_member"], session, {"title": "x"})


# --- reminders


def test_reminders_go_once_to_the_confirmed_about_a_day_ahead(people, org_units, settings):
    settings.SHARING_SESSION_REMINDER_HOURS = 24
    session = schedule(people["tax_member"], org_units["tax"], capacity=1, hours=72)
    sessions.sign_up(people["health_member"], session)
    sessions.sign_up(people["social_member"], session)
    now = timezone.now()
    assert sessions.send_reminders(now) == 0  # three days ahead
    assert sessions.send_reminders(now + timedelta(hours=47)) == 0
    assert sessions.send_reminders(now + timedelta(hours=49)) == 1
    event = _last("session.reminder")
    assert event.details["recipients"] == [people["health_member"].pk]
    assert event.actor_id is None
    assert sessions.send_reminders(now + timedelta(hours=50)) == 0  # once
    session.refresh_from_db()
    assert session.reminded_at is not None


def test_a_moved_session_is_reminded_again_and_a_cancelled_one_never(people, org_units):
    session = schedule(people["tax_member"], org_units["tax"], hours=10)
    assert sessions.send_reminders() == 1
    later = timezone.now() + timedelta(hours=12)
    sessions.update_session(people["tax_member"], session, {"starts_at": later, "ends_at": later + timedelta(hours=1)})
    assert sessions.send_reminders() == 1
    other = schedule(people["tax_member"], org_units["tax"], hours=5)
    sessions.cancel_session(people["tax_member"], other)
    assert sessions.send_reminders() == 0


def test_the_reminder_job_is_registered():
    from sharehub import worker

    assert worker._periodic["session reminders"] is sessions.send_reminders


# --- after the session


def test_materials_are_stored_like_attachments(people, org_units, settings):
    session = schedule(people["tax_member"], org_units["tax"])
    material = sessions.add_material(people["tax_member"], session, "../../slides.pdf", [b"%PDF-1.4 demo"])
    assert material.filename == "slides.pdf"
    assert material.blob.size == len(b"%PDF-1.4 demo")
    assert _last("session.material_added").details["filename"] == "slides.pdf"
    with pytest.raises(Forbidden):
        sessions.add_material(people["health_member"], session, "x.txt", [b"x"])
    settings.UPLOAD_LIMIT_BYTES = 10
    with pytest.raises(TooLarge):
        sessions.add_material(people["tax_member"], session, "big.txt", [b"x" * 11])
    sessions.remove_material(people["tax_member"], material)
    assert not SessionMaterial.objects.exists()


def test_recording_link_must_be_web(people, org_units):
    session = schedule(people["tax_member"], org_units["tax"])
    with pytest.raises(Invalid):
        sessions.set_recording(people["tax_member"], session, "javascript:alert(1)")
    sessions.set_recording(people["tax_member"], session, "https://video.example.org/r/1")
    session.refresh_from_db()
    assert session.recording_url == "https://video.example.org/r/1"


def test_attendance_after_the_start_only_for_the_confirmed(people, org_units):
    session = schedule(people["tax_member"], org_units["tax"], capacity=1)
    sessions.sign_up(people["health_member"], session)
    sessions.sign_up(people["social_member"], session)
    with pytest.raises(Conflict):
        sessions.mark_attendance(people["tax_member"], session, [people["health_member"].pk])
    move_to_past(session)
    with pytest.raises(Invalid):
        sessions.mark_attendance(people["tax_member"], session, [people["social_member"].pk])  # waiting
    assert sessions.mark_attendance(people["tax_member"], session, []) == {"present": 0, "absent": 1}
    assert sessions.mark_attendance(people["tax_member"], session, [people["health_member"].pk]) == {
        "present": 1,
        "absent": 0,
    }


def test_ratings_by_those_with_a_seat_once_changeable(people, org_units):
    session = schedule(people["tax_member"], org_units["tax"], capacity=1)
    sessions.sign_up(people["health_member"], session)
    sessions.sign_up(people["social_member"], session)
    with pytest.raises(Conflict):
        sessions.rate_session(people["health_member"], session, 5)
    move_to_past(session)
    with pytest.raises(Forbidden):
        sessions.rate_session(people["social_member"], session, 5)  # only on the waiting list
    with pytest.raises(Invalid):
        sessions.rate_session(people["health_member"], session, 6)
    with pytest.raises(Invalid):
        sessions.rate_session(people["health_member"], session, True)
    sessions.rate_session(people["health_member"], session, 4, "很有收获")
    sessions.rate_session(people["health_member"], session, 5, "改成五星")
    rating = SessionRating.objects.get(session=session)
    assert (rating.stars, rating.comment) == (5, "改成五星")
    sessions.mark_attendance(people["tax_member"], session, [])
    with pytest.raises(Forbidden):
        sessions.rate_session(people["health_member"], session, 1)


def test_a_rating_from_another_department_credits_the_first_speaker(people, org_units):
    speaker, second = people["tax_steward"], people["tax_member"]
    session = schedule(people["tax_member"], org_units["tax"], capacity=5, speakers=[speaker, second])
    for who in ("health_member", "tax_member"):
        sessions.sign_up(people[who], session)
    move_to_past(session)
    sessions.rate_session(people["health_member"], session, 5)
    credit = Credit.objects.get()
    assert credit.kind == "session" and credit.item == f"session:{session.pk}"
    assert credit.person_id == speaker.pk and credit.department_id == org_units["tax"].pk
    assert credit.actor_id == people["health_member"].pk
    sessions.rate_session(people["health_member"], session, 3)  # changing it earns nothing more
    sessions.rate_session(people["tax_member"], session, 5)  # same department: nothing
    assert Credit.objects.count() == 1


def test_speakers_keep_the_order_they_were_named_in(people, org_units):
    named = sorted((people["tax_steward"], people["tax_member"], people["hr_head"]), key=lambda u: -u.pk)
    session = schedule(people["tax_member"], org_units["tax"], speakers=named)
    assert queries.speakers_in_order(session) == named
    again = [named[2], named[0]]
    sessions.update_session(people["tax_member"], session, {"speakers": again})
    assert queries.speakers_in_order(session) == again


def test_without_speakers_the_organizer_is_credited(people, org_units):
    session = schedule(people["tax_member"], org_units["tax"])
    sessions.sign_up(people["hr_head"], session)
    move_to_past(session)
    sessions.rate_session(people["hr_head"], session, 4)
    assert Credit.objects.get().person_id == people["tax_member"].pk


# --- the calendar feed's key


def test_a_feed_token_is_the_same_on_every_visit(people, monkeypatch):
    import time

    first = queries.feed_token(people["tax_member"])
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert queries.feed_token(people["tax_member"]) == first
    assert queries.user_for_feed_token(first) == people["tax_member"]


def test_a_feed_token_names_its_person_until_renewed(people):
    user = people["health_member"]
    token = queries.feed_token(user)
    assert queries.user_for_feed_token(token) == user
    sessions.renew_feed(user)
    assert queries.user_for_feed_token(token) is None
    fresh = queries.feed_token(user)
    assert fresh != token and queries.user_for_feed_token(fresh) == user
    assert queries.user_for_feed_token(fresh[:-2] + "xx") is None
    assert queries.user_for_feed_token("garbage") is None
    user.is_active = False
    user.save()
    assert queries.user_for_feed_token(fresh) is None


def test_every_session_action_is_described():
    from sharehub.events import describe

    for action in (
        "session.scheduled", "session.updated", "session.cancelled", "session.signed_up",
        "session.signup_cancelled", "session.promoted", "session.reminder", "session.material_added",
        "session.material_removed", "session.recording_set", "session.attendance_marked", "session.rated",
        "session.feed_renewed",
    ):  # fmt: skip
        assert describe.is_registered(action), action
