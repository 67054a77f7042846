"""`sharehub reindex` and `sharehub reindex --check`, on whichever database the suite runs on."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from sharehub.catalog.models import Resource
from sharehub.search.backends import FTS_TABLE, backend_for
from sharehub.search.documents import INDEX_FORMAT
from sharehub.search.models import ResourceEntry
from sharehub.search.queries import search
from tests import factories

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("reindex", *args, stdout=out, stderr=err)
    return out.getvalue()


def check_fails() -> tuple[str, str]:
    """Run --check expecting it to fail; (what it printed, the closing sentence)."""
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("reindex", "--check", stdout=out, stderr=io.StringIO())
    assert caught.value.returncode == 1
    return out.getvalue(), str(caught.value)


@pytest.fixture
def catalog(org_units):
    tax, hr = org_units["tax"], org_units["hr"]
    return [
        factories.resource(tax, title="社保缴费基数调整通知", summary="社会保险"),
        factories.resource(tax, title="营业执照核验", sharing_type="conditional"),
        factories.resource(hr, title="Quarterly payroll report", summary="工资报表"),
    ]


def test_reindex_an_empty_catalog(db):
    assert run().strip().startswith("0 resources indexed in ")
    assert run("--check").strip() == "The search index is healthy: 0 of 0 resources indexed, all up to date."


def test_reindex_fills_an_empty_index(catalog, people):
    # Nothing ran the log reader: the index is empty, and --check says so.
    printed, sentence = check_fails()
    assert "missing from the index: 3" in printed
    assert "run `sharehub reindex`" in sentence
    assert search(people["admin"], "社保").total == 0

    output = run().strip()
    assert output.startswith("3 resources indexed in ") and output.endswith(" s.")
    assert run("--check").strip() == "The search index is healthy: 3 of 3 resources indexed, all up to date."
    assert [h.resource.title for h in search(people["admin"], "payroll").hits] == ["Quarterly payroll report"]


def test_reindex_a_populated_index_gives_the_same_results(catalog, people, indexed):
    indexed()
    before = [(h.resource.pk, round(h.score, 6)) for h in search(people["admin"], "社保").hits]
    assert before
    assert run().strip().startswith("3 resources indexed in ")
    assert ResourceEntry.objects.count() == 3
    assert [(h.resource.pk, round(h.score, 6)) for h in search(people["admin"], "社保").hits] == before
    run("--check")


def test_check_names_a_resource_whose_entry_was_removed(catalog, indexed):
    indexed()
    gone = catalog[1]
    with connection.cursor() as cursor:
        backend_for().delete(cursor, [gone.pk])
    ResourceEntry.objects.filter(resource=gone).delete()
    printed, _sentence = check_fails()
    assert f"missing from the index: 1 ({gone.code})" in printed
    assert "stale (changed since they were indexed): 0" in printed
    run()
    run("--check")


def test_check_names_a_stale_resource(catalog, indexed):
    indexed()
    changed = catalog[2]
    # Changed behind the services' back, so no event told the index.
    Resource.objects.filter(pk=changed.pk).update(title="Annual payroll report")
    printed, _sentence = check_fails()
    assert f"stale (changed since they were indexed): 1 ({changed.code})" in printed
    assert "missing from the index: 0" in printed
    run()
    run("--check")


def test_check_lists_the_first_few_codes_and_counts_the_rest(org_units):
    made = [factories.resource(org_units["tax"], title=f"报表 {n}") for n in range(7)]
    printed, _sentence = check_fails()
    codes = ", ".join(r.code for r in made[:5])
    assert f"missing from the index: 7 ({codes} and 2 more)" in printed


def test_check_finds_orphaned_entries(catalog, indexed):
    if connection.vendor != "sqlite":
        pytest.skip("on PostgreSQL an entry is a row that cannot outlive its resource")
    indexed()
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {FTS_TABLE} (rowid, title) VALUES (%s, %s)", [987654, "孤儿"])
    printed, _sentence = check_fails()
    assert "orphaned entries (their resource no longer exists): 1 (#987654)" in printed
    run()
    run("--check")


def test_exit_status_and_sentence_as_a_user_sees_them(catalog, indexed, monkeypatch, capsys):
    """The command as `sharehub reindex --check` runs it: exit 1 and one sentence on stderr, no traceback."""
    from django.core.management import base

    # run_from_argv closes the connections when done; the test's transaction must outlive it.
    monkeypatch.setattr(base.connections, "close_all", lambda: None)
    from sharehub.search.management.commands.reindex import Command

    with pytest.raises(SystemExit) as exit_1:
        Command().run_from_argv(["sharehub", "reindex", "--check"])
    assert exit_1.value.code == 1
    err = capsys.readouterr().err
    assert "CommandError: The search index is out of step with the catalog" in err
    assert "Traceback" not in err

    Command().run_from_argv(["sharehub", "reindex"])  # returns normally: exit 0
    Command().run_from_argv(["sharehub", "reindex", "--check"])
    assert "healthy" in capsys.readouterr().out


def test_check_names_entries_indexed_in_an_older_format(catalog, people, indexed):
    """After an upgrade that changes what is indexed (format 2: the pinyin of words side by side), the
    entries written before (NULL, as migration 0006 leaves them) are named until a rebuild."""
    indexed()
    assert search(people["admin"], "sbjf ").total == 1
    ResourceEntry.objects.update(index_format=None)
    printed, sentence = check_fails()
    assert "indexed by an older version of Sharehub (a new index format): 3" in printed
    assert "run `sharehub reindex`" in sentence
    assert run().strip().startswith("3 resources indexed in ")
    assert run("--check").strip() == "The search index is healthy: 3 of 3 resources indexed, all up to date."
    assert set(ResourceEntry.objects.values_list("index_format", flat=True)) == {INDEX_FORMAT}
    assert [h.resource.title for h in search(people["admin"], "shebaojiaofei").hits] == ["社保缴费基数调整通知"]


def test_the_log_reader_writes_the_current_format(catalog, indexed):
    indexed()
    assert set(ResourceEntry.objects.values_list("index_format", flat=True)) == {INDEX_FORMAT}
