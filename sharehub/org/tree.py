"""The department tree's rules beyond create, edit and move (those are `org.services`): archive, restore and
merge, and the registry of what each app holds per department ("holdings").

A holding is one kind of row that belongs to a department: its members, its resources, the grants given to
it, the webhooks it registered. Each app registers its own from its AppConfig.ready() (`register_holding`),
saying how to count them for many departments at once, how to name a few, and how to move them to another
department; the merge preview counts them and the merge moves them, so org never reads another app's
models itself. Org registers its own three (sub-departments, members, service accounts) here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Max, QuerySet, Value
from django.db.models.functions import Concat, Length, Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sharehub.errors import Conflict, Invalid, NotFound
from sharehub.events import describe
from sharehub.events.services import record
from sharehub.org.models import Department, Membership, User
from sharehub.org.services import _require_admin

MERGED = "department.merged"  # record() below names its actions as literals: the audit registry test reads them
EXAMPLES = 3  # rows named per kind in a preview
ROLE_RANK = {Membership.Role.MEMBER: 0, Membership.Role.STEWARD: 1, Membership.Role.HEAD: 2}
PATH_LENGTH = Department._meta.get_field("path").max_length


# --- the holdings registry -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Holding:
    """One kind of row a department holds, as its app describes it."""

    name: str  # a key, also the detail key of the merge's audit event: "resources"
    label: object  # translatable: "Resources it owns"
    count: Callable[[list[int]], dict[int, int]]  # department ids -> {id: how many}, in one query
    examples: Callable[[Department, int], list[str]]  # a few of them named, newest first, in one query
    move: Callable[[Department, Department], None]  # into the other department, inside the merge's transaction
    on_merge: object = ""  # translatable: what the merge does with them, when it is not plainly "moved"
    blocks_archive: bool = False  # a department holding any cannot be archived (they would be orphaned)
    order: int = 50


_holdings: dict[str, Holding] = {}


def register_holding(
    name: str,
    label,
    *,
    count: Callable[[list[int]], dict[int, int]],
    examples: Callable[[Department, int], list[str]],
    move: Callable[[Department, Department], None],
    on_merge="",
    blocks_archive: bool = False,
    order: int = 50,
) -> Holding:
    """Called by each app from its AppConfig.ready(); registering a name again replaces it."""
    holding = Holding(name, label, count, examples, move, on_merge, blocks_archive, order)
    _holdings[name] = holding
    describe.register_detail(name, label, describe.NUMBER, actions=(MERGED,))
    return holding


def holdings() -> list[Holding]:
    return sorted(_holdings.values(), key=lambda h: (h.order, h.name))


def holding(name: str) -> Holding | None:
    return _holdings.get(name)


def count_by(queryset: QuerySet, column: str, department_ids: Iterable[int]) -> dict[int, int]:
    """Rows of `queryset` per department (`column` names the department id): one grouped query."""
    ids = list(department_ids)
    if not ids:
        return {}
    rows = (
        queryset.filter(**{f"{column}__in": ids})
        .order_by()
        .values(column)
        .annotate(n=Count("pk"))
        .values_list(column, "n")
    )
    return dict(rows)


def counts_of(department: Department) -> dict[str, int]:
    """How many of each holding the department has (one query per kind; not for lists)."""
    return {h.name: h.count([department.pk]).get(department.pk, 0) for h in holdings()}


# --- org's own holdings ------------------------------------------------------------------------------------


def _active_people(queryset: QuerySet[Membership]) -> QuerySet[Membership]:
    return queryset.filter(user__kind=User.Kind.PERSON, user__is_active=True)


def _count_members(ids: list[int]) -> dict[int, int]:
    return count_by(_active_people(Membership.objects.all()), "department_id", ids)


def _member_examples(department: Department, limit: int) -> list[str]:
    roles = dict(Membership.Role.choices)
    found = _active_people(Membership.objects.filter(department=department)).select_related("user")
    found = found.order_by("-role", "user__display_name", "user__username")[:limit]
    return [_("%(name)s (%(role)s)") % {"name": m.user, "role": roles.get(m.role, m.role)} for m in found]


def _move_members(source: Department, target: Department) -> None:
    """Every membership of `source` (deactivated people and service accounts too) moves to `target`; a
    person in both keeps the higher of their two roles."""
    theirs = dict(Membership.objects.filter(department=target).values_list("user_id", "role"))
    both: list[int] = []
    raise_to: dict[str, list[int]] = {}
    for user_id, role in Membership.objects.filter(department=source).values_list("user_id", "role"):
        if user_id in theirs:
            both.append(user_id)
            if ROLE_RANK.get(role, 0) > ROLE_RANK.get(theirs[user_id], 0):
                raise_to.setdefault(role, []).append(user_id)
    for role, user_ids in raise_to.items():
        Membership.objects.filter(department=target, user_id__in=user_ids).update(role=role)
    if both:
        Membership.objects.filter(department=source, user_id__in=both).delete()
    Membership.objects.filter(department=source).update(department=target)


def _count_children(ids: list[int]) -> dict[int, int]:
    return count_by(Department.objects.filter(archived_at__isnull=True), "parent_id", ids)


def _child_examples(department: Department, limit: int) -> list[str]:
    children = Department.objects.filter(parent=department, archived_at__isnull=True).order_by("name")[:limit]
    return [f"{d.name} ({d.code})" for d in children]


def _move_children(source: Department, target: Department) -> None:
    """The sub-departments (archived ones too) go under `target`; the paths of their whole subtrees follow,
    in one statement: every descendant's path starts with the source's, which becomes the target's."""
    Department.objects.filter(parent=source).update(parent=target)
    Department.objects.filter(path__startswith=source.path).exclude(pk=source.pk).update(
        path=Concat(Value(target.path), Substr("path", len(source.path) + 1))
    )


def _accounts(queryset: QuerySet[User]) -> QuerySet[User]:
    return queryset.filter(kind=User.Kind.SERVICE, is_active=True)


def _count_accounts(ids: list[int]) -> dict[int, int]:
    return count_by(_accounts(User.objects.all()), "service_owner_id", ids)


def _account_examples(department: Department, limit: int) -> list[str]:
    return [f"{u} ({u.username})" for u in _accounts(User.objects.filter(service_owner=department))[:limit]]


def _move_accounts(source: Department, target: Department) -> None:
    User.objects.filter(kind=User.Kind.SERVICE, service_owner=source).update(service_owner=target)


def register_org_holdings() -> None:
    register_holding(
        "sub_departments",
        gettext_lazy("Sub-departments"),
        count=_count_children,
        examples=_child_examples,
        move=_move_children,
        on_merge=gettext_lazy("They move under the target with their own sub-departments."),
        blocks_archive=True,
        order=10,
    )
    register_holding(
        "members",
        gettext_lazy("Members"),
        count=_count_members,
        examples=_member_examples,
        move=_move_members,
        on_merge=gettext_lazy("They join the target; someone in both keeps the higher of their two roles."),
        blocks_archive=True,
        order=20,
    )
    register_holding(
        "service_accounts",
        gettext_lazy("Service accounts"),
        count=_count_accounts,
        examples=_account_examples,
        move=_move_accounts,
        on_merge=gettext_lazy("The target owns them; their tokens keep working."),
        blocks_archive=True,
        order=30,
    )


# --- previews ----------------------------------------------------------------------------------------------


@dataclass
class HoldingCount:
    holding: Holding
    count: int
    examples: list[str] = field(default_factory=list)

    @property
    def more(self) -> int:
        return max(self.count - len(self.examples), 0)


@dataclass
class RoleConflict:
    person: User
    source_role: str
    target_role: str

    @property
    def kept_role(self) -> str:
        return max((self.source_role, self.target_role), key=lambda role: ROLE_RANK.get(role, 0))

    def _label(self, role: str) -> str:
        return str(dict(Membership.Role.choices).get(role, role))

    @property
    def source_label(self) -> str:
        return self._label(self.source_role)

    @property
    def target_label(self) -> str:
        return self._label(self.target_role)

    @property
    def kept_label(self) -> str:
        return self._label(self.kept_role)


def holding_counts(department: Department, *, with_examples: bool = True) -> list[HoldingCount]:
    found = []
    for h in holdings():
        n = h.count([department.pk]).get(department.pk, 0)
        found.append(HoldingCount(h, n, h.examples(department, EXAMPLES) if (n and with_examples) else []))
    return found


def fingerprint(target: Department, counts: dict[str, int]) -> str:
    """What a merge preview showed, short: the confirmation is refused when it no longer holds."""
    text = json.dumps({"into": target.pk, **counts}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class MergePreview:
    source: Department
    target: Department
    items: list[HoldingCount]
    conflicts: list[RoleConflict]
    conflict_count: int

    @property
    def counts(self) -> dict[str, int]:
        return {item.holding.name: item.count for item in self.items}

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.target, self.counts)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def moving(self) -> list[HoldingCount]:
        return [item for item in self.items if item.count]

    @property
    def idle(self) -> list[HoldingCount]:
        return [item for item in self.items if not item.count]


def role_conflicts(source: Department, target: Department, limit: int = 10) -> tuple[list[RoleConflict], int]:
    """People in both departments, with their two roles (the first `limit`), and how many there are."""
    theirs = Membership.objects.filter(department=target)
    both = Membership.objects.filter(department=source, user_id__in=theirs.values("user_id"))
    total = both.count()
    if not total:
        return [], 0
    rows = list(both.select_related("user").order_by("user__display_name", "user__username")[:limit])
    target_roles = dict(theirs.filter(user_id__in=[m.user_id for m in rows]).values_list("user_id", "role"))
    return [RoleConflict(m.user, m.role, target_roles.get(m.user_id, m.role)) for m in rows], total


def check_merge(source: Department, target: Department | None) -> None:
    """Whether `source` may merge into `target` now: Conflict when the source is no longer in use, Invalid
    naming the field `into` when the target cannot take it."""
    if source.merged_into_id:
        into = Department.objects.filter(pk=source.merged_into_id).values_list("name", flat=True).first()
        raise Conflict(_("%(dept)s was already merged into %(into)s.") % {"dept": source.name, "into": into})
    if source.archived_at is not None:
        raise Conflict(_("%(dept)s is archived; restore it before merging it.") % {"dept": source.name})
    if target is None:
        raise Invalid(fields={"into": _("Choose the department to merge into.")})
    if target.pk == source.pk:
        raise Invalid(fields={"into": _("A department cannot be merged into itself.")})
    if target.path.startswith(source.path):
        raise Invalid(
            fields={"into": _("%(dept)s is inside %(source)s; choose one outside it.") % {
                "dept": target.name, "source": source.name}}
        )  # fmt: skip
    if target.archived_at is not None:
        raise Invalid(fields={"into": _("%(dept)s is archived; choose a department in use.") % {"dept": target.name}})


def merge_preview(actor, source: Department, target: Department | None) -> MergePreview:
    """What merging `source` into `target` would move, with counts and a few examples of each kind, and the
    people in both departments; raises what the merge itself would raise."""
    _require_admin(actor)
    check_merge(source, target)
    conflicts, conflict_count = role_conflicts(source, target)
    return MergePreview(source, target, holding_counts(source), conflicts, conflict_count)


@dataclass
class ArchivePreview:
    department: Department
    blockers: list[HoldingCount]
    kept: list[HoldingCount]

    @property
    def allowed(self) -> bool:
        return not self.blockers


def archive_preview(actor, department: Department) -> ArchivePreview:
    """What keeps `department` from being archived (sub-departments in use, members, resources, ...) and
    what it keeps for the record."""
    _require_admin(actor)
    items = holding_counts(department)
    blockers = [i for i in items if i.count and i.holding.blocks_archive]
    kept = [i for i in items if i.count and not i.holding.blocks_archive]
    return ArchivePreview(department, blockers, kept)


# --- writes ------------------------------------------------------------------------------------------------


def _locked(*departments: Department) -> list[Department]:
    """The departments again, read under a row lock in id order: two admins at once wait for each other, and
    so does a resource being created for one (catalog takes the same lock); SQLite's IMMEDIATE transaction
    already holds the write lock. FOR NO KEY UPDATE, as catalog's: a plain FOR UPDATE also blocks inserts that
    reference the department, which deadlocks with a transaction that holds the event chain's head."""
    ids = [d.pk for d in departments]
    rows = {d.pk: d for d in Department.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")}
    if any(pk not in rows for pk in ids):
        raise NotFound()
    return [rows[pk] for pk in ids]


def _check_room(source: Department, target: Department) -> None:
    longest = (
        Department.objects.filter(path__startswith=source.path)
        .exclude(pk=source.pk)
        .aggregate(n=Max(Length("path")))["n"]
    )
    if longest and longest - len(source.path) + len(target.path) > PATH_LENGTH:
        raise Invalid(fields={"into": _("The tree would become too deep under %(dept)s.") % {"dept": target.name}})


@transaction.atomic
def merge_departments(actor, source: Department, target: Department | None, *, expected: str = "") -> dict[str, int]:
    """Merge `source` into `target` in one transaction: everything every app holds for it moves (members keep
    the higher role, sub-departments go under the target, resources keep their codes), then `source` is
    archived with `merged_into` set, and one `department.merged` event lists the counts. `expected` is the
    fingerprint of the preview the admin confirmed: the merge is refused (Conflict) if what would move has
    changed since. Returns the counts."""
    _require_admin(actor)
    if target is None:
        raise Invalid(fields={"into": _("Choose the department to merge into.")})
    source, target = _locked(source, target)
    check_merge(source, target)
    counts = counts_of(source)
    if expected and expected != fingerprint(target, counts):
        raise Conflict(
            _("What %(dept)s holds has changed since the preview; check the preview again.") % {"dept": source.name}
        )
    _check_room(source, target)
    for h in holdings():
        h.move(source, target)
    source.merged_into = target
    source.archived_at = timezone.now()
    source.save(update_fields=["merged_into", "archived_at"])  # its post_save outdates the policy's contexts
    record(
        actor,
        "department.merged",
        target,
        departments=[source, target],
        details={"merged": source.pk, "code": source.code, **counts},
    )
    return counts


@transaction.atomic
def archive_department(actor, department: Department) -> Department:
    """Archive a department that holds nothing that would be orphaned; Conflict naming what blocks it."""
    _require_admin(actor)
    (department,) = _locked(department)
    if department.archived_at is not None:
        raise Conflict(_("%(dept)s is archived already.") % {"dept": department.name})
    blocking = []
    for h in holdings():
        if h.blocks_archive:
            n = h.count([department.pk]).get(department.pk, 0)
            if n:
                blocking.append(f"{h.label}: {n}")
    if blocking:
        raise Conflict(
            _("%(dept)s still holds %(what)s; move them or merge the department instead.")
            % {"dept": department.name, "what": _(", ").join(blocking)}
        )
    department.archived_at = timezone.now()
    department.save(update_fields=["archived_at"])
    record(actor, "department.archived", department, departments=[department], details={"code": department.code})
    return department


@transaction.atomic
def restore_department(actor, department: Department) -> Department:
    """Take a department out of the archive (not one that was merged: what it held is in the other now)."""
    _require_admin(actor)
    (department,) = _locked(department)
    if department.archived_at is None:
        raise Conflict(_("%(dept)s is not archived.") % {"dept": department.name})
    if department.merged_into_id:
        raise Conflict(
            _("%(dept)s was merged into another department, which holds what it had; it cannot be restored.")
            % {"dept": department.name}
        )
    ancestor_ids = [int(p) for p in department.path.strip("/").split("/") if p][:-1]
    archived_above = Department.objects.filter(pk__in=ancestor_ids, archived_at__isnull=False).first()
    if archived_above is not None:
        raise Invalid(
            fields={"parent": _("Its parent department %(dept)s is archived; restore that first or move this one.")
                    % {"dept": archived_above.name}}
        )  # fmt: skip
    department.archived_at = None
    department.save(update_fields=["archived_at"])
    record(actor, "department.restored", department, departments=[department], details={"code": department.code})
    return department
