"""The cross-department knowledge journey of issue 15 in a real browser, each person in a browser of their own:
a member of 人社局 asks 税务局 a question (similar questions show up as the title is typed), 税务局's steward answers
it, the asker accepts the answer, the answerer turns it into an article with one click, a member of 卫健委 finds
the article through the search page by a Chinese word of its title, opens it and marks "this helped me" with a
note; then the answerer's points on /recognition/ and on their "why" page show the accepted answer and the helped
mark, and the answerer overtakes a colleague of a fourth department on this month's board. Every page is checked
with axe; no script error or CSP violation. The steward's browser is English at 1280 px, where the navigation bar
of a steward once overflowed: no page of the journey scrolls sideways there."""

from __future__ import annotations

import re

import pytest
from django.db import connections

from sharehub.knowledge import points, qa
from sharehub.knowledge.models import Credit, TourSeen
from sharehub.org import services as org
from sharehub.org.models import Membership
from tests.browser.steps import check_accessibility, sign_in

PASSWORD = "knowledge-journey-2718"
TITLE = "跨部门出差补贴标准如何申报？"
EARLIER = "出差补贴标准在哪里查询"  # an earlier question that should show up as "similar"
NOTE = "用于核对本委出差补贴报销"
KIND = Credit.Kind


def _person(username: str, name: str, department, role=Membership.Role.MEMBER):
    user = org.create_person(None, username=username, password=PASSWORD, display_name=name, check_password=False)
    org.set_membership(None, user, department, role)
    for tour in ("member", "steward", "head", "admin", "auditor"):  # the tours are another journey's subject
        TourSeen.objects.create(user=user, role=tour)
    return user


@pytest.fixture
def world(transactional_db):
    hr = org.create_department(None, name="人力资源和社会保障局", code="RSJ")
    tax = org.create_department(None, name="税务局", code="SWJ")
    health = org.create_department(None, name="卫生健康委员会", code="WJW")
    market = org.create_department(None, name="市场监督管理局", code="SCJ")
    asker = _person("hr_member", "何问", hr)
    answerer = _person("tax_steward", "杨答", tax, Membership.Role.STEWARD)
    reader = _person("health_member", "冯读", health)
    rival = _person("market_steward", "郑先", market, Membership.Role.STEWARD)
    # The rival already has points this month from other departments: a grant and a read (人社局), a citation
    # (卫健委); so the board starts with the rival alone on it.
    for kind, actor, department in ((KIND.GRANT, asker, hr), (KIND.READ, asker, hr), (KIND.CITATION, reader, health)):
        made = points.credit(
            kind,
            actor=actor,
            item="resource:900001",
            item_label="SCJ-2026-0001 市场主体登记数据",
            person=rival,
            department_id=market.pk,
            actor_department_ids=[department.pk],
        )
        assert made is not None
    qa.ask_question(rival, title=EARLIER, body="", department=tax, tag="", resource="", private=False)
    return {"tax": tax.pk, "answerer": answerer, "rival": rival}


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def _visit(page, url: str) -> None:
    page.goto(url)
    check_accessibility(page)


def _board(page) -> list[tuple[str, int]]:
    rows = page.locator(".sh-board tbody tr")
    names = rows.locator("td:nth-child(2) a").all_inner_texts()
    scores = [int(text) for text in rows.locator("td:nth-child(4)").all_inner_texts()]
    return list(zip(names, scores, strict=True))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_ask_answer_accept_article_find_helped_points(world, live_server, new_page, page_errors, shot):
    base = live_server.url
    weights = points.weights()
    rival_points = weights[KIND.GRANT] + weights[KIND.READ] + weights[KIND.CITATION]
    answerer_points = weights[KIND.ANSWER] + weights[KIND.HELPED] + weights[KIND.READ] + weights[KIND.PUBLISH]
    assert answerer_points > rival_points, "the weights would not let the answerer overtake: the journey proves nothing"

    # 0. The answerer's browser (English, 1280 px): this month's board has the rival alone.
    steward = new_page(locale="en-US", width=1280)
    sign_in(steward, base, "tax_steward", PASSWORD)
    assert _overflow(steward) <= 0, "the navigation bar of a steward scrolls sideways at 1280 px"
    _visit(steward, f"{base}/recognition/?by=person&period=month")
    assert _board(steward) == [("郑先", rival_points)]
    shot(steward, "board-before")

    # 1. 人社局's member asks 税务局; typing the title shows the earlier, similar question.
    asker = new_page(locale="zh-CN", width=1366)
    sign_in(asker, base, "hr_member", PASSWORD)
    _visit(asker, f"{base}/questions/ask/")
    asker.locator("#id_title").press_sequentially(TITLE, delay=20)
    similar = asker.locator("#similar .sh-similar-question")
    similar.first.wait_for()
    assert EARLIER in similar.first.inner_text()
    check_accessibility(asker)
    shot(asker, "ask-similar")
    asker.select_option("#id_department", str(world["tax"]))
    asker.fill("#id_body", "人社局派员到税务局协同办公，出差补贴按哪个部门的标准申报？")
    with asker.expect_navigation():
        asker.click("form.sh-ask-form button[type=submit]")
    check_accessibility(asker)
    match = re.search(r"/questions/(\d+)/$", asker.url)
    assert match, f"asking did not open the question: {asker.url}"
    question_url = asker.url
    assert TITLE in asker.locator(".sh-question-title").inner_text()

    # 2. 税务局's steward answers on the page.
    _visit(steward, question_url)
    steward.fill("#answer-form textarea[name=body]", "按**派出部门**的标准申报，附税务局出具的协同办公证明。")
    with steward.expect_navigation():
        steward.click("#answer-form button[type=submit]")
    check_accessibility(steward)
    assert steward.locator(".sh-answer").count() == 1
    assert _overflow(steward) <= 0, "the question page scrolls sideways at 1280 px"

    # 3. The asker accepts it.
    _visit(asker, question_url)
    with asker.expect_navigation():
        asker.click("form[action*='/accept/'] button[type=submit]")
    check_accessibility(asker)
    assert asker.locator(".sh-answer.sh-accepted").count() == 1
    shot(asker, "accepted")

    # 4. The answerer turns the accepted answer into an article: one click, published in 税务局's space.
    _visit(steward, question_url)
    with steward.expect_navigation():
        steward.locator(".sh-to-article").click()
    check_accessibility(steward)
    match = re.search(r"/resources/([A-Z]+-\d{4}-\d{4})/$", steward.url)
    assert match, f"turning the answer into an article did not open it: {steward.url}"
    code = match.group(1)
    assert steward.locator("h1").first.inner_text().strip().endswith(TITLE)
    shot(steward, "article")
    _visit(steward, question_url)
    assert code in steward.locator(".sh-article-link a").get_attribute("href")

    # The log readers (search indexing, recognition of the publication) run as the worker would.
    from sharehub.events import consumers
    from sharehub.search import segment

    segment.reset()
    consumers.run_pending()
    # the statements above ran on a connection of Playwright's greenlet: close it, or the test database
    # (PostgreSQL) cannot be dropped at the end
    connections.close_all()

    # 5. 卫健委's member, on a phone, finds the article on the search page by a word of its title.
    reader = new_page(locale="zh-CN", width=390)
    sign_in(reader, base, "health_member", PASSWORD)
    _visit(reader, f"{base}/search/")
    reader.fill("#search-q", "补贴")
    with reader.expect_navigation():
        reader.press("#search-q", "Enter")
    check_accessibility(reader)
    hit = reader.locator(f".sh-hit[data-code='{code}']")
    assert hit.count() == 1, "the article is not among the search results"
    shot(reader, "search")
    with reader.expect_navigation():
        hit.locator("a.sh-hit-title").click()
    check_accessibility(reader)
    assert reader.url.endswith(f"/resources/{code}/")
    assert _overflow(reader) <= 0, "the article page scrolls sideways at 390 px"

    # 6. ... and marks "this helped me" with a note (the panel swaps in place).
    reader.fill("#helped-note", NOTE)
    reader.locator(".sh-helped-form button[type=submit]").click()
    reader.locator(".sh-helped-mine").wait_for()
    assert NOTE in reader.locator(".sh-helped-mine").inner_text()
    check_accessibility(reader)
    shot(reader, "helped")

    # 7. The answerer's points: the board's order changed, and the "why" page names each credit.
    _visit(steward, f"{base}/recognition/?by=person&period=month")
    assert _board(steward) == [("杨答", answerer_points), ("郑先", rival_points)]
    assert str(answerer_points) in steward.locator(".sh-my-standing").inner_text()
    assert _overflow(steward) <= 0, "the leaderboard scrolls sideways at 1280 px"
    shot(steward, "board-after")
    _visit(steward, f"{base}/recognition/me/")
    month_total = steward.locator(".sh-totals .fs-4").first.inner_text()
    assert month_total.split()[0] == str(answerer_points)
    lines = {}
    for row in steward.locator(".sh-line").all():
        kind = row.locator("td:nth-child(2)").inner_text().strip()
        lines[kind] = (row.locator("td:nth-child(3)").inner_text(), row.locator("td:nth-child(5)").inner_text())
    label = {kind: str(KIND(kind).label)[:1].upper() + str(KIND(kind).label)[1:] for kind in KIND.values}
    assert lines[label[KIND.ANSWER]] == (TITLE, f"+{weights[KIND.ANSWER]}")
    assert lines[label[KIND.HELPED]][1] == f"+{weights[KIND.HELPED]}"
    assert code in lines[label[KIND.HELPED]][0]
    assert lines[label[KIND.READ]][1] == f"+{weights[KIND.READ]}"
    assert lines[label[KIND.PUBLISH]][1] == f"+{weights[KIND.PUBLISH]}"
    assert len(lines) == 4, lines
    shot(steward, "why")
    assert page_errors == [], page_errors
