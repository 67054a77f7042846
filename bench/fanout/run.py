"""Live fan-out: N people hold the notification stream open on one `sharehub serve` process (and on two
over Redis); a steward edits a notice they all follow (through their department's subscription) E times;
every edit must reach every stream. Printed: publish→receive p50/p99 and the number lost, against a bare
SSE loop that broadcasts the same events with no database and no policy, measured in the same run, and
again across a restart of the server in the middle (the streams reconnect with Last-Event-ID).

Then webhooks (bench/fanout/hooks.py): W endpoints on a local receiver that verifies every signature with
`standardwebhooks`, subscribed to the notice's edits; E edits back to back; Sharehub's own delivery sends
them. Printed: deliveries/s from the first to the last delivery, lost and repeated webhook-ids, failed
signatures, against a bare sequential sender of the same signed POSTs, in the same run.

    python -m bench.fanout                     # 1,000 streams, 100 events, 8 webhook endpoints, SQLite
    python -m bench.fanout --quick             # 200 streams, 30 events
    python -m bench.fanout --only webhooks     # one part: streams or webhooks
    python -m bench.fanout --endpoints 4       # webhook endpoints (default 8)
    python -m bench.fanout --db postgres       # PostgreSQL (DATABASE_URL) and Redis (REDIS_URL) for 2 processes

With --db postgres the database named in DATABASE_URL is dropped and created again (its name must contain
"fanout" or "bench").

Publish→receive is from the moment the steward's edit is sent to the moment a stream has the notification:
the edit's own request, the log reader that finds the followers, asks the policy for all of them and writes
their notifications, and the push to every stream."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.api.servers import Server, free_port
from bench.fanout import hooks

ROOT = Path(__file__).resolve().parents[2]
EVENT_GAP = 0.2  # seconds between edits
DRAIN = 20.0  # seconds to wait for the last deliveries
TARGET_P99_MS = 100.0
ID_LINE = re.compile(rb"^id: (\d+)$")


# ---- a stream client: one HTTP/1.1 connection, chunked body, Server-Sent Events lines


class Stream:
    def __init__(self, port: int, path: str, token: str | None) -> None:
        self.port, self.path, self.token = port, path, token
        self.arrivals: list[float] = []  # when each notification arrived
        self.ids: list[int] = []
        self.last_id: str | None = None
        self.opened = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError, asyncio.IncompleteReadError, ValueError):
                await self._once(stop)
            if not stop.is_set():
                await asyncio.sleep(0.5)  # as EventSource retries

    async def _once(self, stop: asyncio.Event) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        headers = [f"GET {self.path} HTTP/1.1", "Host: 127.0.0.1", "Accept: text/event-stream"]
        if self.token:
            headers.append(f"Authorization: Bearer {self.token}")
        if self.last_id:
            headers.append(f"Last-Event-ID: {self.last_id}")
        writer.write(("\r\n".join(headers) + "\r\n\r\n").encode())
        await writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            raise ValueError(status)
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        pending, event = b"", None
        try:
            while not stop.is_set():
                size_line = await reader.readline()
                if not size_line:
                    return
                size = int(size_line.strip() or b"0", 16)
                if size == 0:
                    return
                pending += await reader.readexactly(size + 2)
                pending = pending[:-2] if pending.endswith(b"\r\n") else pending
                *lines, pending = pending.split(b"\n")
                now = time.monotonic()
                for line in lines:
                    if match := ID_LINE.match(line):
                        self.last_id = match.group(1).decode()
                    elif line == b"event: notification":
                        event = "notification"
                    elif line.startswith(b"event:"):
                        event = None
                    elif line.startswith(b"data:"):
                        if event == "notification":
                            self.arrivals.append(now)
                            self.ids.append(int(self.last_id or 0))
                        if not self.opened.is_set():
                            self.opened.set()
                        event = None
        finally:
            writer.close()


# ---- the bare baseline: an SSE loop in asyncio that broadcasts what is posted to /publish


BARE = r"""
import asyncio, sys
clients = set()
async def handle(reader, writer):
    request = await reader.readline()
    while (await reader.readline()) not in (b"\r\n", b""):
        pass
    if request.startswith(b"POST /publish"):
        n = int(request.split(b"?n=")[1].split(b" ")[0])
        body = b"id: %d\nevent: notification\ndata: {\"n\": %d}\n\n" % (n + 1, n)
        chunk = b"%x\r\n%s\r\n" % (len(body), body)
        for client in list(clients):
            try:
                client.write(chunk)
            except Exception:
                clients.discard(client)
        writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
        await writer.drain(); writer.close(); return
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
    hello = b"event: unread\ndata: {}\n\n"
    writer.write(b"%x\r\n%s\r\n" % (len(hello), hello))
    clients.add(writer)
    try:
        await reader.read()
    finally:
        clients.discard(writer)
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]), backlog=4096)
    await server.serve_forever()
asyncio.run(main())
"""


def _raise_file_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def _measure(port: int, tokens: list, publish, events: int, path: str, restart=None) -> dict:
    stop = asyncio.Event()
    streams = [Stream(port, path, token) for token in tokens]
    tasks = [asyncio.create_task(s.run(stop)) for s in streams]
    await asyncio.wait_for(asyncio.gather(*(s.opened.wait() for s in streams)), timeout=180)
    await asyncio.sleep(1.0)
    await asyncio.to_thread(publish, -1)  # warm-up, not measured: first imports, caches, the search dictionaries
    deadline = time.monotonic() + DRAIN
    while time.monotonic() < deadline and any(len(s.arrivals) < 1 for s in streams):
        await asyncio.sleep(0.2)
    await asyncio.sleep(
        3.0
    )  # the log readers finish the warm-up's other work (the search index loads its dictionaries)
    for s in streams:
        s.arrivals.clear()
        s.ids.clear()
    sent_at = []
    for k in range(events):
        if restart is not None and k == events // 2:
            await asyncio.to_thread(restart)
        sent_at.append(time.monotonic())
        await asyncio.to_thread(publish, k)
        await asyncio.sleep(EVENT_GAP)
    deadline = time.monotonic() + DRAIN
    while time.monotonic() < deadline and any(len(s.arrivals) < events for s in streams):
        await asyncio.sleep(0.2)
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    delays, lost, twice = [], 0, 0
    for s in streams:
        twice += len(s.ids) - len(set(s.ids))
        lost += max(0, events - len(set(s.ids)))
        for k, arrived in enumerate(s.arrivals[:events]):
            delays.append((arrived - sent_at[k]) * 1000)
    if os.environ.get("FANOUT_DEBUG") and streams and streams[0].arrivals:
        print(
            "per event ms (first stream):",
            [round((a - sent_at[k]) * 1000) for k, a in enumerate(streams[0].arrivals[:events])],
        )
    delays.sort()
    return {
        "streams": len(streams),
        "events": events,
        "deliveries": len(delays),
        "p50_ms": statistics.median(delays) if delays else None,
        "p99_ms": delays[min(len(delays) - 1, int(len(delays) * 0.99))] if delays else None,
        "max_ms": delays[-1] if delays else None,
        "lost": lost,
        "twice": twice,
    }


def _publisher(base: str, code: str, token: str):
    import httpx

    client = httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"})

    def publish(k: int) -> None:
        for _attempt in range(60):  # through a restart, the edit is sent again until it is taken
            try:
                answer = client.patch(f"/api/v1/resources/{code}", json={"summary": f"第 {k} 版"})
                if answer.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"edit {k} was never taken")

    return publish


def _sharehub(env: dict, folder: Path, workers: int, port: int | None = None) -> Server:
    port = port or free_port()
    command = [sys.executable, "-m", "sharehub.cli", "serve", "--workers", str(workers), "--port", str(port)]
    server = Server("sharehub", command, env, port, folder / f"sharehub-{workers}-{time.monotonic_ns()}.log")
    server.wait("/accounts/login/")
    return server


def _recreate_postgres(url: str) -> None:
    """A fresh database for each run (the organization is made anew)."""
    import dj_database_url
    import psycopg

    conf = dj_database_url.parse(url)
    name = conf["NAME"]
    if "fanout" not in name and "bench" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'fanout' or 'bench'")
    with psycopg.connect(
        dbname="postgres", user=conf.get("USER") or None, host=conf.get("HOST") or None,
        port=conf.get("PORT") or None, password=conf.get("PASSWORD") or None, autocommit=True,
    ) as conn:  # fmt: skip
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=None, help="streams held open (default 1,000)")
    parser.add_argument("--events", type=int, default=None, help="edits published (default 100)")
    parser.add_argument("--endpoints", type=int, default=8, help="webhook endpoints (default 8)")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--only", choices=("streams", "webhooks"), default=None, help="run one part only")
    parser.add_argument("--quick", action="store_true", help="200 streams, 30 events")
    args = parser.parse_args()
    subscribers = args.subscribers or (200 if args.quick else 1000)
    events = args.events or (30 if args.quick else 100)
    _raise_file_limit()
    folder = Path(tempfile.mkdtemp(prefix="sharehub-fanout-"))
    base_env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
    env = dict(base_env, SHAREHUB_DATA_DIR=str(folder / "data"), DJANGO_SETTINGS_MODULE="sharehub.settings")
    env["SHAREHUB_API_RATE_TOKEN"] = "off"
    env["PYTHONPATH"] = str(ROOT)
    if args.db == "sqlite":
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
    elif not env.get("DATABASE_URL") or not env.get("REDIS_URL"):
        raise SystemExit("--db postgres needs DATABASE_URL and REDIS_URL")
    else:
        _recreate_postgres(env["DATABASE_URL"])
    print(f"# setting up {subscribers:,} subscribers in {folder}", flush=True)
    fixtures_path = folder / "fixtures.json"
    subprocess.run(
        [sys.executable, "-m", "bench.fanout.setup", str(subscribers), str(fixtures_path)],
        env=env,
        cwd=ROOT,
        check=True,
    )
    fixtures = json.loads(fixtures_path.read_text())
    if args.only != "webhooks":
        rows = _streams(args, env, folder, fixtures, subscribers, events)
        _print(rows, subscribers, events, args.db)
    if args.only != "streams":
        hook_rows = _webhooks(args, env, folder, fixtures, events)
        hooks.print_table(hook_rows, args.endpoints, events, args.db)


def _streams(args, env: dict, folder: Path, fixtures: dict, subscribers: int, events: int) -> dict:
    rows = {}
    bare_port = free_port()
    bare = Server("bare", [sys.executable, "-c", BARE, str(bare_port)], env, bare_port, folder / "bare.log")
    time.sleep(1.0)

    def bare_publish(k: int) -> None:
        import urllib.request

        urllib.request.urlopen(
            urllib.request.Request(f"{bare.url}/publish?n={k + 1}", method="POST"), timeout=10
        ).read()

    try:
        rows["bare SSE loop (no database, no policy), 1 process"] = asyncio.run(
            _measure(bare_port, [None] * subscribers, bare_publish, events, "/stream")
        )
    finally:
        bare.stop()
    print("# bare done", flush=True)

    runs = [("Sharehub, 1 process", 1, False), ("Sharehub, 1 process, restarted half-way", 1, True)]
    if args.db == "postgres":
        runs.append(("Sharehub, 2 processes over Redis", 2, False))
    for name, workers, restart in runs:
        server = _sharehub(env, folder, workers)
        holder = {"server": server}

        def restart_server(holder=holder, workers=workers) -> None:
            port = holder["server"].port
            holder["server"].stop()
            holder["server"] = _sharehub(env, folder, workers, port)

        try:
            publish = _publisher(server.url, fixtures["code"], fixtures["steward"])
            rows[name] = asyncio.run(
                _measure(server.port, fixtures["tokens"], publish, events, "/notifications/stream/",
                         restart_server if restart else None)
            )  # fmt: skip
        finally:
            holder["server"].stop()
        print(f"# {name} done", flush=True)
    return rows


def _webhooks(args, env: dict, folder: Path, fixtures: dict, events: int) -> dict:
    """The endpoints are registered only now, so the streams' runs above made no deliveries."""
    port = free_port()
    secrets_path = folder / "webhooks.json"
    subprocess.run(
        [sys.executable, "-m", "bench.fanout.setup", "webhooks", str(args.endpoints),
         f"http://127.0.0.1:{port}", str(secrets_path)],
        env=env, cwd=ROOT, check=True,
    )  # fmt: skip
    receiver = hooks.Receiver(folder, env, json.loads(secrets_path.read_text())["endpoints"], port)

    def start_server(extra: dict, workers: int = 1) -> Server:
        return _sharehub(dict(env, **extra), folder, workers)

    def publisher(url: str):
        return _publisher(url, fixtures["code"], fixtures["steward"])

    rows: dict = {}
    try:
        live = hooks.live(receiver, start_server, publisher, events)
        print("# webhooks: serve, worker thread done", flush=True)
        body = receiver.stats()["sample"].encode() or b"{}"
        rows[hooks.BARE] = hooks.bare(receiver, events, body, kept_alive=False)
        rows[hooks.BARE_KEPT] = hooks.bare(receiver, events, body, kept_alive=True)
        print("# webhooks: bare senders done", flush=True)
        rows["Sharehub, `sharehub serve` (1 process), its worker thread, as the edits come"] = live
        if args.db == "postgres":
            rows["Sharehub, `sharehub serve --workers 2`, its worker thread, as the edits come"] = hooks.live(
                receiver, start_server, publisher, events, workers=2
            )
            print("# webhooks: serve, 2 processes done", flush=True)
        rows["Sharehub, `sharehub worker` process, the same number waiting (backlog)"] = hooks.backlog(
            receiver, start_server, publisher, events, env, folder
        )
        print("# webhooks: worker backlog done", flush=True)
    finally:
        receiver.stop()
    return rows


def _print(rows: dict, subscribers: int, events: int, db: str) -> None:
    bare = rows["bare SSE loop (no database, no policy), 1 process"]
    print()
    print(f"Code {_git()}; machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}); "
          f"database: {db}; {subscribers:,} streams, {events} events {EVENT_GAP} s apart.")  # fmt: skip
    print()
    print("| run | deliveries | p50 ms | p99 ms | max ms | lost | twice | p99 vs bare | target |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, row in rows.items():
        ratio = row["p99_ms"] / bare["p99_ms"] if row["p99_ms"] and bare["p99_ms"] else None
        verdict = ""
        if name.startswith("Sharehub"):
            ok = (
                row["lost"] == 0
                and row["twice"] == 0
                and ("restarted" in name or (row["p99_ms"] is not None and row["p99_ms"] <= TARGET_P99_MS))
            )
            verdict = (
                ("p99 ≤ 100 ms, " if "restarted" not in name else "") + "0 lost: " + ("**pass**" if ok else "**FAIL**")
            )
        print(
            f"| {name} | {row['deliveries']:,} | {_ms(row['p50_ms'])} | {_ms(row['p99_ms'])} | {_ms(row['max_ms'])} | "
            f"{row['lost']} | {row['twice']} | {f'{ratio:.1f}×' if ratio else '—'} | {verdict} |"
        )


def _ms(value) -> str:
    return "—" if value is None else f"{value:.1f}"


def _git() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "?"
