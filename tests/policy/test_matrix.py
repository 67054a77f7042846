"""The policy matrix: every role x sharing type x scope x status x action, with grant variants.

The expected answers below are written out by hand from the rules in the docstring of
`sharehub.policy.engine` (never computed by calling the engine). Each case checks both halves of
the policy against that table: `can(...)` for the single decision, and membership in
`visible(actor, Resource.objects.all(), action)` for the SQL filter.

The organization, used by every case:

    ROOT (上级局)                parent department of the scope
      SCOPE (业务处)             the department chosen in "chosen" scopes
        SUB (业务科)             a sub-department of SCOPE: covered by the scope
    OWNER (数据局)               owns every resource
    OUT (外部局)                 never in a chosen scope; receives the grants
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone

from sharehub.access.models import Grant
from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.org import services as org
from sharehub.org.models import User
from sharehub.policy.engine import Action, can, visible
from tests import factories

# The matrix cases only read the module's world (the module fixture keeps the database open for
# them); the few tests that write are marked `django_db` and roll back.

OPEN, CONDITIONAL, RESTRICTED = "open", "conditional", "restricted"
DRAFT, PUBLISHED, ARCHIVED = "draft", "published", "archived"
STATUSES = (DRAFT, PUBLISHED, ARCHIVED)
ACTIONS = (Action.VIEW, Action.READ, Action.EDIT, Action.MANAGE)
LETTER = {Action.VIEW: "V", Action.READ: "R", Action.EDIT: "E", Action.MANAGE: "M"}

# ---------------------------------------------------------------------------------------------
# The roles, and what each one is to a resource owned by OWNER.
# "in_scope" / "out_of_scope" are for a scope of chosen departments (SCOPE); for a scope of the
# whole organization every signed-in, active account counts as in scope (see the note below).
ROLE_RELATION = {
    "admin": "admin",  # organization admin, no department
    "auditor": "out_of_scope",  # auditor, no department: the audit trail and nothing else extra
    "owner_member": "owner",
    "owner_steward": "owner_manager",
    "owner_head": "owner_manager",
    "scope_member": "in_scope",  # member of SCOPE
    "sub_member": "in_scope",  # member of SUB, a sub-department of SCOPE: scope covers sub-departments
    "parent_member": "out_of_scope",  # member of ROOT, the parent of SCOPE: scope does not cover parents
    "out_member": "out_of_scope",  # member of OUT
    "nodept": "out_of_scope",  # a person in no department
    "service": "in_scope",  # service account owned by SCOPE
    "anonymous": "anonymous",
    "inactive_owner": "anonymous",  # a deactivated member of OWNER counts as signed out
}
ROLES = tuple(ROLE_RELATION)

# Note on "whole organization": the docstring says "whose scope includes one of their departments".
# The whole organization is read as including every signed-in account of the organization, also
# people who are in no department yet (the auditor and `nodept` here). Reported as a wording
# ambiguity of the docstring, not as a bug.

# The table: relation x sharing type -> allowed actions for (draft, published, archived), without grants.
#   V view the entry, R read the content, E edit, M manage (publish, archive, restore, change sharing)
TABLE: dict[tuple[str, str], tuple[str, str, str]] = {
    # relation        sharing          draft    published  archived
    ("admin", OPEN): ("VREM", "VREM", "VREM"),
    ("admin", CONDITIONAL): ("VREM", "VREM", "VREM"),
    ("admin", RESTRICTED): ("VREM", "VREM", "VREM"),
    ("owner_manager", OPEN): ("VREM", "VREM", "VREM"),
    ("owner_manager", CONDITIONAL): ("VREM", "VREM", "VREM"),
    ("owner_manager", RESTRICTED): ("VREM", "VREM", "VREM"),
    ("owner", OPEN): ("VRE", "VRE", "VRE"),
    ("owner", CONDITIONAL): ("VRE", "VRE", "VRE"),
    ("owner", RESTRICTED): ("VRE", "VRE", "VRE"),
    ("in_scope", OPEN): ("", "VR", "VR"),
    ("in_scope", CONDITIONAL): ("", "V", "V"),
    ("in_scope", RESTRICTED): ("", "", ""),
    ("out_of_scope", OPEN): ("", "", ""),
    ("out_of_scope", CONDITIONAL): ("", "", ""),
    ("out_of_scope", RESTRICTED): ("", "", ""),
    ("anonymous", OPEN): ("", "", ""),
    ("anonymous", CONDITIONAL): ("", "", ""),
    ("anonymous", RESTRICTED): ("", "", ""),
}

# Grant variants. An *active* grant on a published or archived conditional resource lets a person who
# is not an owner see the entry and read the content, in scope or not ("reads conditional content
# with an active grant to them or to one of their departments"; reading implies seeing the entry).
# It does nothing for drafts (only the owner sees them), nor for open or restricted resources.
# Which roles hold an active grant through each variant:
GRANT_HOLDERS = {
    "person": {"out_member"},  # active grant to out_member
    "dept": {"out_member"},  # active grant to OUT
    "root_dept": {"parent_member"},  # active grant to ROOT: its sub-departments do not inherit it
    "expired": set(),  # to out_member and to OUT, ended an hour ago
    "revoked": set(),  # to out_member and to OUT, within its period but revoked
    "future": set(),  # to out_member and to OUT, starting tomorrow
}
GRANTED = "VR"


@dataclass(frozen=True)
class Case:
    sharing: str
    scope: str  # "all" or "chosen"
    status: str
    grant: str | None = None

    @property
    def id(self) -> str:
        return f"{self.sharing}-{self.scope}-{self.status}" + (f"-grant_{self.grant}" if self.grant else "")


CASES: list[Case] = [
    Case(sharing, scope, status)
    for sharing in (OPEN, CONDITIONAL, RESTRICTED)
    for scope in ("all", "chosen")
    for status in STATUSES
]
CASES += [
    Case(CONDITIONAL, scope, status, grant)
    for grant in GRANT_HOLDERS
    for scope in ("all", "chosen")
    for status in STATUSES
]
# An active grant to out_member on open and restricted resources changes nothing.
CASES += [
    Case(sharing, scope, status, "person")
    for sharing in (OPEN, RESTRICTED)
    for scope in ("all", "chosen")
    for status in STATUSES
]


def expected(role: str, case: Case) -> str:
    relation = ROLE_RELATION[role]
    if case.scope == "all" and relation == "out_of_scope":
        relation = "in_scope"
    allowed = TABLE[(relation, case.sharing)][STATUSES.index(case.status)]
    holds_grant = case.grant is not None and role in GRANT_HOLDERS[case.grant]
    if holds_grant and case.sharing == CONDITIONAL and case.status != DRAFT:
        allowed = "".join(sorted(set(allowed) | set(GRANTED), key="VREM".index))
    return allowed


# ---------------------------------------------------------------------------------------------
@dataclass
class World:
    actors: dict
    resources: dict[Case, Resource]
    _visible: dict = field(default_factory=dict)

    def visible_ids(self, role: str, action: Action) -> set[int]:
        key = (role, action)
        if key not in self._visible:
            self._visible[key] = set(
                visible(self.actors[role], Resource.objects.all(), action).values_list("pk", flat=True)
            )
        return self._visible[key]


def _grant(resource, *, user=None, dept=None, state="active"):
    now = timezone.now()
    start, end, revoked = now - timedelta(days=1), now + timedelta(days=30), None
    if state == "expired":
        start, end = now - timedelta(days=30), now - timedelta(hours=1)
    elif state == "future":
        start, end = now + timedelta(days=1), now + timedelta(days=30)
    elif state == "revoked":
        revoked = now - timedelta(minutes=5)
    return Grant.objects.create(
        resource=resource,
        grantee_user=user,
        grantee_department=dept,
        purpose="核验纳税记录。",
        valid_from=start,
        valid_until=end,
        revoked_at=revoked,
    )


def _build() -> World:
    root = factories.department("矩阵上级局", "MROOT")
    scope = factories.department("矩阵业务处", "MSCOPE", parent=root)
    sub = factories.department("矩阵业务科", "MSUB", parent=scope)
    owner = factories.department("矩阵数据局", "MOWNER")
    out = factories.department("矩阵外部局", "MOUT")
    people = {
        "admin": factories.person("m_admin", admin=True),
        "auditor": factories.person("m_auditor", auditor=True),
        "owner_member": factories.member(owner, "member", username="m_owner_member"),
        "owner_steward": factories.member(owner, "steward", username="m_owner_steward"),
        "owner_head": factories.member(owner, "head", username="m_owner_head"),
        "scope_member": factories.member(scope, "member", username="m_scope_member"),
        "sub_member": factories.member(sub, "member", username="m_sub_member"),
        "parent_member": factories.member(root, "member", username="m_parent_member"),
        "out_member": factories.member(out, "member", username="m_out_member"),
        "nodept": factories.person("m_nodept"),
        "service": org.create_service_account(None, department=scope, username="m_service"),
        "inactive_owner": factories.member(owner, "member", username="m_inactive"),
    }
    User.objects.filter(pk=people["inactive_owner"].pk).update(is_active=False)
    steward = people["owner_steward"]
    resources = {}
    for case in CASES:
        resource = factories.resource(
            owner,
            by=steward,
            sharing_type=case.sharing,
            publish=case.status != DRAFT,
            scope=None if case.scope == "all" else [scope],
            title=f"矩阵 {case.id}",
        )
        if case.status == ARCHIVED:
            resource = catalog.transition(steward, resource, "archive")
        if case.grant in ("person",):
            _grant(resource, user=people["out_member"])
        elif case.grant == "dept":
            _grant(resource, dept=out)
        elif case.grant == "root_dept":
            _grant(resource, dept=root)
        elif case.grant in ("expired", "revoked", "future"):
            _grant(resource, user=people["out_member"], state=case.grant)
            _grant(resource, dept=out, state=case.grant)
        resources[case] = resource.pk
    loaded = Resource.objects.select_related("owner_department", "steward").prefetch_related("scope_departments")
    by_pk = {r.pk: r for r in loaded.filter(pk__in=resources.values())}
    resources = {case: by_pk[pk] for case, pk in resources.items()}
    # Fresh user objects: the policy caches memberships on the object it was given.
    actors = {role: User.objects.get(pk=user.pk) for role, user in people.items()}
    actors["anonymous"] = AnonymousUser()
    return World(actors=actors, resources=resources)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        world = _build()
        yield world
        transaction.set_rollback(True)


def test_table_covers_every_role_and_case():
    assert set(ROLES) == set(ROLE_RELATION)
    assert len(CASES) == len({c.id for c in CASES})
    relations = {r for r, _s in TABLE}
    assert relations >= set(ROLE_RELATION.values())


def _is_sentence(text: str) -> bool:
    """Words a person can read: not empty, not a code, every placeholder filled. (Messages may end
    with data, e.g. the resource's conditions, so no closing punctuation is required.)"""
    text = str(text).strip()
    return len(text) >= 6 and not text.isidentifier() and "%(" not in text and "{" not in text


@pytest.mark.parametrize("action", ACTIONS, ids=[a.value for a in ACTIONS])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@pytest.mark.parametrize("role", ROLES)
def test_matrix(world, role, case, action):
    actor = world.actors[role]
    resource = world.resources[case]
    want = LETTER[action] in expected(role, case)

    decision = can(actor, action, resource)
    assert decision.allowed is want, f"can(): {decision.code}: {decision.message}"
    assert (resource.pk in world.visible_ids(role, action)) is want, "visible() disagrees with the table"

    assert _is_sentence(decision.message), f"not a sentence: {decision.message!r}"
    assert decision.code
    if decision.code in ("restricted", "conditional_no_grant"):
        assert _is_sentence(decision.next_step), f"no next step for {decision.code}"
    reaches_content = ROLE_RELATION[role] not in ("admin", "owner", "owner_manager", "anonymous")
    if reaches_content and case.status != DRAFT and action in (Action.VIEW, Action.READ):
        if case.sharing == RESTRICTED:
            assert decision.code == "restricted"
            assert decision.next_step
        in_scope = case.scope == "all" or ROLE_RELATION[role] == "in_scope"
        if case.sharing == CONDITIONAL and action == Action.READ and in_scope and not want:
            assert decision.code == "conditional_no_grant"
            assert decision.next_step


@pytest.mark.django_db
def test_grant_period_bounds(world):
    """valid_from is inclusive, valid_until exclusive; both halves of the policy agree at the edges."""
    case = Case(CONDITIONAL, "chosen", PUBLISHED)
    resource = world.resources[case]
    actor = User.objects.get(pk=world.actors["out_member"].pk)
    start = timezone.now().replace(microsecond=0) + timedelta(days=3)
    end = start + timedelta(hours=1)
    Grant.objects.create(resource=resource, grantee_user=actor, purpose="边界。", valid_from=start, valid_until=end)
    from sharehub.policy.engine import resource_filter

    for now, want in (
        (start - timedelta(microseconds=1), False),
        (start, True),
        (end - timedelta(microseconds=1), True),
        (end, False),
    ):
        for action in (Action.VIEW, Action.READ):
            assert can(actor, action, resource, now=now).allowed is want, (action, now)
            in_filter = Resource.objects.filter(resource_filter(actor, action, now=now), pk=resource.pk).exists()
            assert in_filter is want, (action, now)


@pytest.mark.django_db
def test_grant_to_subdepartment_does_not_reach_parent(world):
    """A grant to SUB reaches SUB's members only: neither SCOPE's nor ROOT's."""
    case = Case(CONDITIONAL, "chosen", PUBLISHED)
    resource = world.resources[case]
    sub = world.actors["sub_member"].memberships.get().department
    _grant(resource, dept=sub)
    for role, want in (("sub_member", True), ("scope_member", False), ("parent_member", False)):
        actor = User.objects.get(pk=world.actors[role].pk)
        assert can(actor, Action.READ, resource).allowed is want, role
        assert visible(actor, Resource.objects.filter(pk=resource.pk), Action.READ).exists() is want, role


@pytest.mark.django_db
def test_membership_change_is_seen_after_forget(world):
    """The policy caches memberships per user object; set_membership forgets the cache."""
    case = Case(OPEN, "chosen", PUBLISHED)
    resource = world.resources[case]
    person = User.objects.get(pk=world.actors["nodept"].pk)
    assert not can(person, Action.VIEW, resource)
    scope = world.actors["scope_member"].memberships.get().department
    org.set_membership(None, person, scope, "member")
    assert can(person, Action.VIEW, resource)
    assert visible(person, Resource.objects.filter(pk=resource.pk)).exists()
