"""Notifications API: the caller's own notifications, newest first, and marking them read; follows."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from django.conf import settings
from django.db.models import Q
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from sharehub.errors import Invalid
from sharehub.feeds import follows, queries, services, webhooks
from sharehub.feeds.models import Notification
from sharehub.feeds.schemas import (
    DeliveryOut,
    DeliveryPage,
    FollowIn,
    FollowList,
    FollowOut,
    MailSettingsIn,
    MailSettingsOut,
    MarkReadIn,
    MarkReadOut,
    NotificationPage,
    SecretOut,
    UnfollowIn,
    UnfollowOut,
    UnreadCountOut,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
)
from sharehub.org.queries import person_labels
from sharehub.org.schemas import MAX_DB_INT

router = Router(tags=["notifications"])

MAX_PAGE = 200


def _encode_cursor(notification: Notification) -> str:
    raw = f"{notification.created_at.isoformat()}|{notification.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> Q:
    """Notifications after this one in (-created_at, -id) order."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, pk = raw.rsplit("|", 1)
        created_at, pk = datetime.fromisoformat(stamp).astimezone(UTC), int(pk)
        if not 0 < pk <= MAX_DB_INT:
            raise ValueError(pk)
    except (ValueError, OverflowError, UnicodeDecodeError, binascii.Error):
        raise Invalid(fields={"cursor": _("This cursor is not one the API gave out.")}) from None
    return Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk)


def _notification(notification: Notification, text: str, link: str, people: dict) -> dict:
    actor_id = notification.event.actor_id
    person = people.get(actor_id)
    return {
        "id": notification.pk,
        "created_at": notification.created_at,
        "read": notification.read_at is not None,
        "action": notification.event.action,
        "actor": {"id": actor_id, "display_name": person.name, "departments": list(person.departments)}
        if person
        else None,
        "text": text,
        "link": link,
    }


@router.get("/notifications", response=NotificationPage, summary="Your notifications, newest first")
def list_notifications(
    request,
    unread: bool = Query(False, description="Only unread ones"),
    type: str = Query(
        "",
        description="Only about requests, grants, resources, data, or what you follow (following)",
        pattern="^(requests|grants|resources|data|following)?$",
    ),
    cursor: str | None = Query(None, description="`next_cursor` of the previous page"),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
):
    if type and type not in queries.TOPICS:
        raise Invalid(fields={"type": _("Choose one of %(kinds)s.") % {"kinds": ", ".join(queries.TOPICS)}})
    notifications = queries.notifications_of(request.user, unread_only=unread, topic=type)
    if cursor:
        notifications = notifications.filter(_decode_cursor(cursor))
    page = list(notifications[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    people = person_labels({n.event.actor_id for n in page})
    items = [_notification(*row, people) for row in queries.shown(request.user, page, people)]
    return {"items": items, "next_cursor": _encode_cursor(page[-1]) if more else None}


@router.get("/notifications/unread-count", response=UnreadCountOut, summary="How many notifications are unread")
def unread_count(request):
    return {"unread": queries.unread_count(request.user)}


@router.post(
    "/notifications/read",
    response=MarkReadOut,
    summary="Mark notifications read (all of them when `ids` is left out)",
)
def mark_read(request, payload: MarkReadIn):
    marked = services.mark_read(request.user, payload.ids)
    return {"marked": marked, "unread": queries.unread_count(request.user)}


def _mail_settings(request) -> dict:
    return {"involved": services.involved_mail(request.user), "email_enabled": settings.EMAIL_ENABLED}


@router.get("/notifications/mail", response=MailSettingsOut, summary="How what involves you is mailed")
def get_mail_settings(request):
    return _mail_settings(request)


@router.put("/notifications/mail", response=MailSettingsOut, summary="Choose how what involves you is mailed")
def put_mail_settings(request, payload: MailSettingsIn):
    services.set_involved_mail(request.user, payload.involved)
    return _mail_settings(request)


def _follow_out(row: queries.FollowRow) -> dict:
    follow = row.follow
    return {
        "id": follow.pk,
        "kind": follow.kind,
        "target_id": follow.target_id,
        "label": row.label,
        "link": row.link,
        "delivery": follow.delivery,
        "until": follow.until,
        "department": row.via_department or None,
    }


@router.get("/follows", response=FollowList, summary="What you follow, and what your departments are subscribed to")
def list_follows(request):
    return {"items": [_follow_out(row) for row in queries.following(request.user)]}


@router.post(
    "/follows",
    response=FollowOut,
    summary="Follow something, or change how (or subscribe a department)",
    openapi_extra={"x-sharehub-not-found": True},  # what to follow is unknown or not visible to the caller
)
def create_follow(request, payload: FollowIn):
    if payload.department_id is not None:
        follow = follows.subscribe_department(
            request.user, payload.department_id, payload.kind, payload.target_id, until=payload.until
        )
    else:
        follow = follows.follow(
            request.user, payload.kind, payload.target_id, delivery=payload.delivery, until=payload.until
        )
    found = follows.target(request.user, follow.kind, follow.target_id)
    department = follow.department.name if follow.department_id else ""
    return _follow_out(queries.FollowRow(follow, found.label, found.link, department))


@router.post(
    "/follows/unfollow", response=UnfollowOut, summary="Stop following (opting out of a department's subscription)"
)
def remove_follow(request, payload: UnfollowIn):
    if payload.department_id is not None:
        changed = follows.unsubscribe_department(request.user, payload.department_id, payload.kind, payload.target_id)
    else:
        changed = follows.unfollow(request.user, payload.kind, payload.target_id)
    return {"changed": changed}


def _webhook_out(endpoint) -> dict:
    return {
        "id": endpoint.pk,
        "kind": endpoint.kind,
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
        "department": endpoint.department_id,
        "department_filter": endpoint.department_filter,
        "active": endpoint.active,
        "disabled_reason": endpoint.disabled_reason,
        "allow_private": endpoint.allow_private,
        "created_at": endpoint.created_at,
    }


@router.get("/webhooks", response=list[WebhookOut], tags=["webhooks"], summary="Webhook endpoints you manage")
def list_webhooks(request):
    return [_webhook_out(e) for e in queries.endpoints_of(request.user)]


@router.post("/webhooks", response={201: WebhookCreated}, tags=["webhooks"], summary="Register a webhook endpoint")
def create_webhook(request, payload: WebhookIn, response: HttpResponse):
    endpoint, secret = webhooks.register(request.user, **payload.dict())
    response["Cache-Control"] = "no-store"  # the secret is shown once: kept by no cache and no Idempotency-Key
    return Status(201, {**_webhook_out(endpoint), "secret": secret})


@router.get("/webhooks/{webhook_id}", response=WebhookOut, tags=["webhooks"], summary="One webhook endpoint")
def get_webhook(request, webhook_id: int):
    return _webhook_out(queries.access_endpoint(request.user, webhook_id))


@router.patch("/webhooks/{webhook_id}", response=WebhookOut, tags=["webhooks"], summary="Change or turn on/off")
def patch_webhook(request, webhook_id: int, payload: WebhookPatch):
    endpoint = queries.access_endpoint(request.user, webhook_id)
    return _webhook_out(webhooks.change(request.user, endpoint, **payload.dict(exclude_unset=True)))


@router.post(
    "/webhooks/{webhook_id}/rotate-secret", response=SecretOut, tags=["webhooks"], summary="A new signing secret"
)
def rotate_webhook_secret(request, webhook_id: int, response: HttpResponse):
    endpoint = queries.access_endpoint(request.user, webhook_id)
    response["Cache-Control"] = "no-store"
    return {"secret": webhooks.rotate_secret(request.user, endpoint)}


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response=DeliveryPage,
    tags=["webhooks"],
    summary="The delivery log, newest first",
)
def list_deliveries(
    request,
    webhook_id: int,
    cursor: str | None = Query(None, description="`next_cursor` of the previous page"),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
):
    endpoint = queries.access_endpoint(request.user, webhook_id)
    deliveries = endpoint.deliveries.select_related("event").order_by("-id")
    if cursor:
        if not cursor.isdigit() or len(cursor) > 18:
            raise Invalid(fields={"cursor": _("This cursor is not one the API gave out.")})
        deliveries = deliveries.filter(pk__lt=int(cursor))
    page = list(deliveries[: limit + 1])
    items = [_delivery_out(d) for d in queries.shown_deliveries(request.user, page[:limit])]
    return {"items": items, "next_cursor": str(page[limit - 1].pk) if len(page) > limit else None}


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    response=DeliveryOut,
    tags=["webhooks"],
    summary="Send a delivery again (same webhook-id)",
)
def redeliver(request, webhook_id: int, delivery_id: int):
    endpoint = queries.access_endpoint(request.user, webhook_id)
    delivery = webhooks.redeliver(request.user, endpoint, delivery_id)
    return _delivery_out(queries.shown_deliveries(request.user, [delivery])[0])


def _delivery_out(delivery) -> dict:
    fields = {f: getattr(delivery, f) for f in DeliveryOut.model_fields if f != "event_type"}
    if getattr(delivery, "hidden", False):  # about a resource the reader may not see now
        fields.update(payload="", response_body="")
    return {**fields, "event_type": delivery.event.action}
