"""The department tree console in a browser: an organization admin finds a department on the tree, creates
a sub-department, merges a department into another after looking at what moves (confirming the browser's
question), and archives the empty new one. In Chinese at phone width and in English at desktop width."""

from __future__ import annotations

import pytest

from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.events.models import Event
from sharehub.org import services as org
from sharehub.org.models import Department, Membership
from tests.browser.steps import check_accessibility, sign_in

PASSWORD = "tree-journey-2718"


def _org(suffix: str) -> None:
    """A small organization for one round of the journey: 人社局 over 社保中心, and 税务局 (to merge) with a
    member in both, a steward and a resource."""
    hr = org.create_department(None, name=f"人力资源和社会保障局{suffix}", code=f"RSJ{suffix}")
    org.create_department(None, name=f"社会保险中心{suffix}", code=f"SBZX{suffix}", parent=hr)
    tax = org.create_department(None, name=f"税务局{suffix}", code=f"SWJ{suffix}")
    steward = org.create_person(None, username=f"steward{suffix}", display_name=f"王税{suffix}", check_password=False)
    org.set_membership(None, steward, tax, Membership.Role.STEWARD)
    org.set_membership(None, steward, hr, Membership.Role.MEMBER)
    catalog.create_resource(steward, owner_department=tax, kind=Resource.Kind.NOTICE, publish=True, title="发票指南")


@pytest.fixture
def world(transactional_db):
    org.create_person(
        None, username="admin", password=PASSWORD, display_name="管理员", is_org_admin=True, check_password=False
    )
    _org("1")
    _org("2")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_creates_merges_and_archives_departments(world, live_server, new_page, page_errors, shot):
    base = live_server.url
    rounds = [
        ("zh-CN", 390, "1", {"tree": "部门树", "new": "新建部门", "create": "创建部门", "preview": "预览",
                             "archive": "归档", "merged": "已合并", "archived": "已归档"}),
        ("en-US", 1366, "2", {"tree": "Department tree", "new": "New department", "create": "Create department",
                              "preview": "Preview", "archive": "Archive", "merged": "merged", "archived": "archived"}),
    ]  # fmt: skip
    for locale, width, n, words in rounds:
        page = new_page(locale=locale, width=width)
        page.on("dialog", lambda dialog: dialog.accept())  # the merge asks "cannot be undone?"
        sign_in(page, base, "admin", PASSWORD)

        # the tree, searched by code
        page.goto(f"{base}/manage/departments/")
        check_accessibility(page)
        assert words["tree"] in page.locator("h1").inner_text()
        shot(page, f"{locale}-{width}-tree")
        page.fill("#id_q", f"SBZX{n}")
        with page.expect_navigation():
            page.click("form[role=search] button[type=submit]")
        check_accessibility(page)
        assert page.locator("table.sh-dept-tree tbody tr").count() == 1

        # a new sub-department of 人社局
        page.goto(f"{base}/manage/departments/")
        check_accessibility(page)
        with page.expect_navigation():
            page.get_by_role("link", name=words["new"]).click()
        check_accessibility(page)
        page.fill("#id_name", f"就业服务中心{n}")
        page.fill("#id_code", f"JYZX{n}")
        page.select_option("#id_parent", value=str(Department.objects.get(code=f"RSJ{n}").pk))
        with page.expect_navigation():
            page.get_by_role("button", name=words["create"]).click()
        check_accessibility(page)
        new = Department.objects.get(code=f"JYZX{n}")
        assert page.url == f"{base}/manage/departments/{new.pk}/"
        assert new.parent.code == f"RSJ{n}"
        shot(page, f"{locale}-{width}-created")

        # merge 税务局 into 人社局: choose, preview, confirm
        tax = Department.objects.get(code=f"SWJ{n}")
        page.goto(f"{base}/manage/departments/{tax.pk}/merge/")
        check_accessibility(page)
        page.select_option("#id_into", value=str(new.parent_id))
        with page.expect_navigation():
            page.get_by_role("button", name=words["preview"]).click()
        check_accessibility(page)
        assert page.locator(".sh-merge-preview").count() == 1
        assert f"SWJ{n}-" in page.locator(".sh-merge-preview").inner_text()  # the resource, by its code
        shot(page, f"{locale}-{width}-merge-preview")
        with page.expect_navigation():
            page.locator("form[method=post] button.btn-danger").click()
        check_accessibility(page)
        assert page.url == f"{base}/manage/departments/{new.parent_id}/"
        tax.refresh_from_db()
        assert tax.merged_into_id == new.parent_id
        shot(page, f"{locale}-{width}-merged")

        # archive the new, empty department
        page.goto(f"{base}/manage/departments/{new.pk}/archive/")
        check_accessibility(page)
        shot(page, f"{locale}-{width}-archive")
        with page.expect_navigation():
            page.get_by_role("button", name=words["archive"], exact=True).click()
        check_accessibility(page)
        new.refresh_from_db()
        assert new.archived_at is not None

        page.goto(f"{base}/manage/departments/")
        check_accessibility(page)
        tree_text = page.locator("table.sh-dept-tree").inner_text()
        assert words["merged"] in tree_text and words["archived"] in tree_text
        shot(page, f"{locale}-{width}-tree-after")
    assert Event.objects.filter(action="department.merged").count() == 2
    assert not page_errors, page_errors
