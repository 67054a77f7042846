"""Catalog API: resources, their versions, attachments and the policy's explanation.

Every handler fetches through `catalog.queries` (which applies the policy) and writes through
`catalog.services`. A response that carries non-open content records one read event.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import asdict
from datetime import UTC, datetime

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile

from sharehub.catalog import files, queries, services
from sharehub.catalog.markdown import render_markdown
from sharehub.catalog.models import Attachment, DraftReview, Resource, ResourceVersion
from sharehub.catalog.schemas import (
    AttachmentOut,
    DiffOut,
    ExplainOut,
    ResourceCreateIn,
    ResourceFilterIn,
    ResourceOut,
    ResourcePage,
    ResourcePatchIn,
    ReviewOut,
    ReviewPage,
    ReviewReturnIn,
    ReviewSubmitIn,
    VersionDetail,
    VersionOut,
)
from sharehub.catalog.snapshots import diff_snapshots
from sharehub.errors import Invalid, NotFound
from sharehub.org.api import department_ref, person_ref
from sharehub.org.models import Membership
from sharehub.org.schemas import MAX_DB_INT, DbId
from sharehub.policy.engine import Action, can
from sharehub.validation import parse_id

router = Router(tags=["catalog"])

MAX_PAGE = 200
READ_VIA = "api"


# --- serializing resources


def _category(resource: Resource) -> dict | None:
    return {"id": resource.category.pk, "name": str(resource.category)} if resource.category_id else None


def _grade(resource: Resource) -> dict | None:
    grade = resource.data_grade
    return {"id": grade.pk, "name": grade.name, "level": grade.level} if grade else None


def _project(resource: Resource) -> dict | None:
    return {"id": resource.project.pk, "name": resource.project.name} if resource.project_id else None


def _resource(resource: Resource, *, readable: bool, with_body: bool, related_ids: set[int]) -> dict:
    show_body = readable and with_body
    return {
        "id": resource.pk,
        "code": resource.code,
        "title": resource.title,
        "summary": resource.summary,
        "kind": resource.kind,
        "owner_department": department_ref(resource.owner_department),
        "steward": person_ref(resource.steward),
        "sharing_type": resource.sharing_type,
        "scope": {
            "all": resource.scope_all,
            "departments": [department_ref(d) for d in resource.scope_departments.all()],
        },
        "conditions": resource.conditions,
        "restriction_basis": resource.restriction_basis,
        "status": resource.status,
        "tags": [t.name for t in resource.tags.all()],
        "update_frequency": resource.update_frequency,
        "category": _category(resource),
        "data_grade": _grade(resource),
        "project": _project(resource),
        "version": resource.version,
        "created_at": resource.created_at,
        "updated_at": resource.updated_at,
        "published_at": resource.published_at,
        "link_url": resource.link_url,
        "dataset_fields": resource.dataset_fields or [],
        "related": sorted(r.code for r in resource.related.all() if r.pk in related_ids),
        "can_read": readable,
        "body": resource.body if show_body else None,
        "body_html": render_markdown(resource.body) if show_body else None,
    }


def _serialize_many(actor, resources: list[Resource], *, with_body: bool) -> list[dict]:
    """Serialize a page; when bodies are returned, record one read event for the closed ones."""
    queries.with_dataset_fields(resources)
    readable = queries.readable_ids(actor, resources)
    related_ids = queries.related_visible_ids(actor, resources)
    if with_body:
        services.note_content_read(actor, [r for r in resources if r.pk in readable], via=READ_VIA)
    return [_resource(r, readable=r.pk in readable, with_body=with_body, related_ids=related_ids) for r in resources]


def _serialize_one(actor, ident) -> dict:
    """Fetch again through the policy (with everything prefetched) and serialize with the body."""
    resource = _access(actor, ident)
    return _serialize_many(actor, [resource], with_body=True)[0]


def _access(actor, ident: str, action: Action = Action.VIEW) -> Resource:
    return queries.access_resource(actor, ident, action)


# --- the cursor: (-updated_at, -id) keyset, opaque to clients


def _encode_cursor(resource: Resource) -> str:
    raw = f"{resource.updated_at.isoformat()}|{resource.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> Q:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, pk = raw.rsplit("|", 1)
        updated_at, pk = datetime.fromisoformat(stamp).astimezone(UTC), int(pk)
        if not 0 < pk <= MAX_DB_INT:
            raise ValueError(pk)
    except (ValueError, OverflowError, UnicodeDecodeError, binascii.Error):
        raise Invalid(fields={"cursor": _("This cursor is not one the API gave out.")}) from None
    return Q(updated_at__lt=updated_at) | Q(updated_at=updated_at, pk__lt=pk)


def _filters(params: ResourceFilterIn) -> queries.ResourceFilters:
    return queries.ResourceFilters(
        department=params.department,
        kind=params.kind,
        tag=params.tag,
        sharing_type=params.sharing_type,
        status=params.status,
        category=params.category,
        updated_since=params.updated_since,
        text=params.q,
    )


# --- resource routes


@router.get("/resources", response=ResourcePage, summary="Resources the caller may see, newest change first")
def list_resources(
    request,
    params: Query[ResourceFilterIn],
    cursor: str | None = Query(None, description="`next_cursor` of the previous page"),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    include_body: bool = Query(False, description="Return bodies the caller may read (each such request is audited)"),
):
    resources = queries.list_resources(request.user, _filters(params))
    if cursor:
        resources = resources.filter(_decode_cursor(cursor))
    page = list(resources[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return {
        "items": _serialize_many(request.user, page, with_body=include_body),
        "next_cursor": _encode_cursor(page[-1]) if more else None,
    }


def _related_to_ids(actor, values: list) -> list:
    """`related` accepts ids or codes; codes the caller may not see are reported like missing ones."""
    values = [parse_id(v) or v if isinstance(v, str) else v for v in values]
    codes = [v for v in values if isinstance(v, str)]
    if not codes:
        return values
    known = dict(queries.list_resources(actor).filter(code__in=codes).values_list("code", "pk"))
    missing = [c for c in codes if c not in known]
    if missing:
        raise Invalid(fields={"related": _("No such resources: %(codes)s.") % {"codes": ", ".join(missing)}})
    return [known.get(v, v) if isinstance(v, str) else v for v in values]


def _changes(actor, payload, *, drop: tuple[str, ...]) -> dict:
    changes = payload.model_dump(mode="json", exclude_unset=True)
    for name in drop:
        changes.pop(name, None)
    if changes.get("related"):
        changes["related"] = _related_to_ids(actor, changes["related"])
    return changes


@router.post("/resources", response={201: ResourceOut}, summary="Create a resource (a draft unless `publish`)")
def create_resource(request, payload: ResourceCreateIn):
    fields = _changes(request.user, payload, drop=("owner_department", "kind", "publish", "submit_for_review"))
    resource = services.create_resource(
        request.user,
        owner_department=payload.owner_department,
        kind=payload.kind.value,
        publish=payload.publish,
        submit_for_review=payload.submit_for_review and not payload.publish,
        **fields,
    )
    return Status(201, _serialize_one(request.user, resource.pk))


@router.get("/resources/{ident}", response=ResourceOut, summary="One resource by id or code")
def get_resource(request, ident: str):
    resource = _access(request.user, ident)
    return _serialize_many(request.user, [resource], with_body=True)[0]


@router.patch("/resources/{ident}", response=ResourceOut, summary="Edit content, and sharing if you manage it")
def update_resource(request, ident: str, payload: ResourcePatchIn):
    resource = _access(request.user, ident, Action.EDIT)
    changes = _changes(request.user, payload, drop=("note",))
    services.update_resource(request.user, resource, changes, note=payload.note)
    return _serialize_one(request.user, resource.pk)


def _transition(request, ident: str, verb: str) -> dict:
    resource = _access(request.user, ident, Action.MANAGE)
    services.transition(request.user, resource, verb)
    return _serialize_one(request.user, resource.pk)


@router.post("/resources/{ident}/publish", response=ResourceOut, summary="Publish a draft")
def publish_resource(request, ident: str):
    return _transition(request, ident, "publish")


@router.post("/resources/{ident}/archive", response=ResourceOut, summary="Archive (resources are never deleted)")
def archive_resource(request, ident: str):
    return _transition(request, ident, "archive")


@router.post("/resources/{ident}/restore", response=ResourceOut, summary="Restore an archived resource")
def restore_resource(request, ident: str):
    return _transition(request, ident, "restore")


# --- review of drafts


def _review(review: DraftReview) -> dict:
    resource = review.resource
    return {
        "id": review.pk,
        "resource": {
            "id": resource.pk,
            "code": resource.code,
            "title": resource.title,
            "owner_department": department_ref(resource.owner_department),
        },
        "outcome": review.outcome,
        "submitted_by": person_ref(review.submitted_by),
        "submitted_at": review.submitted_at,
        "note": review.note,
        "decided_by": person_ref(review.decided_by),
        "decided_at": review.decided_at,
        "reason": review.reason,
    }


@router.get("/reviews", response=ReviewPage, summary="Drafts awaiting your review, oldest first")
def list_reviews(
    request,
    department: int | None = Query(None, ge=1, le=MAX_DB_INT, description="Only this owner department"),
    cursor: str | None = Query(None, description="`next_cursor` of the previous page"),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
):
    reviews = queries.review_queue(request.user, department)
    if cursor:
        reviews = reviews.filter(_decode_review_cursor(cursor))
    page = list(reviews.select_related("decided_by")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return {"items": [_review(r) for r in page], "next_cursor": _encode_review_cursor(page[-1]) if more else None}


def _encode_review_cursor(review: DraftReview) -> str:
    raw = f"{review.submitted_at.isoformat()}|{review.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_review_cursor(cursor: str) -> Q:
    """Reviews after this one in (submitted_at, id) order."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, pk = raw.rsplit("|", 1)
        submitted_at, pk = datetime.fromisoformat(stamp).astimezone(UTC), int(pk)
        if not 0 < pk <= MAX_DB_INT:
            raise ValueError(pk)
    except (ValueError, OverflowError, UnicodeDecodeError, binascii.Error):
        raise Invalid(fields={"cursor": _("This cursor is not one the API gave out.")}) from None
    return Q(submitted_at__gt=submitted_at) | Q(submitted_at=submitted_at, pk__gt=pk)


@router.post(
    "/resources/{ident}/review",
    response={201: ReviewOut},
    summary="Submit a draft for review (members of the owner department); its stewards and heads are told",
)
def submit_review(request, ident: str, payload: ReviewSubmitIn):
    resource = _access(request.user, ident, Action.EDIT)
    review = services.submit_for_review(request.user, resource, payload.note)
    return Status(201, _review(review))


@router.post(
    "/resources/{ident}/review/publish",
    response=ResourceOut,
    summary="Publish a draft awaiting review (stewards and heads); the submitter is told",
)
def publish_review(request, ident: str):
    resource = _access(request.user, ident, Action.REVIEW)
    services.publish_reviewed(request.user, resource)
    return _serialize_one(request.user, resource.pk)


@router.post(
    "/resources/{ident}/review/return",
    response=ReviewOut,
    summary="Send a draft awaiting review back with a reason (stewards and heads); the submitter is told",
)
def return_review(request, ident: str, payload: ReviewReturnIn):
    resource = _access(request.user, ident, Action.REVIEW)
    review = services.return_draft(request.user, resource, payload.reason)
    return _review(review)


# --- versions


def _version(version: ResourceVersion) -> dict:
    return {
        "number": version.number,
        "author": person_ref(version.author),
        "created_at": version.created_at,
        "note": version.note,
    }


def _version_or_404(resource: Resource, number: int) -> ResourceVersion:
    version = queries.versions_of(resource).filter(number=number).first()
    if version is None:
        raise NotFound(_("This resource has no version %(n)s.") % {"n": number})
    return version


@router.get("/resources/{ident}/versions", response=list[VersionOut], summary="The versions, newest first")
def list_versions(request, ident: str):
    resource = _access(request.user, ident, Action.READ)
    return [_version(v) for v in queries.versions_of(resource)]


@router.get("/resources/{ident}/versions/{number}", response=VersionDetail, summary="One version's snapshot")
def get_version(request, ident: str, number: DbId):
    resource = _access(request.user, ident, Action.READ)
    version = _version_or_404(resource, number)
    (snapshot,) = queries.shown_snapshots(request.user, [version])
    services.note_content_read(request.user, [resource], via=READ_VIA)
    return {**_version(version), "snapshot": snapshot}


@router.get("/resources/{ident}/diff", response=DiffOut, by_alias=True, summary="What changed between two versions")
def diff_versions(
    request,
    ident: str,
    from_version: int = Query(..., alias="from", ge=1, le=MAX_DB_INT),
    to_version: int = Query(..., alias="to", ge=1, le=MAX_DB_INT),
):
    resource = _access(request.user, ident, Action.READ)
    old = _version_or_404(resource, from_version)
    new = _version_or_404(resource, to_version)
    changes = diff_snapshots(*queries.shown_snapshots(request.user, [old, new]))
    services.note_content_read(request.user, [resource], via=READ_VIA)
    for change in changes:
        change["lines"] = [{"kind": kind, "text": text} for kind, text in change["lines"]]
    return {"from": from_version, "to": to_version, "changes": changes}


# --- attachments


def _attachment(resource: Resource, attachment: Attachment) -> dict:
    return {
        "id": attachment.pk,
        "filename": attachment.filename,
        "size": attachment.blob.size,
        "mime_type": attachment.blob.mime_type,
        "sha256": attachment.blob.sha256,
        "uploaded_by": person_ref(attachment.uploaded_by),
        "created_at": attachment.created_at,
        "download_url": reverse("api:download_attachment", args=[resource.code, attachment.pk]),
        "text_status": attachment.blob.text_status,
        "text_reason": attachment.blob.text_reason,
        "text_note": attachment.blob.text_note(),
    }


@router.get("/resources/{ident}/attachments", response=list[AttachmentOut], summary="Attached files")
def list_attachments(request, ident: str):
    resource = _access(request.user, ident, Action.READ)
    return [_attachment(resource, a) for a in queries.attachments_of(resource)]


@router.post(
    "/resources/{ident}/attachments",
    response={201: AttachmentOut},
    summary="Upload a file (multipart field `file`)",
)
def upload_attachment(request, ident: str, file: File[UploadedFile]):
    resource = _access(request.user, ident, Action.EDIT)
    attachment = services.add_attachment(request.user, resource, file.name, file.chunks())
    return Status(201, _attachment(resource, attachment))


@router.get(
    "/resources/{ident}/attachments/{attachment_id}",
    url_name="download_attachment",
    summary="Download a file",
    response={200: None},
)
def download_attachment(request, ident: str, attachment_id: DbId):
    resource, attachment = queries.access_attachment(request.user, ident, attachment_id)
    response = files.download(attachment.blob.sha256, attachment.filename, attachment.blob.mime_type)
    services.note_content_read(request.user, [resource], via=READ_VIA)
    return response


@router.delete(
    "/resources/{ident}/attachments/{attachment_id}", response={204: None}, summary="Remove a file from the resource"
)
def delete_attachment(request, ident: str, attachment_id: DbId):
    _resource_obj, attachment = queries.access_attachment(request.user, ident, attachment_id)
    services.remove_attachment(request.user, attachment)
    return Status(204, None)


# --- explain


def _contact(user) -> dict:
    return {**person_ref(user), "email": user.email}


@router.get("/resources/{ident}/explain", response=ExplainOut, summary="What the caller may do here, and why")
def explain_resource(request, ident: str):
    resource = _access(request.user, ident)
    decisions = {action.value: asdict(can(request.user, action, resource)) for action in Action}
    managers = (
        Membership.objects.filter(
            department_id=resource.owner_department_id,
            role__in=[Membership.Role.STEWARD, Membership.Role.HEAD],
            user__is_active=True,
        )
        .select_related("user")
        .order_by("user__username")
    )
    return {
        "resource": resource.code,
        "decisions": decisions,
        "steward": _contact(resource.steward) if resource.steward else None,
        "owner_department": department_ref(resource.owner_department),
        "department_contacts": [_contact(m.user) for m in managers],
    }
