import pytest

from sharehub.feeds import live


@pytest.fixture(autouse=True)
def _live_state_of_this_test():
    """The ids this process has seen pushed are forgotten: a test rolled back gives its ids out again, so the
    poller took a notification of a later test for one pushed already and woke no stream. A stream starts
    the listener of other processes' messages, whose connection would keep PostgreSQL from dropping the test
    database: stopped after each test."""
    live._known.clear()
    yield
    live.stop_listening()
