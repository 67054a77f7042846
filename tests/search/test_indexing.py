"""Keeping the index in step with the catalog: every change is findable once the log reader has run
(`consumers.run_pending()`), a change of who may see what applies at once, and the index can be
rebuilt and checked (missing, stale, orphaned)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from sharehub.catalog import services as catalog
from sharehub.catalog import tasks as catalog_tasks
from sharehub.catalog.models import Attachment, Resource
from sharehub.events import consumers
from sharehub.events.models import ConsumerCursor, Event
from sharehub.org import services as org
from sharehub.policy.engine import Action, can
from sharehub.search import services, tasks
from sharehub.search.backends import backend_for
from sharehub.search.models import ResourceEntry
from sharehub.search.queries import SearchFilters, search
from tests import factories

pytestmark = pytest.mark.django_db


def found(user, query: str, **kwargs) -> list[str]:
    return [h.resource.title for h in search(user, query, page_size=100, **kwargs).hits]


def cursor_of(name: str) -> int:
    row = ConsumerCursor.objects.filter(name=name).first()
    return row.seq if row else 0


def head() -> int:
    return Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


@pytest.fixture
def notice(org_units, people):
    """An open notice of 税务局, indexed."""
    resource = factories.resource(
        org_units["tax"],
        by=people["tax_steward"],
        title="增值税申报期限通知",
        summary="本月申报截止日期顺延",
        body="因节假日调整 deadline extended",
        tags=["申报"],
    )
    consumers.run_pending()
    return resource


def test_a_publish_is_findable_once_the_reader_has_run(org_units, people):
    steward, outsider = people["tax_steward"], people["health_member"]
    draft = factories.resource(org_units["tax"], by=steward, title="个体工商户定额核定公告", publish=False)
    consumers.run_pending()
    assert found(steward, "定额核定") == ["个体工商户定额核定公告"]  # the owner's members see drafts
    assert found(outsider, "定额核定") == []
    catalog.transition(steward, draft, "publish")
    assert found(outsider, "定额核定") == ["个体工商户定额核定公告"]  # its text was indexed as a draft
    consumers.run_pending()
    assert found(outsider, "定额核定") == ["个体工商户定额核定公告"]
    assert cursor_of(tasks.READER_NAME) == head()


def test_text_is_indexed_only_by_the_reader(org_units, people):
    factories.resource(org_units["tax"], by=people["tax_steward"], title="出口退税进度查询")
    assert found(people["admin"], "出口退税") == []
    consumers.run_pending()
    assert found(people["admin"], "出口退税") == ["出口退税进度查询"]


def test_edits_replace_the_old_words(notice, people):
    reader = people["health_member"]
    catalog.update_resource(
        people["tax_steward"], notice, {"title": "消费税申报期限通知", "body": "no extension this month"}
    )
    consumers.run_pending()
    assert found(reader, "增值税") == []
    assert found(reader, "消费税") == ["消费税申报期限通知"]
    assert found(reader, "extended") == []
    assert found(reader, "extension") == ["消费税申报期限通知"]


def test_tag_changes(notice, people):
    reader, steward = people["health_member"], people["tax_steward"]
    catalog.update_resource(steward, notice, {"tags": ["申报", "纳税服务"]})
    consumers.run_pending()
    assert found(reader, "tag:纳税服务") == ["增值税申报期限通知"]
    assert found(reader, "纳税服务") == ["增值税申报期限通知"]
    assert {f.value: f.count for f in search(reader, "申报").facets["tag"]} == {"申报": 1, "纳税服务": 1}
    catalog.update_resource(steward, notice, {"tags": []})
    consumers.run_pending()
    assert found(reader, "tag:申报") == []
    assert search(reader, "增值税").facets["tag"] == []


def test_archive_and_restore(notice, people):
    reader, steward = people["health_member"], people["tax_steward"]
    catalog.transition(steward, notice, "archive")
    consumers.run_pending()
    hits = search(reader, "增值税").hits
    assert [(h.resource.title, h.resource.status) for h in hits] == [("增值税申报期限通知", Resource.Status.ARCHIVED)]
    catalog.transition(steward, notice, "restore")
    consumers.run_pending()
    assert [h.resource.status for h in search(reader, "增值税").hits] == [Resource.Status.PUBLISHED]


def test_sharing_changes_apply_before_the_reader_runs(notice, org_units, people):
    outsider, steward = people["health_member"], people["tax_steward"]
    catalog.change_sharing(steward, notice, sharing_type=Resource.SharingType.RESTRICTED, restriction_basis="内部")
    assert found(outsider, "增值税") == []
    assert search(outsider, "", SearchFilters(department=[org_units["tax"].pk])).total == 0
    consumers.run_pending()
    assert found(outsider, "增值税") == []
    assert found(people["tax_member"], "增值税") == ["增值税申报期限通知"]

    catalog.change_sharing(steward, notice, sharing_type=Resource.SharingType.CONDITIONAL, conditions="仅限核验")
    assert found(outsider, "增值税") == ["增值税申报期限通知"]  # the catalog entry
    assert found(outsider, "deadline") == []  # not the content
    consumers.run_pending()
    assert found(outsider, "增值税") == ["增值税申报期限通知"]
    assert found(outsider, "deadline") == []

    catalog.change_sharing(
        steward, notice, sharing_type=Resource.SharingType.OPEN, scope_all=False, scope_departments=[org_units["hr"]]
    )
    assert found(outsider, "增值税") == []
    assert found(people["social_member"], "deadline") == ["增值税申报期限通知"]  # a sub-department of the scope


def test_grants_and_memberships_apply_at_once(notice, org_units, people):
    from datetime import timedelta

    from django.utils import timezone

    from sharehub.access.models import Grant

    outsider, steward = people["health_member"], people["tax_steward"]
    catalog.change_sharing(steward, notice, sharing_type=Resource.SharingType.CONDITIONAL, conditions="仅限核验")
    consumers.run_pending()
    assert found(outsider, "deadline") == []
    now = timezone.now()
    grant = Grant.objects.create(
        resource=notice,
        grantee_department=org_units["health"],
        purpose="核验。",
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=30),
    )
    assert found(outsider, "deadline") == ["增值税申报期限通知"]
    assert found(outsider, "deadline", now=now + timedelta(days=31)) == []  # the grant has run out
    from sharehub.access.services import revoke_grant

    revoke_grant(people["admin"], grant, reason="项目结束。")
    assert found(outsider, "deadline") == []
    org.set_membership(None, outsider, org_units["tax"])
    member = type(outsider).objects.get(pk=outsider.pk)
    assert found(member, "deadline") == ["增值税申报期限通知"]
    org.remove_membership(None, member, org_units["tax"])
    assert found(type(outsider).objects.get(pk=outsider.pk), "deadline") == []


def _attach(people, resource, name: str, content: bytes) -> Attachment:
    attachment = catalog.add_attachment(people["tax_steward"], resource, name, [content])
    catalog_tasks.extract_pending()
    return attachment


def test_attachments_added_and_removed(notice, people):
    reader = people["health_member"]
    attachment = _attach(people, notice, "办理指引.txt", "纳税人可通过电子税务局办理延期申报。\nappendix".encode())
    consumers.run_pending()
    assert found(reader, "延期申报") == ["增值税申报期限通知"]
    hits = search(reader, "appendix").hits
    assert [h.resource.title for h in hits] == ["增值税申报期限通知"]
    assert hits[0].snippet.source == "办理指引.txt" and "<mark>appendix</mark>" in hits[0].snippet.html
    catalog.remove_attachment(people["tax_steward"], attachment)
    consumers.run_pending()
    assert found(reader, "延期申报") == []
    assert found(reader, "appendix") == []


def test_attachment_text_of_conditional_resources_is_for_readers_only(org_units, people):
    resource = factories.resource(
        org_units["tax"], by=people["tax_steward"], title="稽查名单", sharing_type=Resource.SharingType.CONDITIONAL
    )
    _attach(people, resource, "名单.txt", "重点监控企业 watchlist".encode())
    consumers.run_pending()
    assert found(people["health_member"], "watchlist") == []
    assert found(people["health_member"], "稽查名单") == ["稽查名单"]
    assert "watchlist" not in search(people["health_member"], "稽查名单").hits[0].snippet.html
    assert found(people["tax_member"], "watchlist") == ["稽查名单"]


def test_renaming_a_department_updates_hits_for_its_name(notice, org_units, people):
    reader = people["health_member"]
    assert found(reader, "税务局") == ["增值税申报期限通知"]
    org.update_department(None, org_units["tax"], name="税务总局第一分局")
    consumers.run_pending()
    assert found(reader, "税务总局第一分局") == ["增值税申报期限通知"]
    assert found(reader, "dept:税务总局第一分局") == ["增值税申报期限通知"]
    assert found(reader, "dept:税务局") == []  # no department has that name any more
    assert search(reader, "dept:税务局").unknown == {"dept": ["税务局"]}
    facet = search(reader, "增值税").facets["department"]
    assert [(f.label, f.count) for f in facet] == [("税务总局第一分局", 1)]


def test_an_admin_term_resegments_the_resources_that_mention_it(org_units, people):
    reader, admin = people["health_member"], people["admin"]
    one_stop = "企业开办一网通办说明"
    factories.resource(org_units["tax"], by=people["tax_steward"], title=one_stop)
    factories.resource(org_units["tax"], by=people["tax_steward"], title="一网通平台 办件统计")
    consumers.run_pending()
    assert sorted(found(reader, "一网通办")) == sorted([one_stop, "一网通平台 办件统计"])  # 一网通 + 办
    term = services.add_term(admin, "一网通办")
    consumers.run_pending()
    assert found(reader, "一网通办") == [one_stop]
    services.remove_term(admin, term)
    consumers.run_pending()
    assert len(found(reader, "一网通办")) == 2


def test_rebuild_index(notice, org_units, people):
    reader = people["health_member"]
    factories.resource(org_units["hr"], title="养老保险待遇调整", body="")
    consumers.run_pending()
    ResourceEntry.objects.all().delete()  # the index is lost
    assert found(reader, "增值税") == [] and found(reader, "养老保险") == []
    assert len(services.check_index().missing) == 2
    assert services.rebuild_index() == Resource.objects.count()
    assert found(reader, "增值税") == ["增值税申报期限通知"]
    assert found(reader, "养老保险") == ["养老保险待遇调整"]
    assert services.check_index().healthy
    assert cursor_of(tasks.READER_NAME) == head()


def test_check_index_notices_a_recreated_empty_full_text_schema(notice, people):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # ALTER TABLE waits for no deferred check in the test's transaction
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        backend_for().drop_schema(cursor)
        backend_for().create_schema(cursor)
    assert found(people["health_member"], "增值税") == []
    assert services.check_index().missing == [notice.pk]


def test_rebuild_reports_progress(notice, org_units):
    for n in range(3):
        factories.resource(org_units["hr"], title=f"档案 {n}")
    steps = []
    total = services.rebuild_index(progress=steps.append)
    assert total == 4 and sum(steps) == 4


def test_indexing_in_several_batches_segments_beside_the_writes(notice, org_units, people, monkeypatch):
    monkeypatch.setattr(services, "BATCH", 2)
    created = [factories.resource(org_units["hr"], title=f"批次档案{n}号 pension{n}") for n in range(5)]
    gone = max(r.pk for r in created) + 1000  # no such resource: it leaves the index, no error
    steps = []
    ids = [r.pk for r in created] + [notice.pk, gone]
    assert services.index_resources(ids, progress=steps.append) == 6
    assert steps == [2, 2, 2, 1]
    assert sorted(found(people["health_member"], "pension3")) == ["批次档案3号 pension3"]
    assert services.check_index().healthy


def test_a_failure_while_segmenting_a_later_batch_writes_nothing(notice, org_units, people, monkeypatch):
    monkeypatch.setattr(services, "BATCH", 2)
    created = [factories.resource(org_units["hr"], title=f"失败批次{n} orchard{n}") for n in range(5)]
    segmented = services._segmented

    def fails_on_the_last_batch(texts, segmenter):
        if any("orchard4" in t.title for t in texts):
            raise RuntimeError("segmenter broke")
        return segmented(texts, segmenter)

    monkeypatch.setattr(services, "_segmented", fails_on_the_last_batch)
    with pytest.raises(RuntimeError, match="segmenter broke"):
        services.index_resources([r.pk for r in created])
    assert found(people["health_member"], "orchard0") == []
    assert sorted(services.check_index().missing) == sorted(r.pk for r in created)


def test_check_index_finds_missing_stale_and_orphaned(notice, org_units, people):
    report = services.check_index()
    assert report.healthy and report.resources == report.indexed == 1

    fresh = factories.resource(org_units["hr"], title="尚未索引的资源")  # the reader has not run
    Resource.objects.filter(pk=notice.pk).update(body="changed behind the index's back")
    report = services.check_index()
    assert report.missing == [fresh.pk]
    assert report.stale == [notice.pk]
    assert report.orphaned == [] and not report.healthy

    consumers.run_pending()  # indexes the new one; the silent edit stays stale
    report = services.check_index()
    assert (report.missing, report.stale) == ([], [notice.pk])
    services.index_resources([notice.pk])
    assert services.check_index().healthy

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM catalog_resource WHERE id = %s", [fresh.pk])
        report = services.check_index()
        assert report.orphaned == [fresh.pk] and not report.healthy
        raise Undo


def test_a_failing_reader_keeps_its_place_and_catches_up(org_units, people, monkeypatch, caplog):
    consumers.run_pending()
    before = cursor_of(tasks.READER_NAME)

    def broken(ids):
        raise RuntimeError("index unavailable")

    monkeypatch.setattr(tasks, "prepare_index", broken)
    factories.resource(org_units["tax"], by=people["tax_steward"], title="房产税减免政策")
    consumers.run_pending()
    assert cursor_of(tasks.READER_NAME) == before
    assert cursor_of("notifications") == head()  # the other readers go on
    assert "search-index" in caplog.text
    consumers.run_pending()  # still failing: still in place
    assert cursor_of(tasks.READER_NAME) == before
    assert found(people["health_member"], "房产税") == []

    monkeypatch.undo()
    consumers.run_pending()
    assert cursor_of(tasks.READER_NAME) == head()
    assert found(people["health_member"], "房产税") == ["房产税减免政策"]


def test_reads_do_not_reindex(notice, people, monkeypatch):
    calls = []
    monkeypatch.setattr(tasks, "prepare_index", lambda ids: calls.append(list(ids)) or [])
    catalog.note_content_read(people["admin"], [notice], via="test")
    catalog.change_sharing(people["tax_steward"], notice, sharing_type=Resource.SharingType.CONDITIONAL, conditions="c")
    catalog.note_content_read(people["admin"], [notice], via="test")
    consumers.run_pending()
    assert calls == [[notice.pk, notice.pk]]  # the edit and the sharing change, not the reads


@pytest.mark.parametrize(
    "fields",
    [
        {"tags": ["一网通办"]},
        {"kind": "dataset", "dataset_fields": [{"name": "channel", "description": "一网通办"}]},
        {"conditions": "仅限一网通办", "sharing_type": Resource.SharingType.CONDITIONAL},
    ],
    ids=["tag", "dataset field", "conditions"],
)
def test_an_admin_term_resegments_catalog_fields_that_mention_it(org_units, people, fields):
    reader, admin = people["health_member"], people["admin"]
    factories.resource(org_units["tax"], by=people["tax_steward"], title="办件统计", **fields)
    consumers.run_pending()
    assert found(reader, "一网通办") == ["办件统计"]
    services.add_term(admin, "一网通办")
    consumers.run_pending()
    assert found(reader, "一网通办") == ["办件统计"]


def test_renaming_a_department_resegments_other_resources_that_mention_the_name(notice, org_units, people):
    reader = people["hr_head"]
    factories.resource(org_units["health"], title="医疗保障局联合通知", body="")
    consumers.run_pending()
    assert found(reader, "医疗保障局") == ["医疗保障局联合通知"]
    org.update_department(None, org_units["tax"], name="医疗保障局")
    consumers.run_pending()
    assert sorted(found(reader, "医疗保障局")) == ["医疗保障局联合通知", "增值税申报期限通知"]


@pytest.mark.django_db(transaction=True)
def test_a_committed_change_is_indexed_by_the_after_commit_hook(org_units, people):
    """Outside a test transaction nobody calls the reader: the commit of the change does."""
    reader, steward = people["health_member"], people["tax_steward"]
    try:
        resource = factories.resource(org_units["tax"], by=steward, title="车船税缴纳指南", body="")
        assert found(reader, "车船税") == ["车船税缴纳指南"]
        catalog.update_resource(steward, resource, {"title": "车辆购置税缴纳指南"})
        assert found(reader, "车船税") == [] and found(reader, "购置税") == ["车辆购置税缴纳指南"]
        assert cursor_of(tasks.READER_NAME) == head()
    finally:
        with connection.cursor() as cursor:
            backend_for().clear(cursor)  # the FTS5 table is not among the tables a flush empties


def test_an_archived_draft_stays_out_of_other_departments_results(org_units, people):
    draft = factories.resource(org_units["tax"], by=people["tax_steward"], title="内部草稿方案", publish=False)
    catalog.transition(people["tax_steward"], draft, "archive")
    consumers.run_pending()
    assert found(people["health_member"], "草稿方案") == []
    assert found(people["tax_member"], "草稿方案") == ["内部草稿方案"]
    draft.refresh_from_db()
    assert can(people["health_member"], Action.VIEW, draft).code == "archived_draft"
    restored = catalog.transition(people["tax_steward"], draft, "restore")
    assert restored.status == Resource.Status.DRAFT and restored.published_at is None


@pytest.mark.django_db(transaction=True)
def test_text_is_segmented_with_no_transaction_open(org_units, people, monkeypatch):
    """Segmenting a long attachment takes seconds; on SQLite an open write transaction would hold every
    other writer back that long. The reader segments first, then writes the index in a short transaction."""
    seen = []
    real = tasks.prepare_index

    def watching(ids):
        seen.append(connection.in_atomic_block)
        return real(ids)

    monkeypatch.setattr(tasks, "prepare_index", watching)
    factories.resource(org_units["tax"], by=people["tax_steward"], title="契税征收通知")
    consumers.run_pending()
    assert seen and not any(seen)
    assert found(people["health_member"], "契税") == ["契税征收通知"]


@pytest.mark.django_db(transaction=True)
def test_a_batch_applied_meanwhile_by_another_process_is_not_written_twice(org_units, people, monkeypatch):
    consumers.run_pending()
    real = tasks.prepare_index
    calls = []

    def other_process_wins(ids):
        prepared = real(ids)
        if not calls:
            calls.append(len(ids))
            consumers.run_consumer(consumers._consumers[tasks.READER_NAME])  # another process, in between
        return prepared

    monkeypatch.setattr(tasks, "prepare_index", other_process_wins)
    factories.resource(org_units["tax"], by=people["tax_steward"], title="印花税通知")  # its commit runs the readers
    assert len(calls) == 1  # the other process applied the batch; this one dropped its copy
    assert cursor_of(tasks.READER_NAME) == head()
    assert found(people["health_member"], "印花税") == ["印花税通知"]
    assert ResourceEntry.objects.filter(resource__title="印花税通知").count() == 1
