"""`can()` against pycasbin, on the same corpus, warm, for READ over every resource.

The casbin model is RBAC with the resource's attributes as object groups:
- subjects: `user:U` belongs to `member:D` for its departments, to `scope:A` for those departments
  and their ancestors, to `org` when active, to `role:admin` when an organization admin, and holds
  `res:R` for each active grant (a department's grants hang under `member:D`);
- objects: `res:R` belongs to `owner:D`, and when published and open to `scope:D` for each scope
  department or to `org`; a published conditional resource belongs to `conditional-shared`;
- one policy line per group: members read their department's resources, a scope reads what is open
  to it, and a grant holder reads a shared conditional resource.
The generated policy is checked against `can()` for the measured actor before anything is timed.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

MODEL = """
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _
g2 = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.act == p.act && (g(r.sub, "role:admin") || (g(r.sub, p.sub) && g2(r.obj, p.obj)) \
|| (g(r.sub, r.obj) && g2(r.obj, "conditional-shared")))
"""

MIN_SECONDS = 1.0


def policy_lines() -> list[str]:
    """The casbin policy (p, g and g2 lines) of the whole organization as it is now."""
    from django.db.models import Q
    from django.utils import timezone

    from sharehub.access.models import Grant
    from sharehub.catalog.models import Resource
    from sharehub.org.models import Department, User
    from sharehub.policy.engine import context_for

    lines = ["p, org, org, read"]
    for dept_id in Department.objects.values_list("pk", flat=True):
        lines += [f"p, member:{dept_id}, owner:{dept_id}, read", f"p, scope:{dept_id}, scope:{dept_id}, read"]
    for user in User.objects.filter(is_active=True):
        ctx = context_for(user)
        lines.append(f"g, user:{user.pk}, org")
        if ctx.is_admin:
            lines.append(f"g, user:{user.pk}, role:admin")
        lines += [f"g, user:{user.pk}, member:{d}" for d in ctx.department_ids]
        lines += [f"g, user:{user.pk}, scope:{d}" for d in ctx.scope_ids]
    shared = Q(status=Resource.Status.PUBLISHED) | Q(status=Resource.Status.ARCHIVED, published_at__isnull=False)
    shared_ids = set(Resource.objects.filter(shared).values_list("pk", flat=True))
    Scope = Resource.scope_departments.through
    scopes: dict[int, list[int]] = {}
    for resource_id, dept_id in Scope.objects.values_list("resource_id", "department_id"):
        scopes.setdefault(resource_id, []).append(dept_id)
    rows = Resource.objects.values_list("pk", "owner_department_id", "sharing_type", "scope_all")
    for pk, owner, sharing, scope_all in rows.iterator(chunk_size=5000):
        lines.append(f"g2, res:{pk}, owner:{owner}")
        if pk not in shared_ids:
            continue
        if sharing == Resource.SharingType.OPEN:
            groups = ["org"] if scope_all else [f"scope:{d}" for d in scopes.get(pk, [])]
            lines += [f"g2, res:{pk}, {group}" for group in groups]
        elif sharing == Resource.SharingType.CONDITIONAL:
            lines.append(f"g2, res:{pk}, conditional-shared")
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
    e = casbin.Enforcer(str(folder / "model.conf"), str(folder / "policy.csv"))
    e.enable_log(False) if hasattr(e, "enable_log") else None
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
    from sharehub.catalog.queries import _base
    from sharehub.org.models import User
    from sharehub.policy.engine import Action, can

    actor = User.objects.get(username=username)
    resources = list(_base().defer("body").order_by("pk"))
    build_started = time.perf_counter()
    lines = policy_lines()
    e = enforcer(lines)
    build_s = time.perf_counter() - build_started
    sub = f"user:{actor.pk}"
    ours = [bool(can(actor, Action.READ, r)) for r in resources]  # also the warm-up passes
    theirs = [e.enforce(sub, f"res:{r.pk}", "read") for r in resources]
    mismatches = sum(1 for a, b in zip(ours, theirs, strict=True) if a != b)
    if mismatches:
        raise RuntimeError(f"the casbin policy disagrees with can() on {mismatches} of {len(resources)} resources")
    can_rate, allowed = _rate(lambda r: can(actor, Action.READ, r), resources)
    objects = [f"res:{r.pk}" for r in resources]
    casbin_rate, _ = _rate(lambda obj: e.enforce(sub, obj, "read"), objects)
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
