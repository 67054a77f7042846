"""Property tests: on random organizations, the policy's two halves give the same answers, and the
catalog's read paths follow them (invariants 1 and 2)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings

from sharehub.catalog.models import Resource
from sharehub.catalog.queries import access_resource, list_resources
from sharehub.errors import Forbidden, NotFound
from sharehub.policy.engine import Action, can, resource_filter, visible
from tests.policy.strategies import Oracle, OrgSpec, build_world, org_specs

pytestmark = pytest.mark.django_db

PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _shape(error: Exception) -> tuple:
    return type(error), str(error), error.status, error.code, error.fields


def _not_found(actor, ident, action) -> tuple:
    with pytest.raises(NotFound) as caught:
        access_resource(actor, ident, action)
    return _shape(caught.value)


# Times around the world's grants (see strategies._grant_period): the present; before the active ones
# began, when only the expired ones ran; when the future ones run; after every grant ended.
GRANT_TIMES = (timedelta(0), timedelta(days=-2), timedelta(days=2), timedelta(days=31))


def _check_grant_windows(world) -> None:
    """Once the actors' contexts are warm (loaded at the present), grants that start later or ended
    before the time asked about are weighed at that time, the same by both halves of the policy."""
    now = timezone.now()
    everything = Resource.objects.all()
    for offset in GRANT_TIMES:
        at = now + offset
        oracle = Oracle.load(world, now=at)
        for actor in world.everyone:
            who = getattr(actor, "username", "") or "anonymous"
            for action in (Action.VIEW, Action.READ):
                in_sql = set(everything.filter(resource_filter(actor, action, at)).values_list("pk", flat=True))
                decided = {r.pk for r in world.resources if can(actor, action, r, now=at)}
                assert in_sql == decided, f"{who} {action} at {offset}: SQL {sorted(in_sql)} != can() {sorted(decided)}"
                wanted = {r.pk for r in world.resources if oracle.allows(actor, action, r)}
                assert decided == wanted, f"{who} {action} at {offset}: {sorted(decided)} != rules {sorted(wanted)}"


def _check(world) -> None:
    oracle = Oracle.load(world)
    everything = Resource.objects.all()
    missing_id = (Resource.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 10_000
    for actor in world.everyone:
        who = getattr(actor, "username", "") or "anonymous"
        allowed = {}
        for action in (Action.VIEW, Action.READ, Action.EDIT, Action.MANAGE):
            in_sql = set(visible(actor, everything, action).values_list("pk", flat=True))
            decided = {r.pk for r in world.resources if can(actor, action, r)}
            assert in_sql == decided, f"{who} {action}: visible() {sorted(in_sql)} != can() {sorted(decided)}"
            wanted = {r.pk for r in world.resources if oracle.allows(actor, action, r)}
            assert decided == wanted, f"{who} {action}: policy {sorted(decided)} != docstring rules {sorted(wanted)}"
            allowed[action] = decided
        assert allowed[Action.READ] <= allowed[Action.VIEW], who
        assert allowed[Action.EDIT] <= allowed[Action.READ], who
        assert allowed[Action.MANAGE] <= allowed[Action.EDIT], who
        assert list_resources(actor).count() == len(allowed[Action.VIEW]), who

        # Unknown means 404: the same NotFound for a resource one may not see and for no resource at all.
        absent = _not_found(actor, missing_id, Action.VIEW)
        assert _not_found(actor, missing_id, Action.READ) == absent
        assert _not_found(actor, "NOPE-2000-0001", Action.VIEW) == absent
        for resource in world.resources:
            if resource.pk not in allowed[Action.VIEW]:
                assert _not_found(actor, resource.pk, Action.VIEW) == absent, (who, resource.code)
                assert _not_found(actor, resource.code, Action.READ) == absent, (who, resource.code)
                continue
            assert access_resource(actor, resource.pk, Action.VIEW).pk == resource.pk
            if resource.pk in allowed[Action.READ]:
                assert access_resource(actor, resource.code, Action.READ).pk == resource.pk
            else:
                with pytest.raises(Forbidden) as caught:
                    access_resource(actor, resource.pk, Action.READ)
                assert not isinstance(caught.value, NotFound)
                assert str(caught.value) == can(actor, Action.READ, resource).message


@PROPERTY_SETTINGS
@given(spec=org_specs())
def test_policy_halves_agree_on_random_organizations(spec: OrgSpec):
    with transaction.atomic():
        world = build_world(spec)
        _check(world)
        transaction.set_rollback(True)


def _grants_decide(spec: OrgSpec) -> OrgSpec:
    """Make every resource that has a grant conditional and published, so that its grants matter."""
    granted = {g.resource for g in spec.grants}
    resources = tuple(
        replace(r, sharing=Resource.SharingType.CONDITIONAL, status=Resource.Status.PUBLISHED) if i in granted else r
        for i, r in enumerate(spec.resources)
    )
    return replace(spec, resources=resources)


@PROPERTY_SETTINGS
@given(spec=org_specs().filter(lambda spec: spec.grants).map(_grants_decide))
def test_grant_windows_are_weighed_at_the_time_asked(spec: OrgSpec):
    with transaction.atomic():
        world = build_world(spec)
        _check_grant_windows(world)
        transaction.set_rollback(True)
