import pytest
from django.db import transaction

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


@pytest.fixture(scope="module")
def corpus(django_db_setup, django_db_blocker):
    """The labelled corpus of tests/search/corpus.py with the admin's term 人社局, built and indexed once per
    module inside a transaction that is rolled back when the module ends (each test runs in a savepoint
    inside it). Tests using it need the `db` fixture."""
    from sharehub.search import services
    from tests.search.corpus import build_corpus

    with django_db_blocker.unblock(), transaction.atomic():
        built = build_corpus()
        services.add_term(built.admin, "人社局")
        segment.reset()
        consumers.run_pending()
        yield built
        transaction.set_rollback(True)
