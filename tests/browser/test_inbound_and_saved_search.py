"""Inbound webhooks and followed saved searches in a browser.

A steward of 大数据管理局 connects the department's service account on /webhooks/inbound/ (name, account,
project, a title template), reads the address shown that once, and after another system (here httpx) has
posted to it, finds both posts logged on the hook's page: the one that wrote a progress entry as HTTP 201
with a link to the entry, the one missing a field as HTTP 422.

A member of 卫生健康委员会 saves a search and turns on its bell (htmx swaps the toggle in place); when a
steward of 税务局 then publishes a resource that matches it, the member's bell count and notification
list say it matches the saved search, and a resource that already matched before is not announced.

Elements are picked by id, name, URL, data attributes and CSS class; texts the test wrote itself are
looked for verbatim.
"""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from sharehub.catalog import services as catalog
from sharehub.catalog.models import Project, Resource
from sharehub.events import consumers
from sharehub.org import services as org
from sharehub.org.models import Membership
from sharehub.search import segment
from tests.browser.steps import check_accessibility, sign_in

PASSWORD = "inbound-journey-3141"
HOOK_NAME = "禅道项目进度"
SAVED_NAME = "电子发票"
OLD_MATCH = "增值税发票管理办法"
NEW_MATCH = "电子发票开具指南"


@pytest.fixture
def world(transactional_db):
    """Made before the browser starts (see tests/browser/conftest.py), then indexed."""
    data = org.create_department(None, name="大数据管理局", code="DSJ")
    tax = org.create_department(None, name="税务局", code="SWJ")
    health = org.create_department(None, name="卫生健康委员会", code="WJW")
    steward = org.create_person(
        None, username="data_steward", password=PASSWORD, display_name="丁宁", check_password=False
    )
    org.set_membership(None, steward, data, Membership.Role.STEWARD)
    tax_steward = org.create_person(
        None, username="tax_steward", password=PASSWORD, display_name="杨帆", check_password=False
    )
    org.set_membership(None, tax_steward, tax, Membership.Role.STEWARD)
    member = org.create_person(
        None, username="health_member", password=PASSWORD, display_name="冯涛", check_password=False
    )
    org.set_membership(None, member, health, Membership.Role.MEMBER)
    tool = org.create_service_account(None, department=data, username="pm-tool", display_name="禅道同步")
    project = Project.objects.create(department=data, name="一网通办")
    catalog.create_resource(tax_steward, owner_department=tax, kind=Resource.Kind.NOTICE, publish=True, title=OLD_MATCH)
    token = org.issue_token(None, tax_steward, "browser test")[1]
    segment.reset()
    consumers.run_pending()
    return {"tool": tool.pk, "project": project.pk, "tax": tax.pk, "token": token}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_inbound_hook_and_followed_saved_search(world, live_server, new_page, page_errors, shot):
    base = live_server.url

    # 1. The steward connects the service account; the address is shown this once.
    page = new_page(locale="zh-CN", width=1366)
    sign_in(page, base, "data_steward", PASSWORD)
    page.goto(f"{base}/webhooks/inbound/")
    check_accessibility(page)
    page.fill("#id_name", HOOK_NAME)
    page.select_option("#id_account", str(world["tool"]))
    page.select_option("#id_action", "progress")
    page.select_option("#id_project", str(world["project"]))
    page.fill("#id_map_title", "#{story.id} {story.title}")
    page.fill("#id_map_summary", "{story.status}")
    with page.expect_navigation():
        page.locator("form:has(#id_map_title) button[type=submit]").click()
    address = page.locator(".sh-inbound-address").inner_text().strip()
    assert address.startswith(f"{base}/hooks/in/shin_"), address
    check_accessibility(page)
    shot(page, "hook-created")

    # 2. Another system posts its JSON there: once in full, once without the field the title needs.
    written = httpx.post(
        address,
        json={"story": {"id": 7, "title": "需求评审完成", "status": "done"}},
        headers={"X-Request-Id": "zentao-7-1"},
        timeout=30,
    )
    assert written.status_code == 201, written.text
    entry = written.json()["resource"]
    refused = httpx.post(address, json={"story": {"id": 8}}, timeout=30)
    assert refused.status_code == 422, refused.text
    assert "story.title" in refused.json()["error"]["fields"]["title"]

    # 3. The hook's page, opened from the list, logs both posts; the address is not shown again.
    page.goto(f"{base}/webhooks/inbound/")
    check_accessibility(page)
    with page.expect_navigation():
        page.locator(".sh-inbound-hooks a", has_text=HOOK_NAME).click()
    check_accessibility(page)
    assert page.locator(".sh-inbound-address").count() == 0
    assert address.rsplit("/", 2)[-2] not in page.content()
    posts = page.locator(".sh-inbound-deliveries > li")
    expect(posts).to_have_count(2)
    logged = posts.filter(has=page.locator(f"a[href='/resources/{entry}/']"))
    expect(logged.locator(".badge")).to_have_text("HTTP 201")
    expect(logged).to_contain_text("zentao-7-1")
    link = logged.locator(f"a[href='/resources/{entry}/']")
    expect(link).to_contain_text("#7 需求评审完成")
    expect(posts.filter(has_text="HTTP 422")).to_have_count(1)
    shot(page, "hook-posts")
    with page.expect_navigation():
        link.click()
    check_accessibility(page)
    assert f"/resources/{entry}/" in page.url
    expect(page.locator("h1")).to_contain_text("需求评审完成")
    page.context.close()

    # 4. The member saves a search and follows it with its bell, swapped in place.
    page = new_page(locale="en-US", width=390)
    sign_in(page, base, "health_member", PASSWORD)
    page.goto(f"{base}/search/?q=发票")
    check_accessibility(page)
    page.fill("#save-name", SAVED_NAME)
    with page.expect_navigation():
        page.click(".sh-save-form button[type=submit]")
    check_accessibility(page)
    saved = page.locator(".sh-saved-item", has_text=SAVED_NAME)
    bell = saved.locator(".sh-follow button[aria-pressed]")
    expect(bell).to_have_attribute("aria-pressed", "false")
    expect(bell.locator("i.bi-bell")).to_have_count(1)
    page.evaluate("window.__sameDocument = true")
    bell.click()
    expect(bell).to_have_attribute("aria-pressed", "true")
    expect(bell.locator("i.bi-bell-fill")).to_have_count(1)
    assert page.evaluate("window.__sameDocument === true"), "the bell reloaded the whole page"
    check_accessibility(page)
    expect(page.locator(".sh-bell-count")).to_have_class(re.compile(r"\bd-none\b"))  # nothing unread yet
    shot(page, "search-followed")

    # 5. A steward of 税务局 publishes a matching notice; the log readers run after its commit.
    published = httpx.post(
        f"{base}/api/v1/resources",
        json={"owner_department": world["tax"], "kind": "notice", "title": NEW_MATCH, "publish": True},
        headers={"Authorization": f"Bearer {world['token']}"},
        timeout=30,
    )
    assert published.status_code == 201, published.text

    page.goto(f"{base}/notifications/?unread=1")
    check_accessibility(page)
    expect(page.locator(".sh-unread-count")).to_have_text("1")
    told = page.locator(".sh-notifications")
    expect(told).to_contain_text(f"It matches your saved search “{SAVED_NAME}”.")
    expect(told).to_contain_text(NEW_MATCH)
    expect(told).not_to_contain_text(OLD_MATCH)  # it matched before the bell was turned on: not news
    shot(page, "notified")
    page.context.close()
    assert page_errors == [], page_errors
