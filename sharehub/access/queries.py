"""Reads of requests, grants and notifications, always through the policy's filters; and of the
working-day calendar, which everyone signed in reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from sharehub.access.models import AccessRequest, CalendarDay, Grant, RequestAttachment, RequestNote
from sharehub.catalog.models import Resource
from sharehub.errors import NotFound
from sharehub.policy.engine import Action, decidable_filter, grant_filter, request_filter, resource_filter
from sharehub.validation import parse_id

_REQUEST_RELATIONS = ("resource", "resource__owner_department", "requester", "for_department", "decided_by")


def resource_shown(actor, resource_field: str = "resource_id") -> Exists:
    """Whether the actor may see the request's or grant's resource now (invariant 10): a requester or
    grantee keeps their request and grant after the resource turns restricted, leaves their scope or is
    withdrawn, but no longer reads its code, title or fields. Annotate as `resource_shown`."""
    return Exists(
        Resource.objects.filter(resource_filter(actor, Action.VIEW, correlated=True), pk=OuterRef(resource_field))
    )


def _requests(actor) -> QuerySet[AccessRequest]:
    return AccessRequest.objects.select_related(*_REQUEST_RELATIONS).annotate(resource_shown=resource_shown(actor))


def access_request(actor, request_id) -> AccessRequest:
    """One request the actor may see (as requester or decider), or NotFound."""
    pk = parse_id(request_id)
    if pk is None:
        raise NotFound()
    found = _requests(actor).filter(request_filter(actor)).filter(pk=pk).first()
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
    return _filtered(_requests(actor).filter(requester_id=getattr(actor, "pk", None)), filters).order_by("-created_at")


def inbox(actor, filters: RequestFilters | None = None) -> QuerySet[AccessRequest]:
    """Requests waiting for the actor's decision, nearest deadline first."""
    return _filtered(_requests(actor).filter(decidable_filter(actor)), filters).order_by("deadline_at", "id")


def inbox_resources(actor) -> list[tuple[int, str, str]]:
    """The resources of the actor's inbox as (id, code, title), by code: one query, whatever the inbox holds."""
    rows = AccessRequest.objects.filter(decidable_filter(actor)).values_list(
        "resource_id", "resource__code", "resource__title"
    )
    return list(rows.order_by("resource__code").distinct())


def visible_requests(actor, filters: RequestFilters | None = None) -> QuerySet[AccessRequest]:
    """Every request the actor may see (admins: all, which is how they find overdue ones)."""
    return _filtered(_requests(actor).filter(request_filter(actor)), filters).order_by("deadline_at", "id")


DECISIONS = (RequestNote.Kind.FIRST_APPROVAL, RequestNote.Kind.APPROVED, RequestNote.Kind.REJECTED)


def handled(actor) -> QuerySet[RequestNote]:
    """The decisions the actor took (a first-step approval, an approval, a rejection), newest first,
    each with its request, on requests the actor may still see."""
    seen = AccessRequest.objects.filter(request_filter(actor)).values("pk")
    return (
        RequestNote.objects.filter(author_id=getattr(actor, "pk", None), kind__in=DECISIONS, request__in=seen)
        .select_related(*(f"request__{name}" for name in _REQUEST_RELATIONS))
        .annotate(resource_shown=resource_shown(actor, "request__resource_id"))
        .order_by("-created_at", "-id")
    )


def notes_of(access_request: AccessRequest):
    """Call only with a request obtained through `access_request`."""
    return access_request.notes.select_related("author").prefetch_related("attachments")


def access_attachment(actor, request_id, attachment_id) -> tuple[AccessRequest, RequestAttachment]:
    """A file added to a request, for the request's parties only (its requester and deciders)."""
    access_request_ = access_request(actor, request_id)
    if not str(attachment_id).isdigit() or len(str(attachment_id)) > 18:
        raise NotFound()
    found = RequestAttachment.objects.filter(request=access_request_, pk=int(attachment_id)).first()
    if found is None:
        raise NotFound()
    return access_request_, found


def _grants(actor) -> QuerySet[Grant]:
    return Grant.objects.select_related(
        "resource", "resource__owner_department", "grantee_user", "grantee_department", "created_by", "request"
    ).annotate(resource_shown=resource_shown(actor))


def access_grant(actor, grant_id) -> Grant:
    pk = parse_id(grant_id)
    if pk is None:
        raise NotFound()
    found = _grants(actor).filter(grant_filter(actor)).filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def visible_grants(actor, *, resource_id: int | None = None, active_only: bool = False) -> QuerySet[Grant]:
    queryset = _grants(actor).filter(grant_filter(actor))
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
    queryset = (
        _grants(actor)
        .filter(Q(grantee_user_id=ctx.user_id) | Q(grantee_department_id__in=ctx.department_ids))
        .prefetch_related("resource__scope_departments")
    )
    if active_only:
        now = timezone.now()
        queryset = queryset.filter(revoked_at__isnull=True, valid_from__lte=now, valid_until__gt=now)
    return queryset.order_by("valid_until")


@dataclass
class Narrowing:
    """What an approval cut from the request: a shorter period, fields, or the department."""

    asked_days: int
    granted_days: int | None = None  # set when the period was shortened
    fields_cut: list[str] = field(default_factory=list)
    department: object = None  # asked for this whole department, granted to the requester only

    def __bool__(self) -> bool:
        return bool(self.granted_days or self.fields_cut or self.department)

    @property
    def keys(self) -> list[str]:
        parts = {"period_days": self.granted_days, "fields": self.fields_cut, "requester_only": self.department}
        return [key for key, value in parts.items() if value]


def narrowing(access_request: AccessRequest, grant: Grant) -> Narrowing:
    """Compare the grant an approval made with what was asked (not with a first step's narrowing)."""
    days = round((grant.valid_until - grant.valid_from).total_seconds() / 86400)
    asked_fields = access_request.asked_fields or []
    granted = set(grant.fields or [])
    to_requester_only = bool(access_request.for_department_id and grant.grantee_user_id)
    return Narrowing(
        asked_days=access_request.asked_period_days,
        granted_days=days if days < access_request.asked_period_days else None,
        fields_cut=[f for f in asked_fields if f not in granted] if grant.fields else [],
        department=access_request.for_department if to_requester_only else None,
    )


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


def calendar_days(year: int) -> list[CalendarDay]:
    """The working-day calendar's exceptions in `year`, official and local, by date (official first on a
    date that has both). Every signed-in person may read the calendar: it is what deadlines count."""
    days = CalendarDay.objects.filter(date__gte=date(year, 1, 1), date__lte=date(year, 12, 31))
    return list(days.order_by("date", "-source"))


def approval_rules(actor) -> QuerySet:
    """Every department not archived with its approval rule (None when it has none) and the rule's trusted
    departments, in tree order, for organization admins (NotFound for anyone else): three queries a page."""
    from django.db.models import Prefetch

    from sharehub.org.models import Department
    from sharehub.policy.engine import OrgAction, can

    if not can(actor, OrgAction.MANAGE_ORG):
        raise NotFound()
    return (
        Department.objects.filter(archived_at__isnull=True)
        .select_related("approval_rule")
        .prefetch_related(
            Prefetch("approval_rule__trusted_departments", queryset=Department.objects.order_by("path", "name"))
        )
        .order_by("path", "name")
    )
