"""Notifications live in the page: a Server-Sent Events stream per signed-in person.

The stream is served by its own ASGI handler (`sharehub.asgi` routes STREAM_PATH here), not by
Django's request threads, which a held connection would tie up. It sends each new notification of the
person (`id:` is the notification's id, so a reconnect with `Last-Event-ID` resumes after the last one
received: nothing lost, nothing twice) and the unread count.

Fan-out: the log reader that writes notifications for an event decides who may see it (the policy's
`viewers`, for all recipients at once) and, after its commit, `push`es one prepared message: the
sentence in each language, and each recipient's notification id. Every stream of a recipient in this
process writes it at once, with no query of its own; the message also goes to every other server process,
over a Redis channel with `REDIS_URL`, else on PostgreSQL by NOTIFY (split by recipients to fit its
payload limit, or, where even that fails, a wake-up that has their streams read at once). A listener thread
in each server process receives it (`_received`, one path for both). The database stays the source of
truth: on connecting a stream reads what it has not sent (`queries.shown`, the policy applied as it reads),
and every POLL_SECONDS one poller per process reads the notification ids written since its last look and
wakes the streams of those it has not seen pushed, which then read; so a push lost on the way (another
process on SQLite, a listener reconnecting) arrives within that time. One query a poll for the process,
not one a stream: 1,000 streams each reading every 10 s kept the server busy with 100 reads a second
(bench/fanout). At each poll the poller also ticks every stream, which then sends a heartbeat comment (so
proxies do not close it) and, every FULL_READ_SECONDS, reads for itself (the person deactivated, their
unread count changed): one timer for the process, as a timeout on each stream's wait cost more loop time
than the writes of a push."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

STREAM_PATH = "/notifications/stream/"
STREAM_AREA = "notifications"  # the API area whose read scope a bearer token needs for the stream
POLL_SECONDS = 10.0  # also the heartbeat that keeps proxies from closing an idle stream
POLL_SECONDS_WITH_WAKEUPS = 30.0  # with Redis or NOTIFY (see `_poll_seconds`)
RETRY_MS = 3000
BATCH = 50
CHANNEL = "sharehub:notifications"
LOOKBACK = 1000  # ids below the last one sent that a catch-up reads again: a lower id may commit later
SENT_KEPT = 2000
FULL_READ_SECONDS = 300.0
POLL_ROWS = 20_000  # at most this many new notification ids read by one poll
NOTIFY_BYTES = 7999  # PostgreSQL refuses a NOTIFY payload of 8000 bytes or more
RECONNECT_SECONDS = (1.0, 30.0)  # a listener's first wait after its connection drops, and the longest
STOP_CHECK_SECONDS = 1.0
YIELD_SECONDS = 0.25  # at most this long a push waits for the streams to write it (see `_deliver_local`)
# A silently dropped LISTEN connection (no FIN from a dead host or a NAT) fails within about a minute.
_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}
_WAKE = object()  # in a stream's queue: read now what has not been sent
_TICK = object()  # in a stream's queue: a poll interval passed (a heartbeat, now and then a read of its own)


@dataclass(eq=False)
class _Listener:
    loop: asyncio.AbstractEventLoop
    language: str
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    woken: bool = False
    ticked: bool = False

    def wake(self) -> None:
        """On the stream's loop: have it read at once, once however many wake-ups come before it reads."""
        if not self.woken:
            self.woken = True
            self.queue.put_nowait(_WAKE)

    def tick(self) -> None:
        """On the stream's loop, from its poller: one tick waits at most, however long the stream is stuck."""
        if not self.ticked:
            self.ticked = True
            self.queue.put_nowait(_TICK)


_streams: dict[int, set[_Listener]] = defaultdict(set)
_lock = threading.Lock()
_pollers: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}
_known: dict[int, None] = {}  # notification ids pushed to this process's streams or seen by its poller
_listener: tuple[threading.Thread, threading.Event] | None = None
_ORIGIN = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"  # this process, so it skips its own messages


def push_after_commit(event, recipients: dict[int, int], *, followed: bool, hidden=(), search: str = "") -> None:
    """After the current transaction commits, `push` the notifications just written for `event`:
    `recipients` maps each person to their notification's id; `hidden` are those who may not see the
    resource the event names (its name is left out for them); `search`: the name of the followed saved
    search whose new match this is."""
    if recipients:
        recipients, hidden = dict(recipients), set(hidden)
        transaction.on_commit(lambda: push(event, recipients, followed=followed, hidden=hidden, search=search))


def push(event, recipients: dict[int, int], *, followed: bool, hidden=frozenset(), search: str = "") -> None:
    """Send one event's notifications to the streams of their recipients, here and (over Redis or NOTIFY) in
    every other server process. The sentence is rendered once per language, not once per person."""
    try:
        message = _prepared(event, recipients, followed, set(hidden), search)
    except Exception:  # a stream's polling delivers it, later
        logger.warning("could not prepare a live notification for event #%s", event.seq, exc_info=True)
        return
    _deliver_local(message)
    _publish(message)


def _publish(message: dict) -> None:
    """Send `message` to the other server processes: over Redis with REDIS_URL, else by NOTIFY on
    PostgreSQL. On SQLite other processes catch up by polling."""
    try:
        if settings.REDIS_URL:
            _redis().publish(CHANNEL, json.dumps(message, ensure_ascii=False))
        elif _on_postgres():
            _notify(message)
    except Exception:
        logger.warning("could not publish a live notification to other processes", exc_info=True)


def _on_postgres() -> bool:
    return "postgresql" in settings.DATABASES["default"]["ENGINE"]


def _notify(message: dict) -> None:
    """NOTIFY on this thread's connection, all payloads in one statement. `push` runs after the commit,
    in autocommit, so they go out at once; inside a transaction they would go out at its commit, with
    the notifications it writes, or not at all."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_notify(%s, payload) FROM unnest(%s::text[]) AS payload", [CHANNEL, _notify_payloads(message)]
        )


def _notify_payloads(message: dict) -> list[str]:
    """`message` as NOTIFY payloads within NOTIFY_BYTES: copies with the recipients split among them, or,
    if the texts alone are too long, wake-ups (the recipients without texts) that have their streams
    read at once. ASCII JSON, so a character is a byte whatever the database's encoding."""
    recipients = list(message["to"].items())
    payloads = _split({**message, "to": {}}, recipients)
    if payloads is None:
        payloads = _split({"origin": message["origin"], "wake": True, "to": {}}, recipients)
    return payloads or []


def _split(base: dict, recipients: list[tuple[str, list]]) -> list[str] | None:
    """JSON of `base` with `recipients` shared among copies under "to", each within NOTIFY_BYTES; None if
    one recipient does not fit. An entry's size as a one-entry object, braces standing for the ", "
    between entries, sums to exactly the size of the object they make."""
    room = NOTIFY_BYTES - len(json.dumps(base))
    payloads: list[str] = []
    chunk: dict[str, list] = {}
    used = 0
    for user_id, entry in recipients:
        size = len(json.dumps({user_id: entry}))
        if size > room:
            return None
        if used + size > room:
            payloads.append(json.dumps({**base, "to": chunk}))
            chunk, used = {}, 0
        chunk[user_id] = entry
        used += size
    if chunk:
        payloads.append(json.dumps({**base, "to": chunk}))
    return payloads


def _prepared(event, recipients: dict[int, int], followed: bool, hidden: set[int], search: str = "") -> dict:
    from django.utils import translation

    from sharehub.feeds.messages import render
    from sharehub.org.queries import person_labels

    people = person_labels([event.actor_id])
    texts: dict[str, dict[str, list[str]]] = {"shown": {}, "hidden": {}}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            texts["shown"][language] = list(render(event, people, followed=followed, search=search))
            if hidden:
                texts["hidden"][language] = list(render(event, people, hidden=True, followed=followed, search=search))
    return {
        "origin": _ORIGIN,
        "action": event.action,
        "created_at": event.created_at.isoformat(),
        "texts": texts,
        "to": {str(user_id): [pk, user_id in hidden] for user_id, pk in recipients.items()},
    }


def _deliver_local(message: dict) -> None:
    """Queue the message's notification on each local stream of its recipients, as the bytes the stream
    writes: made once per language (and hidden or not) with only the id put in per stream, and handed to
    each event loop in one call, not one wake-up of the loop per stream. The pushing thread (the log
    readers, or a listener) then waits, at most YIELD_SECONDS, until the streams have written it: going on
    with the next log reader (search indexing) meanwhile took half of the interpreter's time from the
    loop and made the writes to 1,000 streams take 37-50 ms instead of about 25 (bench/fanout)."""
    with _lock:
        targets = [
            (listener, entry) for user_id, entry in message["to"].items() for listener in _streams.get(int(user_id), ())
        ]
        for pk, _hidden in message["to"].values():
            _known[pk] = None
    tails: dict[tuple[str, bool], str] = {}
    by_loop: dict[asyncio.AbstractEventLoop, list] = defaultdict(list)
    for listener, (pk, hidden) in targets:
        key = (listener.language, bool(hidden))
        if key not in tails:
            texts = message["texts"]["hidden" if hidden else "shown"]
            text, link = texts.get(listener.language) or next(iter(texts.values()))
            rest = {"text": text, "link": link, "action": message["action"], "created_at": message["created_at"]}
            tails[key] = json.dumps(rest, ensure_ascii=False)[1:]
        data = f'{{"id": {int(pk)}, {tails[key]}'
        by_loop[listener.loop].append((listener, (pk, _message("notification", data, pk))))
    written = []
    for loop, items in by_loop.items():
        done = threading.Event()
        with contextlib.suppress(RuntimeError):  # that loop has closed
            loop.call_soon_threadsafe(_queue_all, items, done)
            if not _runs_here(loop):
                written.append(done)
    for done in written:
        done.wait(YIELD_SECONDS)


def _runs_here(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _queue_all(items: list, done: threading.Event) -> None:
    """Queue each stream's message; once the streams have written them (they run before anything queued
    after this), tell the thread that pushed."""
    for listener, item in items:
        listener.queue.put_nowait(item)
    asyncio.get_running_loop().call_soon(done.set)


def _wake_local(user_ids: Iterable[int] | None = None) -> None:
    """Have the streams in this process of `user_ids` (of everyone when None) read at once."""
    with _lock:
        if user_ids is None:
            targets = [listener for listeners in _streams.values() for listener in listeners]
        else:
            targets = [listener for user_id in user_ids for listener in _streams.get(user_id, ())]
    for listener in targets:
        with contextlib.suppress(RuntimeError):  # that stream's loop has closed
            listener.loop.call_soon_threadsafe(listener.wake)


def _received(payload: str | bytes) -> None:
    """A message another process published, over Redis or NOTIFY: to this process's streams of its
    recipients, as if pushed here; a wake-up has them read instead."""
    try:
        message = json.loads(payload)
        if message.get("origin") == _ORIGIN:
            return
        if message.get("wake"):
            _wake_local(int(user_id) for user_id in message["to"])
        else:
            _deliver_local(message)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError):
        logger.warning("ignored a malformed live message: %.200r", payload)


_client = None


def _redis():
    global _client
    if _client is None:
        import redis

        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client


def _redis_payloads(stop: threading.Event) -> Iterator[bytes | None]:
    """What other processes publish on Redis; None once subscribed."""
    import redis

    pubsub = redis.Redis.from_url(settings.REDIS_URL).pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(CHANNEL)
        yield None
        while not stop.is_set():
            received = pubsub.get_message(timeout=STOP_CHECK_SECONDS)
            if received is not None:
                yield received["data"]
    finally:
        pubsub.close()


def _postgres_payloads(stop: threading.Event) -> Iterator[str | None]:
    """What other processes NOTIFY, on a connection of its own (Django's are pooled and per thread, and a
    LISTEN lasts as long as its session); None once listening."""
    import psycopg
    from django.db import connections
    from psycopg import sql

    params = {**_KEEPALIVES, **connections["default"].get_connection_params(), "autocommit": True}
    with psycopg.connect(**params) as conn:
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
        yield None
        while not stop.is_set():
            for notify in conn.notifies(timeout=STOP_CHECK_SECONDS):
                yield notify.payload


def _listen_forever(payloads: Callable[[threading.Event], Iterator[str | bytes | None]], stop: threading.Event) -> None:
    """Hand what `payloads` yields to `_received` until `stop`, connecting again with growing waits when
    the connection fails. After such a gap every stream here reads at once, for what was sent meanwhile."""
    wait, missed = RECONNECT_SECONDS[0], False
    while not stop.is_set():
        try:
            for payload in payloads(stop):
                if payload is not None:
                    _received(payload)
                    continue
                if missed:
                    _wake_local()
                wait, missed = RECONNECT_SECONDS[0], False
        except Exception:
            logger.warning("live messages from other processes stopped; reconnecting in %.0f s", wait, exc_info=True)
        if stop.wait(wait):
            return
        wait, missed = min(wait * 2, RECONNECT_SECONDS[1]), True


def _ensure_listener() -> None:
    """Start this process's listener for other processes' messages, over Redis or NOTIFY, if none runs."""
    global _listener
    if _listener is None and (settings.REDIS_URL or _on_postgres()):
        with _lock:
            if _listener is None:
                payloads = _redis_payloads if settings.REDIS_URL else _postgres_payloads
                stop = threading.Event()
                thread = threading.Thread(
                    target=_listen_forever, args=(payloads, stop), name="sharehub-live", daemon=True
                )
                thread.start()
                _listener = thread, stop


def stop_listening(timeout: float = 10.0) -> None:
    """Stop the listener and close its connection (a test does, before PostgreSQL drops its database);
    the next stream starts another."""
    global _listener
    with _lock:
        running, _listener = _listener, None
    if running is not None:
        thread, stop = running
        stop.set()
        thread.join(timeout)


def _ensure_poller(loop: asyncio.AbstractEventLoop) -> None:
    """Start the poller of the streams on `loop` (a server process has one), if none runs."""
    task = _pollers.get(loop)
    if task is None or task.done():
        _pollers[loop] = loop.create_task(_poll_forever(loop))


async def _poll_forever(loop: asyncio.AbstractEventLoop) -> None:
    """Every POLL_SECONDS while streams are open on `loop`: the notifications written since the last look
    (and LOOKBACK ids below it, as a lower id may commit later) that were not pushed here wake their
    recipients' streams, which read them. (Its first look may wake a stream for what it read itself when it
    opened: that read finds nothing new and sends nothing twice.)"""
    newest, waited = None, False
    while True:
        if newest is not None and not waited:
            await asyncio.sleep(_poll_seconds())
            waited = True
        with _lock:
            watching = {uid: [ls for ls in listeners if ls.loop is loop] for uid, listeners in _streams.items()}
        watching = {uid: listeners for uid, listeners in watching.items() if listeners}
        if not watching:
            _pollers.pop(loop, None)
            return
        if waited:  # a poll interval passed: heartbeats (also while the database is away)
            for listeners in watching.values():
                for listener in listeners:
                    listener.tick()
        waited = False
        try:
            rows, latest = await sync_to_async(_written_since, thread_sensitive=False)(newest)
        except Exception:  # the database is away: the next poll tries again
            logger.warning("the live notification poll failed", exc_info=True)
            await asyncio.sleep(_poll_seconds())
            waited = True
            continue
        with _lock:
            fresh = {uid for pk, uid in rows if pk not in _known and uid in watching} if newest is not None else set()
            if newest is not None:
                for pk, _uid in rows:
                    _known[pk] = None
            for pk in [pk for pk in _known if pk <= latest - 2 * LOOKBACK]:
                del _known[pk]
        newest = latest
        for uid in fresh:
            for listener in watching[uid]:
                listener.wake()


def _written_since(newest: int | None) -> tuple[list[tuple[int, int]], int]:
    """(notification id, recipient) of the notifications above `newest` - LOOKBACK, and the highest id."""
    from sharehub.feeds.models import Notification

    try:
        if newest is None:
            newest = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        rows = list(
            Notification.objects.filter(pk__gt=max(newest - LOOKBACK, 0))
            .order_by("pk")
            .values_list("pk", "recipient_id")[:POLL_ROWS]
        )
        return rows, max([newest, *(pk for pk, _uid in rows)])
    finally:
        _close_connections()


def unread_changed_after_commit(user_id: int) -> None:
    """After the current transaction commits, have the person's streams (in every process) read their
    unread count again: they marked notifications read in another tab."""
    message = {"origin": _ORIGIN, "wake": True, "to": {str(user_id): []}}
    transaction.on_commit(lambda: (_wake_local([user_id]), _publish(message)))


def _poll_seconds() -> float:
    """With Redis or NOTIFY every process hears each push at once, and a listener that reconnects has its
    streams read at once, so the poll only covers a message lost otherwise and keeps proxies from closing
    an idle stream: the longer interval, a third of the catch-up queries. Without them polling is how
    another process's notifications arrive: the shorter one."""
    return POLL_SECONDS_WITH_WAKEUPS if settings.REDIS_URL or _on_postgres() else POLL_SECONDS


def _cookie(scope, name: str) -> str:
    for key, value in scope.get("headers", ()):
        if key == b"cookie":
            cookie = SimpleCookie()
            try:
                cookie.load(value.decode("latin-1"))
            except Exception:
                return ""
            if name in cookie:
                return cookie[name].value
    return ""


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return ""


def _user_of(scope):
    """The signed-in person of the request (session cookie, or a bearer token), or None."""
    from django.contrib import auth
    from django.http import HttpRequest

    from sharehub.org import scopes
    from sharehub.org.services import TokenRefused, token_user

    try:
        authorization = _header(scope, b"authorization")
        if authorization.lower().startswith("bearer "):
            try:
                user, granted = token_user(authorization[7:].strip())
            except TokenRefused:
                return None
            if not scopes.allows(granted, STREAM_AREA, "GET"):
                return None
        else:
            from importlib import import_module

            request = HttpRequest()
            engine = import_module(settings.SESSION_ENGINE)
            request.session = engine.SessionStore(_cookie(scope, settings.SESSION_COOKIE_NAME) or None)
            user = auth.get_user(request)
        return user if user is not None and user.is_authenticated and user.is_active else None
    finally:
        _close_connections()


def _close_connections() -> None:
    from django.db import connections

    connections.close_all()


def _last_seen(scope) -> int | None:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return _last_seen_in(_header(scope, b"last-event-id") or query.get("last", [""])[0])


def _last_seen_in(raw: str) -> int | None:
    """The id of the last notification the browser received (`Last-Event-ID`), if it sent a valid one."""
    raw = raw.strip()
    return int(raw) if raw.isdigit() and len(raw) <= 18 else None


def _language(scope) -> str:
    from django.utils.translation import get_supported_language_variant

    wanted = _cookie(scope, settings.LANGUAGE_COOKIE_NAME) or _header(scope, b"accept-language")[:2]
    try:
        return get_supported_language_variant(wanted or settings.LANGUAGE_CODE)
    except LookupError:
        return settings.LANGUAGE_CODE


def _next_batch(
    user_id: int, after: int | None, language: str, sent: frozenset[int] = frozenset(), floor: int = 0
) -> tuple[list[tuple[int, dict]], int, int, bool] | None:
    """What the stream has not sent: ([(notification id, body)], the highest id read, the unread count,
    whether more are waiting) for the person's notifications after `after` (the newest id when None: a new
    connection starts from now). With `sent` (ids this connection wrote), a catch-up also reads LOOKBACK ids
    below `after`, but not below `floor` (where the connection started), since a notification with a lower
    id may commit after a higher one. None once the
    person is deactivated. The person is read afresh each time, so the policy sees today's grants and
    memberships, not those of when the stream opened."""
    from django.contrib.auth import get_user_model
    from django.utils import translation

    from sharehub.feeds import queries

    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    with translation.override(language):
        if after is None:
            after = queries.newest_notification_id(user)
        start = max(floor, after - LOOKBACK) if sent else after
        page = [n for n in queries.notifications_after(user, start, BATCH + len(sent)) if n.pk not in sent][:BATCH]
        found = []
        for notification, text, link in queries.shown(user, page):
            body = {
                "id": notification.pk,
                "text": text,
                "link": link,
                "action": notification.event.action,
                "created_at": notification.created_at.isoformat(),
            }
            found.append((notification.pk, body))
        newest = max([after, *(n.pk for n in page)])
        return found, newest, queries.unread_count(user), len(page) == BATCH


def _next_batch_in_stream(user_id: int, after: int | None, language: str, sent=frozenset(), floor: int = 0):
    """`_next_batch` on a thread of the default executor, which keeps no connection between batches."""
    try:
        return _next_batch(user_id, after, language, sent, floor)
    finally:
        _close_connections()


def stream_snapshot(request) -> bytes:
    """One round of the stream for a Django request: what `stream` would send now, with a long retry."""
    batch = _next_batch(
        request.user.pk,
        _last_seen_in(request.headers.get("Last-Event-ID", "") or request.GET.get("last", "")),
        request.LANGUAGE_CODE,
    )
    found, newest, unread, _more = batch or ([], 0, 0, False)
    retry = f"retry: {int(POLL_SECONDS * 1000)}\n\n".encode()
    messages = b"".join(_notification(pk, body) for pk, body in found)
    return retry + messages + _message("unread", json.dumps({"unread": unread}), newest)


def _notification(pk: int, body: dict) -> bytes:
    return _message("notification", json.dumps(body, ensure_ascii=False), pk)


def _message(event: str, data: str, ident: int | None = None) -> bytes:
    lines = [f"id: {ident}"] if ident is not None else []
    lines += [f"event: {event}", f"data: {data}", "", ""]
    return "\n".join(lines).encode("utf-8")


async def _refuse(send, status: int, text: str) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": text.encode()})


async def stream(scope, receive, send) -> None:
    """The ASGI handler of STREAM_PATH."""
    if scope.get("method") != "GET":
        await _refuse(send, 405, "GET only")
        return
    user = await sync_to_async(_user_of, thread_sensitive=False)(scope)
    if user is None:
        await _refuse(send, 401, "Sign in first.")
        return
    _ensure_listener()
    loop = asyncio.get_running_loop()
    listener = _Listener(loop, _language(scope))
    with _lock:
        _streams[user.pk].add(listener)  # before the first read: a push meanwhile waits in the queue
    _ensure_poller(loop)

    async def watch_disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        listener.queue.put_nowait(None)

    watcher = asyncio.create_task(watch_disconnect())
    gone = False
    try:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream; charset=utf-8"),
                    (b"cache-control", b"no-store"),
                    (b"x-accel-buffering", b"no"),  # nginx: pass each message on at once
                ],
            }
        )
        await send({"type": "http.response.body", "body": f"retry: {RETRY_MS}\n\n".encode(), "more_body": True})
        after, unread_sent, sent, floor = _last_seen(scope), None, _Sent(), 0
        read_now, first, last_read = True, True, loop.time()
        while not gone:
            if read_now:
                read_now, last_read = False, loop.time()
                batch = await sync_to_async(_next_batch_in_stream, thread_sensitive=False)(
                    user.pk, after, listener.language, frozenset() if first else sent.ids(), floor
                )
                if batch is None:
                    break
                found, after, unread, more = batch
                if first:
                    floor, first = after if not found else min(pk for pk, _body in found) - 1, False
                out = [_notification(pk, body) for pk, body in found]
                sent.add(pk for pk, _body in found)
                if unread != unread_sent:
                    out.append(_message("unread", json.dumps({"unread": unread}), after))
                    unread_sent = unread
                await send({"type": "http.response.body", "body": b"".join(out) or b": ping\n\n", "more_body": True})
                if more:
                    read_now = True
                    continue
            item = await listener.queue.get()  # no timeout of its own: it cost more than the push (bench/fanout)
            if item is _TICK:  # a heartbeat, and now and then a read of its own
                listener.ticked = False
                read_now = loop.time() - last_read >= FULL_READ_SECONDS
                if not read_now:
                    await send({"type": "http.response.body", "body": b": ping\n\n", "more_body": True})
                continue
            if item is None:
                gone = True
                break
            if item is _WAKE:
                listener.woken, read_now = False, True
                continue
            pk, chunk = item
            if pk in sent or pk <= floor or (after is not None and pk <= after - LOOKBACK):
                continue
            sent.add([pk])
            after = max(after or 0, pk)
            unread_sent = (unread_sent or 0) + 1
            out = chunk + _message("unread", f'{{"unread": {unread_sent}}}', after)
            await send({"type": "http.response.body", "body": out, "more_body": True})
    except OSError:
        pass
    finally:
        watcher.cancel()
        with _lock:
            _streams[user.pk].discard(listener)
            if not _streams[user.pk]:
                del _streams[user.pk]
        if not gone:
            with contextlib.suppress(Exception):
                await send({"type": "http.response.body", "body": b"", "more_body": False})


class _Sent:
    """The ids a connection has written lately (the newest SENT_KEPT), so nothing goes out twice."""

    def __init__(self) -> None:
        self._ids: dict[int, None] = {}

    def add(self, ids) -> None:
        for pk in ids:
            self._ids[pk] = None
        while len(self._ids) > SENT_KEPT:
            del self._ids[next(iter(self._ids))]

    def __contains__(self, pk: int) -> bool:
        return pk in self._ids

    def ids(self) -> frozenset[int]:
        return frozenset(self._ids)
