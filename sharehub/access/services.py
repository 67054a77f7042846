"""The conditional-sharing process, and the working-day calendar its deadlines count. Every write
validates, asks the policy, changes rows and appends its event (with the people to notify) in one
transaction."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sharehub.access import calendar, holidays
from sharehub.access import fields as dataset_fields
from sharehub.access.models import AccessRequest, AccessSettings, CalendarDay, Grant, RequestAttachment, RequestNote
from sharehub.access.queries import narrowing
from sharehub.catalog import files
from sharehub.catalog.models import Resource
from sharehub.errors import Conflict, Forbidden, Invalid, NotFound
from sharehub.events.services import record
from sharehub.org.models import Department, Membership, User
from sharehub.policy.engine import OrgAction, ProcessAction, can, needs_head_approval
from sharehub.validation import clean_text

Status = AccessRequest.Status
MAX_TEXT = 4000


def _require(decision) -> None:
    if not decision:
        raise Forbidden(decision.message)


def _text(errors: dict, name: str, value, *, required: bool = True) -> str:
    return clean_text(errors, name, value, limit=MAX_TEXT, required=required)


def _managers(department_id: int, roles=(Membership.Role.STEWARD, Membership.Role.HEAD)) -> list[int]:
    return list(
        Membership.objects.filter(department_id=department_id, role__in=roles, user__is_active=True).values_list(
            "user_id", flat=True
        )
    )


def _heads(department_id: int) -> list[int]:
    return _managers(department_id, roles=(Membership.Role.HEAD,))


def _grantees(grant: Grant) -> list[int]:
    if grant.grantee_user_id:
        return [grant.grantee_user_id]
    members = Membership.objects.filter(department_id=grant.grantee_department_id, user__is_active=True)
    return sorted(set(members.values_list("user_id", flat=True)))


def _request_details(request: AccessRequest, recipients: Iterable[int], **extra) -> dict:
    return {
        "request": request.pk,
        "resource": request.resource.code,
        "resource_id": request.resource_id,
        "title": request.resource.title,
        "status": request.status,
        "recipients": sorted(set(recipients)),
        **extra,
    }


def _departments(request: AccessRequest) -> list[int]:
    requester_departments = list(request.requester.memberships.values_list("department_id", flat=True))
    return [request.resource.owner_department_id, *requester_departments]


def _log_step(
    actor, access_request: AccessRequest, kind: str, action: str, recipients: Iterable[int], text: str = "", **extra
) -> RequestNote:
    """One step of a request: a line in its history (shown to the parties) and its event (with the
    people to notify), in the caller's transaction."""
    note = RequestNote.objects.create(request=access_request, author=actor, kind=kind, text=text)
    record(
        actor,
        action,
        access_request,
        departments=_departments(access_request),
        details=_request_details(access_request, recipients, **extra),
    )
    return note


def _deciders(access_request: AccessRequest) -> list[int]:
    """Who decides the request's current step: the head at the second step, else stewards and heads."""
    owner = access_request.resource.owner_department_id
    return _heads(owner) if access_request.status == Status.PENDING_HEAD else _managers(owner)


@transaction.atomic
def create_request(
    actor,
    resource: Resource,
    *,
    purpose: str,
    use_category: str,
    period_days,
    accept_terms: bool,
    for_department: Department | int | None = None,
    fields: Iterable[str] | None = None,
) -> AccessRequest:
    """A person or service account asks for a conditional resource's content."""
    _require(can(actor, ProcessAction.REQUEST, resource))
    errors: dict[str, str] = {}
    purpose = _text(errors, "purpose", purpose)
    if use_category not in AccessRequest.UseCategory.values:
        errors["use_category"] = _("Choose one of: %(choices)s.") % {
            "choices": ", ".join(AccessRequest.UseCategory.values)
        }
    try:
        period = int(period_days)
    except (TypeError, ValueError):
        period = 0
        errors["period_days"] = _("Give the period as a whole number of days.")
    else:
        if period < 1:
            errors["period_days"] = _("The period is at least one day.")
        elif period > resource.max_grant_days:
            errors["period_days"] = _("At most %(n)s days for this resource.") % {"n": resource.max_grant_days}
    department = None
    if for_department not in (None, ""):
        department_id = getattr(for_department, "pk", for_department)
        department = Department.objects.filter(pk=department_id if str(department_id).isdigit() else None).first()
        if department is None or not Membership.objects.filter(user_id=actor.pk, department=department).exists():
            errors["for_department"] = _("You can request for a department only if you belong to it.")
    wanted = _clean_fields(errors, resource, fields)
    if accept_terms is not True:
        errors["accept_terms"] = _("Accept the terms of use to send the request.")
    if errors:
        raise Invalid(fields=errors)
    Resource.objects.select_for_update(no_key=True).filter(pk=resource.pk).first()
    duplicate = AccessRequest.objects.filter(
        resource=resource, requester_id=actor.pk, status__in=AccessRequest.OPEN_STATUSES
    ).first()
    if duplicate is not None:
        raise Conflict(
            _("You already have an open request (#%(id)s) for this resource.") % {"id": duplicate.pk},
            fields={"resource": _("an open request exists: #%(id)s") % {"id": duplicate.pk}},
        )
    now = timezone.now()
    access_request = AccessRequest(
        resource=resource,
        requester=actor,
        for_department=department,
        purpose=purpose,
        use_category=use_category,
        period_days=period,
        fields=wanted,
        asked_period_days=period,
        asked_fields=wanted,
        terms_accepted=resource.terms_of_use,
        terms_accepted_at=now,
        deadline_at=calendar.add_working_days(now, AccessSettings.current().decision_working_days),
    )
    access_request.needs_head = needs_head_approval(access_request)
    access_request.save()
    _log_step(
        actor,
        access_request,
        RequestNote.Kind.SUBMITTED,
        "access.requested",
        _managers(resource.owner_department_id),
        purpose,
        period_days=period,
        fields=wanted,
        use_category=use_category,
        for_department=department.pk if department else None,
        deadline=access_request.deadline_at,
    )
    return access_request


def _clean_fields(errors: dict, resource: Resource, fields) -> list[str]:
    if not fields:
        return []
    if isinstance(fields, str):
        fields = [f.strip() for f in fields.split(",")]
    if not isinstance(fields, list | tuple) or not all(isinstance(f, str) for f in fields):
        errors["fields"] = _("Fields must be a list of field names.")
        return []
    known = {f.get("name") for f in resource.dataset_fields or []}
    wanted = [f for f in dict.fromkeys(f.strip() for f in fields) if f]
    unknown = [f for f in wanted if f not in known]
    if unknown:
        errors["fields"] = _("The dataset has no field named %(names)s.") % {"names": ", ".join(unknown)}
    return wanted


def _locked_request(access_request: AccessRequest) -> AccessRequest:
    try:
        return (
            AccessRequest.objects.select_for_update()
            .select_related("resource", "resource__owner_department", "requester")
            .get(pk=access_request.pk)
        )
    except AccessRequest.DoesNotExist:
        raise NotFound() from None


def _already_decided(access_request: AccessRequest):
    return Conflict(
        _("This request was already decided (%(status)s).") % {"status": access_request.get_status_display()},
        fields={"status": access_request.status},
    )


def _required_text(name: str, value) -> str:
    errors: dict[str, str] = {}
    value = _text(errors, name, value)
    if errors:
        raise Invalid(fields=errors)
    return value


def _decidable(actor, access_request: AccessRequest) -> AccessRequest:
    """Lock the request, then check it still awaits a decision and that the actor may decide it.
    The lock makes a second, simultaneous decider wait and then see "already decided"."""
    access_request = _locked_request(access_request)
    if access_request.status not in (Status.PENDING, Status.PENDING_HEAD):
        raise _already_decided(access_request)
    _require(can(actor, ProcessAction.DECIDE, access_request))
    return access_request


@transaction.atomic
def approve_request(
    actor,
    access_request: AccessRequest,
    *,
    period_days=None,
    fields: Iterable[str] | None = None,
    requester_only: bool = False,
    note: str = "",
) -> AccessRequest:
    """Approve, optionally narrower (a shorter period, fewer fields, the requester instead of their
    department). A first-step approval of a request that needs the head sends it on to the head."""
    access_request = _decidable(actor, access_request)
    errors: dict[str, str] = {}
    note = _text(errors, "note", note, required=False)
    period = access_request.period_days
    if period_days not in (None, ""):
        try:
            period = int(period_days)
        except (TypeError, ValueError):
            errors["period_days"] = _("Give the period as a whole number of days.")
        else:
            if not 1 <= period <= access_request.period_days:
                errors["period_days"] = _("Between 1 and the %(n)s days asked for.") % {"n": access_request.period_days}
    granted_fields = access_request.fields
    if fields is not None:
        granted_fields = _clean_fields(errors, access_request.resource, fields)
        if not set(granted_fields) <= set(access_request.fields) or (access_request.fields and not granted_fields):
            errors["fields"] = _("Choose among the fields asked for: %(names)s.") % {
                "names": ", ".join(access_request.fields) or "—"
            }
    if errors:
        raise Invalid(fields=errors)
    now = timezone.now()
    resource = access_request.resource
    if access_request.status == Status.PENDING and access_request.needs_head:
        access_request.status = Status.PENDING_HEAD
        access_request.period_days = period
        access_request.fields = granted_fields
        if requester_only:
            access_request.for_department = None
        access_request.save(update_fields=["status", "period_days", "fields", "for_department"])
        recipients = [access_request.requester_id, *_heads(resource.owner_department_id)]
        _log_step(
            actor, access_request, RequestNote.Kind.FIRST_APPROVAL, "access.first_approved", recipients, note, note=note
        )
        return access_request
    grant = Grant.objects.create(
        resource=resource,
        grantee_user=None if access_request.for_department_id and not requester_only else access_request.requester,
        grantee_department=access_request.for_department if not requester_only else None,
        purpose=access_request.purpose,
        fields=granted_fields,
        valid_from=now,
        valid_until=now + timedelta(days=period),
        created_by=actor,
        request=access_request,
    )
    access_request.status = Status.APPROVED
    access_request.decided_at = now
    access_request.decided_by = actor
    access_request.decision_reason = note
    access_request.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
    cut = narrowing(access_request, grant)
    _log_step(
        actor,
        access_request,
        RequestNote.Kind.APPROVED,
        "access.approved",
        [access_request.requester_id],
        note,
        grant=grant.pk,
        note=note,
        narrowed=cut.keys,
        asked_period_days=access_request.asked_period_days,
        period_days=period,
        fields_cut=cut.fields_cut,
        fields_cut_labels=[
            f"{f.label} ({f.name})" if f.label else f.name for f in dataset_fields.describe(resource, cut.fields_cut)
        ],
        department_name=cut.department.name if cut.department else "",
    )
    record(
        actor,
        "grant.created",
        grant,
        departments=[
            resource.owner_department_id,
            *([grant.grantee_department_id] if grant.grantee_department_id else []),
        ],
        details={
            "grant": grant.pk,
            "request": access_request.pk,
            "resource": resource.code,
            "resource_id": resource.pk,
            "title": resource.title,
            "valid_until": grant.valid_until,
            "fields": granted_fields,
            "recipients": _grantees(grant),
        },
    )
    return access_request


@transaction.atomic
def reject_request(actor, access_request: AccessRequest, *, reason: str) -> AccessRequest:
    access_request = _decidable(actor, access_request)
    reason = _required_text("reason", reason)
    access_request.status = Status.REJECTED
    access_request.decided_at = timezone.now()
    access_request.decided_by = actor
    access_request.decision_reason = reason
    access_request.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
    requester = [access_request.requester_id]
    _log_step(actor, access_request, RequestNote.Kind.REJECTED, "access.rejected", requester, reason, reason=reason)
    return access_request


@transaction.atomic
def ask_for_information(actor, access_request: AccessRequest, *, question: str) -> AccessRequest:
    """The decider needs more: the request waits for the requester and its clock stops."""
    access_request = _decidable(actor, access_request)
    question = _required_text("question", question)
    access_request.status_before_info = access_request.status
    access_request.status = Status.INFO
    access_request.paused_at = timezone.now()
    access_request.save(update_fields=["status", "status_before_info", "paused_at"])
    requester = [access_request.requester_id]
    kind = RequestNote.Kind.INFO_ASKED
    _log_step(actor, access_request, kind, "access.info_asked", requester, question, question=question)
    return access_request


def _requesters_own(actor, access_request: AccessRequest, refusal: str) -> AccessRequest:
    """Lock a request that only its requester may act on; others who see it get `refusal`."""
    access_request = _locked_request(access_request)
    if access_request.requester_id != getattr(actor, "pk", None):
        if can(actor, ProcessAction.SEE, access_request):
            raise Forbidden(refusal)
        raise NotFound()
    return access_request


@dataclass(frozen=True)
class StoredFile:
    """An upload already written to the content-addressed storage, before any transaction."""

    filename: str
    sha256: str
    size: int
    mime_type: str


def store_file(filename: str, chunks) -> StoredFile:
    """Write an upload to the catalog's content-addressed storage (size-limited, type sniffed from
    its bytes, text never extracted). Runs outside any transaction; a file whose transaction then
    fails stays behind harmlessly, and an identical upload reuses it."""
    name = files.clean_filename(filename)
    sha256, size, tmp_path = files.store_upload(chunks)
    with open(tmp_path, "rb") as handle:
        head = handle.read(8192)
    mime = files.sniff_type(head, name)
    files.commit_blob(sha256, tmp_path)
    return StoredFile(name, sha256, size, mime)


def give_information(
    actor, access_request: AccessRequest, *, answer: str, attachment: tuple[str, Iterable[bytes]] | None = None
) -> AccessRequest:
    """The requester answers, optionally with a file; the request goes back to its decider with the
    deadline moved by the working days it waited. The file is stored before the transaction, and
    only once the answer is known to be acceptable."""
    stored = None
    acceptable = (
        access_request.requester_id == getattr(actor, "pk", None)
        and access_request.status == Status.INFO
        and isinstance(answer, str)
        and answer.strip()
    )
    if attachment is not None and acceptable:
        stored = store_file(*attachment)
    return _give_information(actor, access_request, answer=answer, stored=stored)


@transaction.atomic
def _give_information(actor, access_request: AccessRequest, *, answer: str, stored: StoredFile | None):
    access_request = _requesters_own(actor, access_request, _("Only the requester answers questions on a request."))
    if access_request.status != Status.INFO:
        raise Conflict(
            _("No information is being asked for on this request."), fields={"status": access_request.status}
        )
    answer = _required_text("answer", answer)
    now = timezone.now()
    waited = calendar.working_days_between(access_request.paused_at, now)
    access_request.deadline_at = calendar.add_working_days(access_request.deadline_at, waited)
    access_request.status = access_request.status_before_info or Status.PENDING
    access_request.status_before_info = ""
    access_request.paused_at = None
    access_request.reminded_at = None
    access_request.save(update_fields=["status", "status_before_info", "paused_at", "deadline_at", "reminded_at"])
    file_details = (
        {"attachment": {"filename": stored.filename, "size": stored.size, "sha256": stored.sha256}} if stored else {}
    )
    note = _log_step(
        actor,
        access_request,
        RequestNote.Kind.INFO_GIVEN,
        "access.info_given",
        _deciders(access_request),
        answer,
        answer=answer,
        deadline=access_request.deadline_at,
        **file_details,
    )
    if stored is not None:
        RequestAttachment.objects.create(
            request=access_request,
            note=note,
            filename=stored.filename,
            sha256=stored.sha256,
            size=stored.size,
            mime_type=stored.mime_type,
            uploaded_by=actor,
        )
    return access_request


@transaction.atomic
def withdraw_request(actor, access_request: AccessRequest) -> AccessRequest:
    access_request = _requesters_own(actor, access_request, _("Only the requester withdraws a request."))
    if not access_request.is_open:
        raise _already_decided(access_request)
    access_request.status = Status.WITHDRAWN
    access_request.decided_at = timezone.now()
    access_request.save(update_fields=["status", "decided_at"])
    owner = access_request.resource.owner_department_id
    _log_step(actor, access_request, RequestNote.Kind.WITHDRAWN, "access.withdrawn", _managers(owner))
    return access_request


@transaction.atomic
def revoke_grant(actor, grant: Grant, *, reason: str) -> Grant:
    """End a grant now; access ends at once: the policy loads grants afresh for each request, and
    contexts built earlier in this one load again after the save."""
    try:
        grant = Grant.objects.select_for_update().select_related("resource").get(pk=grant.pk)
    except Grant.DoesNotExist:
        raise NotFound() from None
    _require(can(actor, ProcessAction.REVOKE, grant))
    reason = _required_text("reason", reason)
    now = timezone.now()
    if grant.revoked_at is not None or grant.valid_until <= now:
        raise Conflict(_("This grant has already ended."), fields={"grant": grant.pk})
    _end_grant(actor, grant, reason, now)
    return grant


def _end_grant(actor, grant: Grant, reason: str, now) -> None:
    """Revoke `grant` now, with its `grant.revoked` event telling the grantees (`actor` None: the
    organization itself)."""
    grant.revoked_at = now
    grant.revoked_by = actor
    grant.revoke_reason = reason
    grant.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    record(
        actor,
        "grant.revoked",
        grant,
        departments=[
            grant.resource.owner_department_id,
            *([grant.grantee_department_id] if grant.grantee_department_id else []),
        ],
        details={
            "grant": grant.pk,
            "resource": grant.resource.code,
            "resource_id": grant.resource_id,
            "title": grant.resource.title,
            "reason": reason,
            "recipients": _grantees(grant),
        },
    )


def end_personal_grants(person: User, *, reason: str, dry_run: bool = False) -> int:
    """End now every grant `person` holds in their own name, each with its `grant.revoked` event, for someone
    who left the organization (the directory sync deactivates them; sharehub.directory). By the organization
    itself (no actor), inside the caller's transaction. Grants to their departments are not theirs to lose:
    the policy stops reading them for a deactivated person. Returns how many ended (would end, when dry_run)."""
    now = timezone.now()
    held = Grant.objects.filter(grantee_user=person, revoked_at__isnull=True, valid_until__gt=now)
    if dry_run:
        return held.count()
    reason = _required_text("reason", reason)
    ended = 0
    for grant in held.select_for_update().select_related("resource").order_by("pk"):
        _end_grant(None, grant, reason, now)
        ended += 1
    return ended


def bulk_decide(actor, requests: Iterable[AccessRequest], *, approve: bool, reason: str = "") -> dict[int, str]:
    """Approve or reject several requests with one reason; each in its own transaction. Returns the
    ids that failed with the reason why (already decided, not yours, ...)."""
    failures: dict[int, str] = {}
    for access_request in requests:
        try:
            if approve:
                approve_request(actor, access_request, note=reason)
            else:
                reject_request(actor, access_request, reason=reason)
        except (Conflict, Forbidden, Invalid, NotFound) as error:
            detail = " ".join(str(v) for v in error.fields.values()) if isinstance(error, Invalid) else ""
            failures[access_request.pk] = detail or str(error.message)
    return failures


def sweep(now=None) -> dict[str, int]:
    """The background job: record grants that expire soon or have expired, remind deciders before a
    deadline and escalate overdue requests to the head. Each item once, each in its own transaction."""
    now = now or timezone.now()
    settings = AccessSettings.current()
    counts = {"expiring": 0, "expired": 0, "reminded": 0, "escalated": 0}
    soon = now + timedelta(days=settings.expiry_notice_days)
    for grant_id in Grant.objects.filter(
        revoked_at__isnull=True, expiring_noted_at__isnull=True, valid_until__gt=now, valid_until__lte=soon
    ).values_list("pk", flat=True):
        counts["expiring"] += _note_grant(grant_id, now, expired=False)
    for grant_id in Grant.objects.filter(
        revoked_at__isnull=True, expired_noted_at__isnull=True, valid_until__lte=now
    ).values_list("pk", flat=True):
        counts["expired"] += _note_grant(grant_id, now, expired=True)
    for request_id in AccessRequest.objects.filter(
        status__in=(Status.PENDING, Status.PENDING_HEAD), reminded_at__isnull=True, deadline_at__gt=now
    ).values_list("pk", flat=True):
        counts["reminded"] += _remind(request_id, now, settings.reminder_working_days)
    for request_id in AccessRequest.objects.filter(
        status__in=(Status.PENDING, Status.PENDING_HEAD), escalated_at__isnull=True, deadline_at__lte=now
    ).values_list("pk", flat=True):
        counts["escalated"] += _escalate(request_id, now)
    return counts


@transaction.atomic
def _note_grant(grant_id: int, now, *, expired: bool) -> int:
    grant = Grant.objects.select_for_update().select_related("resource").get(pk=grant_id)
    field = "expired_noted_at" if expired else "expiring_noted_at"
    if getattr(grant, field) is not None or grant.revoked_at is not None:
        return 0
    setattr(grant, field, now)
    grant.save(update_fields=[field])
    recipients = _grantees(grant)
    if grant.request_id:
        recipients.append(grant.request.requester_id)
    record(
        None,
        "grant.expired" if expired else "grant.expiring",
        grant,
        departments=[grant.resource.owner_department_id],
        details={
            "grant": grant.pk,
            "resource": grant.resource.code,
            "resource_id": grant.resource_id,
            "title": grant.resource.title,
            "valid_until": grant.valid_until,
            "recipients": sorted(set(recipients)),
        },
    )
    return 1


@transaction.atomic
def _remind(request_id: int, now, reminder_days: int) -> int:
    access_request = (
        AccessRequest.objects.select_for_update().select_related("resource", "requester").get(pk=request_id)
    )
    if access_request.reminded_at is not None or access_request.status not in (Status.PENDING, Status.PENDING_HEAD):
        return 0
    if calendar.working_days_between(now, access_request.deadline_at) > reminder_days:
        return 0
    access_request.reminded_at = now
    access_request.save(update_fields=["reminded_at"])
    deciders = _deciders(access_request)
    deadline = access_request.deadline_at
    _log_step(None, access_request, RequestNote.Kind.REMINDED, "access.reminder", deciders, deadline=deadline)
    return 1


@transaction.atomic
def _escalate(request_id: int, now) -> int:
    access_request = (
        AccessRequest.objects.select_for_update().select_related("resource", "requester").get(pk=request_id)
    )
    if access_request.escalated_at is not None or access_request.status not in (Status.PENDING, Status.PENDING_HEAD):
        return 0
    access_request.escalated_at = now
    access_request.save(update_fields=["escalated_at"])
    admins = list(User.objects.filter(is_org_admin=True, is_active=True).values_list("pk", flat=True))
    recipients = [*_heads(access_request.resource.owner_department_id), *admins]
    deadline = access_request.deadline_at
    _log_step(None, access_request, RequestNote.Kind.ESCALATED, "access.escalated", recipients, deadline=deadline)
    return 1


# --- the working-day calendar -------------------------------------------------------------------

CALENDAR_YEARS = (1900, 2100)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _require_calendar_admin(actor) -> None:
    """Organization admins change the calendar (`actor=None`: the operator at the command line)."""
    if actor is None:
        return
    if not can(actor, OrgAction.MANAGE_ORG):
        raise Forbidden(_("Only organization admins change the working-day calendar."))


def clean_year(errors: dict, value, name: str = "year") -> int | None:
    """A calendar year from 1900 to 2100 (an int or its digits); a problem is written into `errors`."""
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 6:
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool):
        errors[name] = _("Give the year as four digits, such as 2026.")
        return None
    if not CALENDAR_YEARS[0] <= value <= CALENDAR_YEARS[1]:
        errors[name] = _("Give a year from %(first)s to %(last)s.") % {
            "first": CALENDAR_YEARS[0],
            "last": CALENDAR_YEARS[1],
        }
        return None
    return value


def clean_day(errors: dict, value, name: str = "date") -> date | None:
    """A date given as a `date` or as YYYY-MM-DD text, in the calendar's years."""
    if isinstance(value, str):
        text = value.strip()
        if not _ISO_DATE.fullmatch(text):
            errors[name] = _("Give the date as YYYY-MM-DD, such as 2026-10-09.")
            return None
        try:
            value = date.fromisoformat(text)
        except ValueError:
            errors[name] = _("%(value)s is not a date on the calendar.") % {"value": text}
            return None
    if not isinstance(value, date):
        errors[name] = _("Give the date as YYYY-MM-DD, such as 2026-10-09.")
        return None
    if clean_year({}, value.year) is None:
        errors[name] = _("Give a date in the years %(first)s to %(last)s.") % {
            "first": CALENDAR_YEARS[0],
            "last": CALENDAR_YEARS[1],
        }
        return None
    return value


def _calendar_details(day: CalendarDay) -> dict:
    return {"date": day.date, "is_working_day": day.is_working_day, "name": day.name, "source": day.source}


@transaction.atomic
def add_local_day(actor, *, day, is_working_day, name: str) -> CalendarDay:
    """An organization's own exception: a day off (an anniversary, a move) or a working day. It wins
    over an official day of the same date, and no load of the official calendar changes it."""
    _require_calendar_admin(actor)
    errors: dict[str, str] = {}
    day = clean_day(errors, day)
    if not isinstance(is_working_day, bool):
        errors["is_working_day"] = _("Must be true or false.")
    name = clean_text(errors, "name", name, limit=CalendarDay._meta.get_field("name").max_length)
    if day is not None and CalendarDay.objects.filter(date=day, source=CalendarDay.Source.LOCAL).exists():
        errors["date"] = _("%(date)s is a local day already; remove it first to change it.") % {"date": day}
    if errors:
        raise Invalid(fields=errors)
    try:
        with transaction.atomic():
            local = CalendarDay.objects.create(
                date=day, is_working_day=is_working_day, name=name, source=CalendarDay.Source.LOCAL
            )
    except IntegrityError:  # added at the same moment by another admin
        raise Invalid(
            fields={"date": _("%(date)s is a local day already; remove it first to change it.") % {"date": day}}
        ) from None
    official = CalendarDay.objects.filter(date=day, source=CalendarDay.Source.OFFICIAL).first()
    details = _calendar_details(local)
    if official is not None:  # the official day it takes precedence over, by its (English) holiday name
        details["replaces"] = official.name
    record(actor, "calendar.local_day_added", local, details=details)
    return local


@transaction.atomic
def remove_local_day(actor, day) -> CalendarDay:
    """Remove a local day; an official day of the same date applies again."""
    _require_calendar_admin(actor)
    errors: dict[str, str] = {}
    day = clean_day(errors, day)
    if errors:
        raise Invalid(fields=errors)
    local = CalendarDay.objects.select_for_update().filter(date=day, source=CalendarDay.Source.LOCAL).first()
    if local is None:
        raise NotFound(_("There is no local day on %(date)s.") % {"date": day})
    record(actor, "calendar.local_day_removed", local, details=_calendar_details(local))
    local.delete()
    return local


@dataclass
class CalendarLoad:
    """What loading one year's official days did."""

    year: int
    added: int = 0
    changed: int = 0
    removed: int = 0
    kept: int = 0
    local: int = 0  # the year's local days, kept as they are
    version: str = ""

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.changed or self.removed)


@transaction.atomic
def load_official_year(actor, year) -> CalendarLoad:
    """Bring one year's official days in line with the installed `chinesecalendar`: add the missing ones,
    change those whose name or kind differs, remove those the package no longer has; local days are left
    as they are. Loading again changes nothing, and appends an event only when something changed."""
    _require_calendar_admin(actor)
    errors: dict[str, str] = {}
    year = clean_year(errors, year)
    if errors:
        raise Invalid(fields=errors)
    try:
        wanted = holidays.official_days(year)
    except holidays.NotPublished as missing:
        raise Invalid(missing.message, fields={"year": missing.message}) from None
    days = CalendarDay.objects.filter(date__gte=date(year, 1, 1), date__lte=date(year, 12, 31))
    existing = {d.date: d for d in days.select_for_update().filter(source=CalendarDay.Source.OFFICIAL)}
    result = CalendarLoad(year=year, version=holidays.package_version())
    new, changed = [], []
    for day, (working, name) in sorted(wanted.items()):
        row = existing.get(day)
        if row is None:
            new.append(CalendarDay(date=day, is_working_day=working, name=name, source=CalendarDay.Source.OFFICIAL))
        elif (row.is_working_day, row.name) != (working, name):
            row.is_working_day, row.name = working, name
            changed.append(row)
        else:
            result.kept += 1
    gone = [row.pk for day, row in existing.items() if day not in wanted]
    # Two loads at once: the second's inserts meet the first's rows and update them instead of failing.
    CalendarDay.objects.bulk_create(
        new,
        update_conflicts=True,
        unique_fields=["date", "source"],
        update_fields=["is_working_day", "name"],
    )
    CalendarDay.objects.bulk_update(changed, ["is_working_day", "name"])
    CalendarDay.objects.filter(pk__in=gone).delete()
    result.added, result.changed, result.removed = len(new), len(changed), len(gone)
    result.local = days.filter(source=CalendarDay.Source.LOCAL).count()
    if result.changed_anything:
        record(
            actor,
            "calendar.official_loaded",
            ("access.calendar", year, str(year)),
            details={
                "year": year,
                "package": f"{holidays.PACKAGE} {result.version}",
                "added": result.added,
                "changed": result.changed,
                "removed": result.removed,
                "kept": result.kept,
            },
        )
    return result


# --- the organization's settings page (/manage/settings/, issue 14) -----------------------------------------

SETTINGS_LIMITS = {"decision_working_days": (1, 60), "reminder_working_days": (0, 30), "expiry_notice_days": (0, 90)}


def _require_settings_admin(actor) -> None:
    """Organization admins change the access settings and approval rules (`actor=None`: the operator)."""
    if actor is not None and not can(actor, OrgAction.MANAGE_ORG):
        raise Forbidden(_("Only organization admins change the access settings."))


def _whole_number(errors: dict, name: str, value, low: int, high: int) -> int | None:
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not (text.isascii() and text.isdigit() and len(text) <= 6) or not low <= int(text) <= high:
        errors[name] = _("A whole number from %(low)s to %(high)s.") % {"low": low, "high": high}
        return None
    return int(text)


@transaction.atomic
def update_access_settings(actor, **values) -> AccessSettings:
    """Change the decision deadline (working days), the reminder before it (working days) and the notice before
    a grant ends (days); one `access.settings_changed` event with what changed. Requests already open keep
    their deadline."""
    _require_settings_admin(actor)
    unknown = set(values) - set(SETTINGS_LIMITS)
    errors: dict[str, str] = {name: _("Unknown field.") for name in sorted(unknown)}
    clean = {}
    for name, (low, high) in SETTINGS_LIMITS.items():
        if name in values:
            clean[name] = _whole_number(errors, name, values[name], low, high)
    current = AccessSettings.objects.select_for_update().filter(pk=AccessSettings.current().pk).get()
    deadline = clean.get("decision_working_days") or current.decision_working_days
    reminder = clean.get("reminder_working_days", current.reminder_working_days)
    if "reminder_working_days" not in errors and reminder is not None and reminder >= deadline:
        errors["reminder_working_days"] = _("The reminder comes before the deadline: fewer days than %(n)s.") % {
            "n": deadline
        }
    if errors:
        raise Invalid(fields=errors)
    changed = {name: value for name, value in clean.items() if getattr(current, name) != value}
    if changed:
        for name, value in changed.items():
            setattr(current, name, value)
        current.save(update_fields=list(changed))
        record(actor, "access.settings_changed", current, details=changed)
    return current


@transaction.atomic
def set_approval_rule(actor, department: Department, *, head_for_outsiders: bool, trusted_departments=()):
    """A department's second step: with `head_for_outsiders`, its head also decides requests from people
    outside it and outside `trusted_departments`. One `access.approval_rule_set` event when it changes."""
    from sharehub.access.models import ApprovalRule

    _require_settings_admin(actor)
    errors: dict[str, str] = {}
    if not isinstance(head_for_outsiders, bool):
        errors["head_for_outsiders"] = _("Must be true or false.")
    trusted = sorted({d.pk for d in trusted_departments if d.pk != department.pk})
    if len(trusted) > 500:
        errors["trusted_departments"] = _("At most %(n)s departments.") % {"n": 500}
    if errors:
        raise Invalid(fields=errors)
    rule = ApprovalRule.objects.select_for_update().filter(department=department).first()
    before = (
        (False, [])
        if rule is None
        else (rule.head_for_outsiders, sorted(rule.trusted_departments.values_list("pk", flat=True)))
    )
    if before == (head_for_outsiders, trusted):
        return rule  # unchanged (no rule at all reads as no second step and no trusted departments)
    if rule is None:
        rule = ApprovalRule.objects.create(department=department, head_for_outsiders=head_for_outsiders)
    else:
        rule.head_for_outsiders = head_for_outsiders
        rule.save(update_fields=["head_for_outsiders"])
    rule.trusted_departments.set(trusted)
    record(
        actor,
        "access.approval_rule_set",
        department,
        departments=[department],
        details={"head_for_outsiders": head_for_outsiders, "trusted_departments": trusted},
    )
    return rule
