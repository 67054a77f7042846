"""Reads of the event log; only auditors read it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from sharehub.errors import Forbidden
from sharehub.events.models import Event
from sharehub.policy.engine import OrgAction, can


@dataclass
class EventFilters:
    actor: str | None = None  # login name or display name
    action: str | None = None  # exact, or a prefix ending in "." (e.g. "resource.")
    department: int | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None
    seq: int | None = None  # one entry, by its number


def list_events(actor, filters: EventFilters | None = None) -> QuerySet[Event]:
    """Events newest first, filtered; raises Forbidden for anyone but an auditor."""
    decision = can(actor, OrgAction.READ_AUDIT)
    if not decision:
        raise Forbidden(decision.message)
    filters = filters or EventFilters()
    queryset = Event.objects.select_related("actor").prefetch_related("departments")
    if filters.actor:  # a login name, or the display name the page shows
        queryset = queryset.filter(Q(actor_name=filters.actor) | Q(actor__display_name=filters.actor))
    if filters.action:
        if filters.action.endswith("."):
            queryset = queryset.filter(action__startswith=filters.action)
        else:
            queryset = queryset.filter(action=filters.action)
    if filters.department:
        through = Event.departments.through.objects.filter(department_id=filters.department).values("event_id")
        queryset = queryset.filter(pk__in=through)
    if filters.target_type:
        queryset = queryset.filter(target_type=filters.target_type)
    if filters.target_id:
        queryset = queryset.filter(target_id=str(filters.target_id))
    if filters.since:
        queryset = queryset.filter(created_at__gte=filters.since)
    if filters.until:
        queryset = queryset.filter(created_at__lt=filters.until)
    if filters.seq:
        queryset = queryset.filter(seq=filters.seq)
    if filters.text:
        queryset = queryset.filter(Q(target_label__icontains=filters.text) | Q(actor_name__icontains=filters.text))
    return queryset.order_by("-seq")


def action_names() -> list[str]:
    """Distinct actions present in the log, for a filter menu."""
    return list(Event.objects.order_by("action").values_list("action", flat=True).distinct())


def target_types() -> list[str]:
    """Distinct target types present in the log, for a filter menu."""
    return list(
        Event.objects.exclude(target_type="").order_by("target_type").values_list("target_type", flat=True).distinct()
    )


def check_chain(actor, progress=None):
    """Walk the hash chain for an auditor (Forbidden for anyone else); returns chain.VerifyResult."""
    from sharehub.events.chain import verify_chain

    decision = can(actor, OrgAction.READ_AUDIT)
    if not decision:
        raise Forbidden(decision.message)
    return verify_chain(progress)
