"""Two people acting on the same request at the same moment, each in their own thread with their own
database connection: exactly one wins, the other is told "already decided" (or "already ended",
or "an open request exists"), no double grant, one decision in the log, and the chain holds.

SQLite runs as deployed (a file in WAL mode, IMMEDIATE transactions, a 20 s busy timeout); see
`sqlite_file_database` for why the tests leave the in-memory test database for this module.
PostgreSQL relies on row locks (SELECT ... FOR UPDATE)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connections

from sharehub.access import services
from sharehub.access.models import AccessRequest, Grant
from sharehub.errors import Conflict
from sharehub.events.chain import verify_chain
from sharehub.events.models import Event
from sharehub.org.models import Membership
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

DECISION_EVENTS = ("access.approved", "access.rejected", "access.info_asked", "access.withdrawn")
ROUNDS = 3
HOLD = 0.3  # seconds the first writer keeps its lock in the slow variant


@pytest.fixture(scope="module")
def sqlite_file_database(tmp_path_factory, django_db_setup, django_db_blocker):
    """On SQLite, point the default connection at a migrated database file for this module.

    pytest-django's SQLite test database is in memory with a shared cache; there, a second writer
    gets "database table is locked" at once: table locks of a shared cache ignore the busy timeout.
    A file in WAL mode with IMMEDIATE transactions is what Sharehub runs on, and there the second
    writer waits for the first and then sees its commit. The in-memory database is kept open (and
    alive) beside it and restored afterwards."""
    connection = connections["default"]
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return
    with django_db_blocker.unblock():
        connection.ensure_connection()
        memory_name, memory_connection = connection.settings_dict["NAME"], connection.connection
        connection.connection = None
        connection.settings_dict["NAME"] = str(tmp_path_factory.mktemp("concurrency") / "sharehub.sqlite3")
        try:
            call_command("migrate", verbosity=0, interactive=False)
            with connection.cursor() as cursor:
                assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            yield
        finally:
            connection.close()
            connection.settings_dict["NAME"] = memory_name
            connection.connection = memory_connection


@pytest.fixture
def world(sqlite_file_database):
    tax = factories.department("税务局", "SWJ")
    health = factories.department("卫生健康委员会", "WJW")
    w = {
        "tax": tax,
        "health": health,
        "steward": factories.member(tax, Membership.Role.STEWARD, username="steward_a"),
        "steward2": factories.member(tax, Membership.Role.STEWARD, username="steward_b"),
        "head": factories.member(tax, Membership.Role.HEAD, username="head"),
        "requester": factories.member(health, Membership.Role.MEMBER, username="requester"),
        "colleague": factories.member(health, Membership.Role.MEMBER, username="colleague"),
    }
    w["doc"] = factories.resource(tax, by=w["steward"], sharing_type="conditional")
    return w


def at_once(*calls: Callable[[], object]) -> list[tuple[str, object]]:
    """Run the calls in threads released together; each thread has its own connection and closes
    it at the end. Returns ("ok", result) or ("error", exception) per call, in order."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[str, object] | None] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = ("ok", call())
        except Exception as error:
            results[index] = ("error", error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return results  # type: ignore[return-value]


def holding(name: str, slow: bool):
    """In the slow variant, whoever gets the lock first keeps it HOLD seconds after changing the
    rows (`name` runs inside the locked transaction), so the other surely arrives while it is held."""
    if not slow:
        return mock.patch.object(services, name, wraps=getattr(services, name))
    original = getattr(services, name)

    def slowly(*args, **kwargs):
        result = original(*args, **kwargs)
        time.sleep(HOLD)
        return result

    return mock.patch.object(services, name, side_effect=slowly)


def one_winner(results, message: str) -> tuple[int, object]:
    outcomes = [kind for kind, _ in results]
    assert sorted(outcomes) == ["error", "ok"], results
    winner = outcomes.index("ok")
    error = results[1 - winner][1]
    assert type(error) is Conflict, repr(error)
    assert message in str(error.message), error.message
    return winner, results[winner][1]


def new_request(world, actor=None) -> AccessRequest:
    return services.create_request(
        actor or world["requester"],
        world["doc"],
        purpose="核验",
        use_category="verification",
        period_days=10,
        accept_terms=True,
    )


def decisions_logged(request: AccessRequest) -> list[str]:
    return list(
        Event.objects.filter(
            target_type="access.accessrequest", target_id=str(request.pk), action__in=DECISION_EVENTS
        ).values_list("action", flat=True)
    )


def _decide(world, kind: str, request: AccessRequest, who: str):
    actor = world[who]
    return {
        "approve": lambda: services.approve_request(actor, request, note=f"{who} approves"),
        "reject": lambda: services.reject_request(actor, request, reason=f"{who} rejects"),
        "ask": lambda: services.ask_for_information(actor, request, question=f"{who} asks"),
        "withdraw": lambda: services.withdraw_request(world["requester"], request),
    }[kind]


FINAL = {"approve": "approved", "reject": "rejected", "ask": "info", "withdraw": "withdrawn"}
LOGGED = {"approve": "access.approved", "reject": "access.rejected", "ask": "access.info_asked"}
LOGGED["withdraw"] = "access.withdrawn"


@pytest.mark.parametrize("slow", [True, False], ids=["held-lock", "plain-race"])
@pytest.mark.parametrize(
    ("first", "second"),
    [("approve", "approve"), ("approve", "reject"), ("reject", "approve"), ("approve", "ask"), ("approve", "withdraw")],
)
def test_two_decisions_at_once_one_wins(world, first, second, slow):
    for _ in range(ROUNDS):
        request = new_request(world)
        with holding("_log_step", slow):
            results = at_once(
                _decide(world, first, request, "steward"),
                _decide(world, second, request, "steward2" if second != "approve" else "head"),
            )
        winner, _ = one_winner(results, "already decided")
        kind = (first, second)[winner]
        request.refresh_from_db()
        assert request.status == FINAL[kind]
        assert decisions_logged(request) == [LOGGED[kind]]
        grants = Grant.objects.filter(request=request)
        assert grants.count() == (1 if kind == "approve" else 0)
        assert Event.objects.filter(action="grant.created", details__request=request.pk).count() == grants.count()
        if kind == "approve":
            assert request.decided_by == world[("steward", "head")[winner]]
        if request.status == "info":
            services.withdraw_request(world["requester"], request)
        elif request.status == "approved":
            services.revoke_grant(world["steward"], grants.get(), reason="下一轮")
    assert Grant.objects.filter(request__isnull=True).count() == 0
    assert verify_chain().ok


@pytest.mark.parametrize("slow", [True, False], ids=["held-lock", "plain-race"])
def test_two_revocations_at_once_one_wins(world, slow):
    for _ in range(ROUNDS):
        request = new_request(world)
        services.approve_request(world["steward"], request)
        grant = Grant.objects.get(request=request)
        with holding("record", slow):
            results = at_once(
                lambda g=grant: services.revoke_grant(world["steward"], g, reason="甲撤销"),
                lambda g=grant: services.revoke_grant(world["head"], g, reason="乙撤销"),
            )
        winner, _ = one_winner(results, "already ended")
        grant.refresh_from_db()
        assert grant.revoke_reason == ("甲撤销", "乙撤销")[winner]
        assert Event.objects.filter(action="grant.revoked", target_id=str(grant.pk)).count() == 1
    assert verify_chain().ok


@pytest.mark.parametrize("slow", [True, False], ids=["held-lock", "plain-race"])
def test_the_same_requester_twice_at_once_one_request(world, slow):
    for _ in range(ROUNDS):
        with holding("needs_head_approval", slow):
            results = at_once(lambda: new_request(world), lambda: new_request(world))
        _, created = one_winner(results, "open request")
        open_requests = AccessRequest.objects.filter(
            requester=world["requester"], status__in=AccessRequest.OPEN_STATUSES
        )
        assert list(open_requests) == [created]
        assert Event.objects.filter(action="access.requested", target_id=str(created.pk)).count() == 1
        assert Event.objects.filter(action="access.requested").count() == AccessRequest.objects.count()
        services.withdraw_request(world["requester"], created)
    assert verify_chain().ok


def test_two_requesters_at_once_both_get_their_request(world):
    for _ in range(ROUNDS):
        with holding("needs_head_approval", True):
            results = at_once(lambda: new_request(world), lambda: new_request(world, world["colleague"]))
        assert [kind for kind, _ in results] == ["ok", "ok"], results
        for _, created in results:
            services.withdraw_request(created.requester, created)
    assert AccessRequest.objects.count() == Event.objects.filter(action="access.requested").count() == 2 * ROUNDS
    assert verify_chain().ok


def test_bulk_decisions_racing_grant_each_request_once(world):
    """Two stewards bulk-approve the same inbox at once: every request is approved exactly once and
    each failure names the request the other steward took."""
    requests = [new_request(world, factories.member(world["health"], username=f"asker{i}")) for i in range(6)]
    results = at_once(
        lambda: services.bulk_decide(world["steward"], requests, approve=True, reason="甲批量"),
        lambda: services.bulk_decide(world["steward2"], list(reversed(requests)), approve=True, reason="乙批量"),
    )
    assert [kind for kind, _ in results] == ["ok", "ok"], results
    failures = [set(result) for _, result in results]
    assert failures[0].isdisjoint(failures[1])
    assert failures[0] | failures[1] == {r.pk for r in requests}
    for request in requests:
        assert Grant.objects.filter(request=request).count() == 1
        assert decisions_logged(request) == ["access.approved"]
    assert verify_chain().ok
