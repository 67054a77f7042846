"""Several people taking the last seats of a session at the same moment, each in their own thread with their own
database connection: never more confirmed than seats, the rest on the waiting list; and a seat given up while
others sign up goes to exactly one person. On PostgreSQL the session's row lock serializes them; on SQLite (a
file in WAL mode, as deployed) the IMMEDIATE transaction does."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from sharehub.events.chain import verify_chain
from sharehub.knowledge import sessions
from sharehub.knowledge.models import Signup
from tests import factories
from tests.access.test_concurrency import sqlite_file_database  # noqa: F401  (fixture)
from tests.knowledge.sessions_helpers import schedule

pytestmark = pytest.mark.django_db(transaction=True)
PEOPLE = 6


@pytest.fixture
def world(sqlite_file_database):  # noqa: F811
    tax = factories.department("税务局", "SWJ")
    health = factories.department("卫生健康委员会", "WJW")
    host = factories.member(tax, "member", username="host")
    people = [factories.member(health, "member", username=f"p{i}") for i in range(PEOPLE)]
    return {"tax": tax, "host": host, "people": people}


def _together(jobs) -> list:
    barrier = threading.Barrier(len(jobs))
    errors: list = []

    def run(job):
        try:
            barrier.wait(timeout=10)
            job()
        except Exception as error:  # collected: a thread's failure must fail the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.parametrize("capacity", [1, 2])
def test_the_last_seats_are_not_given_twice(world, capacity):
    session = schedule(world["host"], world["tax"], capacity=capacity)
    errors = _together([lambda p=p: sessions.sign_up(p, session) for p in world["people"]])
    assert errors == []
    statuses = list(Signup.objects.filter(session=session).values_list("status", flat=True))
    assert statuses.count("confirmed") == capacity
    assert statuses.count("waiting") == PEOPLE - capacity
    assert verify_chain().ok


def test_a_freed_seat_goes_to_one_person_while_others_sign_up(world):
    session = schedule(world["host"], world["tax"], capacity=1)
    holder, *others = world["people"]
    sessions.sign_up(holder, session)
    sessions.sign_up(others[0], session)  # first on the waiting list
    jobs = [lambda: sessions.cancel_signup(holder, session)] + [
        lambda p=p: sessions.sign_up(p, session) for p in others[1:]
    ]
    errors = _together(jobs)
    assert errors == []
    confirmed = list(Signup.objects.filter(session=session, status="confirmed").values_list("user_id", flat=True))
    assert len(confirmed) == 1
    # the freed seat is given in the transaction that frees it, so the first waiting gets it, never a newcomer
    assert confirmed == [others[0].pk]
