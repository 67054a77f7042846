"""The first-run tour in a browser: a new member signs in and sees the member's tour on the home page, steps
through it (each popover beside a real navigation element), dismisses it, does not see it after a reload, and
starts it again from the help page; in Chinese at desktop width and in English at phone width (where the tour
unfolds the collapsed menu to point into it)."""

from __future__ import annotations

import pytest

from sharehub.knowledge.models import TourSeen
from sharehub.org import services as org
from sharehub.org.models import Membership
from tests.browser.steps import check_accessibility, sign_in

PASSWORD = "tour-journey-2718"


@pytest.fixture
def world(transactional_db):
    tax = org.create_department(None, name="税务局", code="SWJ")
    for username, name in (("new_member", "新同事"), ("phone_member", "Phone User")):
        person = org.create_person(None, username=username, password=PASSWORD, display_name=name, check_password=False)
        org.set_membership(None, person, tax, Membership.Role.MEMBER)


def _popover(page):
    popover = page.locator(".sh-tour-popover")
    popover.wait_for(state="visible")
    return popover


@pytest.mark.browser
@pytest.mark.tour
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("locale", "width", "username", "words"),
    [
        ("zh-CN", 1366, "new_member", {"welcome": "欢迎使用 Sharehub", "again": "再次显示引导"}),
        ("en-US", 390, "phone_member", {"welcome": "Welcome to Sharehub", "again": "Show the tour again"}),
    ],
)
def test_a_new_member_takes_dismisses_and_restarts_the_tour(
    world, live_server, new_page, page_errors, shot, locale, width, username, words
):
    base = live_server.url
    page = new_page(locale=locale, width=width)
    if locale == "en-US":
        page.context.add_cookies([{"name": "django_language", "value": "en", "url": base}])
    sign_in(page, base, username, PASSWORD)

    popover = _popover(page)
    assert words["welcome"] in popover.inner_text()
    assert page.locator(".sh-tour-target").count() == 1
    check_accessibility(page)
    shot(page, f"{locale}-{width}-tour-start")

    titles = [popover.locator(".popover-header").inner_text()]
    while page.locator(".sh-tour-popover .sh-tour-next").count():
        page.locator(".sh-tour-popover .sh-tour-next").click()
        popover = _popover(page)
        titles.append(popover.locator(".popover-header").inner_text())
        target = page.locator(".sh-tour-target")
        assert target.count() == 1 and target.is_visible(), f"step {titles[-1]!r} points at nothing visible"
        if len(titles) == 3:
            check_accessibility(page)
            shot(page, f"{locale}-{width}-tour-step3")
        assert len(titles) < 20
    assert len(titles) >= 5, titles
    assert len(set(titles)) == len(titles)

    page.locator(".sh-tour-popover .sh-tour-back").click()  # back one step, and forward again
    _popover(page)
    page.locator(".sh-tour-popover .sh-tour-next").click()
    with page.expect_response(lambda answer: answer.url.endswith("/help/tour/seen/")) as seen:
        page.locator(".sh-tour-popover .sh-tour-done").click()
    assert seen.value.status == 204
    assert page.locator(".sh-tour-popover").count() == 0
    assert page.locator(".sh-tour-target").count() == 0
    assert TourSeen.objects.filter(user__username=username, role="member").exists()

    page.reload()
    check_accessibility(page)
    page.wait_for_timeout(300)
    assert page.locator(".sh-tour-popover").count() == 0, "the tour came back after it was finished"

    page.goto(f"{base}/help/")
    check_accessibility(page)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the help page scrolls sideways by {overflow} px"
    shot(page, f"{locale}-{width}-help")
    with page.expect_navigation():
        page.get_by_role("link", name=words["again"]).click()
    popover = _popover(page)
    assert words["welcome"] in popover.inner_text()
    check_accessibility(page)
    page.keyboard.press("Escape")  # dismissing it the other way
    page.locator(".sh-tour-popover").wait_for(state="detached")
    assert "tour=" not in page.url
    page.reload()
    check_accessibility(page)
    page.wait_for_timeout(300)
    assert page.locator(".sh-tour-popover").count() == 0
    assert not page_errors, page_errors
