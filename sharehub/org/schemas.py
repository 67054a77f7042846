"""Request and response shapes of the organization API."""

from __future__ import annotations

from ninja import Field, Schema
from pydantic import ConfigDict

from sharehub.org.models import Membership


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
    department: int
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
    parent: int | None = None
    description: str = ""
