"""Pages of a dataset's corrections (疑义校核) and of its data subjects' consents. Thin: parse, call
`exchange.corrections` / `exchange.consents`, render. A service refusal of a form comes back as a
message on the same page; a lost race (already decided, record deleted) too."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sharehub.catalog import files
from sharehub.catalog.views import page
from sharehub.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge
from sharehub.exchange import consents, corrections, queries
from sharehub.exchange.models import Consent, Correction
from sharehub.policy.engine import Action, can
from sharehub.policy.fields import FieldView

STATUS_CSS = {
    Correction.Status.OPEN: "text-bg-primary",
    Correction.Status.ACCEPTED: "text-bg-success",
    Correction.Status.REJECTED: "text-bg-secondary",
}


def _say(request, error) -> None:
    """A refusal as a message: the reasons of the fields, else the sentence."""
    if isinstance(error, Invalid) and error.fields:
        text = " ".join(f"{name}: {reason}" for name, reason in list(error.fields.items())[:20])
    else:
        text = str(error.message)
    messages.error(request, text)


def _cursor(request) -> int | None:
    text = request.GET.get("before", "")
    return int(text) if text.isdigit() and len(text) <= 18 else None


@page
def correction_list(request, ident):
    view = queries.access_dataset(request.user, ident)
    status = request.GET.get("status", "")
    if status not in Correction.Status.values:
        status = ""
    result = corrections.list_corrections(request.user, view, status=status, before=_cursor(request))
    for item in result.items:
        item["css"] = STATUS_CSS.get(item["status"], "")
    flaggable = [
        (f.name, corrections.field_label(f))
        for f in view.fields
        if view.access.views.get(f.name) != FieldView.HIDDEN and f.name not in view.dataset.key_fields
    ]
    context = {
        "resource": view.resource,
        "dataset": view.dataset,
        "items": result.items,
        "next_cursor": result.next_cursor,
        "status": status,
        "statuses": Correction.Status.choices,
        "can_report": view.access.allowed,
        "can_decide": bool(can(request.user, Action.MANAGE, view.resource)),
        "needs_purpose": view.dataset.consent_required and not view.access.sees_all,
        "purposes": Consent.Purpose.choices,
        "flaggable": flaggable,
        "record_id": request.GET.get("record", "")[:64],
        "departments": corrections.reporting_choices(request.user, view),
        "owner_view": view.access.sees_all,
    }
    return render(request, "exchange/corrections.html", context)


def _back(view: queries.DatasetView):
    return redirect(reverse("exchange:corrections", args=[view.resource.code]))


@require_POST
@page
def correction_report(request, ident):
    view = queries.access_dataset(request.user, ident)
    upload = request.FILES.get("file")
    try:
        corrections.report_correction(
            request.user,
            view,
            record_id=request.POST.get("record_id", "").strip(),
            field=request.POST.get("field", ""),
            evidence=request.POST.get("evidence", ""),
            proposed=request.POST.get("proposed", "") or None,
            purpose=request.POST.get("purpose", ""),
            department=request.POST.get("department") or None,
            attachment=(upload.name, upload.chunks()) if upload else None,
        )
    except NotFound:
        messages.error(request, _("No record with this id."))
    except (Invalid, Conflict, TooLarge) as error:
        _say(request, error)
    else:
        messages.success(request, _("Correction reported; the owner's stewards decide it by the date shown."))
    return _back(view)


@require_POST
@page
def correction_decide(request, ident, cid, decision):
    if decision not in ("accept", "reject"):
        raise Http404()
    view = queries.access_dataset(request.user, ident)
    try:
        if decision == "accept":
            corrections.accept_correction(
                request.user, view, cid, value=request.POST.get("value", "") or None, note=request.POST.get("note", "")
            )
            messages.success(request, _("Correction accepted; the record was corrected."))
        else:
            corrections.reject_correction(request.user, view, cid, reason=request.POST.get("reason", ""))
            messages.success(request, _("Correction rejected."))
    except (Invalid, Conflict, Forbidden) as error:
        _say(request, error)
    return _back(view)


@page
def correction_file(request, ident, cid):
    view = queries.access_dataset(request.user, ident)
    found = corrections.access_correction(request.user, view, cid)
    if found.evidence_blob is None:
        raise Http404()
    return files.download(found.evidence_blob.sha256, found.evidence_filename, found.evidence_blob.mime_type)


# --- consents -------------------------------------------------------------------------------------


@page
def consent_list(request, ident):
    return _consents(request, queries.access_dataset(request.user, ident))


def _consents(request, view: queries.DatasetView, report: dict | None = None):
    state = request.GET.get("status", "")
    if state not in ("active", "inactive"):
        state = ""
    rows, cursor = consents.list_consents(request.user, view, state=state, before=_cursor(request))
    context = {
        "resource": view.resource,
        "dataset": view.dataset,
        "rows": [(c, consents.is_active(c)) for c in rows],
        "next_cursor": cursor,
        "status": state,
        "purposes": Consent.Purpose.choices,
        "subject_field": view.codec.subject_field,
        "report": report,
        "columns": ",".join(consents.COLUMNS),
    }
    return render(request, "exchange/consents.html", context)


def _consents_page(view: queries.DatasetView):
    return redirect(reverse("exchange:consents", args=[view.resource.code]))


@require_POST
@page
def consent_create(request, ident):
    view = queries.access_dataset(request.user, ident)
    row = {name: request.POST.get(name, "") for name in consents.COLUMNS}
    try:
        consents.record_consent(request.user, view, row)
    except Invalid as error:
        _say(request, error)
    else:
        messages.success(request, _("Consent recorded."))
    return _consents_page(view)


@require_POST
@page
def consent_withdraw(request, ident, consent_id):
    view = queries.access_dataset(request.user, ident)
    try:
        consents.withdraw_consent(request.user, view, consent_id)
    except Conflict as error:
        _say(request, error)
    else:
        messages.success(request, _("Consent withdrawn; it no longer admits any read."))
    return _consents_page(view)


@require_POST
@page
def consent_import(request, ident):
    view = queries.access_dataset(request.user, ident)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a CSV file."))
        return _consents_page(view)
    if upload.size is not None and upload.size > consents.MAX_IMPORT_BYTES:
        messages.error(request, _("At most %(mb)s MB.") % {"mb": consents.MAX_IMPORT_BYTES // (1024 * 1024)})
        return _consents_page(view)
    try:
        report = consents.import_consents(
            request.user,
            view,
            upload.read(consents.MAX_IMPORT_BYTES + 1),
            keep_valid=request.POST.get("mode") == "valid",
        )
    except Invalid as error:
        report = {"rows": None, "recorded": 0, "message": str(error.message), "fields": error.fields}
        if not any(name.startswith("rows.") for name in error.fields):
            _say(request, error)
            return _consents_page(view)
        rows = [(name.split(".")[1], name.split(".", 2)[2], reason) for name, reason in error.fields.items()]
        report["errors"] = [{"row": r, "column": c, "reason": why} for r, c, why in rows]
        return _consents(request, view, report)
    if report.recorded:
        messages.success(request, _("%(n)s consents recorded.") % {"n": report.recorded})
    return _consents(request, view, report.as_dict())
