"""Builders for test data, going through the services so events and versions are real."""

from __future__ import annotations

import itertools

from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.org import services as org
from sharehub.org.models import Department, Membership, User

_counter = itertools.count(1)
PASSWORD = "correct-horse-battery-9"


def department(name: str | None = None, code: str | None = None, parent: Department | None = None) -> Department:
    n = next(_counter)
    return org.create_department(None, name=name or f"部门{n}", code=code or f"D{n}", parent=parent)


def person(
    username: str | None = None,
    *,
    departments: dict[Department, str] | None = None,
    admin: bool = False,
    auditor: bool = False,
    password: str = PASSWORD,
) -> User:
    user = org.create_person(
        None,
        username=username or f"user{next(_counter)}",
        password=password,
        display_name=username or "",
        is_org_admin=admin,
        is_auditor=auditor,
        check_password=False,
    )
    for dept, role in (departments or {}).items():
        org.set_membership(None, user, dept, role)
    return user


def member(dept: Department, role: str = Membership.Role.MEMBER, **kwargs) -> User:
    return person(departments={dept: role}, **kwargs)


def resource(
    owner: Department,
    *,
    by: User | None = None,
    kind: str = Resource.Kind.DOCUMENT,
    sharing_type: str = Resource.SharingType.OPEN,
    publish: bool = True,
    scope: list[Department] | None = None,
    **fields,
) -> Resource:
    """A resource created by a steward of `owner` (made on the fly when `by` is not given)."""
    author = by or member(owner, Membership.Role.STEWARD)
    fields.setdefault("title", f"资源 {next(_counter)}")
    fields.setdefault("body", "正文 body text")
    if sharing_type == Resource.SharingType.CONDITIONAL:
        fields.setdefault("conditions", "仅用于业务核验")
    if sharing_type == Resource.SharingType.RESTRICTED:
        fields.setdefault("restriction_basis", "《数据安全法》第二十一条")
    if scope is not None:
        fields["scope_all"] = False
        fields["scope_departments"] = scope
    if kind == Resource.Kind.LINK:
        fields.setdefault("link_url", "https://erp.example.org/")
    if kind == Resource.Kind.PROGRESS and "project" not in fields:
        from sharehub.catalog.models import Project

        fields["project"] = Project.objects.get_or_create(department=owner, name="项目")[0]
    return catalog.create_resource(
        author, owner_department=owner, kind=kind, publish=publish, sharing_type=sharing_type, **fields
    )
