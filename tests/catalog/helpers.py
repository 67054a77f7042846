"""Small helpers shared by the catalog page tests."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from sharehub.access.models import Grant
from sharehub.catalog.models import Resource
from sharehub.events.models import Event


def grant(resource: Resource, *, user=None, department=None, days: int = 7) -> Grant:
    now = timezone.now()
    return Grant.objects.create(
        resource=resource,
        grantee_user=user,
        grantee_department=department,
        purpose="业务核验",
        valid_from=now - timedelta(hours=1),
        valid_until=now + timedelta(days=days),
    )


def reads(resource: Resource | None = None):
    events = Event.objects.filter(action="resource.read")
    if resource is not None:
        events = events.filter(target_id=str(resource.pk))
    return events


def counts() -> tuple[int, int]:
    return Resource.objects.count(), Event.objects.count()
