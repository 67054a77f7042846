"""The search journey of issue 4 in a real browser: a member of 卫生健康委员会 types in the header box,
sees suggestions and moves through them with the keyboard, submits with Enter, narrows the results
with a facet (htmx swaps the results and facets and pushes the address: no full reload), saves the
search and reopens it from the saved list.

Elements are picked by id, name, URL, data attributes and CSS class, not by visible text (the
interface is in Simplified Chinese by default); texts the test wrote itself are looked for verbatim.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.events import consumers
from sharehub.org import services as org
from sharehub.org.models import Membership
from sharehub.search import segment
from tests.browser.steps import check_accessibility, sign_in

PASSWORD = "journey-pass-2718"
SAVED_NAME = "社保数据集"
DATASET_TITLE = "社保参保人数月报（各区县汇总，含灵活就业人员和城乡居民参保情况的长标题）"
HIDDEN_TITLE = "社保稽查线索名单"


@pytest.fixture
def world(transactional_db):
    """Made before the browser starts (see tests/browser/conftest.py), then indexed."""
    tax = org.create_department(None, name="税务局", code="SWJ")
    social = org.create_department(None, name="社会保险中心", code="SBZX")
    health = org.create_department(None, name="卫生健康委员会", code="WJW")
    steward = org.create_person(None, username="zhou_steward", password=PASSWORD, check_password=False)
    org.set_membership(None, steward, tax, Membership.Role.STEWARD)
    social_steward = org.create_person(None, username="wu_steward", password=PASSWORD, check_password=False)
    org.set_membership(None, social_steward, social, Membership.Role.STEWARD)
    member = org.create_person(
        None, username="zheng_member", password=PASSWORD, display_name="郑敏", check_password=False
    )
    org.set_membership(None, member, health, Membership.Role.MEMBER)

    def publish(author, owner, title, kind=Resource.Kind.DOCUMENT, **fields):
        return catalog.create_resource(author, owner_department=owner, kind=kind, publish=True, title=title, **fields)

    made = {
        "notice": publish(
            steward, tax, "社保缴费基数调整通知", kind=Resource.Kind.NOTICE, summary="关于社保缴费基数", tags=["社保"]
        ),
        "dataset": publish(
            social_steward, social, DATASET_TITLE, kind=Resource.Kind.DATASET, summary="每月参保人数", tags=["社保"]
        ),
        "document": publish(steward, tax, "社保与税务数据交换接口规范", summary="接口字段和频率", tags=["接口"]),
        "conditional": publish(
            steward,
            tax,
            "社保欠费企业名单",
            summary="欠缴社保费的企业",
            body="机密正文",
            sharing_type=Resource.SharingType.CONDITIONAL,
            conditions="仅用于核对",
        ),
        "restricted": publish(
            steward,
            tax,
            HIDDEN_TITLE,
            sharing_type=Resource.SharingType.RESTRICTED,
            restriction_basis="《数据安全法》第二十一条",
        ),
    }
    segment.reset()
    consumers.run_pending()
    return {name: r.code for name, r in made.items()}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_search_journey(world, live_server, new_page, page_errors, shot):
    base = live_server.url
    page = new_page()
    sign_in(page, base, "zheng_member", PASSWORD)

    # 1. Typing in the header box shows suggestions: titles linking to resources, and tags.
    box = page.locator("#header-search input[name=q]")
    box.click()
    box.press_sequentially("社保", delay=60)
    menu = page.locator("#header-suggestions")
    menu.wait_for(state="visible")
    dataset_link = menu.locator(f"a.sh-suggestion[href='/resources/{world['dataset']}/']")
    dataset_link.wait_for(state="visible")
    assert box.get_attribute("aria-expanded") == "true"
    assert menu.locator("a.sh-suggestion[data-kind=tag]").count() >= 1, "no tag suggested"
    assert menu.locator("mark").count() >= 1, "the typed word is not highlighted"
    assert HIDDEN_TITLE not in menu.inner_text(), "a restricted title was suggested"
    check_accessibility(page)
    shot(page, "suggestions")

    # The keyboard: down into the list, up back to the box, Escape closes it.
    box.press("ArrowDown")
    assert page.evaluate("document.activeElement.classList.contains('sh-suggestion')")
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.name") == "q"
    box.press("Escape")
    menu.wait_for(state="hidden")
    assert box.input_value() == "社保", "Escape with the list open must only close it"

    # 2. Enter submits the box to the search page.
    with page.expect_navigation():
        box.press("Enter")
    assert urlsplit(page.url).path == "/search/"
    assert parse_qs(urlsplit(page.url).query) == {"q": ["社保"]}
    hits = page.locator(".sh-hits .sh-hit")
    codes = set(hits.evaluate_all("items => items.map(i => i.dataset.code)"))
    assert codes == {world[k] for k in ("notice", "dataset", "document", "conditional")}
    assert world["restricted"] not in page.content()
    entry_only = page.locator(f".sh-hit[data-code='{world['conditional']}'] .sh-entry-only")
    assert entry_only.is_visible(), "the conditional entry has no 'catalog entry only' hint"
    assert entry_only.locator(f"a[href='/resources/{world['conditional']}/request/']").count() == 1
    assert "机密正文" not in page.content()
    assert page.locator(".sh-hit-title mark").count() >= 4
    check_accessibility(page)
    shot(page, "results")

    # 3. A facet narrows the results in place: htmx swaps #search-results and pushes the address.
    page.evaluate("window.__sameDocument = true")
    facet = page.locator(".sh-facet-group[data-facet=kind] a.sh-facet[href*='kind=dataset']")
    assert facet.get_attribute("aria-checked") == "false"
    facet.click()
    page.locator(".sh-chip[data-filter=kind]").wait_for(state="visible")
    page.wait_for_url("**/search/?q=*kind=dataset*")
    assert page.evaluate("window.__sameDocument === true"), "the facet reloaded the whole page"
    assert hits.count() == 1
    assert hits.first.get_attribute("data-code") == world["dataset"]
    selected = page.locator(".sh-facet-group[data-facet=kind] a.sh-facet[aria-checked=true]")
    assert selected.count() == 1
    title_box = hits.first.locator(".sh-hit-title").bounding_box()
    list_box = page.locator(".sh-hits").bounding_box()
    assert title_box["x"] + title_box["width"] <= list_box["x"] + list_box["width"], "the long title overflows"
    check_accessibility(page)
    shot(page, "facet-dataset")

    # 4. Save the search; it is listed in the sidebar.
    page.fill("#save-name", SAVED_NAME)
    with page.expect_navigation():
        page.click(".sh-save-form button[type=submit]")
    assert parse_qs(urlsplit(page.url).query) == {"q": ["社保"], "kind": ["dataset"]}
    assert page.locator(".alert-success").count() >= 1, "no confirmation after saving"
    saved = page.locator(".sh-saved-item a.sh-title")
    assert saved.count() == 1 and saved.inner_text().strip() == SAVED_NAME
    check_accessibility(page)

    # 5. Start over, then reopen the saved search from the list.
    page.goto(f"{base}/search/")
    assert page.locator(".sh-hit").count() == 0
    check_accessibility(page)
    with page.expect_navigation():
        page.locator(".sh-saved-item a.sh-title").click()
    page.wait_for_url("**/search/?*")
    assert parse_qs(urlsplit(page.url).query) == {"q": ["社保"], "kind": ["dataset"]}
    assert page.locator("#search-q").input_value() == "社保"
    assert [page.locator(".sh-hit").first.get_attribute("data-code")] == [world["dataset"]]
    assert page.locator(".sh-hit").count() == 1
    check_accessibility(page)
    shot(page, "saved-reopened")

    assert page_errors == [], page_errors
