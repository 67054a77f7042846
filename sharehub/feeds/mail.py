"""Email of what people follow (and, if they choose, of what involves them): at once, or in daily and
weekly digests, in the person's language, as text and HTML, with a one-click unsubscribe (RFC 8058).

Notifications to be mailed carry `mail` (how) and are claimed into `Mail` rows by the background work;
a mail is sent with no transaction open and retried with backoff while the server refuses it. What a
mail says passes the policy when it is sent: a notification about a resource the person may no longer
see is left out, and a mail with nothing left, or to someone deactivated or without an address, is
not sent."""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from sharehub.feeds import queries
from sharehub.feeds.models import Follow, Mail, MailSettings, Notification
from sharehub.ops import metrics

logger = logging.getLogger(__name__)

BACKOFF = (60, 300, 1800, 7200, 21600, 43200, 86400)  # seconds before attempts 2, 3, ...; then it has failed
STUCK = timedelta(minutes=15)  # a mail left `sending` this long (its sender died) is sent again
DIGEST_EVERY = {Mail.Kind.DAILY: timedelta(days=1), Mail.Kind.WEEKLY: timedelta(days=7)}
BATCH = 200
UNSUBSCRIBE_SALT = "sharehub.feeds.unsubscribe"
UNSUBSCRIBE_MAX_AGE = 60 * 60 * 24 * 365


def queue(now: datetime | None = None) -> int:
    """Claim notifications waiting to be mailed into mails: one each for those wanted at once, one digest
    per person and period when the last one is a period old. Returns how many mails were made."""
    now = now or timezone.now()
    waiting = list(
        Notification.objects.filter(mailed_at__isnull=True)
        .exclude(mail="")
        .order_by("id")
        .values_list("pk", "recipient_id", "mail")[: BATCH * 10]
    )
    groups: dict[tuple[int, str], list[int]] = defaultdict(list)
    made = 0
    for pk, recipient_id, how in waiting:
        if how == Mail.Kind.AT_ONCE:
            made += _claim(recipient_id, how, [pk], now)
        elif how in DIGEST_EVERY:
            groups[(recipient_id, how)].append(pk)
    for (recipient_id, how), ids in groups.items():
        last = Mail.objects.filter(recipient_id=recipient_id, kind=how).order_by("-created_at").first()
        if last is None or last.created_at <= now - DIGEST_EVERY[how]:
            made += _claim(recipient_id, how, ids, now)
    return made


def _claim(recipient_id: int, kind: str, ids: list[int], now: datetime) -> int:
    """One mail of the notifications this round claims (another worker may have claimed some first)."""
    with transaction.atomic():
        Notification.objects.filter(pk__in=ids, mailed_at__isnull=True).update(mailed_at=now)
        claimed = list(
            Notification.objects.filter(pk__in=ids, mailed_at=now).order_by("id").values_list("pk", flat=True)
        )
        if not claimed:
            return 0
        Mail.objects.create(
            recipient_id=recipient_id, kind=kind, notifications=claimed, next_attempt_at=now, created_at=now
        )
    return 1


def send_pending(now: datetime | None = None) -> int:
    """Send the mails that are due; returns how many went out. Each mail is claimed at its own time (`now`,
    when given, stands for every one): a claim dated at the start of a long round would be STUCK old, and
    taken back and sent a second time by another worker, while it is still being sent."""
    start = now or timezone.now()
    Mail.objects.filter(status=Mail.Status.SENDING, next_attempt_at__lt=start - STUCK).update(
        status=Mail.Status.PENDING
    )
    sent = 0
    due = Mail.objects.filter(status=Mail.Status.PENDING, next_attempt_at__lte=start).order_by("next_attempt_at", "id")
    for mail in list(due[:BATCH]):
        at = now or timezone.now()
        if not Mail.objects.filter(pk=mail.pk, status=Mail.Status.PENDING).update(
            status=Mail.Status.SENDING, next_attempt_at=at
        ):
            continue  # another worker took it
        sent += _send(mail, at)
    return sent


def _send(mail: Mail, now: datetime) -> int:
    message, why_not = message_for(mail)
    if message is None:
        Mail.objects.filter(pk=mail.pk).update(status=Mail.Status.DROPPED, last_error=why_not)
        metrics.mail_attempt("dropped")
        return 0
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        attempts = mail.attempts + 1
        gave_up = attempts > len(BACKOFF)
        Mail.objects.filter(pk=mail.pk).update(
            status=Mail.Status.FAILED if gave_up else Mail.Status.PENDING,
            attempts=attempts,
            next_attempt_at=now if gave_up else now + timedelta(seconds=BACKOFF[attempts - 1]),
            last_error=f"{type(error).__name__}: {error}"[:300],
        )
        logger.warning("mail %s to person %s not sent (attempt %s): %s", mail.pk, mail.recipient_id, attempts, error)
        metrics.mail_attempt("failed" if gave_up else "retrying")
        return 0
    Mail.objects.filter(pk=mail.pk).update(status=Mail.Status.SENT, attempts=mail.attempts + 1, sent_at=timezone.now())
    metrics.mail_attempt("sent")
    return 1


def unsubscribe_token(mail: Mail) -> str:
    return signing.dumps({"m": mail.pk, "u": mail.recipient_id}, salt=UNSUBSCRIBE_SALT, compress=True)


def mail_of_token(token: str) -> Mail | None:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    return Mail.objects.filter(pk=data.get("m"), recipient_id=data.get("u")).select_related("recipient").first()


def message_id(mail: Mail) -> str:
    """The mail's Message-ID, the same on every attempt: a sender that dies after the server took the mail
    but before the outbox noted it sends it again once the claim is stale, and the repeat is then the same
    message, which mail systems and readers can drop (as receivers drop a webhook's repeat by `webhook-id`)."""
    domain = urlsplit(settings.SITE_URL).hostname or str(DNS_NAME)
    return f"<sharehub.mail.{mail.pk}.{mail.created_at:%Y%m%d%H%M%S%f}@{domain}>"


def message_for(mail: Mail) -> tuple[EmailMultiAlternatives | None, str]:
    """The message to send for a mail, or (None, why not)."""
    person = get_user_model().objects.filter(pk=mail.recipient_id).first()
    if person is None or not person.is_active:
        return None, "the person is deactivated"
    if not (person.email or "").strip():
        return None, "the person has no email address"
    notifications = (
        Notification.objects.filter(pk__in=mail.notifications).select_related("event").order_by("created_at", "id")
    )
    language = person.language or settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(_zone(person)):
        rows = queries.shown(person, notifications)
        if not rows:
            return None, "nothing the person may still see"
        items = [
            {"text": text, "link": settings.SITE_URL + link if link else "", "at": n.created_at}
            for n, text, link in rows
        ]
        unsubscribe = settings.SITE_URL + reverse("feeds:unsubscribe", args=[unsubscribe_token(mail)])
        if mail.kind == Mail.Kind.AT_ONCE:
            subject = items[0]["text"]
        elif mail.kind == Mail.Kind.DAILY:
            subject = ngettext("Your daily digest: %(n)s update", "Your daily digest: %(n)s updates", len(items)) % {
                "n": len(items)
            }
        else:
            subject = ngettext("Your weekly digest: %(n)s update", "Your weekly digest: %(n)s updates", len(items)) % {
                "n": len(items)
            }
        context = {
            "person": person,
            "items": items,
            "digest": mail.kind != Mail.Kind.AT_ONCE,
            "unsubscribe": unsubscribe,
            "following": settings.SITE_URL + reverse("feeds:following"),
            "why": Follow.Delivery(mail.kind).label,
            "language": language,
        }
        text = render_to_string("feeds/mail/notifications.txt", context)
        html = render_to_string("feeds/mail/notifications.html", context)
        subject = f"[Sharehub] {subject}"[:200].replace("\n", " ")
    message = EmailMultiAlternatives(
        subject,
        text,
        settings.DEFAULT_FROM_EMAIL,
        [person.email],
        headers={
            "Message-ID": message_id(mail),
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "Content-Language": language,
        },
    )
    message.attach_alternative(html, "text/html")
    return message, ""


def _zone(person):
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(person.time_zone) if person.time_zone else timezone.get_default_timezone()
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()


@transaction.atomic
def unsubscribe(mail: Mail) -> int:
    """Stop the email this mail came from: the person's follows mailed that way, and their mail of what
    involves them if it is mailed that way, go back to the app only. Returns how many settings changed."""
    from sharehub.events.services import record

    changed = Follow.objects.filter(person_id=mail.recipient_id, delivery=mail.kind).update(
        delivery=Follow.Delivery.IN_APP
    )
    involved = MailSettings.objects.filter(person_id=mail.recipient_id, involved=mail.kind).update(
        involved=Follow.Delivery.IN_APP
    )
    if changed or involved:
        record(
            mail.recipient,
            "follow.mail_unsubscribed",
            ("feeds.mail", mail.pk, f"{mail.kind} mail"),
            details={"kind": mail.kind, "follows": changed, "involved": bool(involved)},
        )
    return changed + involved


def run() -> int:
    """The background job: queue what is waiting, then send what is due (nothing when email is off)."""
    if not settings.EMAIL_ENABLED:
        return 0
    queue()
    return send_pending()
