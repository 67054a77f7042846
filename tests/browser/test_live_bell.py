"""The bell, live, through a real `sharehub serve` (the notification stream needs the ASGI server): a
reader of 卫健委 follows a 税务局 notice; while their page stays open, the steward edits it, and the bell's
count rises without a reload; the dropdown lists the edit and leads to the notice."""

from __future__ import annotations

import httpx
import pytest

from tests.browser.steps import check_accessibility
from tests.live.server import running_server

DEMO_PASSWORD = "sharehub-demo"


@pytest.mark.browser
@pytest.mark.live
def test_the_bell_counts_up_without_a_reload(new_page, page_errors, shot):
    with running_server() as server:
        server.run_cli("demo", "--no-serve", "--scale", "0.05")
        tokens = {
            name: server.run_cli("token", "create", name).stdout.strip().splitlines()[-1]
            for name in ("yangfan", "tangyan")
        }
        api = httpx.Client(base_url=server.base_url + "/api/v1", timeout=30)

        def call(method: str, path: str, who: str, **body):
            answer = api.request(method, path, json=body, headers={"Authorization": f"Bearer {tokens[who]}"})
            assert answer.status_code in (200, 201), answer.text
            return answer.json()

        department = call("GET", "/me", "yangfan")["memberships"][0]["department"]["id"]
        notice = call(
            "POST",
            "/resources",
            "yangfan",
            owner_department=department,
            kind="notice",
            title="实时铃铛测试",
            publish=True,
        )
        call("POST", "/follows", "tangyan", kind="resource", target_id=notice["id"])
        call("POST", "/notifications/read", "tangyan")

        for locale, width in (("zh-CN", 390), ("en-US", 1366)):
            page = new_page(locale=locale, width=width)
            page.goto(f"{server.base_url}/accounts/login/")
            check_accessibility(page)
            page.fill("#id_username", "tangyan")
            page.fill("#id_password", DEMO_PASSWORD)
            with page.expect_navigation():
                page.click("form[action='/accounts/login/'] button[type=submit]")
            check_accessibility(page)
            count = page.locator(".sh-bell-count")
            assert "d-none" in (count.get_attribute("class") or "")
            page.wait_for_timeout(1500)  # the stream is open
            call("PATCH", f"/resources/{notice['code']}", "yangfan", summary=f"{locale} 修订")
            page.wait_for_function(
                "() => !document.querySelector('.sh-bell-count').classList.contains('d-none')", timeout=20_000
            )
            assert page.locator(".sh-unread-count").inner_text() == "1"
            if width < 992:
                page.click(".navbar-toggler")
                page.locator("#mainnav.collapse.show").wait_for()  # folded out fully: no longer animating
            page.click(".sh-bell")
            item = page.locator("#sh-bell-items .sh-bell-item").first
            item.wait_for()
            assert "实时铃铛测试" in item.inner_text()
            shot(page, f"{locale}-{width}-bell")
            with page.expect_navigation():
                item.click()
            check_accessibility(page)
            assert f"/resources/{notice['code']}/" in page.url
            page.context.close()
    assert page_errors == [], page_errors
