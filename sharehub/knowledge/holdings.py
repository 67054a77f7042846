"""What the knowledge side holds per department, for the department tree's merge and archive
(sharehub.org.tree, registered in KnowledgeConfig.ready): the questions asked of it, the sharing sessions it
hosts, and the recognition credited to it. Articles are catalog resources and move with them."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sharehub.knowledge.models import Answer, Credit, Question, Session
from sharehub.org import tree
from sharehub.org.models import Department


def _count_questions(ids: list[int]) -> dict[int, int]:
    return tree.count_by(Question.objects.all(), "department_id", ids)


def _question_examples(department: Department, limit: int) -> list[str]:
    found = Question.objects.filter(department=department).order_by("-created_at", "-pk")
    return list(found.values_list("title", flat=True)[:limit])


def _move_questions(source: Department, target: Department) -> None:
    """Asked of the target now; the departments people asked and answered for follow too."""
    Question.objects.filter(department=source).update(department=target)
    Question.objects.filter(asker_department=source).update(asker_department=target)
    Answer.objects.filter(department=source).update(department=target)


def _upcoming_sessions():
    return Session.objects.filter(status=Session.Status.SCHEDULED, ends_at__gt=timezone.now())


def _count_sessions(ids: list[int]) -> dict[int, int]:
    return tree.count_by(_upcoming_sessions(), "host_department_id", ids)


def _session_examples(department: Department, limit: int) -> list[str]:
    found = _upcoming_sessions().filter(host_department=department).order_by("starts_at", "pk")
    return list(found.values_list("title", flat=True)[:limit])


def _move_sessions(source: Department, target: Department) -> None:
    """Every session it hosted, past ones too (their ratings count for the target)."""
    Session.objects.filter(host_department=source).update(host_department=target)


def _count_credits(ids: list[int]) -> dict[int, int]:
    return tree.count_by(Credit.objects.all(), "department_id", ids)


def _credit_examples(department: Department, limit: int) -> list[str]:
    found = Credit.objects.filter(department=department).order_by("-created_at", "-pk")
    return [f"{month:%Y-%m} {label}" for month, label in found.values_list("month", "item_label")[:limit]]


def _move_credits(source: Department, target: Department) -> None:
    """Reuse of the source's work counts for the target. Credits whose reuser was of the target itself would
    now be same-department activity, which earns nothing: they are dropped."""
    Credit.objects.filter(department=source, actor_department=target).delete()
    Credit.objects.filter(Q(department=target) | Q(department=source), actor_department=source).delete()
    Credit.objects.filter(department=source).update(department=target)
    Credit.objects.filter(actor_department=source).update(actor_department=target)


def register() -> None:
    tree.register_holding(
        "questions",
        _("Questions asked of it"),
        count=_count_questions,
        examples=_question_examples,
        move=_move_questions,
        order=70,
    )
    tree.register_holding(
        "sessions",
        _("Upcoming sharing sessions it hosts"),
        count=_count_sessions,
        examples=_session_examples,
        move=_move_sessions,
        on_merge=_("The target hosts them, and the past sessions too."),
        blocks_archive=True,
        order=71,
    )
    tree.register_holding(
        "credits",
        _("Recognition credited to it"),
        count=_count_credits,
        examples=_credit_examples,
        move=_move_credits,
        on_merge=_("They count for the target, except reuse by the target itself, which is dropped."),
        order=72,
    )
