"""Who may do what with questions, answers, comments and sharing sessions, and why (the knowledge side).

Articles are catalog resources, decided by `engine`. Here:
  question (and its answers)  seen by everyone signed in, unless private: then by its asker, the members of the
                              department it is asked of, the members of the department owning the resource it
                              is about (and that resource's steward), and admins
                              answered by whoever sees it while it is open; accepted by its asker; closed by its
                              asker, the stewards and heads of the department asked, and admins
  comment                     seen and written by whoever reads the resource's content; hidden (moderated) by
                              those who manage the resource; edited by its author
  session                     seen, signed up for and its materials read by everyone signed in; scheduled by
                              members of the host department; changed, cancelled and given materials and
                              attendance by its creator, its speakers, the host's stewards and heads, and admins
"""

from __future__ import annotations

from enum import StrEnum

from django.db.models import Q
from django.utils.translation import gettext as _

from sharehub.policy.engine import Action, Decision, can, context_for


class QuestionAction(StrEnum):
    SEE = "question.see"
    ANSWER = "question.answer"
    ACCEPT = "question.accept"
    CLOSE = "question.close"


class CommentAction(StrEnum):
    WRITE = "comment.write"
    EDIT = "comment.edit"
    HIDE = "comment.hide"


class SessionAction(StrEnum):
    SEE = "session.see"
    SCHEDULE = "session.schedule"  # on a Department: host a session for it
    MANAGE = "session.manage"


def _anonymous() -> Decision:
    return Decision(False, "anonymous", _("Sign in first."))


def question_filter(actor, prefix: str = "") -> Q:
    """The questions `actor` may see, as a filter on Question (or on a model reaching it through `prefix`,
    e.g. "question__" for answers)."""
    ctx = context_for(actor)
    if not ctx.authenticated:
        return Q(pk__in=[])
    if ctx.is_admin:
        return Q()
    p = prefix
    return (
        Q(**{f"{p}private": False})
        | Q(**{f"{p}asker_id": ctx.user_id})
        | Q(**{f"{p}department_id__in": ctx.department_ids})
        | Q(**{f"{p}resource__owner_department_id__in": ctx.department_ids})
        | Q(**{f"{p}resource__steward_id": ctx.user_id})
    )


def _sees_question(ctx, question) -> bool:
    if ctx.is_admin or not question.private or question.asker_id == ctx.user_id:
        return True
    if question.department_id is not None and question.department_id in ctx.department_ids:
        return True
    resource = question.resource if question.resource_id is not None else None
    return resource is not None and (
        resource.owner_department_id in ctx.department_ids or resource.steward_id == ctx.user_id
    )


def decide_question(actor, action: QuestionAction, question) -> Decision:
    ctx = context_for(actor)
    if not ctx.authenticated:
        return _anonymous()
    if not _sees_question(ctx, question):
        return Decision(
            False, "private_question", _("This question is private to its asker and the department it is asked of.")
        )
    if action == QuestionAction.SEE:
        if question.private:
            return Decision(True, "private_question_party", _("You asked it or belong to the department asked."))
        return Decision(True, "public_question", _("Questions are open to everyone in the organization."))
    if action == QuestionAction.ANSWER:
        if question.status == question.Status.CLOSED:
            return Decision(False, "closed", _("This question is closed."))
        return Decision(True, "can_answer", _("Everyone who sees an open question may answer it."))
    if action == QuestionAction.ACCEPT:
        if question.asker_id == ctx.user_id:
            return Decision(True, "asker", _("You asked this question."))
        return Decision(False, "not_asker", _("Only the person who asked accepts an answer."))
    if action == QuestionAction.CLOSE:
        if question.asker_id == ctx.user_id:
            return Decision(True, "asker", _("You asked this question."))
        if ctx.is_admin or (
            question.department_id is not None and question.department_id in ctx.manager_department_ids
        ):
            return Decision(True, "manager", _("You manage the department this question is asked of."))
        return Decision(
            False, "not_asker", _("Only the asker and the stewards of the department asked close a question.")
        )
    raise ValueError(f"unknown action {action!r}")


def decide_comment(actor, action: CommentAction, resource, comment=None) -> Decision:
    """On `resource`'s comments (WRITE), or on one `comment` of it (EDIT, HIDE)."""
    ctx = context_for(actor)
    if not ctx.authenticated:
        return _anonymous()
    read = can(actor, Action.READ, resource)
    if not read:
        return read
    if action == CommentAction.WRITE:
        return Decision(True, "reader", _("Whoever reads a resource may comment on it."))
    if action == CommentAction.EDIT:
        if comment is not None and comment.author_id == ctx.user_id and comment.hidden_at is None:
            return Decision(True, "author", _("You wrote this comment."))
        return Decision(False, "not_author", _("Only its author edits a comment."))
    if action == CommentAction.HIDE:
        manage = can(actor, Action.MANAGE, resource)
        if manage:
            return Decision(True, "moderator", _("You manage this resource, so you moderate its comments."))
        return Decision(False, "not_moderator", _("Only the stewards of the owning department hide comments."))
    raise ValueError(f"unknown action {action!r}")


def decide_session(actor, action: SessionAction, target) -> Decision:
    """`target`: a Session, or a Department for SCHEDULE."""
    ctx = context_for(actor)
    if not ctx.authenticated:
        return _anonymous()
    if action == SessionAction.SEE:
        return Decision(True, "signed_in", _("Sharing sessions are open to everyone in the organization."))
    if action == SessionAction.SCHEDULE:
        if ctx.is_admin or target.pk in ctx.department_ids:
            return Decision(True, "member", _("You may host sessions for %(dept)s.") % {"dept": target.name})
        return Decision(
            False, "not_member", _("Only members of %(dept)s host sessions for it.") % {"dept": target.name}
        )
    if action == SessionAction.MANAGE:
        if (
            ctx.is_admin
            or target.host_department_id in ctx.manager_department_ids
            or target.created_by_id == ctx.user_id
        ):
            return Decision(True, "organizer", _("You organize this session."))
        if ctx.user_id in {s.pk for s in target.speakers.all()}:
            return Decision(True, "speaker", _("You speak at this session."))
        return Decision(
            False, "not_organizer", _("Only its organizer, speakers and the host's stewards change a session.")
        )
    raise ValueError(f"unknown action {action!r}")


def session_manage_filter(actor) -> Q:
    ctx = context_for(actor)
    if not ctx.authenticated:
        return Q(pk__in=[])
    if ctx.is_admin:
        return Q()
    return (
        Q(host_department_id__in=ctx.manager_department_ids)
        | Q(created_by_id=ctx.user_id)
        | Q(speakers__id=ctx.user_id)
    )


# --- questions and answers: editing, voting, turning an answer into an article (appended by the Q&A part) ---


class AnswerAction(StrEnum):
    EDIT = "answer.edit"
    VOTE = "answer.vote"
    TO_ARTICLE = "answer.to_article"


def decide_question_edit(actor, question) -> Decision:
    """Edit a question's title and details: its asker, while they see it and it is not closed."""
    ctx = context_for(actor)
    if not ctx.authenticated:
        return _anonymous()
    if not _sees_question(ctx, question):
        return Decision(
            False, "private_question", _("This question is private to its asker and the department it is asked of.")
        )
    if question.asker_id != ctx.user_id:
        return Decision(False, "not_asker", _("Only the person who asked edits a question."))
    if question.status == question.Status.CLOSED:
        return Decision(False, "closed", _("This question is closed."))
    return Decision(True, "asker", _("You asked this question."))


def decide_answer(actor, action: AnswerAction, answer) -> Decision:
    """On one answer (its `question` loaded): EDIT by its author while the question is not closed; VOTE by
    whoever sees the question, not on their own answer; TO_ARTICLE (an accepted answer) by its author, the
    stewards and heads of the department it was answered for, and admins."""
    ctx = context_for(actor)
    if not ctx.authenticated:
        return _anonymous()
    question = answer.question
    if not _sees_question(ctx, question):
        return Decision(
            False, "private_question", _("This question is private to its asker and the department it is asked of.")
        )
    if action == AnswerAction.EDIT:
        if answer.author_id != ctx.user_id:
            return Decision(False, "not_author", _("Only its author edits an answer."))
        if question.status == question.Status.CLOSED:
            return Decision(False, "closed", _("This question is closed."))
        return Decision(True, "author", _("You wrote this answer."))
    if action == AnswerAction.VOTE:
        if answer.author_id == ctx.user_id:
            return Decision(False, "own_answer", _("You cannot vote on your own answer."))
        return Decision(True, "reader", _("Everyone who sees a question may vote on its answers."))
    if action == AnswerAction.TO_ARTICLE:
        if question.accepted_answer_id != answer.pk:
            return Decision(False, "not_accepted", _("Only an accepted answer becomes an article."))
        if answer.author_id == ctx.user_id:
            return Decision(True, "author", _("You wrote this answer."))
        if ctx.is_admin or (answer.department_id is not None and answer.department_id in ctx.manager_department_ids):
            return Decision(True, "manager", _("You manage the department this answer was given for."))
        return Decision(
            False,
            "not_author",
            _("Only its author and the stewards and heads of their department turn an answer into an article."),
        )
    raise ValueError(f"unknown action {action!r}")


class FeedbackAction(StrEnum):
    """On a Resource: useful / not useful ratings and "this helped me" marks."""

    COUNT = "feedback.count"  # how many rated it useful, not useful, or said it helped them
    SEE = "feedback.see"  # the notes "what I used it for", with the names of who wrote them
    RATE = "feedback.rate"  # rate it, mark that it helped
    REASONS = "feedback.reasons"  # every rating's reason, with names


def decide_feedback(actor, action: FeedbackAction, resource) -> Decision:
    """Counts are seen by whoever sees the catalog entry; rating, marking and the notes need its content
    (one rates what one has read); the reasons with names are for those who manage the resource."""
    ctx = context_for(actor)
    if not ctx.authenticated:
        return _anonymous()
    if action == FeedbackAction.COUNT:
        return can(actor, Action.VIEW, resource)
    read = can(actor, Action.READ, resource)
    if not read:
        return read
    if action in (FeedbackAction.SEE, FeedbackAction.RATE):
        return Decision(True, "reader", _("Whoever reads a resource may rate it and say it helped them."))
    if action == FeedbackAction.REASONS:
        manage = can(actor, Action.MANAGE, resource)
        if manage:
            return Decision(True, "steward", _("You manage this resource, so you see why people rated it."))
        return Decision(False, "not_steward", _("Only the stewards of the owning department see the reasons."))
    raise ValueError(f"unknown action {action!r}")


def decide_recognition_detail(actor, person_id: int | None, department_ids) -> Decision:
    """Who sees the credits behind someone's points (which department reused what, when): the person
    themself (`person_id`), the stewards and heads of one of `department_ids` (the person's departments, or
    the department whose points they are), and admins. Totals, ranks and badges are open to everyone signed in."""
    ctx = context_for(actor)
    if not ctx.authenticated:
        return _anonymous()
    if person_id is not None and person_id == ctx.user_id:
        return Decision(True, "self", _("These are your own points."))
    if ctx.is_admin:
        return Decision(True, "admin", _("You are an organization admin."))
    if not ctx.manager_department_ids.isdisjoint(department_ids):
        return Decision(True, "manager", _("You manage the department these points belong to."))
    return Decision(
        False,
        "not_own_points",
        _("Only the person, the stewards and heads of their department and admins see what the points come from."),
    )
