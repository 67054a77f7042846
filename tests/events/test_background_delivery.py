"""Server processes deliver committed events to the log readers in a thread of their own
(consumers.deliver_in_background, started by sharehub.asgi); elsewhere the committing thread runs them."""

from __future__ import annotations

import threading
import time

import pytest

from sharehub.events import consumers
from sharehub.events.models import ConsumerCursor, Event
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def probe():
    """A log reader that notes which thread read which event."""
    seen: list[tuple[int, str]] = []
    consumers.register("probe", lambda event: seen.append((event.seq, threading.current_thread().name)))
    yield seen
    consumers._consumers.pop("probe", None)


@pytest.fixture
def in_background():
    consumers.deliver_in_background()
    yield
    consumers.deliver_inline()


def _head() -> int:
    return Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def _caught_up(name: str) -> bool:
    return ConsumerCursor.objects.filter(name=name, seq=_head()).exists()


def test_without_the_server_the_committing_thread_reads(org_units, probe):
    factories.resource(org_units["tax"], by=factories.member(org_units["tax"], "steward"))
    assert probe and {name for _seq, name in probe} == {threading.current_thread().name}
    assert _caught_up("probe")


def test_in_the_server_a_thread_of_its_own_reads_every_event_once_in_order(org_units, probe, in_background):
    steward = factories.member(org_units["tax"], "steward")
    writers = [
        threading.Thread(target=lambda i=i: factories.resource(org_units["tax"], by=steward, title=f"并发 {i}"))
        for i in range(4)
    ]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    deadline = time.monotonic() + 10
    while not _caught_up("probe") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _caught_up("probe")
    seqs = [seq for seq, _name in probe]
    assert seqs == sorted(set(seqs)) == list(Event.objects.order_by("seq").values_list("seq", flat=True))
    assert {name for _seq, name in probe} == {"sharehub-readers"}


def test_stopping_the_thread_goes_back_to_reading_inline(org_units, probe):
    consumers.deliver_in_background()
    consumers.deliver_inline()
    assert not any(t.name == "sharehub-readers" for t in threading.enumerate())
    factories.resource(org_units["tax"], by=factories.member(org_units["tax"], "steward"))
    assert _caught_up("probe")


def test_a_failed_round_does_not_end_the_thread(org_units, probe, monkeypatch, in_background):
    real = consumers.run_pending
    failures = []

    def failing_once():
        if not failures:
            failures.append(1)
            raise RuntimeError("database went away")
        return real()

    monkeypatch.setattr(consumers, "run_pending", failing_once)
    steward = factories.member(org_units["tax"], "steward")
    factories.resource(org_units["tax"], by=steward, title="第一次")  # its round fails
    deadline = time.monotonic() + 10
    while not failures and time.monotonic() < deadline:
        time.sleep(0.02)
    factories.resource(org_units["tax"], by=steward, title="第二次")  # the next commit catches both up
    while not _caught_up("probe") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert failures and _caught_up("probe")
    assert any(t.name == "sharehub-readers" for t in threading.enumerate())
