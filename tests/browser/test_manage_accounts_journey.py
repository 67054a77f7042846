"""The console's service accounts in a browser: an organization admin creates a service account for a
department, makes it a token (shown once), a program uses the token against /api/v1/, the admin revokes it and
the program gets 401. In Chinese at phone width and in English at desktop width; the sign-in attempts and
settings pages are looked at on the way."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from axes.models import AccessAttempt

from sharehub.org import services as org
from tests import factories
from tests.browser.steps import check_accessibility, sign_in


@pytest.fixture
def world(transactional_db, live_server):
    tax = org.create_department(None, name="税务局", code="SWJ")
    org.create_department(None, name="卫生健康委员会", code="WJW")
    factories.person("admin", admin=True)
    factories.person("tax_member", departments={tax: "member"})
    AccessAttempt.objects.create(  # someone kept mistyping tax_member's password: paused now
        username="tax_member",
        ip_address="10.0.0.7",
        user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0",
        http_accept="*/*",
        path_info="/accounts/login/",
        get_data="",
        post_data="",
        failures_since_start=5,
    )
    return {"base": live_server.url}


def _api(base: str, secret: str) -> tuple[int, dict]:
    """GET /api/v1/resources with the token, as curl would."""
    request = urllib.request.Request(f"{base}/api/v1/resources", headers={"Authorization": f"Bearer {secret}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _open(page, url: str) -> None:
    page.goto(url)
    check_accessibility(page)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_service_account_token_made_used_and_revoked(world, new_page, page_errors, shot):
    base = world["base"]
    for locale, width, username, words in [
        ("zh-CN", 390, "erp-sync", {"new": "新建服务账号", "make": "创建令牌", "revoke": "撤销"}),
        ("en-US", 1366, "crm-sync", {"new": "New service account", "make": "Make a token", "revoke": "Revoke"}),
    ]:
        page = new_page(locale=locale, width=width)
        page.on("dialog", lambda dialog: dialog.accept())  # the confirmations of data-confirm forms
        sign_in(page, base, "admin", factories.PASSWORD)
        tag = f"{locale}-{width}"

        _open(page, f"{base}/manage/")
        shot(page, f"{tag}-console")
        _open(page, f"{base}/manage/service-accounts/")
        page.get_by_text(words["new"]).click()
        page.fill("#id_username", username)
        page.fill("#id_display_name", f"{username} 接口")
        page.select_option("#id_department", label="税务局")
        shot(page, f"{tag}-accounts-new")
        with page.expect_navigation():
            page.click("#new-account button[type=submit]")
        check_accessibility(page)
        assert "/manage/service-accounts/" in page.url and username in page.inner_text("main")

        page.locator("#make-token summary").click()
        page.fill("#id_name", "夜间同步")
        page.fill("#id_days", "30")
        with page.expect_navigation():
            page.click("#make-token button[type=submit]")
        check_accessibility(page)
        secret = page.input_value("#token-secret")
        assert secret.startswith("shr_")
        shot(page, f"{tag}-token-shown-once")

        status, body = _api(base, secret)
        assert status == 200, body

        _open(page, page.url)  # seen again: the secret is not on the page any more
        assert page.locator("#token-secret").count() == 0 and secret not in page.content()
        with page.expect_navigation():
            page.locator(".sh-account-tokens").get_by_role("button", name=words["revoke"]).click()
        check_accessibility(page)
        shot(page, f"{tag}-token-revoked")

        status, body = _api(base, secret)
        assert status == 401 and body["error"]["code"], body

        _open(page, f"{base}/manage/service-accounts/")
        assert username in page.inner_text("main")
        shot(page, f"{tag}-accounts")
        _open(page, f"{base}/manage/sign-ins/")
        shot(page, f"{tag}-sign-ins")
        _open(page, f"{base}/manage/settings/")
        shot(page, f"{tag}-settings")
        page.locator(".sh-rules a").first.click()
        page.wait_for_load_state("load")
        check_accessibility(page)
        shot(page, f"{tag}-approval-rule")
        page.context.close()
    assert not page_errors, page_errors
