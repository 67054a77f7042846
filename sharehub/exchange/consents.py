"""Consents of data subjects (after FHIR Consent: provision type permit, actor = a department, purpose
of use, period), recorded, imported from CSV and withdrawn by members of the owner department. The
subject is kept only as the digest of the subject field's value (`Codec.digest`), with a masked hint
for people to recognise it; the plaintext identifier is never stored. Reads filter by consent at read
time (`exchange.queries._consented`), so a withdrawal takes effect on the next read, feed pull and export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sharehub.access import calendar
from sharehub.errors import Conflict, Forbidden, Invalid, NotFound
from sharehub.events.services import record
from sharehub.exchange import queries
from sharehub.exchange.masking import MaskRule, mask
from sharehub.exchange.models import Consent
from sharehub.exchange.types import FieldType, FieldValueError, parse
from sharehub.org.models import Department
from sharehub.policy.engine import Action, can

Purpose = Consent.Purpose
MAX_IMPORT_ROWS = 10_000
MAX_IMPORT_BYTES = 5 * 1024 * 1024
COLUMNS = ("subject", "department", "purpose", "from", "until")
DEFAULT_LIMIT = 100
MAX_LIMIT = 500


def _managing(actor, view: queries.DatasetView) -> None:
    """Consents are kept by the owner department's members (the people who may edit its records)."""
    if not can(actor, Action.EDIT, view.resource):
        raise Forbidden(_("Only members of the owner department keep the consents of a dataset."))
    if not view.dataset.consent_required or view.codec.subject_field is None:
        raise Invalid(
            fields={"subject": _("This dataset does not ask for the data subject's consent; set a subject field "
                                 "and require consent in its schema first.")}
        )  # fmt: skip


def _moment(raw, name: str, *, end: bool) -> dt.datetime:
    """A date (the start of the day, or its end for `until`) or a date and time, in the organization's zone."""
    text = raw.strip() if isinstance(raw, str) else raw
    if text in (None, ""):
        raise Invalid(fields={name: _("Give a date (YYYY-MM-DD) or a date and time.")})
    try:
        return dt.datetime.fromisoformat(parse(FieldType.DATETIME, text).replace("Z", "+00:00"))
    except FieldValueError:
        pass
    try:
        day = dt.date.fromisoformat(parse(FieldType.DATE, text))
    except FieldValueError as error:
        raise Invalid(fields={name: str(error.reason)}) from None
    if end:
        return calendar.end_of_day(day)
    return calendar.end_of_day(day - dt.timedelta(days=1)) + dt.timedelta(microseconds=1)


def _department(raw, departments: dict[str, Department] | None = None) -> Department:
    text = str(getattr(raw, "pk", raw) or "").strip()
    found = None
    if departments is not None:
        found = departments.get(text.lower())
    elif text:
        found = (
            Department.objects.filter(pk=int(text)).first()
            if text.isdigit() and len(text) <= 18
            else Department.objects.filter(code__iexact=text).first()
        )
    if found is None:
        raise Invalid(fields={"department": _("No department with this code.")})
    return found


@dataclass
class _Checked:
    subject: str
    hint: str
    department: Department
    purpose: str
    valid_from: dt.datetime
    valid_until: dt.datetime


def _check(view: queries.DatasetView, row: dict[str, Any], departments=None) -> _Checked:
    """One consent's values, or Invalid naming every problem. The subject's value never appears in a
    message (it is the identifier being protected)."""
    errors: dict[str, str] = {}
    item = view.codec.subject_field
    subject = hint = ""
    try:
        value = parse(item.type, row.get("subject"), choices=item.choices)
    except FieldValueError as error:
        errors["subject"] = str(error.reason)
    else:
        if value is None:
            errors["subject"] = _("Give the data subject's identifier.")
        else:
            subject = view.codec.digest(item, value)
            hint = str(mask(MaskRule.PARTIAL, item.type, value, hasher=view.codec.hasher) or "")[:64]
    department = None
    try:
        department = _department(row.get("department"), departments)
    except Invalid as error:
        errors.update(error.fields)
    purpose = str(row.get("purpose") or "").strip().upper()
    if purpose not in Purpose.values:
        errors["purpose"] = _("Choose one of: %(choices)s.") % {"choices": ", ".join(Purpose.values)}
    moments = {}
    for name, end in (("from", False), ("until", True)):
        try:
            moments[name] = _moment(row.get(name), name, end=end)
        except Invalid as error:
            errors.update(error.fields)
    if len(moments) == 2 and moments["until"] <= moments["from"]:
        errors["until"] = _("The end comes after the start.")
    if errors:
        raise Invalid(fields=errors)
    return _Checked(subject, hint, department, purpose, moments["from"], moments["until"])


def _consent(actor, view: queries.DatasetView, checked: _Checked) -> Consent:
    return Consent(
        dataset=view.dataset,
        subject=checked.subject,
        subject_hint=checked.hint,
        grantee_department=checked.department,
        purpose=checked.purpose,
        valid_from=checked.valid_from,
        valid_until=checked.valid_until,
        created_by=actor if getattr(actor, "pk", None) else None,
    )


def _event(actor, view: queries.DatasetView, action: str, departments, **details) -> None:
    record(
        actor,
        action,
        view.resource,
        departments=[view.resource.owner_department_id, *departments],
        details={"code": view.resource.code, "resource_id": view.resource.pk, "title": view.resource.title, **details},
    )


def record_consent(actor, view: queries.DatasetView, row: dict[str, Any]) -> Consent:
    """One consent: `row` has subject (the identifier, as the subject field takes it), department (id or
    code), purpose (a FHIR purposeOfUse code), from and until."""
    _managing(actor, view)
    checked = _check(view, row)
    with transaction.atomic():
        consent = _consent(actor, view, checked)
        consent.save()
        _event(
            actor,
            view,
            "dataset.consent_recorded",
            [checked.department.pk],
            consent=consent.pk,
            subject_hint=consent.subject_hint,
            department=checked.department.pk,
            purpose=consent.purpose,
            valid_from=consent.valid_from,
            valid_until=consent.valid_until,
        )
    return consent


def withdraw_consent(actor, view: queries.DatasetView, consent_id) -> Consent:
    _managing(actor, view)
    text = str(consent_id)
    if not text.isdigit() or len(text) > 18:
        raise NotFound()
    with transaction.atomic():
        consent = Consent.objects.select_for_update().filter(dataset=view.dataset, pk=int(text)).first()
        if consent is None:
            raise NotFound()
        if consent.withdrawn_at is not None:
            raise Conflict(_("This consent was withdrawn already."), fields={"status": "withdrawn"})
        consent.withdrawn_at = timezone.now()
        consent.save(update_fields=["withdrawn_at"])
        _event(
            actor,
            view,
            "dataset.consent_withdrawn",
            [consent.grantee_department_id],
            consent=consent.pk,
            subject_hint=consent.subject_hint,
            department=consent.grantee_department_id,
            purpose=consent.purpose,
        )
    return consent


@dataclass
class ImportReport:
    rows: int = 0
    recorded: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "recorded": self.recorded,
            "rejected": len({e["row"] for e in self.errors}),
            "errors": self.errors,
        }


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    if len(data) > MAX_IMPORT_BYTES:
        raise Invalid(fields={"file": _("At most %(mb)s MB.") % {"mb": MAX_IMPORT_BYTES // (1024 * 1024)}})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise Invalid(fields={"file": _("Not a CSV file in UTF-8 or GB18030.")}) from None
    if "\x00" in text:
        raise Invalid(fields={"file": _("Not a CSV file in UTF-8 or GB18030.")})
    try:
        lines = list(csv.reader(io.StringIO(text)))
    except csv.Error:
        raise Invalid(fields={"file": _("Not a CSV file in UTF-8 or GB18030.")}) from None
    if not lines:
        raise Invalid(fields={"file": _("The file is empty.")})
    header = [h.strip().lower() for h in lines[0]]
    if header[: len(COLUMNS)] != list(COLUMNS):
        raise Invalid(fields={"file": _("The first line must name the columns: %(columns)s.")
                              % {"columns": ",".join(COLUMNS)}})  # fmt: skip
    body = [line for line in lines[1:] if any(cell.strip() for cell in line)]
    if len(body) > MAX_IMPORT_ROWS:
        raise Invalid(fields={"file": _("At most %(n)s rows.") % {"n": MAX_IMPORT_ROWS}})
    return [dict(zip(COLUMNS, [*line, *[""] * len(COLUMNS)][: len(COLUMNS)], strict=True)) for line in body]


def import_consents(actor, view: queries.DatasetView, data: bytes, *, keep_valid: bool = False) -> ImportReport:
    """Consents from CSV (subject, department, purpose, from, until), checked row by row before a
    short transaction; the report names each bad row's line, column and reason. Without `keep_valid`
    one bad row writes nothing."""
    _managing(actor, view)
    rows = _csv_rows(data)
    departments = {}
    for department in Department.objects.all().only("pk", "code", "name"):
        departments[department.code.lower()] = department
        departments[str(department.pk)] = department
    report = ImportReport(rows=len(rows))
    good = []
    for number, row in enumerate(rows, start=1):
        try:
            good.append(_check(view, row, departments))
        except Invalid as error:
            report.errors.extend({"row": number, "column": k, "reason": str(v)} for k, v in error.fields.items())
    if report.errors and not keep_valid:
        raise Invalid(
            _("%(n)s of %(total)s rows have problems; nothing was recorded.")
            % {"n": len({e["row"] for e in report.errors}), "total": report.rows},
            fields={f"rows.{e['row']}.{e['column']}": e["reason"] for e in report.errors[:1000]},
        )
    if good:
        with transaction.atomic():
            Consent.objects.bulk_create([_consent(actor, view, checked) for checked in good])
            _event(
                actor,
                view,
                "dataset.consents_imported",
                sorted({c.department.pk for c in good}),
                rows=report.rows,
                recorded=len(good),
                rejected=len({e["row"] for e in report.errors}),
            )
    report.recorded = len(good)
    return report


# --- reads ---------------------------------------------------------------------------------------


def list_consents(
    actor, view: queries.DatasetView, *, state: str = "", before: int | None = None, limit: int = DEFAULT_LIMIT
) -> tuple[list[Consent], int | None]:
    """The dataset's consents, newest first (owner members only), with the department in the same query."""
    _managing(actor, view)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise Invalid(fields={"limit": _("From 1 to %(n)s.") % {"n": MAX_LIMIT}})
    queryset = Consent.objects.filter(dataset=view.dataset).select_related("grantee_department")
    now = timezone.now()
    if state == "active":
        queryset = queryset.filter(withdrawn_at__isnull=True, valid_from__lte=now, valid_until__gt=now)
    elif state == "inactive":
        queryset = queryset.exclude(withdrawn_at__isnull=True, valid_from__lte=now, valid_until__gt=now)
    elif state:
        raise Invalid(fields={"status": _("Choose active or inactive.")})
    if before is not None:
        queryset = queryset.filter(pk__lt=before)
    rows = list(queryset.order_by("-pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, rows[-1].pk if more else None


def is_active(consent: Consent, now=None) -> bool:
    now = now or timezone.now()
    return consent.withdrawn_at is None and consent.valid_from <= now < consent.valid_until


def as_fhir(consent: Consent, now=None) -> dict[str, Any]:
    """A consent in the terms of FHIR R4 Consent (status, provision type permit, actor, purpose, period)."""
    return {
        "id": consent.pk,
        "resourceType": "Consent",
        "status": "active" if is_active(consent, now) else "inactive",
        "subject_hint": consent.subject_hint,
        "provision": {
            "type": "permit",
            "period": {"start": consent.valid_from, "end": consent.valid_until},
            "actor": [
                {
                    "role": "grantee",
                    "reference": {
                        "type": "Organization",
                        "identifier": consent.grantee_department.code,
                        "display": consent.grantee_department.name,
                    },
                }
            ],
            "purpose": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                    "code": consent.purpose,
                    "display": consent.get_purpose_display(),
                }
            ],
        },
        "withdrawn_at": consent.withdrawn_at,
        "created_at": consent.created_at,
    }
