"""Corrections (疑义校核): a reader flags one value of one record as wrong, with evidence; a steward or
head of the owner department accepts it (which corrects the record in the same transaction, as a
numbered change) or rejects it with a reason, by the access process's working-day deadline.

Deciding needs `Action.MANAGE` on the dataset: correcting a value is the steward's curation of what
the department publishes, like publishing or changing the sharing, not a member's edit (anyone who
may EDIT can already upsert) and not the review of a draft (REVIEW).

What a viewer sees of the values follows the record masking: the owner's members see them in full;
the reporter sees their own proposal in full (they typed it); others of the reporter's department see
a proposal as they see the field (masked, or not at all when hidden to them)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sharehub.access import calendar
from sharehub.access.models import AccessSettings, Grant
from sharehub.access.services import store_file
from sharehub.catalog.models import Blob
from sharehub.errors import Conflict, Forbidden, Invalid, NotFound
from sharehub.events.services import record
from sharehub.exchange import crypto, queries, services
from sharehub.exchange.masking import mask
from sharehub.exchange.models import Correction, Dataset, Record
from sharehub.exchange.types import FieldValueError, parse
from sharehub.org.models import Department
from sharehub.policy.engine import Action, can, context_for, reviewer_ids
from sharehub.policy.fields import FieldView, correction_filter, reporting_department
from sharehub.validation import clean_text

MAX_EVIDENCE = 4000
MAX_REASON = 4000
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
Status = Correction.Status


_text = clean_text


def _field_for_reader(view: queries.DatasetView, name) -> Any:
    """The field a reader may flag: one they see (in full or masked) and not part of the record key.
    A field they cannot see answers exactly like a field that does not exist."""
    item = view.field(name) if isinstance(name, str) else None
    if item is None or view.access.views.get(item.name, FieldView.HIDDEN) == FieldView.HIDDEN:
        raise Invalid(fields={"field": _("No field named %(name)s.") % {"name": str(name)[:64]}})
    if item.name in view.dataset.key_fields:
        raise Invalid(
            fields={"field": _("%(name)s is part of the record key; ask the owner to correct the record.")
                    % {"name": item.name}}
        )  # fmt: skip
    return item


def _parsed(item, raw, name: str):
    try:
        return parse(item.type, raw, choices=item.choices)
    except FieldValueError as error:
        raise Invalid(fields={name: f"{item.name}: {error.reason}"}) from None


def _seal(dataset_id: int, key: str, item, value) -> str:
    """A proposed value as stored: JSON text, encrypted like the field when the field is encrypted."""
    if value is None:
        return ""
    plain = json.dumps(value, ensure_ascii=False)
    if item.encrypted:
        return crypto.keyring().encrypt(plain, aad=crypto.aad_for(dataset_id, key, item.name))
    return plain


def _unseal(correction: Correction, encrypted: bool):
    if not correction.proposed:
        return None
    plain = correction.proposed
    if encrypted:
        aad = crypto.aad_for(correction.dataset_id, correction.record_key, correction.field)
        plain = crypto.keyring().decrypt(plain, aad=aad)
    return json.loads(plain)


def report_correction(
    actor,
    view: queries.DatasetView,
    *,
    record_id: str,
    field: str,
    evidence: str,
    proposed=None,
    purpose: str = "",
    department: int | None = None,
    attachment: tuple[str, Iterable[bytes]] | None = None,
) -> Correction:
    """A reader flags `field` of the record `record_id` (its `_id`) as wrong. Checked in this order,
    so that nothing is learnt about what the reader may not see: read permission (403 with the
    reason), the field (422, unknown and hidden alike), the record (404, missing and not consented
    alike), then the text. The file is stored before the transaction, once the rest is acceptable."""
    queries.require_read(view)
    item = _field_for_reader(view, field)
    found = queries.readable_record(view, record_id, purpose=purpose)
    if found is None:
        raise NotFound(_("No record with this id."))
    errors: dict[str, str] = {}
    evidence = _text(errors, "evidence", evidence, limit=MAX_EVIDENCE)
    value = None
    try:
        value = _parsed(item, proposed, "proposed")
    except Invalid as error:
        errors.update(error.fields)
    wanted = _department_id(department, errors)
    if wanted is None and "department" not in errors:
        wanted = next((pk for pk, _name in reporting_choices(actor, view)), None)
    department_id = reporting_department(actor, wanted)
    if department_id is None and "department" not in errors:
        errors["department"] = (
            _("You belong to no department; corrections are reported for a department.")
            if wanted is None
            else _("You can report for a department only if you belong to it.")
        )
    if errors:
        raise Invalid(fields=errors)
    stored = store_file(*attachment) if attachment is not None else None
    if stored is not None and stored.size == 0:
        raise Invalid(fields={"file": _("The file is empty.")})
    now = timezone.now()
    with transaction.atomic():
        if not Record.objects.filter(pk=found.pk).exists():
            raise Conflict(_("The record was deleted meanwhile; nothing was reported."))
        blob = None
        if stored is not None:
            blob = Blob.objects.filter(sha256=stored.sha256).first() or Blob.objects.create(
                sha256=stored.sha256, size=stored.size, mime_type=stored.mime_type, text_status=Blob.TextStatus.NONE
            )
        correction = Correction.objects.create(
            dataset=view.dataset,
            record_key=found.key,
            field=item.name,
            proposed=_seal(view.dataset.pk, found.key, item, value),
            evidence=evidence,
            evidence_blob=blob,
            evidence_filename=stored.filename if stored else "",
            reporter=actor if getattr(actor, "pk", None) else None,
            reporter_department_id=department_id,
            due_at=calendar.add_working_days(now, AccessSettings.current().decision_working_days),
        )
        _event(
            actor,
            view,
            correction,
            "dataset.correction_reported",
            reviewer_ids(view.resource.owner_department_id),
            due_at=correction.due_at,
            file=bool(stored),
        )
    return correction


def reporting_choices(actor, view: queries.DatasetView) -> list[tuple[int, str]]:
    """(id, name) of the departments the actor may report for: theirs, those that read the dataset through a
    grant first (the default when a report names none), then by name."""
    mine = context_for(actor).department_ids
    granted = set(
        Grant.objects.filter(pk__in=view.access.grant_ids, grantee_department_id__in=mine).values_list(
            "grantee_department_id", flat=True
        )
    )
    names = dict(Department.objects.filter(pk__in=mine).values_list("pk", "name"))
    return sorted(names.items(), key=lambda item: (item[0] not in granted, item[1], item[0]))


def _department_id(department, errors: dict) -> int | None:
    if department in (None, ""):
        return None
    text = str(getattr(department, "pk", department))
    if not text.isdigit() or len(text) > 18:
        errors["department"] = _("You can report for a department only if you belong to it.")
        return None
    return int(text)


def _event(actor, view: queries.DatasetView, correction: Correction, action: str, recipients, **extra) -> None:
    """One event per step, naming both departments; no value (the log is read more widely than records)."""
    record(
        actor,
        action,
        view.resource,
        departments=[view.resource.owner_department_id, correction.reporter_department_id],
        details={
            "code": view.resource.code,
            "resource_id": view.resource.pk,
            "title": view.resource.title,
            "correction": correction.pk,
            "record": correction.record_key,
            "field": correction.field,
            "status": correction.status,
            "recipients": sorted({r for r in recipients if r is not None}),
            **extra,
        },
    )


def _deciding(actor, view: queries.DatasetView) -> None:
    if not can(actor, Action.MANAGE, view.resource):
        raise Forbidden(_("Only stewards and heads of the owner department decide corrections."))


def _locked(view: queries.DatasetView, correction_id: int) -> tuple[Dataset, Correction]:
    """Lock the dataset row (as every record write does), then the correction; a second decider waits
    here and then finds the correction decided."""
    locked = Dataset.objects.select_for_update().get(pk=view.dataset.pk)
    correction = Correction.objects.select_for_update().filter(pk=correction_id, dataset=locked).first()
    if correction is None:
        raise NotFound()
    if correction.status != Status.OPEN:
        raise Conflict(
            _("This correction was already decided (%(status)s).") % {"status": correction.get_status_display()},
            fields={"status": correction.status},
        )
    return locked, correction


def _close(correction: Correction, actor, status: str, now, reason: str = "") -> None:
    """Close an open correction; the status condition makes a second, simultaneous decision lose."""
    closed = Correction.objects.filter(pk=correction.pk, status=Status.OPEN).update(
        status=status, decided_by=actor if getattr(actor, "pk", None) else None, decided_at=now, reason=reason
    )
    if closed != 1:
        raise Conflict(_("This correction was already decided."), fields={"status": "decided"})
    correction.status, correction.decided_at, correction.reason = status, now, reason
    correction.decided_by = actor if getattr(actor, "pk", None) else None


def accept_correction(
    actor, view: queries.DatasetView, correction_id: int | str, *, value=None, note: str = ""
) -> Correction:
    """Accept: the record gets the proposed value (or `value`, when the steward gives the right one) as
    a new version with its numbered change, in the same transaction as the decision."""
    _deciding(actor, view)
    correction = _visible(actor, view, correction_id)
    item = view.field(correction.field)
    if item is None:
        raise Conflict(_("The field %(name)s is no longer in the dataset.") % {"name": correction.field})
    errors: dict[str, str] = {}
    note = _text(errors, "note", note, limit=MAX_REASON, required=False)
    given = None if value in (None, "") else _parsed(item, value, "value")
    if errors:
        raise Invalid(fields=errors)
    codec = services.codec_for(view.dataset)
    with transaction.atomic():
        locked, correction = _locked(view, correction.pk)
        if locked.schema_version != view.dataset.schema_version:
            raise Conflict(_("The dataset's schema changed meanwhile; look at the correction again."))
        new_value = given if given is not None else _unseal(correction, item.encrypted)
        if new_value is None:
            raise Invalid(fields={"value": _("The reporter proposed no value; give the right one.")})
        current = Record.objects.filter(dataset=locked, key=correction.record_key).first()
        if current is None:
            raise Conflict(
                _("The record was deleted meanwhile; reject the correction instead."), fields={"record": "deleted"}
            )
        values = codec.reveal(current.key, current.values)
        values[item.name] = new_value
        change = services.write_one(actor, locked, codec, current, values)
        if change is None:
            raise Invalid(
                fields={"value": _("The record already holds this value; reject the correction or give another value.")}
            )
        if given is not None:
            correction.proposed = _seal(locked.pk, current.key, item, given)
            correction.save(update_fields=["proposed"])
        _close(correction, actor, Status.ACCEPTED, timezone.now(), note)
        _event(
            actor,
            view,
            correction,
            "dataset.correction_accepted",
            [correction.reporter_id],
            change=change.seq,
            version=change.version,
            amended=given is not None,
        )
    return correction


def reject_correction(actor, view: queries.DatasetView, correction_id: int, *, reason: str) -> Correction:
    _deciding(actor, view)
    correction = _visible(actor, view, correction_id)
    errors: dict[str, str] = {}
    reason = _text(errors, "reason", reason, limit=MAX_REASON)
    if errors:
        raise Invalid(fields=errors)
    with transaction.atomic():
        _locked_dataset, correction = _locked(view, correction.pk)
        _close(correction, actor, Status.REJECTED, timezone.now(), reason)
        _event(actor, view, correction, "dataset.correction_rejected", [correction.reporter_id], reason=reason)
    return correction


# --- reads ---------------------------------------------------------------------------------------


def _visible(actor, view: queries.DatasetView, correction_id) -> Correction:
    """A correction of this dataset the actor may see; NotFound for missing and unseen alike."""
    text = str(correction_id)
    if not text.isdigit() or len(text) > 18:
        raise NotFound()
    found = (
        Correction.objects.filter(correction_filter(actor, view.resource), dataset=view.dataset, pk=int(text))
        .select_related("reporter_department", "evidence_blob")
        .first()
    )
    if found is None:
        raise NotFound()
    return found


def access_correction(actor, view: queries.DatasetView, correction_id) -> Correction:
    return _visible(actor, view, correction_id)


@dataclass
class CorrectionPage:
    items: list[dict[str, Any]]
    next_cursor: int | None


def list_corrections(
    actor, view: queries.DatasetView, *, status: str = "", before: int | None = None, limit: int = DEFAULT_LIMIT
) -> CorrectionPage:
    """The corrections the actor may see, newest first, in a constant number of queries."""
    if status and status not in Status.values:
        raise Invalid(fields={"status": _("Choose %(choices)s.") % {"choices": ", ".join(Status.values)}})
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise Invalid(fields={"limit": _("From 1 to %(n)s.") % {"n": MAX_LIMIT}})
    queryset = Correction.objects.filter(correction_filter(actor, view.resource), dataset=view.dataset)
    if status:
        queryset = queryset.filter(status=status)
    if before is not None:
        queryset = queryset.filter(pk__lt=before)
    rows = list(queryset.select_related("reporter_department", "evidence_blob").order_by("-pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return CorrectionPage(shown_corrections(actor, view, rows), rows[-1].pk if more else None)


def shown_corrections(actor, view: queries.DatasetView, rows: list[Correction]) -> list[dict[str, Any]]:
    from sharehub.org.queries import person_labels

    people = person_labels([r.reporter_id for r in rows] + [r.decided_by_id for r in rows])
    current: dict[str, dict] = {}
    if view.access.sees_all and rows:
        stored = Record.objects.filter(dataset=view.dataset, key__in={r.record_key for r in rows})
        current = dict(stored.values_list("key", "values"))
    user_id = getattr(actor, "pk", None)
    items = []
    for row in rows:
        item = view.field(row.field)
        proposed, shown_as = _shown_proposal(view, row, item, own=row.reporter_id == user_id)
        out = {
            "id": row.pk,
            "record_id": row.record_key,
            "field": row.field,
            "field_label": field_label(item) if item is not None else row.field,
            "proposed": proposed,
            "proposed_shown": shown_as,
            "evidence": row.evidence,
            "file": {"filename": row.evidence_filename, "size": row.evidence_blob.size} if row.evidence_blob else None,
            "status": row.status,
            "status_label": row.get_status_display(),
            "reason": row.reason,
            "reporter": str(people.get(row.reporter_id, "")) if row.reporter_id else "",
            "reporter_department": row.reporter_department.name if row.reporter_department else "",
            "reporter_department_id": row.reporter_department_id,
            "due_at": row.due_at,
            "overdue": row.status == Status.OPEN and row.due_at <= timezone.now(),
            "decided_by": str(people.get(row.decided_by_id, "")) if row.decided_by_id else "",
            "decided_at": row.decided_at,
            "created_at": row.created_at,
        }
        if view.access.sees_all:
            values = current.get(row.record_key)
            out["record_exists"] = values is not None
            out["current"] = (
                view.codec.reveal(row.record_key, values, [row.field])[row.field]
                if values is not None and item is not None
                else None
            )
        items.append(out)
    return items


def field_label(item) -> str:
    from django.utils.translation import get_language

    zh = (get_language() or "").startswith("zh")
    return (item.label_zh if zh else item.label_en) or item.label_zh or item.label_en or item.name


def _shown_proposal(view: queries.DatasetView, row: Correction, item, *, own: bool) -> tuple[Any, str]:
    """(value, how it is shown: full, masked or hidden) of a proposal for this viewer."""
    if not row.proposed or item is None:
        return None, FieldView.FULL.value if row.proposed == "" else FieldView.HIDDEN.value
    seen = FieldView.FULL if own else view.access.views.get(row.field, FieldView.HIDDEN)
    if seen == FieldView.HIDDEN:
        return None, FieldView.HIDDEN.value
    value = _unseal(row, item.encrypted)
    if seen == FieldView.MASKED:
        value = mask(item.masking, item.type, value, hasher=view.codec.hasher)
    return value, seen.value


# --- deadlines ------------------------------------------------------------------------------------


def sweep(now=None) -> dict[str, int]:
    """The background job, like the access process's: remind the owner's stewards when an open
    correction's deadline is near (the access settings' reminder days), and tell the heads and admins
    once it has passed. Each correction once, each in its own transaction."""
    now = now or timezone.now()
    reminder_days = AccessSettings.current().reminder_working_days
    counts = {"reminded": 0, "escalated": 0}
    open_ones = Correction.objects.filter(status=Status.OPEN)
    for pk in open_ones.filter(reminded_at__isnull=True, due_at__gt=now).values_list("pk", flat=True):
        counts["reminded"] += _remind(pk, now, reminder_days)
    for pk in open_ones.filter(escalated_at__isnull=True, due_at__lte=now).values_list("pk", flat=True):
        counts["escalated"] += _escalate(pk, now)
    return counts


def _heads_and_admins(resource) -> list[int]:
    from sharehub.org.models import Membership, User

    heads = Membership.objects.filter(
        department_id=resource.owner_department_id, role=Membership.Role.HEAD, user__is_active=True
    ).values_list("user_id", flat=True)
    admins = User.objects.filter(is_org_admin=True, is_active=True).values_list("pk", flat=True)
    return [*heads, *admins]


def _remind(pk: int, now, reminder_days: int) -> int:
    return _deadline_step(pk, now, "reminded_at", "dataset.correction_due", reminder_days=reminder_days)


def _escalate(pk: int, now) -> int:
    return _deadline_step(pk, now, "escalated_at", "dataset.correction_overdue")


def _deadline_step(pk: int, now, marker: str, action: str, *, reminder_days: int | None = None) -> int:
    from sharehub.catalog.models import Resource

    with transaction.atomic():
        correction = Correction.objects.select_for_update().filter(pk=pk, status=Status.OPEN).first()
        if correction is None or getattr(correction, marker) is not None:
            return 0
        if reminder_days is not None and calendar.working_days_between(now, correction.due_at) > reminder_days:
            return 0
        setattr(correction, marker, now)
        correction.save(update_fields=[marker])
        resource = Resource.objects.get(pk=correction.dataset_id)
        owner = resource.owner_department_id
        recipients = reviewer_ids(owner) if reminder_days is not None else _heads_and_admins(resource)
        record(
            None,
            action,
            resource,
            departments=[owner, correction.reporter_department_id],
            details={
                "code": resource.code,
                "resource_id": resource.pk,
                "title": resource.title,
                "correction": correction.pk,
                "field": correction.field,
                "due_at": correction.due_at,
                "recipients": sorted(set(recipients)),
            },
        )
    return 1
