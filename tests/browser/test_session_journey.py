"""A sharing session in a browser: a member of 卫健委 finds a full 税务局 session on the calendar, joins its waiting
list (position 1), the one who had the last seat gives it up, and the first on the waiting list sees the seat on
the session's page and hears of it in the notifications; the pages checked with axe at phone and desktop width,
in Chinese and English."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sharehub.knowledge import sessions
from sharehub.org import services as org
from sharehub.org.models import Membership
from tests.browser.steps import check_accessibility, sign_in

PASSWORD = "session-journey-2718"


def _person(username: str, name: str, department, role=Membership.Role.MEMBER):
    user = org.create_person(None, username=username, password=PASSWORD, display_name=name, check_password=False)
    org.set_membership(None, user, department, role)
    return user


@pytest.fixture
def world(transactional_db):
    tax = org.create_department(None, name="税务局", code="SWJ")
    health = org.create_department(None, name="卫生健康委员会", code="WJW")
    host = _person("tax_host", "王税", tax, Membership.Role.STEWARD)
    holder = _person("seat_holder", "赵座", tax)
    _person("waiter", "李卫", health)
    start = timezone.now() + timedelta(days=3)
    made = []
    for n in range(2):  # one session for each language, so each starts full
        session = sessions.schedule_session(
            host,
            {
                "title": f"电子发票实务分享 {n + 1}",
                "description": "**要点**：开票、红冲、查验",
                "host_department": tax.pk,
                "speakers": [host.pk],
                "starts_at": start + timedelta(hours=n),
                "ends_at": start + timedelta(hours=n + 1),
                "place": "三楼会议室",
                "link": "https://meeting.example.org/room/1",
                "capacity": 1,
            },
        )
        sessions.sign_up(holder, session)
        made.append(session.pk)
    return {"sessions": made}


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_waiting_list_promotion(world, live_server, new_page, page_errors, shot):
    base = live_server.url
    words = {
        "zh-CN": {"join": "加入候补", "position": "你在候补名单第 1 位", "seat": "你已有座位", "told": "有座位空出"},
        "en-US": {
            "join": "Join the waiting list",
            "position": "You are number 1 on the waiting list",
            "seat": "You have a seat",
            "told": "A seat freed up",
        },
    }
    for (locale, word), session_id, width in zip(words.items(), world["sessions"], (390, 1366), strict=True):
        page = new_page(locale=locale, width=width)
        sign_in(page, base, "waiter", PASSWORD)
        page.goto(f"{base}/sessions/")
        check_accessibility(page)
        assert _overflow(page) <= 0, f"the list scrolls sideways at {width} px"
        shot(page, f"{locale}-{width}-list")
        page.goto(f"{base}/sessions/calendar/?month={(timezone.localtime() + timedelta(days=3)).strftime('%Y-%m')}")
        check_accessibility(page)
        assert _overflow(page) <= 0, f"the calendar scrolls sideways at {width} px"
        shot(page, f"{locale}-{width}-calendar")
        page.goto(f"{base}/sessions/{session_id}/")
        check_accessibility(page)
        button = page.locator(".sh-signup")
        assert word["join"] in button.inner_text()
        with page.expect_navigation():
            button.click()
        check_accessibility(page)
        assert word["position"] in page.locator(".sh-my-waiting").inner_text()
        shot(page, f"{locale}-{width}-waiting")

        other = new_page(locale=locale, width=width)  # a browser of its own for the one with the seat
        sign_in(other, base, "seat_holder", PASSWORD)
        other.goto(f"{base}/sessions/{session_id}/")
        check_accessibility(other)
        with other.expect_navigation():
            other.locator(".sh-signup-cancel").click()
        check_accessibility(other)
        other.context.close()

        page.goto(f"{base}/sessions/{session_id}/")
        check_accessibility(page)
        assert word["seat"] in page.locator(".sh-my-seat").inner_text()
        assert _overflow(page) <= 0, f"the session page scrolls sideways at {width} px"
        shot(page, f"{locale}-{width}-promoted")
        page.goto(f"{base}/notifications/")
        check_accessibility(page)
        assert word["told"] in page.locator(".sh-notifications").inner_text()
        shot(page, f"{locale}-{width}-notified")
        page.context.close()
    assert page_errors == []
