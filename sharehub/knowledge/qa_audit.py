"""How questions and answers read: on the audit page (sharehub.events.describe), in notifications
(sharehub.feeds.messages), and the "ask about this resource" link on a resource's page (catalog panels)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sharehub.events import describe
from sharehub.feeds import messages
from sharehub.knowledge.models import Question
from sharehub.policy.knowledge import QuestionAction, decide_question, question_filter

TARGET = "knowledge.question"


def _question_link(details: dict) -> str:
    question = details.get("question", "")
    return f"/questions/{question}/" if str(question).isdigit() else ""


def _answer_link(details: dict) -> str:
    link = _question_link(details)
    answer = details.get("answer", "")
    return f"{link}#answer-{answer}" if link and str(answer).isdigit() else link


def _questions(viewer, ids: set[str]) -> dict[str, describe.Ref]:
    """Questions by title, linked for those who may see them now (private ones: their parties)."""
    numbers = [int(i) for i in ids if i.isdigit() and len(i) <= 18]
    found = {}
    for question in Question.objects.filter(pk__in=numbers).select_related("resource"):
        seen = decide_question(viewer, QuestionAction.SEE, question)
        url = reverse("knowledge:question", args=[question.pk]) if seen else ""
        label = question.title if seen else gettext("question #%(n)s") % {"n": question.pk}
        found[str(question.pk)] = describe.Ref(label, "", url)
    return found


def _accepted(details: dict) -> str:
    if details.get("previous"):
        return gettext("%(actor)s accepted another answer to %(target)s instead.")
    return gettext("%(actor)s accepted an answer to %(target)s.")


def _voted(details: dict) -> str:
    value = details.get("value")
    if value == 1:
        return gettext("%(actor)s voted up an answer to %(target)s.")
    if value == -1:
        return gettext("%(actor)s voted down an answer to %(target)s.")
    return gettext("%(actor)s took back a vote on an answer to %(target)s.")


def _ask_panel(request, resource, read) -> str:
    """A link on every resource page a person sees: ask its steward a question (no statement)."""
    if not getattr(request.user, "is_authenticated", False):
        return ""
    url = reverse("knowledge:question-ask") + "?resource=" + resource.code
    return format_html(
        '<div class="card mb-3 sh-ask-panel"><div class="card-body py-2 small d-flex align-items-center gap-2">'
        '<i class="bi bi-patch-question text-secondary" aria-hidden="true"></i>'
        '<a href="{}">{}</a></div></div>',
        url,
        gettext("Ask the steward a question about this resource"),
    )


def _questions_seen(actor, ids: set[int]) -> list[int]:
    """Which of these questions the reader may see now: a notification about a private question they no
    longer see does not name it (invariant 10)."""
    return list(Question.objects.filter(question_filter(actor), pk__in=ids).values_list("pk", flat=True))


def register() -> None:
    from sharehub.catalog import panels

    describe.register_area("question", _("Questions and answers"))
    describe.register_area("answer", _("Questions and answers"))
    describe.register_target(TARGET, _questions)
    describe.register("question.asked", _("Question asked"), _("%(actor)s asked %(target)s."))
    describe.register("question.edited", _("Question edited"), _("%(actor)s edited the question %(target)s."))
    describe.register("question.answered", _("Question answered"), _("%(actor)s answered %(target)s."))
    describe.register("question.closed", _("Question closed"), _("%(actor)s closed the question %(target)s."))
    describe.register(
        "question.escalated",
        _("Question escalated"),
        _("%(target)s had no answer for %(days)s working days and was escalated to the department's heads."),
    )
    describe.register("answer.edited", _("Answer edited"), _("%(actor)s edited an answer to %(target)s."))
    describe.register("answer.voted", _("Answer voted on"), _voted)
    describe.register("answer.accepted", _("Answer accepted"), _accepted)
    for key in ("question", "answer", "previous"):
        describe.register_detail(key, key, describe.HIDDEN, actions=("question.", "answer."))
    describe.register_detail("title", "title", describe.HIDDEN, actions=("question.", "answer."))
    describe.register_detail("private", _("Private"), describe.BOOL, actions=("question.", "answer."))
    describe.register_detail("tag", _("Tag"), actions=("question.",))
    describe.register_detail("answerer", _("Answered by"), describe.PERSON, actions=("answer.",))
    describe.register_detail("value", _("Vote"), describe.NUMBER, actions=("answer.voted",))
    describe.register_detail("days", _("Working days"), describe.NUMBER, actions=("question.escalated",))

    messages.register_target_check("knowledge.question", _questions_seen)
    messages.register("question.asked", _("%(actor)s asked you: %(title)s"), _question_link)
    messages.register("question.answered", _("%(actor)s answered your question %(title)s."), _answer_link)
    messages.register("answer.accepted", _("%(actor)s accepted your answer to %(title)s."), _answer_link)
    messages.register("question.closed", _("%(actor)s closed your question %(title)s."), _question_link)
    messages.register(
        "question.escalated",
        _("The question %(title)s has had no answer for %(days)s working days."),
        _question_link,
    )
    panels.register(_ask_panel, order=900, column="side")
