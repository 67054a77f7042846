"""Access requests through the API: asking, listing, deciding, bulk decisions and the error answers."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from sharehub.access.models import AccessRequest, Grant
from sharehub.catalog.models import Resource
from sharehub.events.models import Event
from sharehub.org import services as org
from tests import factories
from tests.access.test_concurrency import sqlite_file_database  # noqa: F401  (fixture)
from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db

ASK = {"purpose": "核验纳税人信息", "use_category": "verification", "period_days": 30, "accept_terms": True}

REQUEST_KEYS = {
    "id", "resource", "requester", "for_department", "purpose", "use_category", "period_days", "fields",
    "asked_period_days", "asked_fields", "status",
    "needs_head", "deadline_at", "paused_at", "created_at", "decided_at", "decided_by", "decision_reason", "grant",
}  # fmt: skip


def send(client, resource, **changes):
    return client.post(f"/resources/{resource.pk}/requests", {**ASK, **changes})


def made(client, resource, **changes) -> dict:
    response = send(client, resource, **changes)
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def conditional(catalog):
    return catalog["conditional"]


@pytest.fixture
def dataset(org_units, people):
    return factories.resource(
        org_units["tax"],
        by=people["tax_steward"],
        kind=Resource.Kind.DATASET,
        sharing_type="conditional",
        title="纳税人名录",
        dataset_fields=[{"name": "tax_id"}, {"name": "name"}, {"name": "address"}],
    )


# --- creating


def test_member_requests_a_conditional_resource(api_as, people, conditional):
    body = made(api_as(people["health_member"]), conditional)
    assert set(body) == REQUEST_KEYS | {"notes"}
    assert body["resource"] == {
        "id": conditional.pk,
        "code": conditional.code,
        "title": conditional.title,
        "hidden": False,
    }
    assert body["requester"]["username"] == "health_member"
    assert body["status"] == "pending"
    assert body["for_department"] is None and body["grant"] is None and body["decided_by"] is None
    assert body["period_days"] == 30 and body["use_category"] == "verification"
    assert [n["kind"] for n in body["notes"]] == ["submitted"]
    assert body["notes"][0]["author"]["username"] == "health_member"
    stored = AccessRequest.objects.get(pk=body["id"])
    assert stored.terms_accepted_at is not None
    assert Event.objects.filter(action="access.requested", target_id=str(stored.pk)).count() == 1


def test_request_by_code_and_for_a_department_with_fields(api_as, people, org_units, dataset):
    body = made(
        api_as(people["health_member"]),
        dataset,
        for_department=org_units["health"].pk,
        fields=["tax_id", "name"],
    )
    assert body["for_department"]["code"] == "WJW"
    assert body["fields"] == ["tax_id", "name"]
    by_code = api_as(people["social_member"]).post(f"/resources/{dataset.code}/requests", ASK)
    assert by_code.status_code == 201, by_code.content


@pytest.mark.parametrize("which", ["restricted", "draft", "hr_scoped", "missing"])
def test_invisible_resource_is_404(api_as, people, catalog, which):
    ident = 999999 if which == "missing" else catalog[which].pk
    response = api_as(people["health_member"]).post(f"/resources/{ident}/requests", ASK)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert not AccessRequest.objects.exists()


@pytest.mark.parametrize(
    ("who", "which", "words"),
    [
        ("health_member", "open", "no request is needed"),
        ("tax_member", "restricted", "cannot be requested"),
        ("tax_member", "conditional", "already read"),
        ("admin", "conditional", "already read"),
    ],
)
def test_unrequestable_is_403_with_the_policys_reason(api_as, people, catalog, who, which, words):
    response = api_as(people[who]).post(f"/resources/{catalog[which].pk}/requests", ASK)
    assert response.status_code == 403, response.content
    error = error_of(response)
    assert error["code"] == "forbidden"
    assert words in error["message"]
    assert not AccessRequest.objects.exists()


def test_duplicate_open_request_is_409(api_as, people, conditional):
    client = api_as(people["health_member"])
    first = made(client, conditional)
    again = send(client, conditional)
    assert again.status_code == 409
    assert f"#{first['id']}" in error_of(again)["message"]
    assert AccessRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"purpose": ""}, "purpose"),
        ({"purpose": "   "}, "purpose"),
        ({"use_category": "fun"}, "use_category"),
        ({"use_category": None}, "use_category"),
        ({"period_days": 0}, "period_days"),
        ({"period_days": 91}, "period_days"),
        ({"period_days": "many"}, "period_days"),
        ({"period_days": None}, "period_days"),
        ({"accept_terms": False}, "accept_terms"),
        ({"fields": ["no_such_field"]}, "fields"),
        ({"for_department": 1}, "for_department"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_request_is_422_naming_the_field(api_as, people, org_units, dataset, changes, field):
    if "for_department" in changes:
        changes = {"for_department": org_units["tax"].pk}  # the requester is not in it
    response = send(api_as(people["health_member"]), dataset, **changes)
    assert response.status_code == 422, response.content
    assert field in error_of(response)["fields"]
    assert not AccessRequest.objects.exists()


def test_missing_fields_are_named_together(api_as, people, conditional):
    response = api_as(people["health_member"]).post(f"/resources/{conditional.pk}/requests", {})
    assert response.status_code == 422
    assert {"purpose", "use_category", "period_days", "accept_terms"} <= set(error_of(response)["fields"])


def test_malformed_json_is_400(api_as, people, conditional):
    response = api_as(people["health_member"]).post(f"/resources/{conditional.pk}/requests", raw=b"{nope")
    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_json"


def test_service_account_requests_through_a_bearer_token(api_as, people, org_units, conditional):
    account = org.create_service_account(people["admin"], department=org_units["hr"], username="erp")
    _token, raw = org.issue_token(people["admin"], account, "erp sync")
    client = api_as(token=raw)
    body = made(client, conditional, purpose="ERP 对账")
    assert body["requester"]["username"] == "erp"
    listed = client.get("/requests", {"scope": "mine"}).json()["items"]
    assert [r["id"] for r in listed] == [body["id"]]
    steward = api_as(people["tax_steward"])
    assert steward.post(f"/requests/{body['id']}/approve", {}).status_code == 200
    assert client.get(f"/resources/{conditional.pk}").json()["body"] == conditional.body


# --- anonymous


ROUTES = [
    ("post", "/resources/{res}/requests"),
    ("get", "/requests"),
    ("post", "/requests/bulk"),
    ("get", "/requests/{req}"),
    ("post", "/requests/{req}/approve"),
    ("post", "/requests/{req}/reject"),
    ("post", "/requests/{req}/ask"),
    ("post", "/requests/{req}/answer"),
    ("post", "/requests/{req}/withdraw"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_is_401(api_as, people, conditional, method, path):
    req = made(api_as(people["health_member"]), conditional)
    path = path.format(res=conditional.pk, req=req["id"])
    anonymous = api_as()
    response = anonymous.get(path) if method == "get" else anonymous.post(path, {"ids": [req["id"]]})
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"
    assert AccessRequest.objects.get().status == "pending"


# --- listing and reading


@pytest.fixture
def three(api_as, people, catalog, dataset):
    """Requests from three people in three departments, all for 税务局's resources."""
    return {
        "health": made(api_as(people["health_member"]), catalog["conditional"]),
        "social": made(api_as(people["social_member"]), catalog["conditional"]),
        "hr": made(api_as(people["hr_head"]), dataset),
    }


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_scopes(api_as, people, three):
    member = api_as(people["health_member"])
    assert ids(member.get("/requests", {"scope": "mine"})) == [three["health"]["id"]]
    assert ids(member.get("/requests")) == [three["health"]["id"]]
    assert ids(member.get("/requests", {"scope": "inbox"})) == []
    steward = api_as(people["tax_steward"])
    everything = {r["id"] for r in three.values()}
    assert set(ids(steward.get("/requests", {"scope": "inbox"}))) == everything
    assert set(ids(steward.get("/requests", {"scope": "all"}))) == everything
    assert ids(steward.get("/requests", {"scope": "mine"})) == []
    assert set(ids(api_as(people["admin"]).get("/requests", {"scope": "all"}))) == everything
    # another department's people see nothing of these
    assert ids(api_as(people["tax_member"]).get("/requests")) == []


def test_filters(api_as, people, catalog, dataset, three):
    steward = api_as(people["tax_steward"])
    assert ids(steward.get("/requests", {"resource": dataset.pk})) == [three["hr"]["id"]]
    steward.post(f"/requests/{three['social']['id']}/reject", {"reason": "不符合条件"})
    assert ids(steward.get("/requests", {"status": "rejected"})) == [three["social"]["id"]]
    assert set(ids(steward.get("/requests", {"status": "open"}))) == {three["health"]["id"], three["hr"]["id"]}
    assert set(ids(steward.get("/requests", {"scope": "inbox"}))) == {three["health"]["id"], three["hr"]["id"]}
    assert ids(steward.get("/requests", {"overdue": "true"})) == []
    bad = steward.get("/requests", {"status": "lost"})
    assert bad.status_code == 422 and "status" in error_of(bad)["fields"]
    assert steward.get("/requests", {"scope": "everyone"}).status_code == 422


@pytest.mark.parametrize("sort", [None, "deadline", "newest"])
def test_cursor_walks_every_request_once(api_as, people, three, sort):
    steward = api_as(people["tax_steward"])
    seen, cursor = [], None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {}), **({"sort": sort} if sort else {})}
        response = steward.get("/requests", params)
        seen += ids(response)
        cursor = response.json()["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(r["id"] for r in three.values())
    assert len(seen) == 3
    if sort == "newest":
        assert seen == sorted(seen, reverse=True)


def test_foreign_or_garbage_cursor_is_422(api_as, people, three):
    steward = api_as(people["tax_steward"])
    first = steward.get("/requests", {"limit": 1, "sort": "newest"}).json()["next_cursor"]
    for cursor in ["garbage", first]:
        response = steward.get("/requests", {"limit": 1, "sort": "deadline", "cursor": cursor})
        assert response.status_code == 422
        assert "cursor" in error_of(response)["fields"]


def test_detail_shows_history_and_grant(api_as, people, conditional):
    member = api_as(people["health_member"])
    req = made(member, conditional)
    steward = api_as(people["tax_steward"])
    assert steward.post(f"/requests/{req['id']}/ask", {"question": "用于哪个业务系统？"}).status_code == 200
    assert member.post(f"/requests/{req['id']}/answer", {"answer": "征管系统"}).status_code == 200
    steward.post(f"/requests/{req['id']}/approve", {"period_days": 10, "note": "同意"})
    body = member.get(f"/requests/{req['id']}").json()
    assert [n["kind"] for n in body["notes"]] == ["submitted", "info_asked", "info_given", "approved"]
    assert [n["text"] for n in body["notes"]][1:] == ["用于哪个业务系统？", "征管系统", "同意"]
    assert body["status"] == "approved"
    assert body["decided_by"]["username"] == "tax_steward"
    assert body["decision_reason"] == "同意"
    grant = body["grant"]
    assert grant["grantee"] == {"person": body["requester"], "department": None}
    assert set(grant) == {"id", "valid_from", "valid_until", "fields", "grantee"}
    assert Grant.objects.get(pk=grant["id"]).request_id == req["id"]
    listed = member.get("/requests").json()["items"][0]
    assert listed["grant"]["id"] == grant["id"] and "notes" not in listed


@pytest.mark.parametrize("ident", ["999999", "abc", "1" * 30])
def test_unknown_request_is_404(api_as, people, ident):
    response = api_as(people["tax_steward"]).get(f"/requests/{ident}")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_other_peoples_requests_are_404_on_every_route(api_as, people, conditional):
    req = made(api_as(people["health_member"]), conditional)["id"]
    outsider = api_as(people["hr_head"])  # a head, but of another department
    missing = outsider.get("/requests/999999").json()
    for method, path, data in [
        ("get", f"/requests/{req}", None),
        ("post", f"/requests/{req}/approve", {}),
        ("post", f"/requests/{req}/reject", {"reason": "x"}),
        ("post", f"/requests/{req}/ask", {"question": "x"}),
        ("post", f"/requests/{req}/answer", {"answer": "x"}),
        ("post", f"/requests/{req}/withdraw", None),
    ]:
        response = outsider.get(path) if method == "get" else outsider.post(path, data)
        assert response.status_code == 404, (path, response.content)
        assert response.json() == missing
    assert AccessRequest.objects.get().status == "pending"


# --- deciding


def test_approve_narrower(api_as, people, org_units, dataset):
    member = api_as(people["health_member"])
    req = made(member, dataset, for_department=org_units["health"].pk, fields=["tax_id", "name"])
    body = api_as(people["tax_steward"]).post(
        f"/requests/{req['id']}/approve",
        {"period_days": 7, "fields": ["tax_id"], "requester_only": True, "note": "只给本人"},
    )
    assert body.status_code == 200, body.content
    grant = Grant.objects.get(pk=body.json()["grant"]["id"])
    assert grant.grantee_user == people["health_member"] and grant.grantee_department is None
    assert grant.fields == ["tax_id"]
    assert (grant.valid_until - grant.valid_from).days == 7


def test_approve_for_the_department(api_as, people, org_units, conditional):
    req = made(api_as(people["health_member"]), conditional, for_department=org_units["health"].pk)
    body = api_as(people["tax_steward"]).post(f"/requests/{req['id']}/approve", {}).json()
    assert body["grant"]["grantee"]["department"]["code"] == "WJW"
    assert body["grant"]["grantee"]["person"] is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"period_days": 31}, "period_days"),
        ({"period_days": 0}, "period_days"),
        ({"fields": ["address"]}, "fields"),
        ({"note": "a\x00"}, "note"),
        ({"grant_everything": True}, "grant_everything"),
    ],
)
def test_bad_approval_is_422_and_changes_nothing(api_as, people, dataset, data, field):
    req = made(api_as(people["health_member"]), dataset, fields=["tax_id"])
    response = api_as(people["tax_steward"]).post(f"/requests/{req['id']}/approve", data)
    assert response.status_code == 422, response.content
    assert field in error_of(response)["fields"]
    assert AccessRequest.objects.get().status == "pending"
    assert not Grant.objects.exists()


def test_reject_needs_a_reason_and_shows_it(api_as, people, conditional):
    member = api_as(people["health_member"])
    req = made(member, conditional)["id"]
    steward = api_as(people["tax_steward"])
    missing = steward.post(f"/requests/{req}/reject", {})
    assert missing.status_code == 422 and "reason" in error_of(missing)["fields"]
    assert steward.post(f"/requests/{req}/reject", {"reason": "  "}).status_code == 422
    response = steward.post(f"/requests/{req}/reject", {"reason": "用途不明确"})
    assert response.status_code == 200
    body = member.get(f"/requests/{req}").json()
    assert body["status"] == "rejected" and body["decision_reason"] == "用途不明确"
    assert body["notes"][-1] == {**body["notes"][-1], "kind": "rejected", "text": "用途不明确"}


def test_deciding_twice_is_409(api_as, people, conditional):
    req = made(api_as(people["health_member"]), conditional)["id"]
    steward = api_as(people["tax_steward"])
    assert steward.post(f"/requests/{req}/approve", {}).status_code == 200
    for path, data in [("approve", {}), ("reject", {"reason": "晚了"}), ("ask", {"question": "?"})]:
        response = steward.post(f"/requests/{req}/{path}", data)
        assert response.status_code == 409, (path, response.content)
        assert "already decided" in error_of(response)["message"]
    admin = api_as(people["admin"])
    assert admin.post(f"/requests/{req}/approve", {}).status_code == 409
    assert Grant.objects.count() == 1


def test_seen_but_not_decidable_is_403(api_as, people, org_units, conditional):
    member = api_as(people["health_member"])
    req = made(member, conditional)["id"]
    response = member.post(f"/requests/{req}/approve", {})
    assert response.status_code == 403
    assert "stewards" in error_of(response)["message"]
    # a request that awaits the head: the steward sees it but may not decide it
    Resource.objects.filter(pk=conditional.pk).update(requires_head_approval=True)
    head = factories.member(org_units["tax"], "head", username="tax_head")
    req2 = made(api_as(people["social_member"]), conditional)
    assert req2["needs_head"] is True
    steward = api_as(people["tax_steward"])
    first = steward.post(f"/requests/{req2['id']}/approve", {"note": "初审同意"})
    assert first.status_code == 200 and first.json()["status"] == "pending_head"
    assert first.json()["grant"] is None
    again = steward.post(f"/requests/{req2['id']}/approve", {})
    assert again.status_code == 403
    assert "head" in error_of(again)["message"]
    final = api_as(head).post(f"/requests/{req2['id']}/approve", {})
    assert final.status_code == 200 and final.json()["status"] == "approved"
    assert AccessRequest.objects.get(pk=req).status == "pending"


def test_ask_and_answer(api_as, people, conditional):
    member = api_as(people["health_member"])
    req = made(member, conditional)["id"]
    steward = api_as(people["tax_steward"])
    assert steward.post(f"/requests/{req}/ask", {}).status_code == 422
    asked = steward.post(f"/requests/{req}/ask", {"question": "请补充依据"}).json()
    assert asked["status"] == "info" and asked["paused_at"] is not None
    # while paused, nothing is decided
    assert steward.post(f"/requests/{req}/approve", {}).status_code == 409
    assert member.post(f"/requests/{req}/answer", {}).status_code == 422
    answered = member.post(f"/requests/{req}/answer", {"answer": "见附件"}).json()
    assert answered["status"] == "pending" and answered["paused_at"] is None
    assert member.post(f"/requests/{req}/answer", {"answer": "again"}).status_code == 409


def test_withdraw(api_as, people, conditional):
    member = api_as(people["health_member"])
    req = made(member, conditional)["id"]
    assert api_as(people["tax_steward"]).post(f"/requests/{req}/withdraw").status_code == 403
    body = member.post(f"/requests/{req}/withdraw").json()
    assert body["status"] == "withdrawn"
    assert member.post(f"/requests/{req}/withdraw").status_code == 409
    assert api_as(people["tax_steward"]).post(f"/requests/{req}/approve", {}).status_code == 409
    # withdrawn is not open: a new request may be sent
    assert send(member, conditional).status_code == 201


# --- bulk


def test_bulk_with_a_mix(api_as, people, org_units, catalog, three):
    steward = api_as(people["tax_steward"])
    steward.post(f"/requests/{three['hr']['id']}/reject", {"reason": "先拒绝"})
    health_owned = factories.resource(org_units["health"], sharing_type="conditional", title="卫健资源")
    foreign = made(api_as(people["social_member"]), health_owned)["id"]  # not the tax steward's to see
    wanted = [three["health"]["id"], three["social"]["id"], three["hr"]["id"], foreign, 999999, three["health"]["id"]]
    response = steward.post("/requests/bulk", {"ids": wanted, "action": "approve", "reason": "批量同意"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["decided"] == [three["health"]["id"], three["social"]["id"]]
    assert set(body["failed"]) == {str(three["hr"]["id"]), str(foreign), "999999"}
    assert "already decided" in body["failed"][str(three["hr"]["id"])]
    assert body["failed"][str(foreign)] == body["failed"]["999999"] == "Not found."
    assert AccessRequest.objects.get(pk=foreign).status == "pending"
    assert Grant.objects.count() == 2
    assert set(Grant.objects.values_list("request__decision_reason", flat=True)) == {"批量同意"}


def test_bulk_reject(api_as, people, three):
    steward = api_as(people["tax_steward"])
    wanted = [r["id"] for r in three.values()]
    missing = steward.post("/requests/bulk", {"ids": wanted, "action": "reject"})
    assert missing.status_code == 422 and "reason" in error_of(missing)["fields"]
    assert not AccessRequest.objects.exclude(status="pending").exists()
    body = steward.post("/requests/bulk", {"ids": wanted, "action": "reject", "reason": "资源暂停共享"}).json()
    assert sorted(body["decided"]) == sorted(wanted) and body["failed"] == {}
    assert set(AccessRequest.objects.values_list("status", flat=True)) == {"rejected"}


def test_bulk_by_someone_who_may_not_decide(api_as, people, three):
    member = api_as(people["health_member"])
    own = three["health"]["id"]
    body = member.post("/requests/bulk", {"ids": [own, three["social"]["id"]], "action": "approve"}).json()
    assert body["decided"] == []
    assert "stewards" in body["failed"][str(own)]
    assert body["failed"][str(three["social"]["id"])] == "Not found."
    assert not Grant.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"ids": [], "action": "approve"}, "ids"),
        ({"ids": [1], "action": "maybe"}, "action"),
        ({"ids": ["x"], "action": "approve"}, "ids.0"),
        ({"ids": [0], "action": "approve"}, "ids.0"),
        ({"ids": list(range(1, 300)), "action": "approve"}, "ids"),
    ],
)
def test_bad_bulk_is_422(api_as, people, data, field):
    response = api_as(people["tax_steward"]).post("/requests/bulk", data)
    assert response.status_code == 422
    assert field in error_of(response)["fields"]


def test_openapi_documents_the_routes(api_as, people):
    schema = api_as(people["health_member"]).client.get("/api/v1/openapi.json").json()
    for path, method in [
        ("/api/v1/resources/{ident}/requests", "post"),
        ("/api/v1/requests", "get"),
        ("/api/v1/requests/bulk", "post"),
        ("/api/v1/requests/{request_id}", "get"),
        ("/api/v1/requests/{request_id}/approve", "post"),
        ("/api/v1/requests/{request_id}/reject", "post"),
        ("/api/v1/requests/{request_id}/ask", "post"),
        ("/api/v1/requests/{request_id}/answer", "post"),
        ("/api/v1/requests/{request_id}/withdraw", "post"),
    ]:
        assert schema["paths"][path][method]["summary"], (path, method)


# --- two deciders at once (last in this module: on SQLite it moves to a database file)


@pytest.mark.usefixtures("sqlite_file_database")  # SQLite as deployed: a WAL file, writers wait
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("second", [("approve", {"note": "同时同意"}), ("reject", {"reason": "同时拒绝"})])
def test_two_deciders_at_once_one_wins(api_as, org_units, second):
    """Two deciders post at the same moment: exactly one decision, the other gets 409; one grant at most."""
    tax = org_units["tax"]
    steward = factories.member(tax, "steward", username="steward_a")
    head = factories.member(tax, "head", username="head_b")
    resource = factories.resource(tax, by=steward, sharing_type="conditional")
    req = made(api_as(factories.member(org_units["health"], "member", username="asker")), resource)["id"]
    barrier = threading.Barrier(2)
    answers: dict[str, int] = {}

    def decide(name: str, user, action: str, data: dict) -> None:
        client = api_as(user)
        try:
            barrier.wait(timeout=10)
            answers[name] = client.post(f"/requests/{req}/{action}", data).status_code
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=("steward", steward, "approve", {})),
        threading.Thread(target=decide, args=("head", head, *second)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answers.values()) == [200, 409], answers
    stored = AccessRequest.objects.get(pk=req)
    assert Grant.objects.filter(request_id=req).count() == (1 if stored.status == "approved" else 0)
    decisions = Event.objects.filter(action__in=["access.approved", "access.rejected"], target_id=str(req))
    assert decisions.count() == 1
