"""Reads of the organization for the pages: the department tree, one department, my tokens.

Department structure is public to every signed-in person (policy.visible_departments); resource
counts go through the catalog's policy filter so they never include what the viewer may not see.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, F, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf
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


# --- the console's service accounts and sign-in attempts (issue 14, part D) ----------------------------------

ACCOUNT_STATES = ("active", "inactive")


def manage_service_accounts(actor, *, department_id: int | None = None, state: str = "") -> QuerySet[User]:
    """Every service account, for organization admins (NotFound for anyone else), with its owning department,
    `active_tokens` (not revoked, not ended) and `last_token_use`, in one query; `department_id` keeps those
    one department owns, `state` one of ACCOUNT_STATES."""
    from django.db.models import Max

    if not can(actor, OrgAction.MANAGE_ORG):
        raise NotFound()
    now = timezone.now()
    working = Q(api_tokens__revoked_at__isnull=True) & (
        Q(api_tokens__expires_at__isnull=True) | Q(api_tokens__expires_at__gt=now)
    )
    accounts = (
        User.objects.filter(kind=User.Kind.SERVICE)
        .select_related("service_owner")
        .annotate(active_tokens=Count("api_tokens", filter=working), last_token_use=Max("api_tokens__last_used_at"))
        .order_by("service_owner__name", "username", "pk")
    )
    if department_id is not None:
        accounts = accounts.filter(service_owner_id=department_id)
    if state in ACCOUNT_STATES:
        accounts = accounts.filter(is_active=state == "active")
    return accounts


def access_service_account(actor, account_id: int) -> User:
    """One service account, for organization admins; NotFound for anyone else, a person, or a missing one."""
    account = manage_service_accounts(actor).filter(pk=account_id).first()
    if account is None:
        raise NotFound()
    return account


def owner_departments() -> QuerySet[Department]:
    """The departments that may own a service account: those not archived, in tree order."""
    return Department.objects.filter(archived_at__isnull=True).order_by("path", "name")


@dataclass(frozen=True)
class Lockout:
    """Whether a username or an address is paused now (django-axes: AXES_FAILURE_LIMIT failures within the
    cool-off), and until when."""

    failures: int
    until: timezone.datetime | None

    @property
    def locked(self) -> bool:
        from django.conf import settings

        return self.until is not None and self.failures >= settings.AXES_FAILURE_LIMIT


def _cool_off_start():
    from axes.helpers import get_cool_off

    return timezone.now() - get_cool_off()


def _recent_failures(field_name: str, values) -> dict[str, Lockout]:
    """Failures per username (or address) within the cool-off: one grouped query."""
    from axes.helpers import get_cool_off
    from axes.models import AccessAttempt
    from django.db.models import Max, Sum

    values = [v for v in set(values) if v]
    if not values:
        return {}
    rows = (
        AccessAttempt.objects.filter(**{f"{field_name}__in": values}, attempt_time__gte=_cool_off_start())
        .order_by()
        .values(field_name)
        .annotate(n=Sum("failures_since_start"), last=Max("attempt_time"))
        .values_list(field_name, "n", "last")
    )
    cool_off = get_cool_off()
    return {value: Lockout(n or 0, last + cool_off if last else None) for value, n, last in rows}


def _locked_values(field_name: str):
    """The usernames (or addresses) paused now, as a subquery."""
    from axes.models import AccessAttempt
    from django.conf import settings
    from django.db.models import Sum

    return (
        AccessAttempt.objects.filter(attempt_time__gte=_cool_off_start())
        .exclude(**{f"{field_name}__isnull": True})
        .order_by()
        .values(field_name)
        .annotate(n=Sum("failures_since_start"))
        .filter(n__gte=settings.AXES_FAILURE_LIMIT)
        .values(field_name)
    )


def sign_in_attempts(actor, *, locked_only: bool = False, username: str = "") -> QuerySet:
    """The failed sign-ins django-axes keeps (one row per username, address and browser), newest first, for
    organization admins (NotFound for anyone else); `locked_only` keeps the rows whose username or address is
    paused now, `username` those whose username contains it."""
    from axes.models import AccessAttempt

    if not can(actor, OrgAction.MANAGE_ORG):
        raise NotFound()
    attempts = AccessAttempt.objects.defer("get_data", "post_data", "http_accept").order_by("-attempt_time", "-pk")
    if username.strip():
        attempts = attempts.filter(username__icontains=username.strip())
    if locked_only:
        attempts = attempts.filter(
            Q(username__in=_locked_values("username")) | Q(ip_address__in=_locked_values("ip_address"))
        )
    return attempts


@dataclass
class AttemptRow:
    attempt: object  # axes.models.AccessAttempt
    person: PersonLabel | None
    by_username: Lockout | None
    by_address: Lockout | None

    @property
    def locked(self) -> bool:
        return bool((self.by_username and self.by_username.locked) or (self.by_address and self.by_address.locked))

    @property
    def until(self):
        ends = [x.until for x in (self.by_username, self.by_address) if x is not None and x.locked]
        return max(ends) if ends else None


def attempt_rows(attempts) -> list[AttemptRow]:
    """A page of attempts with their pause by username and by address and the person each username names:
    three queries whatever the page's size."""
    attempts = list(attempts)
    usernames = [a.username for a in attempts]
    by_username = _recent_failures("username", usernames)
    by_address = _recent_failures("ip_address", [a.ip_address for a in attempts])
    labels = person_labels((), usernames)
    return [
        AttemptRow(a, labels.get(a.username), by_username.get(a.username), by_address.get(a.ip_address))
        for a in attempts
    ]


def recent_sign_ins(actor, limit: int = 20) -> list:
    """The latest successful sign-ins (django-axes' access log), newest first, for organization admins."""
    from axes.models import AccessLog

    if not can(actor, OrgAction.MANAGE_ORG):
        raise NotFound()
    return list(
        AccessLog.objects.only("username", "ip_address", "user_agent", "attempt_time", "logout_time").order_by(
            "-attempt_time", "-pk"
        )[:limit]
    )


# --- the people console (sharehub.org.manage.people) ------------------------------------------------------

PEOPLE_SORTS = ("name", "-name", "last_login", "-last_login")
PEOPLE_STATUSES = ("active", "deactivated")
PEOPLE_ORG_ROLES = ("admin", "auditor", "none")
PEOPLE_KINDS = ("person", "service", "all")


@dataclass(frozen=True)
class PeopleFilters:
    """The people list's filters, as the page's query string gives them (already cleaned)."""

    text: str = ""
    department: Department | None = None  # with its sub-departments
    role: str = ""  # a Membership.Role, in `department` when one is chosen
    org_role: str = ""  # PEOPLE_ORG_ROLES
    status: str = ""  # PEOPLE_STATUSES, "" for both
    kind: str = "person"  # PEOPLE_KINDS
    sort: str = "name"  # PEOPLE_SORTS


def _sign_in_prefetch():
    """The directory identities of each person, when the directory app is there (sharehub.directory):
    read through the reverse relation, so org does not import it."""
    relation = getattr(User, "directory_accounts", None)
    if relation is None:
        return []
    return [Prefetch("directory_accounts", queryset=relation.rel.related_model.objects.only("user_id", "source"))]


def people(actor, filters: PeopleFilters = PeopleFilters()) -> QuerySet[User]:
    """Everyone, for organization admins (NotFound for anyone else), filtered and sorted; each with their
    memberships (and departments) and directory identities prefetched: a page is four statements whatever
    its size (count, people, memberships, identities)."""
    if not can(actor, OrgAction.MANAGE_ORG):
        raise NotFound()
    found = User.objects.all()
    if filters.kind in (User.Kind.PERSON, User.Kind.SERVICE):
        found = found.filter(kind=filters.kind)
    if filters.text:
        text = filters.text
        found = found.filter(Q(username__icontains=text) | Q(display_name__icontains=text) | Q(email__icontains=text))
    if filters.department is not None or filters.role:
        memberships = Membership.objects.all()
        if filters.department is not None:
            memberships = memberships.filter(department__path__startswith=filters.department.path)
        if filters.role:
            memberships = memberships.filter(role=filters.role)
        found = found.filter(pk__in=memberships.values("user_id"))
    if filters.org_role == "admin":
        found = found.filter(is_org_admin=True)
    elif filters.org_role == "auditor":
        found = found.filter(is_auditor=True)
    elif filters.org_role == "none":
        found = found.filter(is_org_admin=False, is_auditor=False)
    if filters.status == "active":
        found = found.filter(is_active=True)
    elif filters.status == "deactivated":
        found = found.filter(is_active=False)
    name = Coalesce(NullIf("display_name", Value("")), "username")
    if filters.sort in ("last_login", "-last_login"):
        moment = F("last_login")
        order = [moment.desc(nulls_last=True) if filters.sort == "-last_login" else moment.asc(nulls_last=True)]
        order.append(name.asc())
    else:
        order = [name.desc() if filters.sort == "-name" else name.asc()]
    return found.order_by(*order, "pk").prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("department").order_by("department__path")),
        *_sign_in_prefetch(),
    )


def access_person(actor, person_id: int) -> User:
    """Anyone (a person or a service account), for organization admins; NotFound for anyone else."""
    if not can(actor, OrgAction.MANAGE_ORG):
        raise NotFound()
    found = (
        User.objects.filter(pk=person_id)
        .prefetch_related(
            Prefetch(
                "memberships", queryset=Membership.objects.select_related("department").order_by("department__path")
            ),
            *_sign_in_prefetch(),
        )
        .first()
    )
    if found is None:
        raise NotFound()
    return found


def department_choices() -> list[Department]:
    """Every department by its place in the tree (archived ones last in their branch are still listed)."""
    return list(Department.objects.order_by("path", "name"))


# --- the department tree console (sharehub.org.manage.departments) ----------------------------------------


TREE_STATES = ("active", "archived")


@dataclass
class ConsoleRow:
    """A department on the console's tree page, with what it holds and (when shown out of its branch) the
    names of the departments above it."""

    department: Department
    depth: int
    people: int = 0
    resources: int = 0
    children: int = 0
    ancestors: list[str] = field(default_factory=list)


def manage_departments(actor, *, text: str = "", state: str = "") -> QuerySet[Department]:
    """Every department (archived and merged ones too) in tree order, for organization admins; NotFound for
    anyone else. `text` is part of a name or code; `state` one of TREE_STATES."""
    if not can(actor, OrgAction.MANAGE_ORG):
        raise NotFound()
    found = Department.objects.select_related("merged_into").order_by("path", "name")
    if state == "active":
        found = found.filter(archived_at__isnull=True)
    elif state == "archived":
        found = found.filter(archived_at__isnull=False)
    if text.strip():
        found = found.filter(Q(name__icontains=text.strip()) | Q(code__icontains=text.strip()))
    return found


def console_rows(departments, *, flat: bool = False) -> list[ConsoleRow]:
    """The rows of one page of `manage_departments`: people (active persons), resources and sub-departments
    in use counted for the page's departments, and the names above each row whose parent is not on the page.
    `flat` (a search or a filter): no indentation. Four queries whatever the page's size."""
    from sharehub.org import tree

    departments = list(departments)
    ids = [d.pk for d in departments]
    people = people_counts(ids)
    resources = tree.holding("resources")
    resource_counts = resources.count(ids) if resources else {}
    children = tree.holding("sub_departments")
    child_counts = children.count(ids) if children else {}
    on_page = set(ids)
    wanted: dict[int, list[int]] = {}
    for d in departments:
        if flat or d.parent_id not in on_page:
            wanted[d.pk] = [int(p) for p in d.path.strip("/").split("/") if p.isdigit()][:-1]
    above = {i for chain in wanted.values() for i in chain}
    names = dict(Department.objects.filter(pk__in=above).values_list("pk", "name")) if above else {}
    return [
        ConsoleRow(
            department=d,
            depth=0 if flat else d.depth,
            people=people.get(d.pk, 0),
            resources=resource_counts.get(d.pk, 0),
            children=child_counts.get(d.pk, 0),
            ancestors=[names[i] for i in wanted.get(d.pk, []) if i in names],
        )
        for d in departments
    ]


def department_picker(*, leave_out: Department | None = None) -> list[tuple[Department, int]]:
    """Departments in use to choose from (a parent, a merge target), with their depth, in tree order; without
    `leave_out` and its sub-departments."""
    found = Department.objects.filter(archived_at__isnull=True).order_by("path", "name")
    if leave_out is not None and leave_out.path:
        found = found.exclude(path__startswith=leave_out.path)
    return [(d, d.depth) for d in found]


# ---- people imports (issue 14, part C: sharehub.org.people_import) ----------------------------------------------


def people_imports(actor) -> QuerySet:
    """Every people import, newest first, without their rows (the list shows the counts of `summary`);
    NotFound for anyone who may not manage the organization."""
    from sharehub.org.models import PeopleImport

    if not can(actor, OrgAction.MANAGE_ORG):
        raise NotFound()
    return PeopleImport.objects.defer("rows").select_related("created_by").order_by("-created_at", "-pk")


def access_people_import(actor, pk: int):
    """One people import with its rows, for those who manage the organization; NotFound otherwise."""
    from sharehub.org.models import PeopleImport

    if not can(actor, OrgAction.MANAGE_ORG):
        raise NotFound()
    found = PeopleImport.objects.select_related("created_by").filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def people_import_refs(viewer, ids: set[str]) -> dict:
    """People imports named by their file on the audit page (one query), linked for those who manage the
    organization."""
    from django.urls import reverse

    from sharehub.events import describe
    from sharehub.org.models import PeopleImport

    manages = bool(can(viewer, OrgAction.MANAGE_ORG))
    wanted = [int(i) for i in ids if i.isdigit() and len(i) <= 18]
    found = {}
    for pk, file_name in PeopleImport.objects.filter(pk__in=wanted).values_list("pk", "file_name"):
        found[str(pk)] = describe.Ref(file_name, "", reverse("org:manage_import", args=[pk]) if manages else "")
    return found
