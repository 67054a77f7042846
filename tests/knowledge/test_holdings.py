"""What the knowledge side holds per department moves with a merge, and upcoming sessions block an archive."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sharehub.errors import Conflict
from sharehub.knowledge.models import Answer, Credit, Question, Session
from sharehub.org import tree


def _session(department, days: int) -> Session:
    start = timezone.now() + timedelta(days=days)
    return Session.objects.create(
        title=f"in {days} days",
        host_department=department,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        capacity=10,
    )


def test_merge_moves_questions_sessions_and_credits(people, org_units):
    tax, health, social = org_units["tax"], org_units["health"], org_units["social"]
    question = Question.objects.create(title="纳税证明怎么开", department=health, asker_department=tax)
    answer = Answer.objects.create(question=question, body="在窗口办理", department=health)
    upcoming, past = _session(health, 5), _session(health, -5)
    month = timezone.now().date().replace(day=1)
    kept = Credit.objects.create(
        kind="read", item="resource:1", month=month, department=health, actor_department=social
    )
    same = Credit.objects.create(kind="read", item="resource:2", month=month, department=health, actor_department=tax)
    counts = tree.merge_preview(people["admin"], health, tax).counts
    assert counts["questions"] == 1 and counts["sessions"] == 1 and counts["credits"] == 2

    tree.merge_departments(people["admin"], health, tax)

    question.refresh_from_db(), answer.refresh_from_db(), upcoming.refresh_from_db(), past.refresh_from_db()
    assert question.department == tax and question.asker_department == tax and answer.department == tax
    assert upcoming.host_department == tax and past.host_department == tax
    assert Credit.objects.get(pk=kept.pk).department == tax
    assert not Credit.objects.filter(pk=same.pk).exists()  # the target reading its own work earns nothing


def test_upcoming_sessions_block_an_archive_past_ones_do_not(people, org_units):
    health = org_units["health"]
    health.memberships.all().delete()  # members block an archive too
    _session(health, -3)
    tree.archive_department(people["admin"], health)
    health.refresh_from_db()
    assert health.archived_at is not None
    tree.restore_department(people["admin"], health)
    _session(health, 3)
    with pytest.raises(Conflict, match="sharing sessions"):
        tree.archive_department(people["admin"], health)
