"""`can()` against pycasbin, on the same corpus, warm, for READ over every resource.

The casbin model is RBAC for the people and ABAC for the resources:
- roles (g): `user:U` belongs to `member:D` for its departments, to `scope:A` for those departments
  and their ancestors, to `org` when active and to `role:admin` when an organization admin; a grant
  links its holder (`user:U`, or `member:D` for a department's grant) to `res:R`;
- attributes of the request's object: its name `res:R`, its owner `member:D`, whether it is
  published and open (then the scope groups it is shared with, `org` when with everyone), or
  published and conditional;
- one policy line, `p, read`; the matcher reads the attributes and asks the role manager, with
  `inScope` (a custom function) for "any of these scope groups".
Each resource's attributes are built once, outside the timing, as `can()` gets its resources prefetched.
The policy is checked against `can()` for the measured actor before anything is timed.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

MODEL = """
[request_definition]
r = sub, obj, act

[policy_definition]
p = act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.act == p.act && (g(r.sub, "role:admin") || g(r.sub, r.obj.owner) \
|| (r.obj.open_shared && inScope(r.sub, r.obj.scope)) || (r.obj.conditional_shared && g(r.sub, r.obj.name)))
"""

MIN_SECONDS = 1.0


@dataclass(frozen=True)
class Obj:
    name: str
    owner: str
    open_shared: bool
    conditional_shared: bool
    scope: tuple[str, ...]


def objects() -> dict[int, Obj]:
    """Every resource's attributes, by id."""
    from django.db.models import Q

    from sharehub.catalog.models import Resource

    shared = Q(status=Resource.Status.PUBLISHED) | Q(status=Resource.Status.ARCHIVED, published_at__isnull=False)
    shared_ids = set(Resource.objects.filter(shared).values_list("pk", flat=True))
    scopes: dict[int, list[str]] = {}
    for resource_id, dept_id in Resource.scope_departments.through.objects.values_list("resource_id", "department_id"):
        scopes.setdefault(resource_id, []).append(f"scope:{dept_id}")
    found = {}
    rows = Resource.objects.values_list("pk", "owner_department_id", "sharing_type", "scope_all")
    for pk, owner, sharing, scope_all in rows.iterator(chunk_size=5000):
        is_shared = pk in shared_ids
        found[pk] = Obj(
            name=f"res:{pk}",
            owner=f"member:{owner}",
            open_shared=is_shared and sharing == Resource.SharingType.OPEN,
            conditional_shared=is_shared and sharing == Resource.SharingType.CONDITIONAL,
            scope=("org",) if scope_all else tuple(scopes.get(pk, ())),
        )
    return found


def policy_lines() -> list[str]:
    """The casbin policy of the whole organization as it is now: the p line and the role links."""
    from django.utils import timezone

    from sharehub.access.models import Grant
    from sharehub.org.models import User
    from sharehub.policy.engine import context_for

    lines = ["p, read"]
    for user in User.objects.filter(is_active=True):
        ctx = context_for(user)
        lines.append(f"g, user:{user.pk}, org")
        if ctx.is_admin:
            lines.append(f"g, user:{user.pk}, role:admin")
        lines += [f"g, user:{user.pk}, member:{d}" for d in ctx.department_ids]
        lines += [f"g, user:{user.pk}, scope:{d}" for d in ctx.scope_ids]
    now = timezone.now()
    grants = Grant.objects.filter(revoked_at__isnull=True, valid_from__lte=now, valid_until__gt=now)
    for resource_id, user_id, dept_id in grants.values_list("resource_id", "grantee_user_id", "grantee_department_id"):
        holder = f"user:{user_id}" if user_id else f"member:{dept_id}"
        lines.append(f"g, {holder}, res:{resource_id}")
    return lines


def enforcer(lines: list[str]):
    import casbin

    folder = Path(tempfile.mkdtemp(prefix="bench-casbin-"))
    (folder / "model.conf").write_text(MODEL)
    (folder / "policy.csv").write_text("\n".join(lines) + "\n")
    logging.getLogger("casbin").setLevel(logging.ERROR)  # it logs every denied request as a warning
    e = casbin.Enforcer(str(folder / "model.conf"), str(folder / "policy.csv"))
    roles = e.get_role_manager()
    e.add_function("inScope", lambda sub, groups: any(roles.has_link(sub, group) for group in groups))
    return e


def _rate(check, items) -> tuple[float, int]:
    """Checks per second over `items` (already checked once), repeated until MIN_SECONDS have passed;
    and the allowed count."""
    passes, allowed, started = 0, 0, time.perf_counter()
    while True:
        allowed = sum(1 for item in items if check(item))
        passes += 1
        elapsed = time.perf_counter() - started
        if elapsed >= MIN_SECONDS:
            return passes * len(items) / elapsed, allowed


def measure(username: str) -> dict:
    """Warm `can(actor, READ, r)` over every resource, fetched as the catalog fetches them, and pycasbin
    on the same decisions."""
    from sharehub.catalog.models import Resource
    from sharehub.catalog.queries import _base
    from sharehub.org.models import User
    from sharehub.policy.engine import Action, can

    actor = User.objects.get(username=username)
    ids = list(Resource.objects.order_by("pk").values_list("pk", flat=True))
    resources = []
    for start in range(0, len(ids), 2000):  # the catalog's queries, in pages (SQLite caps the variables of an IN)
        resources += _base().defer("body").filter(pk__in=ids[start : start + 2000]).order_by("pk")
    build_started = time.perf_counter()
    lines = policy_lines()
    e = enforcer(lines)
    attributes = objects()
    build_s = time.perf_counter() - build_started
    sub = f"user:{actor.pk}"
    ours = [bool(can(actor, Action.READ, r)) for r in resources]  # also the warm-up passes
    items = [attributes[r.pk] for r in resources]
    theirs = [e.enforce(sub, obj, "read") for obj in items]
    mismatches = sum(1 for a, b in zip(ours, theirs, strict=True) if a != b)
    if mismatches:
        raise RuntimeError(f"the casbin policy disagrees with can() on {mismatches} of {len(resources)} resources")
    can_rate, allowed = _rate(lambda r: can(actor, Action.READ, r), resources)
    casbin_rate, _ = _rate(lambda obj: e.enforce(sub, obj, "read"), items)
    return {
        "actor": username,
        "resources": len(resources),
        "allowed": allowed,
        "policy_lines": len(lines),
        "casbin_build_s": build_s,
        "can_per_s": can_rate,
        "casbin_per_s": casbin_rate,
        "ratio": can_rate / casbin_rate,
    }
