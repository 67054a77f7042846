"""Data exchange API: a dataset's schema, its records (filtered, masked by grant, as JSON, CSV or
XLSX), upserts and deletes, and the change feed. Handlers are thin: `exchange.queries` reads through
the policy, `exchange.services` and `exchange.schema` write."""

from __future__ import annotations

from typing import Any

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router
from ninja.files import UploadedFile
from pydantic import BaseModel, ConfigDict, Field

from sharehub.catalog import files
from sharehub.errors import Invalid, NotFound
from sharehub.exchange import consents, corrections, exports, overlap, queries, schema, services
from sharehub.exchange.queries import OPERATORS, RecordQuery

router = Router(tags=["exchange"])
RESERVED = {"q", "fields", "sort", "cursor", "limit", "purpose", "format"}
MAX_ROWS_PER_CALL = 10_000


class SchemaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fields: list[dict[str, Any]] = Field(description="The whole field list, in order")
    key_fields: list[str] | None = Field(None, description="Field names identifying a record")
    consent_required: bool | None = None
    subject_field: str | None = Field(None, description="The field naming the data subject (consent datasets)")


class RowsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: list[dict[str, Any]] = Field(
        description="Records as objects of field names and values; a field left out of a row keeps its stored value "
        "(null clears it)"
    )
    mode: str = Field("all", description="`all`: a bad row writes nothing; `valid`: write the good rows")
    replace_expected: int | None = Field(
        None,
        description="Replace all: also delete the records whose key is not among the rows, when they are this many "
        "(ask with `dry_run` first)",
    )
    dry_run: bool = Field(False, description="Check the rows and count what replacing would delete; write nothing")


class KeysIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    keys: list[Any] = Field(description="Record keys: objects of the key fields, or values for a one-field key")


class DeleteAllIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expected: int = Field(description="The record count you were shown; refused when it differs")


def _dataset_out(view: queries.DatasetView) -> dict:
    dataset = view.dataset
    return {
        "id": view.resource.pk,
        "code": view.resource.code,
        "title": view.resource.title,
        "schema_version": dataset.schema_version,
        "key_fields": dataset.key_fields,
        "consent_required": dataset.consent_required,
        "subject_field": dataset.subject_field,
        "record_count": view.shown_count,
        "last_change": dataset.last_change,
        "records_updated_at": dataset.records_updated_at,
        "fields": [schema.as_dict(f) | {"you_see": view.access.views[f.name].value} for f in view.fields],
        "can_read": view.access.allowed,
        "reason": view.access.decision.message,
    }


@router.get("/datasets/{ident}", summary="A dataset's schema, and what the caller sees of each field")
def get_dataset(request, ident: str):
    return _dataset_out(queries.access_dataset(request.user, ident))


@router.put("/datasets/{ident}/schema", summary="Replace the schema (a new version); stewards and members")
def put_schema(request, ident: str, payload: SchemaIn):
    view = queries.access_dataset(request.user, ident)
    schema.change_dataset(
        request.user,
        view.resource,
        payload.fields,
        key_fields=payload.key_fields,
        consent_required=payload.consent_required,
        subject_field=payload.subject_field,
    )
    return _dataset_out(queries.access_dataset(request.user, ident))


_ENCODER = DjangoJSONEncoder()


def _json(body: dict) -> HttpResponse:
    """A page of records as JSON written by orjson: the same text as ninja's renderer (times as Django
    writes them), several times faster for a thousand rows."""
    return HttpResponse(
        orjson.dumps(body, default=_ENCODER.default, option=orjson.OPT_PASSTHROUGH_DATETIME),
        content_type="application/json; charset=utf-8",
    )


def record_query(params) -> RecordQuery:
    """Reserved parameters, and filters as `field=value` or `field__op=value` (op: eq, in, gt, gte,
    lt, lte, prefix, null)."""
    filters = []
    for name, values in params.lists():
        if "\x00" in name or any("\x00" in v for v in values):
            raise Invalid(fields={name.replace("\x00", "")[:64]: _("Must not contain NUL characters.")})
        if name in RESERVED:
            continue
        field, op = name, "eq"
        if "__" in name and name.rsplit("__", 1)[1] in OPERATORS:
            field, op = name.rsplit("__", 1)
        filters.extend((field, op, value) for value in values)
    limit_text = params.get("limit", str(queries.DEFAULT_LIMIT))
    if not limit_text.isdigit():
        raise Invalid(fields={"limit": _("A whole number from 1 to %(n)s.") % {"n": queries.MAX_LIMIT}})
    wanted = [f.strip() for f in params.get("fields", "").split(",") if f.strip()]
    return RecordQuery(
        filters=filters,
        text=params.get("q", "").strip()[:200],
        fields=wanted or None,
        sort=params.get("sort", ""),
        cursor=params.get("cursor", ""),
        limit=int(limit_text[:7]),
        purpose=params.get("purpose", ""),
    )


@router.get(
    "/datasets/{ident}/records",
    summary="Records the caller may read, masked by grant",
    description="Filters: `field=value` or `field__op=value` with op one of eq, in (comma-separated), gt, gte, "
    "lt, lte, prefix, null (true/false). `q` searches text fields you see in full; `fields` selects "
    "(comma-separated); `sort` is a field name, `-` first for descending; `cursor` is `next_cursor`; "
    "`limit` 1–1000; `purpose` your purpose of use where the dataset needs the data subject's consent; "
    "`format` json (default), csv or xlsx (every matching row, up to 100,000).",
)
def list_records(request, ident: str):
    view = queries.access_dataset(request.user, ident)
    query = record_query(request.GET)
    output = request.GET.get("format", "json")
    if output in ("csv", "xlsx"):
        return exports.export_response(request.user, view, query, output, via="api")
    if output != "json":
        raise Invalid(fields={"format": _("Choose json, csv or xlsx.")})
    page = queries.read_records(request.user, view, query)
    return _json({"items": page.rows, "fields": page.fields, "masked": page.masked, "next_cursor": page.next_cursor})


@router.get("/datasets/{ident}/record", summary="One record by the values of its key fields")
def get_record(request, ident: str):
    view = queries.access_dataset(request.user, ident)
    key_values = {k: v for k, v in request.GET.items() if k != "purpose"}
    return queries.record_by_key(request.user, view, key_values, purpose=request.GET.get("purpose", ""))


@router.post("/datasets/{ident}/records", summary="Insert or update records by key (upsert)")
def upsert_records(request, ident: str, payload: RowsIn):
    view = queries.access_dataset(request.user, ident)
    if len(payload.rows) > MAX_ROWS_PER_CALL:
        raise Invalid(fields={"rows": _("At most %(n)s rows a call.") % {"n": MAX_ROWS_PER_CALL}})
    result = services.upsert(
        request.user,
        view.resource,
        payload.rows,
        mode=payload.mode,
        via="api",
        replace_expected=payload.replace_expected,
        dry_run=payload.dry_run,
    )
    return _result_out(result)


def _result_out(result: services.UpsertResult) -> dict:
    return {
        **result.counts(),
        "would_delete": result.would_delete,
        "changes": [result.first_change, result.last_change] if result.first_change else None,
        "errors": [e.as_dict() for e in result.errors[:1000]],
    }


@router.post("/datasets/{ident}/records/delete", summary="Delete records by key")
def delete_records(request, ident: str, payload: KeysIn):
    view = queries.access_dataset(request.user, ident)
    return _result_out(services.delete_by_keys(request.user, view.resource, payload.keys))


@router.post("/datasets/{ident}/records/delete-all", summary="Delete every record (give the count you were shown)")
def delete_all_records(request, ident: str, payload: DeleteAllIn):
    view = queries.access_dataset(request.user, ident)
    return _result_out(services.delete_all(request.user, view.resource, expected=payload.expected))


@router.get("/datasets/{ident}/changes", summary="The change feed: numbered inserts, updates and deletes")
def list_changes(
    request,
    ident: str,
    since: int = Query(0, ge=0, le=2**63 - 1, description="The last change number you have; 0 for all"),
    limit: int = Query(queries.DEFAULT_LIMIT, ge=1, le=queries.MAX_LIMIT),
    purpose: str = Query("", description="Your purpose of use, where the dataset needs consent"),
):
    view = queries.access_dataset(request.user, ident)
    changes, last, newest = queries.read_changes(request.user, view, since=since, limit=limit, purpose=purpose)
    return _json({"changes": changes, "next_since": last, "latest": newest})


# --- corrections (疑义校核) ------------------------------------------------------------------------


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    record_id: str = Field(description="The record's `_id`, as the records list shows it")
    field: str = Field(description="The field whose value is wrong")
    proposed: Any = Field(None, description="The right value, if known (checked by the field's type)")
    evidence: str = Field(description="Why the value is wrong (required, up to 4000 characters)")
    purpose: str = Field("", description="Your purpose of use, where the dataset needs the data subject's consent")
    department: int | None = Field(
        None,
        description="The department you report for (one of yours); by default one reading through a grant",
    )


class CorrectionAcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Any = Field(None, description="The right value, when it differs from the proposal or none was proposed")
    note: str = ""


class CorrectionRejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(description="Why the value stays (required)")


def _correction_out(request, view: queries.DatasetView, correction_id: int) -> dict:
    found = corrections.access_correction(request.user, view, correction_id)
    item = corrections.shown_corrections(request.user, view, [found])[0]
    return _with_file_url(view, item)


def _with_file_url(view: queries.DatasetView, item: dict) -> dict:
    if item["file"]:
        item["file"]["url"] = reverse(
            "api:download_correction_file", kwargs={"ident": view.resource.pk, "correction_id": item["id"]}
        )
    return item


@router.get("/datasets/{ident}/corrections", summary="Corrections of a dataset the caller may see")
def list_corrections(
    request,
    ident: str,
    status: str = Query("", description="open, accepted or rejected"),
    before: int | None = Query(None, ge=1, description="`next_cursor` of the previous page"),
    limit: int = Query(corrections.DEFAULT_LIMIT, ge=1, le=corrections.MAX_LIMIT),
):
    view = queries.access_dataset(request.user, ident)
    page = corrections.list_corrections(request.user, view, status=status, before=before, limit=limit)
    return {"items": [_with_file_url(view, i) for i in page.items], "next_cursor": page.next_cursor}


@router.post("/datasets/{ident}/corrections", summary="Flag a value of a record as wrong (readers)")
def report_correction(request, ident: str, payload: CorrectionIn):
    view = queries.access_dataset(request.user, ident)
    found = corrections.report_correction(request.user, view, **payload.model_dump())
    return _correction_out(request, view, found.pk)


@router.post(
    "/datasets/{ident}/corrections/with-file",
    summary="Flag a value as wrong, with an evidence file (multipart)",
    description="Multipart form with `record_id`, `field`, `evidence`, optional `proposed`, `purpose`, "
    "`department`, and `file`. 413 past the upload limit; the parties download it, always as an attachment.",
)
def report_correction_with_file(
    request,
    ident: str,
    file: File[UploadedFile],
    record_id: Form[str] = "",
    field: Form[str] = "",
    evidence: Form[str] = "",
    proposed: Form[str] = "",
    purpose: Form[str] = "",
    department: Form[str] = "",
):
    view = queries.access_dataset(request.user, ident)
    found = corrections.report_correction(
        request.user,
        view,
        record_id=record_id,
        field=field,
        evidence=evidence,
        proposed=proposed or None,
        purpose=purpose,
        department=department or None,
        attachment=(file.name, file.chunks()),
    )
    return _correction_out(request, view, found.pk)


@router.get("/datasets/{ident}/corrections/{correction_id}", summary="One correction")
def get_correction(request, ident: str, correction_id: str):
    view = queries.access_dataset(request.user, ident)
    return _correction_out(request, view, correction_id)


@router.get(
    "/datasets/{ident}/corrections/{correction_id}/file",
    url_name="download_correction_file",
    summary="The evidence file of a correction (its parties)",
    response={200: None},
)
def download_correction_file(request, ident: str, correction_id: str):
    view = queries.access_dataset(request.user, ident)
    found = corrections.access_correction(request.user, view, correction_id)
    if found.evidence_blob is None:
        raise NotFound()
    return files.download(found.evidence_blob.sha256, found.evidence_filename, found.evidence_blob.mime_type)


@router.post("/datasets/{ident}/corrections/{correction_id}/accept", summary="Accept: correct the record (stewards)")
def accept_correction(request, ident: str, correction_id: str, payload: CorrectionAcceptIn):
    view = queries.access_dataset(request.user, ident)
    found = corrections.accept_correction(request.user, view, correction_id, value=payload.value, note=payload.note)
    return _correction_out(request, view, found.pk)


@router.post("/datasets/{ident}/corrections/{correction_id}/reject", summary="Reject with a reason (stewards)")
def reject_correction(request, ident: str, correction_id: str, payload: CorrectionRejectIn):
    view = queries.access_dataset(request.user, ident)
    found = corrections.reject_correction(request.user, view, correction_id, reason=payload.reason)
    return _correction_out(request, view, found.pk)


# --- consents of data subjects ---------------------------------------------------------------------


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: str = Field(description="The data subject's identifier, as the dataset's subject field holds it")
    department: str = Field(description="The department consented to (code or id)")
    purpose: str = Field(description="FHIR purposeOfUse code: TREAT, ETREAT, HPAYMT, HRESCH, PUBHLTH, HOPERAT")
    valid_from: str = Field(alias="from", description="A date (start of day) or a date and time")
    valid_until: str = Field(alias="until", description="A date (end of day) or a date and time")


@router.get("/datasets/{ident}/consents", summary="Consents of a dataset's data subjects (owner members)")
def list_consents(
    request,
    ident: str,
    status: str = Query("", description="active or inactive"),
    before: int | None = Query(None, ge=1),
    limit: int = Query(consents.DEFAULT_LIMIT, ge=1, le=consents.MAX_LIMIT),
):
    view = queries.access_dataset(request.user, ident)
    rows, cursor = consents.list_consents(request.user, view, state=status, before=before, limit=limit)
    return {"items": [consents.as_fhir(c) for c in rows], "next_cursor": cursor}


@router.post("/datasets/{ident}/consents", summary="Record a consent (owner members)")
def record_consent(request, ident: str, payload: ConsentIn):
    view = queries.access_dataset(request.user, ident)
    found = consents.record_consent(
        request.user,
        view,
        {
            "subject": payload.subject,
            "department": payload.department,
            "purpose": payload.purpose,
            "from": payload.valid_from,
            "until": payload.valid_until,
        },
    )
    found.grantee_department  # noqa: B018  (loaded for the answer)
    return consents.as_fhir(found)


@router.post("/datasets/{ident}/consents/{consent_id}/withdraw", summary="Withdraw a consent (effective at once)")
def withdraw_consent(request, ident: str, consent_id: str):
    view = queries.access_dataset(request.user, ident)
    return consents.as_fhir(consents.withdraw_consent(request.user, view, consent_id))


@router.post(
    "/datasets/{ident}/consents/import",
    summary="Import consents from CSV (owner members)",
    description="Multipart `file`: CSV with the header subject,department,purpose,from,until. `mode` `all` "
    "(default): a bad row records nothing (422 naming each row); `valid`: record the good rows and report the rest.",
)
def import_consents(request, ident: str, file: File[UploadedFile], mode: Form[str] = "all"):
    view = queries.access_dataset(request.user, ident)
    if mode not in services.Mode.CHOICES:
        raise Invalid(fields={"mode": _("Choose %(choices)s.") % {"choices": " or ".join(services.Mode.CHOICES)}})
    if file.size is not None and file.size > consents.MAX_IMPORT_BYTES:
        raise Invalid(fields={"file": _("At most %(mb)s MB.") % {"mb": consents.MAX_IMPORT_BYTES // (1024 * 1024)}})
    data = file.read(consents.MAX_IMPORT_BYTES + 1)
    report = consents.import_consents(request.user, view, data, keep_valid=mode == services.Mode.KEEP_VALID)
    return report.as_dict()


@router.get(
    "/datasets/{ident}/overlaps",
    summary="One source: datasets of other departments that already hold this dataset's people and companies",
    description="For members of the owner department. Exact matches come from identifier digests (resident ID "
    "numbers, credit codes); fuzzy ones from organization names or addresses the caller sees in full. Only "
    "counts and field names are given, and only about datasets whose catalog entry the caller sees.",
)
def list_overlaps(request, ident: str):
    report = overlap.find_overlaps(request.user, ident)
    return {
        "id": report.resource.pk,
        "code": report.resource.code,
        "total": report.total,
        "items": [
            {
                "id": o.resource.pk,
                "code": o.resource.code,
                "title": o.resource.title,
                "owner_department": o.resource.owner_department.name,
                "matched": o.matched,
                "total": o.total,
                "method": o.method,
                "pairs": [{"field": here, "source_field": there} for here, there in o.pairs],
                "source_fields": o.sources,
                "can_read": o.readable,
                "can_request": o.may_request,
            }
            for o in report.overlaps
        ],
    }
