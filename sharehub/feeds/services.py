"""Turning logged events into notifications, and marking them read."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sharehub.catalog.models import Resource
from sharehub.errors import Invalid
from sharehub.events.services import record
from sharehub.feeds import live
from sharehub.feeds.follows import BY_MAIL, checked_delivery
from sharehub.feeds.messages import named_recipients, named_resource
from sharehub.feeds.models import Follow, MailSettings, Notification
from sharehub.policy.engine import viewers


def names_recipients(event) -> bool:
    """Whether an event can notify anyone (the log reader is handed only these)."""
    return bool((event.details or {}).get("recipients"))


def notify_from_event(event) -> None:
    """Every event whose details name `recipients` (user ids) notifies them, except its own actor.
    Called by the log reader inside its transaction; the unique constraint makes a replay harmless."""
    recipients = named_recipients(event)
    recipients.discard(event.actor_id)
    if not recipients:
        return
    mailed = {}
    if settings.EMAIL_ENABLED:
        wanted = MailSettings.objects.filter(person_id__in=recipients, involved__in=BY_MAIL)
        mailed = dict(wanted.values_list("person_id", "involved"))
    Notification.objects.create_for_event(event, {r: mailed.get(r, "") for r in recipients})
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
    marked = queryset.update(read_at=timezone.now())
    if marked:
        live.unread_changed_after_commit(actor.pk)
    return marked


def involved_mail(actor) -> str:
    """How the actor is mailed what involves them (a Follow.Delivery value; in_app: not mailed)."""
    found = MailSettings.objects.filter(person_id=actor.pk).values_list("involved", flat=True).first()
    return found or Follow.Delivery.IN_APP


@transaction.atomic
def set_involved_mail(actor, value) -> str:
    """Choose how what involves the actor is mailed: in_app (not at all), email (at once), daily or weekly."""
    if value == Follow.Delivery.OFF:
        raise Invalid(fields={"involved": _("What involves you always reaches you in the app; choose in_app.")})
    value = checked_delivery(actor, value, field="involved")
    before = involved_mail(actor)
    MailSettings.objects.update_or_create(person_id=actor.pk, defaults={"involved": value})
    if value != before:
        record(actor, "mail.settings_changed", actor, details={"involved": value, "before": before})
    return value
