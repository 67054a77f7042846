"""Notifications through the API: the people involved hear of each step of the access process; they
list, count and mark their own notifications, and nobody else's."""

from __future__ import annotations

import pytest
from django.utils import translation

from sharehub.events.consumers import run_pending
from sharehub.events.models import Event
from sharehub.feeds import messages
from sharehub.feeds.models import Notification
from tests import factories
from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db

ASK = {"purpose": "核验纳税人信息", "use_category": "verification", "period_days": 30, "accept_terms": True}
ITEM_KEYS = {"id", "created_at", "read", "action", "actor", "text", "link"}


def items(client, **params) -> list[dict]:
    response = client.get("/notifications", params)
    assert response.status_code == 200, response.content
    return response.json()["items"]


def unread(client) -> int:
    response = client.get("/notifications/unread-count")
    assert response.status_code == 200, response.content
    return response.json()["unread"]


@pytest.fixture
def conditional(catalog):
    return catalog["conditional"]


@pytest.fixture
def requested(api_as, people, conditional) -> int:
    response = api_as(people["health_member"]).post(f"/resources/{conditional.pk}/requests", ASK)
    assert response.status_code == 201, response.content
    run_pending()
    return response.json()["id"]


def test_steward_hears_of_a_new_request(api_as, people, conditional, requested):
    steward = api_as(people["tax_steward"])
    [item] = items(steward)
    assert set(item) == ITEM_KEYS
    assert item["action"] == "access.requested"
    assert item["read"] is False
    assert item["text"] == f"health_member (卫生健康委员会) requests access to {conditional.title}."
    assert item["link"] == f"/requests/{requested}/"
    actor = people["health_member"]
    assert item["actor"] == {"id": actor.pk, "display_name": "health_member", "departments": ["卫生健康委员会"]}
    # the actor is not told of their own action
    assert items(api_as(people["health_member"])) == []
    assert unread(steward) == 1


def test_requester_hears_of_each_decision(api_as, people, conditional, requested):
    member = api_as(people["health_member"])
    steward = api_as(people["tax_steward"])
    steward.post(f"/requests/{requested}/ask", {"question": "用于哪个系统？"})
    run_pending()
    [asked] = items(member)
    assert asked["action"] == "access.info_asked" and "用于哪个系统？" in asked["text"]
    member.post(f"/requests/{requested}/answer", {"answer": "征管系统"})
    run_pending()
    assert [i["action"] for i in items(steward)] == ["access.info_given", "access.requested"]
    steward.post(f"/requests/{requested}/approve", {})
    run_pending()
    assert {i["action"] for i in items(member)[:2]} == {"grant.created", "access.approved"}
    by_action = {i["action"]: i for i in items(member)}
    assert by_action["access.approved"]["text"] == f"Your request for {conditional.title} was approved."
    assert by_action["grant.created"]["text"] == f"You may now read {conditional.title}."
    assert by_action["grant.created"]["link"] == f"/resources/{conditional.code}/"
    grant_id = member.get(f"/requests/{requested}").json()["grant"]["id"]
    steward.post(f"/grants/{grant_id}/revoke", {"reason": "项目结束"})
    run_pending()
    latest = items(member)[0]
    assert latest["action"] == "grant.revoked"
    assert latest["text"] == f"Your access to {conditional.title} was revoked: 项目结束"
    assert unread(member) == 4


def test_rejection_reason_reaches_the_requester(api_as, people, conditional, requested):
    api_as(people["tax_steward"]).post(f"/requests/{requested}/reject", {"reason": "用途不明确"})
    run_pending()
    [item] = items(api_as(people["health_member"]))
    assert item["action"] == "access.rejected"
    assert item["text"] == f"Your request for {conditional.title} was rejected: 用途不明确"


def test_text_is_in_the_callers_language(api_as, people, requested):
    steward = api_as(people["tax_steward"])
    steward.headers["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    response = steward.get("/notifications")
    assert response["Content-Language"] == "zh-hans"
    [item] = response.json()["items"]
    event = Event.objects.get(action="access.requested")
    with translation.override("zh-hans"):
        expected, _link = messages.render(event)
    assert item["text"] == expected


def test_unread_filter_and_mark_read_by_ids(api_as, people, org_units, catalog, requested):
    other = api_as(people["social_member"]).post(f"/resources/{catalog['conditional'].pk}/requests", ASK)
    assert other.status_code == 201
    run_pending()
    steward = api_as(people["tax_steward"])
    first, second = items(steward)
    assert unread(steward) == 2
    response = steward.post("/notifications/read", {"ids": [second["id"]]})
    assert response.status_code == 200, response.content
    assert response.json() == {"marked": 1, "unread": 1}
    assert [i["id"] for i in items(steward, unread="true")] == [first["id"]]
    assert {i["id"]: i["read"] for i in items(steward)} == {first["id"]: False, second["id"]: True}
    # marking again changes nothing
    assert steward.post("/notifications/read", {"ids": [second["id"]]}).json() == {"marked": 0, "unread": 1}
    assert unread(steward) == 1


def test_mark_all_read(api_as, people, catalog, requested):
    api_as(people["social_member"]).post(f"/resources/{catalog['conditional'].pk}/requests", ASK)
    run_pending()
    steward = api_as(people["tax_steward"])
    assert steward.post("/notifications/read", {}).json() == {"marked": 2, "unread": 0}
    assert items(steward, unread="true") == []
    assert all(i["read"] for i in items(steward))
    assert unread(steward) == 0


def test_nobody_marks_or_sees_anothers_notifications(api_as, people, requested):
    steward_note = Notification.objects.get(recipient=people["tax_steward"])
    intruder = api_as(people["health_member"])
    assert intruder.post("/notifications/read", {"ids": [steward_note.pk]}).json() == {"marked": 0, "unread": 0}
    assert intruder.post("/notifications/read", {}).json()["marked"] == 0
    steward_note.refresh_from_db()
    assert steward_note.read_at is None
    assert items(intruder) == []
    assert unread(api_as(people["tax_steward"])) == 1


def test_cursor_walks_every_notification_once(api_as, people, org_units, catalog, requested):
    for n in range(4):
        person = factories.member(org_units["health"], "member", username=f"h{n}")
        assert api_as(person).post(f"/resources/{catalog['conditional'].pk}/requests", ASK).status_code == 201
    run_pending()
    steward = api_as(people["tax_steward"])
    seen, cursor = [], None
    while True:
        response = steward.get("/notifications", {"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200
        seen += [i["id"] for i in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 5 and len(set(seen)) == 5
    assert seen == [i["id"] for i in items(steward)]
    bad = steward.get("/notifications", {"cursor": "%%%"})
    assert bad.status_code == 422 and "cursor" in error_of(bad)["fields"]


@pytest.mark.parametrize(
    ("data", "field"), [({"ids": ["x"]}, "ids.0"), ({"ids": "all"}, "ids"), ({"everything": True}, "everything")]
)
def test_bad_mark_read_is_422(api_as, people, requested, data, field):
    steward = api_as(people["tax_steward"])
    response = steward.post("/notifications/read", data)
    assert response.status_code == 422
    assert field in error_of(response)["fields"]
    assert unread(steward) == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/notifications"), ("get", "/notifications/unread-count"), ("post", "/notifications/read")],
)
def test_anonymous_is_401(api_as, people, requested, method, path):
    client = api_as()
    response = client.get(path) if method == "get" else client.post(path, {})
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


def test_openapi_documents_the_routes(api_as, people):
    schema = api_as(people["health_member"]).client.get("/api/v1/openapi.json").json()
    for path, method in [
        ("/api/v1/notifications", "get"),
        ("/api/v1/notifications/unread-count", "get"),
        ("/api/v1/notifications/read", "post"),
    ]:
        assert schema["paths"][path][method]["summary"], (path, method)


def test_actor_is_named_by_display_name_and_department_not_login(api_as, people, org_units, conditional):
    """Issue 10: notifications showed the login name ("machao申请共享…")."""
    from sharehub.org import services as org

    requester = factories.member(org_units["hr"], username="machao")
    requester.display_name = "马超"
    requester.save(update_fields=["display_name"])
    org.set_membership(None, requester, org_units["social"], "steward")
    assert api_as(requester).post(f"/resources/{conditional.pk}/requests", ASK).status_code == 201
    run_pending()
    steward = api_as(people["tax_steward"])
    [item] = items(steward)
    assert item["text"] == f"马超 (人力资源和社会保障局, 社会保险中心) requests access to {conditional.title}."
    assert item["actor"]["display_name"] == "马超"
    assert item["actor"]["departments"] == ["人力资源和社会保障局", "社会保险中心"]
    steward.headers["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    [item] = items(steward)
    assert item["text"] == f"马超（人力资源和社会保障局、社会保险中心）申请共享“{conditional.title}”。"
    assert "machao" not in item["text"]


def test_background_notifications_have_no_actor(api_as, people, conditional, requested):
    from datetime import timedelta

    from django.utils import timezone

    from sharehub.access import services

    services.sweep(now=timezone.now() + timedelta(days=60))
    run_pending()
    escalated = [i for i in items(api_as(people["admin"])) if i["action"] == "access.escalated"]
    assert escalated and escalated[0]["actor"] is None
