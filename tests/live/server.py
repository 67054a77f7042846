"""A real `sharehub serve` in a subprocess, for tests that need the whole stack over HTTP.

    with running_server(workers=2) as server:
        server.run_cli("demo", "--no-serve", "--scale", "0.1")
        token = server.run_cli("token", "create", "admin").stdout.strip().splitlines()[-1]
        httpx.get(server.base_url + "/api/v1/me", headers={"Authorization": f"Bearer {token}"})

The server gets its own data directory (SQLite there, or, when DATABASE_URL is set, a separate
PostgreSQL database named after it with the suffix `_live`, created here and dropped at exit), so it
never touches the database of the test session. `run_cli` runs `sharehub` commands against the same
data directory and database.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

STARTUP_TIMEOUT = 120.0
STOP_TIMEOUT = 20.0
CLI_TIMEOUT = 600.0

_live_databases = 0  # how many live PostgreSQL databases this process holds open, for nesting


@dataclass
class LiveServer:
    base_url: str
    data_dir: Path
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    def run_cli(self, *args: str, check: bool = True, timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
        """Run `sharehub ARGS` against the server's data directory and database; output as text."""
        result = subprocess.run(
            [sys.executable, "-m", "sharehub", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"sharehub {' '.join(args)} exited {result.returncode}:\n{result.stdout[-2000:]}{result.stderr[-4000:]}"
            )
        return result

    def log(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _recreate_database(url: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(_postgres_admin_url(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


@contextmanager
def _live_database(database_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database next to DATABASE_URL's (`<name>_live`), dropped at exit."""
    global _live_databases
    base = urlsplit(database_url).path.lstrip("/") or "sharehub"
    _live_databases += 1
    name = f"{base}_live" if _live_databases == 1 else f"{base}_live{_live_databases}"
    try:
        _recreate_database(database_url, name)
        try:
            yield _with_database(database_url, name)
        finally:
            _recreate_database(database_url, name, drop_only=True)
    finally:
        _live_databases -= 1


def _wait_until_answering(server: LiveServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    url = server.base_url + "/api/v1/openapi.json"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"sharehub serve exited with {server.process.returncode}:\n{server.log()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError:
            return  # it answers; the route's status is the caller's business
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"sharehub serve did not answer on {server.base_url} within {timeout:.0f} s:\n{server.log()}")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the server's own process group (uvicorn and its workers), then SIGKILL if it hangs."""
    if process.poll() is not None:
        return
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(STOP_TIMEOUT)


@contextmanager
def running_server(*, workers: int = 1, env: dict | None = None) -> Iterator[LiveServer]:
    """Prepare a data directory (and database), migrate, serve on a free port, and clean up at exit.

    `env` adds to or overrides the environment of the server and of `run_cli` (e.g.
    {"SHAREHUB_SERVER_RUNS_WORKER": "false"}); DATABASE_URL, from there or from this process,
    selects PostgreSQL.
    """
    child_env = {**os.environ, **(env or {})}
    child_env.pop("DJANGO_SETTINGS_MODULE", None)
    data_dir = Path(tempfile.mkdtemp(prefix="sharehub-live-"))
    child_env["SHAREHUB_DATA_DIR"] = str(data_dir)
    database_url = child_env.get("DATABASE_URL", "")
    try:
        with _live_database(database_url) if database_url else _no_database() as live_url:
            if live_url:
                child_env["DATABASE_URL"] = live_url
            port = free_port()
            server = LiveServer(
                base_url=f"http://127.0.0.1:{port}",
                data_dir=data_dir,
                env=child_env,
                log_path=data_dir / "server.log",
            )
            server.run_cli("migrate", "--verbosity", "0")
            with server.log_path.open("wb") as log:
                server.process = subprocess.Popen(
                    [sys.executable, "-m", "sharehub", "serve", "--host", "127.0.0.1", "--port", str(port),
                     "--workers", str(workers)],
                    env=child_env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
            try:
                _wait_until_answering(server, STARTUP_TIMEOUT)
                yield server
            finally:
                _stop(server.process)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@contextmanager
def _no_database() -> Iterator[str]:
    yield ""
