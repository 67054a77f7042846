"""An admin's search reads its matches' facets from SQLite's facet table, and outside a transaction runs
as two statements at once (the facets on a helper thread's connection, the ranked page on the caller's).
It must answer exactly as the one statement does, fall back to it when another connection commits in
between, and the facet table must follow the entries."""

from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, connection, transaction

from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.events import consumers
from sharehub.search import queries, services
from sharehub.search.backends import FACET_TABLE, backend_for
from sharehub.search.queries import SearchFilters, search
from tests import factories
from tests.search.corpus import build_corpus


@pytest.fixture
def sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("the facet table and the two statements are SQLite's")


def summary(result) -> tuple:
    return (
        result.total,
        [(hit.resource.pk, round(hit.score, 9), hit.readable) for hit in result.hits],
        {name: [(f.value, f.count) for f in values] for name, values in result.facets.items()},
    )


@pytest.fixture
def split_calls(monkeypatch) -> list:
    """What each two-statement attempt returned (None: it gave way to the one statement)."""
    calls = []
    real = queries._split_rows

    def spy(*args, **kwargs):
        rows = real(*args, **kwargs)
        calls.append(rows)
        return rows

    monkeypatch.setattr(queries, "_split_rows", spy)
    return calls


@pytest.fixture
def committed_corpus():
    """The labelled corpus, committed (so other connections see it) and indexed by the commit hooks."""
    built = build_corpus()
    consumers.run_pending()
    yield built
    with connection.cursor() as cursor:
        backend_for().clear(cursor)  # the FTS5 table is not among the tables a flush empties


@pytest.mark.django_db(transaction=True)
def test_two_statements_answer_as_the_one_statement(sqlite_only, committed_corpus, split_calls):
    admin = committed_corpus.admin
    notice = Resource.Kind.NOTICE
    cases = [
        ("社保", {}),
        ("shebao", {}),
        ('"缴费基数"', {}),
        ("社保 -转移", {}),
        ("通知", {"sort": "date"}),
        ("通知", {"page": 2, "page_size": 2}),
        ("社保", {"filters": SearchFilters(kind=[notice])}),
        ("社保", {"filters": SearchFilters(updated="30d")}),
        ("dept:人力资源和社会保障局 社保", {}),
        ("tag:社保 缴费", {}),
        ("budg", {}),
    ]
    answered = 0
    for query, options in cases:
        split = search(admin, query, **options)
        with transaction.atomic():  # inside a transaction: the one statement, on this connection
            one = search(admin, query, **options)
        assert summary(split) == summary(one), query
        answered += bool(split.hits)
    assert len(split_calls) == len(cases) and all(rows is not None for rows in split_calls)
    assert answered >= len(cases) - 2


@pytest.mark.django_db(transaction=True)
def test_a_commit_between_the_two_statements_gives_way_to_the_one_statement(
    sqlite_only, committed_corpus, split_calls, monkeypatch
):
    admin, tax = committed_corpus.admin, committed_corpus.departments["tax"]
    before = search(admin, "社保").total
    real = queries._facets_in_helper

    committed = threading.Event()

    def commit_first(sql, params):
        try:
            factories.resource(tax, title="社保费征收新规", body="")  # commits on the helper's connection
        finally:
            committed.set()
        return real(sql, params)

    real_fetch = queries._fetch

    def page_after_the_commit(sql, params, using=None):
        # The test's in-memory database shares one cache between connections, where a read of a table
        # another connection is writing fails at once ("table is locked") instead of waiting as a file does.
        if using is None and sql.startswith("WITH"):
            assert committed.wait(30)
        return real_fetch(sql, params, using=using)

    monkeypatch.setattr(queries, "_facets_in_helper", commit_first)
    monkeypatch.setattr(queries, "_fetch", page_after_the_commit)
    result = search(admin, "社保")
    assert split_calls[-1] is None
    assert result.total == before + 1
    assert "社保费征收新规" in [hit.resource.title for hit in result.hits]
    assert sum(f.count for f in result.facets["kind"]) == result.total


@pytest.mark.django_db
def test_the_facet_table_follows_the_entries(sqlite_only, org_units, people):
    steward = people["tax_steward"]
    resource = factories.resource(org_units["tax"], by=steward, title="车船税缴纳指南", body="")

    def facet_row():
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT owner_department_id, kind, sharing_type, updated_us FROM {FACET_TABLE} WHERE resource_id = %s",
                [resource.pk],
            )
            return cursor.fetchone()

    def expected():
        resource.refresh_from_db()
        return (
            resource.owner_department_id,
            resource.kind,
            resource.sharing_type,
            queries._micros(resource.updated_at),
        )

    assert facet_row() == expected()
    conditional = Resource.SharingType.CONDITIONAL
    catalog.update_resource(
        steward, resource, {"title": "车辆购置税缴纳指南", "sharing_type": conditional, "conditions": "仅用于核验"}
    )
    assert facet_row() == expected() and facet_row()[2] == conditional
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {FACET_TABLE} SET kind = 'dataset' WHERE resource_id = %s", [resource.pk])
    consumers.run_pending()
    assert services.check_index().stale == [resource.pk]
    services.rebuild_index()
    assert services.check_index().healthy and facet_row() == expected()
    resource_id = resource.pk
    Resource.objects.filter(pk=resource_id).delete()
    assert facet_row() is None


@pytest.mark.django_db(transaction=True)
def test_a_failing_facet_statement_fails_the_search_instead_of_answering_without_counts(
    sqlite_only, committed_corpus, monkeypatch
):
    def broken(sql, params):
        raise DatabaseError("disk I/O error")

    monkeypatch.setattr(queries, "_facets_in_helper", broken)
    with pytest.raises(DatabaseError, match="disk I/O error"):
        search(committed_corpus.admin, "社保")
