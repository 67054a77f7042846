"""A person's own notifications."""

from __future__ import annotations

from django.db.models import QuerySet

from sharehub.feeds.models import Notification


def notifications_of(actor, *, unread_only: bool = False) -> QuerySet[Notification]:
    queryset = Notification.objects.filter(recipient_id=getattr(actor, "pk", None)).select_related("event")
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset.order_by("-created_at", "-id")


def unread_count(actor) -> int:
    return notifications_of(actor, unread_only=True).count()
