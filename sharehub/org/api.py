"""Organization API: the caller, departments, people and memberships."""

from __future__ import annotations

from typing import Literal

from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from sharehub.errors import Conflict, Forbidden, Invalid, NotFound
from sharehub.org import handover, queries, services, tree
from sharehub.org.models import Department, Membership, User
from sharehub.org.schemas import (
    MAX_DB_INT,
    ArchiveCheckOut,
    DbId,
    DeactivateIn,
    DeactivateOut,
    DepartmentDetail,
    DepartmentIn,
    DepartmentOut,
    DepartmentPatch,
    DepartmentTreeOut,
    HandoverOut,
    ManagedDepartmentOut,
    ManagedPersonOut,
    MembershipIn,
    MembershipOut,
    MeOut,
    MergeIn,
    MergeOut,
    MergePreviewOut,
    OrgRolesIn,
    PeopleBulkIn,
    PeopleBulkOut,
    PersonIn,
    PersonOut,
    PersonPage,
    PersonPatch,
)
from sharehub.policy.engine import OrgAction, can, context_for, visible_departments

router = Router(tags=["organization"])

MAX_PAGE = 200
MANAGER_ROLES = (Membership.Role.STEWARD, Membership.Role.HEAD)


# --- lookups (the organization is public to signed-in people; writes are checked by the services)


def _people(actor):
    if not context_for(actor).authenticated:
        return User.objects.none()
    memberships = Prefetch("memberships", queryset=Membership.objects.select_related("department"))
    return User.objects.filter(is_active=True).prefetch_related(memberships)


def _person_or_404(actor, person_id: int) -> User:
    person = _people(actor).filter(pk=person_id).first()
    if person is None:
        raise NotFound()
    return person


def _department_or_404(actor, department_id: int) -> Department:
    department = visible_departments(actor).filter(pk=department_id).first()
    if department is None:
        raise NotFound()
    return department


def _department_field(actor, department_id: int | None, field: str) -> Department | None:
    """A department named in a request body: unknown ids are a 422 on that field, not a 404."""
    if department_id is None:
        return None
    department = visible_departments(actor).filter(pk=department_id).first()
    if department is None:
        raise Invalid(fields={field: _("No such department: %(value)s.") % {"value": department_id}})
    return department


# --- serializers


def department_ref(department: Department) -> dict:
    return {"id": department.pk, "name": department.name, "code": department.code}


def person_ref(user: User | None) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "display_name": user.display_name or user.username}


def _memberships(user: User) -> list[dict]:
    return [{"department": department_ref(m.department), "role": m.role} for m in user.memberships.all()]


def _person(user: User) -> dict:
    return {**person_ref(user), "kind": user.kind, "memberships": _memberships(user)}


def _department(department: Department) -> dict:
    return {
        **department_ref(department),
        "parent": department.parent_id,
        "path": department.path,
        "depth": department.depth,
    }


def _tree_department(department: Department) -> dict:
    return {
        **_department(department),
        "archived": department.archived_at is not None,
        "merged_into": department.merged_into_id,
    }


def _managed_department(department: Department) -> dict:
    return {
        **_tree_department(department),
        "description": department.description,
        "archived_at": department.archived_at,
    }


def _managed_person(user: User) -> dict:
    return {
        **_person(user),
        "email": user.email,
        "language": user.language,
        "is_active": user.is_active,
        "is_org_admin": user.is_org_admin,
        "is_auditor": user.is_auditor,
        "last_login": user.last_login,
    }


# --- the caller


@router.get("/me", response=MeOut, summary="The caller and their department memberships")
def me(request):
    user = _person_or_404(request.user, request.user.pk)
    return {**_person(user), "is_org_admin": user.is_org_admin, "is_auditor": user.is_auditor}


# --- departments


@router.get("/departments", response=list[DepartmentTreeOut], summary="The department tree, in tree order")
def list_departments(request):
    return [_tree_department(d) for d in visible_departments(request.user).order_by("path")]


@router.post("/departments", response={201: DepartmentOut}, summary="Create a department (admins)")
def create_department(request, payload: DepartmentIn):
    parent = _department_field(request.user, payload.parent, "parent")
    department = services.create_department(
        request.user, name=payload.name, code=payload.code, parent=parent, description=payload.description
    )
    return Status(201, _department(department))


@router.get("/departments/{department_id}", response=DepartmentDetail, summary="One department with its stewards")
def get_department(request, department_id: DbId):
    department = _department_or_404(request.user, department_id)
    counted = Department.objects.filter(pk=department.pk).annotate(n=Count("memberships")).values_list("n", flat=True)
    stewards = (
        Membership.objects.filter(department=department, role__in=MANAGER_ROLES)
        .select_related("user")
        .order_by("user__username")
    )
    return {
        **_department(department),
        "description": department.description,
        "members_count": counted.first() or 0,
        "stewards": [person_ref(m.user) for m in stewards if m.user.is_active],
    }


# --- people


PeopleStatus = Literal["active", "deactivated", "all"]


def _console_filtered(actor, department: Department | None, q: str | None, role: str, status: str):
    """Everyone, for organization admins, through the console's own query (queries.people) and its filters."""
    filters = queries.PeopleFilters(
        text=(q or "").strip(),
        department=department,
        role=role,
        status="" if status == "all" else status,
        kind="all",
    )
    return queries.people(actor, filters)


@router.get(
    "/people",
    response=PersonPage,
    summary="People and service accounts, by id",
    description="Everyone signed in sees the active people. Organization admins see everyone with the console's "
    "filters: `status` (deactivated people too), `role` (in `department` when given), `q` (also in e-mail); "
    "others get 403 for `role` and `status`. `department` includes its sub-departments.",
)
def list_people(
    request,
    department: DbId | None = None,
    q: str | None = None,
    role: Membership.Role | None = None,
    status: PeopleStatus = "active",
    cursor: int | None = Query(None, ge=1, le=MAX_DB_INT, description="`next_cursor` of the previous page"),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
):
    chosen = visible_departments(request.user).filter(pk=department).first() if department is not None else None
    if department is not None and chosen is None:
        people = User.objects.none()
    elif can(request.user, OrgAction.MANAGE_ORG):
        people = _console_filtered(request.user, chosen, q, role or "", status).order_by("id")
    else:
        only_admins = _("Only organization admins filter people by this.")
        refused = {name: only_admins for name, given in (("role", role), ("status", status != "active")) if given}
        if refused:
            raise Forbidden(fields=refused)
        people = _people(request.user).order_by("id")
        if chosen is not None:
            members = Membership.objects.filter(department__path__startswith=chosen.path)
            people = people.filter(pk__in=members.values("user_id"))
        if q:
            people = people.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    if cursor is not None:
        people = people.filter(pk__gt=cursor)
    page = list(people[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return {"items": [_person(p) for p in page], "next_cursor": str(page[-1].pk) if more else None}


@router.post("/people", response={201: PersonOut}, summary="Create a person (admins)")
def create_person(request, payload: PersonIn):
    user = services.create_person(request.user, **payload.model_dump())
    return Status(201, _person(_person_or_404(request.user, user.pk)))


@router.post(
    "/people/{person_id}/memberships",
    response={200: MembershipOut},
    summary="Add a person to a department, or change their role there (admins)",
)
def set_membership(request, person_id: DbId, payload: MembershipIn):
    person = _person_or_404(request.user, person_id)
    department = _department_field(request.user, payload.department, "department")
    membership = services.set_membership(request.user, person, department, payload.role)
    return {"department": department_ref(department), "role": membership.role}


@router.delete(
    "/people/{person_id}/memberships/{department_id}",
    response={204: None},
    summary="Remove a person from a department (admins)",
)
def remove_membership(request, person_id: DbId, department_id: DbId):
    person = _person_or_404(request.user, person_id)
    department = _department_or_404(request.user, department_id)
    services.remove_membership(request.user, person, department)
    return Status(204, None)


# --- the organization console through the API (issue 14): the same rules as the /manage/ pages, for admins only;
# anyone else gets 404 (queries.manage_departments, queries.access_person and handover.require_admin say so)


def _managed_department_or_404(actor, department_id: int) -> Department:
    """Any department (archived and merged ones too), for organization admins; NotFound for anyone else."""
    department = queries.manage_departments(actor).filter(pk=department_id).first()
    if department is None:
        raise NotFound()
    return department


_CONFLICT = {
    "description": "The department is no longer in use to merge: merged or archived already",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
}


def _holding(item: tree.HoldingCount) -> dict:
    return {
        "name": item.holding.name,
        "label": str(item.holding.label),
        "count": item.count,
        "examples": item.examples,
        "more": item.more,
        "on_merge": str(item.holding.on_merge or ""),
    }


@router.patch(
    "/departments/{department_id}",
    response=ManagedDepartmentOut,
    summary="Edit a department's name, code or description, or move it under another parent (admins)",
)
def update_department(request, department_id: DbId, payload: DepartmentPatch):
    department = _managed_department_or_404(request.user, department_id)
    changes = {name: getattr(payload, name) for name in ("name", "code") if getattr(payload, name) is not None}
    if payload.description is not None:
        changes["description"] = payload.description
    parent = _department_field(request.user, payload.parent, "parent")
    moving = "parent" in payload.model_fields_set and (parent.pk if parent else None) != department.parent_id
    with transaction.atomic():
        if changes:
            services.update_department(request.user, department, **changes)
        if moving:
            services.move_department(request.user, department, parent)
    return _managed_department(department)


@router.get(
    "/departments/{department_id}/merge-preview",
    response=MergePreviewOut,
    summary="What merging a department into another would move along, with counts per kind (admins)",
    openapi_extra={"responses": {"409": _CONFLICT}},
)
def merge_preview(request, department_id: DbId, into: DbId):
    """A check, like archive-check: what the merge would refuse as 422 is said in `refused` (a GET answers every
    well-formed request); a department no longer in use to merge is 409, as the merge answers."""
    source = _managed_department_or_404(request.user, department_id)
    target = queries.manage_departments(request.user).filter(pk=into).first()
    answer = {"department": department_ref(source), "into": department_ref(target) if target else None}
    try:
        if target is None:
            raise Invalid(fields={"into": _("No such department: %(value)s.") % {"value": into}})
        preview = tree.merge_preview(request.user, source, target)
    except Invalid as error:
        empty = {"items": [], "role_conflicts": [], "role_conflict_count": 0, "total": 0, "expected": ""}
        return {**answer, **empty, "allowed": False, "refused": error.fields}
    return {
        **answer,
        "allowed": True,
        "refused": {},
        "items": [_holding(item) for item in preview.items],
        "role_conflicts": [
            {
                "person": person_ref(c.person),
                "source_role": c.source_role,
                "target_role": c.target_role,
                "kept_role": c.kept_role,
            }
            for c in preview.conflicts
        ],
        "role_conflict_count": preview.conflict_count,
        "total": preview.total,
        "expected": preview.fingerprint,
    }


@router.post(
    "/departments/{department_id}/merge",
    response=MergeOut,
    summary="Merge a department into another: everything it holds moves along, then it is archived (admins)",
)
def merge_department(request, department_id: DbId, payload: MergeIn):
    source = _managed_department_or_404(request.user, department_id)
    target = _department_field(request.user, payload.into, "into")
    moved = tree.merge_departments(request.user, source, target, expected=payload.expected)
    merged = _managed_department_or_404(request.user, source.pk)
    return {"department": _managed_department(merged), "into": department_ref(target), "moved": moved}


@router.get(
    "/departments/{department_id}/archive-check",
    response=ArchiveCheckOut,
    summary="What keeps a department from being archived, and what it keeps for the record (admins)",
)
def archive_check(request, department_id: DbId):
    department = _managed_department_or_404(request.user, department_id)
    preview = tree.archive_preview(request.user, department)
    return {
        "department": department_ref(department),
        "allowed": preview.allowed,
        "blockers": [_holding(item) for item in preview.blockers],
        "kept": [_holding(item) for item in preview.kept],
    }


@router.post(
    "/departments/{department_id}/archive",
    response=ManagedDepartmentOut,
    summary="Archive a department that holds nothing that would be orphaned (admins)",
)
def archive_department(request, department_id: DbId):
    department = _managed_department_or_404(request.user, department_id)
    return _managed_department(tree.archive_department(request.user, department))


@router.post(
    "/departments/{department_id}/restore",
    response=ManagedDepartmentOut,
    summary="Take an archived department (not a merged one) back into use (admins)",
)
def restore_department(request, department_id: DbId):
    department = _managed_department_or_404(request.user, department_id)
    return _managed_department(tree.restore_department(request.user, department))


# --- people


@router.post(
    "/people/bulk",
    response=PeopleBulkOut,
    summary="One change to several people at once: to all of them or, with each refusal named, to none (admins)",
    openapi_extra={"x-sharehub-not-found": True},  # 404 for all but organization admins
)
def bulk_change(request, payload: PeopleBulkIn):
    found = {
        p.pk: p for p in queries.people(request.user, queries.PeopleFilters(kind="all")).filter(pk__in=payload.ids)
    }
    first_at = {pk: index for index, pk in reversed(list(enumerate(payload.ids)))}
    missing = {f"ids.{index}": _("No such person.") for pk, index in first_at.items() if pk not in found}
    if missing:
        raise Invalid(fields=missing)
    department = _department_field(request.user, payload.department, "department")
    people = [found[pk] for pk in sorted(first_at, key=first_at.get)]
    try:
        count = services.bulk_change_people(
            request.user, people, payload.action, department=department, role=payload.role or ""
        )
    except services.BulkRefused as error:
        why = {f"ids.{first_at[pk]}": reason for pk, reason in error.people.items() if pk in first_at}
        raise Invalid(error.message, fields=why) from None
    return {"action": payload.action, "count": count}


@router.patch(
    "/people/{person_id}",
    response=ManagedPersonOut,
    summary="Edit a person's display name, e-mail or language (admins)",
)
def update_person(request, person_id: DbId, payload: PersonPatch):
    person = queries.access_person(request.user, person_id)
    profile = {
        name: getattr(payload, name).strip() for name in ("display_name", "email") if getattr(payload, name) is not None
    }
    with transaction.atomic():
        if profile:
            services.update_person(request.user, person, **profile)
        if payload.language is not None:
            services.set_person_language(request.user, person, payload.language)
    return _managed_person(person)


@router.put(
    "/people/{person_id}/roles",
    response=ManagedPersonOut,
    summary="Set a person's organization roles: admin and auditor (admins)",
)
def set_roles(request, person_id: DbId, payload: OrgRolesIn):
    person = queries.access_person(request.user, person_id)
    services.change_org_roles(request.user, person, is_org_admin=payload.is_org_admin, is_auditor=payload.is_auditor)
    return _managed_person(person)


@router.get(
    "/people/{person_id}/handover",
    response=HandoverOut,
    summary="What a person holds that a successor must take over before they are deactivated (admins)",
)
def handover_check(request, person_id: DbId):
    person = queries.access_person(request.user, person_id)
    found = handover.holdings(request.user, person)

    _everyone, by_department = handover.successor_choices(found)
    return {
        "person": person_ref(person),
        "is_active": person.is_active,
        "needs_successor": found.needs_successor,
        "refusal": handover.refusal(request.user, person),
        "parts": [
            {
                "key": h.part.key,
                "title": str(h.part.title),
                "outcome": str(h.part.outcome),
                "needs_successor": h.part.needs_successor,
                "count": h.count,
                "more": h.more,
                "items": [
                    {
                        "label": i.label,
                        "key": i.key,
                        "department_id": i.department_id,
                        "detail": i.detail,
                        "url": i.url,
                    }
                    for i in h.items
                ],
            }
            for h in found.holdings
        ],
        "successors": [
            {"department_id": pk, "people": [person_ref(u) for u in users]}
            for pk, users in sorted(by_department.items())
        ],
    }


def _plan_field(name: str) -> str:
    """handover.plan_from's form field names as paths into the API's body: department-4 -> departments.4."""
    for prefix, key in (("department-", "departments"), ("resource-", "resources")):
        if name.startswith(prefix):
            return f"{key}.{name[len(prefix) :]}"
    return name


@router.post(
    "/people/{person_id}/deactivate",
    response=DeactivateOut,
    summary="Hand over what a person holds to their successors and deactivate them, in one transaction (admins)",
)
def deactivate_person(request, person_id: DbId, payload: DeactivateIn):
    person = queries.access_person(request.user, person_id)
    if not person.is_active:
        raise Conflict(_("%(name)s is already deactivated.") % {"name": person})
    found = handover.holdings(request.user, person)
    data = {"successor": str(payload.successor or ""), "reason": payload.reason}
    data.update({f"department-{k}": str(v) for k, v in payload.departments.items()})
    data.update({f"resource-{k}": str(v) for k, v in payload.resources.items()})
    try:
        plan = handover.plan_from(request.user, person, data, found)
        counts = handover.hand_over(request.user, person, plan)
    except Invalid as error:
        raise Invalid(error.message, fields={_plan_field(k): v for k, v in error.fields.items()}) from None
    left = queries.access_person(request.user, person.pk)
    return {"person": _managed_person(left), "counts": dict(sorted(counts.items()))}


@router.post(
    "/people/{person_id}/reactivate",
    response=ManagedPersonOut,
    summary="Let a deactivated person sign in again (admins)",
)
def reactivate_person(request, person_id: DbId):
    person = queries.access_person(request.user, person_id)
    if not person.is_active:
        services.update_person(request.user, person, is_active=True)
    return _managed_person(person)
