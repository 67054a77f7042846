import pytest

from sharehub.events import consumers
from sharehub.search import segment


@pytest.fixture(autouse=True)
def _fresh_dictionary():
    """Each test starts with the dictionary of its own organization."""
    segment.reset()
    yield
    segment.reset()


@pytest.fixture
def indexed():
    """Bring the index up to date with the log, as the after-commit hook does outside tests."""

    def run():
        segment.reset()
        consumers.run_pending()

    return run
