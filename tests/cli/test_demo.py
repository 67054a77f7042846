from __future__ import annotations

import pytest
from django.core.management.base import CommandError

from sharehub.access.models import Grant
from sharehub.catalog.models import Attachment, Category, Resource, ResourceVersion
from sharehub.demo import data, generator
from sharehub.events.chain import verify_chain
from sharehub.org.models import Department, Membership, User
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
    assert "300 resources" in result.stdout
    assert "sharehub-demo" in result.stdout
    assert "admin" in result.stdout and "auditor" in result.stdout and "大数据管理局" in result.stdout


def test_demo_is_deterministic_for_a_seed(run):
    planned = [spec.title for spec in generator.plan(42)]
    assert planned == [spec.title for spec in generator.plan(42)]
    assert planned != [spec.title for spec in generator.plan(7)]
    assert len(set(planned)) == len(planned)

    run("demo", "--no-serve", "--seed", "7", "--scale", "0.2")
    loaded = sorted(Resource.objects.values_list("title", flat=True))
    assert loaded == sorted(spec.title for spec in generator.plan(7, 0.2))
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


def test_a_failing_demo_leaves_nothing_half_loaded(run, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(generator, "_grant", broken)
    with pytest.raises(RuntimeError):
        run("demo", "--no-serve", "--scale", "0.1")
    assert not Department.objects.exists()
    assert not Resource.objects.exists()
    assert not User.objects.exists()
    assert verify_chain().ok


def test_demo_serves_after_loading(run, no_server):
    run("demo", "--scale", "0.1", "--port", "8123", "--host", "0.0.0.0")
    assert Resource.objects.exists()
    assert no_server == [
        (("sharehub.asgi:application",), {"host": "0.0.0.0", "port": 8123, "workers": 1, "log_level": "warning"})
    ]


def test_demo_rejects_a_bad_scale(run):
    with pytest.raises(CommandError, match="scale"):
        run("demo", "--no-serve", "--scale", "2")
