"""Warm `can()` checks per second over every resource of a loaded organization (the demo).

    SHAREHUB_DATA_DIR=/tmp/demo .venv/bin/python -m bench.policy_can [--rounds 20]

The resources are fetched once through the catalog's normal query (`list_resources` as an admin, so
every resource, with what it prefetches); each actor's context is warmed by one pass; then every
action is decided for every resource, `--rounds` times. It prints checks/s and the SQL statements
run by the timed passes (0 when `can()` answers from memory)."""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharehub.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from sharehub.access.models import Grant  # noqa: E402
from sharehub.catalog.queries import list_resources  # noqa: E402
from sharehub.org.models import Membership, User  # noqa: E402
from sharehub.policy.engine import Action, can  # noqa: E402


def _actors() -> dict[str, User]:
    people = User.objects.filter(is_active=True, kind=User.Kind.PERSON)
    admin = people.filter(is_org_admin=True).first()
    grantee_ids = Grant.objects.filter(grantee_user__isnull=False, revoked_at__isnull=True).values("grantee_user_id")
    grantee = people.filter(pk__in=grantee_ids).exclude(is_org_admin=True).first()
    steward_ids = Membership.objects.filter(role=Membership.Role.STEWARD).values("user_id")
    steward = people.filter(pk__in=steward_ids).exclude(is_org_admin=True).first()
    member = people.exclude(pk__in=steward_ids).exclude(is_org_admin=True).filter(memberships__isnull=False).first()
    outsider = people.filter(memberships__isnull=True, is_org_admin=False).first()
    found = {"admin": admin, "steward": steward, "member": member, "grantee": grantee, "no department": outsider}
    return {name: user for name, user in found.items() if user is not None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    actors = _actors()
    resources = list(list_resources(actors["admin"]))
    actions = (Action.VIEW, Action.READ, Action.EDIT, Action.MANAGE)
    print(f"{len(resources)} resources, {args.rounds} rounds, {connection.vendor}")
    total_checks, total_seconds = 0, 0.0
    for name, pk in ((name, user.pk) for name, user in actors.items()):
        actor = User.objects.get(pk=pk)  # a fresh object, as a request has
        for resource in resources:
            can(actor, Action.READ, resource)
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            for _ in range(args.rounds):
                for action in actions:
                    for resource in resources:
                        can(actor, action, resource)
            elapsed = time.perf_counter() - started
        checks = args.rounds * len(actions) * len(resources)
        total_checks += checks
        total_seconds += elapsed
        print(f"  {name:<14} {checks / elapsed:>10,.0f} checks/s   {len(queries)} SQL statements in {checks} checks")
    print(f"  {'all':<14} {total_checks / total_seconds:>10,.0f} checks/s")


if __name__ == "__main__":
    main()
