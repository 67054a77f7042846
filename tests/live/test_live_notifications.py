"""Live notifications through a real `sharehub serve` with two worker processes: a person's streams,
whichever process holds them, each receive a notification made in the other process (over Redis
when REDIS_URL is set, else over LISTEN/NOTIFY on PostgreSQL, both well before a stream's next poll;
on SQLite by the streams' own polling, within POLL_SECONDS)."""

from __future__ import annotations

import os
import threading
import time

import httpx
import pytest

from sharehub.feeds import live
from tests.live.server import running_server

pytestmark = pytest.mark.live

STREAMS = 6


def _token(server, username: str) -> str:
    return server.run_cli("token", "create", username).stdout.strip().splitlines()[-1]


def _listen(url: str, token: str, opened: threading.Event, got: list, stop: threading.Event) -> None:
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    with (
        httpx.Client(timeout=httpx.Timeout(5.0, read=None)) as client,
        client.stream("GET", url, headers=headers) as answer,
    ):
        assert answer.status_code == 200, answer.status_code
        for line in answer.iter_lines():
            if line == "event: unread":
                opened.set()
            if line == "event: notification":
                got.append(time.monotonic())
                return
            if stop.is_set():
                return


def test_each_server_process_delivers_live():
    with running_server(workers=2) as server:
        server.run_cli("demo", "--no-serve", "--scale", "0.05")
        author, reader = _token(server, "yangfan"), _token(server, "tangyan")
        api = httpx.Client(base_url=server.base_url + "/api/v1", timeout=30)
        me = api.get("/me", headers={"Authorization": f"Bearer {author}"}).json()
        department = me["memberships"][0]["department"]["id"]
        made = api.post(
            "/resources",
            json={"owner_department": department, "kind": "notice", "title": "实时通知测试", "publish": True},
            headers={"Authorization": f"Bearer {author}"},
        )
        assert made.status_code == 201, made.text
        resource = made.json()
        followed = api.post(
            "/follows",
            json={"kind": "resource", "target_id": resource["id"]},
            headers={"Authorization": f"Bearer {reader}"},
        )
        assert followed.status_code == 200, followed.text

        stop = threading.Event()
        streams = []
        for _ in range(STREAMS):
            opened, got = threading.Event(), []
            thread = threading.Thread(
                target=_listen, args=(server.base_url + live.STREAM_PATH, reader, opened, got, stop), daemon=True
            )
            thread.start()
            streams.append((thread, opened, got))
        for _thread, opened, _got in streams:
            assert opened.wait(30), "a stream did not open"
        edited = api.patch(
            f"/resources/{resource['code']}", json={"summary": "第二版"}, headers={"Authorization": f"Bearer {author}"}
        )
        assert edited.status_code == 200, edited.text
        sent = time.monotonic()
        pushed = os.environ.get("REDIS_URL") or os.environ.get("DATABASE_URL", "").startswith("postgres")
        deadline = 10.0 if pushed else live.POLL_SECONDS + 10.0
        assert not pushed or deadline + 10.0 < live.POLL_SECONDS_WITH_WAKEUPS  # no poll in time to explain it
        for thread, _opened, _got in streams:
            thread.join(max(0.1, sent + deadline - time.monotonic()))
        stop.set()
        delays = [got[0] - sent for _thread, _opened, got in streams if got]
        assert len(delays) == STREAMS, f"{STREAMS - len(delays)} of {STREAMS} streams heard nothing in {deadline} s"
