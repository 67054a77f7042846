"""The webhook receiver of the fan-out benchmark, in a process of its own: an asyncio HTTP/1.1 server on
127.0.0.1 (keep-alive, Content-Length bodies) that verifies every POST to /<n> with the `standardwebhooks`
library and endpoint n's secret, as a receiving system would, and keeps each webhook-id and when it came.

    python -m bench.fanout.receiver PORT secrets.json   # {"0": {"secret": "whsec_..."}, ...}

GET /stats answers what it has counted since the last POST /reset (JSON); every other POST is a delivery,
answered 200 whether its signature verifies or not (a failure is counted, not retried)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Tally:
    def __init__(self, secrets: dict) -> None:
        self.hooks = {f"/{name}": Webhook(entry["secret"]) for name, entry in secrets.items()}
        self.reset()

    def reset(self) -> None:
        self.ids: Counter[str] = Counter()
        self.per_path: Counter[str] = Counter()
        self.bad = 0
        self.first = self.last = None
        self.sample = ""

    def take(self, path: str, headers: dict, body: bytes) -> None:
        now = time.monotonic()
        hook = self.hooks.get(path)
        try:
            if hook is None:
                raise WebhookVerificationError(f"no endpoint {path}")
            hook.verify(body, headers)
        except (WebhookVerificationError, ValueError):
            self.bad += 1
            return
        self.ids[headers["webhook-id"]] += 1
        self.per_path[path] += 1
        self.first = self.first or now
        self.last = now
        self.sample = self.sample or body.decode()

    def stats(self) -> dict:
        return {
            "received": sum(self.ids.values()),
            "distinct": len(self.ids),
            "twice": sum(n - 1 for n in self.ids.values()),
            "bad": self.bad,
            "first": self.first,
            "last": self.last,
            "per_path": dict(self.per_path),
            "sample": self.sample,
        }


async def handle(tally: Tally, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            request = await reader.readline()
            if not request:
                return
            method, path, _version = request.decode("latin-1").split(" ", 2)
            headers = {}
            while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length") or 0))
            answer = b""
            if method == "GET" and path == "/stats":
                answer = json.dumps(tally.stats()).encode()
            elif method == "POST" and path == "/reset":
                tally.reset()
            elif method == "POST":
                tally.take(path, headers, body)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer))
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                return
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        return
    finally:
        writer.close()


async def main(port: int, secrets: dict) -> None:
    tally = Tally(secrets)
    server = await asyncio.start_server(lambda r, w: handle(tally, r, w), "127.0.0.1", port, backlog=1024)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text())))
