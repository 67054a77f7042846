"""The foundation journey in a real browser: a steward of 税务局 publishes a conditional resource;
a member of 社会保险中心 finds the catalog entry, cannot read the content, and learns why.

Elements are picked by name, id, URL and CSS class, not by visible text: the interface language
is Simplified Chinese by default and its translation is still moving.
"""

from __future__ import annotations

import re

import pytest

from sharehub.org import services as org
from sharehub.org.models import Membership
from tests.browser.steps import check_accessibility, sign_in, sign_out

PASSWORD = "journey-pass-2718"
TITLE = "纳税人登记信息"
MARKER = "本段为验证内容保密的唯一标记句子甲乙丙。"
BODY = f"# 登记信息说明\n\n{MARKER}\n\n- 统一社会信用代码\n- **登记日期**\n"
CONDITIONS = "仅用于社保参保登记核验，不得对外提供"


@pytest.fixture
def world(transactional_db):
    """The organization, made before the browser starts: database connections opened while
    Playwright's sync API runs belong to its greenlet context, where Django's teardown cannot close
    them (on PostgreSQL the test database then cannot be dropped)."""
    tax = org.create_department(None, name="税务局", code="SWJ")
    social = org.create_department(None, name="社会保险中心", code="SBZX")
    steward = org.create_person(
        None, username="li_steward", password=PASSWORD, display_name="李青", check_password=False
    )
    org.set_membership(None, steward, tax, Membership.Role.STEWARD)
    member = org.create_person(
        None, username="zhao_member", password=PASSWORD, display_name="赵敏", check_password=False
    )
    org.set_membership(None, member, social, Membership.Role.MEMBER)
    return {"tax": tax, "social": social, "steward": steward, "member": member}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_conditional_resource_journey(world, live_server, new_page, page_errors, shot):
    base = live_server.url
    page = new_page()

    # 1. The steward of 税务局 publishes a conditional resource.
    sign_in(page, base, "li_steward", PASSWORD)
    shot(page, "steward-home")
    page.goto(f"{base}/resources/new/")
    assert page.locator("#resource-form").is_visible()
    owner = page.locator("select[name=owner_department]")
    assert owner.input_value() == str(world["tax"].pk)
    page.fill("input[name=title]", TITLE)
    page.fill("textarea[name=body]", BODY)
    conditions = page.locator("textarea[name=conditions]")
    assert not conditions.is_visible(), "the conditions field shows only for conditional sharing"
    page.check("input[name=sharing_type][value=conditional]")
    conditions.wait_for(state="visible")
    conditions.fill(CONDITIONS)
    assert page.locator("input[name=scope][value=all]").is_checked()
    check_accessibility(page)
    shot(page, "steward-form-filled")
    publish = page.locator("#publish-button")
    assert publish.is_enabled()
    with page.expect_navigation():
        publish.click()
    match = re.fullmatch(rf"{re.escape(base)}/resources/([^/]+)/", page.url)
    assert match, f"publishing did not open the new entry: {page.url}"
    code = match.group(1)
    assert page.locator("main h1").first.inner_text().strip() == TITLE
    assert MARKER in page.locator(".sh-body").inner_text(), "the owner reads the rendered body"
    assert page.locator("main .badge.sh-badge-conditional").first.is_visible()
    check_accessibility(page)
    shot(page, "steward-published")

    # 2. The steward signs out through the user menu.
    sign_out(page, base)
    shot(page, "signed-out")

    # 3. A member of 社会保险中心 finds the entry in the catalog and opens it.
    sign_in(page, base, "zhao_member", PASSWORD)
    page.goto(f"{base}/resources/")
    check_accessibility(page)
    assert "<" not in page.title()
    assert page.locator("#mainnav a.nav-link.active[href='/resources/']").count() == 1
    page.fill("#filters input[name=q]", "纳税人")
    page.wait_for_url(re.compile(r"/resources/\?(.*&)?q=%E7%BA%B3%E7%A8%8E%E4%BA%BA"))
    link = page.locator(f"#results a[href='/resources/{code}/']")
    link.wait_for(state="visible")
    assert link.inner_text().strip() == TITLE
    check_accessibility(page)
    shot(page, "member-search")
    with page.expect_navigation():
        link.click()
    assert page.url == f"{base}/resources/{code}/"
    assert page.locator("main h1").first.inner_text().strip() == TITLE
    assert "税务局" in page.locator(".sh-meta").inner_text()
    assert page.locator("main .badge.sh-badge-conditional").first.is_visible()
    assert page.locator(".sh-locked").is_visible(), "the content is shown as locked"
    assert page.locator(".sh-body").count() == 0
    assert MARKER not in page.content(), "the body of a conditional resource leaked to a reader without a grant"
    assert "统一社会信用代码" not in page.content()
    check_accessibility(page)
    shot(page, "member-detail-locked")

    # 4. The explanation page says why, with the conditions and the steward.
    with page.expect_navigation():
        page.click(f".sh-locked a[href='/resources/{code}/explain/']")
    assert page.url == f"{base}/resources/{code}/explain/"
    text = page.locator("main").inner_text()
    assert CONDITIONS in text
    assert "李青" in text
    assert "税务局" in text
    assert page.locator(".sh-decisions .bi-x-circle-fill").count() >= 1, "reading the content is not allowed"
    assert MARKER not in page.content()
    check_accessibility(page)
    shot(page, "member-explain")
    assert page_errors == [], "scripts failed on the way"
