"""The API of comments, ratings and "this helped me": shapes, errors, the policy and the statement counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sharehub.events.consumers import run_pending
from sharehub.feeds.models import Notification
from sharehub.knowledge import social
from sharehub.knowledge.models import Comment, Credit, Helped
from sharehub.org import services as org
from tests import factories

API = "/api/v1"


def api(user) -> Client:
    client = Client()
    token = org.issue_token(user, user, "test")[1]
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def send(client, method, path, body=None):
    kwargs = {"content_type": "application/json"}
    if body is not None:
        kwargs["data"] = body
    return getattr(client, method)(API + path, **kwargs)


@pytest.fixture
def open_doc(org_units, people):
    return factories.resource(org_units["tax"], by=people["tax_steward"], title="纳税指南")


@pytest.fixture
def conditional(org_units, people):
    return factories.resource(org_units["tax"], by=people["tax_steward"], sharing_type="conditional", title="税源")


@pytest.fixture
def scoped(org_units, people):
    return factories.resource(org_units["tax"], by=people["tax_steward"], scope=[org_units["tax"]], title="局内")


def test_comment_list_create_edit_hide(people, open_doc):
    reader, steward = api(people["health_member"]), api(people["tax_steward"])
    created = send(reader, "post", f"/resources/{open_doc.code}/comments", {"body": "<b>hi</b> @tax_member"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["body"] == "<b>hi</b> @tax_member" and body["body_html"].startswith("&lt;b&gt;hi&lt;/b&gt;")
    assert body["author"]["username"] == "health_member" and body["can_edit"] and not body["can_hide"]
    reply = send(steward, "post", f"/resources/{open_doc.code}/comments", {"body": "答", "parent": body["id"]})
    assert reply.status_code == 201 and reply.json()["parent"] == body["id"]
    path = f"/resources/{open_doc.code}/comments/{body['id']}"
    assert send(steward, "patch", path, {"body": "x"}).status_code == 403
    edited = send(reader, "patch", path, {"body": "改"})
    assert edited.status_code == 200 and edited.json()["edited_at"]
    assert send(reader, "post", path + "/hide", {"reason": "x"}).status_code == 403
    hidden = send(steward, "post", path + "/hide", {"reason": "跑题"})
    assert hidden.status_code == 200 and hidden.json()["hidden"]["reason"] == "跑题"
    listed = send(api(people["social_member"]), "get", f"/resources/{open_doc.code}/comments").json()
    assert [c["body"] for c in listed["items"]] == [None, "答"]
    assert listed["items"][0]["hidden"]["reason"] == "跑题" and listed["next_cursor"] is None
    own = send(reader, "get", f"/resources/{open_doc.code}/comments").json()
    assert own["items"][0]["body"] == "改"
    shown = send(steward, "post", path + "/show")
    assert shown.status_code == 200 and shown.json()["hidden"] is None


def test_comment_pages_by_cursor(people, open_doc):
    for i in range(5):
        Comment.objects.create(resource=open_doc, author=people["tax_member"], body=f"c{i}")
    client = api(people["health_member"])
    first = send(client, "get", f"/resources/{open_doc.code}/comments?limit=3").json()
    second = send(client, "get", f"/resources/{open_doc.code}/comments?limit=3&cursor={first['next_cursor']}").json()
    assert [c["body"] for c in first["items"] + second["items"]] == [f"c{i}" for i in range(5)]
    assert second["next_cursor"] is None
    bad = send(client, "get", f"/resources/{open_doc.code}/comments?cursor=%%%")
    assert bad.status_code == 422 and "cursor" in bad.json()["error"]["fields"]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"body": ""}, "body"),
        ({"body": "x" * 5001}, "body"),
        ({"body": 5}, "body"),
        ({"body": "x", "parent": "1"}, "parent"),
        ({"body": "x", "parent": 99999999}, "parent"),
        ({"body": "x", "extra": 1}, "extra"),
        ({}, "body"),
    ],
)
def test_bad_comments_get_422_naming_the_field(people, open_doc, payload, field):
    response = send(api(people["health_member"]), "post", f"/resources/{open_doc.code}/comments", payload)
    assert response.status_code == 422, response.content
    assert field in response.json()["error"]["fields"]
    assert not Comment.objects.exists()


def test_a_nul_in_a_comment_is_refused(people, open_doc):
    response = send(api(people["health_member"]), "post", f"/resources/{open_doc.code}/comments", {"body": "a\u0000"})
    assert response.status_code == 422


def test_rating_set_get_clear(people, open_doc):
    client = api(people["health_member"])
    path = f"/resources/{open_doc.code}/rating"
    refused = send(client, "put", path, {"useful": False})
    assert refused.status_code == 422 and "reason" in refused.json()["error"]["fields"]
    assert send(client, "put", path, {"useful": "yes"}).status_code == 422
    rated = send(client, "put", path, {"useful": False, "reason": "旧"}).json()
    assert rated["not_useful"] == 1 and rated["mine"] == {"useful": False, "reason": "旧"} and rated["reasons"] is None
    steward = send(api(people["tax_steward"]), "get", path).json()
    assert [(r["user"]["username"], r["reason"]) for r in steward["reasons"]] == [("health_member", "旧")]
    assert send(client, "delete", path).status_code == 204
    assert send(client, "get", path).json()["not_useful"] == 0


def test_helped_mark_unmark_list(people, open_doc):
    client = api(people["health_member"])
    path = f"/resources/{open_doc.code}/helped"
    marked = send(client, "post", path, {"note": "报表"})
    assert marked.status_code == 201 and marked.json()["note"] == "报表"
    again = send(client, "post", path, {"note": "改"})
    assert again.status_code == 200 and Helped.objects.get().note == "改"
    assert Credit.objects.filter(kind="helped").count() == 1
    listed = send(api(people["social_member"]), "get", path).json()
    assert listed["count"] == 1 and listed["mine"] is None and listed["items"][0]["note"] == "改"
    run_pending()
    assert Notification.objects.filter(recipient=people["tax_steward"], event__action="helped.marked").exists()
    assert send(client, "delete", path).status_code == 204
    assert not Helped.objects.exists() and not Credit.objects.filter(kind="helped").exists()


def test_someone_who_may_only_view_gets_403_for_content_and_the_counts(people, conditional):
    social.add_comment(people["tax_member"], conditional, "内部")
    social.set_rating(people["tax_member"], conditional, True)
    client = api(people["health_member"])
    code = conditional.code
    comment = Comment.objects.get().pk
    for method, path, body in (
        ("get", f"/resources/{code}/comments", None),
        ("post", f"/resources/{code}/comments", {"body": "x"}),
        ("patch", f"/resources/{code}/comments/{comment}", {"body": "x"}),
        ("post", f"/resources/{code}/comments/{comment}/hide", {"reason": "x"}),
        ("put", f"/resources/{code}/rating", {"useful": True}),
        ("get", f"/resources/{code}/helped", None),
        ("post", f"/resources/{code}/helped", {"note": ""}),
        ("delete", f"/resources/{code}/helped", None),
    ):
        response = send(client, method, path, body)
        assert response.status_code == 403, (method, path, response.status_code)
        assert "request access" in response.json()["error"]["message"]
    summary = send(client, "get", f"/resources/{code}/rating").json()
    assert summary == {"useful": 1, "not_useful": 0, "mine": None, "reasons": None}


def test_nobody_outside_the_scope_gets_anything(people, scoped):
    social.add_comment(people["tax_member"], scoped, "秘密")
    comment = Comment.objects.get().pk
    client = api(people["health_member"])
    code = scoped.code
    for method, path, body in (
        ("get", f"/resources/{code}/comments", None),
        ("post", f"/resources/{code}/comments", {"body": "x"}),
        ("patch", f"/resources/{code}/comments/{comment}", {"body": "x"}),
        ("post", f"/resources/{code}/comments/{comment}/hide", {"reason": "x"}),
        ("post", f"/resources/{code}/comments/{comment}/show", None),
        ("get", f"/resources/{code}/rating", None),
        ("put", f"/resources/{code}/rating", {"useful": True}),
        ("delete", f"/resources/{code}/rating", None),
        ("get", f"/resources/{code}/helped", None),
        ("post", f"/resources/{code}/helped", {"note": ""}),
        ("delete", f"/resources/{code}/helped", None),
    ):
        response = send(client, method, path, body)
        assert response.status_code == 404, (method, path, response.status_code)


def _count(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(API + path).status_code == 200
    return len(captured.captured_queries)


# Statements of the list routes, the same for 1 item as for 200 (token and person, resource, its scope and tags,
# grants, the rows; helped: also the counts and your own mark).
PINNED = {"comments": 7, "helped": 8}


def test_the_lists_cost_the_same_whatever_their_length(people, open_doc, org_units):
    client = api(people["health_member"])
    comments, helped = f"/resources/{open_doc.code}/comments?limit=200", f"/resources/{open_doc.code}/helped?limit=200"
    Comment.objects.create(resource=open_doc, author=people["tax_member"], body="c")
    social.mark_helped(people["social_member"], open_doc, "n")
    _count(client, comments), _count(client, helped)
    few = {"comments": _count(client, comments), "helped": _count(client, helped)}
    authors = [factories.member(org_units["hr"]) for _ in range(8)]
    for i in range(199):
        Comment.objects.create(
            resource=open_doc, author=authors[i % 8], body=f"c{i}", hidden_at=open_doc.created_at if i % 3 else None
        )
    for person in authors:
        social.mark_helped(person, open_doc, "n")
    many = {"comments": _count(client, comments), "helped": _count(client, helped)}
    assert few == many == PINNED
