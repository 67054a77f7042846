"""What `/health/ready` checks, each in a constant number of queries whatever the size of the data:

- database: it answers (the log readers' query below is the probe);
- cache: a value written to it reads back (Redis when REDIS_URL is set, else this process's memory);
- log_readers: no reader of the event log is more than READY_LAG_EVENTS events behind its head while the
  oldest event it has not read is READY_LAG_SECONDS old or older (a reader that fails on an event keeps
  its place and falls behind; one a moment behind under load does not count);
- webhooks, mail: no more than READY_QUEUE_LIMIT deliveries (mails, when email is on) have been due for
  READY_LAG_SECONDS or longer.

The answer names each check `ok` or `fail` and nothing else; why one fails goes to the log, once each time
the answer changes, so that a load balancer asking every few seconds does not fill the log.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from sharehub.events import consumers
from sharehub.events.models import ChainHead, ConsumerCursor, Event

logger = logging.getLogger(__name__)

OK, FAIL, UNKNOWN = "ok", "fail", "unknown"
_last_answer: dict[str, str] = {}


def now() -> datetime:
    return timezone.now()


@dataclass(frozen=True)
class Reader:
    name: str
    behind: int  # events between its cursor and the head of the log
    oldest_unread_at: datetime | None  # when the first of those was written

    def seconds_behind(self, at: datetime) -> float:
        if not self.behind or self.oldest_unread_at is None:
            return 0.0
        return max(0.0, (at - self.oldest_unread_at).total_seconds())


def readers() -> list[Reader]:
    """Every registered log reader's distance to the head of the log: two queries, three when a reader
    has not run yet (it has no cursor row and reads from the start)."""
    names = consumers.registered()
    head = ChainHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0
    first_unread = Event.objects.filter(seq__gt=OuterRef("seq")).order_by("seq").values("created_at")[:1]
    found = {
        name: (seq, oldest)
        for name, seq, oldest in ConsumerCursor.objects.filter(name__in=names)
        .annotate(oldest=Subquery(first_unread))
        .values_list("name", "seq", "oldest")
    }
    if head and len(found) < len(names):
        first = Event.objects.order_by("seq").values_list("created_at", flat=True).first()
        found.update({name: (0, first) for name in names if name not in found})
    readers = []
    for name in names:
        seq, oldest = found.get(name, (0, None))
        readers.append(Reader(name, max(0, head - seq), oldest))
    return readers


def _backlog(model, at: datetime) -> dict[str, int]:
    pending, sending = model.Status.PENDING, model.Status.SENDING
    return model.objects.filter(status__in=[pending, sending]).aggregate(
        pending=Count("pk"), due=Count("pk", filter=Q(status=pending, next_attempt_at__lte=at))
    )


def webhook_backlog(at: datetime) -> dict[str, int]:
    """Pending webhook deliveries, and those of them that are due (one query)."""
    from sharehub.feeds.models import WebhookDelivery

    return _backlog(WebhookDelivery, at)


def mail_backlog(at: datetime) -> dict[str, int]:
    """Pending mails, and those of them that are due (one query)."""
    from sharehub.feeds.models import Mail

    return _backlog(Mail, at)


def _overdue(model, at: datetime, limit: int) -> int:
    """How many have been due since before `at`, counted up to limit + 1 (one query, bounded)."""
    return model.objects.filter(status=model.Status.PENDING, next_attempt_at__lte=at)[: limit + 1].count()


def _cache_answers() -> None:
    key, value = f"sharehub:health:{os.getpid()}", secrets.token_hex(4)
    cache.set(key, value, timeout=60)
    if cache.get(key) != value:
        raise RuntimeError("the cache did not give back what was written")


def live() -> dict[str, str]:
    """The process answers: nothing else is asked."""
    return {"process": OK}


def ready() -> dict[str, str]:
    """Each check's answer, `ok`, `fail` or `unknown` (the database did not answer, so it was not asked)."""
    from sharehub.feeds.models import Mail, WebhookDelivery

    checks: dict[str, str] = {}
    why: dict[str, str] = {}
    try:
        _cache_answers()
        checks["cache"] = OK
    except Exception as error:
        checks["cache"], why["cache"] = FAIL, f"{type(error).__name__}: {error}"
    at = now()
    try:
        found = readers()
        late_since = at - timedelta(seconds=settings.READY_LAG_SECONDS)
        limit = settings.READY_QUEUE_LIMIT
        overdue = {"webhooks": _overdue(WebhookDelivery, late_since, limit)}
        if settings.EMAIL_ENABLED:
            overdue["mail"] = _overdue(Mail, late_since, limit)
    except Exception as error:
        checks["database"], why["database"] = FAIL, f"{type(error).__name__}: {error}"
        checks.update(log_readers=UNKNOWN, webhooks=UNKNOWN, mail=UNKNOWN)
    else:
        checks["database"] = OK
        late = [
            reader
            for reader in found
            if reader.behind > settings.READY_LAG_EVENTS and reader.seconds_behind(at) >= settings.READY_LAG_SECONDS
        ]
        checks["log_readers"] = FAIL if late else OK
        if late:
            why["log_readers"] = "; ".join(
                f"{r.name} is {r.behind} events behind, the oldest unread {r.seconds_behind(at):.0f} s old"
                for r in late
            )
        for name in ("webhooks", "mail"):
            count = overdue.get(name, 0)
            checks[name] = FAIL if count > limit else OK
            if count > limit:
                why[name] = f"more than {limit} due for {settings.READY_LAG_SECONDS} s or longer"
    _log_change(checks, why)
    return checks


def _log_change(checks: dict[str, str], why: dict[str, str]) -> None:
    global _last_answer
    if checks == _last_answer:
        return
    _last_answer = dict(checks)
    if why:
        logger.warning("not ready: %s", "; ".join(f"{name}: {reason}" for name, reason in sorted(why.items())))
    else:
        logger.info("ready: every check passes")
