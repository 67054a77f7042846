"""Load generators: wrk for the read routes, a threaded stdlib client for the concurrent writes."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field

CONNECTIONS = 8
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx answers and socket errors


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", text).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> WrkResult:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket:
        errors += sum(int(n) for n in socket.groups())
    return WrkResult(rps, p50, p99, requests, errors)


def wrk(url: str, seconds: float, headers: dict[str, str] | None = None) -> WrkResult:
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout)


# -- concurrent writes ------------------------------------------------------------------------------


@dataclass
class WriteResult:
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    by_op: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict:
        lat = sorted(self.latencies_ms) or [0.0]

        def pct(q: float) -> float:
            return lat[min(len(lat) - 1, int(q * len(lat)))]

        return {
            "ops": len(self.latencies_ms),
            "ops_per_s": len(self.latencies_ms) / self.seconds,
            "p50_ms": statistics.median(lat),
            "p95_ms": pct(0.95),
            "max_ms": lat[-1],
            "errors": self.errors,
            "error_samples": self.error_samples[:5],
            "by_op": self.by_op,
        }


class _Client:
    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port, self.headers = port, headers
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        headers = dict(self.headers)
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=payload, headers=headers)
            response = self.conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            raise


def _error_text(content: bytes) -> str:
    try:
        error = json.loads(content)["error"]
        return f"{error['code']}: {error['message']}"[:160]
    except (ValueError, KeyError, TypeError):
        return content[:160].decode("utf-8", "replace")


KEEP_SAVED = 20


def sharehub_ops(writer: dict, index: int, words: list[str]):
    """The cycle of one writer: create a draft, edit it, save a search (and delete its oldest one beyond
    KEEP_SAVED, as people tidy up), search. Yields (op, request, accepted statuses) and receives
    (status, body)."""
    created: list[int] = []
    kept: list[int] = []
    n = 0
    while True:
        n += 1
        word = words[(index + n) % len(words)]
        body = {
            "owner_department": writer["department"],
            "kind": "document",
            "title": f"并发写入测试 {writer['username']} {n}",
            "summary": f"{word}相关材料，基准测试第{n}条",
            "body": f"## 说明\n\n{word}工作进展，第{n}次写入。",
        }
        status, content = yield "create", ("POST", "/api/v1/resources", body), (201,)
        if status == 201:
            created.append(json.loads(content)["id"])
        if created:
            patch = {"summary": f"{word}相关材料，已修改 {n}", "note": "bench"}
            yield "edit", ("PATCH", f"/api/v1/resources/{created[-1]}", patch), (200,)
        saved = {"name": f"bench {writer['username']} {index} {n}", "query": word}
        status, content = yield "save_search", ("POST", "/api/v1/search/saved", saved), (200, 201)
        if status in (200, 201):
            kept.append(json.loads(content)["id"])
        if len(kept) > KEEP_SAVED:  # a person keeps at most 100 saved searches (search.services)
            yield "delete_search", ("DELETE", f"/api/v1/search/saved/{kept.pop(0)}", None), (200, 204)
        yield "search", ("GET", f"/api/v1/search?q={_quote(word)}", None), (200,)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text)


def bare_ops(writer: dict, index: int, words: list[str]):
    n = 0
    while True:
        n += 1
        yield "insert", ("POST", "/insert", {"text": f"{writer['username']} {n}"}), (201,)


def run_writes(port: int, writers: list[dict], words: list[str], seconds: float, *, bare: bool) -> dict:
    """One thread per writer, each with its own keep-alive connection and token, for `seconds`."""
    result = WriteResult(seconds=seconds)
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def work(index: int, writer: dict) -> None:
        headers = {} if bare else {"Authorization": f"Bearer {writer['token']}"}
        client = _Client(port, headers)
        ops = (bare_ops if bare else sharehub_ops)(writer, index, words)
        op, (method, path, body), ok = next(ops)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                status, content = client.call(method, path, body)
            except (OSError, http.client.HTTPException) as error:
                status, content = 0, repr(error).encode()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                result.latencies_ms.append(elapsed)
                result.by_op[op] = result.by_op.get(op, 0) + 1
                if status not in ok:
                    result.errors += 1
                    if len(result.error_samples) < 5:
                        result.error_samples.append(f"{op} {status}: {_error_text(content)}")
            op, (method, path, body), ok = ops.send((status, content))

    threads = [threading.Thread(target=work, args=(i, w), daemon=True) for i, w in enumerate(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return result.summary()
