"""Access terms: each resource's row in the full-text index names who could possibly see it (its owner
department, the whole organization or its scope departments, its grantees), kept by triggers in the
transaction of each change. A person's search matches only rows carrying one of their terms; the
policy filter still decides after that (tests/search/test_permissions.py holds both to the policy)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from sharehub.access.models import Grant
from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.events import consumers
from sharehub.policy.engine import access_terms
from sharehub.search.backends import ACCESS_MARK, ENTRY_TABLE, FTS_TABLE, backend_for
from sharehub.search.queries import search
from tests import factories

pytestmark = pytest.mark.django_db


def stored_terms(resource: Resource) -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"SELECT access FROM {FTS_TABLE} WHERE rowid = %s", [resource.pk])
        else:
            cursor.execute(
                f"SELECT array_to_string(tsvector_to_array(access_vec), ' ') FROM {ENTRY_TABLE} WHERE resource_id = %s",
                [resource.pk],
            )
        row = cursor.fetchone()
    return set((row[0] or "").replace(ACCESS_MARK, "").split()) if row else set()


def titles(user, query: str) -> list[str]:
    return [hit.resource.title for hit in search(user, query, page_size=100).hits]


@pytest.fixture
def scoped(org_units, people):
    """A conditional dataset of 税务局 shared with 卫健委 only, indexed."""
    resource = factories.resource(
        org_units["tax"],
        by=people["tax_steward"],
        sharing_type=Resource.SharingType.CONDITIONAL,
        scope=[org_units["health"]],
        title="纳税信用等级名单",
    )
    consumers.run_pending()
    return resource


def test_terms_follow_sharing_scope_and_grants_before_the_reader_runs(scoped, org_units, people):
    tax, health, hr = org_units["tax"], org_units["health"], org_units["hr"]
    steward = people["tax_steward"]
    assert stored_terms(scoped) == {f"own{tax.pk}", f"see{health.pk}"}

    catalog.change_sharing(steward, scoped, scope_all=False, scope_departments=[health, hr])
    assert stored_terms(scoped) == {f"own{tax.pk}", f"see{health.pk}", f"see{hr.pk}"}
    catalog.change_sharing(steward, scoped, scope_all=True, scope_departments=[])
    assert stored_terms(scoped) == {f"own{tax.pk}", "seeall"}

    now = timezone.now()
    to_person = Grant.objects.create(
        resource=scoped,
        grantee_user=people["social_member"],
        purpose="核验",
        valid_from=now,
        valid_until=now + timedelta(days=30),
    )
    to_department = Grant.objects.create(
        resource=scoped, grantee_department=hr, purpose="核验", valid_from=now, valid_until=now + timedelta(days=30)
    )
    expected = {f"own{tax.pk}", "seeall", f"gu{people['social_member'].pk}", f"gd{hr.pk}"}
    assert stored_terms(scoped) == expected

    Grant.objects.filter(pk=to_person.pk).update(revoked_at=now)
    assert stored_terms(scoped) == expected - {f"gu{people['social_member'].pk}"}
    to_department.delete()
    assert stored_terms(scoped) == {f"own{tax.pk}", "seeall"}

    catalog.change_sharing(steward, scoped, sharing_type=Resource.SharingType.RESTRICTED, restriction_basis="保密")
    assert stored_terms(scoped) == {f"own{tax.pk}"}


def test_a_person_holds_a_term_of_everything_they_may_see(scoped, org_units, people):
    assert set(access_terms(people["health_member"])) & stored_terms(scoped)
    assert not set(access_terms(people["social_member"])) & stored_terms(scoped)
    assert access_terms(people["admin"]) is None  # nothing to filter
    assert access_terms(None) == ()


def test_a_widened_scope_is_found_at_once(scoped, org_units, people):
    reader = people["social_member"]  # 社会保险中心, under 人社局
    assert titles(reader, "纳税信用") == []
    catalog.change_sharing(people["tax_steward"], scoped, scope_all=False, scope_departments=[org_units["hr"]])
    assert titles(reader, "纳税信用") == ["纳税信用等级名单"]  # a scope reaches sub-departments


@pytest.mark.parametrize("query", ["seeall", "see*", "own*", "gu*", "gd*", "readall"])
def test_words_shaped_like_access_terms_find_nothing_through_them(scoped, org_units, people, query):
    factories.resource(org_units["tax"], by=people["tax_steward"], title="公开的税收统计")
    consumers.run_pending()
    for user in (people["health_member"], people["tax_member"], people["admin"]):
        assert titles(user, query) == []
    assert titles(people["admin"], f"own{org_units['tax'].pk}") == []


def test_creating_the_schema_again_repairs_terms_written_while_it_was_away(scoped, org_units, people):
    reader = people["social_member"]
    backend = backend_for()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # ALTER TABLE waits for no deferred check in the test's transaction
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        backend.drop_access(cursor)
    catalog.change_sharing(people["tax_steward"], scoped, scope_all=True, scope_departments=[])
    with connection.cursor() as cursor:
        backend.create_schema(cursor)
    assert stored_terms(scoped) == {f"own{org_units['tax'].pk}", "seeall"}
    assert titles(reader, "纳税信用") == ["纳税信用等级名单"]


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_an_fts_table_without_access_terms_is_rebuilt_with_its_rows(scoped, org_units, people):
    backend = backend_for()
    text = ", ".join(backend.TEXT_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid, {text} FROM {FTS_TABLE}")
        rows = cursor.fetchall()
        backend.drop_schema(cursor)
        backend.create_schema(cursor, access=False)
        cursor.executemany(f"INSERT INTO {FTS_TABLE} (rowid, {text}) VALUES (%s, %s, %s, %s, %s, %s)", rows)
        backend.create_schema(cursor)
    assert stored_terms(scoped) == {f"own{org_units['tax'].pk}", f"see{org_units['health'].pk}"}
    assert titles(people["health_member"], "纳税信用") == ["纳税信用等级名单"]
    assert titles(people["social_member"], "纳税信用") == []


def test_check_reports_wrong_access_terms_and_reindexing_mends_them(scoped, org_units, people):
    from sharehub.search import services

    assert services.check_index().healthy
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"UPDATE {FTS_TABLE} SET access = %s WHERE rowid = %s", [f"{ACCESS_MARK}seeall", scoped.pk])
        else:
            cursor.execute(
                f"UPDATE {ENTRY_TABLE} SET access_vec = array_to_tsvector(ARRAY['seeall']) WHERE resource_id = %s",
                [scoped.pk],
            )
    report = services.check_index()
    assert report.stale == [scoped.pk] and not report.healthy
    services.index_resources([scoped.pk])
    assert services.check_index().healthy
    assert stored_terms(scoped) == {f"own{org_units['tax'].pk}", f"see{org_units['health'].pk}"}


def test_deleting_a_resource_with_scope_and_grants(scoped, people):
    now = timezone.now()
    Grant.objects.create(
        resource=scoped,
        grantee_user=people["social_member"],
        purpose="核验",
        valid_from=now,
        valid_until=now + timedelta(days=3),
    )
    Resource.objects.filter(pk=scoped.pk).delete()
    assert titles(people["health_member"], "纳税信用") == []
    assert titles(people["admin"], "纳税信用") == []
