"""The sharing-session API: list (cursor), schedule, read, change, cancel, sign up, give up a seat, rate,
attendance, materials; the error shape for odd input; organizer routes refuse others; unknown ids are 404."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from sharehub.knowledge import sessions
from sharehub.knowledge.models import Credit, Session
from tests.api.conftest import Api
from tests.knowledge.sessions_helpers import move_to_past, schedule

pytestmark = pytest.mark.django_db

SESSION_KEYS = {
    "id", "title", "description", "description_html", "host_department", "speakers", "starts_at", "ends_at", "place",
    "link", "capacity", "confirmed", "waiting", "seats_left", "status", "sequence", "recording_url", "rating",
    "my_signup", "can_manage", "url", "ics_url", "created_at", "updated_at",
}  # fmt: skip


def _body(org_units, **changes) -> dict:
    start = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    data = {
        "title": "接口分享",
        "host_department": org_units["tax"].pk,
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
        "place": "会议室",
        "capacity": 1,
    }
    data.update(changes)
    return data


def _error(response) -> dict:
    return response.json()["error"]


def test_schedule_read_and_list(people, org_units):
    api = Api(people["tax_member"])
    made = api.post("/sessions", _body(org_units, speakers=[people["tax_steward"].pk, people["hr_head"].pk]))
    assert made.status_code == 201, made.content
    body = made.json()
    assert set(body) == SESSION_KEYS
    assert [s["username"] for s in body["speakers"]] == ["tax_steward", "hr_head"]
    assert body["seats_left"] == 1 and body["can_manage"] and body["my_signup"] is None
    reader = Api(people["health_member"])
    got = reader.get(f"/sessions/{body['id']}").json()
    assert got["can_manage"] is False and got["title"] == "接口分享"
    listed = reader.get("/sessions").json()
    assert [s["id"] for s in listed["items"]] == [body["id"]] and listed["next_cursor"] is None


def test_cursor_pages_through_upcoming(people, org_units):
    made = [schedule(people["tax_member"], org_units["tax"], hours=24 + i) for i in range(5)]
    api = Api(people["health_member"])
    seen, cursor = [], None
    while True:
        page = api.get("/sessions", {"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [s.pk for s in made]
    assert api.get("/sessions", {"cursor": "!!bad"}).status_code == 422
    assert api.get("/sessions", {"when": "soon"}).status_code == 422
    assert api.get("/sessions", {"department": org_units["health"].pk}).json()["items"] == []


def test_signup_waiting_cancel_and_promotion(people, org_units):
    session = schedule(people["tax_member"], org_units["tax"], capacity=1)
    first, second = Api(people["health_member"]), Api(people["social_member"])
    assert first.post(f"/sessions/{session.pk}/signup").json() == {
        "session": session.pk,
        "status": "confirmed",
        "waiting_position": None,
    }
    assert second.post(f"/sessions/{session.pk}/signup").json()["waiting_position"] == 1
    again = first.post(f"/sessions/{session.pk}/signup")
    assert again.status_code == 409 and _error(again)["code"] == "conflict"
    assert first.delete(f"/sessions/{session.pk}/signup").json() == {"session": session.pk, "promoted": 1}
    assert second.get(f"/sessions/{session.pk}").json()["my_signup"] == {
        "status": "confirmed",
        "waiting_position": None,
    }
    assert first.delete(f"/sessions/{session.pk}/signup").status_code == 409


def test_update_cancel_and_organizer_only(people, org_units):
    session = schedule(people["tax_member"], org_units["tax"])
    outsider = Api(people["health_member"])
    refused = outsider.patch(f"/sessions/{session.pk}", {"title": "x"})
    assert refused.status_code == 403 and _error(refused)["code"] == "forbidden"
    assert outsider.post(f"/sessions/{session.pk}/cancel", {}).status_code == 403
    organizer = Api(people["tax_member"])
    changed = organizer.patch(f"/sessions/{session.pk}", {"title": "新", "recording_url": "https://v.example.org/1"})
    assert changed.status_code == 200 and changed.json()["sequence"] == 1
    assert changed.json()["recording_url"] == "https://v.example.org/1"
    cancelled = organizer.post(f"/sessions/{session.pk}/cancel", {"reason": "延期"}).json()
    assert cancelled["status"] == "cancelled" and cancelled["sequence"] == 2
    assert organizer.patch(f"/sessions/{session.pk}", {"title": "y"}).status_code == 409


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"capacity": 0}, "capacity"),
        ({"capacity": "3"}, "capacity"),
        ({"capacity": True}, "capacity"),
        ({"host_department": "1"}, "host_department"),
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"starts_at": 12345}, "starts_at"),
        ({"link": "javascript:alert(1)"}, "link"),
        ({"speakers": [0]}, "speakers"),
        ({"speakers": [99999999]}, "speakers"),
        ({"title": "x" * 201}, "title"),
        ({"title": "a\u0000b"}, "title"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_bodies_get_422_naming_the_field(people, org_units, changes, field):
    response = Api(people["tax_member"]).post("/sessions", _body(org_units, **changes))
    assert response.status_code == 422, response.content
    assert any(field in key for key in _error(response)["fields"]), _error(response)
    assert not Session.objects.exists()


def test_past_start_and_foreign_department(people, org_units):
    api = Api(people["tax_member"])
    past = datetime.now(UTC) - timedelta(hours=3)
    response = api.post(
        "/sessions", _body(org_units, starts_at=past.isoformat(), ends_at=datetime.now(UTC).isoformat())
    )
    assert response.status_code == 422 and "starts_at" in _error(response)["fields"]
    response = api.post("/sessions", _body(org_units, host_department=org_units["health"].pk))
    assert response.status_code == 403


def test_unknown_ids_are_404(people):
    api = Api(people["health_member"])
    for path in ("/sessions/99999999", "/sessions/99999999/materials"):
        assert api.get(path).status_code == 404
    assert api.post("/sessions/99999999/signup").status_code == 404
    assert api.get("/sessions/0").status_code == 404
    assert Api().get("/sessions").status_code == 401


def test_rating_attendance_and_credit(people, org_units):
    session = schedule(people["tax_member"], org_units["tax"], capacity=3, speakers=[people["tax_steward"]])
    sessions.sign_up(people["health_member"], session)
    rater = Api(people["health_member"])
    early = rater._send("put", f"/sessions/{session.pk}/rating", {"stars": 5})
    assert early.status_code == 409
    move_to_past(session)
    assert rater._send("put", f"/sessions/{session.pk}/rating", {"stars": 0}).status_code == 422
    assert rater._send("put", f"/sessions/{session.pk}/rating", {"stars": "5"}).status_code == 422
    rated = rater._send("put", f"/sessions/{session.pk}/rating", {"stars": 4, "comment": "不错"})
    assert rated.status_code == 200 and rated.json()["stars"] == 4
    assert Credit.objects.get().person_id == people["tax_steward"].pk
    listed = Api(people["social_member"]).get("/sessions", {"when": "past"}).json()["items"]
    assert listed[0]["rating"] == {"average": 4.0, "count": 1}
    organizer = Api(people["tax_member"])
    marked = organizer.post(f"/sessions/{session.pk}/attendance", {"present": [people["health_member"].pk]})
    assert marked.json() == {"present": 1, "absent": 0}
    assert rater.post(f"/sessions/{session.pk}/attendance", {"present": []}).status_code == 403


def test_materials(people, org_units):
    session = schedule(people["tax_member"], org_units["tax"])
    organizer = Api(people["tax_member"])
    made = organizer.upload(f"/sessions/{session.pk}/materials", "slides.txt", "讲义".encode())
    assert made.status_code == 201, made.content
    material = made.json()
    reader = Api(people["health_member"])
    assert [m["id"] for m in reader.get(f"/sessions/{session.pk}/materials").json()] == [material["id"]]
    download = reader.client.get(material["download_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == "讲义".encode()
    assert reader.upload(f"/sessions/{session.pk}/materials", "x.txt", b"x").status_code == 403
    assert reader.delete(f"/sessions/{session.pk}/materials/{material['id']}").status_code == 403
    assert organizer.delete(f"/sessions/{session.pk}/materials/{material['id']}").status_code == 204
    assert reader.client.get(material["download_url"]).status_code == 404
