"""Request and response shapes of the access-process API (requests, decisions, grants, the working-day
calendar).

Text fields default to empty so that the services' own checks answer a missing value, in the
caller's language and naming the field.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from enum import StrEnum
from typing import Literal

from ninja import Field, Schema

from sharehub.access.models import AccessRequest, RequestNote
from sharehub.org.schemas import BodyId, BodyInt, DbId, DepartmentRef, PersonRef, StrictSchema

MAX_BULK = 200


class ResourceRef(Schema):
    id: int | None = Field(description="Null when `hidden`")
    code: str | None = Field(description="Null when `hidden`")
    title: str | None = Field(description="Null when `hidden`")
    hidden: bool = Field(
        description="You may no longer see the resource (it turned restricted, left your departments' scope or was "
        "withdrawn): its id, code, title and the request's or grant's dataset fields are left out"
    )


class GranteeOut(Schema):
    person: PersonRef | None = Field(description="The person holding the grant, or null for a department grant")
    department: DepartmentRef | None = Field(description="The department holding the grant, or null")


class RequestGrantOut(Schema):
    id: int
    valid_from: datetime
    valid_until: datetime
    fields: list[str]
    grantee: GranteeOut


class NoteFileOut(Schema):
    id: int
    filename: str
    size: int
    mime_type: str
    url: str = Field(description="Download it here (the request's requester and deciders only)")


def _named(name: str, choices) -> type[StrEnum]:
    """The model's choices under a name of their own: the OpenAPI document keeps one schema per name,
    and `Status` and `Kind` are the catalog's."""
    return StrEnum(name, [(choice.name, choice.value) for choice in choices])


RequestStatus = _named("RequestStatus", AccessRequest.Status)
NoteKind = _named("NoteKind", RequestNote.Kind)


class NoteOut(Schema):
    kind: NoteKind
    author: PersonRef | None
    text: str
    created_at: datetime
    attachments: list[NoteFileOut] = Field(description="Files the requester added to this step")


class RequestOut(Schema):
    id: int
    resource: ResourceRef
    requester: PersonRef
    for_department: DepartmentRef | None = Field(description="Asked for this whole department; null: the requester")
    purpose: str
    use_category: AccessRequest.UseCategory
    period_days: int = Field(description="Days to grant (the days asked, or fewer after a first-step approval)")
    fields: list[str] = Field(description="Dataset fields to grant (narrowed by a first-step approval)")
    asked_period_days: int = Field(description="Days the requester asked for")
    asked_fields: list[str] = Field(description="Dataset fields the requester asked for")
    status: RequestStatus
    needs_head: bool = Field(description="The owner department's head decides after the steward")
    deadline_at: datetime = Field(description="Decision deadline (working days; moved by time spent waiting)")
    paused_at: datetime | None = Field(description="Since when the clock waits for the requester's answer")
    created_at: datetime
    decided_at: datetime | None
    decided_by: PersonRef | None
    decision_reason: str
    grant: RequestGrantOut | None = Field(description="The grant an approval created")


class RequestDetail(RequestOut):
    notes: list[NoteOut] = Field(description="The request's history, oldest first")


class RequestPage(Schema):
    items: list[RequestOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null on the last page.")


class HandledOut(Schema):
    decision: Literal["first_approval", "approved", "rejected"] = Field(
        description="first_approval: approved by the steward and sent on to the head"
    )
    decided_at: datetime
    note: str = Field(description="The note or reason given with the decision")
    request: RequestOut


class HandledPage(Schema):
    items: list[HandledOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null on the last page.")


# A request's status, or "open" for any undecided one.
StatusFilter = StrEnum("StatusFilter", [("OPEN", "open"), *((s.name, s.value) for s in AccessRequest.Status)])


class RequestFilterIn(Schema):
    status: StatusFilter | None = Field(None, description="A status, or `open` for any undecided one")
    resource: DbId | None = Field(None, description="Only requests for this resource id")
    overdue: bool = Field(False, description="Only undecided requests past their deadline")


class RequestIn(StrictSchema):
    purpose: str = Field("", description="What the content is for (required)")
    use_category: AccessRequest.UseCategory | None = Field(None, description="Intended use (required)")
    period_days: BodyInt | None = Field(None, description="Days wanted, up to the resource's longest grant (required)")
    accept_terms: bool = Field(False, description="Must be true: the resource's terms of use are accepted")
    for_department: BodyId | None = Field(None, description="Ask for this department (one you belong to)")
    fields: list[str] | None = Field(None, description="Dataset fields wanted (datasets only)")


class ApproveIn(StrictSchema):
    period_days: BodyInt | None = Field(None, description="A shorter period than asked for")
    fields: list[str] | None = Field(None, description="Fewer fields than asked for")
    requester_only: bool = Field(False, description="Grant the requester only, not their department")
    note: str = Field("", description="Shown to the requester")


class RejectIn(StrictSchema):
    reason: str = Field("", description="Why (required; shown to the requester)")


class AskIn(StrictSchema):
    question: str = Field("", description="What the requester must add (required); the clock pauses")


class AnswerIn(StrictSchema):
    answer: str = Field("", description="The requester's answer (required); the clock restarts")


class BulkIn(StrictSchema):
    ids: list[BodyId] = Field(min_length=1, max_length=MAX_BULK, description="Request ids")
    action: Literal["approve", "reject"]
    reason: str = Field("", description="One reason for all (required to reject)")


class BulkOut(Schema):
    decided: list[int] = Field(description="Ids decided (or sent on to the head)")
    failed: dict[str, str] = Field(description="Id -> why it was not decided")


class GrantOut(Schema):
    id: int
    resource: ResourceRef
    grantee_user: PersonRef | None
    grantee_department: DepartmentRef | None
    purpose: str
    fields: list[str]
    valid_from: datetime
    valid_until: datetime
    revoked_at: datetime | None
    revoke_reason: str
    state: Literal["active", "revoked", "expired", "future"]
    request: int | None = Field(description="The request whose approval created the grant")


class GrantPage(Schema):
    items: list[GrantOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null on the last page.")


class RevokeIn(StrictSchema):
    reason: str = Field("", description="Why (required; shown to the grantees)")


# --- the working-day calendar


class CalendarDayOut(Schema):
    date: dt.date
    is_working_day: bool = Field(description="true: worked (a weekend day worked in lieu, 调休); false: a day off")
    name: str = Field(
        description="As stored: an official day's English holiday name from chinesecalendar "
        "(`Spring Festival`), or the name an admin gave a local day"
    )
    label: str = Field(description="The name to show, in the caller's language (春节 in Chinese)")
    source: Literal["official", "local"] = Field(
        description="`official`: the State Council's arrangement; `local`: the organization's own day"
    )
    in_force: bool = Field(description="false for an official day that a local day of the same date replaces")


class CalendarYearOut(Schema):
    year: int
    official_published: bool = Field(
        description="Whether the installed chinesecalendar has this year's official arrangement"
    )
    official_days: int = Field(description="Official days of the year in the calendar (0: not loaded)")
    package: str = Field(description="The installed package the official days come from, with its version")
    days: list[CalendarDayOut] = Field(description="The year's exceptions to the Monday-to-Friday week, by date")


class LocalDayIn(StrictSchema):
    date: str = Field("", description="YYYY-MM-DD, from 1900 to 2100 (required; one local day per date)")
    is_working_day: bool | None = Field(None, description="true: a working day; false: a day off (required)")
    name: str = Field("", description="What the day is, at most 100 characters (required)")


class CalendarLoadOut(Schema):
    year: int
    added: int
    changed: int
    removed: int = Field(description="Official days the package no longer has")
    kept: int = Field(description="Official days already as the package has them")
    local_days: int = Field(description="The year's local days, left as they are")
    package: str
