"""Questions and answers, through the services: asking (addressees, private rules, odd input), answering,
votes, accepting (with recognition across departments), closing, editing, turning an answer into an article."""

from __future__ import annotations

import pytest

from sharehub.errors import Conflict, Forbidden, Invalid, NotFound
from sharehub.events.models import Event
from sharehub.knowledge import qa
from sharehub.knowledge.models import Answer, Article, Credit, Question, Vote
from sharehub.org.models import Membership
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(org_units, people):
    w = dict(people)
    w.update(org_units)
    w["tax_head"] = factories.member(org_units["tax"], Membership.Role.HEAD, username="tax_head")
    w["doc"] = factories.resource(org_units["tax"], by=people["tax_steward"], tags=["社保"], steward=None)
    w["restricted"] = factories.resource(org_units["tax"], by=people["tax_steward"], sharing_type="restricted")
    return w


def last_event(action: str) -> Event:
    return Event.objects.filter(action=action).order_by("-seq").first()


def ask(world, who="health_member", **kwargs) -> Question:
    kwargs.setdefault("title", "怎么开具完税证明？")
    kwargs.setdefault("department", world["tax"])
    return qa.ask_question(world[who], **kwargs)


# --- asking ---------------------------------------------------------------------------------------


def test_asking_a_department_tells_its_stewards_and_heads(world):
    question = ask(world, body="需要**纸质**证明")
    assert question.asker_department_id == world["health"].pk
    assert question.status == Question.Status.OPEN
    event = last_event("question.asked")
    assert event.target_id == str(question.pk)
    assert sorted(event.details["recipients"]) == sorted([world["tax_steward"].pk, world["tax_head"].pk])
    assert set(event.departments.values_list("pk", flat=True)) == {world["tax"].pk, world["health"].pk}


def test_asking_about_a_resource_tells_its_steward(world):
    steward = world["tax_steward"]
    doc = factories.resource(world["tax"], by=steward, steward=steward.pk)
    question = ask(world, department=None, resource=doc.code)
    assert question.resource_id == doc.pk
    assert last_event("question.asked").details["recipients"] == [steward.pk]


def test_asking_a_tag_tells_the_stewards_of_departments_holding_it(world):
    hr_steward = factories.member(world["hr"], Membership.Role.STEWARD, username="hr_steward")
    factories.resource(world["hr"], by=hr_steward, tags=["社保"])
    factories.resource(world["hr"], by=hr_steward, tags=["社保"], publish=False)  # drafts do not count
    ask(world, department=None, tag="#社保")
    recipients = last_event("question.asked").details["recipients"]
    assert set(recipients) == {world["tax_steward"].pk, hr_steward.pk}


def test_the_tag_addressees_are_capped(world):
    for i in range(qa.TAG_DEPARTMENTS + 3):
        unit = factories.department(f"部门X{i}", f"X{i}")
        steward = factories.member(unit, Membership.Role.STEWARD)
        factories.member(unit, Membership.Role.STEWARD)
        factories.resource(unit, by=steward, tags=["共享标签"])
    ask(world, department=None, tag="共享标签")
    recipients = last_event("question.asked").details["recipients"]
    assert 0 < len(recipients) <= qa.TAG_RECIPIENTS


def test_a_question_must_be_addressed(world):
    with pytest.raises(Invalid) as caught:
        ask(world, department=None)
    assert "department" in caught.value.fields
    assert not Question.objects.exists()


def test_a_private_question_to_a_tag_only_is_refused_clearly(world):
    with pytest.raises(Invalid) as caught:
        ask(world, department=None, tag="社保", private=True)
    assert "private" in caught.value.fields
    assert "tag" in str(caught.value.fields["private"])


def test_a_resource_the_asker_cannot_see_reads_like_a_missing_one(world):
    with pytest.raises(Invalid) as hidden:
        ask(world, department=None, resource=world["restricted"].code)
    with pytest.raises(Invalid) as missing:
        ask(world, department=None, resource="NOPE-2000-0001")
    assert hidden.value.fields == missing.value.fields == {"resource": "No such resource."}


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"title": ""}, "title"),
        ({"title": "   \n\t "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "ok\ud800"}, "title"),
        ({"title": 42}, "title"),
        ({"body": "x" * (qa.MAX_BODY + 1)}, "body"),
        ({"department": "99999999999999999999"}, "department"),
        ({"department": "abc"}, "department"),
        ({"tag": "不存在的标签"}, "tag"),
        ({"private": "yes"}, "private"),
    ],
)
def test_odd_input_is_refused_by_field(world, fields, bad):
    with pytest.raises(Invalid) as caught:
        ask(world, **fields)
    assert bad in caught.value.fields


def test_control_characters_and_line_breaks_are_dropped_from_the_title(world):
    question = ask(world, title="完税\x00证明\x07\n怎么开？", body="第一行\n\x1b第二行")
    assert question.title == "完税证明 怎么开？"
    assert question.body == "第一行\n第二行"


def test_an_archived_department_cannot_be_asked(world):
    from django.utils import timezone

    type(world["hr"]).objects.filter(pk=world["hr"].pk).update(archived_at=timezone.now())
    with pytest.raises(Invalid):
        ask(world, department=world["hr"].pk)


# --- answering, voting, accepting -------------------------------------------------------------------


def test_answering_counts_and_tells_the_asker(world):
    question = ask(world)
    answer = qa.answer_question(world["tax_steward"], question, "到办税服务厅开具。")
    question.refresh_from_db()
    assert question.answer_count == 1
    assert answer.department_id == world["tax"].pk
    assert last_event("question.answered").details["recipients"] == [world["health_member"].pk]


def test_the_answer_department_is_the_one_asked_if_the_answerer_belongs_to_it(world):
    both = factories.person("both", departments={world["health"]: "member", world["tax"]: "member"})
    question = ask(world)
    assert qa.answer_question(both, question, "答").department_id == world["tax"].pk
    other = ask(world, department=world["hr"])
    assert qa.answer_question(both, other, "答").department_id == world["health"].pk


def test_votes_one_per_person_changeable_never_on_ones_own(world):
    question = ask(world)
    answer = qa.answer_question(world["tax_steward"], question, "答")
    assert qa.vote(world["health_member"], answer, 1) == 1
    assert qa.vote(world["health_member"], answer, 1) == 1  # the same vote again changes nothing
    assert qa.vote(world["social_member"], answer, 1) == 2
    assert qa.vote(world["health_member"], answer, -1) == 0
    assert qa.vote(world["social_member"], answer, 0) == -1
    answer.refresh_from_db()
    assert answer.score == -1 == sum(Vote.objects.filter(answer=answer).values_list("value", flat=True))
    with pytest.raises(Forbidden):
        qa.vote(world["tax_steward"], answer, 1)
    for bad in (2, True, "1", None):
        with pytest.raises(Invalid):
            qa.vote(world["health_member"], answer, bad)


def test_accepting_an_answer_of_another_department_credits_its_author(world):
    question = ask(world)
    answer = qa.answer_question(world["tax_steward"], question, "答")
    qa.accept_answer(world["health_member"], answer)
    question.refresh_from_db()
    assert question.status == Question.Status.ANSWERED
    assert question.accepted_answer_id == answer.pk
    credit = Credit.objects.get(kind="answer")
    assert (credit.person_id, credit.department_id, credit.item) == (
        world["tax_steward"].pk,
        world["tax"].pk,
        f"answer:{answer.pk}",
    )
    assert credit.actor_department_id == world["health"].pk
    assert last_event("answer.accepted").details["recipients"] == [world["tax_steward"].pk]


def test_an_answer_from_the_askers_own_department_earns_nothing(world):
    question = ask(world, who="tax_member")
    answer = qa.answer_question(world["tax_steward"], question, "答")
    qa.accept_answer(world["tax_member"], answer)
    assert not Credit.objects.exists()


def test_only_the_asker_accepts_and_may_change_the_accepted_answer(world):
    question = ask(world)
    first = qa.answer_question(world["tax_steward"], question, "一")
    second = qa.answer_question(world["hr_head"], question, "二")
    with pytest.raises(Forbidden):
        qa.accept_answer(world["tax_steward"], first)
    qa.accept_answer(world["health_member"], first)
    qa.accept_answer(world["health_member"], second)
    question.refresh_from_db()
    assert question.accepted_answer_id == second.pk
    assert last_event("answer.accepted").details["previous"] == first.pk
    # the first answer's credit is taken back: only the answer the asker stands by earns
    assert list(Credit.objects.filter(kind="answer").values_list("item", flat=True)) == [f"answer:{second.pk}"]


def test_closing_by_the_asker_or_the_department_asked(world):
    question = ask(world)
    with pytest.raises(Forbidden):
        qa.close_question(world["social_member"], question)
    qa.close_question(world["tax_steward"], question, reason="已在知识库回答")
    question.refresh_from_db()
    assert question.status == Question.Status.CLOSED
    assert last_event("question.closed").details["recipients"] == [world["health_member"].pk]
    with pytest.raises(Conflict):
        qa.close_question(world["health_member"], question)
    with pytest.raises(Forbidden):
        qa.answer_question(world["tax_steward"], question, "晚了")
    first = Answer.objects.filter(question=question).first()
    assert first is None


def test_editing_ones_own_question_and_answer_only(world):
    question = ask(world)
    answer = qa.answer_question(world["tax_steward"], question, "答")
    with pytest.raises(Forbidden):
        qa.edit_question(world["tax_steward"], question, title="改")
    qa.edit_question(world["health_member"], question, title="新标题", body="新内容")
    question.refresh_from_db()
    assert (question.title, question.body) == ("新标题", "新内容")
    with pytest.raises(Forbidden):
        qa.edit_answer(world["health_member"], answer, "改")
    qa.edit_answer(world["tax_steward"], answer, "改过的回答")
    answer.refresh_from_db()
    assert answer.body == "改过的回答"
    assert last_event("answer.edited") is not None
    with pytest.raises(Invalid):
        qa.edit_answer(world["tax_steward"], answer, "   ")


# --- private questions ------------------------------------------------------------------------------


def test_a_private_question_is_not_found_by_those_outside_it(world):
    question = ask(world, private=True)
    with pytest.raises(NotFound):
        qa.answer_question(world["social_member"], question, "我也想知道")
    answer = qa.answer_question(world["tax_member"], question, "答")
    with pytest.raises(NotFound):
        qa.vote(world["social_member"], answer, 1)
    with pytest.raises(NotFound):
        qa.close_question(world["social_member"], question)


# --- into an article ------------------------------------------------------------------------------


def test_an_accepted_answer_becomes_a_faq_article(world):
    question = ask(world, body="要带什么材料？")
    answer = qa.answer_question(world["tax_member"], question, "带身份证。")
    with pytest.raises(Forbidden):
        qa.to_article(world["tax_member"], answer)  # not accepted yet
    qa.accept_answer(world["health_member"], answer)
    with pytest.raises(Forbidden):
        qa.to_article(world["health_member"], answer)  # the asker is neither its author nor a steward
    article = qa.to_article(world["tax_steward"], answer)
    assert isinstance(article, Article)
    assert article.from_answer_id == answer.pk
    assert article.credited_to_id == world["tax_member"].pk
    assert article.template == Article.Template.FAQ
    assert article.resource.owner_department_id == world["tax"].pk
    assert article.resource.status == "published"  # a steward publishes at once
    assert "要带什么材料" in article.resource.body and "带身份证" in article.resource.body
    assert article.resource.body.startswith("## Question\n")  # the organization's language: English in tests
    with pytest.raises(Conflict):
        qa.to_article(world["tax_member"], answer)


def test_the_article_of_an_answer_is_headed_in_the_organizations_language(world, settings):
    settings.LANGUAGE_CODE = "zh-hans"  # the person clicking reads English (the tests' active language)
    question = ask(world, body="要带什么材料？")
    answer = qa.answer_question(world["tax_steward"], question, "带身份证。")
    body = qa.article_body(question, answer)
    assert body.startswith("## 问题\n") and "## 回答\n" in body


def test_a_member_answerer_makes_a_draft_article(world):
    question = ask(world)
    answer = qa.answer_question(world["tax_member"], question, "答")
    qa.accept_answer(world["health_member"], answer)
    article = qa.to_article(world["tax_member"], answer)
    assert article.resource.status == "draft"
