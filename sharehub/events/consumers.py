"""Readers of the event log that keep their own place (a cursor), so that work derived from the log
(notifications now; search indexing, webhooks and metrics later) survives crashes: whatever was not
processed is picked up on the next run, by the next commit or by `sharehub worker`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from sharehub.events import bus
from sharehub.events.models import ConsumerCursor, Event

logger = logging.getLogger(__name__)
BATCH = 500


@dataclass(frozen=True)
class Consumer:
    name: str
    handle: Callable[[Event], None]
    prefixes: tuple[str, ...] = ("",)

    def wants(self, event: Event) -> bool:
        return event.action.startswith(self.prefixes)


_consumers: dict[str, Consumer] = {}


def register(name: str, handle: Callable[[Event], None], prefixes: tuple[str, ...] = ("",)) -> None:
    _consumers[name] = Consumer(name, handle, prefixes)


def run_consumer(consumer: Consumer, limit: int = BATCH) -> int:
    """Process the next batch for one reader; returns how many events it read."""
    with transaction.atomic():
        cursor, _ = ConsumerCursor.objects.select_for_update().get_or_create(name=consumer.name)
        events = list(Event.objects.filter(seq__gt=cursor.seq).order_by("seq").prefetch_related("departments")[:limit])
        for event in events:
            if consumer.wants(event):
                consumer.handle(event)
        if events:
            cursor.seq = events[-1].seq
            cursor.save(update_fields=["seq", "updated_at"])
    return len(events)


def run_pending() -> int:
    """Bring every reader up to the head of the log. A reader that fails keeps its place and is
    retried on the next run; the others go on."""
    total = 0
    for consumer in list(_consumers.values()):
        try:
            while (count := run_consumer(consumer)) == BATCH:
                total += count
            total += count
        except Exception:
            logger.exception("log reader %s failed; it will retry from its cursor", consumer.name)
    return total


def _after_commit(event: Event) -> None:
    run_pending()


bus.subscribe("", _after_commit)
