"""Random organizations for property tests, reusable by route-level tests.

`org_specs()` draws a plain description of an organization (department tree, people, resources,
grants), which Hypothesis can shrink and print; `build_world(spec)` turns it into rows through the
services and returns fresh objects; `expected(world, user, action, resource)` is an independent,
plain-Python reading of the rules in the docstring of `sharehub.policy.engine`.

Call `build_world` inside a transaction that the caller rolls back, one per example:

    @given(spec=org_specs())
    def test_something(db, spec):
        with transaction.atomic():
            world = build_world(spec)
            ...
            transaction.set_rollback(True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from hypothesis import strategies as st

from sharehub.access.models import Grant
from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.org import services as org
from sharehub.org.models import Department, Membership, User
from sharehub.policy.engine import Action
from tests import factories

ROLES = (Membership.Role.MEMBER, Membership.Role.STEWARD, Membership.Role.HEAD)
SHARING = tuple(Resource.SharingType.values)
ARCHIVED_DRAFT = "archived-draft"  # a draft archived without ever being published
STATUSES = (*Resource.Status.values, ARCHIVED_DRAFT)
GRANT_STATES = ("active", "expired", "revoked", "future")


@dataclass(frozen=True)
class PersonSpec:
    memberships: tuple[tuple[int, str], ...]  # (department index, role)
    admin: bool = False
    auditor: bool = False
    active: bool = True
    service: bool = False  # a service account: one plain membership, no organization roles


@dataclass(frozen=True)
class ResourceSpec:
    owner: int
    sharing: str
    scope: tuple[int, ...] | None  # None: the whole organization
    status: str


@dataclass(frozen=True)
class GrantSpec:
    resource: int
    person: int | None  # exactly one of person / department
    department: int | None
    state: str


@dataclass(frozen=True)
class OrgSpec:
    parents: tuple[int | None, ...]  # parents[i] < i, or None for a root
    people: tuple[PersonSpec, ...]
    resources: tuple[ResourceSpec, ...]
    grants: tuple[GrantSpec, ...]


@st.composite
def org_specs(draw, *, min_departments: int = 2, max_departments: int = 8, max_people: int = 6, max_resources: int = 8):
    n = draw(st.integers(min_departments, max_departments))
    parents = tuple([None] + [draw(st.none() | st.integers(0, i - 1)) for i in range(1, n)])
    dept = st.integers(0, n - 1)

    def person(service: bool) -> PersonSpec:
        if service:
            return PersonSpec(memberships=((draw(dept), Membership.Role.MEMBER),), service=True)
        memberships = draw(st.dictionaries(dept, st.sampled_from(ROLES), max_size=3))
        return PersonSpec(
            memberships=tuple(sorted(memberships.items())),
            admin=draw(st.sampled_from((False, False, False, True))),
            auditor=draw(st.booleans()),
            active=draw(st.sampled_from((True, True, True, False))),
        )

    kinds = draw(st.lists(st.sampled_from((False, False, False, True)), min_size=1, max_size=max_people))
    people = tuple(person(service) for service in kinds)
    resources = tuple(
        draw(
            st.lists(
                st.builds(
                    ResourceSpec,
                    owner=dept,
                    sharing=st.sampled_from(SHARING),
                    scope=st.none() | st.lists(dept, min_size=1, max_size=3, unique=True).map(tuple),
                    status=st.sampled_from(STATUSES),
                ),
                max_size=max_resources,
            )
        )
    )
    grants: list[GrantSpec] = []
    if resources:
        for _ in range(draw(st.integers(0, 6))):
            to_person = draw(st.booleans())
            grants.append(
                GrantSpec(
                    resource=draw(st.integers(0, len(resources) - 1)),
                    person=draw(st.integers(0, len(people) - 1)) if to_person else None,
                    department=None if to_person else draw(dept),
                    state=draw(st.sampled_from(GRANT_STATES)),
                )
            )
    return OrgSpec(parents=parents, people=people, resources=resources, grants=tuple(grants))


@dataclass
class World:
    spec: OrgSpec
    departments: list[Department]
    people: list[User]  # the drawn people, in spec order (fresh objects)
    everyone: list  # every account in the database (fresh objects), and an anonymous visitor
    resources: list[Resource]
    grants: list[Grant] = field(default_factory=list)


def _grant_period(state: str, now):
    if state == "expired":
        return now - timedelta(days=30), now - timedelta(hours=1), None
    if state == "future":
        return now + timedelta(days=1), now + timedelta(days=30), None
    revoked = now - timedelta(minutes=1) if state == "revoked" else None
    return now - timedelta(days=1), now + timedelta(days=30), revoked


def build_world(spec: OrgSpec) -> World:
    """Create the organization of `spec`: departments, people and resources through the services,
    grants directly. Owner departments without an active steward or head get a helper steward."""
    departments: list[Department] = []
    for i, parent in enumerate(spec.parents):
        departments.append(
            org.create_department(
                None, name=f"性质部门{i}", code=f"PD{i}", parent=departments[parent] if parent is not None else None
            )
        )
    people: list[User] = []
    for i, p in enumerate(spec.people):
        if p.service:
            (index, _role), *_ = p.memberships
            user = org.create_service_account(None, department=departments[index], username=f"svc{i}")
        else:
            user = org.create_person(
                None, username=f"p{i}", is_org_admin=p.admin, is_auditor=p.auditor, check_password=False
            )
            for index, role in p.memberships:
                org.set_membership(None, user, departments[index], role)
        people.append(user)

    stewards: dict[int, User] = {}
    for r in spec.resources:
        if r.owner in stewards:
            continue
        candidates = [
            user
            for user, p in zip(people, spec.people, strict=True)
            if p.active and any(d == r.owner and role != Membership.Role.MEMBER for d, role in p.memberships)
        ]
        if not candidates:
            helper = org.create_person(None, username=f"steward{r.owner}", check_password=False)
            org.set_membership(None, helper, departments[r.owner], Membership.Role.STEWARD)
            candidates = [helper]
        stewards[r.owner] = candidates[0]

    resources: list[Resource] = []
    for r in spec.resources:
        steward = User.objects.get(pk=stewards[r.owner].pk)
        resource = factories.resource(
            departments[r.owner],
            by=steward,
            sharing_type=r.sharing,
            publish=r.status not in (Resource.Status.DRAFT, ARCHIVED_DRAFT),
            scope=None if r.scope is None else [departments[d] for d in r.scope],
        )
        if r.status in (Resource.Status.ARCHIVED, ARCHIVED_DRAFT):
            resource = catalog.transition(steward, resource, "archive")
        resources.append(resource)

    now = timezone.now()
    grants = []
    for g in spec.grants:
        start, end, revoked = _grant_period(g.state, now)
        grants.append(
            Grant.objects.create(
                resource=resources[g.resource],
                grantee_user=people[g.person] if g.person is not None else None,
                grantee_department=departments[g.department] if g.department is not None else None,
                purpose="性质测试。",
                valid_from=start,
                valid_until=end,
                revoked_at=revoked,
            )
        )
    inactive = [user.pk for user, p in zip(people, spec.people, strict=True) if not p.active]
    User.objects.filter(pk__in=inactive).update(is_active=False)

    # Fresh objects: the policy caches an actor's memberships on the object it is given.
    fresh = {u.pk: u for u in User.objects.order_by("pk")}
    return World(
        spec=spec,
        departments=departments,
        people=[fresh[u.pk] for u in people],
        everyone=[*fresh.values(), AnonymousUser()],
        resources=list(
            Resource.objects.filter(pk__in=[r.pk for r in resources])
            .select_related("owner_department", "steward")
            .prefetch_related("scope_departments")
            .order_by("pk")
        ),
        grants=grants,
    )


# ---------------------------------------------------------------------------------------------
# The oracle: the engine's docstring, read plainly, on rows loaded once per world.


@dataclass
class Oracle:
    ancestors: dict[int, set[int]]  # department id -> itself and all its ancestors
    users: dict[int, tuple[bool, bool, dict[int, str]]]  # id -> (active, admin, {department id: role})
    grants: list[tuple[int, int | None, int | None, bool]]  # (resource, user, department, active now)
    scopes: dict[int, set[int] | None]  # resource id -> scope departments, None for the whole organization

    @classmethod
    def load(cls, world: World, now=None) -> Oracle:
        """The rules as they stand at `now` (default: the present): which grants are active then."""
        now = now or timezone.now()
        parent = dict(Department.objects.values_list("pk", "parent_id"))
        ancestors = {}
        for pk in parent:
            chain, node = set(), pk
            while node is not None:
                chain.add(node)
                node = parent[node]
            ancestors[pk] = chain
        users = {}
        for user in User.objects.all():
            roles = dict(Membership.objects.filter(user=user).values_list("department_id", "role"))
            users[user.pk] = (user.is_active, user.is_org_admin and not user.is_service, roles)
        grants = [
            (
                g.resource_id,
                g.grantee_user_id,
                g.grantee_department_id,
                g.revoked_at is None and g.valid_from <= now < g.valid_until,
            )
            for g in Grant.objects.all()
        ]
        scopes = {r.pk: None if r.scope_all else {d.pk for d in r.scope_departments.all()} for r in world.resources}
        return cls(ancestors=ancestors, users=users, grants=grants, scopes=scopes)

    def allows(self, user, action: Action, resource: Resource) -> bool:
        if user.pk is None or not self.users[user.pk][0]:
            return False  # signed out or deactivated
        _active, admin, roles = self.users[user.pk]
        if admin:
            return True
        owner_role = roles.get(resource.owner_department_id)
        if action == Action.MANAGE:
            return owner_role in (Membership.Role.STEWARD, Membership.Role.HEAD)
        if owner_role is not None:
            return True  # view, read, edit: any member of the owner department
        if action == Action.EDIT:
            return False
        never_published = resource.status == Resource.Status.DRAFT or resource.published_at is None
        if never_published or resource.sharing_type == Resource.SharingType.RESTRICTED:
            return False
        scope = self.scopes[resource.pk]
        mine = set().union(*(self.ancestors[d] for d in roles)) if roles else set()
        in_scope = scope is None or bool(scope & mine)
        if resource.sharing_type == Resource.SharingType.OPEN:
            return in_scope
        granted = any(
            active and r == resource.pk and (u == user.pk or (d is not None and d in roles))
            for r, u, d, active in self.grants
        )
        return granted or (in_scope and action == Action.VIEW)
