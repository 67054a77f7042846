"""Live notifications between server processes over PostgreSQL's LISTEN/NOTIFY, without Redis: a stream
here hears what another process pushes, or, for a message too long for a NOTIFY, is woken to read it; its
listener connects again after losing its connection and has its streams catch up. With a poll interval of
a minute, only NOTIFY can deliver within the tests' waits. REDIS_URL is cleared for them, so they also run
in the PostgreSQL + Redis run."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from sharehub.events.consumers import run_pending
from sharehub.feeds import follows, live
from sharehub.feeds.models import Notification
from tests import factories
from tests.feeds.test_live import FakeClient, events_in, open_stream

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="LISTEN/NOTIFY is PostgreSQL's")

ANOTHER_PROCESS = "another-process"
WAIT = 15.0  # a delivery's longest wait in these tests; the streams poll every 60 s


@pytest.fixture
def reader_and_notice(org_units, people, monkeypatch, settings):
    settings.REDIS_URL = ""
    monkeypatch.setattr(live, "POLL_SECONDS", 60.0)
    monkeypatch.setattr(live, "POLL_SECONDS_WITH_WAKEUPS", 60.0)
    notice = factories.resource(org_units["tax"], by=people["tax_steward"], title="办税指南")
    follows.follow(people["health_member"], "resource", notice.pk)
    run_pending()
    return people["health_member"], notice


def _listening_pid(other_than: int | None = None) -> int:
    """The backend of this process's listener, once it has run LISTEN (another than `other_than`)."""
    deadline = time.monotonic() + WAIT
    try:
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND query LIKE 'LISTEN %%' AND state = 'idle'"
                )
                pids = [pid for (pid,) in cursor.fetchall() if pid != other_than]
            if pids:
                return pids[0]
            time.sleep(0.05)
    finally:
        connection.close()
    raise AssertionError("the listener did not LISTEN")


def _written_without_push(actor, resource, summary: str, monkeypatch) -> Notification:
    """A notification in the database that no push announced, as when the message was lost."""
    with monkeypatch.context() as patched:
        patched.setattr(live, "push", lambda *args, **kwargs: None)
        from sharehub.catalog import services as catalog

        try:
            catalog.update_resource(actor, resource, {"summary": summary})
            run_pending()
            return Notification.objects.order_by("-pk").first()
        finally:
            connection.close()


def _publish(message: dict) -> None:
    try:
        live._publish(message)
    finally:
        connection.close()


def _message(notification: Notification, text: str, *, origin: str = ANOTHER_PROCESS) -> dict:
    """What `push` in the process `origin` would send for `notification`, with `text` as its sentence."""
    return {
        "origin": origin,
        "action": "updated",
        "created_at": notification.created_at.isoformat(),
        "texts": {"shown": {"en": [text, "/"], "zh-hans": [text, "/"]}, "hidden": {}},
        "to": {str(notification.recipient_id): [notification.pk, False]},
    }


async def _close(browser: FakeClient, task: asyncio.Task) -> list[str]:
    browser.hang_up.set()
    await asyncio.wait_for(task, 5)
    return [data["text"] for _i, kind, data in events_in(browser.body()) if kind == "notification"]


def _notifications(browser: FakeClient) -> int:
    return browser.body().count(b"event: notification")


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_a_push_in_another_process_reaches_the_streams_here(reader_and_notice, people):
    """A real second process edits the notice and runs the log readers: its push reaches this one's
    stream by NOTIFY, with the sentence it prepared."""
    reader, notice = reader_and_notice
    url = urlsplit(os.environ["DATABASE_URL"])
    env = {
        **{name: value for name, value in os.environ.items() if name != "REDIS_URL"},
        "DATABASE_URL": urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"])),
        "DJANGO_SETTINGS_MODULE": "sharehub.settings",
    }
    script = textwrap.dedent(f"""
        import django
        django.setup()
        from sharehub.catalog import services as catalog
        from sharehub.catalog.models import Resource
        from sharehub.events.consumers import run_pending
        from sharehub.org.models import User
        actor = User.objects.get(pk={people["tax_steward"].pk})
        catalog.update_resource(actor, Resource.objects.get(pk={notice.pk}), {{"summary": "另一进程"}})
        run_pending()
    """)

    async def scenario() -> tuple[list[str], float]:
        browser, task = await open_stream(reader)
        await asyncio.to_thread(_listening_pid)
        edited = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
        )
        assert edited.returncode == 0, edited.stderr[-3000:]
        done = time.monotonic()
        await browser.until(lambda: _notifications(browser) == 1, WAIT)
        return await _close(browser, task), time.monotonic() - done

    (told,), delay = asyncio.run(scenario())
    assert "办税指南" in told and delay < WAIT
    assert Notification.objects.filter(recipient=reader).count() == 1


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_a_message_too_long_for_notify_wakes_the_streams_to_read_it(reader_and_notice, people, monkeypatch):
    reader, notice = reader_and_notice

    async def scenario() -> list[str]:
        browser, task = await open_stream(reader)
        await asyncio.to_thread(_listening_pid)
        written = await asyncio.to_thread(_written_without_push, people["tax_steward"], notice, "长", monkeypatch)
        await asyncio.to_thread(_publish, _message(written, "长" * 3000))  # too long for one NOTIFY
        await browser.until(lambda: _notifications(browser) == 1, WAIT)
        return await _close(browser, task)

    (told,) = asyncio.run(scenario())
    assert "办税指南" in told and "长长" not in told  # the stream read it from the database


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_own_messages_are_skipped_and_a_lost_listener_connects_again(reader_and_notice, people, monkeypatch):
    """What this process sent comes back by NOTIFY and is left alone (its streams had it already). When
    the listener's connection is cut, it connects again, and its streams read what they may have missed."""
    reader, notice = reader_and_notice
    steward = people["tax_steward"]

    async def scenario() -> tuple[list[int], list[int], list[str]]:
        browser, task = await open_stream(reader)
        listening = await asyncio.to_thread(_listening_pid)
        mine = await asyncio.to_thread(_written_without_push, steward, notice, "一", monkeypatch)
        await asyncio.to_thread(_publish, _message(mine, "from here", origin=live._ORIGIN))
        theirs = await asyncio.to_thread(_written_without_push, steward, notice, "二", monkeypatch)
        await asyncio.to_thread(_publish, _message(theirs, "from there"))
        await browser.until(lambda: _notifications(browser) >= 1, WAIT)  # NOTIFYs arrive in order

        missed = await asyncio.to_thread(_written_without_push, steward, notice, "三", monkeypatch)
        await asyncio.to_thread(_terminate, listening)
        await asyncio.to_thread(_listening_pid, listening)
        await browser.until(lambda: _notifications(browser) >= 3, WAIT)
        after = await asyncio.to_thread(_written_without_push, steward, notice, "四", monkeypatch)
        await asyncio.to_thread(_publish, _message(after, "after the reconnect"))
        await browser.until(lambda: _notifications(browser) >= 4, WAIT)
        sent = [int(i) for i, kind, _d in events_in(browser.body()) if kind == "notification"]
        return [theirs.pk, mine.pk, missed.pk, after.pk], sent, await _close(browser, task)

    expected, sent, told = asyncio.run(scenario())
    assert sent == expected  # "mine" only in the catch-up after the reconnect, with the one missed
    assert told[0] == "from there" and "办税指南" in told[1] and "办税指南" in told[2]
    assert told[3] == "after the reconnect"


def _terminate(pid: int) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        connection.close()


def test_notify_payloads_fit_postgresql_and_carry_every_recipient():
    """Split by recipients, each within the limit, in ASCII; texts too long even for one recipient
    become wake-ups with the recipients alone."""
    recipients = {str(user_id): [100_000 + user_id, user_id % 7 == 0] for user_id in range(1, 2001)}
    message = {
        "origin": "p",
        "action": "updated",
        "created_at": "2025-01-01T00:00:00+00:00",
        "texts": {"shown": {"zh-hans": ["杨帆 (税务局) 更新了 办税指南", "/r/1/"]}, "hidden": {}},
        "to": recipients,
    }
    payloads = live._notify_payloads(message)
    assert len(payloads) > 1 and all(len(p.encode()) <= live.NOTIFY_BYTES and p.isascii() for p in payloads)
    decoded = [json.loads(p) for p in payloads]
    assert all(d["texts"] == message["texts"] and not d.get("wake") for d in decoded)
    assert {k: v for d in decoded for k, v in d["to"].items()} == recipients
    assert sum(len(d["to"]) for d in decoded) == len(recipients)

    long = {**message, "texts": {"shown": {"en": ["x" * live.NOTIFY_BYTES, "/"]}, "hidden": {}}}
    wakes = [json.loads(p) for p in live._notify_payloads(long)]
    assert all(w["wake"] and "texts" not in w and w["origin"] == "p" for w in wakes)
    assert {k: v for w in wakes for k, v in w["to"].items()} == recipients
    assert live._notify_payloads({**message, "to": {}}) == []
