"""The conditional-sharing journey of issue 3 in a real browser: a member of 社会保险中心 requests
access to a conditional resource of 税务局; the steward approves a shorter period than asked; the
member reads the content and sees the grant and its expiry; the steward revokes the grant with a
reason; the content is closed to the member again and a notification says so.

Elements are picked by name, id, URL, data attributes and CSS class, not by visible text: the
interface language is Simplified Chinese by default and its translation is still moving. Texts the
test itself wrote (the marker, the purpose, the reason) are looked for verbatim.
"""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.org import services as org
from sharehub.org.models import Membership
from tests.browser.steps import check_accessibility, sign_in, sign_out

PASSWORD = "journey-pass-3141"
TITLE = "企业欠税名单明细"
MARKER = "本段为验证授权生效的唯一标记句子丁戊己。"
BODY = f"# 欠税名单说明\n\n{MARKER}\n\n- 纳税人识别号\n- **欠税金额**\n"
CONDITIONS = "仅用于社保费征缴核对，不得对外提供"
TERMS = "使用方须专人保管，不得复制给第三方；授权期满后删除本地副本。"
PURPOSE = "核对2024年度社保费欠缴企业名单，用于催缴通知。"
REVOKE_REASON = "核对工作已提前完成，收回授权。"
MAX_DAYS = 90
ASKED_DAYS = 60
GRANTED_DAYS = 30


@pytest.fixture
def world(transactional_db):
    """Everything made before the browser starts: a database connection opened while Playwright's
    sync API runs belongs to its greenlet context, out of reach of Django's teardown."""
    tax = org.create_department(None, name="税务局", code="SWJ")
    social = org.create_department(None, name="社会保险中心", code="SBZX")
    steward = org.create_person(
        None, username="qian_steward", password=PASSWORD, display_name="钱峰", check_password=False
    )
    org.set_membership(None, steward, tax, Membership.Role.STEWARD)
    member = org.create_person(
        None, username="sun_member", password=PASSWORD, display_name="孙丽", check_password=False
    )
    org.set_membership(None, member, social, Membership.Role.MEMBER)
    resource = catalog.create_resource(
        steward,
        owner_department=tax,
        kind=Resource.Kind.DOCUMENT,
        publish=True,
        title=TITLE,
        body=BODY,
        sharing_type=Resource.SharingType.CONDITIONAL,
        conditions=CONDITIONS,
        terms_of_use=TERMS,
        max_grant_days=MAX_DAYS,
    )
    return {"tax": tax, "social": social, "steward": steward, "member": member, "code": resource.code}


def _expected_dates(days: int) -> set[str]:
    """The Y-m-d a grant of `days` days from now ends on, in the site's time zone (two dates when
    the test runs around midnight)."""
    zone = ZoneInfo(settings.TIME_ZONE)
    now = timezone.now()
    return {
        (moment + timedelta(days=days)).astimezone(zone).strftime("%Y-%m-%d")
        for moment in (now - timedelta(minutes=10), now + timedelta(minutes=10))
    }


def _assert_locked(page, where: str) -> None:
    assert page.locator(".sh-locked").is_visible(), f"{where}: the content is not shown as locked"
    assert page.locator(".sh-body").count() == 0, f"{where}: a body is rendered"
    assert MARKER not in page.content(), f"{where}: the body of the conditional resource leaked"
    assert "欠税金额" not in page.content(), f"{where}: the body of the conditional resource leaked"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_access_request_grant_revoke_journey(world, live_server, new_page, page_errors, shot):
    base = live_server.url
    code = world["code"]
    resource_url = f"{base}/resources/{code}/"
    page = new_page()

    # 1. The member opens the resource: the content is closed; they request access.
    sign_in(page, base, "sun_member", PASSWORD)
    page.goto(resource_url)
    assert page.locator("main h1").first.inner_text().strip() == TITLE
    assert page.locator("main .badge.sh-badge-conditional").first.is_visible()
    _assert_locked(page, "member before the request")
    request_link = page.locator(f".sh-locked a.sh-request-access[href='/resources/{code}/request/']")
    assert request_link.is_visible(), "no request-access link on a closed conditional resource"
    check_accessibility(page)
    shot(page, "member-resource-locked")
    with page.expect_navigation():
        request_link.click()
    assert page.url == f"{base}/resources/{code}/request/"
    assert TERMS in page.locator(".sh-terms").inner_text(), "the terms of use are not shown"
    period = page.locator("#request-form input[name=period_days]")
    assert period.get_attribute("max") == str(MAX_DAYS), "the longest period is not the resource's"
    assert page.locator("input[name=for_whom][value=self]").is_checked()
    page.fill("#request-form textarea[name=purpose]", PURPOSE)
    period.fill(str(ASKED_DAYS))
    page.check("#request-form input[name=accept_terms]")
    check_accessibility(page)
    shot(page, "member-request-filled")
    with page.expect_navigation():
        page.click("#request-form button[type=submit]")
    match = re.fullmatch(rf"{re.escape(base)}/requests/(\d+)/", page.url)
    assert match, f"sending the request did not open it: {page.url}"
    rid = match.group(1)
    assert page.locator(".alert-success").count() >= 1, "no confirmation after sending"
    assert page.locator(".sh-request-status").first.get_attribute("data-status") == "pending"
    assert PURPOSE in page.locator("main").inner_text()
    assert page.locator(".sh-waiting").is_visible(), "the requester does not see what happens next"
    assert page.locator("#decide").count() == 0, "the requester is offered the decision"
    check_accessibility(page)
    shot(page, "member-request-sent")

    # 2. The steward opens the inbox and the request and approves 30 of the 60 days asked.
    sign_out(page, base)
    sign_in(page, base, "qian_steward", PASSWORD)
    assert page.locator("#mainnav a[href='/requests/inbox/'] .sh-inbox-count").inner_text().strip() == "1"
    with page.expect_navigation():
        page.click("#mainnav a[href='/requests/inbox/']")
    assert page.url == f"{base}/requests/inbox/"
    row_link = page.locator(f".sh-inbox a.fw-semibold[href='/requests/{rid}/']")
    assert row_link.inner_text().strip() == TITLE
    check_accessibility(page)
    shot(page, "steward-inbox")
    with page.expect_navigation():
        row_link.click()
    assert page.url == f"{base}/requests/{rid}/"
    assert page.locator("#mainnav a.nav-link.active[href='/requests/inbox/']").count() == 1
    approve_period = page.locator("#approve-form input[name=period_days]")
    assert approve_period.input_value() == str(ASKED_DAYS), "the approval does not start from the period asked"
    accepted = page.locator("main dl.sh-meta details").text_content() or ""
    assert TERMS in accepted, "the accepted terms are not recorded on the request"
    check_accessibility(page)
    shot(page, "steward-request")
    approve_period.fill(str(GRANTED_DAYS))
    page.fill("#approve-form textarea[name=note]", "先批准30天，到期后可续期。")
    with page.expect_navigation():
        page.click("#approve-form button[type=submit]")
    assert page.url == f"{base}/requests/{rid}/"
    assert page.locator(".alert-success").count() >= 1, "no confirmation after approving"
    assert page.locator(".sh-request-status").first.get_attribute("data-status") == "approved"
    grant_card = page.locator(".sh-grant")
    assert grant_card.is_visible(), "the approved request shows no grant"
    grant_text = grant_card.inner_text()
    assert any(day in grant_text for day in _expected_dates(GRANTED_DAYS)), f"not {GRANTED_DAYS} days: {grant_text}"
    assert not any(day in grant_text for day in _expected_dates(ASKED_DAYS)), "the grant has the period asked"
    assert page.locator("#decide").count() == 0, "a decided request still offers the decision"
    check_accessibility(page)
    shot(page, "steward-approved")

    # 3. The member reads the content; my requests and my grants show the grant and its expiry.
    sign_out(page, base)
    sign_in(page, base, "sun_member", PASSWORD)
    page.goto(resource_url)
    assert page.locator(".sh-locked").count() == 0, "the content is still locked after the approval"
    assert MARKER in page.locator(".sh-body").inner_text(), "the granted reader does not see the body"
    check_accessibility(page)
    shot(page, "member-reads")
    with page.expect_navigation():
        page.click("#mainnav a[href='/requests/']")
    assert page.url == f"{base}/requests/"
    row = page.locator(f".sh-requests tr:has(a[href='/requests/{rid}/'])")
    assert row.locator(".sh-request-status").get_attribute("data-status") == "approved"
    check_accessibility(page)
    shot(page, "member-my-requests")
    with page.expect_navigation():
        page.click("main .nav-tabs a[href='/grants/']")
    assert page.url == f"{base}/grants/"
    grant_row = page.locator(f".sh-my-grants tr:has(a[href='/resources/{code}/'])")
    assert grant_row.count() == 1
    assert grant_row.get_attribute("data-state") == "active"
    row_text = grant_row.inner_text()
    assert any(day in row_text for day in _expected_dates(GRANTED_DAYS)), f"expiry not shown: {row_text}"
    check_accessibility(page)
    shot(page, "member-my-grants")
    page.goto(f"{base}/requests/{rid}/")
    assert page.locator(".sh-grant").is_visible()
    assert page.locator("#mainnav a.nav-link.active[href='/requests/']").count() == 1
    check_accessibility(page)
    shot(page, "member-request-approved")

    # 4. The steward revokes the grant, with a reason, from the resource's grants page.
    sign_out(page, base)
    sign_in(page, base, "qian_steward", PASSWORD)
    page.goto(resource_url)
    check_accessibility(page)
    with page.expect_navigation():
        page.click(f".sh-actions a[href='/resources/{code}/grants/']")
    assert page.url == f"{base}/resources/{code}/grants/"
    grant = page.locator(".sh-grants tbody tr")
    assert grant.count() == 1
    assert grant.get_attribute("data-state") == "active"
    assert grant.locator(f"a[href='/requests/{rid}/']").count() == 1
    grant.locator("input[name=revoke-reason]").fill(REVOKE_REASON)
    check_accessibility(page)
    shot(page, "steward-grants-revoking")
    with page.expect_navigation():
        grant.locator(".sh-revoke button[type=submit]").click()
    assert page.url == f"{base}/resources/{code}/grants/"
    assert page.locator(".alert-success").count() >= 1, "no confirmation after revoking"
    assert grant.get_attribute("data-state") == "revoked"
    assert REVOKE_REASON in grant.inner_text()
    assert grant.locator("input[name=revoke-reason]").count() == 0, "a revoked grant can be revoked again"
    check_accessibility(page)
    shot(page, "steward-revoked")

    # 5. The member finds the content closed again and a notification about the revocation.
    sign_out(page, base)
    sign_in(page, base, "sun_member", PASSWORD)
    page.goto(resource_url)
    _assert_locked(page, "member after the revocation")
    check_accessibility(page)
    shot(page, "member-locked-again")
    bell = page.locator("#mainnav a.sh-bell")
    if not bell.is_visible():  # at phone width the menu is folded
        page.locator(".navbar-toggler").click()
        page.locator("#mainnav.collapse.show").wait_for()  # folded out fully: no longer animating
    assert bell.locator(".sh-unread-count").is_visible(), "the bell shows no unread notification"
    bell.click()  # opens the latest notifications
    page.locator("#sh-bell-items .sh-bell-item").first.wait_for()
    assert REVOKE_REASON in page.locator("#sh-bell-items").inner_text()
    with page.expect_navigation():
        page.locator(".sh-bell-dropdown a[href='/notifications/']").click()
    assert page.url == f"{base}/notifications/"
    items = page.locator(".sh-notifications li")
    revoked = items.filter(has_text=REVOKE_REASON)
    assert revoked.count() == 1, f"no notification about the revocation: {page.locator('main').inner_text()}"
    assert "sh-unread" in (revoked.get_attribute("class") or "")
    assert revoked.locator(f"input[name=next][value='/resources/{code}/']").count() >= 1
    assert items.count() >= 3, "the approval and the grant were not notified too"
    check_accessibility(page)
    shot(page, "member-notifications")
    page.goto(f"{base}/grants/")
    assert page.locator(f".sh-my-grants tr:has(a[href='/resources/{code}/'])").get_attribute("data-state") == "revoked"
    check_accessibility(page)
    shot(page, "member-my-grants-revoked")
    assert page_errors == [], "scripts failed on the way"
