"""Webhook throughput, the second part of `python -m bench.fanout`: W endpoints registered on a local
receiver (bench/fanout/receiver.py, which verifies every request with the `standardwebhooks` library),
E edits of the notice they are subscribed to, and Sharehub's own delivery sends the E×W deliveries.
Measured at the receiver: deliveries per second from the first to the last delivery, the webhook-ids
that never came (lost) or came more than once (twice), and signatures that did not verify.

Sharehub sends one delivery at a time per worker loop (`webhooks.send_due`: claim, check the owner's sight
and the address, sign, POST with a new `httpx.Client` on one TLS context, record the answer), so the baseline is a bare
sender doing the same sequentially: the same number of POSTs with the body of a real delivery, signed
with `standardwebhooks`, first with a new client per POST (as `webhooks._post`), then on one kept-alive
connection. The ratio is against the first.

Runs: "serve, worker thread": one `sharehub serve` process sends as the edits come (its log reader makes
the deliveries and wakes the worker thread); with --db postgres also `serve --workers 2`; "worker,
backlog": the E×W deliveries are made with no worker running, then a `sharehub worker` process sends them
all (as after a receiver's outage)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.api.servers import Server, free_port

DRAIN = 150.0  # seconds to wait for the last delivery (the worker's interval is 30 s)
BARE = "bare sender, sequential, new httpx.Client per POST, one TLS context (as webhooks._post)"
BARE_KEPT = "bare sender, sequential, one kept-alive connection"


class Receiver:
    def __init__(self, folder: Path, env: dict, secrets: dict, port: int) -> None:
        path = folder / "receiver-secrets.json"
        path.write_text(json.dumps(secrets))
        command = [sys.executable, "-m", "bench.fanout.receiver", str(port), str(path)]
        self.server = Server("receiver", command, env, port, folder / "receiver.log")
        self.server.wait("/stats")
        self.secrets = secrets

    @property
    def url(self) -> str:
        return self.server.url

    def stats(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/stats", timeout=10) as answer:
            return json.loads(answer.read())

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/reset", method="POST"), timeout=10).read()

    def wait_for(self, count: int, timeout: float) -> dict:
        """Until `count` distinct webhook-ids came, or `timeout` seconds passed with none coming."""
        deadline, seen = time.monotonic() + timeout, -1
        while True:
            stats = self.stats()
            if stats["distinct"] >= count:
                return stats
            if stats["distinct"] != seen:
                seen, deadline = stats["distinct"], max(deadline, time.monotonic() + 40.0)
            if time.monotonic() > deadline:
                return stats
            time.sleep(0.2)

    def stop(self) -> None:
        self.server.stop()


def _row(stats: dict, expected: int, **extra) -> dict:
    span = (stats["last"] - stats["first"]) if stats["first"] is not None else None
    rate = (stats["received"] - 1) / span if span else None
    return {
        "expected": expected,
        "deliveries": stats["received"],
        "rate": rate,
        "span_s": span,
        "lost": max(0, expected - stats["distinct"]),
        "twice": stats["twice"],
        "bad": stats["bad"],
        "last_at": stats["last"],
        **extra,
    }


def bare(receiver: Receiver, events: int, body: bytes, kept_alive: bool) -> dict:
    """POST events × endpoints signed deliveries one after another, in the order Sharehub sends them
    (by event, then endpoint), with the headers `webhooks._post` sends."""
    import ssl

    import certifi
    import httpx
    from standardwebhooks.webhooks import Webhook

    hooks = {name: Webhook(entry["secret"]) for name, entry in receiver.secrets.items()}
    tls = ssl.create_default_context(cafile=certifi.where())
    receiver.reset()
    shared = httpx.Client(timeout=10.0, follow_redirects=False, trust_env=False) if kept_alive else None
    tag = "kept" if kept_alive else "new"
    try:
        for k in range(events):
            for name, hook in hooks.items():
                message_id = f"bare_{tag}_{k}_{name}"
                now = datetime.now(UTC)
                headers = {
                    "webhook-id": message_id,
                    "webhook-timestamp": str(int(now.timestamp())),
                    "webhook-signature": hook.sign(message_id, now, body),
                    "content-type": "application/json; charset=utf-8",
                    "user-agent": "Sharehub-Webhooks/1",
                }
                if shared is not None:
                    shared.post(f"{receiver.url}/{name}", content=body, headers=headers)
                else:
                    with httpx.Client(timeout=10.0, follow_redirects=False, trust_env=False, verify=tls) as client:
                        client.post(f"{receiver.url}/{name}", content=body, headers=headers)
    finally:
        if shared is not None:
            shared.close()
    expected = events * len(hooks)
    return _row(receiver.wait_for(expected, 10.0), expected)


def _publish_all(publish: Callable[[int], None], events: int) -> tuple[float, float]:
    started = time.monotonic()
    for k in range(events):
        publish(k)
    return started, time.monotonic()


def live(receiver: Receiver, start_server: Callable[..., Server], publisher, events: int, workers: int = 1) -> dict:
    """`sharehub serve`, its worker thread sending as the edits come, back to back. With several processes
    the worker thread runs in uvicorn's supervisor, and the log readers that make the deliveries in the
    worker processes."""
    server = start_server({}, workers)
    try:
        publish = publisher(server.url)
        receiver.reset()
        publish(-1)  # warm-up, not measured: the first delivery of each endpoint, imports, caches
        receiver.wait_for(len(receiver.secrets), 60.0)
        time.sleep(1.0)
        receiver.reset()
        started, ended = _publish_all(publish, events)
        expected = events * len(receiver.secrets)
        stats = receiver.wait_for(expected, DRAIN)
    finally:
        server.stop()
    return _row(stats, expected, published_s=ended - started, after_first_edit=_since(stats["first"], started),
                after_last_edit=_since(stats["last"], ended))  # fmt: skip


def backlog(receiver: Receiver, start_server: Callable[..., Server], publisher, events: int, env: dict,
            folder: Path) -> dict:  # fmt: skip
    """The deliveries made with no worker running (`SHAREHUB_SERVER_RUNS_WORKER=false`), then sent by a
    `sharehub worker` process started once all of them wait."""
    expected = events * len(receiver.secrets)
    server = start_server({"SHAREHUB_SERVER_RUNS_WORKER": "false"})
    try:
        receiver.reset()
        publish = publisher(server.url)
        started, ended = _publish_all(publish, events)
        deadline = time.monotonic() + 120
        while (waiting := _pending(env)) < expected and time.monotonic() < deadline:
            time.sleep(1.0)
        if waiting < expected:
            raise RuntimeError(f"only {waiting} of {expected} deliveries were made; see {server.log.name}")
        command = [sys.executable, "-m", "sharehub.cli", "worker"]
        worker = Server("worker", command, env, free_port(), folder / f"worker-{time.monotonic_ns()}.log")
        try:
            stats = receiver.wait_for(expected, DRAIN)
        finally:
            worker.stop()
    finally:
        server.stop()
    return _row(stats, expected, published_s=ended - started, waiting=waiting)


def _pending(env: dict) -> int:
    answer = subprocess.run(
        [sys.executable, "-m", "bench.fanout.setup", "pending"], env=env, capture_output=True, text=True, check=True
    )
    return int(answer.stdout.strip().splitlines()[-1])


def _since(moment: float | None, start: float) -> float | None:
    return None if moment is None else moment - start


def print_table(rows: dict, endpoints: int, events: int, db: str) -> None:
    reference = rows.get(BARE, {}).get("rate")
    print()
    print(
        f"Webhooks: {endpoints} endpoints on a local receiver that verifies each signature with standardwebhooks; "
        f"{events} edits back to back, {endpoints * events:,} deliveries per run; database: {db}."
    )
    print()
    print("| run | deliveries | deliveries/s | first→last s | lost | twice | bad signatures | ratio vs bare |")
    print("|---|---|---|---|---|---|---|---|")
    for name, row in rows.items():
        ratio = f"{row['rate'] / reference:.2f}×" if row["rate"] and reference else "—"
        print(
            f"| {name} | {row['deliveries']:,} | {_num(row['rate'])} | {_num(row['span_s'], 2)} | {row['lost']} | "
            f"{row['twice']} | {row['bad']} | {ratio} |"
        )
    for name, row in rows.items():
        if "published_s" in row:
            said = f"- {name}: the {events} edits took {row['published_s']:.2f} s to send"
            if row.get("after_first_edit") is not None:
                said += f"; the first delivery came {row['after_first_edit']:.2f} s after the first edit was sent"
            if row.get("after_last_edit") is not None:
                said += f", the last {row['after_last_edit']:.2f} s after the last edit was answered"
            print(said + ".")


def _num(value, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"
