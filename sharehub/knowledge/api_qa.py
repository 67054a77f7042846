"""REST API of the knowledge side: questions and answers (list, ask, get, edit, answer, vote, accept, close,
turn an answer into an article, similar questions). The same services and policy as the pages: a question
the caller may not see is 404 on every route; a list and its counts include only what they may see."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.core.paginator import Paginator
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictBool

from sharehub.catalog.markdown import render_markdown
from sharehub.knowledge import qa
from sharehub.knowledge import qa_queries as queries
from sharehub.knowledge.models import Answer, Question
from sharehub.org.api import department_ref, person_ref
from sharehub.org.schemas import BodyId, BodyInt, DbId, DepartmentRef, PersonRef, StrictSchema
from sharehub.policy.knowledge import QuestionAction, decide_question

router = Router(tags=["knowledge"])

MAX_PAGE = 100


# --- shapes -------------------------------------------------------------------------------------


class QuestionResourceRef(Schema):
    code: str
    title: str


class QuestionOut(Schema):
    id: int
    title: str
    body: str = Field(description="Markdown")
    body_html: str = Field(description="The body rendered to safe HTML")
    status: Literal["open", "answered", "closed"]
    private: bool
    asker: PersonRef | None
    asker_department: DepartmentRef | None
    department: DepartmentRef | None = Field(description="The department asked")
    tag: str | None = Field(description="The tag asked")
    resource: QuestionResourceRef | None = Field(description="The resource asked about, if the caller may see it")
    answer_count: int
    accepted_answer: int | None
    created_at: datetime
    updated_at: datetime
    escalated_at: datetime | None
    can_answer: bool
    can_accept: bool
    can_close: bool


class AnswerOut(Schema):
    id: int
    body: str
    body_html: str
    author: PersonRef | None
    department: DepartmentRef | None = Field(description="The department the answer was given for")
    score: int
    my_vote: int = Field(description="The caller's vote: 1, -1 or 0")
    accepted: bool
    created_at: datetime
    updated_at: datetime
    article: str | None = Field(None, description="Code of the article the answer became, if the caller sees it")


class QuestionDetailOut(QuestionOut):
    answers: list[AnswerOut] = Field(description="The accepted answer first, then by votes")


class Counts(Schema):
    all: int
    departments: int
    mine: int
    unanswered: int


class QuestionPage(Schema):
    items: list[QuestionOut]
    count: int = Field(description="Questions in the tab, under the filters")
    counts: Counts = Field(description="Questions in each tab, under the filters")
    page: int
    pages: int


class QuestionFilterIn(Schema):
    tab: Literal["all", "departments", "mine", "unanswered"] = "all"
    department: DbId | None = Field(None, description="Id of the department asked")
    tag: str | None = Field(None, max_length=100)
    q: str | None = Field(None, max_length=queries.MAX_QUERY, description="Words in the title or details")
    page: int = Field(1, ge=1, le=1_000_000)
    limit: int = Field(20, ge=1, le=MAX_PAGE)


class QuestionAskIn(StrictSchema):
    title: str = Field(max_length=qa.MAX_TITLE)
    body: str = Field("", max_length=qa.MAX_BODY, description="Markdown")
    department: BodyId | None = Field(None, description="Id of the department asked")
    tag: str | None = Field(None, max_length=100, description="A tag: the stewards of departments holding it")
    resource: str | None = Field(None, max_length=64, description="Code or id of a resource: its steward")
    private: StrictBool = Field(False, description="Seen only by the asker, the department asked, the steward, admins")


class QuestionPatchIn(StrictSchema):
    title: str | None = Field(None, max_length=qa.MAX_TITLE)
    body: str | None = Field(None, max_length=qa.MAX_BODY)


class QuestionAnswerIn(StrictSchema):
    body: str = Field(max_length=qa.MAX_BODY, description="Markdown")


class VoteIn(StrictSchema):
    value: BodyInt = Field(description="1 up, -1 down, 0 to take one's vote back")


class CloseIn(StrictSchema):
    reason: str = Field("", max_length=qa.MAX_REASON)


class AnswerArticleOut(Schema):
    code: str
    title: str
    status: str


class SimilarOut(Schema):
    questions: list[QuestionOut]
    articles: list[QuestionResourceRef]


# --- serializing --------------------------------------------------------------------------------


def _question(actor, question: Question, resource=None) -> dict:
    open_ = question.status != Question.Status.CLOSED
    return {
        "id": question.pk,
        "title": question.title,
        "body": question.body,
        "body_html": render_markdown(question.body),
        "status": question.status,
        "private": question.private,
        "asker": person_ref(question.asker),
        "asker_department": department_ref(question.asker_department) if question.asker_department_id else None,
        "department": department_ref(question.department) if question.department_id else None,
        "tag": question.tag.name if question.tag_id else None,
        "resource": {"code": resource.code, "title": resource.title} if resource is not None else None,
        "answer_count": question.answer_count,
        "accepted_answer": question.accepted_answer_id,
        "created_at": question.created_at,
        "updated_at": question.updated_at,
        "escalated_at": question.escalated_at,
        "can_answer": bool(decide_question(actor, QuestionAction.ANSWER, question)),
        "can_accept": open_ and bool(decide_question(actor, QuestionAction.ACCEPT, question)),
        "can_close": open_ and bool(decide_question(actor, QuestionAction.CLOSE, question)),
    }


def _answer(answer: Answer, article=None) -> dict:
    return {
        "id": answer.pk,
        "body": answer.body,
        "body_html": render_markdown(answer.body),
        "author": person_ref(answer.author),
        "department": department_ref(answer.department) if answer.department_id else None,
        "score": answer.score,
        "my_vote": getattr(answer, "my_vote", 0),
        "accepted": answer.question.accepted_answer_id == answer.pk,
        "created_at": answer.created_at,
        "updated_at": answer.updated_at,
        "article": article.resource.code if article is not None else None,
    }


def _detail(actor, pk: int) -> dict:
    question = queries.access_question(actor, pk)
    answers = queries.answers_of(actor, question)
    accepted = next((a for a in answers if a.pk == question.accepted_answer_id), None)
    article = queries.article_of(actor, accepted)
    out = _question(actor, question, queries.shown_resource(actor, question))
    out["answers"] = [_answer(a, article if a is accepted else None) for a in answers]
    return out


def _one_answer(actor, question: Question, aid: int) -> Answer:
    return queries.access_answer(actor, question, aid)


# --- routes -------------------------------------------------------------------------------------


@router.get("/questions", response=QuestionPage, summary="Questions the caller may see, newest first")
def list_questions(request, params: Query[QuestionFilterIn]):
    tab = params.tab
    filters = queries.QuestionFilters(
        tab=tab, department=params.department, tag=(params.tag or "").strip(), text=params.q or ""
    )
    rows, counts = queries.list_questions(request.user, filters)
    paginator = Paginator(rows, params.limit)
    paginator.count = counts[tab]
    page_obj = paginator.get_page(params.page)
    questions = queries.rows_with_resources(request.user, list(page_obj.object_list))
    return {
        "items": [_question(request.user, q, q.shown_resource) for q in questions],
        "count": counts[tab],
        "counts": counts,
        "page": page_obj.number,
        "pages": paginator.num_pages,
    }


@router.get("/questions/similar", response=SimilarOut, summary="Questions and articles like a title being typed")
def similar_questions(request, title: str = Query("", max_length=queries.MAX_QUERY)):
    if not title.strip():  # nothing typed yet: nothing is like it
        return {"questions": [], "articles": []}
    questions, articles = queries.similar(request.user, title)
    return {
        "questions": [_question(request.user, q) for q in questions],
        "articles": [{"code": r.code, "title": r.title} for r in articles],
    }


@router.post("/questions", response={201: QuestionDetailOut}, summary="Ask a question")
def ask_question(request, payload: QuestionAskIn):
    question = qa.ask_question(request.user, **payload.model_dump())
    return Status(201, _detail(request.user, question.pk))


@router.get("/questions/{pk}", response=QuestionDetailOut, summary="One question with its answers")
def get_question(request, pk: DbId):
    return _detail(request.user, pk)


@router.patch("/questions/{pk}", response=QuestionDetailOut, summary="Edit one's own question")
def edit_question(request, pk: DbId, payload: QuestionPatchIn):
    question = queries.access_question(request.user, pk)
    qa.edit_question(request.user, question, **payload.model_dump(exclude_unset=True))
    return _detail(request.user, pk)


@router.post("/questions/{pk}/answers", response={201: AnswerOut}, summary="Answer a question")
def answer_question(request, pk: DbId, payload: QuestionAnswerIn):
    question = queries.access_question(request.user, pk)
    answer = qa.answer_question(request.user, question, payload.body)
    answer = _one_answer(request.user, question, answer.pk)
    return Status(201, _answer(answer))


@router.patch("/questions/{pk}/answers/{aid}", response=AnswerOut, summary="Edit one's own answer")
def edit_answer(request, pk: DbId, aid: DbId, payload: QuestionAnswerIn):
    question = queries.access_question(request.user, pk)
    answer = qa.edit_answer(request.user, _one_answer(request.user, question, aid), payload.body)
    return _answer(_one_answer(request.user, question, answer.pk))


@router.post("/questions/{pk}/answers/{aid}/vote", response=AnswerOut, summary="Vote on an answer (one vote each)")
def vote(request, pk: DbId, aid: DbId, payload: VoteIn):
    question = queries.access_question(request.user, pk)
    answer = _one_answer(request.user, question, aid)
    qa.vote(request.user, answer, payload.value)
    answer = _one_answer(request.user, question, aid)
    answer.my_vote = payload.value
    return _answer(answer)


@router.post("/questions/{pk}/answers/{aid}/accept", response=QuestionDetailOut, summary="Accept an answer (asker)")
def accept(request, pk: DbId, aid: DbId):
    question = queries.access_question(request.user, pk)
    qa.accept_answer(request.user, _one_answer(request.user, question, aid))
    return _detail(request.user, pk)


@router.post("/questions/{pk}/close", response=QuestionDetailOut, summary="Close a question")
def close(request, pk: DbId, payload: CloseIn):
    question = queries.access_question(request.user, pk)
    qa.close_question(request.user, question, payload.reason)
    return _detail(request.user, pk)


@router.post(
    "/questions/{pk}/answers/{aid}/article",
    response={201: AnswerArticleOut},
    summary="Turn an accepted answer into a FAQ article of its department",
)
def to_article(request, pk: DbId, aid: DbId):
    question = queries.access_question(request.user, pk)
    answer = _one_answer(request.user, question, aid)
    article = qa.to_article(request.user, answer)
    resource = article.resource
    return Status(201, {"code": resource.code, "title": resource.title, "status": resource.status})
