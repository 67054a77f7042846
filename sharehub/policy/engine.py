"""Sharing policy: who may do what to which resource, and why.

Two views of the same rules live here and nowhere else:

* `can(actor, action, target)` decides one case and says why, in words a person can act on;
* `visible(actor, queryset, action)` is the set-based SQL filter every list, count, search, feed
  and export goes through.

The property tests hold the two to the same answers.

Rules, for a resource owned by department O:
  admin                         sees, reads and manages everything (reads of closed content are audited)
  member of O (any role)        sees and reads everything O owns, drafts included; edits
  steward or head of O          also publishes, archives, restores and changes sharing, and reviews
                                the drafts members submit (publishes them or sends them back)
  anyone else signed in         sees the entry of a published (or archived after publication) open or
                                conditional resource shared with the whole organization (everyone signed
                                in, with or without a department), or whose scope includes one of their
                                departments (a scope covers sub-departments; a department grant reaches
                                its direct members);
                                reads open content; reads conditional content with an active grant
                                to them or to one of their departments; never sees restricted ones
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import NamedTuple

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, prefetch_related_objects
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from sharehub.access.models import AccessRequest, ApprovalRule, Grant
from sharehub.catalog.models import Resource
from sharehub.db.ids import id_array
from sharehub.db.prepared import PreparedRead
from sharehub.org.models import Department, Membership, User


class Action(StrEnum):
    VIEW = "view"  # the catalog entry: title, summary, owner, sharing settings, a dataset's field list
    READ = "read"  # the content: body, attachments, versions, dataset records
    EDIT = "edit"
    MANAGE = "manage"  # publish, archive, restore, change sharing
    REVIEW = "review"  # publish a draft submitted for review, or send it back with a reason


class OrgAction(StrEnum):
    READ_AUDIT = "audit.read"
    MANAGE_ORG = "org.manage"  # departments, people, memberships, service accounts
    ADMIN_SITE = "admin.site"


class ProcessAction(StrEnum):
    """The conditional-sharing process (requests and grants)."""

    REQUEST = "request"  # on a Resource: ask for its content
    SEE = "see"  # on an AccessRequest or a Grant
    DECIDE = "decide"  # on an AccessRequest: approve, reject, ask for information
    REVOKE = "revoke"  # on a Grant


@dataclass(frozen=True)
class Decision:
    allowed: bool
    code: str
    message: str
    next_step: str = ""

    def __bool__(self) -> bool:
        return self.allowed


class HeldGrant(NamedTuple):
    """The part of a grant the policy reads when it decides."""

    valid_from: datetime
    valid_until: datetime
    purpose: str
    fields: tuple[str, ...] = ()  # a dataset's fields granted; none named means the whole dataset
    grant_id: int | None = None


@dataclass
class ActorContext:
    """What the policy needs to know about an actor, loaded once per actor object (so once per
    request: each request has its own user object). The grants the actor holds are loaded on the
    first decision that needs them; `generation` ties the context to the state of grants, memberships
    and departments it was built from (see `contexts_outdated`)."""

    user_id: int | None
    is_admin: bool = False
    is_auditor: bool = False
    is_superuser: bool = False  # opens Django's admin (admin.site), with is_admin
    department_ids: frozenset[int] = frozenset()
    manager_department_ids: frozenset[int] = frozenset()
    scope_ids: frozenset[int] = frozenset()  # own departments and all their ancestors
    roles: dict[int, str] = field(default_factory=dict)
    generation: int = field(default=0, compare=False, repr=False)
    # resource id -> grants not revoked and not ended at `grants_loaded_at`, to the actor or their departments
    grants: dict[int, tuple[HeldGrant, ...]] | None = field(default=None, compare=False, repr=False)
    grants_loaded_at: datetime | None = field(default=None, compare=False, repr=False)

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None


_CONTEXT_ATTR = "_sharehub_policy_context"
_MANAGER_ROLES = (Membership.Role.STEWARD, Membership.Role.HEAD)


# Across requests nothing is cached (a context lives on the request's user object), so a change made
# by another request or another worker process is honoured on the next request. Within this process a
# context is also rebuilt after any grant, membership or department changed since it was built.
_generations = itertools.count(1)
_generation = 0


# Writes made inside a transaction that is still open, per thread: a rollback discards them without a
# signal, so contexts built after them must load again once it happens (see `_check_rollbacks`).
_open_writes = threading.local()


class _Committed:
    def __init__(self) -> None:
        self.done = False

    def __call__(self) -> None:
        self.done = True


def contexts_outdated(*, using: str = DEFAULT_DB_ALIAS, **_signal) -> None:
    """Connected to saves and deletes of grants, memberships and departments (see PolicyConfig)."""
    global _generation
    _generation = next(_generations)
    connection = connections[using]
    if connection.in_atomic_block:
        marker = _Committed()
        transaction.on_commit(marker, using=using)
        writes = getattr(_open_writes, "entries", None)
        if writes is None:
            writes = _open_writes.entries = []
        writes.append((connection, connection.run_on_commit, marker))


def _check_rollbacks() -> None:
    """Outdate the contexts if a transaction (or savepoint) holding a policy write was rolled back:
    its on-commit hook was dropped. Django replaces the list of hooks whenever it drops some."""
    global _generation
    kept, rolled_back = [], False
    for connection, hooks, marker in _open_writes.entries:
        if marker.done:
            continue
        if connection.run_on_commit is hooks or any(hook[1] is marker for hook in connection.run_on_commit):
            kept.append((connection, connection.run_on_commit, marker))
        else:
            rolled_back = True
    _open_writes.entries = kept
    if rolled_back:
        _generation = next(_generations)


# Read on every request: compiled once (sharehub.db.prepared).
_MEMBERSHIPS = PreparedRead(
    lambda user_id: (
        Membership.objects.filter(user_id=user_id)
        .order_by()  # Membership's default ordering joins the user table for nothing here
        .values_list("department_id", "role", "department__path")
    ),
    user_id=int,
)
# The grants to the person or to a department they are a member of, not revoked, not ended by `after`.
_HELD_GRANTS = PreparedRead(
    lambda user_id, after: Grant.objects.filter(
        Q(grantee_user_id=user_id)
        | Q(grantee_department_id__in=Membership.objects.filter(user_id=user_id).values("department_id")),
        revoked_at__isnull=True,
        valid_until__gt=after,
    ).values_list("resource_id", "valid_from", "valid_until", "purpose", "fields", "pk"),
    user_id=int,
    after=datetime,
)


def context_for(actor) -> ActorContext:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return ActorContext(user_id=None)
    if getattr(_open_writes, "entries", None):
        _check_rollbacks()
    cached = getattr(actor, _CONTEXT_ATTR, None)
    if cached is not None and cached.generation == _generation:
        return cached
    generation = _generation  # read before the memberships: a change meanwhile makes this context stale
    ctx = _context_from(actor, _MEMBERSHIPS.rows(user_id=actor.pk), generation)
    setattr(actor, _CONTEXT_ATTR, ctx)
    return ctx


def _context_from(actor, rows, generation: int) -> ActorContext:
    """An actor's context from their (department id, role, department path) memberships."""
    scope: set[int] = set()
    for _dept, _role, path in rows:
        scope.update(int(part) for part in path.strip("/").split("/") if part)
    return ActorContext(
        user_id=actor.pk,
        is_admin=bool(actor.is_org_admin) and not actor.is_service,
        is_auditor=bool(actor.is_auditor) and not actor.is_service,
        is_superuser=bool(getattr(actor, "is_superuser", False)) and not actor.is_service,
        department_ids=frozenset(d for d, _r, _p in rows),
        manager_department_ids=frozenset(d for d, r, _p in rows if r in _MANAGER_ROLES),
        scope_ids=frozenset(scope),
        roles={d: r for d, r, _p in rows},
        generation=generation,
    )


class Person(NamedTuple):
    """What a decision reads of a person, without a model instance: for deciding for thousands at once."""

    pk: int
    is_org_admin: bool
    is_auditor: bool
    is_service: bool
    is_active: bool = True
    is_authenticated: bool = True


def active_people(ids) -> list[Person]:
    """The active people among `ids`, as `viewers` reads them (one query, no model instances)."""
    rows = User.objects.filter(pk__in=id_array(ids), is_active=True).values_list(
        "pk", "is_org_admin", "is_auditor", "kind"
    )
    return [Person(pk, admin, auditor, kind == User.Kind.SERVICE) for pk, admin, auditor, kind in rows]


def viewers(people, resource: Resource, now=None) -> set[int]:
    """Of these people, the ids of those who may view `resource`: the decision `can(person, "view", resource)`
    makes, for many people at once in three queries (their memberships, the resource's grants, its scope)
    rather than two each. For fan-out to followers (notifications, email, live streams)."""
    now = now or timezone.now()
    loaded_at = min(now, timezone.now())
    generation = _generation
    people = [p for p in people if getattr(p, "is_authenticated", False) and p.is_active]
    if not people:
        return set()
    rows: dict[int, list] = {p.pk: [] for p in people}
    memberships = (
        Membership.objects.filter(user_id__in=id_array(rows))
        .order_by()
        .values_list("user_id", "department_id", "role", "department__path")
    )
    for user_id, department_id, role, path in memberships:
        rows[user_id].append((department_id, role, path))
    grants = list(
        Grant.objects.filter(resource_id=resource.pk, revoked_at__isnull=True, valid_until__gt=loaded_at).values_list(
            "grantee_user_id", "grantee_department_id", "valid_from", "valid_until", "purpose", "fields", "pk"
        )
    )
    prefetch_related_objects([resource], "scope_departments")
    allowed = set()
    decided: dict[tuple, bool] = {}
    for person in people:
        memberships = tuple(sorted(rows[person.pk]))
        departments = {department_id for department_id, _role, _path in memberships}
        held = tuple(
            HeldGrant(valid_from, valid_until, purpose, tuple(fields or ()), pk)
            for user_id, department_id, valid_from, valid_until, purpose, fields, pk in grants
            if user_id == person.pk or department_id in departments
        )
        # Everything a view decision reads but who the person is: people alike in it are decided once.
        key = (person.is_org_admin, person.is_auditor, person.is_service, memberships, held)
        if key not in decided:
            ctx = _context_from(person, memberships, generation)
            ctx.grants, ctx.grants_loaded_at = ({resource.pk: held} if held else {}), loaded_at
            decided[key] = _decide_resource(ctx, Action.VIEW, resource, now).allowed
        if decided[key]:
            allowed.add(person.pk)
    return allowed


def forget(actor) -> None:
    """Drop the cached context after the actor's memberships or roles change."""
    if actor is not None and hasattr(actor, _CONTEXT_ATTR):
        delattr(actor, _CONTEXT_ATTR)


def _active_grants(ctx: ActorContext, now=None) -> QuerySet[Grant]:
    now = now or timezone.now()
    return Grant.objects.filter(
        Q(grantee_user_id=ctx.user_id) | Q(grantee_department_id__in=ctx.department_ids),
        revoked_at__isnull=True,
        valid_from__lte=now,
        valid_until__gt=now,
    )


def _in_scope_q(ctx: ActorContext, correlated: bool = False) -> Q:
    scoped = Resource.scope_departments.through.objects.filter(department_id__in=ctx.scope_ids)
    if correlated:
        return Q(scope_all=True) | Q(Exists(scoped.filter(resource_id=OuterRef("pk"))))
    return Q(scope_all=True) | Q(pk__in=scoped.values("resource_id"))


def resource_filter(actor, action: Action = Action.VIEW, now=None, *, correlated: bool = False) -> Q:
    """The Q object selecting the resources `actor` may perform `action` on.

    `correlated`: test the scope and the grants row by row (EXISTS) instead of against the list of
    every resource in scope or granted; cheaper when a few candidate rows are tested (full-text hits)."""
    ctx = context_for(actor)
    if not ctx.authenticated:
        return Q(pk__in=[])
    if ctx.is_admin:
        return Q()
    owned = Q(owner_department_id__in=ctx.department_ids)
    if action == Action.EDIT:
        return owned
    if action in (Action.MANAGE, Action.REVIEW):
        return Q(owner_department_id__in=ctx.manager_department_ids)
    if correlated:
        granted = Q(Exists(_active_grants(ctx, now).filter(resource_id=OuterRef("pk"))))
    else:
        granted = Q(pk__in=_active_grants(ctx, now).values("resource_id"))
    shared = Q(status=Resource.Status.PUBLISHED) | Q(status=Resource.Status.ARCHIVED, published_at__isnull=False)
    if action == Action.VIEW:
        return owned | (
            shared
            & (
                (
                    Q(sharing_type__in=[Resource.SharingType.OPEN, Resource.SharingType.CONDITIONAL])
                    & _in_scope_q(ctx, correlated)
                )
                | (Q(sharing_type=Resource.SharingType.CONDITIONAL) & granted)
            )
        )
    if action == Action.READ:
        return owned | (
            shared
            & (
                (Q(sharing_type=Resource.SharingType.OPEN) & _in_scope_q(ctx, correlated))
                | (Q(sharing_type=Resource.SharingType.CONDITIONAL) & granted)
            )
        )
    raise ValueError(f"unknown action {action!r}")


def visible(actor, queryset: QuerySet[Resource] | None = None, action: Action = Action.VIEW) -> QuerySet[Resource]:
    """Restrict a resource queryset to what `actor` may `action`."""
    queryset = Resource.objects.all() if queryset is None else queryset
    return queryset.filter(resource_filter(actor, action))


def decidable(queryset: QuerySet[Resource]) -> QuerySet[Resource]:
    """`queryset` with what `can()` reads of each resource fetched along (owner department, scope), so
    deciding on its rows in memory needs no further query. The body is left out: no rule reads it."""
    return queryset.select_related("owner_department").prefetch_related("scope_departments").defer("body")


def visible_departments(actor) -> QuerySet[Department]:
    """Departments are part of the organization's public structure: every signed-in person sees them."""
    if not context_for(actor).authenticated:
        return Department.objects.none()
    return Department.objects.all()


def _dept_name(resource: Resource) -> str:
    return resource.owner_department.name


def _held_grants(ctx: ActorContext, now: datetime) -> dict[int, tuple[HeldGrant, ...]]:
    """The grants the actor holds, by resource: one query, the first time a decision (at `now`) needs
    them. Those ended before `now` or the present, whichever is earlier, are left out."""
    if ctx.grants is None:
        loaded_at = min(now, timezone.now())
        held: dict[int, list[HeldGrant]] = {}
        rows = _HELD_GRANTS.rows(user_id=ctx.user_id, after=loaded_at)
        for resource_id, valid_from, valid_until, purpose, fields, pk in rows:
            held.setdefault(resource_id, []).append(
                HeldGrant(valid_from, valid_until, purpose, tuple(fields or ()), pk)
            )
        ctx.grants = {resource_id: tuple(grants) for resource_id, grants in held.items()}
        ctx.grants_loaded_at = loaded_at
    return ctx.grants


def active_grants_on(ctx: ActorContext, resource: Resource, now=None) -> list[HeldGrant]:
    """The grants to the actor (or their departments) active on `resource` at `now`; the validity
    window is checked at every decision, since a grant may start or end while a context is in use."""
    now = now or timezone.now()
    held = _held_grants(ctx, now)
    if now < ctx.grants_loaded_at:
        # Asked about a time before the grants were loaded: ended grants were not loaded, so ask.
        rows = (
            _active_grants(ctx, now)
            .filter(resource_id=resource.pk)
            .values_list("valid_from", "valid_until", "purpose", "fields", "pk")
        )
        return [HeldGrant(f, u, p, tuple(fields or ()), pk) for f, u, p, fields, pk in rows]
    return [g for g in held.get(resource.pk, ()) if g.valid_from <= now < g.valid_until]


def _active_grant(ctx: ActorContext, resource: Resource, now=None) -> HeldGrant | None:
    """The active grant to the actor that runs longest, if any."""
    active = active_grants_on(ctx, resource, now)
    return max(active, key=lambda g: g.valid_until) if active else None


def _scope_department_ids(resource: Resource) -> set[int]:
    """The resource's scope departments: from what the normal queries prefetched, else one query."""
    prefetched = getattr(resource, "_prefetched_objects_cache", {}).get("scope_departments")
    if prefetched is not None:
        return {d.pk for d in prefetched}
    return set(resource.scope_departments.values_list("pk", flat=True))


def _in_scope(ctx: ActorContext, resource: Resource) -> bool:
    if resource.scope_all:
        return True
    if not ctx.scope_ids:
        return False
    return not ctx.scope_ids.isdisjoint(_scope_department_ids(resource))


def _decide_resource(ctx: ActorContext, action: Action, resource: Resource, now=None) -> Decision:
    dept = _dept_name(resource)
    if not ctx.authenticated:
        return Decision(False, "anonymous", _("Sign in to see this resource."))
    if ctx.is_admin:
        return Decision(True, "admin", _("You are an organization admin; your reads of closed content are audited."))
    owner_member = resource.owner_department_id in ctx.department_ids
    if action == Action.REVIEW:
        if resource.owner_department_id in ctx.manager_department_ids:
            return Decision(
                True,
                "owner_reviewer",
                _("You are a steward or head of %(dept)s, which reviews the drafts of its members.") % {"dept": dept},
            )
        return Decision(
            False,
            "not_reviewer",
            _("Only stewards and heads of %(dept)s review its drafts.") % {"dept": dept},
        )
    if action == Action.MANAGE:
        if resource.owner_department_id in ctx.manager_department_ids:
            return Decision(
                True,
                "owner_steward",
                _("You are a steward or head of %(dept)s, which owns this resource.") % {"dept": dept},
            )
        return Decision(
            False,
            "not_steward",
            _("Only stewards and heads of %(dept)s publish, archive or change the sharing of this resource.")
            % {"dept": dept},
        )
    if action == Action.EDIT:
        if owner_member:
            return Decision(
                True, "owner_member", _("You belong to %(dept)s, which owns this resource.") % {"dept": dept}
            )
        return Decision(False, "not_owner", _("Only members of %(dept)s edit this resource.") % {"dept": dept})
    if owner_member:
        return Decision(True, "owner_member", _("You belong to %(dept)s, which owns this resource.") % {"dept": dept})
    if resource.status == Resource.Status.DRAFT:
        return Decision(
            False, "draft", _("This is a draft; only %(dept)s sees it until it is published.") % {"dept": dept}
        )
    if resource.status == Resource.Status.ARCHIVED and resource.published_at is None:
        return Decision(
            False,
            "archived_draft",
            _("This draft was archived without being published; only %(dept)s sees it.") % {"dept": dept},
        )
    if resource.sharing_type == Resource.SharingType.RESTRICTED:
        return Decision(
            False,
            "restricted",
            _("Restricted resource (不予共享): only %(dept)s can see it.") % {"dept": dept},
            _("Basis for not sharing: %(basis)s") % {"basis": resource.restriction_basis or "—"},
        )
    grant = _active_grant(ctx, resource, now) if resource.sharing_type == Resource.SharingType.CONDITIONAL else None
    if grant is None and not _in_scope(ctx, resource):
        return Decision(False, "out_of_scope", _("This resource is shared only with chosen departments, not yours."))
    if resource.sharing_type == Resource.SharingType.OPEN:
        return Decision(True, "open", _("Open resource (无条件共享), shared with your department."))
    if grant is not None:
        until = date_format(timezone.localtime(grant.valid_until), "DATETIME_FORMAT")
        return Decision(
            True,
            "granted",
            _("You hold a grant until %(until)s for: %(purpose)s") % {"until": until, "purpose": grant.purpose},
        )
    if action == Action.VIEW:
        return Decision(
            True,
            "conditional_entry",
            _("Conditional resource (有条件共享): the catalog entry is visible to your department."),
        )
    return Decision(
        False,
        "conditional_no_grant",
        _("Conditional resource (有条件共享): request access from %(dept)s.") % {"dept": dept},
        _("Conditions: %(conditions)s") % {"conditions": resource.conditions or "—"},
    )


def _decide_org(ctx: ActorContext, action: OrgAction) -> Decision:
    if not ctx.authenticated:
        return Decision(False, "anonymous", _("Sign in first."))
    if action == OrgAction.READ_AUDIT:
        if ctx.is_auditor:
            return Decision(True, "auditor", _("You are an auditor."))
        return Decision(False, "not_auditor", _("Only auditors read the audit trail."))
    if action == OrgAction.ADMIN_SITE:
        # Django's admin reaches past the services' rules: superusers who are organization admins only. Other
        # admins do everything in the console (Manage the organization).
        if ctx.is_admin and ctx.is_superuser:
            return Decision(True, "superuser", _("You are an organization admin and a superuser."))
        return Decision(
            False, "not_superuser", _("Only superusers open Django's administration; use Manage the organization.")
        )
    if action == OrgAction.MANAGE_ORG:
        if ctx.is_admin:
            return Decision(True, "admin", _("You are an organization admin."))
        return Decision(False, "not_admin", _("Only organization admins manage departments and people."))
    raise ValueError(f"unknown action {action!r}")


def _decide_create(ctx: ActorContext, department: Department) -> Decision:
    if ctx.is_admin or department.pk in ctx.department_ids:
        return Decision(True, "member", _("You may publish into %(dept)s.") % {"dept": department.name})
    return Decision(
        False, "not_member", _("Only members of %(dept)s publish resources for it.") % {"dept": department.name}
    )


def _decide_managed(ctx: ActorContext, department: Department, refusal: str) -> Decision:
    if ctx.is_admin or department.pk in ctx.manager_department_ids:
        return Decision(True, "manager", _("You manage %(dept)s.") % {"dept": department.name})
    return Decision(False, "not_manager", refusal % {"dept": department.name})


def _decide_subscribe(ctx: ActorContext, department: Department) -> Decision:
    """Subscribing a whole department to something (its members hear of it unless they opt out)."""
    return _decide_managed(ctx, department, _("Only stewards and heads of %(dept)s subscribe it to updates."))


def _decide_connect(ctx: ActorContext, department: Department) -> Decision:
    """Connecting another system to a department (an inbound webhook writing as its service account)."""
    return _decide_managed(ctx, department, _("Only stewards and heads of %(dept)s connect other systems to it."))


def connectable_departments(actor) -> QuerySet[Department]:
    """The departments `can(actor, "connect", department)` allows: the SQL half of `_decide_connect`."""
    ctx = context_for(actor)
    if not ctx.authenticated:
        return Department.objects.none()
    return Department.objects.all() if ctx.is_admin else Department.objects.filter(pk__in=ctx.manager_department_ids)


def _decide_request_access(ctx: ActorContext, resource: Resource, now=None) -> Decision:
    """May the actor ask for this resource's content? Only conditional resources they can see, and
    only when they cannot read it for another reason than a grant (a grant is renewed by a new request)."""
    if not ctx.authenticated:
        return Decision(False, "anonymous", _("Sign in first."))
    entry = _decide_resource(ctx, Action.VIEW, resource, now)
    if not entry:
        return entry
    dept = _dept_name(resource)
    if resource.sharing_type == Resource.SharingType.OPEN:
        return Decision(False, "open", _("This resource is open to you; no request is needed."))
    if resource.sharing_type == Resource.SharingType.RESTRICTED:
        return Decision(
            False,
            "restricted",
            _("Restricted resource (不予共享): it cannot be requested."),
            _("Basis for not sharing: %(basis)s") % {"basis": resource.restriction_basis or "—"},
        )
    if ctx.is_admin or resource.owner_department_id in ctx.department_ids:
        return Decision(False, "already_readable", _("You can already read this resource."))
    if resource.status != Resource.Status.PUBLISHED:
        return Decision(False, "not_published", _("Only published resources can be requested."))
    return Decision(True, "requestable", _("You may request access from %(dept)s.") % {"dept": dept})


def needs_head_approval(access_request: AccessRequest) -> bool:
    """Whether a request needs the owner department's head as a second step."""
    resource = access_request.resource
    if resource.requires_head_approval:
        return True
    rule = ApprovalRule.objects.filter(department_id=resource.owner_department_id).first()
    if rule is None or not rule.head_for_outsiders:
        return False
    trusted = set(rule.trusted_departments.values_list("pk", flat=True)) | {resource.owner_department_id}
    requester_departments = set(access_request.requester.memberships.values_list("department_id", flat=True))
    if access_request.for_department_id:
        requester_departments = {access_request.for_department_id}
    return not (requester_departments & trusted)


def _decide_access_request(ctx: ActorContext, action: ProcessAction, request: AccessRequest) -> Decision:
    if not ctx.authenticated:
        return Decision(False, "anonymous", _("Sign in first."))
    owner = request.resource.owner_department_id
    role = ctx.roles.get(owner)
    if action == ProcessAction.SEE:
        if ctx.is_admin or request.requester_id == ctx.user_id or role in _MANAGER_ROLES:
            return Decision(True, "party", _("You are a party to this request."))
        return Decision(False, "not_party", _("Only the requester and the owner's stewards see this request."))
    if action == ProcessAction.DECIDE:
        if request.status == AccessRequest.Status.PENDING_HEAD:
            if ctx.is_admin or role == Membership.Role.HEAD:
                return Decision(True, "head", _("You are the head of the owner department."))
            return Decision(False, "not_head", _("This request awaits the head of the owner department."))
        if ctx.is_admin or role in _MANAGER_ROLES:
            return Decision(True, "steward", _("You are a steward or head of the owner department."))
        return Decision(False, "not_steward", _("Only stewards and heads of the owner department decide requests."))
    raise ValueError(f"unknown action {action!r}")


def _decide_grant(ctx: ActorContext, action: ProcessAction, grant: Grant) -> Decision:
    if not ctx.authenticated:
        return Decision(False, "anonymous", _("Sign in first."))
    manager = ctx.is_admin or grant.resource.owner_department_id in ctx.manager_department_ids
    if action == ProcessAction.REVOKE:
        if manager:
            return Decision(True, "steward", _("You are a steward or head of the owner department."))
        return Decision(False, "not_steward", _("Only stewards and heads of the owner department revoke grants."))
    if action == ProcessAction.SEE:
        grantee = grant.grantee_user_id == ctx.user_id or grant.grantee_department_id in ctx.department_ids
        if manager or grantee:
            return Decision(True, "party", _("You hold this grant or manage its resource."))
        return Decision(False, "not_party", _("Only the grantee and the owner's stewards see this grant."))
    raise ValueError(f"unknown action {action!r}")


def request_filter(actor) -> Q:
    """Access requests the actor may see: their own, and those for resources their departments
    steward (heads and stewards); admins see all."""
    ctx = context_for(actor)
    if not ctx.authenticated:
        return Q(pk__in=[])
    if ctx.is_admin:
        return Q()
    return Q(requester_id=ctx.user_id) | Q(resource__owner_department_id__in=ctx.manager_department_ids)


def decidable_filter(actor) -> Q:
    """Open requests the actor may decide now (the steward inbox)."""
    ctx = context_for(actor)
    if not ctx.authenticated:
        return Q(pk__in=[])
    first_step = Q(status=AccessRequest.Status.PENDING)
    second_step = Q(status=AccessRequest.Status.PENDING_HEAD)
    if ctx.is_admin:
        return first_step | second_step
    heads = frozenset(d for d, r in ctx.roles.items() if r == Membership.Role.HEAD)
    return (first_step & Q(resource__owner_department_id__in=ctx.manager_department_ids)) | (
        second_step & Q(resource__owner_department_id__in=heads)
    )


def grant_filter(actor) -> Q:
    """Grants the actor may see: to them or their departments, and on resources they manage."""
    ctx = context_for(actor)
    if not ctx.authenticated:
        return Q(pk__in=[])
    if ctx.is_admin:
        return Q()
    return (
        Q(grantee_user_id=ctx.user_id)
        | Q(grantee_department_id__in=ctx.department_ids)
        | Q(resource__owner_department_id__in=ctx.manager_department_ids)
    )


def can(actor, action: Action | OrgAction | ProcessAction | str, target=None, *, now=None) -> Decision:
    """Decide whether `actor` may perform `action` on `target` and say why.

    Targets: a Resource (view/read/edit/manage/review, and "request"), a Department (action "create":
    publish into it; "subscribe": subscribe its members to updates; "connect": let another system write
    into it through an inbound webhook of one of its service accounts), an AccessRequest (see/decide), a
    Grant (see/revoke), or None for organization-wide actions (audit.read, org.manage, admin.site).
    """
    ctx = context_for(actor)
    if isinstance(target, Resource) and action == ProcessAction.REQUEST:
        return _decide_request_access(ctx, target, now)
    if isinstance(target, Resource):
        return _decide_resource(ctx, Action(action), target, now)
    if isinstance(target, AccessRequest):
        return _decide_access_request(ctx, ProcessAction(action), target)
    if isinstance(target, Grant):
        return _decide_grant(ctx, ProcessAction(action), target)
    if isinstance(target, Department) and action in ("create", "subscribe", "connect"):
        if not ctx.authenticated:
            return Decision(False, "anonymous", _("Sign in first."))
        if action == "connect":
            return _decide_connect(ctx, target)
        return _decide_create(ctx, target) if action == "create" else _decide_subscribe(ctx, target)
    if target is None:
        return _decide_org(ctx, OrgAction(action))
    raise TypeError(f"policy has no rule for {type(target).__name__}")


def decide_owned(actor, owner_id: int, department_id: int | None) -> Decision:
    """Something registered by a person for themselves or for their department (a webhook endpoint): its
    owner, the department's stewards and heads, and organization admins see and manage it."""
    ctx = context_for(actor)
    if not ctx.authenticated:
        return Decision(False, "anonymous", _("Sign in first."))
    if ctx.user_id == owner_id:
        return Decision(True, "owner", _("You registered it."))
    if department_id is not None and department_id in ctx.manager_department_ids:
        return Decision(True, "manager", _("You manage the department it belongs to."))
    if ctx.is_admin:
        return Decision(True, "admin", _("You are an organization admin."))
    return Decision(False, "not_owner", _("Only its owner and the stewards of its department manage it."))


def owned_filter(actor, owner_field: str = "owner_id", department_field: str = "department_id") -> Q:
    """The SQL half of `decide_owned`: what the actor registered, what belongs to departments they are a
    steward or head of, everything for admins, nothing for the anonymous."""
    ctx = context_for(actor)
    if not ctx.authenticated:
        return Q(pk__in=[])
    if ctx.is_admin:
        return Q()
    return Q(**{owner_field: ctx.user_id}) | Q(**{f"{department_field}__in": ctx.manager_department_ids})


def reviewer_ids(department_id: int) -> list[int]:
    """The people told when a draft of the department is submitted for review: its active stewards and
    heads (organization admins may review too, but are not told of every draft)."""
    return list(
        Membership.objects.filter(department_id=department_id, role__in=_MANAGER_ROLES, user__is_active=True)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


def reviews_anywhere(actor) -> bool:
    """Whether the actor may review the drafts of at least one department (shows the review queue)."""
    ctx = context_for(actor)
    return ctx.is_admin or bool(ctx.manager_department_ids)


def creatable_departments(actor) -> QuerySet[Department]:
    """The departments the actor may publish into, for choosing: archived ones take no new resources."""
    ctx = context_for(actor)
    if not ctx.authenticated:
        return Department.objects.none()
    if ctx.is_admin:
        return Department.objects.filter(archived_at__isnull=True)
    return Department.objects.filter(pk__in=ctx.department_ids, archived_at__isnull=True)


_SQL_CACHE: dict[tuple, tuple[str, tuple]] = {}
_SQL_CACHE_SIZE = 4096
_NOW_PLACEHOLDER = datetime(2000, 1, 1, 0, 0, 0, 424242, tzinfo=UTC)


def resource_sql(
    actor, action: Action = Action.VIEW, now=None, model=Resource, *, correlated: bool = False
) -> tuple[str, list]:
    """`resource_filter` as an SQL condition, for the few reads that must be written in SQL (full-text
    search joins its index and the policy in one statement). `model` is Resource or a table that
    mirrors the columns the filter reads (pk = resource id, owner_department, status, sharing_type,
    scope_all), such as the search index's entries.

    `correlated`: see `resource_filter`.

    The SQL depends only on the actor's policy context and `now`, so it is compiled once per context
    (Django's compiler costs milliseconds) with a placeholder time that is swapped for `now`.
    Returns ("1=1", []) when everything is allowed and ("1=0", []) when nothing is."""
    from django.db import connection

    ctx = context_for(actor)
    key = (
        connection.vendor,
        model._meta.label,
        action,
        ctx.user_id,
        ctx.is_admin,
        ctx.department_ids,
        ctx.manager_department_ids,
        ctx.scope_ids,
        correlated,
    )
    compiled = _SQL_CACHE.get(key)
    if compiled is None:
        compiled = _compile_resource_sql(actor, action, model, correlated)
        if len(_SQL_CACHE) >= _SQL_CACHE_SIZE:
            _SQL_CACHE.clear()
        _SQL_CACHE[key] = compiled
    sql, params = compiled
    placeholder = connection.ops.adapt_datetimefield_value(_NOW_PLACEHOLDER)
    current = connection.ops.adapt_datetimefield_value(now or timezone.now())
    return sql, [current if type(p) is type(placeholder) and p == placeholder else p for p in params]


def _compile_resource_sql(actor, action: Action, model, correlated: bool) -> tuple[str, tuple]:
    from django.core.exceptions import EmptyResultSet, FullResultSet
    from django.db import connection

    query = model.objects.filter(resource_filter(actor, action, _NOW_PLACEHOLDER, correlated=correlated)).query
    compiler = query.get_compiler(connection=connection)
    try:
        sql, params = compiler.compile(query.where)
    except EmptyResultSet:
        return "1=0", ()
    except FullResultSet:
        return "1=1", ()
    if not sql:
        return "1=1", ()
    if len([alias for alias, count in query.alias_refcount.items() if count]) > 1:
        raise ValueError("the resource filter must not join other tables to be usable as plain SQL")
    return sql, tuple(params)


# -- access terms: a prefilter for full-text indexes ----------------------------------------------
#
# A full-text index that stores a few "access terms" with each resource can drop, inside its own
# matching, every resource the actor cannot possibly see; on a large catalog that is most of them. The
# terms over-approximate VIEW (they ignore status and the validity of grants), so they only prefilter:
# the caller still applies `resource_sql`, which alone decides.


def access_terms(actor) -> tuple[str, ...] | None:
    """The terms of which every resource `actor` may see carries at least one (see
    `resource_access_terms_sql`); None when nothing needs filtering (admins), () for nobody."""
    ctx = context_for(actor)
    if not ctx.authenticated:
        return ()
    if ctx.is_admin:
        return None
    return (
        "seeall",
        *(f"see{d}" for d in sorted(ctx.scope_ids)),
        *(f"own{d}" for d in sorted(ctx.department_ids)),
        f"gu{ctx.user_id}",
        *(f"gd{d}" for d in sorted(ctx.department_ids)),
    )


# The resource columns its access terms depend on.
ACCESS_TERM_COLUMNS = ("owner_department_id", "sharing_type", "scope_all")


def access_term_sources() -> tuple[tuple[str, str], ...]:
    """The other tables whose rows `resource_access_terms_sql` reads, with the column naming the resource."""
    return ((Resource.scope_departments.through._meta.db_table, "resource_id"), (Grant._meta.db_table, "resource_id"))


def resource_access_terms_sql(resource_id: str, vendor: str, mark: str = "") -> str:
    """SQL for the access terms of the resource whose id is the SQL expression `resource_id`: its owner
    department (`own<id>`); if open or conditional, the whole organization (`seeall`) or each scope
    department (`see<id>`, which reaches their sub-departments through the actor's `scope_ids`); and
    every grantee of a grant not revoked (`gu<user>`, `gd<department>`). Each term starts with `mark`.

    PostgreSQL gets a text[]; SQLite a space-separated string. Used by triggers, so it reads only
    the rows it names and takes no parameters."""
    resources = Resource._meta.db_table
    scopes = Resource.scope_departments.through._meta.db_table
    grants = Grant._meta.db_table
    shared = ", ".join(f"'{v}'" for v in (Resource.SharingType.OPEN, Resource.SharingType.CONDITIONAL))
    scope_term = f"'{mark}see' || s.department_id"
    scope_rows = f"FROM {scopes} s WHERE s.resource_id = r.id"
    grant_term = (
        f"CASE WHEN g.grantee_user_id IS NOT NULL THEN '{mark}gu' || g.grantee_user_id "
        f"ELSE '{mark}gd' || g.grantee_department_id END"
    )
    grant_rows = f"FROM {grants} g WHERE g.resource_id = r.id AND g.revoked_at IS NULL"
    if vendor == "postgresql":
        return (
            f"(SELECT ARRAY['{mark}own' || r.owner_department_id] || CASE WHEN r.sharing_type IN ({shared}) THEN "
            f"CASE WHEN r.scope_all THEN ARRAY['{mark}seeall'] ELSE ARRAY(SELECT {scope_term} {scope_rows}) END "
            f"ELSE ARRAY[]::text[] END || ARRAY(SELECT {grant_term} {grant_rows}) "
            f"FROM {resources} r WHERE r.id = {resource_id})"
        )
    return (
        f"(SELECT '{mark}own' || r.owner_department_id || CASE WHEN r.sharing_type IN ({shared}) THEN "
        f"CASE WHEN r.scope_all THEN ' {mark}seeall' "
        f"ELSE coalesce((SELECT ' ' || group_concat({scope_term}, ' ') {scope_rows}), '') END ELSE '' END "
        f"|| coalesce((SELECT ' ' || group_concat({grant_term}, ' ') {grant_rows}), '') "
        f"FROM {resources} r WHERE r.id = {resource_id})"
    )
