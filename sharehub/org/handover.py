"""The rules of a handover: what a person holds when they leave, who takes it over, and the one transaction
that passes it on and deactivates them.

What a person may hold lives in several apps. Each kind is a `Part`, registered here: the organization's own
(departments where they are the only steward or only head, their API tokens), the catalog's (resources they
steward) in this module, since org may read the catalog; the others (access requests and grants, webhooks and
follows) by their apps in `AppConfig.ready()`, so that org never imports them. A part lists what the person
holds (step 1 of the wizard) and, if something must happen to it, does it inside the handover's transaction
through its app's own services, each change with its own event.

`leave` is the part that needs no successor (their own requests withdrawn, personal grants ended, tokens
revoked, account deactivated, sessions ended); the directory sync applies it to people who left the
directory, the wizard to everyone it deactivates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sharehub.errors import Conflict, Invalid, NotFound
from sharehub.events.services import record
from sharehub.org import services
from sharehub.org.models import ApiToken, Department, Membership, User
from sharehub.policy.engine import OrgAction, can, forget
from sharehub.validation import parse_id

Role = Membership.Role
RANK = {Role.MEMBER: 0, Role.STEWARD: 1, Role.HEAD: 2}
MANAGERS = (Role.STEWARD, Role.HEAD)
SHOWN = 50  # items of one part listed in the wizard; the count says how many more


@dataclass(frozen=True)
class Item:
    """One thing a person holds, as the wizard lists it."""

    label: str
    key: int | None = None  # the id a successor is chosen for (a department, a resource)
    department_id: int | None = None  # the department it belongs to (where the successor must be a member)
    detail: str = ""
    url: str = ""


@dataclass(frozen=True)
class Part:
    """A kind of thing a person may hold. `held(person)` lists it (at most SHOWN items) and counts it;
    `hand_over(actor, person, plan)` does what the handover does to it, inside its transaction, and returns
    how many items changed (None: nothing to do, e.g. it follows the department's successor)."""

    key: str
    title: object
    outcome: object  # what the handover does to it, in words
    held: Callable[[User], tuple[list[Item], int]]
    hand_over: Callable[[object, User, Plan], int] | None = None
    order: int = 50
    needs_successor: bool = False  # each item needs a successor chosen in step 2
    on_leave: bool = False  # also done when someone leaves without a handover (the directory sync)


_parts: dict[str, Part] = {}


def register(part: Part) -> None:
    """Called by each app (its AppConfig.ready) for what a person may hold there."""
    _parts[part.key] = part


def parts() -> list[Part]:
    return sorted(_parts.values(), key=lambda p: (p.order, p.key))


# --- what a person holds ---------------------------------------------------------------------------------


@dataclass
class Holding:
    part: Part
    items: list[Item]
    count: int

    @property
    def more(self) -> int:
        return max(self.count - len(self.items), 0)


@dataclass
class Holdings:
    person: User
    holdings: list[Holding]

    @property
    def needs_successor(self) -> bool:
        return any(h.part.needs_successor and h.count for h in self.holdings)

    @property
    def anything(self) -> bool:
        return any(h.count for h in self.holdings)

    def of(self, key: str) -> Holding | None:
        return next((h for h in self.holdings if h.part.key == key), None)

    def summary(self) -> str:
        return ", ".join(f"{h.part.title}: {h.count}" for h in self.holdings if h.count)


def require_admin(actor) -> None:
    """Organization admins only; anyone else is told the person does not exist (404)."""
    if not can(actor, OrgAction.MANAGE_ORG):
        raise NotFound()


def holdings(actor, person: User) -> Holdings:
    """Step 1: what the person holds, part by part (a few statements per part)."""
    require_admin(actor)
    found = []
    for part in parts():
        items, count = part.held(person)
        found.append(Holding(part, items, count))
    return Holdings(person, found)


def refusal(actor, person: User) -> str:
    """Why `actor` may not deactivate `person` ("" when they may): not themselves, not the last active admin."""
    if getattr(actor, "pk", None) == person.pk:
        return gettext("You cannot deactivate yourself; another admin can.")
    if person.is_org_admin and person.is_active and not active_admins().exclude(pk=person.pk).exists():
        return gettext("%(name)s is the last active admin; make someone else admin first.") % {"name": person}
    return ""


def active_admins():
    return User.objects.filter(is_org_admin=True, is_active=True, kind=User.Kind.PERSON)


# --- step 2: the successors ------------------------------------------------------------------------------


@dataclass
class Plan:
    """Who takes over what: one successor for everything (`successor`), or one per department or resource
    (`departments`, `resources`: id -> person)."""

    successor: User | None = None
    departments: dict[int, User] = field(default_factory=dict)
    resources: dict[int, User] = field(default_factory=dict)
    reason: str = ""

    def for_department(self, department_id: int) -> User | None:
        return self.departments.get(department_id) or self.successor

    def for_resource(self, resource_id: int, department_id: int) -> User | None:
        return self.resources.get(resource_id) or self.departments.get(department_id) or self.successor

    def as_form(self) -> dict[str, str]:
        """The plan as the form fields that give it again (the confirm step's hidden fields)."""
        data = {"successor": str(self.successor.pk) if self.successor else "", "reason": self.reason}
        data.update({f"department-{k}": str(v.pk) for k, v in self.departments.items()})
        data.update({f"resource-{k}": str(v.pk) for k, v in self.resources.items()})
        return data


MAX_REASON = 500


def candidates(person: User):
    """Who may be chosen as a successor: active people other than the leaver (their departments prefetched)."""
    return (
        User.objects.filter(is_active=True, kind=User.Kind.PERSON)
        .exclude(pk=person.pk)
        .order_by("display_name", "username")
    )


def plan_from(actor, person: User, data, found: Holdings) -> Plan:
    """Read and check step 2's form (`successor`, `department-<id>`, `resource-<id>`, `reason`): every
    department and resource that needs one has a successor who is active and a member of that department.
    Invalid names each field that is wrong or missing."""
    require_admin(actor)
    errors: dict[str, str] = {}
    wanted_ids = {
        parse_id(v) for k, v in data.items() if k == "successor" or k.startswith(("department-", "resource-"))
    }
    people = {u.pk: u for u in candidates(person).filter(pk__in=[i for i in wanted_ids if i])}
    memberships: dict[int, dict[int, str]] = {}
    for user_id, department_id, role in Membership.objects.filter(user_id__in=list(people)).values_list(
        "user_id", "department_id", "role"
    ):
        memberships.setdefault(user_id, {})[department_id] = role

    def chosen(name: str) -> User | None:
        text = (data.get(name) or "").strip()
        if not text:
            return None
        user = people.get(parse_id(text) or 0)
        if user is None:
            errors[name] = gettext("Choose an active person other than %(name)s.") % {"name": person}
        return user

    plan = Plan(successor=chosen("successor"))
    reason = (data.get("reason") or "").strip()
    if "\x00" in reason or len(reason) > MAX_REASON:
        errors["reason"] = gettext("At most %(n)s characters.") % {"n": MAX_REASON}
    plan.reason = reason
    departments = found.of("departments")
    for item in departments.items if departments else []:
        name = f"department-{item.key}"
        user = chosen(name)
        if user is not None:
            plan.departments[item.key] = user
        if name in errors:
            continue
        successor = plan.for_department(item.key)
        if successor is None:
            errors[name] = gettext("Choose who takes over in %(department)s.") % {"department": item.label}
        elif item.key not in memberships.get(successor.pk, {}):
            errors[name] = gettext(
                "%(name)s is not a member of %(department)s; choose someone from that department."
            ) % {"name": successor, "department": item.label}
    resources = found.of("resources")
    for item in resources.items if resources else []:
        name = f"resource-{item.key}"
        user = chosen(name)
        if user is not None:
            plan.resources[item.key] = user
        if name in errors:
            continue
        successor = plan.for_resource(item.key, item.department_id)
        department = item.detail
        if successor is None:
            errors[name] = gettext("Choose who stewards %(resource)s.") % {"resource": item.label}
        elif item.department_id not in memberships.get(successor.pk, {}):
            errors[name] = gettext("%(name)s is not a member of %(department)s, which owns %(resource)s.") % {
                "name": successor,
                "department": department,
                "resource": item.label,
            }
    if errors:
        raise Invalid(fields=errors)
    return plan


# --- step 3: the handover --------------------------------------------------------------------------------


def _locked_person(person: User) -> User:
    locked = User.objects.select_for_update().filter(pk=person.pk).first()
    if locked is None:
        raise NotFound()
    if not locked.is_active:
        raise Conflict(
            gettext("%(name)s was deactivated meanwhile (perhaps by another admin); nothing was changed.")
            % {"name": locked},
            fields={"person": "deactivated"},
        )
    return locked


def hand_over(actor, person: User, plan: Plan) -> Counter:
    """Step 3, in ONE transaction: each successor takes over their department role and resources, then
    `leave` (own requests withdrawn, personal grants ended, tokens revoked, deactivated, sessions ended), and
    a `person.handed_over` event with the counts. Conflict if someone deactivated the person meanwhile;
    Invalid if the plan no longer fits what they hold (checked again inside the transaction)."""
    require_admin(actor)
    with transaction.atomic():
        person = _locked_person(person)
        why = refusal(actor, person)
        if why:
            raise Invalid(fields={"person": why})
        found = holdings(actor, person)
        plan = plan_from(actor, person, plan.as_form(), found)  # what they hold may have changed since step 2
        counts: Counter = Counter()
        for part in parts():
            if part.needs_successor and part.hand_over is not None:
                counts[part.key] += part.hand_over(actor, person, plan) or 0
        reason = plan.reason or gettext("%(name)s left; handed over by an admin.") % {"name": person}
        counts.update(_leave(actor, person, reason))
        successors = sorted(
            {u.pk for u in [plan.successor, *plan.departments.values(), *plan.resources.values()] if u is not None}
        )
        record(
            actor,
            "person.handed_over",
            person,
            departments=[
                item.key for holding in found.holdings if holding.part.key == "departments" for item in holding.items
            ],
            details={"successors": successors, "counts": dict(sorted(counts.items())), "recipients": successors},
        )
    return counts


def leave(actor, person: User, *, reason: str, dry_run: bool = False) -> Counter:
    """What leaving does without a successor: the parts marked `on_leave` (own open requests withdrawn,
    personal grants ended, tokens revoked, ...), then the account deactivated (person.updated), which ends its
    sessions: Django signs no inactive account in. Inside the caller's transaction (or its own). Returns counts
    per part; a dry run only counts."""
    if dry_run:
        return Counter({p.key: p.held(person)[1] for p in parts() if p.on_leave})
    with transaction.atomic():
        return _leave(actor, person, reason)


def _leave(actor, person: User, reason: str) -> Counter:
    counts: Counter = Counter()
    for part in parts():
        if part.on_leave and part.hand_over is not None:
            counts[part.key] += part.hand_over(actor, person, Plan(reason=reason)) or 0
    services.update_person(actor, person, is_active=False)  # its sessions sign no one in from the next request
    forget(person)
    return counts


# --- the organization's own parts and the catalog's ------------------------------------------------------


def _sole_managed(person: User) -> list[tuple[Department, str]]:
    """Departments where the person is the only active steward, or the only active head, with that role."""
    own = list(
        Membership.objects.filter(user=person, role__in=MANAGERS, department__archived_at__isnull=True)
        .select_related("department")
        .order_by("department__path")
    )
    if not own:
        return []
    counted = Counter(
        Membership.objects.filter(
            department_id__in=[m.department_id for m in own], user__is_active=True, role__in=MANAGERS
        )
        .exclude(user=person)
        .values_list("department_id", "role")
    )
    return [(m.department, m.role) for m in own if not counted[(m.department_id, m.role)]]


def _departments_held(person: User) -> tuple[list[Item], int]:
    roles = dict(Role.choices)
    sole = _sole_managed(person)
    items = [
        Item(
            label=department.name,
            key=department.pk,
            department_id=department.pk,
            detail=gettext("the only %(role)s") % {"role": roles[role]},
        )
        for department, role in sole
    ]
    return items, len(items)


def _hand_over_departments(actor, person: User, plan: Plan) -> int:
    """Each successor gets the person's role in the department (a higher role they hold already stays)."""
    changed = 0
    for department, role in _sole_managed(person):
        successor = plan.for_department(department.pk)
        current = Membership.objects.filter(user=successor, department=department).values_list("role", flat=True)
        current_role = current.first()
        if current_role is None:
            raise Invalid(fields={f"department-{department.pk}": gettext("The successor is not a member.")})
        if RANK[current_role] < RANK[role]:
            services.set_membership(actor, successor, department, role)
            changed += 1
    return changed


def _tokens_held(person: User) -> tuple[list[Item], int]:
    tokens = ApiToken.objects.filter(user=person, revoked_at__isnull=True).order_by("-created_at")
    active = [t for t in tokens[: SHOWN * 2] if t.is_active][:SHOWN]
    count = sum(1 for t in tokens if t.is_active) if len(active) == SHOWN else len(active)
    return [Item(label=t.name, key=t.pk, detail=f"{t.prefix}…") for t in active], count


def _revoke_tokens(actor, person: User, plan: Plan) -> int:
    tokens = list(ApiToken.objects.filter(user=person, revoked_at__isnull=True).order_by("pk"))
    for token in tokens:
        services.revoke_token(actor, token)
    return len(tokens)


def _resources_held(person: User) -> tuple[list[Item], int]:
    from sharehub.catalog.models import Resource

    stewarded = (
        Resource.objects.filter(steward=person)
        .exclude(status=Resource.Status.ARCHIVED)
        .select_related("owner_department")
        .order_by("owner_department__path", "code")
    )
    items = [
        Item(
            label=f"{r.code} {r.title}",
            key=r.pk,
            department_id=r.owner_department_id,
            detail=r.owner_department.name,
            url=reverse("catalog:detail", args=[r.code]),
        )
        for r in stewarded[:SHOWN]
    ]
    return items, (stewarded.count() if len(items) == SHOWN else len(items))


def _hand_over_resources(actor, person: User, plan: Plan) -> int:
    """The successor of each resource becomes its steward (and a steward of its owner department if they
    were only a member there), through the catalog's own edit (a version and a resource.updated event)."""
    from sharehub.catalog import services as catalog
    from sharehub.catalog.models import Resource

    changed = 0
    resources = Resource.objects.filter(steward=person).exclude(status=Resource.Status.ARCHIVED).order_by("pk")
    for resource in resources.select_related("owner_department"):
        successor = plan.for_resource(resource.pk, resource.owner_department_id)
        role = (
            Membership.objects.filter(user=successor, department_id=resource.owner_department_id)
            .values_list("role", flat=True)
            .first()
        )
        if role is None:
            raise Invalid(fields={f"resource-{resource.pk}": gettext("The successor is not a member.")})
        if role == Role.MEMBER:
            services.set_membership(actor, successor, resource.owner_department, Role.STEWARD)
        catalog.update_resource(actor, resource, {"steward": successor.pk}, note=gettext("handover"))
        changed += 1
    return changed


register(
    Part(
        key="departments",
        title=_("Departments where they are the only steward or head"),
        outcome=_("The successor takes their role there, and decides the department's requests."),
        held=_departments_held,
        hand_over=_hand_over_departments,
        order=10,
        needs_successor=True,
    )
)
register(
    Part(
        key="resources",
        title=_("Resources they steward"),
        outcome=_("The successor becomes the steward."),
        held=_resources_held,
        hand_over=_hand_over_resources,
        order=20,
        needs_successor=True,
    )
)
register(
    Part(
        key="tokens",
        title=_("Their API tokens"),
        outcome=_("Revoked."),
        held=_tokens_held,
        hand_over=_revoke_tokens,
        order=80,
        on_leave=True,
    )
)


def people_holding(person_ids) -> set[int]:
    """Of these people, those who hold something a successor must take over (only steward or head somewhere,
    or steward of a resource): the bulk deactivation sends them to the wizard. Two statements."""
    from sharehub.catalog.models import Resource

    ids = [int(i) for i in person_ids]
    if not ids:
        return set()
    holding = set(
        Resource.objects.filter(steward_id__in=ids)
        .exclude(status=Resource.Status.ARCHIVED)
        .values_list("steward_id", flat=True)
        .distinct()
    )
    managed = list(
        Membership.objects.filter(user_id__in=ids, role__in=MANAGERS, department__archived_at__isnull=True).values_list(
            "user_id", "department_id", "role"
        )
    )
    if managed:
        others = Counter(
            Membership.objects.filter(
                Q(department_id__in={d for _u, d, _r in managed}), user__is_active=True, role__in=MANAGERS
            ).values_list("department_id", "role")
        )
        for user_id, department_id, role in managed:
            if others[(department_id, role)] <= 1:
                holding.add(user_id)
    return holding


def successor_choices(found: Holdings) -> tuple[list[User], dict[int, list[User]]]:
    """Who may take over: for each department involved (those managed alone and the resources' owners), its
    active members other than the leaver; for everything at once, anyone among them. One statement."""
    department_ids = set()
    for key in ("departments", "resources"):
        holding = found.of(key)
        department_ids.update(item.department_id for item in (holding.items if holding else []))
    by_department: dict[int, list[User]] = {d: [] for d in department_ids}
    everyone: dict[int, User] = {}
    members = (
        Membership.objects.filter(department_id__in=department_ids, user__is_active=True, user__kind=User.Kind.PERSON)
        .exclude(user=found.person)
        .select_related("user")
        .order_by("user__display_name", "user__username")
    )
    for membership in members:
        by_department[membership.department_id].append(membership.user)
        everyone.setdefault(membership.user_id, membership.user)
    return list(everyone.values()), by_department
