"""Following in a browser: a member of 卫健委 follows a 税务局 notice with the button on its page (swapped
in place by htmx), finds it on the Following page, hears of the steward's edit in the bell and the
notification list, then unfollows there; in both languages, at phone and desktop width."""

from __future__ import annotations

import pytest

from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.org import services as org
from sharehub.org.models import Membership
from tests.browser.steps import check_accessibility, sign_in

PASSWORD = "follow-journey-1618"


@pytest.fixture
def world(transactional_db):
    tax = org.create_department(None, name="税务局", code="SWJ")
    health = org.create_department(None, name="卫生健康委员会", code="WJW")
    steward = org.create_person(
        None, username="tax_steward", password=PASSWORD, display_name="王税", check_password=False
    )
    org.set_membership(None, steward, tax, Membership.Role.STEWARD)
    reader = org.create_person(
        None, username="health_member", password=PASSWORD, display_name="李卫", check_password=False
    )
    org.set_membership(None, reader, health, Membership.Role.MEMBER)
    notice = catalog.create_resource(
        steward, owner_department=tax, kind=Resource.Kind.NOTICE, publish=True, title="电子发票开具指南"
    )
    token = org.issue_token(None, steward, "browser test")[1]
    return {"code": notice.code, "token": token}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_follow_hear_and_unfollow(world, live_server, new_page, page_errors, shot):
    base = live_server.url
    words = {
        "zh-CN": {"follow": "关注", "following": "已关注", "told": "更新了“"},
        "en-US": {"follow": "Follow", "following": "Following", "told": "updated "},
    }
    edits = 0
    for locale, word in words.items():
        for width in (390, 1366):
            page = new_page(locale=locale, width=width)
            sign_in(page, base, "health_member", PASSWORD)
            page.goto(f"{base}/resources/{world['code']}/")
            button = page.locator(".sh-follow-button")
            assert word["follow"] in button.inner_text()
            button.click()
            page.locator(".sh-unfollow").wait_for()
            assert word["following"] in page.locator(".sh-unfollow").inner_text()
            check_accessibility(page)
            shot(page, f"{locale}-{width}-followed")

            edits += 1
            answer = page.request.patch(
                f"{base}/api/v1/resources/{world['code']}",
                data={"summary": f"第 {edits} 次修订"},
                headers={"Authorization": f"Bearer {world['token']}"},
            )
            assert answer.status == 200, answer.text()
            page.goto(f"{base}/following/")
            check_accessibility(page)
            assert "电子发票开具指南" in page.locator(".sh-following").inner_text()
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{locale} at {width} px scrolls sideways by {overflow} px"
            shot(page, f"{locale}-{width}-following")
            page.goto(f"{base}/notifications/?unread=1")
            check_accessibility(page)
            assert word["told"] in page.locator(".sh-notifications").inner_text()
            assert page.locator(".sh-unread-count").count() == 1

            page.goto(f"{base}/following/")
            check_accessibility(page)
            with page.expect_navigation():
                page.locator(".sh-following .sh-unfollow").first.click()
            check_accessibility(page)
            assert page.locator(".sh-following").count() == 0
            page.context.close()
    assert page_errors == [], page_errors
