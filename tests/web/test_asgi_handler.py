"""The ASGI entry point (sharehub.asgi): one thread per request from start to end, threads and their
database connections reused across requests, and no request waiting for another."""

from __future__ import annotations

import asyncio
import threading

import pytest
from django.db import connection
from django.db.backends.signals import connection_created
from django.http import JsonResponse
from django.test import override_settings
from django.urls import path

from sharehub.asgi import SyncRequestASGIHandler

pytestmark = pytest.mark.django_db(transaction=True)

_barrier: threading.Barrier | None = None


def _where(request):
    """Which thread and which database connection served this request."""
    if request.GET.get("wait") and _barrier is not None:
        _barrier.wait(timeout=10)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"thread": threading.get_ident(), "connection": id(connection.connection)})


urlpatterns = [path("where/", _where)]


async def _get(app, query: str = "") -> dict:
    sent: list[dict] = []
    request_sent = False

    async def receive():
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/where/",
        "raw_path": b"/where/",
        "query_string": query.encode(),
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert start["status"] == 200, body[:500]
    import json

    return json.loads(body)


@pytest.fixture
def app():
    with override_settings(ROOT_URLCONF=__name__):
        handler = SyncRequestASGIHandler()
        yield handler
        for executor in handler._idle:
            executor.submit(_close_connections).result()
            executor.shutdown()


def _close_connections():
    from django.db import connections

    connections.close_all()


def _request_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("sharehub-request"))


def test_requests_one_after_another_reuse_one_thread(app):
    async def three():
        return [await _get(app) for _ in range(3)]

    served = asyncio.run(three())
    assert len({s["thread"] for s in served}) == 1
    assert threading.get_ident() not in {s["thread"] for s in served}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL connections come from psycopg's pool")
def test_requests_one_after_another_keep_their_sqlite_connection(app):
    opened = []

    def count(sender, connection, **kwargs):
        opened.append(connection.alias)

    connection_created.connect(count)
    try:
        served = asyncio.run(_sequence(app, 4))
    finally:
        connection_created.disconnect(count)
    assert len({s["connection"] for s in served}) == 1
    assert len(opened) <= 1


async def _sequence(app, n: int) -> list[dict]:
    return [await _get(app) for _ in range(n)]


def test_requests_at_the_same_time_run_side_by_side(app):
    """Two requests that each wait for the other finish only if neither waits for the other's thread."""
    global _barrier
    _barrier = threading.Barrier(2)

    async def both():
        return await asyncio.wait_for(asyncio.gather(_get(app, "wait=1"), _get(app, "wait=1")), timeout=20)

    try:
        first, second = asyncio.run(both())
    finally:
        _barrier = None
    assert first["thread"] != second["thread"]
    # Afterwards both threads are kept, and a later request takes one of them.
    assert len(app._idle) == 2
    later = asyncio.run(_get(app))
    assert later["thread"] in {first["thread"], second["thread"]}


def test_threads_beyond_those_kept_end_after_the_burst(app, monkeypatch):
    global _barrier
    monkeypatch.setattr(SyncRequestASGIHandler, "KEEP_IDLE", 1)
    before = _request_threads()
    _barrier = threading.Barrier(3)

    async def burst():
        return await asyncio.wait_for(asyncio.gather(*(_get(app, "wait=1") for _ in range(3))), timeout=20)

    try:
        served = asyncio.run(burst())
    finally:
        _barrier = None
    assert len({s["thread"] for s in served}) == 3
    assert len(app._idle) == 1
    for _ in range(100):
        if _request_threads() <= before + 1:
            break
        threading.Event().wait(0.05)
    assert _request_threads() <= before + 1


def test_a_request_enters_its_thread_once(app, monkeypatch):
    """No hop back to the event loop and into the thread again around the view (Django's default when
    any middleware is synchronous)."""
    from asgiref import sync

    hops = []
    original = sync.AsyncToSync.__call__

    def counted(self, *args, **kwargs):
        hops.append(getattr(self.awaitable, "__qualname__", repr(self.awaitable)))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sync.AsyncToSync, "__call__", counted)
    asyncio.run(_get(app))
    assert hops == []
