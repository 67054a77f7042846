"""Request and response shapes of the organization API."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from django.utils.translation import gettext_lazy as _
from ninja import Field, Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict, StrictBool

from sharehub.org.models import Membership
from sharehub.validation import MAX_DB_INT as MAX_DB_INT
from sharehub.validation import BodyId as BodyId
from sharehub.validation import BodyInt as BodyInt
from sharehub.validation import DbId as DbId


def _as_utc(value: datetime) -> datetime:
    """Times without a zone are UTC; times that leave the calendar in UTC are refused."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(str(_("This time is out of range."))) from None


_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}(:?\d{2})?)?)?")


def _date_time_text(value):
    """Only ISO 8601 dates and times: pydantic would also take `0.5` as seconds after 1970."""
    if isinstance(value, str) and not _DATE_TIME.fullmatch(value.strip()):
        raise ValueError(str(_("Must be a date or time like 2026-01-31T08:00:00+08:00.")))
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(str(_("Must be a date or time like 2026-01-31T08:00:00+08:00.")))
    return value


UtcDateTime = Annotated[datetime, BeforeValidator(_date_time_text), AfterValidator(_as_utc)]


class StrictSchema(Schema):
    """Input that names unknown fields instead of silently dropping them."""

    model_config = ConfigDict(extra="forbid")


class DepartmentRef(Schema):
    id: int
    name: str
    code: str


class PersonRef(Schema):
    id: int
    username: str
    display_name: str


class MembershipOut(Schema):
    department: DepartmentRef
    role: Membership.Role


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    kind: str
    is_org_admin: bool
    is_auditor: bool
    memberships: list[MembershipOut]


class PersonOut(Schema):
    id: int
    username: str
    display_name: str
    kind: str
    memberships: list[MembershipOut]


class PersonPage(Schema):
    items: list[PersonOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null on the last page.")


class PersonIn(StrictSchema):
    username: str
    password: str | None = None
    display_name: str = ""
    email: str = ""
    is_org_admin: bool = False
    is_auditor: bool = False


class MembershipIn(StrictSchema):
    department: BodyId
    role: Membership.Role = Membership.Role.MEMBER


class DepartmentOut(Schema):
    id: int
    name: str
    code: str
    parent: int | None = Field(None, description="Id of the parent department; null for a top-level one.")
    path: str = Field(description="Ids from the root, e.g. /1/4/")
    depth: int


class DepartmentDetail(DepartmentOut):
    description: str
    members_count: int
    stewards: list[PersonRef] = Field(description="Stewards and heads of the department.")


class DepartmentIn(StrictSchema):
    name: str
    code: str
    parent: BodyId | None = None
    description: str = ""


# --- the organization console through the API (issue 14): the department tree and people ---------------------


class DepartmentTreeOut(DepartmentOut):
    archived: bool = Field(False, description="Archived: it takes no new members, sub-departments or resources.")
    merged_into: int | None = Field(None, description="Id of the department it was merged into; null if never merged.")


class ManagedDepartmentOut(DepartmentTreeOut):
    description: str
    archived_at: datetime | None = None


class DepartmentPatch(StrictSchema):
    name: str | None = None
    code: str | None = None
    description: str | None = None
    parent: BodyId | None = Field(
        None, description="Move it under this department; null moves it to the top level. Leave out to keep its place."
    )


class HoldingOut(Schema):
    name: str = Field(description="The kind: sub_departments, members, service_accounts, resources, ...")
    label: str
    count: int
    examples: list[str] = Field(description="A few of them, named.")
    more: int = Field(description="How many more than the examples there are.")
    on_merge: str = Field("", description="What a merge does with them, when it is not plainly moving them.")


class RoleConflictOut(Schema):
    person: PersonRef
    source_role: Membership.Role
    target_role: Membership.Role
    kept_role: Membership.Role


class MergePreviewOut(Schema):
    department: DepartmentRef
    into: DepartmentRef | None = Field(description="Null when there is no such department.")
    allowed: bool = Field(description="Whether the merge may go ahead; if not, `refused` says why.")
    refused: dict[str, str] = Field(description="Field -> why the merge would be refused (422), as the merge says it.")
    items: list[HoldingOut] = Field(description="Every kind of holding, with how many would move along.")
    role_conflicts: list[RoleConflictOut] = Field(description="People in both departments (the first ten).")
    role_conflict_count: int
    total: int
    expected: str = Field(
        description="Send as `expected` with the merge: it is refused (409) if what would move has changed since."
    )


class MergeIn(StrictSchema):
    into: BodyId
    expected: str = Field(
        "", max_length=64, description="The preview's `expected`; empty merges without checking what changed."
    )


class MergeOut(Schema):
    department: ManagedDepartmentOut
    into: DepartmentRef
    moved: dict[str, int] = Field(description="How many of each kind of holding moved along.")


class ArchiveCheckOut(Schema):
    department: DepartmentRef
    allowed: bool
    blockers: list[HoldingOut] = Field(description="What keeps it from being archived (merge it instead).")
    kept: list[HoldingOut] = Field(description="What it keeps for the record when archived.")


class ManagedPersonOut(PersonOut):
    email: str
    language: str = Field(description='The language they are written to in; "" for the site\'s default.')
    is_active: bool
    is_org_admin: bool
    is_auditor: bool
    last_login: datetime | None = None


class PersonPatch(StrictSchema):
    display_name: str | None = None
    email: str | None = Field(None, max_length=254)
    language: str | None = Field(None, description='"" for the site\'s default, or a language offered: en, zh-hans.')


class OrgRolesIn(StrictSchema):
    is_org_admin: StrictBool
    is_auditor: StrictBool


BulkActionName = Literal["add", "set_role", "remove", "make_auditor", "unmake_auditor", "deactivate", "reactivate"]


class PeopleBulkIn(StrictSchema):
    ids: list[BodyId] = Field(min_length=1, max_length=200, description="The people to change (at most 200).")
    action: BulkActionName
    department: BodyId | None = Field(None, description="For add, set_role and remove.")
    role: Membership.Role | None = Field(None, description="For add and set_role.")


class PeopleBulkOut(Schema):
    action: str
    count: int


class HandoverItemOut(Schema):
    label: str
    key: int | None = Field(None, description="The department or resource id a successor is chosen for.")
    department_id: int | None = None
    detail: str
    url: str


class HandoverPartOut(Schema):
    key: str = Field(description="departments, resources, tokens, ...")
    title: str
    outcome: str = Field(description="What the handover does to them.")
    needs_successor: bool
    count: int
    more: int
    items: list[HandoverItemOut]


class SuccessorChoicesOut(Schema):
    department_id: int
    people: list[PersonRef]


class HandoverOut(Schema):
    person: PersonRef
    is_active: bool
    needs_successor: bool
    refusal: str = Field(description="Why the caller may not deactivate them (themselves, the last admin), or empty.")
    parts: list[HandoverPartOut]
    successors: list[SuccessorChoicesOut] = Field(description="Who may take over, per department involved.")


class DeactivateIn(StrictSchema):
    successor: BodyId | None = Field(None, description="Takes over everything no one else is chosen for.")
    departments: dict[int, BodyId] = Field(default_factory=dict, description="Department id -> who takes over there.")
    resources: dict[int, BodyId] = Field(default_factory=dict, description="Resource id -> who stewards it.")
    reason: str = Field("", max_length=500)


class DeactivateOut(Schema):
    person: ManagedPersonOut
    counts: dict[str, int] = Field(description="What the handover did, per kind.")


# --- the organization console through the API (issue 14): people imports, service accounts, sign-ins, settings


class PeopleImportCounts(Schema):
    error: int = Field(description="Rows with errors (skipped when applied)")
    create: int = Field(description="New people")
    update: int = Field(description="People who change")
    unchanged: int


class PeopleImportOut(Schema):
    id: int
    file_name: str
    status: str = Field(description="preview, applying, applied, failed or discarded")
    created_at: datetime
    created_by: PersonRef
    applied_at: datetime | None = None
    rows: int = Field(description="People read from the file")
    counts: PeopleImportCounts
    columns: list[str] = Field(description="The columns recognised in the file")
    ignored: list[str] = Field(description="Headings not recognised, as written")
    reason: str = Field("", description="Why nothing was imported, when the import failed")


class PeopleImportPage(Schema):
    items: list[PeopleImportOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null on the last page.")


class PeopleImportRowOut(Schema):
    line: int = Field(description="The line as the spreadsheet numbers it")
    action: str = Field(description="error, create, update or unchanged (after applying: what was done)")
    values: dict[str, str] = Field(description="Column -> the text of the cell")
    changes: list[str] = Field(description="The columns that change an existing person")
    errors: dict[str, str] = Field(description="Column -> why the row cannot be imported, in the caller's language")
    departments: list[str]


class PeopleImportDetail(PeopleImportOut):
    items: list[PeopleImportRowOut] = Field(description="Rows, errors first then by line")
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next rows; null on the last page.")


class ServiceAccountOut(Schema):
    id: int
    username: str
    display_name: str
    is_active: bool
    department: DepartmentRef | None = Field(None, description="The owning department")
    active_tokens: int = Field(description="Tokens neither revoked nor ended")
    last_token_use: datetime | None = None


class ServiceAccountPage(Schema):
    items: list[ServiceAccountOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null on the last page.")


class ServiceAccountIn(StrictSchema):
    username: str
    display_name: str = ""
    department: BodyId = Field(description="The owning department (not archived)")


class ServiceAccountPatch(StrictSchema):
    display_name: str | None = None
    department: BodyId | None = Field(None, description="Another owning department (not archived)")
    is_active: bool | None = Field(None, strict=True, description="false: its tokens are refused from now on")


class ServiceTokenIn(StrictSchema):
    name: str
    scopes: list[str] = Field(["read"], description="read, write, or <area>:read / <area>:write")
    days: BodyInt | None = Field(None, description="How long it lasts; the site's default when left out")


class ServiceTokenOut(Schema):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    state: str = Field(description="active, expired or revoked")
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class ServiceTokenCreated(ServiceTokenOut):
    secret: str = Field(description="The token; shown in this answer only")


class ServiceTokenPage(Schema):
    items: list[ServiceTokenOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null on the last page.")


class SignInPersonOut(Schema):
    username: str
    display_name: str
    departments: list[str]


class SignInAttemptOut(Schema):
    id: int
    username: str | None = None
    ip_address: str | None = None
    user_agent: str
    failures: int = Field(description="Failed sign-ins counted for this username, address and browser")
    attempt_time: datetime = Field(description="The latest failure")
    locked: bool = Field(description="Signing in is paused now for the username or the address")
    until: datetime | None = Field(None, description="When the pause ends by itself")
    person: SignInPersonOut | None = Field(None, description="The person the username names, if any")


class SignInAttemptPage(Schema):
    items: list[SignInAttemptOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null on the last page.")
    failure_limit: int = Field(description="Failures that pause signing in")
    cool_off_minutes: int = Field(description="How long a pause lasts")


class SignInUnlockIn(StrictSchema):
    username: str


class SignInUnlockOut(Schema):
    username: str
    cleared: int = Field(description="Attempt records cleared; 0 when none were counted any more")


class AccessSettingsOut(Schema):
    decision_working_days: int = Field(description="Working days stewards have to decide a request")
    reminder_working_days: int = Field(description="Remind the stewards this many working days before")
    expiry_notice_days: int = Field(description="Tell grantees this many days before a grant ends")
    limits: dict[str, list[int]] = Field(description="Setting -> [lowest, highest]")


class AccessSettingsIn(StrictSchema):
    decision_working_days: BodyInt
    reminder_working_days: BodyInt
    expiry_notice_days: BodyInt


class ApprovalRuleOut(Schema):
    department: DepartmentRef
    head_for_outsiders: bool = Field(description="Its head also decides requests from other departments")
    trusted_departments: list[DepartmentRef] = Field(description="Departments whose requests need no second step")


class ApprovalRulePage(Schema):
    items: list[ApprovalRuleOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null on the last page.")


class ApprovalRuleIn(StrictSchema):
    head_for_outsiders: bool = Field(strict=True)
    trusted_departments: list[BodyId] = Field([], description="Ids of departments that need no second step")
