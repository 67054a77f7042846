"""A person's own notifications."""

from __future__ import annotations

from django.db.models import QuerySet

from sharehub.catalog.models import Resource
from sharehub.feeds.messages import named_resource, render
from sharehub.feeds.models import Notification
from sharehub.org.queries import person_labels
from sharehub.policy.engine import Action, visible


def notifications_of(actor, *, unread_only: bool = False) -> QuerySet[Notification]:
    queryset = Notification.objects.filter(recipient_id=getattr(actor, "pk", None)).select_related("event")
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset.order_by("-created_at", "-id")


def unread_count(actor) -> int:
    return notifications_of(actor, unread_only=True).count()


def shown(actor, notifications, people: dict | None = None) -> list[tuple[Notification, str, str]]:
    """(notification, sentence, link) for each, in the active language. A resource the actor may not
    see now is not named, whatever they could see when the event happened (invariant 10): one
    filtered query for the whole page, and one for the people named (unless `people` is given)."""
    notifications = list(notifications)
    if people is None:
        people = person_labels({n.event.actor_id for n in notifications})
    named = {named_resource(n.event) for n in notifications} - {None}
    seen = set()
    if named:
        seen = set(visible(actor, Resource.objects.filter(pk__in=named), Action.VIEW).values_list("pk", flat=True))
    hidden = named - seen
    return [(n, *render(n.event, people, hidden=named_resource(n.event) in hidden)) for n in notifications]
