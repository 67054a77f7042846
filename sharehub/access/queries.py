"""Reads of requests, grants and notifications, always through the policy's filters."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from sharehub.access.models import AccessRequest, Grant
from sharehub.errors import NotFound
from sharehub.policy.engine import decidable_filter, grant_filter, request_filter
from sharehub.validation import parse_id


def _requests() -> QuerySet[AccessRequest]:
    return AccessRequest.objects.select_related(
        "resource", "resource__owner_department", "requester", "for_department", "decided_by"
    )


def access_request(actor, request_id) -> AccessRequest:
    """One request the actor may see (as requester or decider), or NotFound."""
    pk = parse_id(request_id)
    if pk is None:
        raise NotFound()
    found = _requests().filter(request_filter(actor)).filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


@dataclass
class RequestFilters:
    status: str | None = None  # a status, or "open"
    resource: int | None = None
    requester: int | None = None
    overdue: bool = False


def _filtered(queryset: QuerySet[AccessRequest], filters: RequestFilters | None) -> QuerySet[AccessRequest]:
    filters = filters or RequestFilters()
    if filters.status == "open":
        queryset = queryset.filter(status__in=AccessRequest.OPEN_STATUSES)
    elif filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.resource:
        queryset = queryset.filter(resource_id=filters.resource)
    if filters.requester:
        queryset = queryset.filter(requester_id=filters.requester)
    if filters.overdue:
        queryset = queryset.filter(
            status__in=(AccessRequest.Status.PENDING, AccessRequest.Status.PENDING_HEAD),
            deadline_at__lte=timezone.now(),
        )
    return queryset


def my_requests(actor, filters: RequestFilters | None = None) -> QuerySet[AccessRequest]:
    return _filtered(_requests().filter(requester_id=getattr(actor, "pk", None)), filters).order_by("-created_at")


def inbox(actor, filters: RequestFilters | None = None) -> QuerySet[AccessRequest]:
    """Requests waiting for the actor's decision, nearest deadline first."""
    return _filtered(_requests().filter(decidable_filter(actor)), filters).order_by("deadline_at", "id")


def visible_requests(actor, filters: RequestFilters | None = None) -> QuerySet[AccessRequest]:
    """Every request the actor may see (admins: all, which is how they find overdue ones)."""
    return _filtered(_requests().filter(request_filter(actor)), filters).order_by("deadline_at", "id")


def notes_of(access_request: AccessRequest):
    """Call only with a request obtained through `access_request`."""
    return access_request.notes.select_related("author")


def _grants() -> QuerySet[Grant]:
    return Grant.objects.select_related(
        "resource", "resource__owner_department", "grantee_user", "grantee_department", "created_by", "request"
    )


def access_grant(actor, grant_id) -> Grant:
    pk = parse_id(grant_id)
    if pk is None:
        raise NotFound()
    found = _grants().filter(grant_filter(actor)).filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def visible_grants(actor, *, resource_id: int | None = None, active_only: bool = False) -> QuerySet[Grant]:
    queryset = _grants().filter(grant_filter(actor))
    if resource_id:
        queryset = queryset.filter(resource_id=resource_id)
    if active_only:
        now = timezone.now()
        queryset = queryset.filter(revoked_at__isnull=True, valid_from__lte=now, valid_until__gt=now)
    return queryset.order_by("valid_until")


def my_grants(actor, *, active_only: bool = False) -> QuerySet[Grant]:
    """Grants to the actor or to one of their departments."""
    from sharehub.policy.engine import context_for

    ctx = context_for(actor)
    queryset = _grants().filter(Q(grantee_user_id=ctx.user_id) | Q(grantee_department_id__in=ctx.department_ids))
    if active_only:
        now = timezone.now()
        queryset = queryset.filter(revoked_at__isnull=True, valid_from__lte=now, valid_until__gt=now)
    return queryset.order_by("valid_until")


def grant_state(grant: Grant, now=None) -> str:
    """active, revoked, expired or future."""
    now = now or timezone.now()
    if grant.revoked_at is not None:
        return "revoked"
    if grant.valid_until <= now:
        return "expired"
    if grant.valid_from > now:
        return "future"
    return "active"
