"""Comments, ratings and "this helped me" as people use them: on the resource page (and an article's), with
and without htmx, and what people who may not read the content get."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from sharehub.knowledge import articles, social
from sharehub.knowledge.models import Comment, Helped, Rating
from tests import factories

HX = {"HTTP_HX_REQUEST": "true"}
# Statements of the resource page with comments, ratings and notes, for a reader of another department and for
# the steward: the catalog's own, the articles and recognition parts', and ours: 4 for the reader (the counts and
# own marks in one, the threads, their replies, the notes), 5 for the steward (also the reasons).
PAGE_PINNED = (16, 20)


@pytest.fixture
def open_doc(org_units, people):
    return factories.resource(org_units["tax"], by=people["tax_steward"], title="纳税指南")


@pytest.fixture
def conditional(org_units, people):
    return factories.resource(org_units["tax"], by=people["tax_steward"], sharing_type="conditional", title="税源")


@pytest.fixture
def scoped(org_units, people):
    return factories.resource(org_units["tax"], by=people["tax_steward"], scope=[org_units["tax"]], title="局内")


def detail(client, resource, **params):
    return client.get(f"/resources/{resource.code}/", params)


def url(resource, tail=""):
    return f"/knowledge/r/{resource.code}/{tail}"


def test_the_panels_show_on_the_resource_page(client_for, people, open_doc):
    page = detail(client_for(people["health_member"]), open_doc).content.decode()
    assert 'id="comments"' in page and 'id="feedback"' in page
    assert "/help/comments/" in page and "/help/ratings/" in page
    assert "This helped me" in page and "No comments yet" in page


def test_the_panels_show_on_an_article(client_for, people, org_units):
    article = articles.create_article(
        people["tax_steward"], department=org_units["tax"], title="如何申报", body="步骤", publish=True
    ).resource
    social.add_comment(people["health_member"], article, "写得清楚")
    client = client_for(people["social_member"])
    for address in (f"/resources/{article.code}/", f"/knowledge/articles/{article.code}/"):
        page = client.get(address).content.decode()
        assert "写得清楚" in page and 'id="feedback"' in page, address


def test_write_a_comment_without_javascript(client_for, people, open_doc):
    client = client_for(people["health_member"])
    response = client.post(url(open_doc, "comments/"), {"body": "第一条 @tax_member"})
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/resources/{open_doc.code}/#comment-{comment.pk}"
    page = client.get(response["Location"]).content.decode()
    assert "第一条" in page and "Comment added." in page
    assert '<span class="sh-mention text-primary">@tax_member</span>' in page


def test_write_a_comment_with_htmx_returns_the_panel(client_for, people, open_doc):
    client = client_for(people["health_member"])
    response = client.post(url(open_doc, "comments/"), {"body": "htmx 评论"}, **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<section") and "htmx 评论" in html and "Comment added." in html
    assert "<html" not in html


def test_an_invalid_comment_shows_the_form_again(client_for, people, open_doc):
    client = client_for(people["health_member"])
    response = client.post(url(open_doc, "comments/"), {"body": "x" * 5001})
    assert response.status_code == 422
    assert "At most 5000 characters." in response.content.decode()
    response = client.post(url(open_doc, "comments/"), {"body": "  "}, **HX)
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert not Comment.objects.exists()


def test_reply_edit_hide_and_show_again(client_for, people, open_doc):
    reader, steward = client_for(people["health_member"]), client_for(people["tax_steward"])
    reader.post(url(open_doc, "comments/"), {"body": "问"})
    root = Comment.objects.get()
    steward.post(url(open_doc, "comments/"), {"body": "答", "parent": root.pk})
    assert Comment.objects.filter(parent=root).count() == 1
    assert steward.get(url(open_doc, f"comments/{root.pk}/edit/")).status_code == 403  # not the author
    assert reader.get(url(open_doc, f"comments/{root.pk}/edit/")).status_code == 200
    reader.post(url(open_doc, f"comments/{root.pk}/edit/"), {"body": "问（改）"})
    assert reader.get(url(open_doc, f"comments/{root.pk}/hide/")).status_code == 403
    assert steward.get(url(open_doc, f"comments/{root.pk}/hide/")).status_code == 200
    assert steward.post(url(open_doc, f"comments/{root.pk}/hide/"), {"reason": ""}).status_code == 422
    steward.post(url(open_doc, f"comments/{root.pk}/hide/"), {"reason": "重复"})
    other = detail(client_for(people["social_member"]), open_doc).content.decode()
    assert "Hidden by a steward: 重复" in other and "问（改）" not in other
    own = detail(reader, open_doc).content.decode()
    assert "Hidden by a steward: 重复" in own and "问（改）" in own
    steward.post(url(open_doc, f"comments/{root.pk}/show/"))
    assert "问（改）" in detail(client_for(people["social_member"]), open_doc).content.decode()


def test_a_comment_of_another_resource_is_not_found_here(client_for, people, open_doc, org_units):
    other = factories.resource(org_units["tax"], by=people["tax_steward"])
    comment = social.add_comment(people["tax_member"], other, "别处").comment
    client = client_for(people["tax_member"])
    assert client.get(url(open_doc, f"comments/{comment.pk}/edit/")).status_code == 404
    assert client.get(url(open_doc, "comments/99999999999999999999/edit/")).status_code == 404


def test_rate_and_mark_helped_without_javascript(client_for, people, open_doc):
    client = client_for(people["health_member"])
    response = client.post(url(open_doc, "rating/"), {"useful": "no", "reason": ""})
    assert response.status_code == 422 and "Say why it was not useful" in response.content.decode()
    assert client.post(url(open_doc, "rating/"), {"useful": "no", "reason": "太旧"}).status_code == 302
    assert client.post(url(open_doc, "helped/"), {"note": "做报表"}).status_code == 302
    page = detail(client, open_doc).content.decode()
    assert "You rated it not useful." in page and "You said it helped you: 做报表" in page
    assert "太旧" in page  # one's own reason, in the form
    steward_page = detail(client_for(people["tax_steward"]), open_doc).content.decode()
    assert "Reasons given (shown to stewards)" in steward_page and "太旧" in steward_page
    other = detail(client_for(people["social_member"]), open_doc).content.decode()
    assert "太旧" not in other and "做报表" in other and "1 not useful" in other
    client.post(url(open_doc, "helped/withdraw/"))
    client.post(url(open_doc, "rating/"), {"action": "clear"})
    assert not Helped.objects.exists() and not Rating.objects.exists()


def test_rate_with_htmx_returns_the_panel(client_for, people, open_doc):
    client = client_for(people["health_member"])
    response = client.post(url(open_doc, "rating/"), {"useful": "yes"}, **HX)
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith("<section") and "1 useful" in html
    response = client.post(url(open_doc, "helped/"), {"note": "x" * 501}, **HX)
    assert response.status_code == 200 and "At most 500 characters." in response.content.decode()


def test_the_helped_list_page(client_for, people, open_doc):
    social.mark_helped(people["health_member"], open_doc, "做报表")
    page = client_for(people["social_member"]).get(url(open_doc, "helped/"))
    assert page.status_code == 200 and "做报表" in page.content.decode()


def test_someone_who_may_only_view_gets_no_comments_and_403_on_every_route(client_for, people, conditional):
    comment = social.add_comment(people["tax_member"], conditional, "内部讨论").comment
    social.mark_helped(people["tax_member"], conditional, "内部用途")
    client = client_for(people["health_member"])
    page = detail(client, conditional).content.decode()
    assert "内部讨论" not in page and "内部用途" not in page
    assert "you see them once you may read it" in page
    assert "It helped 1 person" in page  # counts only
    for method, tail, data in (
        ("get", "comments/", {}),
        ("post", "comments/", {"body": "x"}),
        ("get", f"comments/{comment.pk}/edit/", {}),
        ("post", f"comments/{comment.pk}/hide/", {"reason": "x"}),
        ("post", "rating/", {"useful": "yes"}),
        ("get", "helped/", {}),
        ("post", "helped/", {"note": ""}),
        ("post", "helped/withdraw/", {}),
    ):
        response = getattr(client, method)(url(conditional, tail), data)
        assert response.status_code == 403, (method, tail, response.status_code)
    assert Comment.objects.count() == 1 and Rating.objects.count() == 0


def test_nobody_outside_the_scope_gets_anything(client_for, people, scoped):
    comment = social.add_comment(people["tax_member"], scoped, "秘密").comment
    client = client_for(people["health_member"])
    for method, tail, data in (
        ("get", "comments/", {}),
        ("post", "comments/", {"body": "x"}),
        ("get", f"comments/{comment.pk}/edit/", {}),
        ("get", f"comments/{comment.pk}/hide/", {}),
        ("post", f"comments/{comment.pk}/show/", {}),
        ("post", "rating/", {"useful": "yes"}),
        ("get", "helped/", {}),
        ("post", "helped/", {}),
        ("post", "helped/withdraw/", {}),
    ):
        response = getattr(client, method)(url(scoped, tail), data)
        assert response.status_code == 404, (method, tail, response.status_code)


def test_anonymous_people_are_sent_to_sign_in(client, open_doc):
    assert client.post(url(open_doc, "comments/"), {"body": "x"}).status_code == 302
    assert not Comment.objects.exists()


def test_hostile_text_is_shown_as_text(client_for, people, open_doc):
    client = client_for(people["health_member"])
    client.post(url(open_doc, "comments/"), {"body": '<script>alert("c")</script><a href="javascript:x">y</a>'})
    client.post(url(open_doc, "rating/"), {"useful": "no", "reason": "<img src=x onerror=alert(1)>"})
    client.post(url(open_doc, "helped/"), {"note": "<svg onload=alert(2)>"})
    for who in ("health_member", "tax_steward"):
        page = detail(client_for(people[who]), open_doc).content.decode()
        assert '<script>alert("c")' not in page and 'href="javascript:' not in page
        assert "<img src=x" not in page and "<svg onload" not in page
        assert "&lt;script&gt;" in page
    steward = client_for(people["tax_steward"])
    comment = Comment.objects.get()
    steward.post(url(open_doc, f"comments/{comment.pk}/hide/"), {"reason": "<b onmouseover=alert(3)>x</b>"})
    page = detail(client_for(people["social_member"]), open_doc).content.decode()
    assert "<b onmouseover" not in page and "&lt;b onmouseover=alert(3)&gt;" in page


def test_comment_pages_newest_threads_first(client_for, people, open_doc):
    for i in range(social.COMMENTS_PER_PAGE + 3):
        Comment.objects.create(resource=open_doc, author=people["tax_member"], body=f"评论{i:02d}")
    client = client_for(people["health_member"])
    first = detail(client, open_doc).content.decode()
    assert "评论22" in first and "评论02" not in first and "Page 1 of 2" in first
    second = client.get(url(open_doc, "comments/"), {"cpage": "2"}, **HX).content.decode()
    assert "评论02" in second and "评论22" not in second
    assert client.get(url(open_doc, "comments/"), {"cpage": "2"}).status_code == 302
    assert detail(client, open_doc, cpage="x").status_code == 200


def test_the_panels_read_in_chinese(client_for, people, open_doc):
    client = client_for(people["health_member"])
    social.add_comment(people["tax_member"], open_doc, "好")
    with translation.override("zh-hans"):
        page = client.get(f"/resources/{open_doc.code}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "评论" in page and "对我有帮助" in page


def _statements(client, resource) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert detail(client, resource).status_code == 200
    return len(captured.captured_queries)


def test_the_resource_page_costs_the_same_with_many_comments(client_for, people, open_doc, org_units):
    reader = client_for(people["health_member"])
    steward = client_for(people["tax_steward"])
    root = Comment.objects.create(resource=open_doc, author=people["tax_member"], body="一")
    Comment.objects.create(resource=open_doc, author=people["health_member"], body="二", parent=root)
    social.mark_helped(people["health_member"], open_doc, "用")
    social.set_rating(people["social_member"], open_doc, False, "旧")
    detail(reader, open_doc), detail(steward, open_doc)  # warm caches
    few = (_statements(reader, open_doc), _statements(steward, open_doc))
    authors = [factories.member(org_units["health"]) for _ in range(5)]
    for i in range(60):
        top = Comment.objects.create(resource=open_doc, author=authors[i % 5], body=f"c{i}")
        first = Comment.objects.create(resource=open_doc, author=authors[(i + 1) % 5], body="r", parent=top)
        Comment.objects.create(resource=open_doc, author=authors[(i + 2) % 5], body="rr", parent=first)
        Comment.objects.create(
            resource=open_doc, author=authors[i % 5], body="h", hidden_at=top.created_at, hidden_reason="x"
        )
    for person in authors:
        social.mark_helped(person, open_doc, "note")
        social.set_rating(person, open_doc, False, "why")
    many = (_statements(reader, open_doc), _statements(steward, open_doc))
    assert few == many, (few, many)
    assert many == PAGE_PINNED, many
