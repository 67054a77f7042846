"""Notifications live in the page: a Server-Sent Events stream per signed-in person.

The stream is served by its own ASGI handler (`sharehub.asgi` routes STREAM_PATH here), not by
Django's request threads, which a held connection would tie up. It sends each new notification of the
person (`id:` is the notification's id, so a reconnect with `Last-Event-ID` resumes after the last one
received: nothing lost, nothing twice) and the unread count after each batch. What it sends passes the
policy at that moment (`queries.shown`): a follower who lost sight of a resource gets nothing.

Wake-ups: notifications are written after the commit of the event behind them (by a log reader), which
calls `wake` with their recipients. In one process the waiting streams are woken directly; with
`REDIS_URL` the wake-up is also published on a Redis channel that every server process listens to.
Each stream also looks every POLL_SECONDS (without Redis: a notification written by another process,
`sharehub worker` say, arrives within that time), which doubles as the heartbeat that keeps proxies
from closing an idle stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections import defaultdict
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

STREAM_PATH = "/notifications/stream/"
POLL_SECONDS = 10.0  # also the heartbeat that keeps proxies from closing an idle stream
POLL_SECONDS_WITH_REDIS = 30.0
RETRY_MS = 3000
BATCH = 50
CHANNEL = "sharehub:notifications"

_waiting: dict[int, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = defaultdict(set)
_lock = threading.Lock()
_listener: threading.Thread | None = None


def wake(user_ids) -> None:
    """New notifications for these people are committed: wake their streams here and, with Redis, in
    every other server process. Safe to call from any thread."""
    ids = sorted({int(i) for i in user_ids})
    if not ids:
        return
    _wake_local(ids)
    if settings.REDIS_URL:
        try:
            _redis().publish(CHANNEL, json.dumps(ids))
        except Exception:  # the streams' own polling still delivers, later
            logger.warning("could not publish a live wake-up to Redis", exc_info=True)


def wake_after_commit(user_ids) -> None:
    """`wake` once the current transaction commits (at once outside one)."""
    ids = list(user_ids)
    if ids:
        transaction.on_commit(lambda: wake(ids))


def _wake_local(ids) -> None:
    with _lock:
        waiting = [entry for i in ids for entry in _waiting.get(i, ())]
    for loop, event in waiting:
        with contextlib.suppress(RuntimeError):  # that stream's loop has closed
            loop.call_soon_threadsafe(event.set)


_client = None


def _redis():
    global _client
    if _client is None:
        import redis

        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client


def _listen_forever() -> None:
    import time

    import redis

    while True:
        try:
            pubsub = redis.Redis.from_url(settings.REDIS_URL).pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(CHANNEL)
            for message in pubsub.listen():
                try:
                    _wake_local(json.loads(message["data"]))
                except (ValueError, TypeError):
                    continue
        except Exception:
            logger.warning("live wake-ups from Redis stopped; reconnecting", exc_info=True)
            time.sleep(1.0)


def _ensure_listener() -> None:
    global _listener
    if settings.REDIS_URL and _listener is None:
        with _lock:
            if _listener is None:
                _listener = threading.Thread(target=_listen_forever, name="sharehub-live", daemon=True)
                _listener.start()


def _poll_seconds() -> float:
    return POLL_SECONDS_WITH_REDIS if settings.REDIS_URL else POLL_SECONDS


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

    from sharehub.org.services import user_for_token

    try:
        authorization = _header(scope, b"authorization")
        if authorization.lower().startswith("bearer "):
            user = user_for_token(authorization[7:].strip())
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


def _next_batch(user_id: int, after: int | None, language: str) -> tuple[list[bytes], int, int, bool] | None:
    """(messages, the last notification id, the unread count, whether more are waiting) for the person's
    notifications after `after` (the newest id when None: a new connection starts from now); None once
    the person is deactivated. The person is read afresh each time, so the policy sees today's grants and
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
        page = queries.notifications_after(user, after, BATCH)
        messages = []
        for notification, text, link in queries.shown(user, page):
            body = {
                "id": notification.pk,
                "text": text,
                "link": link,
                "action": notification.event.action,
                "created_at": notification.created_at.isoformat(),
            }
            messages.append(_message("notification", json.dumps(body, ensure_ascii=False), notification.pk))
        newest = page[-1].pk if page else after
        return messages, newest, queries.unread_count(user), len(page) == BATCH


def _next_batch_in_stream(user_id: int, after: int | None, language: str):
    """`_next_batch` on a thread of the default executor, which keeps no connection between batches."""
    try:
        return _next_batch(user_id, after, language)
    finally:
        _close_connections()


def stream_snapshot(request) -> bytes:
    """One round of the stream for a Django request: what `stream` would send now, with a long retry."""
    batch = _next_batch(
        request.user.pk,
        _last_seen_in(request.headers.get("Last-Event-ID", "") or request.GET.get("last", "")),
        request.LANGUAGE_CODE,
    )
    messages, newest, unread, _more = batch or ([], 0, 0, False)
    retry = f"retry: {int(POLL_SECONDS * 1000)}\n\n".encode()
    return retry + b"".join(messages) + _message("unread", json.dumps({"unread": unread}), newest)


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
    wakeup = asyncio.Event()
    entry = (loop, wakeup)
    with _lock:
        _waiting[user.pk].add(entry)
    gone = asyncio.Event()

    async def watch_disconnect() -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                gone.set()
                wakeup.set()
                return

    watcher = asyncio.create_task(watch_disconnect())
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
        language = _language(scope)
        after, unread_sent = _last_seen(scope), None
        while not gone.is_set():
            wakeup.clear()
            batch = await sync_to_async(_next_batch_in_stream, thread_sensitive=False)(user.pk, after, language)
            if batch is None:
                break
            messages, after, unread, more = batch
            if unread != unread_sent:
                messages.append(_message("unread", json.dumps({"unread": unread}), after))
                unread_sent = unread
            await send({"type": "http.response.body", "body": b"".join(messages) or b": ping\n\n", "more_body": True})
            if more:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), timeout=_poll_seconds())
    except OSError:
        pass
    finally:
        watcher.cancel()
        with _lock:
            _waiting[user.pk].discard(entry)
            if not _waiting[user.pk]:
                del _waiting[user.pk]
        if not gone.is_set():
            with contextlib.suppress(Exception):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
