"""The knowledge-article journey in a real browser: a steward of 税务局 writes an article from the how-to template
in the editor (EasyMDE, from our own static files), saves a draft, pastes an image into the text (uploaded as an
attachment of the article), publishes, sees the page in the space's tree, and a member of 卫健委 finds it by
search and sees the image; no script error or CSP violation on the way, at phone and desktop width."""

from __future__ import annotations

import base64

import pytest

from sharehub.knowledge.models import TourSeen
from sharehub.org import services as org
from sharehub.org.models import Membership
from tests.browser.steps import check_accessibility, sign_in

PASSWORD = "article-journey-2718"
PNG = base64.b64encode(
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
).decode()

PASTE = """([png, name]) => {
  const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
  const file = new File([bytes], name, { type: "image/png" });
  const data = new DataTransfer();
  data.items.add(file);
  const input = document.querySelector(".CodeMirror textarea");
  input.focus();
  input.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
}"""


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
    # The first-run tours are another journey's subject; these two have seen them.
    for person in (steward, reader):
        for role in ("member", "steward", "head", "admin", "auditor"):
            TourSeen.objects.create(user=person, role=role)
    return {"tax": tax.pk}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_write_paste_publish_find(world, live_server, new_page, page_errors, shot):
    base = live_server.url
    page = new_page(locale="zh-CN", width=1366)
    sign_in(page, base, "tax_steward", PASSWORD)

    # 1. From the knowledge home to the form; the how-to template fills the editor.
    page.goto(f"{base}/knowledge/")
    check_accessibility(page)
    with page.expect_navigation():
        page.locator(".sh-new-article").click()
    page.locator(".EasyMDEContainer .CodeMirror").wait_for()
    page.select_option("#id_template", "howto")
    editor_text = page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getValue()")
    assert "## 步骤" in editor_text
    page.fill("#id_title", "电子发票开具操作指南")
    check_accessibility(page)
    shot(page, "new-article")
    with page.expect_navigation():
        page.click("button[name=action][value=draft]")
    assert "/edit/" in page.url

    # 2. Paste an image: uploaded as an attachment, its Markdown inserted.
    page.locator(".EasyMDEContainer .CodeMirror").wait_for()
    page.evaluate("document.querySelector('.CodeMirror').CodeMirror.execCommand('goDocEnd')")
    page.evaluate(PASTE, [PNG, "截图.png"])
    text = ""
    for _ in range(100):  # wait_for_function evaluates a string, which the CSP forbids: poll instead
        text = page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getValue()")
        if "/attachments/" in text:
            break
        page.wait_for_timeout(100)
    assert "![截图](/resources/SWJ-" in text
    # the preview is rendered by the server
    page.click(".editor-toolbar button.preview")
    page.locator(".editor-preview-active img").wait_for()
    page.click(".editor-toolbar button.preview")
    check_accessibility(page)
    shot(page, "pasted")

    # 3. Publish; the article page shows the image, and the space's tree lists the page.
    with page.expect_navigation():
        page.click("#publish-button")
    assert "/knowledge/articles/SWJ-" in page.url
    code = page.url.rstrip("/").rsplit("/", 1)[1]
    image = page.locator(".sh-article-body img")
    image.wait_for()
    assert page.evaluate("document.querySelector('.sh-article-body img').naturalWidth") == 1
    assert "已发布" in page.locator(".sh-status").inner_text()
    check_accessibility(page)
    shot(page, "published")
    page.goto(f"{base}/knowledge/spaces/{world['tax']}/")
    check_accessibility(page)
    assert "电子发票开具操作指南" in page.locator(".sh-tree").inner_text()

    # 4. A member of another department finds it by search, on a phone, and reads it.
    from sharehub.events import consumers
    from sharehub.search import segment

    segment.reset()
    consumers.run_pending()
    phone = new_page(locale="zh-CN", width=390)
    sign_in(phone, base, "health_member", PASSWORD)
    phone.goto(f"{base}/search/?q=电子发票")
    check_accessibility(phone)
    assert code in phone.content()
    phone.goto(f"{base}/knowledge/articles/{code}/")
    check_accessibility(phone)
    assert phone.evaluate("document.querySelector('.sh-article-body img').naturalWidth") == 1
    overflow = phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the article page scrolls sideways by {overflow} px"
    shot(phone, "phone-article")
    assert not page_errors, page_errors
