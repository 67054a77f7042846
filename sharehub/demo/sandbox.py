"""The demo's sandbox: `sharehub demo --sandbox` keeps a copy of the freshly loaded demo and puts the database
back to it every N minutes while the server runs; `sharehub demo --reset` does it at once.

How: right after loading, SQLite's online backup API copies the live database into `sandbox/demo.sqlite3` under
the data directory (as `sharehub backup` copies it). A reset copies that file back *into* the live database with
the same API: it takes the database's write lock, waits for a write in progress to finish, and writes every page
in one step through the WAL, so the server's open connections simply read the new state on their next query and
no request sees a half-restored database. Everything lives in that one file (rows, the audit chain, the search
index, the task queue, sessions: a reset signs everyone out). Attachment files are content-addressed and never
deleted, so every file the snapshot names is still there; files uploaded in the sandbox stay unused on disk.

PostgreSQL is refused: restoring it under a running server would need every connection closed.

`sandbox/state.json` holds the interval and the time of the next reset: the scheduler (a thread of the serving
`sharehub demo --sandbox` process) reads it before sleeping, `--reset` moves it on, and every page's banner shows
it (`banner_state`). When the sandbox is not running, the time passes and the banner goes away.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from sharehub.errors import ServiceError

logger = logging.getLogger(__name__)

DEFAULT_EVERY = 60  # minutes
MAX_EVERY = 7 * 24 * 60
SNAPSHOT_FILE = "demo.sqlite3"
STATE_FILE = "state.json"
BUSY_TIMEOUT = 60  # seconds a reset waits for a write in progress
CHECK_EVERY = 30.0  # seconds between two looks at the state file by the scheduler
STALE_AFTER = timedelta(minutes=5)  # a reset this late means no sandbox is running: no banner


class SandboxError(ServiceError):
    status = 409
    code = "sandbox"


def folder() -> Path:
    return Path(settings.DATA_DIR) / "sandbox"


def snapshot_path() -> Path:
    return folder() / SNAPSHOT_FILE


def state_path() -> Path:
    return folder() / STATE_FILE


def _database() -> Path:
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "sqlite":
        raise SandboxError(
            "The sandbox works only with the embedded SQLite database: it restores the database while the server "
            "runs, which PostgreSQL does not allow with connections open. Unset DATABASE_URL (and point "
            "SHAREHUB_DATA_DIR at a new folder) to run the demo as a sandbox."
        )
    return Path(connection.settings_dict["NAME"])


def check_supported() -> None:
    """Raise SandboxError on a database the sandbox cannot restore."""
    _database()


def _connect(path: Path, read_only: bool = False) -> sqlite3.Connection:
    target = f"file:{path}?mode=ro" if read_only else str(path)
    connection = sqlite3.connect(target, uri=read_only, timeout=BUSY_TIMEOUT, isolation_level=None)
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT * 1000}")
    return connection


def take_snapshot() -> Path:
    """Copy the live database (one consistent snapshot of it) to the sandbox's snapshot file."""
    database = _database()
    target = snapshot_path()
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = target.with_name(f".{target.name}.{os.getpid()}")
    temporary.unlink(missing_ok=True)
    try:
        with contextlib.closing(_connect(database)) as live, contextlib.closing(sqlite3.connect(temporary)) as copy:
            live.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            check = copy.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise SandboxError(f"The sandbox's copy of the database fails SQLite's check: {check}.")
        temporary.chmod(0o600)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def has_snapshot() -> bool:
    return snapshot_path().is_file()


def reset() -> float:
    """Put the live database back to the snapshot; the seconds it took. Safe while the server runs."""
    database = _database()
    snapshot = snapshot_path()
    if not snapshot.is_file():
        raise SandboxError(
            "There is no sandbox snapshot in this data directory: start the demo once with "
            "`sharehub demo --sandbox` first."
        )
    started = time.monotonic()
    connections.close_all()  # this process's own connections read the restored file afresh
    source, live = _connect(snapshot, read_only=True), _connect(database)
    with contextlib.closing(source), contextlib.closing(live):
        source.backup(live)  # one step: the whole database under one write lock
        with contextlib.suppress(sqlite3.Error):
            live.execute("PRAGMA wal_checkpoint(PASSIVE)")
    _after_reset()
    return time.monotonic() - started


def _after_reset() -> None:
    """What a process keeps from the database besides its connections: the search dictionary (department names
    and admins' terms may differ in the snapshot) and the help index built on it."""
    from sharehub.knowledge import help_pages
    from sharehub.search import segment

    segment.dictionary_changed()
    segment.reset()
    help_pages.forget()


# --- the schedule and the banner -----------------------------------------------------------------------------


def write_state(every_minutes: int, next_reset: datetime) -> None:
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    temporary.write_text(
        json.dumps({"every": every_minutes, "next_reset": next_reset.astimezone(UTC).isoformat()}), encoding="utf-8"
    )
    os.replace(temporary, path)


def read_state() -> dict | None:
    """{"every": minutes, "next_reset": aware datetime}, or None when no sandbox was started here."""
    try:
        raw = json.loads(state_path().read_text(encoding="utf-8"))
        return {"every": int(raw["every"]), "next_reset": datetime.fromisoformat(raw["next_reset"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def clear_state() -> None:
    state_path().unlink(missing_ok=True)


def start(every_minutes: int) -> datetime:
    """The sandbox's clock starts now: the next reset is one interval away."""
    next_reset = timezone.now() + timedelta(minutes=every_minutes)
    write_state(every_minutes, next_reset)
    return next_reset


def reset_now() -> tuple[float, datetime | None]:
    """`sharehub demo --reset`: reset, and if a sandbox is scheduled, count its next interval from now."""
    seconds = reset()
    state = read_state()
    next_reset = None
    if state is not None:
        next_reset = start(state["every"])
    return seconds, next_reset


def run_schedule(stop: threading.Event, on_reset=None) -> None:
    """Reset whenever the state file's time comes, until `stop` is set (the scheduler thread's body)."""
    while not stop.is_set():
        state = read_state()
        if state is None:
            return
        wait = (state["next_reset"] - timezone.now()).total_seconds()
        if wait > 0:
            stop.wait(min(wait, CHECK_EVERY))
            continue
        try:
            seconds = reset()
        except Exception:  # a failed reset is logged and tried again at the next interval
            logger.exception("sandbox reset failed")
            seconds = None
        next_reset = start(state["every"])
        if on_reset is not None:
            on_reset(seconds, next_reset)


def schedule(on_reset=None) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=run_schedule, args=(stop, on_reset), name="sandbox-reset", daemon=True)
    thread.start()
    return thread, stop


_banner_cache: dict = {"key": None, "state": None}


def banner_state() -> dict | None:
    """What the sandbox banner shows ({"next_reset", "due"}), or None when no sandbox runs here. Reads a small
    file at most once per change of it (its modification time)."""
    path = state_path()
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (str(path), stat.st_mtime_ns)
    if _banner_cache["key"] != key:
        _banner_cache["key"], _banner_cache["state"] = key, read_state()
    state = _banner_cache["state"]
    if state is None:
        return None
    now = timezone.now()
    if now - state["next_reset"] > STALE_AFTER:
        return None
    return {"next_reset": state["next_reset"], "due": state["next_reset"] <= now}
