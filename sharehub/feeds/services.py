"""Turning logged events into notifications, and marking them read."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from sharehub.catalog.models import Resource
from sharehub.feeds import live
from sharehub.feeds.messages import named_resource
from sharehub.feeds.models import Notification
from sharehub.policy.engine import viewers


def names_recipients(event) -> bool:
    """Whether an event can notify anyone (the log reader is handed only these)."""
    return bool((event.details or {}).get("recipients"))


def notify_from_event(event) -> None:
    """Every event whose details name `recipients` (user ids) notifies them, except its own actor.
    Called by the log reader inside its transaction; the unique constraint makes a replay harmless."""
    recipients = {int(r) for r in (event.details or {}).get("recipients", []) if str(r).isdigit()}
    recipients.discard(event.actor_id)
    if not recipients:
        return
    Notification.objects.bulk_create(
        [Notification(recipient_id=r, event=event, created_at=event.created_at) for r in sorted(recipients)],
        ignore_conflicts=True,
    )
    written = dict(
        Notification.objects.filter(event=event, recipient_id__in=recipients).values_list("recipient_id", "pk")
    )
    live.push_after_commit(event, written, followed=False, hidden=_unseeing(event, written))


def _unseeing(event, recipients) -> set[int]:
    """Recipients who may not see the resource the event names (their sentence does not name it)."""
    resource_id = named_resource(event)
    resource = Resource.objects.filter(pk=resource_id).first() if resource_id else None
    if resource is None or not recipients:
        return set()
    people = get_user_model().objects.filter(pk__in=list(recipients))
    return set(recipients) - viewers(people, resource)


@transaction.atomic
def mark_read(actor, notification_ids=None) -> int:
    """Mark the actor's notifications read (all of them when no ids are given)."""
    queryset = Notification.objects.filter(recipient_id=actor.pk, read_at__isnull=True)
    if notification_ids is not None:
        queryset = queryset.filter(pk__in=list(notification_ids))
    return queryset.update(read_at=timezone.now())
