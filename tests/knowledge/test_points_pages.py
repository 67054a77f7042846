"""Recognition as people meet it: the leaderboards, "why do I have these points" and who sees the lines behind
them (invariant 10 for the items they name), the weights page and the API; statement counts pinned."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from sharehub.catalog import services as catalog
from sharehub.events.models import Event
from sharehub.knowledge import points
from sharehub.knowledge.models import Answer, Badge, Credit, Question
from sharehub.knowledge.points import Kind
from sharehub.org import services as org
from tests import factories

pytestmark = pytest.mark.django_db


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def world(org_units, people):
    tax, health = org_units["tax"], org_units["health"]
    steward = people["tax_steward"]
    w = dict(people, **org_units)
    w["doc"] = factories.resource(tax, by=steward, title="纳税指南")
    w["secret"] = factories.resource(tax, by=steward, title="内部口径")  # open now; restricted later
    catalog.note_content_read(people["health_member"], [w["doc"], w["secret"]], via="page")
    points.credit_for_resource(Kind.HELPED, actor=people["social_member"], resource=w["doc"])
    question = Question.objects.create(title="怎么开证明", asker=people["hr_head"], department=tax)
    answer = Answer.objects.create(question=question, author=steward, department=tax, body="去大厅")
    points.credit(
        Kind.ANSWER, actor=people["hr_head"], item=f"answer:{answer.pk}", item_label="怎么开证明", person=steward,
        department_id=tax.pk,
    )  # fmt: skip
    private = Question.objects.create(title="私下问", asker=people["hr_head"], department=tax, private=True)
    w["private_answer"] = Answer.objects.create(question=private, author=steward, department=tax, body="答")
    points.credit_for_resource(Kind.READ, actor=steward, resource=factories.resource(health))
    return w


def test_the_leaderboard_ranks_people_and_departments(client_for, world):
    client = client_for(world["health_member"])
    page = html(client.get(reverse("knowledge:leaderboard")))
    assert "tax_steward" in page and "1 + 1" not in page
    assert reverse("knowledge:recognition-person", args=[world["tax_steward"].pk]) in page
    # 1 + 1 (two reads) + 8 (helped) + 10 (answer)
    assert ">20</td>" in page
    page = html(client.get(reverse("knowledge:leaderboard") + "?by=department&period=year"))
    assert "税务局" in page and reverse("knowledge:recognition-department", args=[world["tax"].pk]) in page
    # odd parameters fall back to the defaults
    assert html(client.get(reverse("knowledge:leaderboard") + "?by=<x>&period=decade&page=-3"))
    assert html(client.get(reverse("knowledge:leaderboard") + "?page=999999999999"))


def test_the_leaderboard_in_chinese(client_for, world):
    client = client_for(world["health_member"])
    with translation.override("zh-hans"):
        page = html(client.get(reverse("knowledge:leaderboard"), HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "积分" in page


def test_anonymous_people_sign_in_first(client):
    for name in ("knowledge:leaderboard", "knowledge:recognition-me", "knowledge:recognition-weights"):
        assert client.get(reverse(name)).status_code == 302


def test_i_see_why_i_have_my_points(client_for, world):
    page = html(client_for(world["tax_steward"]).get(reverse("knowledge:recognition-me")))
    assert "纳税指南" in page and reverse("catalog:detail", args=[world["doc"].code]) in page
    assert "卫生健康委员会" in page  # who read it: their department
    assert "health_member" not in page  # never the person who read
    assert "怎么开证明" in page  # an answer (its page, once the Q&A part links it)
    assert "+10" in page and "+8" in page


def test_totals_are_public_lines_are_for_the_person_their_managers_and_admins(client_for, world):
    url = reverse("knowledge:recognition-person", args=[world["tax_steward"].pk])
    outsider = html(client_for(world["health_member"]).get(url))
    assert ">20 <" in outsider or "20 <span" in outsider
    assert "纳税指南" not in outsider and "sh-lines-private" in outsider
    assert "纳税指南" not in html(client_for(world["tax_member"]).get(url))  # a colleague, not a manager
    assert "纳税指南" in html(client_for(world["admin"]).get(url))
    head = factories.member(world["tax"], "head", username="tax_head")
    assert "纳税指南" in html(client_for(head).get(url))
    # a department's lines: its stewards and heads, and admins
    url = reverse("knowledge:recognition-department", args=[world["tax"].pk])
    assert "纳税指南" in html(client_for(head).get(url))
    assert "纳税指南" not in html(client_for(world["hr_head"]).get(url))


def test_an_item_the_viewer_may_no_longer_see_is_not_named(client_for, world):
    """Invariant 10: the steward of another department of the person sees their lines, but not the label of
    an item they may not see now."""
    steward = world["tax_steward"]
    org.set_membership(None, steward, world["health"], "member")
    health_steward = factories.member(world["health"], "steward", username="health_steward")
    catalog.change_sharing(steward, world["secret"], sharing_type="restricted", restriction_basis="《数据安全法》")
    points.credit(
        Kind.ANSWER, actor=world["social_member"], item=f"answer:{world['private_answer'].pk}", item_label="私下问",
        person=steward, department_id=world["tax"].pk,
    )  # fmt: skip
    page = html(
        client_for(health_steward).get(reverse("knowledge:recognition-person", args=[steward.pk]) + "?period=all")
    )
    assert "纳税指南" in page
    assert "内部口径" not in page and "私下问" not in page and page.count("an item you may not see") == 2
    assert reverse("catalog:detail", args=[world["secret"].code]) not in page


def test_unknown_people_and_departments_are_not_found(client_for, world):
    client = client_for(world["health_member"])
    bot = org.create_service_account(world["admin"], department=world["tax"], username="tax-bot")
    for url in (
        reverse("knowledge:recognition-person", args=[999999]),
        reverse("knowledge:recognition-person", args=[bot.pk]),
        reverse("knowledge:recognition-department", args=[999999]),
        "/recognition/people/99999999999999999999999/",
        "/recognition/people/abc/",
    ):
        assert client.get(url).status_code == 404, url


def test_not_counted_lines_say_why(client_for, world):
    steward = world["tax_steward"]
    for n in range(4):
        points.credit(
            Kind.CITATION, actor=world["social_member"], item=f"resource:{world['doc'].pk}0{n}",
            item_label="x", person=steward, department_id=world["tax"].pk,
        )  # fmt: skip
    page = html(client_for(steward).get(reverse("knowledge:recognition-me")))
    assert "not counted: the same person already gave 3 this month" in page


def test_weights_page_is_for_admins_and_re_scores(client_for, world):
    url = reverse("knowledge:recognition-weights")
    assert client_for(world["tax_steward"]).get(url).status_code == 403
    assert client_for(world["tax_steward"]).post(url, {"read": 9}).status_code == 403
    admin = client_for(world["admin"])
    page = html(admin.get(url))
    assert 'name="answer"' in page and 'value="10"' in page
    form = {kind: points.DEFAULT_WEIGHTS[kind] for kind in Kind.values}
    response = admin.post(url, {**form, "answer": "abc"})
    assert response.status_code == 422 and "is-invalid" in response.content.decode()
    assert admin.post(url, {**form, "answer": "30"}).status_code == 302
    assert points.standing("person", world["tax_steward"].pk, points.period("month")).points == 40
    assert Event.objects.filter(action="recognition.weights_changed").count() == 1


def test_badges_show_on_the_board_and_the_person_page(client_for, world):
    points.award_badges(full=True)
    assert Badge.objects.filter(user=world["tax_steward"], code=Badge.Code.FIRST_ANSWER).exists()
    client = client_for(world["health_member"])
    assert "sh-badge-award" in html(client.get(reverse("knowledge:leaderboard")))
    page = html(client.get(reverse("knowledge:recognition-person", args=[world["tax_steward"].pk])))
    assert "First answer to another department" in page


# --- API ----------------------------------------------------------------------------------------------------


def test_api_leaderboard_and_my_points(client_for, world):
    client = client_for(world["health_member"])
    body = client.get("/api/v1/recognition/leaderboard?by=person&period=month").json()
    assert body["items"][0]["name"] == "tax_steward" and body["items"][0]["points"] == 20
    assert body["items"][0]["rank"] == 1 and body["items"][0]["departments_reached"] == 3
    body = client.get("/api/v1/recognition/leaderboard?by=department&period=year&page_size=1").json()
    assert body["total"] == 2 and body["pages"] == 2 and len(body["items"]) == 1
    assert client.get("/api/v1/recognition/leaderboard?by=x").status_code == 422
    assert client.get("/api/v1/recognition/leaderboard?page_size=100000").status_code == 422
    mine = client_for(world["tax_steward"]).get("/api/v1/recognition/me").json()
    assert mine["lines_visible"] and mine["total"] == 4
    assert {line["kind"] for line in mine["lines"]} == {"read", "helped", "answer"}
    assert all("health_member" not in json.dumps(line) for line in mine["lines"])
    other = client.get(f"/api/v1/recognition/people/{world['tax_steward'].pk}").json()
    assert not other["lines_visible"] and other["lines"] == [] and other["totals"][0]["points"] == 20
    assert client.get("/api/v1/recognition/people/999999").status_code == 404
    assert client.get(f"/api/v1/recognition/departments/{world['tax'].pk}").json()["lines_visible"] is False


def test_api_weights(client_for, world):
    admin = client_for(world["admin"])
    assert admin.get("/api/v1/recognition/weights").json()["weights"]["answer"] == 10
    put = admin.put("/api/v1/recognition/weights", {"weights": {"answer": 12}}, content_type="application/json")
    assert put.status_code == 200 and put.json()["weights"]["answer"] == 12
    bad = admin.put("/api/v1/recognition/weights", {"weights": {"answer": -1}}, content_type="application/json")
    assert bad.status_code == 422 and "answer" in bad.json()["error"]["fields"]
    bad = admin.put("/api/v1/recognition/weights", {"weights": {"nope": 1}}, content_type="application/json")
    assert bad.status_code == 422
    member = client_for(world["health_member"])
    assert member.get("/api/v1/recognition/weights").status_code == 200
    refused = member.put("/api/v1/recognition/weights", {"weights": {"read": 5}}, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"


# --- statements ---------------------------------------------------------------------------------------------


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _grow(world, n: int):
    """n more people of n new departments, each credited by the health member, with a badge; n more lines
    for the tax steward."""
    for i in range(n):
        dept = factories.department(f"扩展{i}", f"GROW{i}")
        person = factories.member(dept, "steward", username=f"grow{i}")
        doc = factories.resource(dept, by=person)
        points.credit_for_resource(Kind.HELPED, actor=world["health_member"], resource=doc)
        Badge.objects.create(user=person, code=Badge.Code.HELPFUL)
        points.credit(
            Kind.READ, actor=person, item=f"resource:{world['doc'].pk}", item_label="纳税指南",
            person=world["tax_steward"], department_id=world["tax"].pk,
        )  # fmt: skip


PINS = {
    # session, user, weights, board, names, badges, my standing, my context, the base layout's 3 counts
    reverse("knowledge:leaderboard"): 11,
    reverse("knowledge:leaderboard") + "?by=department": 10,
    # ... memberships, 3 standings, badges, count, a page of lines, 1 per kind of item named (2 here)
    reverse("knowledge:recognition-me") + "?period=all": 16,
    "/api/v1/recognition/leaderboard?page_size=200": 6,
    "/api/v1/recognition/me?period=all&page_size=200": 13,
}


@pytest.mark.parametrize("url", list(PINS))
def test_statement_counts_do_not_grow(client_for, world, url):
    client = client_for(world["tax_steward"])
    Badge.objects.create(user=world["tax_steward"], code=Badge.Code.FIRST_ANSWER)
    few = _count(client, url)
    _grow(world, 30)
    many = _count(client, url)
    assert (few, many) == (PINS[url], PINS[url])
    assert Credit.objects.count() > 60
