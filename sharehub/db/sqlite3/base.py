from __future__ import annotations

import logging
import sqlite3
import threading
import time

from django.db.backends.sqlite3 import base

logger = logging.getLogger(__name__)
CHECKPOINT_SECONDS = 1.0
# In a process that checkpoints in the background, a connection checkpoints by itself at commit only once
# the log holds this many pages (SQLite's default is 1,000), i.e. only when the background falls behind.
AUTOCHECKPOINT_PAGES_BEHIND = 10_000
_checkpointing: set[str] = set()

# One lock per database file, shared by every connection (thread) of this process.
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())


class DatabaseWrapper(base.DatabaseWrapper):
    """SQLite whose write transactions within a process wait for each other on a lock.

    SQLite lets one writer in at a time. A second one waits in SQLite's busy handler, which polls after
    sleeps that grow to 100 ms, so under 16 concurrent writers a transaction often slept long after
    the database was free: p95 1.7 s, max 6.6 s at 44 ops/s on two workers (issue 11). Here the threads
    of a process queue on a lock before BEGIN and the next one starts as soon as the previous commits;
    only the few writers of different processes (workers, the CLI) still meet in the busy handler.
    Waiting longer than the database's busy timeout raises the same "database is locked" error."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._holds_write_lock = False

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if str(self.settings_dict["NAME"]) in _checkpointing:
            connection.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES_BEHIND}")
        return connection

    @property
    def _write_lock(self) -> threading.Lock:
        return _lock_for(str(self.settings_dict["NAME"]))

    def _start_transaction_under_autocommit(self) -> None:
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        if not self._write_lock.acquire(timeout=timeout):
            with self.wrap_database_errors:  # as django.db.OperationalError, like SQLite's own
                raise self.Database.OperationalError("database is locked")
        self._holds_write_lock = True
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_write_lock()
            raise

    def _release_write_lock(self) -> None:
        if self._holds_write_lock:
            self._holds_write_lock = False
            self._write_lock.release()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            if not self._in_transaction_on_connection():
                self._release_write_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_write_lock()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release_write_lock()

    def _in_transaction_on_connection(self) -> bool:
        return self.connection is not None and self.connection.in_transaction


def checkpoint_in_background(name: str, interval: float = CHECKPOINT_SECONDS) -> None:
    """Copy the write-ahead log into the database file every `interval` seconds from a thread of this
    process, instead of in whichever commit finds the log past SQLite's 1,000 pages.

    That commit paid the copy and its fsyncs: 10-14 ms every third event of bench/fanout, whose events
    each write a thousand notifications, held up a live push that waited for it. A PASSIVE checkpoint
    takes no write lock, so writers go on meanwhile. For the long-running processes (`sharehub serve`,
    `sharehub worker`); their connections opened from now on checkpoint by themselves only if this falls
    behind (AUTOCHECKPOINT_PAGES_BEHIND)."""
    name = str(name)
    with _locks_guard:
        if name in _checkpointing:
            return
        _checkpointing.add(name)
    threading.Thread(target=_checkpoint_forever, args=(name, interval), name="sharehub-checkpoint", daemon=True).start()


def _checkpoint_forever(name: str, interval: float) -> None:
    connection = sqlite3.connect(name, timeout=interval, isolation_level=None, check_same_thread=False)
    while True:
        time.sleep(interval)
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:
            logger.warning("could not checkpoint the SQLite log; commits do it once it grows", exc_info=True)
