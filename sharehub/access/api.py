"""Access-process API: requesting a conditional resource, deciding requests, grants, and the working-day
calendar that deadlines count.

A thin router: every read goes through `access.queries` (the policy's filters; what the caller may
not see is 404), every write through `access.services` (which ask the policy and answer 403 with its
reason, 409 when the request was already decided, 422 naming the field).
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, Literal

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile
from pydantic import WithJsonSchema

from sharehub.access import holidays, queries, services
from sharehub.access.models import AccessRequest, CalendarDay, Grant
from sharehub.access.schemas import (
    AnswerIn,
    ApproveIn,
    AskIn,
    BulkIn,
    BulkOut,
    CalendarDayOut,
    CalendarLoadOut,
    CalendarYearOut,
    GrantOut,
    GrantPage,
    HandledPage,
    LocalDayIn,
    RejectIn,
    RequestDetail,
    RequestFilterIn,
    RequestIn,
    RequestPage,
    RevokeIn,
)
from sharehub.access.services import CALENDAR_YEARS
from sharehub.catalog import files
from sharehub.catalog.queries import access_resource
from sharehub.errors import Invalid, NotFound
from sharehub.org.api import department_ref, person_ref
from sharehub.org.schemas import MAX_DB_INT, DbId
from sharehub.policy.engine import Action, visible

router = Router(tags=["access"])

MAX_PAGE = 200


# --- keyset cursors: (sort field, id), opaque to clients


class _Order:
    """A keyset order: one time column, then the id, both ascending or both descending."""

    def __init__(self, name: str, field: str, descending: bool):
        self.name, self.field, self.descending = name, field, descending

    def apply(self, queryset: QuerySet, cursor: str | None) -> QuerySet:
        prefix = "-" if self.descending else ""
        queryset = queryset.order_by(f"{prefix}{self.field}", f"{prefix}pk")
        if cursor:
            stamp, pk = self._decode(cursor)
            op = "lt" if self.descending else "gt"
            queryset = queryset.filter(Q(**{f"{self.field}__{op}": stamp}) | Q(**{self.field: stamp, f"pk__{op}": pk}))
        return queryset

    def encode(self, item) -> str:
        raw = f"{self.name}|{getattr(item, self.field).isoformat()}|{item.pk}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def _decode(self, cursor: str) -> tuple[datetime, int]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            name, stamp, pk = raw.split("|")
            if name != self.name:
                raise ValueError(name)
            when, pk = datetime.fromisoformat(stamp).astimezone(UTC), int(pk)
            if not 0 < pk <= MAX_DB_INT:
                raise ValueError(pk)
        except (ValueError, OverflowError, UnicodeDecodeError, binascii.Error):
            raise Invalid(fields={"cursor": _("This cursor is not one the API gave out.")}) from None
        return when, pk


def _page(queryset: QuerySet, order: _Order, cursor: str | None, limit: int, serialize) -> dict:
    rows = list(order.apply(queryset, cursor)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [serialize(r) for r in rows], "next_cursor": order.encode(rows[-1]) if more else None}


# --- serializing


def _resource_ref(resource, shown: bool) -> dict:
    """The resource a request or grant is about, or only `hidden` when the caller may not see it now."""
    if not shown:
        return {"id": None, "code": None, "title": None, "hidden": True}
    return {"id": resource.pk, "code": resource.code, "title": resource.title, "hidden": False}


def _grant_brief(grant: Grant | None, resource_shown: bool) -> dict | None:
    if grant is None:
        return None
    return {
        "id": grant.pk,
        "valid_from": grant.valid_from,
        "valid_until": grant.valid_until,
        "fields": (grant.fields or []) if resource_shown else [],
        "grantee": {
            "person": person_ref(grant.grantee_user),
            "department": department_ref(grant.grantee_department) if grant.grantee_department_id else None,
        },
    }


def _request(req: AccessRequest, resource_shown: bool | None = None) -> dict:
    """`resource_shown` defaults to the `queries.resource_shown` annotation the request was read with."""
    shown = req.resource_shown if resource_shown is None else resource_shown
    return {
        "id": req.pk,
        "resource": _resource_ref(req.resource, shown),
        "requester": person_ref(req.requester),
        "for_department": department_ref(req.for_department) if req.for_department_id else None,
        "purpose": req.purpose,
        "use_category": req.use_category,
        "period_days": req.period_days,
        "fields": (req.fields or []) if shown else [],
        "asked_period_days": req.asked_period_days,
        "asked_fields": (req.asked_fields or []) if shown else [],
        "status": req.status,
        "needs_head": req.needs_head,
        "deadline_at": req.deadline_at,
        "paused_at": req.paused_at,
        "created_at": req.created_at,
        "decided_at": req.decided_at,
        "decided_by": person_ref(req.decided_by),
        "decision_reason": req.decision_reason,
        "grant": _grant_brief(getattr(req, "grant", None), shown),
    }


def _with_grant(queryset: QuerySet[AccessRequest]) -> QuerySet[AccessRequest]:
    return queryset.select_related("grant", "grant__grantee_user", "grant__grantee_department")


def _note_file(req: AccessRequest, attachment) -> dict:
    return {
        "id": attachment.pk,
        "filename": attachment.filename,
        "size": attachment.size,
        "mime_type": attachment.mime_type,
        "url": reverse("api:download_request_file", kwargs={"request_id": req.pk, "file_id": attachment.pk}),
    }


def _request_detail(actor, request_id) -> dict:
    """Fetch again through the policy and serialize with the history."""
    req = queries.access_request(actor, request_id)
    notes = [
        {
            "kind": n.kind,
            "author": person_ref(n.author),
            "text": n.text,
            "created_at": n.created_at,
            "attachments": [_note_file(req, a) for a in n.attachments.all()],
        }
        for n in queries.notes_of(req)
    ]
    return {**_request(req), "notes": notes}


def _grant(grant: Grant) -> dict:
    return {
        "id": grant.pk,
        "resource": _resource_ref(grant.resource, grant.resource_shown),
        "grantee_user": person_ref(grant.grantee_user),
        "grantee_department": department_ref(grant.grantee_department) if grant.grantee_department_id else None,
        "purpose": grant.purpose,
        "fields": (grant.fields or []) if grant.resource_shown else [],
        "valid_from": grant.valid_from,
        "valid_until": grant.valid_until,
        "revoked_at": grant.revoked_at,
        "revoke_reason": grant.revoke_reason,
        "state": queries.grant_state(grant),
        "request": grant.request_id,
    }


# --- requesting


@router.post(
    "/resources/{ident}/requests",
    response={201: RequestDetail},
    summary="Request access to a conditional resource's content",
    description="For yourself or (with `for_department`) a department you belong to; the resource's terms of "
    "use must be accepted. 403 with the policy's reason when the resource cannot be requested "
    "(open, restricted, already readable); 409 when you already have an open request for it.",
)
def create_request(request, ident: str, payload: RequestIn):
    resource = access_resource(request.user, ident, Action.VIEW)
    created = services.create_request(
        request.user,
        resource,
        purpose=payload.purpose,
        use_category=payload.use_category.value if payload.use_category else None,
        period_days=payload.period_days,
        accept_terms=payload.accept_terms,
        for_department=payload.for_department,
        fields=payload.fields,
    )
    return Status(201, _request_detail(request.user, created.pk))


# --- listing and reading requests

_REQUEST_ORDERS = {
    "deadline": _Order("deadline", "deadline_at", descending=False),
    "newest": _Order("newest", "created_at", descending=True),
}


@router.get("/requests", response=RequestPage, summary="Access requests: your own, your inbox, or all you may see")
def list_requests(
    request,
    filters: Query[RequestFilterIn],
    scope: Literal["mine", "inbox", "all"] = Query(
        "all",
        description="mine: requests you made; inbox: waiting for your decision; all: every request you may see "
        "(admins: all of them)",
    ),
    sort: Literal["deadline", "newest"] | None = Query(
        None, description="deadline: nearest first (default for inbox and all); newest: newest first (default for mine)"
    ),
    cursor: str | None = Query(None, description="`next_cursor` of the previous page"),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
):
    criteria = queries.RequestFilters(
        status=filters.status.value if filters.status else None,
        resource=filters.resource,
        overdue=filters.overdue,
    )
    source = {"mine": queries.my_requests, "inbox": queries.inbox, "all": queries.visible_requests}[scope]
    order = _REQUEST_ORDERS[sort or ("newest" if scope == "mine" else "deadline")]
    return _page(_with_grant(source(request.user, criteria)), order, cursor, limit, _request)


@router.post(
    "/requests/bulk",
    response=BulkOut,
    summary="Approve or reject several requests with one reason",
    description="Each request is decided on its own; those that cannot be (already decided, not yours to "
    "decide, not found) are listed under `failed` with the reason.",
)
def bulk_decide(request, payload: BulkIn):
    approve = payload.action == "approve"
    if not approve and not payload.reason.strip():
        raise Invalid(fields={"reason": _("This field is required.")})
    ids = list(dict.fromkeys(payload.ids))
    found = {r.pk: r for r in queries.visible_requests(request.user).filter(pk__in=ids)}
    failed = {str(pk): str(NotFound().message) for pk in ids if pk not in found}
    failures = services.bulk_decide(
        request.user, [found[pk] for pk in ids if pk in found], approve=approve, reason=payload.reason
    )
    failed.update({str(pk): reason for pk, reason in failures.items()})
    return {"decided": [pk for pk in ids if pk in found and pk not in failures], "failed": failed}


_HANDLED_ORDER = _Order("handled", "created_at", descending=True)


def _handled(note) -> dict:
    return {
        "decision": note.kind,
        "decided_at": note.created_at,
        "note": note.text,
        "request": _request(note.request, note.resource_shown),
    }


@router.get(
    "/requests/handled",
    response=HandledPage,
    summary="Requests you decided (已办), newest decision first",
    description="Each decision you took (a first-step approval sent on to the head, an approval, a rejection) "
    "with its date and the request as it is now.",
)
def list_handled(
    request,
    cursor: str | None = Query(None, description="`next_cursor` of the previous page"),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
):
    notes = queries.handled(request.user).select_related(
        "request__grant", "request__grant__grantee_user", "request__grant__grantee_department"
    )
    return _page(notes, _HANDLED_ORDER, cursor, limit, _handled)


@router.get("/requests/{request_id}", response=RequestDetail, summary="One request with its history and grant")
def get_request(request, request_id: DbId):
    return _request_detail(request.user, request_id)


@router.post(
    "/requests/{request_id}/approve",
    response=RequestDetail,
    summary="Approve (optionally narrower); a request that needs the head goes on to the head",
)
def approve(request, request_id: DbId, payload: ApproveIn):
    req = queries.access_request(request.user, request_id)
    services.approve_request(
        request.user,
        req,
        period_days=payload.period_days,
        fields=payload.fields,
        requester_only=payload.requester_only,
        note=payload.note,
    )
    return _request_detail(request.user, req.pk)


@router.post("/requests/{request_id}/reject", response=RequestDetail, summary="Reject, with a reason")
def reject(request, request_id: DbId, payload: RejectIn):
    req = queries.access_request(request.user, request_id)
    services.reject_request(request.user, req, reason=payload.reason)
    return _request_detail(request.user, req.pk)


@router.post(
    "/requests/{request_id}/ask", response=RequestDetail, summary="Ask the requester for more (the clock pauses)"
)
def ask(request, request_id: DbId, payload: AskIn):
    req = queries.access_request(request.user, request_id)
    services.ask_for_information(request.user, req, question=payload.question)
    return _request_detail(request.user, req.pk)


@router.post(
    "/requests/{request_id}/answer", response=RequestDetail, summary="Answer the decider's question (requester)"
)
def answer(request, request_id: DbId, payload: AnswerIn):
    req = queries.access_request(request.user, request_id)
    services.give_information(request.user, req, answer=payload.answer)
    return _request_detail(request.user, req.pk)


@router.post(
    "/requests/{request_id}/answer-with-file",
    response=RequestDetail,
    summary="Answer the decider's question with a file (requester; multipart)",
    description="Multipart form with `answer` and `file`. The file is kept in the content-addressed storage "
    "(413 past the upload limit); only the requester and the request's deciders can download it.",
)
def answer_with_file(request, request_id: str, file: File[UploadedFile], answer: Form[str] = ""):
    req = queries.access_request(request.user, request_id)
    services.give_information(request.user, req, answer=answer, attachment=(file.name, file.chunks()))
    return _request_detail(request.user, req.pk)


@router.get(
    "/requests/{request_id}/files/{file_id}",
    url_name="download_request_file",
    summary="Download a file added to a request (its requester and deciders)",
    response={200: None},
)
def download_request_file(request, request_id: str, file_id: str):
    _req, attachment = queries.access_attachment(request.user, request_id, file_id)
    return files.download(attachment.sha256, attachment.filename, attachment.mime_type)


@router.post("/requests/{request_id}/withdraw", response=RequestDetail, summary="Withdraw an open request (requester)")
def withdraw(request, request_id: DbId):
    req = queries.access_request(request.user, request_id)
    services.withdraw_request(request.user, req)
    return _request_detail(request.user, req.pk)


# --- grants

_GRANT_ORDER = _Order("expiry", "valid_until", descending=False)


def _managed(actor, queryset: QuerySet[Grant]) -> QuerySet[Grant]:
    """Grants on resources the actor manages (the policy's MANAGE filter decides which)."""
    return queryset.filter(resource__in=visible(actor, action=Action.MANAGE).values("pk"))


@router.get("/grants", response=GrantPage, summary="Grants: yours, those on resources you manage, or both")
def list_grants(
    request,
    scope: Literal["mine", "managed", "all"] = Query(
        "all",
        description="mine: held by you or your departments; managed: on resources you steward; all: both",
    ),
    resource: int | None = Query(None, ge=1, le=MAX_DB_INT, description="Only grants on this resource id"),
    active: bool = Query(False, description="Only grants in force now (not revoked, expired or future)"),
    cursor: str | None = Query(None, description="`next_cursor` of the previous page"),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
):
    actor = request.user
    if scope == "mine":
        grants = queries.my_grants(actor, active_only=active)
        if resource:
            grants = grants.filter(resource_id=resource)
    else:
        grants = queries.visible_grants(actor, resource_id=resource, active_only=active)
        if scope == "managed":
            grants = _managed(actor, grants)
    return _page(grants, _GRANT_ORDER, cursor, limit, _grant)


@router.get("/grants/{grant_id}", response=GrantOut, summary="One grant")
def get_grant(request, grant_id: DbId):
    return _grant(queries.access_grant(request.user, grant_id))


@router.post("/grants/{grant_id}/revoke", response=GrantOut, summary="Revoke a grant now, with a reason (stewards)")
def revoke(request, grant_id: DbId, payload: RevokeIn):
    grant = queries.access_grant(request.user, grant_id)
    services.revoke_grant(request.user, grant, reason=payload.reason)
    return _grant(queries.access_grant(request.user, grant.pk))


@router.get(
    "/resources/{ident}/grants",
    response=GrantPage,
    summary="Grants on one resource (its stewards and heads)",
)
def resource_grants(
    request,
    ident: str,
    active: bool = Query(False, description="Only grants in force now"),
    cursor: str | None = Query(None, description="`next_cursor` of the previous page"),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
):
    resource = access_resource(request.user, ident, Action.MANAGE)
    grants = queries.visible_grants(request.user, resource_id=resource.pk, active_only=active)
    return _page(grants, _GRANT_ORDER, cursor, limit, _grant)


# --- the working-day calendar

# The documented range is checked by the handler, so a year outside it is a 422 naming `year` rather than
# the 404 of a path that cannot name anything (sharehub.api).
CalendarYear = Annotated[
    int,
    WithJsonSchema(
        {"type": "integer", "minimum": CALENDAR_YEARS[0], "maximum": CALENDAR_YEARS[1], "description": "The year"}
    ),
]
IsoDate = Annotated[str, WithJsonSchema({"type": "string", "format": "date", "description": "YYYY-MM-DD"})]


def _calendar_year(year: int) -> int:
    """The year of the path, from 1900 to 2100, or 422 naming it (not the 404 of a malformed path)."""
    errors: dict[str, str] = {}
    checked = services.clean_year(errors, year)
    if checked is None:
        raise Invalid(fields=errors)
    return checked


def _calendar_day(day: CalendarDay, in_force: bool = True) -> dict:
    official = day.source == CalendarDay.Source.OFFICIAL
    return {
        "date": day.date,
        "is_working_day": day.is_working_day,
        "name": day.name,
        "label": holidays.label(day.name) if official else day.name,
        "source": day.source,
        "in_force": in_force,
    }


@router.get(
    "/calendar/{int:year}",
    response=CalendarYearOut,
    summary="The working-day calendar of a year: its exceptions to the Monday-to-Friday week, and their source",
)
def calendar_year(request, year: CalendarYear):
    year = _calendar_year(year)
    days = queries.calendar_days(year)
    local_dates = {d.date for d in days if d.source == CalendarDay.Source.LOCAL}
    first, last = holidays.published_years()
    official = [d for d in days if d.source == CalendarDay.Source.OFFICIAL]
    return {
        "year": year,
        "official_published": first <= year <= last,
        "official_days": len(official),
        "package": f"{holidays.PACKAGE} {holidays.package_version()}",
        "days": [
            _calendar_day(d, in_force=d.source == CalendarDay.Source.LOCAL or d.date not in local_dates) for d in days
        ],
    }


@router.post("/calendar/local-days", response={201: CalendarDayOut}, summary="Add a local day (organization admins)")
def add_local_day(request, payload: LocalDayIn):
    day = services.add_local_day(
        request.user, day=payload.date, is_working_day=payload.is_working_day, name=payload.name
    )
    return Status(201, _calendar_day(day))


@router.delete(
    "/calendar/local-days/{date}",
    response={204: None},
    summary="Remove a local day (organization admins); an official day of that date applies again",
)
def remove_local_day(request, date: IsoDate):
    services.remove_local_day(request.user, date)
    return Status(204, None)


@router.post(
    "/calendar/{int:year}/load",
    response=CalendarLoadOut,
    summary="Load a year's official days from chinesecalendar (organization admins); loading again changes nothing",
)
def load_official_year(request, year: CalendarYear):
    year = _calendar_year(year)
    load = services.load_official_year(request.user, year)
    return {
        "year": load.year,
        "added": load.added,
        "changed": load.changed,
        "removed": load.removed,
        "kept": load.kept,
        "local_days": load.local,
        "package": f"{holidays.PACKAGE} {load.version}",
    }
