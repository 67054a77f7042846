"""Request and response shapes of the organization API."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from django.utils.translation import gettext_lazy as _
from ninja import Field, Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict

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
