"""Start Sharehub and the bare Django app under uvicorn with the same worker count; read workers' RSS."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

WORKERS = 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, name: str, command: list[str], env: dict, port: int, log: Path) -> None:
        self.name, self.port = name, port
        self.log = log.open("w")
        self.process = subprocess.Popen(
            command, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait(self, path: str = "/", timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log.name}")
            try:
                urllib.request.urlopen(self.url + path, timeout=5).read()
                return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not answer within {timeout} s; see {self.log.name}")

    def settle(self, timeout: float = 20) -> None:
        """Wait until every worker is up and its memory stops growing (two readings 0.5 s apart, to the MB)."""
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            now = self.rss_mb()
            if len(now) == WORKERS and last == [round(mb) for mb in now]:
                return
            last = [round(mb) for mb in now]
            time.sleep(0.5)

    def worker_pids(self) -> list[int]:
        """uvicorn's worker processes: the children of the server process, without multiprocessing's helpers."""
        pids = []
        for child in _children(self.process.pid):
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            if b"resource_tracker" not in cmdline:
                pids.append(child)
        return pids

    def rss_mb(self) -> list[float]:
        return [_rss_mb(pid) for pid in self.worker_pids()]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(p) for p in text]
    return found


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def sharehub(env: dict, log: Path) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "sharehub.cli", "serve", "--workers", str(WORKERS), "--port", str(port)]
    return Server("sharehub", command, env, port, log)


def hello(env: dict, log: Path) -> Server:
    """The bare app under uvicorn with the options `sharehub serve` passes (web/management/commands/serve.py)."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "bench.api.hello.asgi:application", "--workers", str(WORKERS)]
    command += ["--port", str(port), "--no-proxy-headers", "--log-level", "warning"]
    return Server("hello", command, env, port, log)
