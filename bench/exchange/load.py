"""The clients of the exchange benchmark: page walkers that follow each server's own cursor, the key
lookups, and the change-feed consumer. Each uses one keep-alive connection per thread (stdlib
http.client) and decodes every answer, so all three servers pay the same client costs."""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

PAGE = 1000
LOOKUP_THREADS = 2


class Client:
    def __init__(self, port: int, headers: dict[str, str] | None = None) -> None:
        self.port, self.headers = port, headers or {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            self.conn.request("GET", path, headers=self.headers)
            response = self.conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            raise

    def json(self, path: str) -> dict:
        status, body = self.get(path)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
        return json.loads(body)

    def close(self) -> None:
        self.conn.close()


@dataclass
class Walk:
    rows: int = 0
    pages: int = 0
    seconds: float = 0.0
    page_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "rows": self.rows,
            "pages": self.pages,
            "seconds": self.seconds,
            "rows_per_s": self.rows / self.seconds if self.seconds else 0.0,
            "page_p50_ms": statistics.median(self.page_ms) if self.page_ms else 0.0,
        }


# A walker: (client, filters, max rows) -> Walk. Each asks for pages of PAGE rows and follows its server's cursor.


def _walk(client: Client, first: str, follow: Callable[[dict], str | None], items: str, max_rows: int) -> Walk:
    walk = Walk()
    path: str | None = first
    started = time.perf_counter()
    while path is not None and walk.rows < max_rows:
        t = time.perf_counter()
        page = client.json(path)
        walk.page_ms.append((time.perf_counter() - t) * 1000)
        walk.rows += len(page[items])
        walk.pages += 1
        path = follow(page)
    walk.seconds = time.perf_counter() - started
    return walk


def walk_sharehub(client: Client, resource_id: int, filters: dict[str, str], max_rows: int) -> Walk:
    base = f"/api/v1/datasets/{resource_id}/records?" + urlencode({"limit": PAGE, **filters})

    def follow(page: dict) -> str | None:
        return f"{base}&cursor={page['next_cursor']}" if page["next_cursor"] else None

    return _walk(client, base, follow, "items", max_rows)


def walk_datasette(client: Client, filters: dict[str, str], max_rows: int) -> Walk:
    """Datasette's table JSON with `_size=1000` and its `_next` token; no counts, facets or suggestions
    (`_nocount`, `_nofacet`, `_nosuggest`), which Sharehub does not compute either."""
    params = {"_size": PAGE, "_shape": "objects", "_nocount": 1, "_nofacet": 1, "_nosuggest": 1, **filters}
    base = "/plain/rows.json?" + urlencode(params)

    def follow(page: dict) -> str | None:
        return f"{base}&{urlencode({'_next': page['next']})}" if page.get("next") else None

    return _walk(client, base, follow, "rows", max_rows)


def walk_bare(client: Client, filters: dict[str, str], max_rows: int) -> Walk:
    base = "/rows?" + urlencode({"limit": PAGE, **filters})

    def follow(page: dict) -> str | None:
        return f"{base}&cursor={page['next_cursor']}" if page["next_cursor"] is not None else None

    return _walk(client, base, follow, "items", max_rows)


# -- key lookups ---------------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def lookups(connect: Callable[[], Client], paths: list[str], threads: int = LOOKUP_THREADS) -> dict:
    """GET each path once (distinct values), spread over `threads` keep-alive connections made by `connect`."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def work(share: list[str]) -> None:
        client = connect()
        for path in share:
            t = time.perf_counter()
            try:
                status, body = client.get(path)
            except (OSError, http.client.HTTPException) as error:
                status, body = 0, repr(error).encode()
            elapsed = (time.perf_counter() - t) * 1000
            ok = status == 200 and json.loads(body).get("items", True) != []
            with lock:
                latencies.append(elapsed)
                if not ok:
                    errors.append(f"{status}: {body[:160]!r}")
        client.close()

    started = time.perf_counter()
    if threads == 1:
        work(paths)  # in this thread (the tests' client must share the test's database connection)
    else:
        workers = [threading.Thread(target=work, args=(paths[i::threads],)) for i in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    seconds = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "threads": threads,
        "per_s": len(latencies) / seconds if seconds else 0.0,
        "p50_ms": _pct(latencies, 0.5),
        "p95_ms": _pct(latencies, 0.95),
        "p99_ms": _pct(latencies, 0.99),
        "max_ms": max(latencies, default=0.0),
        "errors": len(errors),
        "error_samples": errors[:3],
    }


# -- the change feed -----------------------------------------------------------------------------------


def catch_up(client: Client, resource_id: int, changes: int) -> dict:
    """A consumer starting from 0 pulls `changes` changes with `since` and limit 1000."""
    since, pulled, pages = 0, 0, 0
    started = time.perf_counter()
    while pulled < changes:
        page = client.json(f"/api/v1/datasets/{resource_id}/changes?since={since}&limit={PAGE}")
        if not page["changes"]:
            break
        pulled += len(page["changes"])
        pages += 1
        since = page["next_since"]
    seconds = time.perf_counter() - started
    return {"changes": pulled, "pages": pages, "seconds": seconds, "per_s": pulled / seconds if seconds else 0.0}
