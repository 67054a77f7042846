"""Request and response shapes of the catalog API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import BaseModel, ConfigDict

from sharehub.catalog.models import DraftReview, Resource
from sharehub.org.schemas import BodyId, DbId, DepartmentRef, PersonRef, StrictSchema, UtcDateTime


class NamedRef(BaseModel):
    id: int
    name: str


class GradeRef(NamedRef):
    level: int


class ScopeOut(BaseModel):
    all: bool = Field(description="Shared with the whole organization")
    departments: list[DepartmentRef] = Field(description="Chosen departments (with their sub-departments)")


class ResourceOut(BaseModel):
    id: int
    code: str
    title: str
    summary: str
    kind: Resource.Kind
    owner_department: DepartmentRef
    steward: PersonRef | None
    sharing_type: Resource.SharingType
    scope: ScopeOut
    conditions: str
    restriction_basis: str
    status: Resource.Status
    tags: list[str]
    update_frequency: Resource.Frequency
    category: NamedRef | None
    data_grade: GradeRef | None
    project: NamedRef | None
    version: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    link_url: str
    dataset_fields: list[dict[str, Any]]
    related: list[str] = Field(description="Codes of related resources")
    can_read: bool = Field(description="Whether the caller may read the content (body, attachments, versions)")
    body: str | None = Field(description="Markdown; null when the caller may not read the content")
    body_html: str | None = Field(description="The body rendered to safe HTML; null like `body`")


class ResourcePage(BaseModel):
    items: list[ResourceOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null on the last page.")


class ResourceFilterIn(Schema):
    department: DbId | None = Field(None, description="Owner department id (its sub-departments included)")
    kind: Resource.Kind | None = None
    tag: str | None = None
    sharing_type: Resource.SharingType | None = None
    status: Resource.Status | None = None
    category: DbId | None = None
    updated_since: UtcDateTime | None = None
    q: str | None = Field(None, description="Words in the title or summary, or an exact code")


class _ResourceFields(Schema):
    """Fields shared by create and edit. Ids refer to departments, people, categories, grades,
    projects; `related` takes resource ids or codes."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    summary: str | None = None
    body: str | None = None
    tags: list[str] | None = None
    update_frequency: Resource.Frequency | None = None
    category: BodyId | None = None
    data_grade: BodyId | None = None
    steward: BodyId | None = None
    project: BodyId | None = None
    link_url: str | None = None
    dataset_fields: list[dict[str, Any] | str] | None = None
    related: list[BodyId | str] | None = None
    sharing_type: Resource.SharingType | None = None
    scope_all: bool | None = None
    scope_departments: list[BodyId] | None = None
    conditions: str | None = None
    restriction_basis: str | None = None


class ResourceCreateIn(_ResourceFields):
    owner_department: BodyId
    kind: Resource.Kind
    title: str
    publish: bool = Field(False, description="Publish at once (stewards and heads of the owner department)")
    submit_for_review: bool = Field(
        False, description="Keep it a draft and submit it for review by the stewards and heads (ignored with `publish`)"
    )


class ResourcePatchIn(_ResourceFields):
    note: str = Field("", max_length=300, description="Why this edit was made; kept with the version")


class VersionOut(Schema):
    number: int
    author: PersonRef | None
    created_at: datetime
    note: str


class VersionDetail(VersionOut):
    snapshot: dict[str, Any]


class DiffLine(Schema):
    kind: str = Field(description="added, removed, same or hunk")
    text: str


class FieldChange(Schema):
    field: str
    label: str
    lines: list[DiffLine]


class DiffOut(Schema):
    from_version: int = Field(alias="from")
    to_version: int = Field(alias="to")
    changes: list[FieldChange]


class AttachmentOut(Schema):
    id: int
    filename: str
    size: int
    mime_type: str
    sha256: str
    uploaded_by: PersonRef | None
    created_at: datetime
    download_url: str
    text_status: str = Field(
        description="Whether the file's text is in search: pending, done, partial, skipped, failed or none (no text)"
    )
    text_reason: str = Field(description="Why the text is partial or missing (a code), or empty")
    text_note: str = Field(description="The same reason as a sentence in the caller's language, or empty")


class DecisionOut(Schema):
    allowed: bool
    code: str
    message: str
    next_step: str


class ContactOut(Schema):
    id: int
    username: str
    display_name: str
    email: str


class ExplainOut(Schema):
    resource: str = Field(description="The resource code")
    decisions: dict[str, DecisionOut] = Field(description="view, read, edit, manage and review, each with the reason")
    steward: ContactOut | None
    owner_department: DepartmentRef
    department_contacts: list[ContactOut] = Field(description="Stewards and heads of the owner department")


class ReviewSubmitIn(StrictSchema):
    note: str = Field("", max_length=500, description="A note to the reviewers")


class ReviewReturnIn(StrictSchema):
    reason: str = Field(..., min_length=1, max_length=2000, description="Why the draft is sent back")


class ReviewedResourceRef(Schema):
    id: int
    code: str
    title: str
    owner_department: DepartmentRef


class ReviewOut(Schema):
    id: int
    resource: ReviewedResourceRef
    outcome: DraftReview.Outcome
    submitted_by: PersonRef | None
    submitted_at: datetime
    note: str
    decided_by: PersonRef | None
    decided_at: datetime | None
    reason: str = Field(description="Why it was sent back (empty otherwise)")


class ReviewPage(Schema):
    items: list[ReviewOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null on the last page.")
