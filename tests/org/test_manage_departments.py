"""The department tree console (/manage/departments/): what an organization admin does through its pages —
see and search the tree, create, edit and move, merge after a preview, archive and restore — and what
everyone else gets (404), bad input (422 naming the field), conflicts (409), the audit events and the
statement count of the tree page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from sharehub.access.models import ApprovalRule, Grant
from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.directory.models import MappingRule
from sharehub.errors import Invalid
from sharehub.events import describe
from sharehub.events.models import Event
from sharehub.feeds.models import Follow
from sharehub.org import services, tree
from sharehub.org.models import Department, Membership, User
from sharehub.policy.engine import creatable_departments
from tests import factories

pytestmark = pytest.mark.django_db

BASE = "/manage/departments/"


@pytest.fixture
def admin_client(people, client_for):
    return client_for(people["admin"])


def _events(action: str) -> list[Event]:
    return list(Event.objects.filter(action=action).order_by("seq"))


def _role(user: User, department: Department) -> str | None:
    return Membership.objects.filter(user=user, department=department).values_list("role", flat=True).first()


# --- who may ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["tax_steward", "hr_head", "auditor"])
def test_everyone_but_admins_gets_404_on_every_route(org_units, people, client_for, who):
    client = client_for(people[who])
    tax, health = org_units["tax"], org_units["health"]
    for url in ("", "new/", f"{tax.pk}/", f"{tax.pk}/merge/?into={health.pk}", f"{tax.pk}/archive/"):
        assert client.get(BASE + url).status_code == 404, url
    for url in (
        "new/",
        f"{tax.pk}/",
        f"{tax.pk}/move/",
        f"{tax.pk}/merge/",
        f"{tax.pk}/archive/",
        f"{tax.pk}/restore/",
    ):
        assert client.post(BASE + url, {"name": "x", "code": "X", "into": health.pk}).status_code == 404, url
    assert Department.objects.get(pk=tax.pk).archived_at is None
    assert not _events("department.merged")


def test_signed_out_people_are_sent_to_sign_in(org_units, client):
    assert client.get(BASE).status_code == 302


# --- the tree ----------------------------------------------------------------------------------------------


def test_tree_shows_counts_status_and_search(org_units, people, admin_client):
    tax, hr, social = org_units["tax"], org_units["hr"], org_units["social"]
    factories.resource(tax, by=people["tax_steward"])
    factories.resource(tax, by=people["tax_steward"], publish=False)  # drafts count for the admin too
    old = factories.department("旧办公室", "JBGS")
    tree.archive_department(people["admin"], old)

    response = admin_client.get(BASE)
    assert response.status_code == 200
    rows = {row.department.code: row for row in response.context["rows"]}
    assert (rows["SWJ"].people, rows["SWJ"].resources, rows["SWJ"].children) == (2, 2, 0)
    assert (rows["RSJ"].children, rows["SBZX"].depth) == (1, 1)
    html = response.content.decode()
    assert 'class="sh-dept-archived"' in html and "旧办公室" in html

    found = admin_client.get(BASE, {"q": "sbzx"}).context["rows"]
    assert [r.department.pk for r in found] == [social.pk]
    assert found[0].ancestors == [hr.name]  # a search shows where each match sits
    archived = admin_client.get(BASE, {"state": "archived"}).context["rows"]
    assert [r.department.code for r in archived] == ["JBGS"]
    active = admin_client.get(BASE, {"state": "active"}).context["rows"]
    assert "JBGS" not in [r.department.code for r in active]


def test_tree_page_statement_count_does_not_grow_with_the_page(org_units, people, admin_client):
    def statements(**query) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(BASE, query).status_code == 200
        return len(captured)

    few, few_found = statements(), statements(q="中心")  # 社会保险中心, with the names above it
    parent = org_units["hr"]
    for n in range(12):
        child = factories.department(f"中心科室{n}", f"KS{n}", parent=parent)
        factories.member(child, "member")
        factories.resource(child)
        parent = child if n % 3 else parent
    assert statements() == few
    assert statements(q="中心") == few_found
    # session, user, memberships (policy), the navigation's 3 counts; count, page, people, resources, sub-departments
    assert few == 11


def test_tree_page_in_chinese(org_units, admin_client):
    with translation.override("zh-hans"):
        html = admin_client.get(BASE, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "部门树" in html and "新建部门" in html


# --- create, edit, move ------------------------------------------------------------------------------------


def test_create_a_department_under_a_parent(org_units, admin_client):
    hr = org_units["hr"]
    response = admin_client.post(
        BASE + "new/", {"name": "就业服务中心", "code": "JYZX", "parent": hr.pk, "description": "就业"}
    )
    created = Department.objects.get(code="JYZX")
    assert response.status_code == 302 and response.url == f"{BASE}{created.pk}/"
    assert created.parent_id == hr.pk and created.path == f"{hr.path}{created.pk}/"
    assert _events("department.created")[-1].target_id == str(created.pk)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "code": "NEW"}, "name"),
        ({"name": "新部门", "code": "1bad code"}, "code"),
        ({"name": "新部门", "code": "swj"}, "code"),  # taken, whatever the case
        ({"name": "税务局", "code": "NEW"}, "name"),
        ({"name": "新部门", "code": "NEW", "parent": "99999"}, "parent"),
        ({"name": "新部门", "code": "NEW", "parent": "²"}, "parent"),
        ({"name": "新部门", "code": "NEW", "description": "a\x00b"}, "description"),
    ],
)
def test_create_refuses_bad_input_naming_the_field(org_units, admin_client, data, field):
    before = Department.objects.count()
    response = admin_client.post(BASE + "new/", data)
    assert response.status_code == 422
    assert field in response.context["errors"]
    assert 'class="invalid-feedback"' in response.content.decode()
    assert Department.objects.count() == before


def test_edit_and_move_a_department(org_units, admin_client):
    hr, social, tax = org_units["hr"], org_units["social"], org_units["tax"]
    grandchild = factories.department("社保稽核科", "SBJH", parent=social)
    response = admin_client.post(f"{BASE}{social.pk}/", {"name": "社会保险事业中心", "code": "SBZX", "description": ""})
    assert response.status_code == 302
    assert Department.objects.get(pk=social.pk).name == "社会保险事业中心"
    assert _events("department.updated")[-1].details == {"name": "社会保险事业中心"}

    response = admin_client.post(f"{BASE}{social.pk}/move/", {"parent": tax.pk})
    assert response.status_code == 302
    social.refresh_from_db()
    grandchild.refresh_from_db()
    assert social.parent_id == tax.pk and social.path == f"{tax.path}{social.pk}/"
    assert grandchild.path == f"{social.path}{grandchild.pk}/"  # the subtree follows
    assert _events("department.moved")[-1].details == {"parent": tax.pk}

    # under its own sub-department: refused, naming the field
    response = admin_client.post(f"{BASE}{social.pk}/move/", {"parent": grandchild.pk})
    assert response.status_code == 422 and "parent" in response.context["move_errors"]
    # a name another department has
    response = admin_client.post(f"{BASE}{social.pk}/", {"name": hr.name, "code": "SBZX"})
    assert response.status_code == 422 and "name" in response.context["errors"]


# --- merge -------------------------------------------------------------------------------------------------


@pytest.fixture
def merging(org_units, people):
    """税务局 (X) to merge into 卫健委 (Y), holding something of every kind; two people in both."""
    tax, health = org_units["tax"], org_units["health"]
    admin = people["admin"]
    both_steward = factories.person("both_steward", departments={tax: "steward", health: "member"})
    both_head = factories.person("both_head", departments={tax: "member", health: "head"})
    sub = factories.department("稽查局", "JCJ", parent=tax)
    deep = factories.department("稽查一科", "JC1", parent=sub)
    document = factories.resource(tax, by=people["tax_steward"], title="发票指南")
    dataset = factories.resource(tax, by=people["tax_steward"], kind="dataset", title="纳税人名录")
    scoped = factories.resource(org_units["hr"], scope=[tax], title="仅税务局可见")
    account = services.create_service_account(None, department=tax, username="tax-erp", display_name="税务ERP")
    now = timezone.now()
    Grant.objects.create(
        resource=scoped, grantee_department=tax, purpose="核验", valid_from=now, valid_until=now + timedelta(days=9)
    )
    ApprovalRule.objects.create(department=tax, head_for_outsiders=True)
    Follow.objects.create(department=tax, kind="tag", target_id=1, created_at=now)
    Follow.objects.create(person=people["health_member"], kind="department", target_id=tax.pk, created_at=now)
    MappingRule.objects.create(value="cn=tax", department=tax)
    return {
        "x": tax,
        "y": health,
        "admin": admin,
        "both_steward": both_steward,
        "both_head": both_head,
        "sub": sub,
        "deep": deep,
        "document": document,
        "dataset": dataset,
        "scoped": scoped,
        "account": account,
    }


def test_merge_preview_counts_what_moves_and_the_role_conflicts(merging, admin_client):
    x, y = merging["x"], merging["y"]
    response = admin_client.get(f"{BASE}{x.pk}/merge/", {"into": y.pk})
    assert response.status_code == 200
    preview = response.context["preview"]
    counts = preview.counts
    assert counts["members"] == 4  # tax_steward, tax_member and the two in both
    assert counts["sub_departments"] == 1
    assert counts["resources"] == 2 and counts["datasets"] == 1
    assert counts["service_accounts"] == 1
    assert counts["scoped_resources"] == 1
    assert counts["grants"] == 1
    assert counts["approval_rules"] == 1
    assert counts["subscriptions"] == 1 and counts["followers"] == 1
    assert counts["directory_rules"] == 1
    kept = {c.person.username: c.kept_role for c in preview.conflicts}
    assert kept == {"both_steward": "steward", "both_head": "head"}
    html = response.content.decode()
    assert merging["document"].code in html and "稽查局" in html
    assert f'name="expected" value="{preview.fingerprint}"' in html
    assert not _events("department.merged")  # a preview changes nothing


def test_merge_moves_everything_in_one_event(merging, admin_client):
    x, y = merging["x"], merging["y"]
    preview = admin_client.get(f"{BASE}{x.pk}/merge/", {"into": y.pk}).context["preview"]
    response = admin_client.post(f"{BASE}{x.pk}/merge/", {"into": y.pk, "expected": preview.fingerprint})
    assert response.status_code == 302 and response.url == f"{BASE}{y.pk}/"

    x.refresh_from_db()
    assert x.merged_into_id == y.pk and x.archived_at is not None
    assert not Membership.objects.filter(department=x).exists()
    assert _role(merging["both_steward"], y) == "steward"  # the higher of member (Y) and steward (X)
    assert _role(merging["both_head"], y) == "head"  # head in Y stays head
    assert _role(User.objects.get(username="tax_steward"), y) == "steward"
    sub, deep = Department.objects.get(pk=merging["sub"].pk), Department.objects.get(pk=merging["deep"].pk)
    assert sub.parent_id == y.pk and sub.path == f"{y.path}{sub.pk}/" and deep.path == f"{sub.path}{deep.pk}/"
    document = Resource.objects.get(pk=merging["document"].pk)
    assert document.owner_department_id == y.pk and document.code.startswith("SWJ-")  # codes keep their prefix
    assert list(merging["scoped"].scope_departments.values_list("pk", flat=True)) == [y.pk]
    assert User.objects.get(pk=merging["account"].pk).service_owner_id == y.pk
    assert Grant.objects.get().grantee_department_id == y.pk
    assert ApprovalRule.objects.get().department_id == y.pk
    assert Follow.objects.get(kind="tag").department_id == y.pk
    assert Follow.objects.get(kind="department").target_id == y.pk
    assert MappingRule.objects.get().department_id == y.pk

    (event,) = _events("department.merged")
    assert event.target_id == str(y.pk)
    assert event.details["merged"] == x.pk and event.details["members"] == 4 and event.details["resources"] == 2
    assert {d.pk for d in event.departments.all()} == {x.pk, y.pk}
    with translation.override("en"):
        (readable,) = describe.describe(merging["admin"], [event])
        details = {str(label): piece.text for label, piece in readable.details}
    assert readable.sentence.text == f"admin merged the department {x.name} into {y.name}."
    assert details["Members"] == "4" and details["Resources it owns"] == "2"
    with translation.override("zh-hans"):
        (readable,) = describe.describe(merging["admin"], [event])
    assert readable.name == "部门合并" and f"将部门 {x.name} 合并到 {y.name}" in readable.sentence.text
    # the merged department is out of every picker, and says where it went
    assert x.pk not in set(creatable_departments(merging["admin"]).values_list("pk", flat=True))
    html = admin_client.get(BASE).content.decode()
    assert "merged" in html and f"into {y.name}" in html


def test_a_failure_in_the_middle_of_a_merge_leaves_nothing_changed(merging, monkeypatch):
    x, y = merging["x"], merging["y"]

    def broken(source, target):
        raise RuntimeError("disk full")

    monkeypatch.setitem(tree._holdings, "broken", tree.Holding("broken", "broken", lambda ids: {}, None, broken))
    assert [h.name for h in tree.holdings()].index("broken") > [h.name for h in tree.holdings()].index("members")
    with pytest.raises(RuntimeError):
        tree.merge_departments(merging["admin"], x, y)
    x.refresh_from_db()
    assert x.merged_into_id is None and x.archived_at is None
    assert Membership.objects.filter(department=x).count() == 5  # the members' move was undone (4 people, 1 account)
    assert Department.objects.get(pk=merging["sub"].pk).parent_id == x.pk
    assert _role(merging["both_steward"], y) == "member"
    assert not _events("department.merged")


@pytest.mark.parametrize("where", ["itself", "subtree", "archived", "missing"])
def test_merge_refuses_impossible_targets_naming_the_field(merging, admin_client, people, where):
    x = merging["x"]
    if where == "archived":
        target = factories.department("空部门", "KBM")
        tree.archive_department(people["admin"], target)
        into = target.pk
    else:
        into = {"itself": x.pk, "subtree": merging["deep"].pk, "missing": 999999}[where]
    for response in (
        admin_client.get(f"{BASE}{x.pk}/merge/", {"into": into}),
        admin_client.post(f"{BASE}{x.pk}/merge/", {"into": into}),
    ):
        assert response.status_code == 422
        assert "into" in response.context["errors"]
    assert Department.objects.get(pk=x.pk).merged_into_id is None


def test_two_admins_merging_the_same_department(merging, admin_client, client_for):
    x, y, hr = merging["x"], merging["y"], factories.department("第三部门", "DSBM")
    other = client_for(factories.person("admin2", admin=True))
    first = admin_client.get(f"{BASE}{x.pk}/merge/", {"into": y.pk}).context["preview"].fingerprint
    second = other.get(f"{BASE}{x.pk}/merge/", {"into": hr.pk}).context["preview"].fingerprint
    assert admin_client.post(f"{BASE}{x.pk}/merge/", {"into": y.pk, "expected": first}).status_code == 302
    late = other.post(f"{BASE}{x.pk}/merge/", {"into": hr.pk, "expected": second})
    assert late.status_code == 409
    assert "already merged into" in late.content.decode()
    assert len(_events("department.merged")) == 1
    assert Department.objects.get(pk=x.pk).merged_into_id == y.pk


def test_merge_refused_when_what_moves_changed_since_the_preview(merging, admin_client):
    x, y = merging["x"], merging["y"]
    expected = admin_client.get(f"{BASE}{x.pk}/merge/", {"into": y.pk}).context["preview"].fingerprint
    factories.member(x, "member")  # someone joins meanwhile
    response = admin_client.post(f"{BASE}{x.pk}/merge/", {"into": y.pk, "expected": expected})
    assert response.status_code == 409
    assert "changed since the preview" in response.content.decode()
    assert response.context["preview"].counts["members"] == 5  # the fresh preview, to confirm again
    assert Department.objects.get(pk=x.pk).merged_into_id is None


# --- archive and restore -----------------------------------------------------------------------------------


def test_archive_is_blocked_while_it_holds_something_and_offers_merge(org_units, admin_client):
    tax = org_units["tax"]
    response = admin_client.get(f"{BASE}{tax.pk}/archive/")
    assert response.status_code == 200
    assert [i.holding.name for i in response.context["preview"].blockers] == ["members"]
    assert f"{BASE}{tax.pk}/merge/" in response.content.decode()
    refused = admin_client.post(f"{BASE}{tax.pk}/archive/")
    assert refused.status_code == 409 and "still holds" in refused.content.decode()
    assert Department.objects.get(pk=tax.pk).archived_at is None
    # a parent with a sub-department in use is blocked too
    hr = org_units["hr"]
    Membership.objects.filter(department=hr).delete()
    blockers = admin_client.get(f"{BASE}{hr.pk}/archive/").context["preview"].blockers
    assert [i.holding.name for i in blockers] == ["sub_departments"]


def test_archive_and_restore_an_empty_department(org_units, people, admin_client):
    empty = factories.department("临时专班", "LSZB", parent=org_units["hr"])
    assert admin_client.get(f"{BASE}{empty.pk}/archive/").context["preview"].allowed
    assert admin_client.post(f"{BASE}{empty.pk}/archive/").status_code == 302
    empty.refresh_from_db()
    assert empty.archived_at is not None
    assert _events("department.archived")[-1].target_id == str(empty.pk)

    # archived: out of the pickers, takes no members, resources, sub-departments or moves under it
    admin = people["admin"]
    assert empty.pk not in set(creatable_departments(admin).values_list("pk", flat=True))
    new_page = admin_client.get(BASE + "new/").content.decode()
    assert f'value="{empty.pk}"' not in new_page
    with pytest.raises(Invalid) as error:
        services.set_membership(admin, people["tax_member"], empty)
    assert "department" in error.value.fields
    with pytest.raises(Invalid) as error:
        catalog.create_resource(admin, owner_department=empty, kind="document", title="新文件")
    assert "owner_department" in error.value.fields
    response = admin_client.post(BASE + "new/", {"name": "下属", "code": "XS", "parent": empty.pk})
    assert response.status_code == 422 and "parent" in response.context["errors"]
    response = admin_client.post(f"{BASE}{org_units['tax'].pk}/move/", {"parent": empty.pk})
    assert response.status_code == 422 and "parent" in response.context["move_errors"]
    # still on the tree and its own page
    assert admin_client.get(f"{BASE}{empty.pk}/").status_code == 200
    assert admin_client.get(f"/departments/{empty.pk}/").status_code == 200

    assert admin_client.post(f"{BASE}{empty.pk}/restore/").status_code == 302
    empty.refresh_from_db()
    assert empty.archived_at is None
    assert _events("department.restored")[-1].target_id == str(empty.pk)
    services.set_membership(admin, people["tax_member"], empty)  # in use again


def test_a_merged_department_cannot_be_restored(merging, admin_client):
    x, y = merging["x"], merging["y"]
    tree.merge_departments(merging["admin"], x, y)
    response = admin_client.post(f"{BASE}{x.pk}/restore/")
    assert response.status_code == 409
    assert Department.objects.get(pk=x.pk).archived_at is not None
    page = admin_client.get(f"{BASE}{x.pk}/").content.decode()
    assert "Merged into" in page and y.name in page
