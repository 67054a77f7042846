from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from sharehub.access.models import AccessRequest, Grant
from sharehub.catalog.models import Attachment, Category, Resource, ResourceVersion
from sharehub.demo import data, generator, knowledge
from sharehub.demo.history import WorkingTime
from sharehub.events.chain import verify_chain
from sharehub.events.models import Event
from sharehub.exchange.models import Consent, Dataset, DatasetField, Record
from sharehub.exchange.overlap import find_overlaps
from sharehub.feeds.models import Notification
from sharehub.org.models import Department, Membership, User
from sharehub.search.queries import search
from tests import factories

pytestmark = pytest.mark.django_db


def test_full_demo_loads_the_city(run):
    result = run("demo", "--no-serve")

    assert Department.objects.count() == 11
    assert 50 <= User.objects.filter(kind=User.Kind.PERSON).count() <= 55
    assert 280 <= Resource.objects.count() <= 320
    assert set(Resource.objects.values_list("kind", flat=True)) == set(Resource.Kind.values)
    assert set(Resource.objects.values_list("sharing_type", flat=True)) == set(Resource.SharingType.values)
    assert set(Resource.objects.values_list("status", flat=True)) == set(Resource.Status.values)
    assert Resource.objects.filter(scope_all=False).exists()
    assert ResourceVersion.objects.count() > Resource.objects.count()  # some were edited
    assert Attachment.objects.count() >= 5
    assert Grant.objects.filter(grantee_department__isnull=False).exists()
    assert Grant.objects.filter(grantee_user__isnull=False).exists()
    assert Category.objects.filter(parent__isnull=False).exists()
    # the article's cases
    titles = set(Resource.objects.values_list("title", flat=True))
    for title in ("纳税人登记信息", "社保缴费基数核定结果", "企业营业执照登记信息", "大型医疗设备闲置时段共享清单"):
        assert title in titles
    assert Resource.objects.filter(kind="progress", project__name="一网通办").count() >= 5
    assert Resource.objects.filter(kind="notice", tags__name="公共卫生").exists()
    restricted = Resource.objects.filter(sharing_type="restricted")
    assert all(r.restriction_basis for r in restricted)
    assert any("个人信息保护法" in r.restriction_basis for r in restricted)
    assert all(r.conditions for r in Resource.objects.filter(sharing_type="conditional"))
    taxes = Resource.objects.get(title="纳税人登记信息")
    assert {f["sensitivity"] for f in taxes.dataset_fields} >= {"public", "secret"}
    assert taxes.code.startswith("SWJ-")
    # roles
    admin = User.objects.get(username="admin")
    assert admin.is_org_admin and admin.check_password(data.PASSWORD)
    assert User.objects.get(username="auditor").is_auditor
    assert User.objects.get(username="erp-sync").service_owner.code == "DSJ"
    for department in Department.objects.all():
        roles = set(Membership.objects.filter(department=department).values_list("role", flat=True))
        assert {"head", "steward"} <= roles, department.name
    assert User.objects.filter(memberships__isnull=False).distinct().count() < Membership.objects.count()

    assert verify_chain().ok
    assert "313 resources" in result.stdout  # 301 in the catalog's plan, 12 knowledge articles
    assert "纳税人登记信息 3000" in result.stdout
    assert "sharehub-demo" in result.stdout
    assert "admin" in result.stdout and "auditor" in result.stdout and "大数据管理局" in result.stdout
    assert "history from" in result.stdout

    _assert_a_year_of_history()
    _assert_records_with_overlap_and_consents()
    run("reindex", "--check")  # raises CommandError (exit 1) when the index is out of step


def _assert_records_with_overlap_and_consents() -> None:
    """The record datasets: counts, the same companies at 税务局 and 社保中心, consents of patients."""
    taxes = Resource.objects.get(title="纳税人登记信息")
    units = Resource.objects.get(title="社保缴费基数核定结果")
    patients = Resource.objects.get(title="患者就诊记录")
    counts = {r.title: Record.objects.filter(dataset_id=r.pk).count() for r in (taxes, units, patients)}
    assert counts == {"纳税人登记信息": 3000, "社保缴费基数核定结果": 2500, "患者就诊记录": 2000}
    assert Dataset.objects.get(pk=taxes.pk).record_count == 3000
    assert {f.name: f.source_id for f in DatasetField.objects.filter(dataset_id=units.pk)}["unit_name"] == taxes.pk

    steward = User.objects.get(username="guomin")  # 社保中心
    [found] = [o for o in find_overlaps(steward, units.code).overlaps if o.resource == taxes]
    assert (found.method, found.matched, found.total) == ("exact", 2000, 2500)
    assert found.sources == ["unified_credit_code", "taxpayer_name"]

    dataset = Dataset.objects.get(pk=patients.pk)
    assert dataset.consent_required and dataset.subject_field == "patient_id"
    consents = Consent.objects.filter(dataset=dataset)
    assert consents.count() >= 500 and consents.filter(withdrawn_at__isnull=False).exists()
    assert set(consents.values_list("subject", flat=True)) <= set(
        Record.objects.filter(dataset=dataset).values_list("subject", flat=True)
    )
    assert {"TREAT", "HRESCH"} <= set(consents.values_list("purpose", flat=True))
    stored = Record.objects.filter(dataset=dataset).values_list("values", flat=True)[:50]
    assert not any("高血压" in str(values) or "糖尿病" in str(values) for values in stored)  # encrypted at rest


def times_of(action: str) -> list[datetime]:
    return list(Event.objects.filter(action=action).order_by("seq").values_list("created_at", flat=True))


def _assert_a_year_of_history() -> None:
    """What the loaded demo must show about its past (called on the full demo, loaded once)."""
    now = timezone.now()
    created = sorted(Resource.objects.values_list("created_at", flat=True))
    assert (created[-1] - created[0]).days >= 300
    assert created[-1] < now
    months = {moment.strftime("%Y-%m") for moment in created}
    assert len(months) >= 12  # spread out, not a burst at the start
    for resource in Resource.objects.all():
        assert resource.created_at <= resource.updated_at
        if resource.published_at:
            assert resource.created_at <= resource.published_at <= resource.updated_at
    assert Resource.objects.filter(published_at__gt=F("created_at")).exists()  # drafts published later
    edited = ResourceVersion.objects.filter(number__gt=1)
    assert edited.count() >= 100
    assert all(v.created_at > v.resource.created_at for v in edited.select_related("resource"))
    joined = set(User.objects.values_list("date_joined", flat=True))  # a default of timezone.now, also stood in for
    assert len(joined) == 1 and joined.pop() == times_of("department.created")[0] < created[0]

    # The log: in the order of its sequence numbers, in time as well, and still a valid chain.
    times = list(Event.objects.order_by("seq").values_list("created_at", flat=True))
    assert times == sorted(times)
    assert (times[-1] - times[0]).days >= 365
    actions = set(Event.objects.values_list("action", flat=True))
    assert {
        "resource.updated",
        "resource.archived",
        "resource.read",
        "access.requested",
        "access.approved",
        "access.rejected",
        "access.info_asked",
        "access.info_given",
        "access.withdrawn",
        "access.escalated",
        "grant.created",
        "grant.revoked",
        "grant.expiring",
        "grant.expired",
    } <= actions
    assert verify_chain().ok

    # Grants in every state, in their final state after the last sweep.
    grants = Grant.objects.all()
    expired = grants.filter(revoked_at__isnull=True, valid_until__lte=now)
    assert expired.count() >= 3 and not expired.filter(expired_noted_at__isnull=True).exists()
    active = grants.filter(revoked_at__isnull=True, valid_until__gt=now)
    assert active.count() >= 5
    assert active.filter(valid_until__lte=now + timedelta(days=7), expiring_noted_at__isnull=False).exists()
    assert active.filter(valid_until__gt=now + timedelta(days=7), valid_until__lte=now + timedelta(days=30)).exists()
    revoked = grants.filter(revoked_at__isnull=False)
    assert revoked.exists() and all(g.valid_from < g.revoked_at < min(g.valid_until, now) for g in revoked)

    # Requests: decided within their deadline unless the sweep escalated them; the open ones are recent,
    # or shown overdue (escalated).
    requests = AccessRequest.objects.all()
    assert requests.filter(decided_at__isnull=False).count() >= 20
    for request in requests.filter(decided_at__isnull=False):
        assert request.created_at < request.decided_at
        assert request.decided_at <= request.deadline_at or request.escalated_at is not None
    still_open = requests.filter(status__in=AccessRequest.OPEN_STATUSES)
    assert still_open.filter(deadline_at__gt=now).exists()
    overdue = still_open.filter(status=AccessRequest.Status.PENDING, deadline_at__lte=now)
    assert overdue.exists() and not overdue.filter(escalated_at__isnull=True).exists()

    # Notifications: people read theirs every few days; the last few days' are still unread.
    notifications = Notification.objects.all()
    assert notifications.filter(read_at__isnull=False).count() > 100
    assert not notifications.filter(read_at__lt=F("created_at")).exists()
    unread = notifications.filter(read_at__isnull=True, recipient__kind=User.Kind.PERSON)  # not service accounts
    assert unread.exists() and not unread.filter(created_at__lt=now - timedelta(days=30)).exists()

    # The search period facet has something in every period.
    result = search(User.objects.get(username="yangfan"), "")
    periods = {f.value: f.count for f in result.facets["updated"]}
    assert set(periods) == {"7d", "30d", "365d", "older"}
    assert periods["7d"] < periods["30d"] < periods["365d"]


def test_demo_is_deterministic_for_a_seed(run):
    planned = [spec.title for spec in generator.plan(42)]
    assert planned == [spec.title for spec in generator.plan(42)]
    assert planned != [spec.title for spec in generator.plan(7)]
    assert len(set(planned)) == len(planned)

    run("demo", "--no-serve", "--seed", "7", "--scale", "0.2")
    loaded = sorted(Resource.objects.exclude(kind="article").values_list("title", flat=True))
    assert loaded == sorted(spec.title for spec in generator.plan(7, 0.2))
    articles = {entry[3] for entry in knowledge.ARTICLES} | {entry[2] for entry in knowledge.QUESTIONS if entry[7]}
    assert set(Resource.objects.filter(kind="article").values_list("title", flat=True)) == articles
    assert set(Resource.objects.values_list("kind", flat=True)) == set(Resource.Kind.values)
    assert set(Resource.objects.values_list("sharing_type", flat=True)) == set(Resource.SharingType.values)


def test_demo_keeps_a_loaded_demo(run):
    run("demo", "--no-serve", "--scale", "0.1")
    count = Resource.objects.count()
    result = run("demo", "--no-serve", "--scale", "0.1")
    assert "loaded already" in result.stdout
    assert Resource.objects.count() == count
    assert "sharehub-demo" in result.stdout


def test_demo_leaves_another_organization_alone(run):
    factories.department("财政局", "CZJ")
    result = run("demo", "--no-serve")
    assert "already holds an organization" in result.stdout
    assert Department.objects.count() == 1
    assert not Resource.objects.exists()


@pytest.mark.parametrize("step", ["_approve", "rebuild_index"])
def test_a_failing_demo_leaves_nothing_half_loaded(run, monkeypatch, step):
    """A failure in the middle of the history (with the stand-in clock in place) or at the end leaves
    no row, and Django's clock is the real one again."""
    real_now = timezone.now
    date_joined = User._meta.get_field("date_joined")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(generator._Loader if step.startswith("_") else generator, step, broken)
    with pytest.raises(RuntimeError):
        run("demo", "--no-serve", "--scale", "0.1")
    assert not Department.objects.exists()
    assert not Resource.objects.exists()
    assert not User.objects.exists()
    assert verify_chain().ok
    assert timezone.now is real_now and date_joined.get_default() > timezone.now() - timedelta(seconds=5)


def test_demo_serves_after_loading(run, no_server):
    run("demo", "--scale", "0.1", "--port", "8123", "--host", "0.0.0.0")
    assert Resource.objects.exists()
    assert no_server == [
        (
            ("sharehub.asgi:application",),
            {"host": "0.0.0.0", "port": 8123, "workers": 1, "log_level": "warning", "proxy_headers": False},
        )
    ]


def test_demo_rejects_a_bad_scale(run):
    with pytest.raises(CommandError, match="scale"):
        run("demo", "--no-serve", "--scale", "2")


def _without_ids(label: str) -> str:
    """A target label without request numbers and resource codes, which name the year of creation."""
    return re.sub(r"#\d+ |[A-Z0-9]+-\d{4}-\d{4} ", "", label)


def _load_rolled_back(seed: int, scale: float, now: datetime) -> dict:
    """Load the demo as of `now`, note what it made (no primary keys: PostgreSQL's sequences do not
    roll back), then roll it back."""

    class RolledBack(Exception):
        pass

    seen: dict = {}
    with pytest.raises(RolledBack), transaction.atomic():
        generator.load(seed=seed, scale=scale, now=now)
        resources = Resource.objects.order_by("created_at", "code")
        seen["codes"] = list(resources.values_list("code", "title"))
        seen["resources"] = [
            (r.title, r.created_at - now, r.updated_at - now, r.published_at and r.published_at - now, r.status)
            for r in resources
        ]
        seen["events"] = [
            (e.action, e.target_type, _without_ids(e.target_label), e.created_at - now, e.actor_name)
            for e in Event.objects.order_by("seq")
        ]
        seen["grants"] = sorted(
            (g.resource.title, g.valid_from - now, g.valid_until - now, g.revoked_at and g.revoked_at - now)
            for g in Grant.objects.select_related("resource")
        )
        raise RolledBack
    return seen


def test_the_same_seed_gives_the_same_history():
    """Same seed, same moment of loading: the same codes, rows and log, to the microsecond. Another seed:
    another history."""
    now = datetime(2026, 6, 17, 6, 0, tzinfo=UTC)  # a Wednesday, 14:00 in Shanghai
    first = _load_rolled_back(42, 0.1, now)
    assert first == _load_rolled_back(42, 0.1, now)
    assert len(first["events"]) > 200 and first["grants"]
    assert _load_rolled_back(7, 0.1, now)["events"] != first["events"]


def test_the_history_moves_with_the_day_of_loading():
    """Loaded a week later, the same resources happen at the same offsets from the day of loading, except
    periodic reports, which are written after the calendar period they cover ends."""
    today = datetime(2026, 6, 17, 6, 0, tzinfo=UTC).date()
    first = generator.plan(42, today=today)
    later = generator.plan(42, today=today + timedelta(days=7))
    assert [s.title for s in first] == [s.title for s in later]
    axis = WorkingTime(today)
    for before, after in zip(first, later, strict=True):
        timing = (before.created, before.published, before.edits, before.archived)
        if before.covers is None:
            assert timing == (after.created, after.published, after.edits, after.archived), before.title
        elif before.covers >= axis.first_day and before.status != Resource.Status.DRAFT:
            assert axis.day_of(before.created) > before.covers, before.title
