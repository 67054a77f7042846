"""Reads of questions and answers, always through the policy's filter (`question_filter`); `access_question`
fetches and authorizes in one call (unknown and private-to-others look the same: NotFound)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy

from sharehub.catalog.models import Resource
from sharehub.errors import Forbidden, NotFound
from sharehub.knowledge.models import Answer, Question, Vote
from sharehub.org.models import Membership
from sharehub.policy.engine import Action, can, visible
from sharehub.policy.knowledge import QuestionAction, decide_question, question_filter
from sharehub.validation import parse_id

SIMILAR = 5
MAX_WORDS = 8  # of a typed title or a search box, the longest words are matched
MAX_QUERY = 200
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "my",
        "of",
        "on",
        "or",
        "the",
        "to",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "with",
        "怎么",
        "如何",
        "什么",
        "哪里",
        "哪些",
        "为什么",
        "是否",
        "可以",
        "我们",
        "你们",
        "他们",
        "这个",
        "那个",
        "一个",
        "请问",
        "需要",
        "应该",
    ]
)

TABS = {
    "all": gettext_lazy("All"),
    "departments": gettext_lazy("Asked of my departments"),
    "mine": gettext_lazy("Mine"),
    "unanswered": gettext_lazy("Unanswered"),
}


def visible_questions(actor) -> QuerySet[Question]:
    return Question.objects.filter(question_filter(actor))


def _related() -> QuerySet[Question]:
    return Question.objects.select_related(
        "asker", "asker_department", "department", "tag", "resource__owner_department"
    )


def access_question(actor, ident, action: QuestionAction = QuestionAction.SEE) -> Question:
    """The question with id `ident` if the actor may `action` it: NotFound when it does not exist or is
    not visible to them, Forbidden (with the policy's reason) when they see it but may not act."""
    pk = parse_id(ident)
    question = _related().filter(pk=pk).first() if pk is not None else None
    if question is None or not decide_question(actor, QuestionAction.SEE, question):
        raise NotFound()
    if action != QuestionAction.SEE:
        decision = decide_question(actor, action, question)
        if not decision:
            raise Forbidden(decision.message)
    return question


def access_answer(actor, question: Question, ident) -> Answer:
    """An answer of a question the actor already sees."""
    pk = parse_id(ident)
    answer = Answer.objects.select_related("author", "department").filter(pk=pk, question=question).first()
    if pk is None or answer is None:
        raise NotFound()
    answer.question = question
    return answer


def answers_of(actor, question: Question) -> list[Answer]:
    """The answers, the accepted one first, then by votes; each with the actor's own vote (`my_vote`)."""
    mine = Vote.objects.filter(voter_id=getattr(actor, "pk", None))
    answers = list(
        Answer.objects.filter(question=question)
        .select_related("author", "department")
        .prefetch_related(Prefetch("votes", queryset=mine, to_attr="mine"))
        .order_by("-score", "created_at", "pk")
    )
    for answer in answers:
        answer.question = question
        answer.my_vote = answer.mine[0].value if answer.mine else 0
    answers.sort(key=lambda a: a.pk != question.accepted_answer_id)  # stable: keeps the order by votes
    return answers


def shown_resource(actor, question: Question) -> Resource | None:
    """The resource a question is about, if the reader may see it now (invariant 10)."""
    resource = question.resource if question.resource_id else None
    return resource if resource is not None and can(actor, Action.VIEW, resource) else None


def article_of(actor, answer: Answer | None):
    """The article an answer became, if the reader may see it."""
    if answer is None:
        return None
    from sharehub.knowledge.models import Article

    article = Article.objects.select_related("resource__owner_department").filter(from_answer=answer).first()
    if article is None or not can(actor, Action.VIEW, article.resource):
        return None
    return article


_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def plain(text: str, limit: int = MAX_QUERY) -> str:
    """Typed text as a filter: without control characters or lone surrogates (no database compares them)."""
    return _UNSTORABLE.sub("", text or "")[:limit].strip()


def search_words(text: str) -> list[str]:
    """The words of typed text worth matching, longest first: jieba for Chinese (sharehub.search.segment),
    without one-character words and common question words."""
    from sharehub.search.segment import segmenter

    text = plain(text)
    if not text:
        return []
    words = [w for w in dict.fromkeys(segmenter().words(text)) if len(w) > 1 and w not in _STOP]
    return sorted(words, key=len, reverse=True)[:MAX_WORDS]


def _matching(words: list[str], *fields: str) -> Q:
    found = Q()
    for word in words:
        for field in fields:
            found |= Q(**{f"{field}__icontains": word})
    return found


def _rank(items, words: list[str], title) -> list:
    def score(item):
        text = title(item).casefold()
        return sum(len(w) for w in words if w in text)

    return sorted(items, key=score, reverse=True)


def similar(actor, text: str, *, exclude: int | None = None) -> tuple[list[Question], list[Resource]]:
    """Up to SIMILAR visible questions and published articles the actor may view whose titles share words
    with `text`, those sharing the most first. Three statements at most."""
    words = search_words(text)
    if not words:
        return [], []
    questions = visible_questions(actor).filter(_matching(words, "title")).select_related("department")
    if exclude:
        questions = questions.exclude(pk=exclude)
    questions = _rank(list(questions.order_by("-created_at", "-pk")[:50]), words, lambda q: q.title)[:SIMILAR]
    articles = visible(
        actor,
        Resource.objects.filter(kind=Resource.Kind.ARTICLE, status=Resource.Status.PUBLISHED).filter(
            _matching(words, "title")
        ),
        Action.VIEW,
    ).select_related("owner_department")
    articles = _rank(list(articles.order_by("-published_at", "-pk")[:50]), words, lambda r: r.title)[:SIMILAR]
    return questions, articles


@dataclass
class QuestionFilters:
    tab: str = "all"
    department: int | None = None
    tag: str = ""
    text: str = ""


def my_department_ids(actor) -> list[int]:
    return list(Membership.objects.filter(user_id=getattr(actor, "pk", None)).values_list("department_id", flat=True))


def _tab_filters(actor, department_ids: list[int]) -> dict[str, Q]:
    return {
        "all": Q(),
        "departments": Q(department_id__in=department_ids) | Q(resource__owner_department_id__in=department_ids),
        "mine": Q(asker_id=getattr(actor, "pk", None)),
        "unanswered": Q(status=Question.Status.OPEN, answer_count=0),
    }


def list_questions(actor, filters: QuestionFilters) -> tuple[QuerySet[Question], dict[str, int]]:
    """The questions of a tab, narrowed by department asked, tag and words, newest first; and the count
    of each tab under the same narrowing (one statement), all through the policy's filter."""
    department_ids = my_department_ids(actor)
    tabs = _tab_filters(actor, department_ids)
    base = visible_questions(actor)
    if filters.department:
        base = base.filter(department_id=filters.department)
    tag, text = plain(filters.tag, 100), plain(filters.text)
    if tag:
        base = base.filter(tag__name=tag)
    words = search_words(text)
    if words:
        base = base.filter(_matching(words, "title", "body"))
    elif text:  # only short or common words: match the text as typed
        base = base.filter(Q(title__icontains=text))
    counts = base.aggregate(**{name: Count("pk", filter=q) if q else Count("pk") for name, q in tabs.items()})
    tab = filters.tab if filters.tab in tabs else "all"
    rows = (
        base.filter(tabs[tab])
        .select_related("asker", "department", "tag", "asker_department", "resource")
        .order_by("-created_at", "-pk")
    )
    return rows, {name: counts.get(name) or 0 for name in tabs}


def rows_with_resources(actor, questions: list[Question]) -> list[Question]:
    """Set `shown_resource` on each question: its resource if the reader sees it (one statement)."""
    ids = {q.resource_id for q in questions if q.resource_id}
    seen = {}
    if ids:
        seen = {r.pk: r for r in visible(actor, Resource.objects.filter(pk__in=ids), Action.VIEW)}
    for q in questions:
        q.shown_resource = seen.get(q.resource_id)
    return questions
