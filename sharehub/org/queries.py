"""Reads of the organization for the pages: the department tree, one department, my tokens.

Department structure is public to every signed-in person (policy.visible_departments); resource
counts go through the catalog's policy filter so they never include what the viewer may not see.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from sharehub.catalog.queries import ResourceFilters, list_resources
from sharehub.errors import NotFound
from sharehub.org.models import ApiToken, Department, Membership, User
from sharehub.policy.engine import OrgAction, can, visible_departments


@dataclass(frozen=True)
class PersonLabel:
    """How a person is named to others: display name and departments, never the login name."""

    name: str
    departments: tuple[str, ...] = ()
    is_service: bool = field(default=False, compare=False)  # a service account (a system), not a person
    username: str = field(default="", compare=False)

    def __str__(self) -> str:
        if not self.departments:
            return self.name
        return _("%(name)s (%(department)s)") % {"name": self.name, "department": _(", ").join(self.departments)}


def person_labels(user_ids, usernames=()) -> dict[int | str, PersonLabel]:
    """Display names and department names (by place in the tree; a service account's owning
    department) of these people, in one query whatever their number. People asked for by login name
    (`usernames`: what a failed sign-in logged) are keyed by that name as well as by id."""
    ids = {int(i) for i in user_ids if i is not None}
    names_asked = {str(n) for n in usernames if n}
    if not ids and not names_asked:
        return {}
    wanted = Q(pk__in=ids) | Q(username__in=names_asked) if names_asked else Q(pk__in=ids)
    rows = (
        User.objects.filter(wanted)
        .order_by("pk", "memberships__department__path")
        .values_list("pk", "username", "display_name", "memberships__department__name", "service_owner__name", "kind")
    )
    people: dict[int, tuple[str, str, bool]] = {}
    departments: dict[int, list[str]] = {}
    for pk, username, display_name, department, owner, kind in rows:
        people[pk] = (display_name or username, username, kind == User.Kind.SERVICE)
        found = departments.setdefault(pk, [])
        for name in (department, owner):
            if name and name not in found:
                found.append(name)
    labels: dict[int | str, PersonLabel] = {}
    for pk, (name, username, service) in people.items():
        label = PersonLabel(name, tuple(departments[pk]), service, username)
        labels[pk] = label
        if username in names_asked:
            labels[username] = label
    return labels


@dataclass
class DepartmentRow:
    department: Department
    depth: int
    people: int = 0
    resources: int = 0


def visible_resource_counts(actor) -> dict[int, int]:
    """Resources the actor may see, counted per owner department: one grouped query."""
    rows = (
        list_resources(actor)
        .order_by()
        .values("owner_department_id")
        .annotate(n=Count("id", distinct=True))
        .values_list("owner_department_id", "n")
    )
    return dict(rows)


def people_counts(department_ids=None) -> dict[int, int]:
    """People (not service accounts) per department: one grouped query."""
    queryset = Membership.objects.filter(user__kind=User.Kind.PERSON, user__is_active=True)
    if department_ids is not None:
        queryset = queryset.filter(department_id__in=list(department_ids))
    rows = queryset.order_by().values("department_id").annotate(n=Count("user_id")).values_list("department_id", "n")
    return dict(rows)


def department_tree(actor) -> list[DepartmentRow]:
    """Every department the actor sees, parents before their sub-departments (ordered by path),
    with counts of people and of the resources the actor may see. Three queries in all."""
    departments = list(visible_departments(actor).order_by("path", "name"))
    people = people_counts()
    resources = visible_resource_counts(actor)
    known = {d.pk for d in departments}
    rows = []
    for dept in departments:
        # A department whose parent is somehow not listed starts its own branch at the left.
        depth = dept.depth if (dept.parent_id is None or dept.parent_id in known) else 0
        rows.append(DepartmentRow(dept, depth, people.get(dept.pk, 0), resources.get(dept.pk, 0)))
    return rows


@dataclass
class DepartmentPage:
    department: Department
    ancestors: list[Department]
    children: list[DepartmentRow]
    heads: list[User] = field(default_factory=list)
    stewards: list[User] = field(default_factory=list)
    members: list[User] = field(default_factory=list)
    service_accounts: list[User] = field(default_factory=list)
    resources: QuerySet | None = None
    resource_count: int = 0


def department_page(actor, department_id: int, resource_limit: int = 50) -> DepartmentPage:
    """One department with its people and the resources the actor may see; NotFound otherwise."""
    department = visible_departments(actor).select_related("parent").filter(pk=department_id).first()
    if department is None:
        raise NotFound()
    ancestor_ids = [int(p) for p in department.path.strip("/").split("/") if p][:-1]
    ancestors_by_id = {d.pk: d for d in visible_departments(actor).filter(pk__in=ancestor_ids)}
    ancestors = [ancestors_by_id[i] for i in ancestor_ids if i in ancestors_by_id]

    children = list(visible_departments(actor).filter(parent_id=department.pk).order_by("name"))
    child_people = people_counts([c.pk for c in children])
    child_resources = visible_resource_counts(actor) if children else {}
    child_rows = [DepartmentRow(c, 0, child_people.get(c.pk, 0), child_resources.get(c.pk, 0)) for c in children]

    page = DepartmentPage(department=department, ancestors=ancestors, children=child_rows)
    memberships = (
        Membership.objects.filter(department=department, user__is_active=True)
        .select_related("user")
        .order_by("user__display_name", "user__username")
    )
    for membership in memberships:
        user = membership.user
        if user.is_service:
            continue
        if membership.role == Membership.Role.HEAD:
            page.heads.append(user)
        elif membership.role == Membership.Role.STEWARD:
            page.stewards.append(user)
        else:
            page.members.append(user)
    page.service_accounts = list(
        User.objects.filter(service_owner=department, kind=User.Kind.SERVICE).order_by("username")
    )
    resources = list_resources(actor, ResourceFilters(department=department.pk))
    page.resource_count = resources.count()
    page.resources = resources[:resource_limit]
    return page


def my_tokens(actor) -> QuerySet[ApiToken]:
    """The actor's own API tokens, newest first."""
    if actor is None or not actor.is_authenticated:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user_id=actor.pk).order_by("-created_at", "-id")


def access_own_token(actor, token_id: int) -> ApiToken:
    """One of the actor's own tokens; anyone else's token is NotFound, like a missing one."""
    token = my_tokens(actor).filter(pk=token_id).first()
    if token is None:
        raise NotFound()
    return token


TOKEN_STATES = ("active", "expired", "revoked")


def all_tokens(actor, *, state: str = "", owner: str = "") -> QuerySet[ApiToken]:
    """Every API token, for organization admins (NotFound for anyone else), newest first; `state` one of
    TOKEN_STATES, `owner` part of the owner's username or name."""
    if not can(actor, OrgAction.MANAGE_ORG):
        raise NotFound()
    tokens = ApiToken.objects.select_related("user", "user__service_owner").order_by("-created_at", "-id")
    now = timezone.now()
    if state == "active":
        tokens = tokens.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    elif state == "expired":
        tokens = tokens.filter(revoked_at__isnull=True, expires_at__lte=now)
    elif state == "revoked":
        tokens = tokens.filter(revoked_at__isnull=False)
    if owner.strip():
        text = owner.strip()
        tokens = tokens.filter(Q(user__username__icontains=text) | Q(user__display_name__icontains=text))
    return tokens


def access_any_token(actor, token_id: int) -> ApiToken:
    """A token of anyone, for organization admins; NotFound for anyone else or a missing one."""
    token = all_tokens(actor).filter(pk=token_id).first()
    if token is None:
        raise NotFound()
    return token


def service_accounts(actor) -> QuerySet[User]:
    """The active service accounts an admin may make tokens for (none for anyone else)."""
    if not can(actor, OrgAction.MANAGE_ORG):
        return User.objects.none()
    return (
        User.objects.filter(kind=User.Kind.SERVICE, is_active=True)
        .select_related("service_owner")
        .order_by("service_owner__name", "username")
    )
