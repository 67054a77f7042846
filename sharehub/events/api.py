"""Audit API: the event log, for auditors."""

from __future__ import annotations

from ninja import Query, Router

from sharehub.events import describe
from sharehub.events.models import Event
from sharehub.events.queries import EventFilters, list_events
from sharehub.events.schemas import EventFilterIn, EventPage
from sharehub.org.api import department_ref
from sharehub.org.schemas import MAX_DB_INT

router = Router(tags=["audit"])

MAX_PAGE = 500


def _event(event: Event, readable: describe.Described) -> dict:
    return {
        "seq": event.seq,
        "created_at": event.created_at,
        "actor": event.actor_name or None,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_label": event.target_label,
        "departments": [department_ref(d) for d in event.departments.all()],
        "details": event.details,
        "hash": event.hash,
        "prev_hash": event.prev_hash,
        "action_name": readable.name,
        "description": readable.sentence.text,
        "readable_details": [{"label": label, "value": value.text} for label, value in readable.details],
    }


@router.get("/audit/events", response=EventPage, summary="The event log, newest first (auditors)")
def audit_events(
    request,
    params: Query[EventFilterIn],
    cursor: int | None = Query(
        None, ge=1, le=MAX_DB_INT, description="`next_cursor` of the previous page: events before this seq"
    ),
    limit: int = Query(100, ge=1, le=MAX_PAGE),
):
    events = list_events(request.user, EventFilters(**params.model_dump()))
    if cursor is not None:
        events = events.filter(seq__lt=cursor)
    page = list(events[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    readable = describe.describe(request.user, page)
    items = [_event(e, r) for e, r in zip(page, readable, strict=True)]
    return {"items": items, "next_cursor": str(page[-1].seq) if more else None}
