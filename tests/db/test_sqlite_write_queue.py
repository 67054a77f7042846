"""On SQLite the write transactions of one process queue on a lock before BEGIN (sharehub.db.sqlite3)
instead of polling in SQLite's busy handler; the lock is given back however a transaction ends."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection, connections, transaction

from sharehub.errors import is_database_busy
from sharehub.org.models import Department

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the queue is for SQLite's single writer"),
]


def _in_thread(target) -> tuple[threading.Thread, list]:
    outcome: list = []

    def run():
        try:
            outcome.append(target())
        except BaseException as error:  # reported by the test
            outcome.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _write(code: str) -> str:
    with transaction.atomic():
        Department.objects.create(name=f"部门 {code}", code=code)
    return code


def _hold(code: str) -> tuple[threading.Thread, list, threading.Event]:
    """A thread that writes `code` and keeps its transaction open until the returned event is set."""
    entered, release = threading.Event(), threading.Event()

    def holder():
        with transaction.atomic():
            Department.objects.create(name=f"占用 {code}", code=code)
            entered.set()
            release.wait(10)
        return code

    thread, outcome = _in_thread(holder)
    assert entered.wait(10)
    return thread, outcome, release


def test_a_second_writer_waits_for_the_first_to_commit_then_goes_on():
    holder, first_outcome, release = _hold("A1")
    waiter, second_outcome = _in_thread(lambda: _write("B1"))
    waiter.join(0.5)
    assert waiter.is_alive() and not second_outcome  # queued, not failed
    release.set()
    holder.join(10)
    waiter.join(10)
    assert first_outcome == ["A1"] and second_outcome == ["B1"]
    assert set(Department.objects.values_list("code", flat=True)) >= {"A1", "B1"}


def test_the_lock_is_given_back_when_a_transaction_fails():
    def broken():
        with transaction.atomic():
            Department.objects.create(name="回滚", code="R1")
            raise ValueError("rolled back")

    thread, outcome = _in_thread(broken)
    thread.join(10)
    assert outcome and isinstance(outcome[0], ValueError)
    follower, followed = _in_thread(lambda: _write("F1"))
    follower.join(10)
    assert followed == ["F1"]
    assert not Department.objects.filter(code="R1").exists()


def test_waiting_longer_than_the_busy_timeout_is_the_usual_busy_error(settings):
    def impatient():
        connection.settings_dict["OPTIONS"] = {**connection.settings_dict["OPTIONS"], "timeout": 0.2}
        return _write("I1")

    first, _, release = _hold("H1")
    try:
        second, outcome = _in_thread(impatient)
        second.join(10)
    finally:
        release.set()
        first.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], OperationalError)
    assert is_database_busy(outcome[0])
