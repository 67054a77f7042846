"""The real server under concurrent load, on the database the suite runs on (SQLite or PostgreSQL).

- 16 clients mix writes (resources, edits, saved searches) and reads (lists, search, details) for 30 s
  against `sharehub serve --workers 2`: no request fails, and on PostgreSQL the server never holds more
  connections than its pools allow ((workers + 1) x SHAREHUB_DB_POOL_SIZE: each worker process and the
  parent, which runs the background thread, has its own pool).
- Hostile uploads (a spreadsheet claiming tens of millions of cells, a document inflating past the limit)
  are read in the background while another person saves: every save succeeds quickly, and the server
  process stays under its memory cap (the reader runs in a capped child process).
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import pytest

from tests.catalog.test_extraction_limits import inflating_docx, sparse_xlsx
from tests.live.server import LiveServer, running_server

pytestmark = pytest.mark.live

CLIENTS = 16
DURATION_SECONDS = 30.0
POOL_SIZE = 4
WORKERS = 2
# The server process (uvicorn, Django, jieba's dictionary) stays below this while files are read beside it.
SERVER_MEMORY_CAP_MB = 400
WRITERS = ["yangfan", "zhaomin", "sunli", "guomin"]  # stewards of SWJ, SWJ, RSJ, SBZX
READERS = ["huanglei", "machao", "hexue", "admin"]


class Api:
    def __init__(self, server: LiveServer, token: str):
        self.base = server.base_url + "/api/v1"
        self.headers = {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, body: dict | None = None, *, raw: bytes | None = None, ctype: str = ""):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = dict(self.headers)
        if data is not None:
            headers["Content-Type"] = ctype or "application/json"
        url = self.base + urllib.parse.quote(path, safe="/?=&%")
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, error.read()[:500]

    def upload(self, ident: str, filename: str, content: bytes):
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return self.call(
            "POST", f"/resources/{ident}/attachments", raw=body, ctype=f"multipart/form-data; boundary={boundary}"
        )


def _tokens(server: LiveServer, usernames: list[str]) -> dict[str, str]:
    return {name: server.run_cli("token", "create", name).stdout.strip().splitlines()[-1] for name in usernames}


def _home_department(api: Api) -> int:
    status, me = api.call("GET", "/me")
    assert status == 200, me
    return me["memberships"][0]["department"]["id"]


def _postgres_connections(server: LiveServer) -> int:
    import psycopg

    name = server.env["DATABASE_URL"].rsplit("/", 1)[-1]
    admin_url = server.env["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [name]).fetchone()[0]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _writer_step(api: Api, department: int, mine: list[str], rng: random.Random, n: int):
    roll = rng.random()
    if roll < 0.4 or not mine:
        status, body = api.call(
            "POST",
            "/resources",
            {
                "owner_department": department,
                "kind": "document",
                "title": f"负载测试文档 {n} 社保缴费",
                "summary": "并发写入 load test",
                "publish": rng.random() < 0.5,
            },
        )
        if status == 201:
            mine.append(body["code"])
        return status, 201
    if roll < 0.7:
        code = rng.choice(mine)
        return api.call("PATCH", f"/resources/{code}", {"summary": f"第 {n} 次修改 edit"})[0], 200
    if roll < 0.85:
        return api.call("POST", "/search/saved", {"name": f"保存 {n} {rng.random()}", "query": "社保"})[0], 201
    return api.call("GET", f"/resources/{rng.choice(mine)}")[0], 200


def _reader_step(api: Api, rng: random.Random):
    path = rng.choice(
        ["/resources?limit=20", "/search?q=社保", "/search?q=shebao", "/search?q=tax", "/notifications", "/me"]
    )
    return api.call("GET", path)[0], 200


def test_sixteen_clients_for_thirty_seconds_without_an_error():
    with running_server(workers=WORKERS, env={"SHAREHUB_DB_POOL_SIZE": str(POOL_SIZE)}) as server:
        server.run_cli("demo", "--no-serve", "--scale", "0.1")
        tokens = _tokens(server, WRITERS + READERS)
        setup_log = len(server.log())  # loading the demo holds the write lock for a while; the load starts here
        outcomes: Counter = Counter()
        failures: list[str] = []
        lock = threading.Lock()
        connections: list[int] = []
        stop = threading.Event()
        on_postgres = bool(server.env.get("DATABASE_URL"))

        def client(index: int) -> None:
            rng = random.Random(index)
            writer = index % 2 == 0
            username = (WRITERS if writer else READERS)[(index // 2) % 4]
            api = Api(server, tokens[username])
            department = _home_department(api) if writer else 0
            mine: list[str] = []
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    status, expected = _writer_step(api, department, mine, rng, n) if writer else _reader_step(api, rng)
                except Exception as error:  # a refused or dropped connection is a failure too
                    status, expected = repr(error), "an answer"
                with lock:
                    outcomes[status] += 1
                    if status != expected:
                        failures.append(f"client {index} ({username}): {status}, expected {expected}")

        def watch_connections() -> None:
            while not stop.is_set():
                connections.append(_postgres_connections(server))
                stop.wait(0.5)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        if on_postgres:
            threads.append(threading.Thread(target=watch_connections))
        for thread in threads:
            thread.start()
        time.sleep(DURATION_SECONDS)
        stop.set()
        for thread in threads:
            thread.join(90)
        total = sum(outcomes.values())
        peak = max(connections or [0])
        print(f"\n{total} requests in {DURATION_SECONDS:.0f} s: {dict(outcomes)}; peak connections {peak}")
        assert not failures, f"{len(failures)} of {total} requests failed: {failures[:10]}\n{server.log()[-3000:]}"
        assert total >= CLIENTS * 4
        assert "Traceback" not in server.log()[setup_log:], server.log()[-6000:]
        if on_postgres:
            assert connections and max(connections) <= (WORKERS + 1) * POOL_SIZE


def test_bombs_are_read_in_the_background_while_another_person_saves():
    with running_server(env={"SHAREHUB_WORKER_INTERVAL": "2", "SHAREHUB_EXTRACT_TIMEOUT": "20"}) as server:
        server.run_cli("demo", "--no-serve", "--scale", "0.1")
        tokens = _tokens(server, ["yangfan", "sunli"])
        setup_log = len(server.log())
        uploader, saver = Api(server, tokens["yangfan"]), Api(server, tokens["sunli"])
        status, target = uploader.call(
            "POST", "/resources", {"owner_department": _home_department(uploader), "kind": "dataset", "title": "炸弹"}
        )
        assert status == 201
        status, edited = saver.call(
            "POST", "/resources", {"owner_department": _home_department(saver), "kind": "document", "title": "日常"}
        )
        assert status == 201
        baseline = _rss_mb(server.process.pid)
        peak = [baseline]
        stop = threading.Event()

        def watch_memory() -> None:
            while not stop.is_set():
                peak.append(_rss_mb(server.process.pid))
                stop.wait(0.2)

        watcher = threading.Thread(target=watch_memory)
        watcher.start()
        bombs = [("cells.xlsx", sparse_xlsx(20_000)), ("inflate.docx", inflating_docx(400))]
        for name, content in bombs:
            status, body = uploader.upload(target["code"], name, content)
            assert status == 201, body
        saves = []
        for n in range(9):
            started = time.monotonic()
            status, _ = saver.call("PATCH", f"/resources/{edited['code']}", {"summary": f"修改 {n}"})
            saves.append((status, time.monotonic() - started))
            time.sleep(0.5)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            status, attachments = uploader.call("GET", f"/resources/{target['code']}/attachments")
            if all(a["text_status"] != "pending" for a in attachments):
                break
            time.sleep(1)
        stop.set()
        watcher.join()
        print(f"\nserver RSS: baseline {baseline:.0f} MB, peak {max(peak):.0f} MB; saves: {saves}")
        assert [status for status, _ in saves] == [200] * 9
        assert max(seconds for _, seconds in saves) < 5
        by_name = {a["filename"]: a for a in attachments}
        assert by_name["cells.xlsx"]["text_status"] in ("partial", "failed")
        assert by_name["inflate.docx"]["text_status"] == "skipped"
        assert by_name["inflate.docx"]["text_note"]
        assert max(peak) < SERVER_MEMORY_CAP_MB
        assert "Traceback" not in server.log()[setup_log:], server.log()[-6000:]
