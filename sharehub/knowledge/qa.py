"""Knowledge side: questions and answers (services: every write validates, asks the policy, changes rows and
records its event in one transaction).

A question is asked of a department, a tag (the stewards of the departments holding published resources
with it are told) or a resource's steward; it may be private (policy: `sharehub.policy.knowledge`). Answers
are voted on; the asker accepts one (an answer from another department earns its author recognition), and
an accepted answer becomes an article with one click. A question nobody answered for N working days is
escalated once to the heads of the department asked (`escalate_unanswered`, a periodic job)."""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from sharehub.catalog.models import Resource, Tag
from sharehub.errors import Conflict, Forbidden, Invalid, NotFound
from sharehub.events.services import record
from sharehub.knowledge.models import Answer, Question, Vote
from sharehub.org.models import Department, Membership
from sharehub.policy.engine import Action, can, reviewer_ids
from sharehub.policy.knowledge import (
    AnswerAction,
    QuestionAction,
    decide_answer,
    decide_question,
    decide_question_edit,
)
from sharehub.validation import parse_id, text_problem

MAX_TITLE = 200
MAX_BODY = 20_000
MAX_REASON = 500
TAG_DEPARTMENTS = 10  # a question asked of a tag tells the stewards of at most this many departments
TAG_RECIPIENTS = 20  # and at most this many people
DEFAULT_ESCALATION_DAYS = 3

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # kept: tab, line feed, carriage return
_LINE_BREAKS = re.compile(r"[\t\r\n]+")


def clean(errors: dict, name: str, value, *, limit: int, required: bool = True, multiline: bool = True) -> str:
    """A text field, stripped of control characters (and of line breaks when not `multiline`); a problem is
    written into `errors` under `name`."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = _("Must be text.")
        return ""
    problem = text_problem(value)
    if problem and "\x00" not in value:  # a NUL is a control character: dropped below
        errors[name] = problem
        return ""
    value = _CONTROL.sub("", value)
    if not multiline:
        value = _LINE_BREAKS.sub(" ", value)
    value = value.strip()
    if required and not value:
        errors[name] = _("This field is required.")
    elif len(value) > limit:
        errors[name] = _("At most %(n)s characters.") % {"n": limit}
    return value


def _require(decision) -> None:
    if not decision:
        raise Forbidden(decision.message)


def _seen(decision):
    """A refusal because the question is not visible is a 404: unknown means not found."""
    if not decision and decision.code in ("private_question", "anonymous"):
        raise NotFound()
    return decision


def _first_department_id(user_id: int) -> int | None:
    """The department a person joined first."""
    return Membership.objects.filter(user_id=user_id).order_by("pk").values_list("department_id", flat=True).first()


def _involved(question: Question) -> list[int]:
    owner = question.resource.owner_department_id if question.resource_id else None
    return [d for d in {question.department_id, question.asker_department_id, owner} if d is not None]


def _details(question: Question, **more) -> dict:
    return {"question": question.pk, "title": question.title, "private": question.private, **more}


# --- who is told --------------------------------------------------------------------------------


def _steward_ids(department_ids) -> list[int]:
    return list(
        Membership.objects.filter(
            department_id__in=list(department_ids), role=Membership.Role.STEWARD, user__is_active=True
        )
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()[:TAG_RECIPIENTS]
    )


def tag_department_ids(tag: Tag) -> list[int]:
    """The departments that hold published resources with `tag`, those with the most first (capped)."""
    from django.db.models import Count

    rows = (
        Resource.objects.filter(tags=tag, status=Resource.Status.PUBLISHED)
        .values("owner_department_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "owner_department_id")[:TAG_DEPARTMENTS]
    )
    return [row["owner_department_id"] for row in rows]


def addressees(question: Question) -> list[int]:
    """The people a new question is sent to: the stewards and heads of the department asked, the steward
    of the resource it is about, and for a tag the stewards of the departments holding it (capped)."""
    people: list[int] = []
    if question.department_id:
        people += reviewer_ids(question.department_id)
    if question.resource_id:
        resource = question.resource
        if resource.steward_id:
            people.append(resource.steward_id)
        else:
            people += reviewer_ids(resource.owner_department_id)
    if question.tag_id and not question.private:
        people += _steward_ids(tag_department_ids(question.tag))
    people = list(dict.fromkeys(p for p in people if p != question.asker_id))
    return people


def _heads(department_id: int) -> list[int]:
    heads = list(
        Membership.objects.filter(department_id=department_id, role=Membership.Role.HEAD, user__is_active=True)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )
    return heads or reviewer_ids(department_id)  # a department with no head: its stewards


# --- asking -------------------------------------------------------------------------------------


def _resolve_department(errors: dict, value) -> Department | None:
    if value in (None, ""):
        return None
    if isinstance(value, Department):
        return value
    found = Department.objects.filter(pk=parse_id(value), archived_at__isnull=True).first() if parse_id(value) else None
    if found is None:
        errors["department"] = _("No such department.")
    return found


def _resolve_tag(errors: dict, value) -> Tag | None:
    if value in (None, ""):
        return None
    if isinstance(value, Tag):
        return value
    if not isinstance(value, str):
        errors["tag"] = _("Must be text.")
        return None
    name = _CONTROL.sub("", value).strip().lstrip("#").strip()
    if not name:
        return None
    found = Tag.objects.filter(name=name[:100]).first()
    if found is None:
        errors["tag"] = _("No resource carries the tag “%(tag)s”.") % {"tag": name[:50]}
    return found


def _resolve_resource(actor, errors: dict, value) -> Resource | None:
    """A resource the asker sees, by instance, id or code; one they may not see reads like a missing one."""
    if value in (None, ""):
        return None
    from sharehub.catalog.queries import resource_key

    if isinstance(value, Resource):
        found = value
    else:
        key = resource_key(value)
        found = Resource.objects.select_related("owner_department").filter(**{key[0]: key[1]}).first() if key else None
    if found is None or not can(actor, Action.VIEW, found):
        errors["resource"] = _("No such resource.")
        return None
    return found


def _bool(errors: dict, name: str, value) -> bool:
    if isinstance(value, bool):
        return value
    errors[name] = _("Must be true or false.")
    return False


@transaction.atomic
def ask_question(actor, *, title, body="", department=None, tag=None, resource=None, private: bool = False) -> Question:
    """Ask a question of a department, a tag or a resource's steward (at least one); tell them."""
    if not getattr(actor, "is_authenticated", False):
        raise Forbidden(_("Sign in first."))
    errors: dict[str, str] = {}
    title = clean(errors, "title", title, limit=MAX_TITLE, multiline=False)
    body = clean(errors, "body", body, limit=MAX_BODY, required=False)
    private = _bool(errors, "private", private)
    department = _resolve_department(errors, department)
    tag = _resolve_tag(errors, tag)
    resource = _resolve_resource(actor, errors, resource)
    if not errors and department is None and tag is None and resource is None:
        errors["department"] = _("Ask a department, a tag or the steward of a resource.")
    if not errors and private and department is None and resource is None:
        errors["private"] = _(
            "A private question must be asked of a department or about a resource: a tag reaches people you "
            "cannot choose."
        )
    if errors:
        raise Invalid(fields=errors)
    question = Question.objects.create(
        title=title,
        body=body,
        asker=actor,
        asker_department_id=_first_department_id(actor.pk),
        department=department,
        tag=tag,
        resource=resource,
        private=private,
    )
    record(
        actor,
        "question.asked",
        question,
        departments=_involved(question),
        details=_details(
            question,
            department=question.department_id,
            tag=tag.name if tag else "",
            resource=resource.code if resource else "",
            recipients=addressees(question),
        ),
    )
    return question


@transaction.atomic
def edit_question(actor, question: Question, *, title=None, body=None) -> Question:
    question = Question.objects.select_for_update(of=("self",)).select_related("resource").get(pk=question.pk)
    _require(_seen(decide_question_edit(actor, question)))
    errors: dict[str, str] = {}
    changed = []
    if title is not None:
        title = clean(errors, "title", title, limit=MAX_TITLE, multiline=False)
        if title != question.title:
            question.title, changed = title, [*changed, "title"]
    if body is not None:
        body = clean(errors, "body", body, limit=MAX_BODY, required=False)
        if body != question.body:
            question.body, changed = body, [*changed, "body"]
    if errors:
        raise Invalid(fields=errors)
    if changed:
        question.save(update_fields=[*changed, "updated_at"])
        record(actor, "question.edited", question, departments=_involved(question), details=_details(question))
    return question


# --- answering, voting, accepting, closing ------------------------------------------------------


def _locked(question: Question) -> Question:
    return Question.objects.select_for_update(of=("self",)).select_related("resource").get(pk=question.pk)


def answering_department_id(actor, question: Question) -> int | None:
    """The department an answer is given for: the one asked if the answerer belongs to it (or owns the
    resource asked about), else the one they joined first."""
    mine = list(Membership.objects.filter(user_id=actor.pk).order_by("pk").values_list("department_id", flat=True))
    for wanted in (question.department_id, question.resource.owner_department_id if question.resource_id else None):
        if wanted is not None and wanted in mine:
            return wanted
    return mine[0] if mine else None


@transaction.atomic
def answer_question(actor, question: Question, body) -> Answer:
    question = _locked(question)
    _require(_seen(decide_question(actor, QuestionAction.ANSWER, question)))
    errors: dict[str, str] = {}
    body = clean(errors, "body", body, limit=MAX_BODY)
    if errors:
        raise Invalid(fields=errors)
    answer = Answer.objects.create(
        question=question, author=actor, department_id=answering_department_id(actor, question), body=body
    )
    Question.objects.filter(pk=question.pk).update(answer_count=F("answer_count") + 1, updated_at=timezone.now())
    record(
        actor,
        "question.answered",
        question,
        departments=_involved(question),
        details=_details(question, answer=answer.pk, department=answer.department_id, recipients=[question.asker_id]),
    )
    return answer


def _locked_answer(answer: Answer) -> Answer:
    question = _locked(answer.question)
    found = Answer.objects.select_for_update().filter(pk=answer.pk, question=question).first()
    if found is None:
        raise NotFound()
    found.question = question
    return found


@transaction.atomic
def edit_answer(actor, answer: Answer, body) -> Answer:
    answer = _locked_answer(answer)
    _require(_seen(decide_answer(actor, AnswerAction.EDIT, answer)))
    errors: dict[str, str] = {}
    body = clean(errors, "body", body, limit=MAX_BODY)
    if errors:
        raise Invalid(fields=errors)
    if body != answer.body:
        answer.body = body
        answer.save(update_fields=["body", "updated_at"])
        question = answer.question
        record(
            actor,
            "answer.edited",
            question,
            departments=_involved(question),
            details=_details(question, answer=answer.pk),
        )
    return answer


@transaction.atomic
def vote(actor, answer: Answer, value) -> int:
    """Vote an answer up (1) or down (-1), or take one's vote back (0): one vote per person, changeable.
    Returns the answer's new score."""
    if isinstance(value, bool) or value not in (1, -1, 0):
        raise Invalid(fields={"value": _("Vote 1 (up), -1 (down) or 0 (take your vote back).")})
    answer = _locked_answer(answer)
    _require(_seen(decide_answer(actor, AnswerAction.VOTE, answer)))
    before = Vote.objects.filter(answer=answer, voter=actor).first()
    old = before.value if before else 0
    if old == value:
        return answer.score
    if value == 0:
        before.delete()
    elif before is None:
        Vote.objects.create(answer=answer, voter=actor, value=value)
    else:
        Vote.objects.filter(pk=before.pk).update(value=value)
    Answer.objects.filter(pk=answer.pk).update(score=F("score") + (value - old))
    question = answer.question
    record(
        actor,
        "answer.voted",
        question,
        departments=_involved(question),
        details=_details(question, answer=answer.pk, value=value),
    )
    return answer.score + value - old


@transaction.atomic
def accept_answer(actor, answer: Answer) -> Question:
    """The asker accepts an answer (or another one instead): the question is answered. An answer from
    another department credits its author (sharehub.knowledge.points), in this transaction."""
    from sharehub.knowledge import points

    answer = _locked_answer(answer)
    question = answer.question
    _require(_seen(decide_question(actor, QuestionAction.ACCEPT, question)))
    if question.status == Question.Status.CLOSED:
        raise Conflict(_("This question is closed."))
    if question.accepted_answer_id == answer.pk:
        return question
    previous = question.accepted_answer_id
    if previous is not None:  # the asker no longer stands by the answer accepted before
        points.withdraw("answer", actor=actor, item=f"answer:{previous}")
    question.accepted_answer = answer
    question.status = Question.Status.ANSWERED
    question.save(update_fields=["accepted_answer", "status", "updated_at"])
    points.credit(
        "answer",
        actor=actor,
        item=f"answer:{answer.pk}",
        item_label=question.title,
        person=answer.author_id,
        department_id=answer.department_id,
        actor_department_id=question.asker_department_id,
    )
    record(
        actor,
        "answer.accepted",
        question,
        departments=_involved(question),
        details=_details(
            question,
            answer=answer.pk,
            previous=previous,
            answerer=answer.author_id,
            recipients=[answer.author_id] if answer.author_id else [],
        ),
    )
    return question


@transaction.atomic
def close_question(actor, question: Question, reason="") -> Question:
    question = _locked(question)
    _require(_seen(decide_question(actor, QuestionAction.CLOSE, question)))
    errors: dict[str, str] = {}
    reason = clean(errors, "reason", reason, limit=MAX_REASON, required=False, multiline=False)
    if errors:
        raise Invalid(fields=errors)
    if question.status == Question.Status.CLOSED:
        raise Conflict(_("This question is already closed."))
    question.status = Question.Status.CLOSED
    question.save(update_fields=["status", "updated_at"])
    recipients = [question.asker_id] if question.asker_id else []
    record(
        actor,
        "question.closed",
        question,
        departments=_involved(question),
        details=_details(question, reason=reason, recipients=recipients),
    )
    return question


def to_article(actor, answer: Answer):
    """Turn an accepted answer into a FAQ article of the department it was answered for, credited to its
    author; published at once if the actor may publish there, else a draft. Returns the Article."""
    from sharehub.knowledge import articles

    with transaction.atomic():
        answer = _locked_answer(answer)
        _require(_seen(decide_answer(actor, AnswerAction.TO_ARTICLE, answer)))
        question = answer.question
        if hasattr(answer, "article"):
            raise Conflict(_("This answer is already an article."))
        department = answer.department
        if department is None:
            raise Conflict(_("The answer belongs to no department, so there is no knowledge space to put it in."))
        publish = bool(can(actor, "create", department)) and bool(
            can(actor, Action.MANAGE, Resource(owner_department=department))
        )
        return articles.create_article(
            actor,
            department=department,
            title=question.title,
            body=article_body(question, answer),
            credited_to=answer.author,
            from_answer=answer,
            template="faq",
            publish=publish,
        )


def article_body(question: Question, answer: Answer) -> str:
    """The question and its answer as one Markdown page. Its headings are in the organization's language
    (SHAREHUB_LANGUAGE), not in the language of whoever clicked: the article is read by everyone."""
    with translation.override(settings.LANGUAGE_CODE):
        question_heading = translation.pgettext("article heading", "Question")
        answer_heading = translation.pgettext("article heading", "Answer")
    parts = [f"## {question_heading}", "", question.body or question.title, "", f"## {answer_heading}", "", answer.body]
    return "\n".join(parts).strip() + "\n"


# --- escalation ---------------------------------------------------------------------------------


def escalation_days() -> int:
    try:
        days = int(getattr(settings, "SHAREHUB_QUESTION_ESCALATION_DAYS", DEFAULT_ESCALATION_DAYS))
    except (TypeError, ValueError):
        return DEFAULT_ESCALATION_DAYS
    return max(days, 1)


def escalate_unanswered(now=None) -> int:
    """The periodic job: every open question with no answer after N working days, asked of a department
    or about a resource, is escalated once to the heads of that department. Each in its own transaction."""
    from sharehub.access import calendar

    now = now or timezone.now()
    days = escalation_days()
    candidates = list(
        Question.objects.filter(
            status=Question.Status.OPEN,
            answer_count=0,
            escalated_at__isnull=True,
            # N working days after the day asked are at least N days after it
            created_at__lte=calendar.end_of_day(calendar.local_day(now) - timedelta(days=days)),
        )
        .exclude(department__isnull=True, resource__isnull=True)
        .order_by("created_at", "pk")
        .values_list("pk", "created_at")
    )
    if not candidates:
        return 0
    overrides = calendar.overrides_between(candidates[0][1], now)
    escalated = 0
    for pk, created_at in candidates:
        if calendar.working_days_between(created_at, now, overrides) >= days:
            escalated += _escalate(pk, now, days)
    return escalated


@transaction.atomic
def _escalate(question_id: int, now, days: int) -> int:
    question = (
        Question.objects.select_for_update(of=("self",)).select_related("resource").filter(pk=question_id).first()
    )
    if question is None or question.escalated_at is not None:
        return 0
    if question.status != Question.Status.OPEN or question.answer_count:
        return 0
    department_id = question.department_id or question.resource.owner_department_id
    question.escalated_at = now
    question.save(update_fields=["escalated_at"])
    record(
        None,
        "question.escalated",
        question,
        departments=_involved(question),
        details=_details(question, department=department_id, days=days, recipients=_heads(department_id)),
    )
    return 1


# --- registration -------------------------------------------------------------------------------


def register() -> None:
    """Called once from KnowledgeConfig.ready: event descriptions, notification sentences, the escalation job,
    the resource page's questions panel."""
    from sharehub.knowledge import qa_audit
    from sharehub.worker import register_periodic

    qa_audit.register()
    register_periodic("question escalation", escalate_unanswered)
