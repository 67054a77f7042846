"""The live notification stream: the ASGI handler that holds the connection (run here on an event loop
with a fake client), and the one-shot answer Django gives where no ASGI server holds it. What is sent
passes the policy when it is sent; a reconnect with Last-Event-ID resumes after the last one received."""

from __future__ import annotations

import asyncio
import json

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.urls import reverse

from sharehub.catalog import services as catalog
from sharehub.events.consumers import run_pending
from sharehub.feeds import follows, live
from sharehub.feeds.models import Notification
from tests import factories


def events_in(body: bytes) -> list[tuple[str | None, str, dict]]:
    """(id, event, data) of each message in an event-stream body."""
    out = []
    for block in body.decode().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line and not line.startswith(":"))
        if "event" in fields:
            out.append((fields.get("id"), fields["event"], json.loads(fields["data"])))
    return out


@pytest.fixture
def notice(org_units, people):
    return factories.resource(org_units["tax"], by=people["tax_steward"], title="办税指南")


def test_django_answers_once_with_what_is_new(client_for, people, notice):
    follows.follow(people["health_member"], "resource", notice.pk)
    run_pending()
    client = client_for(people["health_member"])
    first = client.get(reverse("feeds:stream"))
    assert first.status_code == 200 and first["Content-Type"].startswith("text/event-stream")
    ((last, kind, data),) = events_in(first.content)
    assert kind == "unread" and data == {"unread": 0}
    catalog.update_resource(people["tax_steward"], notice, {"summary": "一"})
    catalog.update_resource(people["tax_steward"], notice, {"summary": "二"})
    run_pending()
    again = events_in(client.get(reverse("feeds:stream"), HTTP_LAST_EVENT_ID=last).content)
    assert [k for _i, k, _d in again] == ["notification", "notification", "unread"]
    assert again[0][2]["text"].startswith("tax_steward (税务局) updated ") and again[-1][2] == {"unread": 2}
    resumed = events_in(client.get(reverse("feeds:stream"), HTTP_LAST_EVENT_ID=again[0][0]).content)
    assert [i for i, k, _d in resumed if k == "notification"] == [again[1][0]]  # nothing twice
    assert Client().get(reverse("feeds:stream")).status_code == 401


def test_a_follower_who_lost_sight_gets_nothing(client_for, org_units, people, notice):
    follows.follow(people["health_member"], "resource", notice.pk)
    run_pending()
    catalog.update_resource(people["tax_steward"], notice, {"summary": "改"})
    run_pending()
    assert Notification.objects.filter(recipient=people["health_member"]).count() == 1
    catalog.update_resource(
        people["tax_steward"], notice, {"scope_all": False, "scope_departments": [org_units["tax"]]}
    )
    client = client_for(people["health_member"])
    sent = events_in(client.get(reverse("feeds:stream"), HTTP_LAST_EVENT_ID="0").content)
    assert [k for _i, k, _d in sent] == ["unread"]
    assert "办税指南" not in client.get(reverse("feeds:list")).content.decode()


class FakeClient:
    """The ASGI side of one browser connection: what the server sent, and a way to hang up."""

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.arrived = asyncio.Event()
        self.hang_up = asyncio.Event()

    async def receive(self) -> dict:
        await self.hang_up.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict) -> None:
        self.sent.append(message)
        self.arrived.set()

    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")

    async def until(self, test, timeout: float = 10.0) -> None:
        async def wait() -> None:
            while not test():
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(wait(), timeout)


def scope_for(user, last: str | None = None) -> dict:
    """A signed-in browser's request for the stream (made on a thread of its own, whose connection it closes)."""
    from django.db import connection

    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "sharehub.directory.backends.LocalPasswordBackend"  # as a password sign-in
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    connection.close()
    headers = [(b"cookie", f"sessionid={session.session_key}".encode())]
    if last is not None:
        headers.append((b"last-event-id", last.encode()))
    return {"type": "http", "method": "GET", "path": live.STREAM_PATH, "headers": headers, "query_string": b""}


@pytest.fixture
def follower_told_by_push(people, notice, monkeypatch):
    """A follower of the notice, whose stream only a push can reach within a test's wait."""
    monkeypatch.setattr(live, "POLL_SECONDS", 60.0)
    monkeypatch.setattr(live, "POLL_SECONDS_WITH_WAKEUPS", 60.0)
    reader = people["health_member"]
    follows.follow(reader, "resource", notice.pk)
    run_pending()
    return reader


async def open_stream(person) -> tuple[FakeClient, asyncio.Task]:
    browser = FakeClient()
    scope = await asyncio.to_thread(scope_for, person)
    task = asyncio.create_task(live.stream(scope, browser.receive, browser.send))
    await browser.until(lambda: b"event: unread" in browser.body())
    return browser, task


@pytest.mark.django_db(transaction=True)
def test_the_stream_delivers_as_it_happens_and_resumes(org_units, people, notice, follower_told_by_push):
    reader = follower_told_by_push

    async def scenario() -> tuple[list, list]:
        browser, task = await open_stream(reader)
        assert browser.sent[0]["status"] == 200
        await asyncio.to_thread(_edit_and_deliver, people["tax_steward"], notice, "第一版")
        await browser.until(lambda: b"event: notification" in browser.body())
        first = events_in(browser.body())
        browser.hang_up.set()
        await asyncio.wait_for(task, 5)

        await asyncio.to_thread(_edit_and_deliver, people["tax_steward"], notice, "第二版")  # while away
        last_id = [i for i, k, _d in first if k == "notification"][-1]
        again = FakeClient()
        scope = await asyncio.to_thread(scope_for, reader, last_id)
        task = asyncio.create_task(live.stream(scope, again.receive, again.send))
        await again.until(lambda: b"event: unread" in again.body())
        second = events_in(again.body())
        again.hang_up.set()
        await asyncio.wait_for(task, 5)
        return first, second

    first, second = asyncio.run(scenario())
    told = [d["text"] for _i, k, d in first if k == "notification"]
    assert len(told) == 1 and "办税指南" in told[0]
    resumed = [i for i, k, _d in second if k == "notification"]
    assert len(resumed) == 1 and int(resumed[0]) > int(next(i for i, k, _d in first if k == "notification"))
    assert ("unread", {"unread": 2}) in [(k, d) for _i, k, d in second]


def _edit_and_deliver(actor, resource, summary: str) -> None:
    from django.db import connection

    try:
        catalog.update_resource(actor, resource, {"summary": summary})
        run_pending()
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_the_stream_refuses_strangers_and_other_methods():
    async def ask(scope) -> list[dict]:
        browser = FakeClient()
        await asyncio.wait_for(live.stream(scope, browser.receive, browser.send), 5)
        return browser.sent

    stranger = {"type": "http", "method": "GET", "path": live.STREAM_PATH, "headers": [(b"cookie", b"sessionid=nope")]}
    assert asyncio.run(ask(stranger))[0]["status"] == 401
    assert asyncio.run(ask({**stranger, "method": "POST"}))[0]["status"] == 405


@pytest.mark.django_db(transaction=True)
def test_a_reconnected_stream_never_sends_again_what_an_earlier_one_sent(org_units, people, notice, monkeypatch):
    """Its catch-up every poll reads back a little (a lower id may commit late), but not below where the
    connection started: what the browser had before reconnecting is not sent again."""
    monkeypatch.setattr(live, "POLL_SECONDS", 0.3)
    monkeypatch.setattr(live, "POLL_SECONDS_WITH_WAKEUPS", 0.3)  # the PostgreSQL runs
    monkeypatch.setattr(live, "FULL_READ_SECONDS", 0.3)  # every quiet moment a catch-up of its own
    reader = people["health_member"]
    follows.follow(reader, "resource", notice.pk)
    run_pending()
    for n in range(3):
        _edit_and_deliver(people["tax_steward"], notice, f"第{n}版")
    first_id = str(Notification.objects.filter(recipient=reader).order_by("id").first().pk)

    async def scenario() -> list:
        scope = await asyncio.to_thread(scope_for, reader, first_id)
        browser = FakeClient()
        task = asyncio.create_task(live.stream(scope, browser.receive, browser.send))
        await browser.until(lambda: browser.body().count(b": ping") >= 3)  # several polls have run
        browser.hang_up.set()
        await asyncio.wait_for(task, 5)
        return events_in(browser.body())

    sent = [i for i, k, _d in asyncio.run(scenario()) if k == "notification"]
    later = [
        str(pk) for pk in Notification.objects.filter(recipient=reader).order_by("id").values_list("pk", flat=True)
    ]
    assert sent == later[1:]  # each one after the Last-Event-ID, once


@pytest.mark.django_db(transaction=True)
def test_one_poll_per_process_finds_what_no_push_announced(org_units, people, notice, monkeypatch):
    """A notification written where no push reaches this process (another process on SQLite) wakes only its
    recipient's stream, within a poll; quiet streams get heartbeats and do not read the database."""
    monkeypatch.setattr(live, "POLL_SECONDS", 0.3)
    monkeypatch.setattr(live, "POLL_SECONDS_WITH_WAKEUPS", 0.3)
    monkeypatch.setattr(live, "FULL_READ_SECONDS", 600.0)
    reader, bystander = people["health_member"], people["social_member"]
    follows.follow(reader, "resource", notice.pk)
    run_pending()
    reads: list[int] = []
    real_read = live._next_batch
    monkeypatch.setattr(live, "_next_batch", lambda user_id, *args: reads.append(user_id) or real_read(user_id, *args))

    def written_without_push() -> None:
        from django.db import connection

        with monkeypatch.context() as patched:
            patched.setattr(live, "push", lambda *args, **kwargs: None)
            try:
                catalog.update_resource(people["tax_steward"], notice, {"summary": "无推送"})
                run_pending()
            finally:
                connection.close()

    async def scenario() -> tuple[bytes, bytes]:
        browsers = {reader.pk: FakeClient(), bystander.pk: FakeClient()}
        tasks = []
        for person in (reader, bystander):
            scope = await asyncio.to_thread(scope_for, person)
            tasks.append(asyncio.create_task(live.stream(scope, browsers[person.pk].receive, browsers[person.pk].send)))
        for browser in browsers.values():
            await browser.until(lambda b=browser: b"event: unread" in b.body())
        await asyncio.to_thread(written_without_push)
        await browsers[reader.pk].until(lambda: b"event: notification" in browsers[reader.pk].body())
        quiet = browsers[bystander.pk]
        await quiet.until(lambda: quiet.body().count(b": ping") >= 3)
        for browser in browsers.values():
            browser.hang_up.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 5)
        return browsers[reader.pk].body(), quiet.body()

    told, quiet = asyncio.run(scenario())
    assert next(d["text"] for _i, k, d in events_in(told) if k == "notification").endswith("办税指南.")
    assert b"event: notification" not in quiet
    assert reads.count(bystander.pk) == 1  # its first read only: the heartbeats read nothing
    assert reads.count(reader.pk) <= 3  # its first read, and one (or, with the poller's first look, two) wake-ups


@pytest.mark.django_db(transaction=True)
def test_a_push_returns_once_the_streams_have_written_it(org_units, people, notice, follower_told_by_push, monkeypatch):
    """The log readers wait for the streams of their push before going on with the next reader, which
    would otherwise share the interpreter with the writes (bench/fanout); on the stream's own loop a push
    does not wait for itself."""
    monkeypatch.setattr(live, "YIELD_SECONDS", 5.0)
    reader = follower_told_by_push

    async def scenario() -> tuple[bool, float]:
        browser, task = await open_stream(reader)
        looks: list[bool] = []
        real_push = live.push

        def push_then_look(*args, **kwargs) -> None:
            real_push(*args, **kwargs)
            looks.append(b"event: notification" in browser.body())

        def edit_then_look() -> tuple[bool, dict]:
            with monkeypatch.context() as patched:
                patched.setattr(live, "push", push_then_look)
                _edit_and_deliver(people["tax_steward"], notice, "第一版")
            from django.db import connection

            try:  # on a thread of its own, whose connection (from PostgreSQL's pool) it gives back
                notification = Notification.objects.filter(recipient=reader).latest("pk")
                message = live._prepared(notification.event, {reader.pk: notification.pk + 1}, True, set())
            finally:
                connection.close()
            return looks == [True], message

        written_before_return, message = await asyncio.to_thread(edit_then_look)
        started = asyncio.get_running_loop().time()
        live._deliver_local(message)  # from the stream's own loop
        waited = asyncio.get_running_loop().time() - started
        await browser.until(lambda: browser.body().count(b"event: notification") == 2)
        browser.hang_up.set()
        await asyncio.wait_for(task, 5)
        return written_before_return, waited

    written_before_return, waited = asyncio.run(scenario())
    assert written_before_return
    assert waited < 1.0


@pytest.mark.django_db(transaction=True)
def test_heartbeats_go_on_while_the_poll_fails(people, monkeypatch):
    """The heartbeat that keeps proxies from closing a stream comes from the process's poller, also while
    its look at the database fails."""
    monkeypatch.setattr(live, "POLL_SECONDS", 0.2)
    monkeypatch.setattr(live, "POLL_SECONDS_WITH_WAKEUPS", 0.2)

    def away(newest):
        raise OSError("the database is away")

    monkeypatch.setattr(live, "_written_since", away)

    async def scenario() -> bytes:
        browser, task = await open_stream(people["health_member"])
        await browser.until(lambda: browser.body().count(b": ping") >= 3)
        browser.hang_up.set()
        await asyncio.wait_for(task, 5)
        return browser.body()

    assert asyncio.run(scenario()).count(b": ping") >= 3
