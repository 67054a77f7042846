"""Webhooks out: events sent as signed JSON to registered endpoints (the Standard Webhooks scheme:
`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`).

A log reader makes one delivery per event and endpoint whose types and filters match, if the endpoint's
owner may see the resource the event is about; the background work sends due deliveries with no
transaction open, at least once (a delivery keeps its `webhook-id` on every attempt, so receivers
drop repeats), retrying with backoff for over a day. Before each attempt the owner's sight is checked
again and the address is resolved and refused if private, loopback or otherwise internal (unless an
admin allowed it). An endpoint whose deliveries keep failing for good is disabled and its owner told."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import ssl
import time
from datetime import datetime, timedelta
from functools import cache
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from sharehub.catalog.models import Resource
from sharehub.errors import Forbidden, Invalid, NotFound
from sharehub.events.services import record
from sharehub.feeds import robots
from sharehub.feeds.follows import FOLLOWED_ACTIONS
from sharehub.feeds.messages import named_resource
from sharehub.feeds.models import WebhookDelivery, WebhookEndpoint
from sharehub.ops import metrics
from sharehub.org.models import Department
from sharehub.policy.engine import Action, can, context_for

# Immediately, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h: about 27 hours in all
# (the schedule the Standard Webhooks specification recommends).
BACKOFF = (5, 300, 1800, 7200, 18000, 36000, 36000)
TIMEOUT = 10.0
BATCH = 100
STUCK = timedelta(minutes=10)
RESPONSE_KEPT = 2000
SECRET_OVERLAP = timedelta(hours=24)
EVENT_TYPES = sorted(FOLLOWED_ACTIONS)
Status = WebhookDelivery.Status
_DETAIL_KEYS = ("code", "version", "fields", "note", "inserted", "updated", "unchanged", "deleted", "changes")


# ---- secrets: kept encrypted with a key derived from SECRET_KEY (changing it means new secrets)


def _sealing_key() -> bytes:
    return hashlib.sha256(b"sharehub webhook secrets\x00" + settings.SECRET_KEY.encode()).digest()


def _seal(secret: str, endpoint_id: int) -> str:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_sealing_key()).encrypt(nonce, secret.encode(), f"webhook:{endpoint_id}".encode())
    return base64.b64encode(nonce + sealed).decode()


def _unseal(sealed: str, endpoint_id: int) -> str:
    raw = base64.b64decode(sealed)
    return AESGCM(_sealing_key()).decrypt(raw[:12], raw[12:], f"webhook:{endpoint_id}".encode()).decode()


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, and the previous one while it still signs (rotation overlap)."""
    found = [_unseal(endpoint.secret, endpoint.pk)]
    if endpoint.previous_secret and endpoint.previous_until and endpoint.previous_until > now:
        found.append(_unseal(endpoint.previous_secret, endpoint.pk))
    return found


# ---- the address


def _refused_address(url: str, allow_private: bool) -> str:
    """Why this address may not be called ("" when it may): not http(s), or it resolves to an address
    inside the organization's network or this machine (server-side request forgery)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("Give an http:// or https:// address.")
    if parts.username or parts.password:
        return _("Leave the user and password out of the address; the signature authenticates Sharehub.")
    if allow_private:
        return ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        literal = parts.hostname.strip("[]")
        try:
            addresses = {str(ipaddress.ip_address(literal))}
        except ValueError:
            addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)}
    except (OSError, ValueError, UnicodeError):
        return _("The host name does not resolve.")
    if not addresses:
        return _("The host name does not resolve.")
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        if not address.is_global or address.is_multicast:
            return _("The address is private, loopback or reserved; an organization admin may allow it.")
    return ""


def _clean(errors: dict, url, event_types, department_filter) -> tuple[str, list[str], list[int]]:
    url = str(url or "").strip()
    if not url or len(url) > 500 or any(c.isspace() or not c.isprintable() for c in url):
        errors["url"] = _("Give an http:// or https:// address of at most 500 characters.")
    if not isinstance(event_types, list | tuple) or not event_types:
        errors["event_types"] = _("Choose at least one event type.")
        event_types = []
    types = []
    for item in event_types:
        wanted = str(item)
        if wanted in EVENT_TYPES or (wanted.endswith(".") and any(t.startswith(wanted) for t in EVENT_TYPES)):
            types.append(wanted)
        else:
            errors["event_types"] = _(
                "Unknown event type %(t)s; choose from %(all)s (or a prefix such as dataset.)."
            ) % {
                "t": wanted[:60],
                "all": ", ".join(EVENT_TYPES),
            }
    departments = []
    for item in department_filter or []:
        if isinstance(item, bool) or not str(item).isdigit() or len(str(item)) > 18:
            errors["department_filter"] = _("Department ids, whole numbers.")
            break
        departments.append(int(item))
    if departments and Department.objects.filter(pk__in=departments).count() != len(set(departments)):
        errors["department_filter"] = _("No department with one of these ids.")
    return url, sorted(set(types)), sorted(set(departments))


# ---- endpoints


def register(
    actor,
    *,
    url,
    event_types,
    description: str = "",
    department=None,
    department_filter=(),
    allow_private=False,
    kind: str = WebhookEndpoint.Kind.STANDARD,
    robot_secret: str = "",
):
    """Register an endpoint; returns it with its signing secret in the clear (shown once; a chat robot's
    secret comes from the chat app instead, and None is returned). Only an admin lets it reach private
    addresses. The address's name is resolved before the transaction: a slow DNS answer holds no lock."""
    if allow_private and not context_for(actor).is_admin:
        raise Forbidden(_("Only organization admins let a webhook reach private addresses."))
    errors: dict = {}
    url, types, departments = _clean(errors, url, event_types, department_filter)
    owner_department = None
    if department not in (None, ""):
        owner_department = Department.objects.filter(pk=department).first() if str(department).isdigit() else None
        if owner_department is None:
            errors["department"] = _("No department with this id.")
        elif not can(actor, "subscribe", owner_department).allowed:
            raise Forbidden(
                _("Only stewards and heads of %(dept)s register webhooks for it.") % {"dept": owner_department.name}
            )
    if kind not in WebhookEndpoint.Kind.values:
        errors["kind"] = _("Choose one of %(kinds)s.") % {"kinds": ", ".join(WebhookEndpoint.Kind.values)}
    robot_secret = _robot_secret(errors, kind, robot_secret)
    if "url" not in errors and (why := _refused_address(url, allow_private=bool(allow_private))):
        errors["url"] = why
    if errors:
        raise Invalid(fields=errors)
    secret = new_secret() if kind == WebhookEndpoint.Kind.STANDARD else robot_secret
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            owner=actor,
            department=owner_department,
            url=url,
            description=_text(description),
            event_types=types,
            department_filter=departments,
            allow_private=bool(allow_private),
            kind=kind,
            secret="",
            created_at=timezone.now(),
        )
        endpoint.secret = _seal(secret, endpoint.pk) if secret else ""
        endpoint.save(update_fields=["secret"])
        record(actor, "webhook.registered", endpoint, departments=[owner_department] if owner_department else [],
               details={"url": url, "event_types": types, "kind": kind})  # fmt: skip
    return endpoint, (secret if kind == WebhookEndpoint.Kind.STANDARD else None)


def _text(value) -> str:
    """A description as given, without NUL and other control characters, at most 200 characters."""
    return "".join(c for c in str(value or "") if c.isprintable() or c == " ")[:200].strip()


def _robot_secret(errors: dict, kind: str, secret) -> str:
    secret = str(secret or "").strip()
    if kind == WebhookEndpoint.Kind.STANDARD or not secret:
        return ""
    if kind == WebhookEndpoint.Kind.WECOM:
        errors["robot_secret"] = _("A WeCom robot has no signing secret: its address's key authenticates.")
    elif len(secret) > 200 or not secret.isascii() or not secret.isprintable():
        errors["robot_secret"] = _("The robot's secret, as the chat app shows it (printable ASCII).")
    return secret


def change(actor, endpoint: WebhookEndpoint, *, url=None, event_types=None, description=None, department_filter=None,
           active=None, allow_private=None, robot_secret=None) -> WebhookEndpoint:  # fmt: skip
    """Change an endpoint's address, types, filter, description; turn it on or off. Only an admin lets it
    reach private addresses. The address is checked before the transaction (no lock held during DNS)."""
    errors: dict = {}
    new_url, types, departments = _clean(
        errors,
        endpoint.url if url is None else url,
        endpoint.event_types if event_types is None else event_types,
        endpoint.department_filter if department_filter is None else department_filter,
    )
    if allow_private is not None and allow_private != endpoint.allow_private:
        if not context_for(actor).is_admin:
            raise Forbidden(_("Only organization admins let a webhook reach private addresses."))
        endpoint.allow_private = bool(allow_private)
    if robot_secret is not None:
        if endpoint.kind == WebhookEndpoint.Kind.STANDARD:
            errors["robot_secret"] = _("A Standard Webhooks endpoint gets a new secret by rotating it.")
        cleaned = _robot_secret(errors, endpoint.kind, robot_secret)
    stays_on = endpoint.active if active is None else bool(active)
    # An endpoint that is off calls nobody: its address is checked when it is turned on again, so turning one
    # off (as when its owner leaves) resolves no name.
    if stays_on and "url" not in errors and (why := _refused_address(new_url, endpoint.allow_private)):
        errors["url"] = why
    if errors:
        raise Invalid(fields=errors)
    if robot_secret is not None:
        endpoint.secret = _seal(cleaned, endpoint.pk) if cleaned else ""
    endpoint.url, endpoint.event_types, endpoint.department_filter = new_url, types, departments
    if description is not None:
        endpoint.description = _text(description)
    if active is not None:
        endpoint.active = bool(active)
        if endpoint.active:
            endpoint.disabled_reason = ""
    with transaction.atomic():
        endpoint.save()
        record(
            actor,
            "webhook.changed",
            endpoint,
            details={"url": new_url, "event_types": types, "active": endpoint.active},
        )
    return endpoint


@transaction.atomic
def rotate_secret(actor, endpoint: WebhookEndpoint) -> str:
    """A new secret; for SECRET_OVERLAP the old one signs too (two signatures), so receivers can switch."""
    if endpoint.kind != WebhookEndpoint.Kind.STANDARD:
        raise Invalid(fields={"secret": _("A chat robot's secret comes from the chat app; change it there and here.")})
    secret = new_secret()
    endpoint.previous_secret, endpoint.previous_until = endpoint.secret, timezone.now() + SECRET_OVERLAP
    endpoint.secret = _seal(secret, endpoint.pk)
    endpoint.save(update_fields=["secret", "previous_secret", "previous_until"])
    record(actor, "webhook.secret_rotated", endpoint, details={"previous_until": endpoint.previous_until})
    return secret


@transaction.atomic
def redeliver(actor, endpoint: WebhookEndpoint, delivery_id) -> WebhookDelivery:
    """Send a delivery again now (same webhook-id, so a receiver that has it drops the repeat)."""
    delivery = endpoint.deliveries.filter(pk=delivery_id).first() if str(delivery_id).isdigit() else None
    if delivery is None:
        raise NotFound()
    delivery.status, delivery.next_attempt_at = Status.PENDING, timezone.now()
    delivery.save(update_fields=["status", "next_attempt_at"])
    record(actor, "webhook.redelivered", endpoint, details={"delivery": delivery.pk, "message_id": delivery.message_id})
    transaction.on_commit(_wake_worker)
    return delivery


# ---- deliveries from the log


def _matches(endpoint: WebhookEndpoint, action: str, resource: Resource) -> bool:
    typed = any(action == t or (t.endswith(".") and action.startswith(t)) for t in endpoint.event_types)
    return typed and (not endpoint.department_filter or resource.owner_department_id in endpoint.department_filter)


def _payload(event, resource: Resource, kind: str) -> str:
    if kind != WebhookEndpoint.Kind.STANDARD:
        return json.dumps(_robot_message(event, resource, kind), ensure_ascii=False)
    details = {k: v for k, v in (event.details or {}).items() if k in _DETAIL_KEYS}
    body = {
        "type": event.action,
        "timestamp": event.created_at.isoformat(),
        "data": {
            "event": event.seq,
            "actor": event.actor_name or None,
            "resource": {
                "id": resource.pk,
                "code": resource.code,
                "title": resource.title,
                "kind": resource.kind,
                "owner_department": resource.owner_department_id,
                "link": f"{settings.SITE_URL}/resources/{resource.code}/"
                if settings.SITE_URL
                else f"/resources/{resource.code}/",
            },
            "details": details,
        },
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)


def _robot_message(event, resource: Resource, kind: str) -> dict:
    """What a chat group reads: the sentence a follower reads, in the organization's language."""
    from django.utils import translation

    from sharehub.feeds.messages import render

    with translation.override(settings.LANGUAGE_CODE):
        text, link = render(event, followed=True)
    if link:
        link = (settings.SITE_URL or "") + link
    return robots.message(kind, f"Sharehub · {resource.code} {resource.title}"[:100], text, link)


def deliveries_from_event(event) -> None:
    """The log reader's handler: one delivery per matching endpoint whose owner may see the resource."""
    resource_id = named_resource(event)
    resource = Resource.objects.filter(pk=resource_id).first() if resource_id else None
    if resource is None:
        return
    made = []
    for endpoint in WebhookEndpoint.objects.filter(active=True).select_related("owner"):
        if not _matches(endpoint, event.action, resource) or not endpoint.owner.is_active:
            continue
        if not can(endpoint.owner, Action.VIEW, resource).allowed:
            continue
        made.append(
            WebhookDelivery(
                endpoint=endpoint,
                event=event,
                message_id=f"msg_{event.seq}_{endpoint.pk}",
                payload=_payload(event, resource, endpoint.kind),
                next_attempt_at=event.created_at,
                created_at=event.created_at,
            )
        )
    if made:
        WebhookDelivery.objects.bulk_create(made, ignore_conflicts=True)
        transaction.on_commit(_wake_worker)


def wants(event) -> bool:
    return event.action in FOLLOWED_ACTIONS and WebhookEndpoint.objects.filter(active=True).exists()


def _wake_worker() -> None:
    from sharehub import worker

    worker.wake()


# ---- sending


def send_due(now: datetime | None = None) -> int:
    """Send the deliveries that are due; returns how many were delivered. Each attempt is claimed and signed
    at its own time (`now`, when given, stands for every one): a round to a slow receiver lasts minutes, and
    an attempt dated at its start would be refused as too old (receivers allow 5 minutes) and, once the
    round is STUCK old, be taken back and sent a second time by another worker while it is in flight."""
    start = now or timezone.now()
    WebhookDelivery.objects.filter(status=Status.SENDING, last_attempt_at__lt=start - STUCK).update(
        status=Status.PENDING
    )
    due = WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=start).order_by(
        "next_attempt_at", "id"
    )
    delivered = 0
    for delivery in list(due.select_related("endpoint", "endpoint__owner", "event")[:BATCH]):
        at = now or timezone.now()
        claimed = WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.PENDING).update(
            status=Status.SENDING, last_attempt_at=at
        )
        if claimed:
            delivered += _attempt(delivery, at)
    return delivered


def _still_allowed(delivery: WebhookDelivery) -> str:
    endpoint = delivery.endpoint
    if not endpoint.active:
        return gettext_noop("The endpoint is turned off.")
    if not endpoint.owner.is_active:
        return gettext_noop("The endpoint's owner is deactivated.")
    resource_id = named_resource(delivery.event)
    resource = Resource.objects.filter(pk=resource_id).first() if resource_id else None
    if resource is None or not can(get_user_model().objects.get(pk=endpoint.owner_id), Action.VIEW, resource).allowed:
        return gettext_noop("The endpoint's owner may no longer see the resource.")
    return ""


def _attempt(delivery: WebhookDelivery, now: datetime) -> int:
    import httpx

    why_not = _still_allowed(delivery)
    if why_not:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=Status.DROPPED, error=why_not)
        metrics.webhook_attempt("dropped")
        return 0
    endpoint = delivery.endpoint
    refused = _refused_address(endpoint.url, endpoint.allow_private)
    body = delivery.payload.encode()
    timestamp = int(now.timestamp())
    status, response_text, error, duration = None, "", refused, None
    if not refused:
        started = time.monotonic()
        try:
            status, response_text = _post(endpoint, delivery, body, timestamp, now)
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"[:300]
        duration = int((time.monotonic() - started) * 1000)
        if status is not None:
            error = _refusal(endpoint.kind, status, response_text)
    attempts = delivery.attempts + 1
    ok = status is not None and not error
    gave_up = not ok and attempts > len(BACKOFF)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=Status.DELIVERED if ok else (Status.FAILED if gave_up else Status.PENDING),
        attempts=attempts,
        next_attempt_at=now if ok or gave_up else now + timedelta(seconds=BACKOFF[attempts - 1]),
        response_status=status,
        response_body=response_text,
        error="" if ok else error,
        duration_ms=duration,
    )
    metrics.webhook_attempt("delivered" if ok else ("failed" if gave_up else "retrying"))
    if gave_up:
        _disable_if_failing(endpoint, delivery)
    return 1 if ok else 0


def _refusal(kind: str, status: int, answer: str) -> str:
    """Why the receiver did not take the delivery ("" when it did): a status outside 2xx, or a chat robot's
    refusal in its JSON answer."""
    if kind != WebhookEndpoint.Kind.STANDARD:
        return robots.refused(kind, status, answer)
    return "" if 200 <= status < 300 else f"HTTP {status}"


def _post(endpoint: WebhookEndpoint, delivery: WebhookDelivery, body: bytes, timestamp: int, now: datetime):
    """POST one attempt; (HTTP status, the answer's text)."""
    import httpx

    if endpoint.kind == WebhookEndpoint.Kind.STANDARD:
        url = endpoint.url
        headers = {
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": " ".join(
                signature(secret, delivery.message_id, timestamp, body) for secret in signing_secrets(endpoint, now)
            ),
        }
    else:
        secret = _unseal(endpoint.secret, endpoint.pk) if endpoint.secret else ""
        url, body = robots.request(endpoint.kind, endpoint.url, json.loads(body), secret, now.timestamp())
        headers = {}
    headers |= {"content-type": "application/json; charset=utf-8", "user-agent": "Sharehub-Webhooks/1"}
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False, verify=tls_context()) as client:
        answer = client.post(url, content=body, headers=headers)
    return answer.status_code, answer.text[:RESPONSE_KEPT]


@cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every delivery of this process: a new one per POST (httpx's default) loads the
    CA bundle again, about 20 ms, which capped a worker at about 37 deliveries a second (bench/fanout)."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _disable_if_failing(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> None:
    """A delivery failed for good and nothing reached the endpoint since it was made: turn it off and
    tell its owner (a steward turns it on again once the receiver works)."""
    if endpoint.deliveries.filter(status=Status.DELIVERED, last_attempt_at__gte=delivery.created_at).exists():
        return
    with transaction.atomic():
        changed = WebhookEndpoint.objects.filter(pk=endpoint.pk, active=True).update(
            active=False, disabled_reason=gettext_noop("A delivery failed for good and none got through since.")
        )
        if changed:
            record(
                None,
                "webhook.disabled",
                endpoint,
                departments=[endpoint.department_id] if endpoint.department_id else [],
                details={"url": endpoint.url, "recipients": [endpoint.owner_id], "since": delivery.created_at},
            )


def run() -> int:
    """The worker's job: one batch, and if more deliveries are due, the next round at once rather than after
    the worker's interval (a backlog of more than BATCH drained at BATCH per 30 s: bench/fanout)."""
    delivered = send_due()
    if WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=timezone.now()).exists():
        _wake_worker()
    return delivered
