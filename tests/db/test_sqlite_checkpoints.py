"""A long-running process on SQLite copies the write-ahead log into the database file from a thread of its
own (sharehub.db.sqlite3.base.checkpoint_in_background), so no commit pays for it unless that falls behind."""

from __future__ import annotations

import sqlite3
import time

from django.db.utils import ConnectionHandler

from sharehub.db.sqlite3 import base


def _handler(path) -> ConnectionHandler:
    return ConnectionHandler(
        {"default": {"ENGINE": "sharehub.db.sqlite3", "NAME": str(path),
                     "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}}}
    )  # fmt: skip


def _autocheckpoint(handler: ConnectionHandler) -> int:
    with handler["default"].cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        return cursor.fetchone()[0]


def test_the_log_is_copied_in_the_background_and_commits_leave_it_alone(tmp_path, monkeypatch, django_db_blocker):
    """Its own database file, not the tests' one: Django's connection handler is only the way in."""
    monkeypatch.setattr(base, "_checkpointing", set())
    with django_db_blocker.unblock():
        _check_in(tmp_path)


def _check_in(tmp_path) -> None:
    path = tmp_path / "data.sqlite3"
    before = _handler(path)
    assert _autocheckpoint(before) == 1000  # SQLite's own: the commit that passes 1,000 pages copies the log
    with before["default"].cursor() as cursor:
        cursor.execute("CREATE TABLE t (x TEXT)")
    before.close_all()

    base.checkpoint_in_background(path, interval=0.05)
    base.checkpoint_in_background(path, interval=0.05)  # once a process
    after = _handler(path)
    assert _autocheckpoint(after) == base.AUTOCHECKPOINT_PAGES_BEHIND  # connections opened from now on
    with after["default"].cursor() as cursor:
        cursor.executemany("INSERT INTO t VALUES (%s)", [("行" * 200,)] * 200)
    size = path.stat().st_size
    deadline = time.monotonic() + 10
    while path.stat().st_size <= size and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.stat().st_size > size  # the rows reached the database file with no checkpoint of ours
    after.close_all()
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM t").fetchone() == (200,)
