"""Background work: catch the log readers up and run each app's periodic jobs.

`sharehub worker` runs this loop in its own process; `sharehub serve` also runs it in a thread of each
server process unless SHAREHUB_SERVER_RUNS_WORKER is false (then run one or more `sharehub worker` processes).
Every job is idempotent and locks the rows it changes, so several loops may run at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.db import close_old_connections

logger = logging.getLogger(__name__)

_periodic: dict[str, Callable[[], object]] = {}
_wake = threading.Event()


def wake() -> None:
    """Start the next round of this process's background thread now rather than at the end of its interval
    (e.g. an upload waiting for its text to be read). Separate `sharehub worker` processes keep their interval."""
    _wake.set()


def register_periodic(name: str, job: Callable[[], object]) -> None:
    _periodic[name] = job


def run_once() -> dict[str, object]:
    """One round: every log reader, then every periodic job. A failing job is logged and retried next round."""
    from sharehub.events import consumers

    results: dict[str, object] = {}
    for name, job in [("log readers", consumers.run_pending), *_periodic.items()]:
        try:
            results[name] = job()
        except Exception:
            logger.exception("background job %s failed; it runs again next round", name)
            results[name] = "failed"
        finally:
            close_old_connections()
    return results


def stop(event: threading.Event) -> None:
    """Ask a `run_forever` loop to end after its current round."""
    event.set()
    _wake.set()


def run_forever(interval: float, stop: threading.Event) -> None:
    _checkpoint_sqlite_in_background()
    while not stop.is_set():
        _wake.clear()
        run_once()
        _wake.wait(interval)


def start_in_thread(interval: float) -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(interval, stop), name="sharehub-worker", daemon=True).start()
    return stop


def _checkpoint_sqlite_in_background() -> None:
    """On SQLite, a process that runs this loop also copies the write-ahead log into the database file in a
    thread of its own (sharehub.db.sqlite3.base.checkpoint_in_background)."""
    from django.db import connections

    from sharehub.db.sqlite3.base import DatabaseWrapper, checkpoint_in_background

    database = connections["default"]
    if isinstance(database, DatabaseWrapper) and not database.is_in_memory_db():
        checkpoint_in_background(database.settings_dict["NAME"])
