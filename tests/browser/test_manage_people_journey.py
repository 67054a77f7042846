"""The people console in a browser: an admin filters the people list, adds two people to a department at once,
then deactivates a department's only steward through the handover wizard, their colleague taking over. In
Chinese at phone width; the pages are then seen in English at desktop width too (screenshots)."""

from __future__ import annotations

import pytest

from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.org import services as org
from sharehub.org.models import Membership
from tests.browser.steps import check_accessibility, sign_in
from tests.factories import PASSWORD

TITLE = "企业欠税名单"


@pytest.fixture
def world(transactional_db):
    """Everything made before the browser starts (see tests/browser/conftest.py)."""
    tax = org.create_department(None, name="税务局", code="SWJ")
    hr = org.create_department(None, name="人力资源和社会保障局", code="RSJ")
    org.create_department(None, name="社会保险中心", code="SBZX", parent=hr)

    def person(username, name, department=None, role=Membership.Role.MEMBER, **roles):
        user = org.create_person(
            None, username=username, password=PASSWORD, display_name=name, check_password=False, **roles
        )
        if department is not None:
            org.set_membership(None, user, department, role)
        return user

    person("zhou_admin", "周敏", is_org_admin=True)
    steward = person("qian_steward", "钱峰", tax, Membership.Role.STEWARD)
    successor = person("sun_member", "孙丽", tax)
    person("new_zhao", "赵新", tax)
    person("new_li", "李新")
    resource = catalog.create_resource(
        steward,
        owner_department=tax,
        kind=Resource.Kind.DOCUMENT,
        publish=True,
        title=TITLE,
        body="正文",
        sharing_type=Resource.SharingType.OPEN,
    )
    org.issue_token(None, steward, "夜间导出")
    membership = Membership.objects.get(user=successor, department=tax).pk
    return {"hr": hr, "steward": steward, "successor": successor, "membership": membership, "code": resource.code}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_filter_bulk_add_and_hand_over_a_steward(world, live_server, new_page, page_errors, shot):
    base = live_server.url
    hr, steward, successor = world["hr"], world["steward"], world["successor"]
    page = new_page(locale="zh-CN", width=390, height=844)
    sign_in(page, base, "zhou_admin", PASSWORD)

    # 1. Filter the list by text: the two newcomers.
    page.goto(f"{base}/manage/people/")
    check_accessibility(page)
    shot(page, "zh-390-people")
    page.fill("#id_q", "new_")
    with page.expect_navigation():
        page.click(".sh-people-filters button[type=submit]")
    rows = page.locator("table.sh-people tbody tr")
    assert rows.count() == 2, page.locator("table.sh-people").inner_text()
    assert "赵新" in rows.nth(1).inner_text() or "赵新" in rows.nth(0).inner_text()
    check_accessibility(page)

    # 2. Tick both (select all on the page) and add them to 人社局 as members.
    page.check("#check-all-phone")
    page.select_option("#id_action", "add")
    page.select_option("#id_bulk_department", str(hr.pk))
    page.select_option("#id_bulk_role", "member")
    with page.expect_navigation():
        page.click("#bulk-form .sh-bulk button[type=submit]")
    assert "?q=new_" in page.url
    assert page.locator(".alert-success").count() >= 1
    chips = page.locator("table.sh-people tbody").inner_text()
    assert chips.count("人力资源和社会保障局 · 成员") == 2, chips
    check_accessibility(page)
    shot(page, "zh-390-people-added")

    # 3. The department filter takes sub-departments along; the role filter finds the steward.
    page.goto(f"{base}/manage/people/?role=steward")
    assert page.locator("table.sh-people tbody tr").count() == 1
    check_accessibility(page)

    # 4. Deactivate the only steward of 税务局 through the wizard, 孙丽 taking over.
    page.goto(f"{base}/manage/people/{steward.pk}/")
    check_accessibility(page)
    shot(page, "zh-390-person")
    with page.expect_navigation():
        page.click(f"a[href='/manage/people/{steward.pk}/deactivate/']")
    held = page.locator("main").inner_text()
    assert "税务局" in held and "唯一的资源管理员" in held and TITLE in held and "夜间导出" in held
    check_accessibility(page)
    shot(page, "zh-390-handover-1")
    with page.expect_navigation():
        page.click("a[href='?step=2']")
    page.select_option("#id_successor", str(successor.pk))
    page.fill("#id_reason", "调往其他单位")
    check_accessibility(page)
    shot(page, "zh-390-handover-2")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    plan = page.locator("table.sh-handover-plan").inner_text()
    assert "孙丽" in plan and TITLE in plan
    check_accessibility(page)
    shot(page, "zh-390-handover-3")
    with page.expect_navigation():
        page.click("main form button.btn-danger")
    assert page.url == f"{base}/manage/people/{steward.pk}/"
    assert "已停用" in page.locator(".alert-success").first.inner_text()
    assert page.locator("main .badge.text-bg-secondary").first.inner_text().strip() == "已停用"
    check_accessibility(page)
    shot(page, "zh-390-deactivated")

    # 5. 孙丽 is now 税务局's steward, and the resource's: her own handover would list both.
    page.goto(f"{base}/manage/people/{successor.pk}/")
    assert page.locator(f"#role-{world['membership']}").input_value() == "steward"
    check_accessibility(page)
    page.goto(f"{base}/manage/people/{successor.pk}/deactivate/")
    assert TITLE in page.locator("main").inner_text()
    check_accessibility(page)

    # 6. The same pages in English at desktop width.
    page = new_page(locale="en-US", width=1366)
    sign_in(page, base, "zhou_admin", PASSWORD)
    for name, url in [
        ("en-1366-people", "/manage/people/?status=all"),
        ("en-1366-person", f"/manage/people/{successor.pk}/"),
        ("en-1366-handover-1", f"/manage/people/{successor.pk}/deactivate/"),
        ("en-1366-handover-2", f"/manage/people/{successor.pk}/deactivate/?step=2"),
    ]:
        page.goto(base + url)
        check_accessibility(page)
        shot(page, name)
    assert not page_errors, page_errors
