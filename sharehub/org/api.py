"""Organization API: the caller, departments, people and memberships."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from sharehub.errors import Invalid, NotFound
from sharehub.org import services
from sharehub.org.models import Department, Membership, User
from sharehub.org.schemas import (
    MAX_DB_INT,
    DbId,
    DepartmentDetail,
    DepartmentIn,
    DepartmentOut,
    MembershipIn,
    MembershipOut,
    MeOut,
    PersonIn,
    PersonOut,
    PersonPage,
)
from sharehub.policy.engine import context_for, visible_departments

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


# --- the caller


@router.get("/me", response=MeOut, summary="The caller and their department memberships")
def me(request):
    user = _person_or_404(request.user, request.user.pk)
    return {**_person(user), "is_org_admin": user.is_org_admin, "is_auditor": user.is_auditor}


# --- departments


@router.get("/departments", response=list[DepartmentOut], summary="The department tree, in tree order")
def list_departments(request):
    return [_department(d) for d in visible_departments(request.user).order_by("path")]


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


@router.get("/people", response=PersonPage, summary="People and service accounts, by id")
def list_people(
    request,
    department: DbId | None = None,
    q: str | None = None,
    cursor: int | None = Query(None, ge=1, le=MAX_DB_INT, description="`next_cursor` of the previous page"),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
):
    people = _people(request.user).order_by("id")
    if department is not None:
        people = people.filter(memberships__department_id=department)
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
