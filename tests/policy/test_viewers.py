"""`viewers` (the policy's decision for many people at once, used to fan out to followers) gives exactly
the people `can(person, "view", resource)` allows, on random organizations, at the present and at the
times around their grants."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from hypothesis import given

from sharehub.policy.engine import Action, active_people, can, viewers
from tests.policy.strategies import OrgSpec, build_world, org_specs
from tests.policy.test_properties import PROPERTY_SETTINGS, _grants_decide

pytestmark = pytest.mark.django_db


@PROPERTY_SETTINGS
@given(spec=org_specs().map(_grants_decide))
def test_viewers_are_those_can_allows(spec: OrgSpec):
    with transaction.atomic():
        world = build_world(spec)
        people = [p for p in world.everyone if getattr(p, "pk", None)]
        for offset in (timedelta(0), timedelta(days=-2), timedelta(days=2)):
            at = timezone.now() + offset
            for resource in world.resources:
                fresh = list(get_user_model().objects.filter(pk__in=[p.pk for p in people]))  # cold contexts
                expected = {p.pk for p in fresh if can(p, Action.VIEW, resource, now=at).allowed}
                cold = list(get_user_model().objects.filter(pk__in=[p.pk for p in people]))
                assert viewers(cold, resource, now=at) == expected, (resource, offset)
                light = active_people(p.pk for p in people)  # as the fan-out loads them
                assert viewers(light, resource, now=at) == expected, (resource, offset, "light")
        transaction.set_rollback(True)
