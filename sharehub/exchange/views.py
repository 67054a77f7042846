"""Pages of a dataset's records: the data tab (a masked preview with filters and the API call that
gives the same rows), the schema editor, and importing a file (upload, map columns, check, apply)."""

from __future__ import annotations

import base64
import csv
import io
import secrets
from itertools import islice, zip_longest
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from sharehub import config
from sharehub.access.fields import describe
from sharehub.catalog.views import page
from sharehub.errors import Forbidden, Invalid, NotFound, ServiceError, TooLarge
from sharehub.exchange import crypto, files, queries, schema, services
from sharehub.exchange.api import record_query
from sharehub.exchange.masking import MaskRule
from sharehub.exchange.models import Consent, ImportJob, Sensitivity
from sharehub.exchange.overlap import find_overlaps
from sharehub.exchange.rows import check_rows
from sharehub.exchange.types import FieldType
from sharehub.policy.engine import Action, ProcessAction, can
from sharehub.policy.fields import FieldView

PREVIEW_ROWS = 50
IMPORT_PREVIEW = 20
MAX_IMPORT_BYTES = 50 * 1024 * 1024
PAGE_PARAMS = ("q", "sort", "cursor", "purpose")
# Values that read wrong when broken across lines (a code, a number, a date): their cells do not wrap and
# the table scrolls sideways in its region instead.
UNBROKEN_TYPES = frozenset(
    {
        FieldType.RESIDENT_ID,
        FieldType.CREDIT_CODE,
        FieldType.PHONE,
        FieldType.EMAIL,
        FieldType.DATE,
        FieldType.DATETIME,
        FieldType.INTEGER,
        FieldType.DECIMAL,
    }
)


def _view(request, ident) -> queries.DatasetView:
    return queries.access_dataset(request.user, ident)


def _operators() -> dict[str, str]:
    """How the filter operators read on the page (the same words as the "Condition" list)."""
    return {
        "eq": "=",
        "gte": "≥",
        "lte": "≤",
        "in": _("one of (a,b)"),
        "prefix": _("starts with"),
        "null": _("is empty (true/false)"),
    }


def _filter_rows(view: queries.DatasetView, request) -> list[dict]:
    """The filters in the query string, for the form to show them again."""
    query = record_query(request.GET)
    words = _operators()
    return [{"field": f, "op": op, "op_label": words.get(op, op), "value": v} for f, op, v in query.filters]


def _api_call(request, view: queries.DatasetView) -> str:
    params = [(k, v) for k, values in request.GET.lists() for v in values if k != "cursor"]
    path = reverse("api:list_records", kwargs={"ident": view.resource.pk})
    url = request.build_absolute_uri(path) + ("?" + urlencode(params) if params else "")
    return f'curl -H "Authorization: Bearer YOUR_TOKEN" "{url}"'


@page
def data(request, ident):
    view = _view(request, ident)
    user = request.user
    context = {
        "resource": view.resource,
        "dataset": view.dataset,
        "view": view,
        "tab": "data",
        "can_edit": bool(can(user, Action.EDIT, view.resource)),
        "may_request": bool(can(user, ProcessAction.REQUEST, view.resource)),
        "purposes": Consent.Purpose.choices,
    }
    if not view.access.allowed:
        context["refused"], context["refusal"] = True, view.access.decision
        return render(request, "exchange/data.html", context, status=200)
    fields = [f for f in view.fields if view.access.views[f.name] != FieldView.HIDDEN]
    context.update(
        {
            "fields": fields,
            "full_fields": [f for f in fields if view.access.views[f.name] == FieldView.FULL],
            "filters": [],
            "api_call": _api_call(request, view),
            "export_params": urlencode([(k, v) for k, vs in request.GET.lists() for v in vs if k != "cursor"]),
        }
    )
    needs_purpose = view.dataset.consent_required and not view.access.sees_all
    if needs_purpose and not request.GET.get("purpose"):
        context["needs_purpose"] = True
        return render(request, "exchange/data.html", context)
    try:
        context["filters"] = _filter_rows(view, request)
        query = record_query(request.GET)
        query.limit = PREVIEW_ROWS
        result = queries.read_records(user, view, query, via="page")
    except Invalid as error:
        context["query_error"] = error
        return render(request, "exchange/data.html", context, status=422)
    context["rows"] = [
        [(row.get(f.name), f.name in result.masked, f.type in UNBROKEN_TYPES) for f in fields] for row in result.rows
    ]
    context["row_ids"] = [row[queries.RECORD_ID] for row in result.rows]
    if result.next_cursor:
        params = request.GET.copy()
        params["cursor"] = result.next_cursor
        context["next_url"] = "?" + params.urlencode()
    if request.GET.get("cursor"):
        params = request.GET.copy()
        params.pop("cursor", None)
        context["first_url"] = "?" + params.urlencode()
    return render(request, "exchange/data.html", context)


# --- the schema editor ---------------------------------------------------------------------------

BLANK_ROWS = 3


def _field_rows_from_post(post) -> list[dict]:
    count = min(int(post.get("rows", "0") or 0), schema.MAX_FIELDS) if str(post.get("rows", "0")).isdigit() else 0
    rows = []
    for i in range(count):
        name = post.get(f"f{i}-name", "").strip()
        if not name or post.get(f"f{i}-delete"):
            continue
        rows.append(
            {
                "name": name,
                "label_zh": post.get(f"f{i}-label_zh", ""),
                "label_en": post.get(f"f{i}-label_en", ""),
                "type": post.get(f"f{i}-type", ""),
                "required": post.get(f"f{i}-required") == "on",
                "description": post.get(f"f{i}-description", ""),
                "sensitivity": post.get(f"f{i}-sensitivity", ""),
                "masking": post.get(f"f{i}-masking", ""),
                "choices": post.get(f"f{i}-choices", ""),
                "source": post.get(f"f{i}-source", "") or None,
                "source_field": post.get(f"f{i}-source_field", ""),
            }
        )
    return rows


@page
@require_http_methods(["GET", "POST"])
def schema_edit(request, ident):
    view = _writable(request, ident)
    error = None
    rows = [schema.as_dict(f) for f in view.fields]
    key_fields, consent, subject = view.dataset.key_fields, view.dataset.consent_required, view.dataset.subject_field
    if request.method == "POST":
        rows = _field_rows_from_post(request.POST)
        key_fields = request.POST.getlist("key_fields")
        consent = request.POST.get("consent_required") == "on"
        subject = request.POST.get("subject_field", "")
        try:
            schema.change_dataset(
                request.user,
                view.resource,
                rows,
                key_fields=key_fields,
                consent_required=consent,
                subject_field=subject,
            )
        except ServiceError as failure:
            error = failure
        else:
            messages.success(request, _("The schema is saved."))
            return redirect("exchange:data", ident=view.resource.code)
    for row in rows:
        if isinstance(row.get("choices"), list):
            row["choices"] = ", ".join(row["choices"])
    context = {
        "resource": view.resource,
        "dataset": view.dataset,
        "tab": "schema",
        "rows": rows + [{} for _ in range(BLANK_ROWS)],
        "key_fields": key_fields,
        "consent_required": consent,
        "subject_field": subject,
        "error": error,
        "types": FieldType.choices,
        "sensitivities": Sensitivity.choices,
        "maskings": MaskRule.choices,
    }
    return render(request, "exchange/schema.html", context, status=error.status if error else 200)


# --- importing a file ----------------------------------------------------------------------------


def _imports_dir():
    folder = config.data_dir() / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _aad(job_name: str) -> bytes:
    return f"sharehub-import:{job_name}".encode()


def _store_upload(content: bytes) -> str:
    """Keep the upload encrypted (it holds the plaintext of sensitive fields) until applied or dropped."""
    name = secrets.token_hex(16)
    token = crypto.keyring().encrypt(base64.b64encode(content).decode(), aad=_aad(name))
    path = _imports_dir() / f"{name}.enc"
    path.write_text(token, encoding="ascii")
    path.chmod(0o600)
    return name


def _load_upload(job: ImportJob) -> bytes:
    if not job.upload:
        raise Invalid(fields={"file": _("This import's file was dropped; upload it again.")})
    path = _imports_dir() / f"{job.upload}.enc"
    try:
        token = path.read_text(encoding="ascii")
    except OSError:
        raise Invalid(fields={"file": _("This import's file is gone; upload it again.")}) from None
    return base64.b64decode(crypto.keyring().decrypt(token, aad=_aad(job.upload)))


def _drop_upload(job: ImportJob) -> None:
    if job.upload:
        (_imports_dir() / f"{job.upload}.enc").unlink(missing_ok=True)
        job.upload = ""


def _writable(request, ident) -> queries.DatasetView:
    """A dataset whose records and schema the user may change (members of the owner department)."""
    view = _view(request, ident)
    decision = can(request.user, Action.EDIT, view.resource)
    if not decision:
        raise Forbidden(decision.message)
    return view


@page
@require_http_methods(["GET", "POST"])
def import_start(request, ident):
    view = _writable(request, ident)
    error = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            too_large = getattr(request, "upload_too_large", False)  # sharehub.bodies stopped reading it
            if upload is None and not too_large:
                raise Invalid(fields={"file": _("Choose a CSV or XLSX file.")})
            if too_large or upload.size > MAX_IMPORT_BYTES:
                raise TooLarge(fields={"file": _("At most %(n)s MB.") % {"n": MAX_IMPORT_BYTES // 1024 // 1024}})
            content = upload.read()
            services.writable_dataset(request.user, view.resource)
            table = files.open_table(content, upload.name)
            mapping = files.guess_mapping(table.columns, view.fields)
        except ServiceError as failure:
            error = failure
        else:
            job = ImportJob.objects.create(
                dataset=view.dataset,
                upload=_store_upload(content),
                filename=upload.name[:255],
                mapping=mapping,
                created_by=request.user,
            )
            return redirect("exchange:import_job", ident=view.resource.code, job=job.pk)
    context = {
        "resource": view.resource,
        "dataset": view.dataset,
        "tab": "import",
        "error": error,
        "jobs": list(view.dataset.imports.select_related("created_by")[:10]),
        "max_mb": MAX_IMPORT_BYTES // 1024 // 1024,
        "upload_limit_mb": settings.UPLOAD_LIMIT_BYTES // 1024 // 1024,
    }
    return render(request, "exchange/import.html", context, status=error.status if error else 200)


def _job(view: queries.DatasetView, job_id: int) -> ImportJob:
    job = view.dataset.imports.filter(pk=job_id).first()
    if job is None:
        raise NotFound()
    return job


@page
@require_http_methods(["GET", "POST"])
def import_job(request, ident, job):
    view = _writable(request, ident)
    job = _job(view, job)
    error = None
    checked = table = None
    if job.status != ImportJob.Status.APPLIED:
        try:
            dataset = services.writable_dataset(request.user, view.resource)
            codec = services.codec_for(dataset)
            content = _load_upload(job)
            table = files.open_table(content, job.filename)
            if request.method == "POST":
                proposed = {c: request.POST.get(f"map-{i}", "") for i, c in enumerate(table.columns)}
                job.mapping = files.check_mapping(proposed, table.columns, codec.fields)
                mode = request.POST.get("mode", services.Mode.ALL_OR_NOTHING)
                job.mode = mode if mode in services.Mode.CHOICES else services.Mode.ALL_OR_NOTHING
            mapping = files.check_mapping(job.mapping, table.columns, codec.fields)
            applying = request.method == "POST" and request.POST.get("action") == "apply"
            checked = check_rows(codec, files.mapped_rows(table, mapping), keep_sensitive=False, prepare=applying)
            job.counts = {"rows": checked.rows, "valid": len(checked.valid), "rejected": checked.rejected_rows}
            job.errors = [e.as_dict() for e in checked.errors[:10_000]]
            job.status = ImportJob.Status.CHECKED
            if applying:
                if checked.errors and job.mode == services.Mode.ALL_OR_NOTHING:
                    message = _("%(n)s rows have problems; nothing was written. Fix them, or keep the valid rows.")
                    raise Invalid(message % {"n": checked.rejected_rows})
                replace_expected = None
                if request.POST.get("replace") == "on":
                    typed = request.POST.get("replace_expected", "").strip()
                    if not typed.isdigit():
                        raise Invalid(fields={"replace_expected": _("Type the number of records to delete.")})
                    replace_expected = int(typed[:12])
                result = services.write_checked(
                    request.user, view.resource, dataset, codec, checked, via="page", replace_expected=replace_expected
                )
                job.counts |= {
                    "inserted": result.inserted,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                    "deleted": result.deleted,
                }
                job.status, job.applied_at = ImportJob.Status.APPLIED, timezone.now()
                _drop_upload(job)
                job.save()
                messages.success(
                    request,
                    _("Imported: %(i)s new, %(u)s updated, %(s)s unchanged, %(d)s deleted.")
                    % {"i": result.inserted, "u": result.updated, "s": result.unchanged, "d": result.deleted},
                )
                return redirect("exchange:data", ident=view.resource.code)
            job.counts["would_delete"] = len(services.stale_keys(dataset, checked))
            job.save(update_fields=["mapping", "mode", "counts", "errors", "status"])
        except ServiceError as failure:
            error = failure
    preview = []
    if table is not None and checked is not None:
        table = files.open_table(content, job.filename)  # checking read the first one to its end
        problems: dict[int, dict[str, str]] = {}
        for e in checked.errors:
            problems.setdefault(e.row, {})[e.field] = e.reason
        types = {f.name: f.type for f in view.fields}
        unbroken = [types.get(job.mapping.get(c, "")) in UNBROKEN_TYPES for c in table.columns]
        for number, values in enumerate(islice(table.rows(), IMPORT_PREVIEW), start=1):
            cells = list(zip_longest(values, unbroken))
            preview.append({"row": number, "cells": cells, "problems": problems.get(number, {})})
    context = {
        "resource": view.resource,
        "dataset": view.dataset,
        "tab": "import",
        "job": job,
        "error": error,
        "columns": list(enumerate(table.columns)) if table is not None else [],
        "unmapped": files.left_out({c: job.mapping.get(c, "") for c in table.columns}) if table is not None else [],
        "record_ids_left_out": table is not None
        and queries.RECORD_ID in table.columns
        and not job.mapping.get(queries.RECORD_ID),
        "fields": view.fields,
        "preview": preview,
        "errors": job.errors[:200],
        "modes": [
            (services.Mode.ALL_OR_NOTHING, _("All or nothing")),
            (services.Mode.KEEP_VALID, _("Keep the valid rows")),
        ],
    }
    return render(request, "exchange/import_job.html", context, status=error.status if error else 200)


@page
def import_errors(request, ident, job):
    """The error report of a checked import as CSV (values of encrypted fields are left out)."""
    view = _writable(request, ident)
    job = _job(view, job)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("row"), _("field"), _("value"), _("reason")])
    writer.writerows([e["row"], e["field"], e["value"], e["reason"]] for e in job.errors)
    response = HttpResponse(("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{view.resource.code}-import-{job.pk}-errors.csv"'
    return response


@page
@require_POST
def delete_all(request, ident):
    view = _writable(request, ident)
    raw = request.POST.get("expected", "")
    try:
        expected = int(raw)
    except ValueError:
        messages.error(request, _("Type the number of records to delete them all."))
        return redirect("exchange:data", ident=view.resource.code)
    try:
        result = services.delete_all(request.user, view.resource, expected=expected, via="page")
    except ServiceError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("%(n)s records deleted.") % {"n": result.deleted})
    return redirect("exchange:data", ident=view.resource.code)


@page
def dataset_sources(request, ident):
    """一数一源: where the people and companies of a dataset are held already, for its owner's members."""
    report = find_overlaps(request.user, ident)
    rows = []
    for overlap in report.overlaps:
        other = overlap.resource
        request_url = reverse("access:request", args=[other.code])
        if overlap.sources:
            request_url += "?" + urlencode([("fields", name) for name in overlap.sources])
        here = describe(report.resource, [mine for mine, _there in overlap.pairs])
        there = describe(other, [theirs for _here, theirs in overlap.pairs])
        rows.append(
            {
                "o": overlap,
                "percent": round(100 * overlap.share),
                "sources": describe(other, overlap.sources),
                "pairs": list(zip(here, there, strict=True)),
                "request_url": request_url,
            }
        )
    context = {"resource": report.resource, "report": report, "rows": rows, "tab": "sources", "can_edit": True}
    return render(request, "exchange/sources.html", context)
