"""The question pages as people use them: list with tabs and filters, ask (with similar questions as the title
is typed), answer, vote, accept, close, edit, turn into an article; private questions are 404 to others;
odd input gets a clear answer, never a 500."""

from __future__ import annotations

import pytest
from django.utils import translation

from sharehub.knowledge import qa
from sharehub.knowledge.models import Answer, Article, Question
from sharehub.org.models import Membership
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(org_units, people):
    w = dict(people)
    w.update(org_units)
    w["tax_head"] = factories.member(org_units["tax"], Membership.Role.HEAD, username="tax_head")
    return w


def ask(world, who="health_member", **kwargs) -> Question:
    kwargs.setdefault("title", "怎么开具完税证明？")
    kwargs.setdefault("department", world["tax"])
    return qa.ask_question(world[who], **kwargs)


def test_asking_through_the_page(world, client_for):
    client = client_for(world["health_member"])
    page = client.get("/questions/ask/")
    assert page.status_code == 200
    assert 'href="/help/questions/"' in page.content.decode()
    response = client.post(
        "/questions/ask/",
        {"title": "社保缴费基数怎么查？", "body": "急用", "department": world["hr"].pk, "tag": "", "resource": ""},
    )
    question = Question.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/questions/{question.pk}/"
    assert question.department_id == world["hr"].pk and question.asker_id == world["health_member"].pk


def test_the_ask_form_shows_the_services_refusals(world, client_for):
    client = client_for(world["health_member"])
    response = client.post("/questions/ask/", {"title": "问题", "tag": "", "private": "on"})
    assert response.status_code == 422
    assert "Ask a department, a tag or the steward of a resource." in response.content.decode()
    factories.resource(world["tax"], by=world["tax_steward"], tags=["社保"])
    response = client.post("/questions/ask/", {"title": "问题", "tag": "社保", "private": "on"})
    assert response.status_code == 422
    assert "A private question must be asked of a department" in response.content.decode()
    assert not Question.objects.exists()


def test_the_ask_page_prefills_a_resource(world, client_for):
    doc = factories.resource(world["tax"], by=world["tax_steward"])
    page = client_for(world["health_member"]).get(f"/questions/ask/?resource={doc.code}")
    assert f'value="{doc.code}"' in page.content.decode()
    from django.test import RequestFactory

    from sharehub.knowledge.qa_audit import _ask_panel
    from sharehub.policy.engine import Action, can

    request = RequestFactory().get(f"/resources/{doc.code}/")  # the panel on the resource's page
    request.user = world["health_member"]
    assert f"/questions/ask/?resource={doc.code}" in _ask_panel(request, doc, can(request.user, Action.READ, doc))


def test_similar_questions_as_the_title_is_typed_in_chinese(world, client_for):
    ask(world, title="如何开具个人所得税完税证明")
    ask(world, title="公积金提取需要什么材料", department=world["hr"])
    secret = ask(world, title="个人所得税完税证明的内部流程", private=True)
    client = client_for(world["social_member"])
    response = client.get("/questions/similar/", {"title": "完税证明在哪里开"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "如何开具个人所得税完税证明" in body
    assert "公积金" not in body
    assert secret.title not in body  # never a private question of others
    assert (
        client_for(world["tax_member"])
        .get("/questions/similar/", {"title": "完税证明"})
        .content.decode()
        .count("sh-similar-question")
        == 2
    )
    assert client.get("/questions/similar/", {"title": ""}).content.strip() == b""


def test_similar_shows_articles_the_reader_may_view(world, client_for):
    from sharehub.knowledge import articles

    articles.create_article(
        world["tax_steward"], department=world["tax"], title="完税证明开具指南", body="步骤", publish=True
    )
    articles.create_article(
        world["tax_steward"],
        department=world["tax"],
        title="完税证明内部口径",
        body="内部",
        publish=True,
        sharing_type="restricted",
        restriction_basis="内部",
    )
    body = client_for(world["health_member"]).get("/questions/similar/", {"title": "完税证明"}).content.decode()
    assert "完税证明开具指南" in body and "内部口径" not in body


def test_answer_vote_accept_and_article_through_the_pages(world, client_for):
    question = ask(world, body="要带什么？")
    steward = client_for(world["tax_steward"])
    response = steward.post(f"/questions/{question.pk}/answer/", {"body": "带**身份证**"})
    answer = Answer.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"#answer-{answer.pk}")
    asker = client_for(world["health_member"])
    page = asker.get(f"/questions/{question.pk}/").content.decode()
    assert "<strong>身份证</strong>" in page
    vote = asker.post(f"/questions/{question.pk}/answers/{answer.pk}/vote/", {"value": "1"}, HTTP_HX_REQUEST="true")
    assert vote.status_code == 200 and 'aria-pressed="true"' in vote.content.decode()
    assert steward.post(f"/questions/{question.pk}/answers/{answer.pk}/vote/", {"value": "1"}).status_code == 403
    assert asker.post(f"/questions/{question.pk}/answers/{answer.pk}/vote/", {"value": "7"}).status_code == 422
    assert steward.post(f"/questions/{question.pk}/answers/{answer.pk}/accept/").status_code == 403
    assert asker.post(f"/questions/{question.pk}/answers/{answer.pk}/accept/").status_code == 302
    question.refresh_from_db()
    assert question.status == "answered"
    page = steward.get(f"/questions/{question.pk}/").content.decode()
    assert "Turn into an article" in page
    assert "Turn into an article" not in asker.get(f"/questions/{question.pk}/").content.decode()
    response = steward.post(f"/questions/{question.pk}/answers/{answer.pk}/article/")
    article = Article.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/resources/{article.resource.code}/"
    page = asker.get(f"/questions/{question.pk}/").content.decode()
    assert f"/resources/{article.resource.code}/" in page and "Turn into an article" not in page


def test_answers_are_sorted_accepted_first_then_by_votes(world, client_for):
    question = ask(world)
    low = qa.answer_question(world["tax_member"], question, "回答甲")
    high = qa.answer_question(world["tax_steward"], question, "回答乙")
    accepted = qa.answer_question(world["hr_head"], question, "回答丙")
    qa.vote(world["social_member"], high, 1)
    qa.vote(world["social_member"], low, -1)
    qa.accept_answer(world["health_member"], accepted)
    page = client_for(world["social_member"]).get(f"/questions/{question.pk}/").content.decode()
    assert page.index("回答丙") < page.index("回答乙") < page.index("回答甲")


def test_close_and_edit_through_the_pages(world, client_for):
    question = ask(world)
    asker = client_for(world["health_member"])
    assert client_for(world["tax_steward"]).get(f"/questions/{question.pk}/edit/").status_code == 403
    response = asker.post(f"/questions/{question.pk}/edit/", {"title": "", "body": "x"})
    assert response.status_code == 422
    response = asker.post(f"/questions/{question.pk}/edit/", {"title": "改过的问题", "body": "x"})
    assert response.status_code == 302
    assert client_for(world["social_member"]).post(f"/questions/{question.pk}/close/").status_code == 403
    assert client_for(world["tax_steward"]).post(f"/questions/{question.pk}/close/").status_code == 302
    question.refresh_from_db()
    assert (question.title, question.status) == ("改过的问题", "closed")
    page = asker.get(f"/questions/{question.pk}/").content.decode()
    assert "answer-form" not in page and "This question is closed" in page


def test_editing_ones_own_answer(world, client_for):
    question = ask(world)
    answer = qa.answer_question(world["tax_steward"], question, "旧")
    url = f"/questions/{question.pk}/answers/{answer.pk}/edit/"
    assert client_for(world["health_member"]).get(url).status_code == 403
    assert client_for(world["tax_steward"]).post(url, {"body": "新"}).status_code == 302
    answer.refresh_from_db()
    assert answer.body == "新"


def test_a_private_question_is_404_on_every_route_for_others(world, client_for):
    question = ask(world, private=True, title="私密的问题")
    answer = qa.answer_question(world["tax_member"], question, "答")
    outsider = client_for(world["social_member"])
    base = f"/questions/{question.pk}/"
    for method, url in [
        ("get", base),
        ("get", base + "edit/"),
        ("post", base + "answer/"),
        ("post", base + "close/"),
        ("get", base + f"answers/{answer.pk}/edit/"),
        ("post", base + f"answers/{answer.pk}/vote/"),
        ("post", base + f"answers/{answer.pk}/accept/"),
        ("post", base + f"answers/{answer.pk}/article/"),
    ]:
        assert getattr(outsider, method)(url, {"value": "1", "body": "x"}).status_code == 404, url
    listing = outsider.get("/questions/").content.decode()
    assert "私密的问题" not in listing
    for name in ("tax_member", "tax_steward", "health_member", "admin"):
        assert client_for(world[name]).get(base).status_code == 200, name
    assert client_for(world["auditor"]).get(base).status_code == 404


def test_list_tabs_filters_and_counts(world, client_for):
    mine = ask(world, title="我的问题甲")
    ask(world, who="social_member", title="别人的问题乙", department=world["health"])
    ask(world, who="tax_member", title="私密问题丙", department=world["hr"], private=True)
    qa.answer_question(world["tax_steward"], mine, "答")
    client = client_for(world["health_member"])
    body = client.get("/questions/").content.decode()
    assert "我的问题甲" in body and "别人的问题乙" in body and "私密问题丙" not in body
    assert client.get("/questions/?tab=mine").content.decode().count("sh-question-row") == 1
    departments = client.get("/questions/?tab=departments").content.decode()
    assert "别人的问题乙" in departments and "我的问题甲" not in departments
    unanswered = client.get("/questions/?tab=unanswered").content.decode()
    assert "别人的问题乙" in unanswered and "我的问题甲" not in unanswered
    assert "别人的问题乙" not in client.get(f"/questions/?department={world['tax'].pk}").content.decode()
    assert "我的问题甲" in client.get("/questions/?q=问题甲").content.decode()
    assert "sh-question-row" not in client.get("/questions/?q=没有这种").content.decode()
    counts = [int(n) for n in __import__("re").findall(r'sh-tab-count">(\d+)<', body)]
    assert counts == [2, 1, 1, 1]


@pytest.mark.parametrize(
    "query",
    [
        "?page=abc",
        "?page=999999",
        "?department=abc",
        "?department=99999999999999999999",
        "?tab=nope",
        "?q=" + "长" * 5000,
        "?tag=%00",
        "?q=%00%01x&tag=%ED%A0%80",
        "?q=%F0%9F%98%80' OR 1=1 --",
    ],
)
def test_odd_list_queries_answer_200(world, client_for, query):
    ask(world)
    assert client_for(world["health_member"]).get("/questions/" + query).status_code == 200


def test_hostile_input_on_forms(world, client_for):
    client = client_for(world["health_member"])
    response = client.post("/questions/ask/", {"title": "<script>alert(1)</script>", "department": world["tax"].pk})
    question = Question.objects.get()
    page = client.get(f"/questions/{question.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert response.status_code == 302
    for bad in ({"title": "x" * 300, "department": world["tax"].pk}, {"title": "问", "department": "abc"}):
        assert client.post("/questions/ask/", bad).status_code == 422
    answer = client_for(world["tax_steward"]).post(
        f"/questions/{question.pk}/answer/", {"body": "[x](javascript:alert(1)) <img src=x onerror=alert(1)>"}
    )
    assert answer.status_code == 302
    page = client.get(f"/questions/{question.pk}/").content.decode()
    assert 'href="javascript' not in page and "<img src=x onerror" not in page
    assert client.post(f"/questions/{question.pk}/answer/", {"body": ""}).status_code == 422
    assert client.get("/questions/99999999/").status_code == 404
    assert client.get("/questions/1/answers/99999999/edit/").status_code == 404


def test_the_pages_in_chinese(world, client_for, settings):
    question = ask(world)
    client = client_for(world["health_member"])
    with translation.override("zh-hans"):
        for url in ("/questions/", "/questions/ask/", f"/questions/{question.pk}/"):
            body = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
            assert "问答" in body and "提问" in body, url
            assert "Ask a question" not in body and "Unanswered" not in body, url


def test_anonymous_is_sent_to_sign_in(world, client):
    assert client.get("/questions/").status_code == 302
    assert client.get("/questions/similar/?title=x").status_code == 302
