"""Builders for the sharing-session tests."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from sharehub.knowledge import sessions
from sharehub.knowledge.models import Session


def schedule(by, department, *, capacity: int = 2, hours: float = 48, speakers=(), **fields) -> Session:
    start = timezone.now() + timedelta(hours=hours)
    data = {
        "title": fields.pop("title", "电子发票开具经验分享"),
        "description": fields.pop("description", "**要点**：开票流程"),
        "host_department": department.pk,
        "speakers": [getattr(s, "pk", s) for s in speakers] if isinstance(speakers, list | tuple) else speakers,
        "starts_at": start,
        "ends_at": start + timedelta(hours=1),
        "place": fields.pop("place", "三楼会议室"),
        "link": fields.pop("link", ""),
        "capacity": capacity,
        **fields,
    }
    return sessions.schedule_session(by, data)


def move_to_past(session: Session, hours: float = 2) -> Session:
    """Let a session have started (the database allows a past start; the services refuse one)."""
    start = timezone.now() - timedelta(hours=hours)
    Session.objects.filter(pk=session.pk).update(starts_at=start, ends_at=start + timedelta(hours=1))
    session.refresh_from_db()
    return session
