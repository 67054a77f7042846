"""Readers of the event log that keep their own place (a cursor), so that work derived from the log
(notifications now; search indexing, webhooks and metrics later) survives crashes: whatever was not
processed is picked up on the next run, by the next commit or by `sharehub worker`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from sharehub.events import bus
from sharehub.events.models import ConsumerCursor, Event

logger = logging.getLogger(__name__)
BATCH = 500


@dataclass(frozen=True)
class Consumer:
    """A reader of the log. `handle` runs per event inside the transaction that advances the cursor.

    A reader whose work is slow (search indexing segments text) splits it: `prepare` gets the batch's
    wanted events and does the slow part with no transaction open, so no write lock is held meanwhile;
    `apply` gets what `prepare` returned and writes it inside the cursor's transaction. If another process
    moved the cursor in between, the prepared batch is dropped and read again."""

    name: str
    handle: Callable[[Event], None] | None = None
    prefixes: tuple[str, ...] = ("",)
    prepare: Callable[[list[Event]], Any] | None = None
    apply: Callable[[Any], None] | None = None
    accepts: Callable[[Event], bool] | None = None  # a further test than the prefix, on the event as written
    after: str | None = None  # a reader whose work this one builds on: it reads only what that one has read

    def wants(self, event: Event) -> bool:
        return event.action.startswith(self.prefixes) and (self.accepts is None or self.accepts(event))

    def horizon(self) -> int | None:
        """The last event this reader may read now (None: the head of the log)."""
        if self.after is None:
            return None
        return ConsumerCursor.objects.filter(name=self.after).values_list("seq", flat=True).first() or 0


_consumers: dict[str, Consumer] = {}


def register(
    name: str,
    handle: Callable[[Event], None],
    prefixes: tuple[str, ...] = ("",),
    accepts: Callable[[Event], bool] | None = None,
) -> None:
    """`accepts`: which events of those prefixes the reader acts on (it is not handed the others)."""
    _consumers[name] = Consumer(name, handle=handle, prefixes=prefixes, accepts=accepts)


def register_prepared(
    name: str,
    prepare: Callable[[list[Event]], Any],
    apply: Callable[[Any], None],
    prefixes: tuple[str, ...] = ("",),
    after: str | None = None,
) -> None:
    """A reader whose slow work runs outside the write transaction (see Consumer). `after`: the name of a
    reader whose results this one reads (e.g. the search index): it never reads past that reader's place."""
    _consumers[name] = Consumer(name, prefixes=prefixes, prepare=prepare, apply=apply, after=after)


def registered() -> list[str]:
    """The names of the registered readers, in the order they were registered (sharehub.ops.health)."""
    return list(_consumers)


def _next_events(after: int, limit: int, upto: int | None = None) -> list[Event]:
    events = Event.objects.filter(seq__gt=after)
    if upto is not None:
        events = events.filter(seq__lte=upto)
    return list(events.order_by("seq").prefetch_related("departments")[:limit])


def run_consumer(consumer: Consumer, limit: int = BATCH) -> int:
    """Process the next batch for one reader; returns how many events it read."""
    if consumer.prepare is not None:
        return _run_prepared(consumer, limit)
    with transaction.atomic():
        cursor, _ = ConsumerCursor.objects.select_for_update().get_or_create(name=consumer.name)
        events = _next_events(cursor.seq, limit, consumer.horizon())
        for event in events:
            if consumer.wants(event):
                consumer.handle(event)
        if events:
            cursor.seq = events[-1].seq
            cursor.save(update_fields=["seq", "updated_at"])
    return len(events)


def _run_prepared(consumer: Consumer, limit: int, attempts: int = 5) -> int:
    for _attempt in range(attempts):
        start = ConsumerCursor.objects.filter(name=consumer.name).values_list("seq", flat=True).first() or 0
        events = _next_events(start, limit, consumer.horizon())
        if not events:
            return 0
        prepared = consumer.prepare([event for event in events if consumer.wants(event)])
        with transaction.atomic():
            cursor, _ = ConsumerCursor.objects.select_for_update().get_or_create(name=consumer.name)
            if cursor.seq != start:
                continue  # another process applied this batch meanwhile; read on from where it left off
            consumer.apply(prepared)
            cursor.seq = events[-1].seq
            cursor.save(update_fields=["seq", "updated_at"])
        return len(events)
    return 0


def run_pending() -> int:
    """Bring every reader up to the head of the log. A reader that fails keeps its place and is
    retried on the next run; the others go on."""
    total = 0
    # a reader that builds on another's work runs after the others, so one round brings it up to date
    for consumer in sorted(_consumers.values(), key=lambda c: c.after is not None):
        try:
            while (count := run_consumer(consumer)) == BATCH:
                total += count
            total += count
        except Exception:
            logger.exception("log reader %s failed; it will retry from its cursor", consumer.name)
    return total


_more = threading.Event()
_background: threading.Thread | None = None
_stop = threading.Event()


def deliver_in_background() -> None:
    """In a server process: after a commit the readers catch up in a thread of their own instead of in
    the request that committed, which then answers at once. Under 16 concurrent writers every request
    used to run every reader itself, each waiting for the others on the readers' cursors and preparing
    the same batch again (issue 11). A reader still sees each event once, in order, after its commit."""
    global _background
    if _background is None:
        _stop.clear()
        _background = threading.Thread(target=_catch_up_forever, name="sharehub-readers", daemon=True)
        _background.start()


def deliver_inline() -> None:
    """Back to running the readers in the committing thread (the default), once the background thread
    has finished its round."""
    global _background
    thread, _background = _background, None
    if thread is not None:
        _stop.set()
        _more.set()
        thread.join()


def _catch_up_forever() -> None:
    from django.db import close_old_connections, connection

    try:
        while not _stop.is_set():
            _more.wait()
            _more.clear()
            try:
                run_pending()
            except Exception:  # the database went away: the next commit (or the worker's round) retries
                logger.exception("log readers could not catch up; they retry on the next commit")
            finally:
                close_old_connections()
    finally:
        connection.close()


def _after_commit(event: Event) -> None:
    # An event no reader acts on (a records-read event, written on every read by another department) sets
    # no reader going: each reader's cursor passes it on its next round, started by the next event a reader
    # wants or by the worker's periodic round. Catching up for it would cost two write transactions a read.
    if not any(consumer.wants(event) for consumer in list(_consumers.values())):
        return
    if _background is not None:
        _more.set()
    else:
        run_pending()


bus.subscribe("", _after_commit)
