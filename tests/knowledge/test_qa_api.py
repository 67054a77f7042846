"""The questions API: the same rules as the pages (404 for private questions of others, counts through the
policy), the one error shape for odd input, and the statement counts of the list pinned."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sharehub.knowledge import qa
from sharehub.knowledge.models import Article, Question
from sharehub.org import services as org
from sharehub.org.models import Membership
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(org_units, people):
    w = dict(people)
    w.update(org_units)
    w["tax_head"] = factories.member(org_units["tax"], Membership.Role.HEAD, username="tax_head")
    return w


def api(user) -> Client:
    client = Client()
    token = org.issue_token(user, user, "qa tests")[1]
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def post(client, url, body=None):
    return client.post(url, body or {}, content_type="application/json")


def test_the_whole_round_through_the_api(world):
    asker, steward = api(world["health_member"]), api(world["tax_steward"])
    response = post(asker, "/api/v1/questions", {"title": "完税证明怎么开？", "department": world["tax"].pk})
    assert response.status_code == 201, response.content
    question = response.json()
    assert question["status"] == "open" and question["asker_department"]["id"] == world["health"].pk
    qid = question["id"]
    answer = post(steward, f"/api/v1/questions/{qid}/answers", {"body": "到*大厅*"})
    assert answer.status_code == 201 and "<em>大厅</em>" in answer.json()["body_html"]
    aid = answer.json()["id"]
    voted = post(asker, f"/api/v1/questions/{qid}/answers/{aid}/vote", {"value": 1})
    assert voted.json()["score"] == 1 and voted.json()["my_vote"] == 1
    assert post(steward, f"/api/v1/questions/{qid}/answers/{aid}/vote", {"value": 1}).status_code == 403
    assert post(steward, f"/api/v1/questions/{qid}/answers/{aid}/accept").status_code == 403
    accepted = post(asker, f"/api/v1/questions/{qid}/answers/{aid}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "answered"
    assert accepted.json()["answers"][0]["accepted"] is True
    article = post(steward, f"/api/v1/questions/{qid}/answers/{aid}/article")
    assert article.status_code == 201 and article.json()["status"] == "published"
    assert Article.objects.get().resource.code == article.json()["code"]
    detail = asker.get(f"/api/v1/questions/{qid}").json()
    assert detail["answers"][0]["article"] == article.json()["code"]
    closed = post(steward, f"/api/v1/questions/{qid}/close", {"reason": "已解决"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert post(asker, f"/api/v1/questions/{qid}/close").status_code == 409
    assert post(steward, f"/api/v1/questions/{qid}/answers", {"body": "晚了"}).status_code == 403


def test_editing_through_the_api(world):
    question = qa.ask_question(world["health_member"], title="原题", department=world["tax"])
    answer = qa.answer_question(world["tax_steward"], question, "原答")
    url = f"/api/v1/questions/{question.pk}"
    patched = api(world["health_member"]).patch(url, {"title": "新题"}, content_type="application/json")
    assert patched.status_code == 200 and patched.json()["title"] == "新题"
    other = api(world["tax_steward"]).patch(url, {"title": "抢改"}, content_type="application/json")
    assert other.status_code == 403
    edited = api(world["tax_steward"]).patch(
        f"{url}/answers/{answer.pk}", {"body": "新答"}, content_type="application/json"
    )
    assert edited.status_code == 200 and edited.json()["body"] == "新答"


def test_private_questions_are_404_on_every_route_and_left_out_of_lists(world):
    question = qa.ask_question(world["health_member"], title="私密", department=world["tax"], private=True)
    answer = qa.answer_question(world["tax_member"], question, "答")
    qa.ask_question(world["health_member"], title="公开", department=world["tax"])
    outsider = api(world["social_member"])
    base = f"/api/v1/questions/{question.pk}"
    missing = outsider.get("/api/v1/questions/99999999").json()
    for method, url, body in [
        ("get", base, None),
        ("patch", base, {"title": "x"}),
        ("post", base + "/answers", {"body": "x"}),
        ("patch", base + f"/answers/{answer.pk}", {"body": "x"}),
        ("post", base + f"/answers/{answer.pk}/vote", {"value": 1}),
        ("post", base + f"/answers/{answer.pk}/accept", None),
        ("post", base + f"/answers/{answer.pk}/article", None),
        ("post", base + "/close", None),
    ]:
        response = getattr(outsider, method)(url, body or {}, content_type="application/json")
        assert response.status_code == 404, url
        assert response.json() == missing, url
    listed = outsider.get("/api/v1/questions").json()
    assert [q["title"] for q in listed["items"]] == ["公开"]
    assert listed["counts"] == {"all": 1, "departments": 0, "mine": 0, "unanswered": 1}
    assert outsider.get("/api/v1/questions/similar?title=私密").json()["questions"] == []
    assert api(world["tax_member"]).get("/api/v1/questions").json()["counts"]["all"] == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "", "department": 1}, "title"),
        ({"title": "x" * 201, "department": 1}, "title"),
        ({"title": "问", "department": "1"}, "department"),
        ({"title": "问", "department": 99999999999999999999}, "department"),
        ({"title": "问", "private": "yes", "department": 1}, "private"),
        ({"title": "问"}, "department"),
        ({"title": "问", "nope": 1, "department": 1}, "nope"),
        ({"title": 5, "department": 1}, "title"),
        ({"title": "问", "tag": "无此标签"}, "tag"),
        ({"title": "问", "resource": "NOPE-2000-0001"}, "resource"),
    ],
)
def test_odd_bodies_get_the_field_and_the_reason(world, body, field):
    if body.get("department") == 1:
        body["department"] = world["tax"].pk
    response = post(api(world["health_member"]), "/api/v1/questions", body)
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]
    assert not Question.objects.exists()


def test_odd_queries_and_votes(world):
    client = api(world["health_member"])
    for query in ("?tab=nope", "?page=0", "?limit=1000", "?department=abc", "?q=" + "x" * 300):
        response = client.get("/api/v1/questions" + query)
        assert response.status_code == 422, query
        assert "error" in response.json()
    assert client.get("/api/v1/questions?page=999").status_code == 200
    assert client.get("/api/v1/questions/abc").status_code == 404
    question = qa.ask_question(world["health_member"], title="问", department=world["tax"])
    answer = qa.answer_question(world["tax_steward"], question, "答")
    url = f"/api/v1/questions/{question.pk}/answers/{answer.pk}/vote"
    for value in (2, True, "1", None):
        assert post(client, url, {"value": value}).status_code == 422, value
    assert post(client, f"/api/v1/questions/{question.pk}/answers/99999/vote", {"value": 1}).status_code == 404
    assert client.post("/api/v1/questions", b"{not json", content_type="application/json").status_code == 400


# --- statement counts -----------------------------------------------------------------------------

PINNED = {"page": 9, "api": 6}


def _count(client, url) -> int:
    client.get(url)  # warm per-process caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def _grow(world, n: int, start: int) -> None:
    """Questions of two askers, each asked of a department, or about a resource (a third of them), with a
    tag; every row has its asker, departments, tag and resource to show."""
    doc = world.setdefault("doc", factories.resource(world["tax"], by=world["tax_steward"], tags=["税务"]))
    for i in range(start, n):
        qa.ask_question(
            world["health_member"] if i % 2 else world["social_member"],
            title=f"问题 {i}",
            department=world["tax"] if i % 3 else world["hr"],
            resource=doc.code if i % 3 == 0 else None,
            tag="税务",
        )


@pytest.mark.parametrize(("kind", "url"), [("page", "/questions/?tab=all"), ("api", "/api/v1/questions?limit=100")])
def test_the_list_costs_the_same_for_1_and_many_questions(world, kind, url):
    _grow(world, 1, 0)
    user = world["health_member"]
    if kind == "page":
        client = Client()
        client.force_login(user)
    else:
        client = api(user)
    small = _count(client, url)
    _grow(world, 60, 1)
    large = _count(client, url)
    assert small == large == PINNED[kind], (small, large)
