"""The knowledge base pages: home, space tree, article, form, editor endpoints, the catalog's panels, and the
policy on every route (what a person may not see is a 404 and never counted)."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse

from sharehub.catalog.models import Attachment, Resource
from sharehub.knowledge import articles
from sharehub.knowledge.models import Article, Citation
from tests import factories

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def space(people, org_units):
    """A tax space: an open published guide with a sub-page, a restricted page, a conditional page, a draft."""
    steward = people["tax_steward"]
    tax = org_units["tax"]
    guide = articles.create_article(steward, department=tax, title="个税申报指南", body="# 步骤\n\n正文", publish=True)
    sub = articles.create_article(steward, department=tax, title="常见问题", parent=guide, publish=True)
    restricted = articles.create_article(
        steward,
        department=tax,
        title="内部稽查要点",
        body="机密 secret-body",
        publish=True,
        sharing_type="restricted",
        restriction_basis="《税收征管法》",
    )
    conditional = articles.create_article(
        steward,
        department=tax,
        title="纳税人名单说明",
        body="条件 cond-body",
        publish=True,
        sharing_type="conditional",
        conditions="仅用于核验",
    )
    draft = articles.create_article(people["tax_member"], department=tax, title="草稿页面")
    return {"guide": guide, "sub": sub, "restricted": restricted, "conditional": conditional, "draft": draft}


def _url(name, *args):
    return reverse(f"knowledge:{name}", args=args)


def test_home_lists_spaces_with_counts_the_viewer_may_see(client_for, people, space, org_units):
    own = client_for(people["tax_member"]).get(_url("home"))
    assert own.status_code == 200
    text = own.content.decode()
    assert "5 articles" in text
    other = client_for(people["health_member"]).get(_url("home")).content.decode()
    assert "3 articles" in other  # open + conditional entry + sub-page; not restricted, not the draft
    assert "内部稽查要点" not in other and "草稿页面" not in other
    assert "个税申报指南" in other


def test_space_tree_nests_and_hides(client_for, people, space, org_units):
    response = client_for(people["health_member"]).get(_url("space", org_units["tax"].pk))
    text = response.content.decode()
    assert response.status_code == 200
    assert "<details open>" in text and "常见问题" in text
    assert "内部稽查要点" not in text and "草稿页面" not in text
    own = client_for(people["tax_member"]).get(_url("space", org_units["tax"].pk)).content.decode()
    assert "内部稽查要点" in own and "草稿页面" in own
    assert client_for(people["tax_member"]).get(_url("space", 999999)).status_code == 404


def test_article_page_renders_body_crumbs_children(client_for, people, space):
    guide, sub = space["guide"], space["sub"]
    text = client_for(people["health_member"]).get(_url("article", guide.resource.code)).content.decode()
    assert "<h1>步骤</h1>" in text
    assert "常见问题" in text  # sub-page
    assert reverse("catalog:versions", args=[guide.resource.code]) in text
    sub_page = client_for(people["health_member"]).get(_url("article", sub.resource.code)).content.decode()
    assert f'href="{_url("article", guide.resource.code)}"' in sub_page  # breadcrumb to its parent


def test_hidden_articles_are_404_on_every_route(client_for, people, space):
    outsider = client_for(people["health_member"])
    for key in ("restricted", "draft"):
        code = space[key].resource.code
        for url in (
            _url("article", code),
            _url("article-edit", code),
            reverse("catalog:detail", args=[code]),
        ):
            assert outsider.get(url).status_code == 404, url
        for url in (_url("article-publish", code), _url("article-review", code), _url("article-image", code)):
            assert outsider.post(url).status_code == 404, url
    assert outsider.get(_url("article", "NOPE-1")).status_code == 404
    assert outsider.get(_url("article", "x" * 300)).status_code == 404
    # a resource that is not an article is not an article page
    document = factories.resource(space["guide"].resource.owner_department)
    assert outsider.get(_url("article", document.code)).status_code == 404


def test_conditional_article_shows_entry_but_not_body(client_for, people, space):
    text = client_for(people["health_member"]).get(_url("article", space["conditional"].resource.code)).content
    assert b"cond-body" not in text
    assert "纳税人名单说明" in text.decode()
    assert b"sh-locked" in text


def test_search_finds_only_visible_articles(client_for, people, space, settings):
    from sharehub.events.consumers import run_pending
    from sharehub.search import segment

    segment.reset()
    run_pending()
    outsider = client_for(people["health_member"])
    response = outsider.get(reverse("search:page"), {"q": "稽查"})
    assert space["restricted"].resource.code not in response.content.decode()
    response = outsider.get(reverse("search:page"), {"q": "申报指南"})
    assert space["guide"].resource.code in response.content.decode()
    own = client_for(people["tax_member"]).get(reverse("search:page"), {"q": "稽查"})
    assert space["restricted"].resource.code in own.content.decode()


def test_write_an_article_from_a_template(client_for, people, org_units):
    client = client_for(people["tax_steward"])
    form = client.get(_url("article-new") + "?template=howto")
    assert form.status_code == 200
    assert "easymde.min.js" in form.content.decode()
    response = client.post(
        _url("article-new"),
        {
            "owner_department": org_units["tax"].pk,
            "template": "howto",
            "title": "如何开具发票",
            "body": "## 步骤\n\n1. 登录",
            "sharing_type": "open",
            "scope": "all",
            "action": "publish",
        },
    )
    assert response.status_code == 302
    article = Article.objects.get(resource__title="如何开具发票")
    assert article.template == "howto"
    assert article.resource.status == Resource.Status.PUBLISHED
    assert response["Location"] == _url("article", article.resource.code)


def test_member_saves_a_draft_then_edits_with_citations(client_for, people, org_units):
    cited = factories.resource(org_units["health"], title="医保目录数据")
    client = client_for(people["tax_member"])
    response = client.post(
        _url("article-new"),
        {
            "owner_department": org_units["tax"].pk,
            "template": "faq",
            "title": "问答",
            "body": "",
            "sharing_type": "open",
            "scope": "all",
            "action": "draft",
            "cite_codes": cited.code,
        },
    )
    assert response.status_code == 302
    article = Article.objects.get(resource__title="问答")
    assert response["Location"] == _url("article-edit", article.resource.code)
    assert Citation.objects.filter(article=article, cited=cited).exists()
    edit = client.get(response["Location"]).content.decode()
    assert "data-upload-url" in edit and "医保目录数据" in edit
    response = client.post(
        response["Location"], {"title": "问答 v2", "body": "新正文", "parent": "", "note": "改", "citations": []}
    )
    assert response.status_code == 302
    article.resource.refresh_from_db()
    assert article.resource.version == 2
    assert not Citation.objects.filter(article=article).exists()
    # the cited page lists "cited by" (through the catalog panel) only while cited
    Citation.objects.create(article=article, cited=cited)
    page = client_for(people["health_member"]).get(reverse("catalog:detail", args=[cited.code])).content.decode()
    assert "Cited by" not in page  # the citing article is a draft: the health member may not see it
    own = client_for(people["tax_member"]).get(reverse("catalog:detail", args=[cited.code])).content.decode()
    assert "Cited by" in own and "问答 v2" in own


def test_form_errors_are_shown_not_500(client_for, people, org_units):
    client = client_for(people["tax_member"])
    for data in (
        {"title": ""},
        {"title": "t", "parent": "999999"},
        {"title": "t", "cite_codes": "NOPE-2025-0001"},
        {"title": "t", "citations": "abc"},
        {"title": "t", "sharing_type": "conditional", "conditions": ""},
        {"title": "t", "owner_department": org_units["health"].pk},
        {"title": "t", "action": "publish"},
    ):
        payload = {
            "owner_department": org_units["tax"].pk,
            "template": "blank",
            "body": "",
            "sharing_type": "open",
            "scope": "all",
            **data,
        }
        response = client.post(_url("article-new"), payload)
        assert response.status_code in (403, 422), data
    assert not Article.objects.exists()


def test_catalog_page_of_an_article_links_to_it(client_for, people, space):
    code = space["guide"].resource.code
    text = client_for(people["health_member"]).get(reverse("catalog:detail", args=[code])).content.decode()
    assert _url("article", code) in text


def test_image_paste_upload(client_for, people, space):
    code = space["draft"].resource.code
    client = client_for(people["tax_member"])
    response = client.post(_url("article-image", code), {})
    assert response.status_code == 422
    upload = io.BytesIO(PNG)
    upload.name = "截图.png"
    response = client.post(_url("article-image", code), {"file": upload})
    assert response.status_code == 201, response.content
    data = response.json()
    attachment = Attachment.objects.get(pk=data["id"])
    assert data["url"] == reverse("catalog:attachment", args=[code, attachment.pk])
    assert attachment.resource_id == space["draft"].resource_id
    for name, content in (("x.svg", b"<svg onload=alert(1)></svg>"), ("x.png", b"<script>alert(1)</script>")):
        bad = io.BytesIO(content)
        bad.name = name
        response = client.post(_url("article-image", code), {"file": bad})
        assert response.status_code == 422
        assert response.json()["error"]["fields"]["file"]
    big = io.BytesIO(PNG + b"\x00" * (6 * 1024 * 1024))
    big.name = "big.png"
    assert client.post(_url("article-image", code), {"file": big}).status_code == 413
    # someone who sees the article but may not edit it
    guide = space["guide"].resource.code
    upload = io.BytesIO(PNG)
    upload.name = "a.png"
    response = client_for(people["health_member"]).post(_url("article-image", guide), {"file": upload})
    assert response.status_code == 403


HOSTILE = (
    "<script>alert(1)</script>\n\n"
    '<img src=x onerror="alert(2)">\n\n'
    "[click](javascript:alert(3))\n\n"
    "![img](javascript:alert(4))\n\n"
    '<a href="javascript:alert(5)">x</a>\n\n'
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)\n\n"
    "[ok](https://example.org/) ![pic](/resources/X/attachments/1/)"
)


def _no_active_content(html: str) -> None:
    lowered = html.lower()
    assert "<script" not in lowered and "<iframe" not in lowered
    assert not re.search(r"<[^>]+\son\w+\s*=", lowered)
    assert not re.search(r"<[a-z][^>]*\b(href|src)\s*=\s*\"?\s*(javascript|data|vbscript):", lowered)


def test_hostile_markdown_never_reaches_the_page(client_for, people, org_units):
    article = articles.create_article(
        people["tax_steward"], department=org_units["tax"], title="<b>x</b>", body=HOSTILE, publish=True
    )
    html = client_for(people["health_member"]).get(_url("article", article.resource.code)).content.decode()
    body = html.split('class="sh-body sh-article-body">', 1)[1].split("</article>", 1)[0]
    _no_active_content(body)
    assert '<img src="/resources/X/attachments/1/" alt="pic">' in body  # a pasted image's Markdown still works
    assert 'href="https://example.org/"' in body
    assert "&lt;b&gt;x&lt;/b&gt;" in html  # the title is escaped
    preview = client_for(people["tax_member"]).post(_url("article-preview"), {"body": HOSTILE})
    assert preview.status_code == 200
    _no_active_content(preview.content.decode())


def test_preview_needs_sign_in_and_limits_size(client, client_for, people):
    assert client.post(_url("article-preview"), {"body": "x"}).status_code == 302
    big = "x" * 500_001
    assert client_for(people["tax_member"]).post(_url("article-preview"), {"body": big}).status_code == 413


def test_cite_search_lists_only_visible(client_for, people, space, org_units):
    factories.resource(org_units["health"], title="医保结算数据集", kind="dataset")
    factories.resource(org_units["health"], title="医保内部数据", sharing_type="restricted")
    text = client_for(people["tax_member"]).get(_url("cite-search"), {"q": "医保"}).content.decode()
    assert "医保结算数据集" in text and "医保内部数据" not in text
    assert client_for(people["tax_member"]).get(_url("cite-search"), {"q": "a\x00b"}).status_code == 200


def test_publish_and_review_buttons(client_for, people, space):
    code = space["draft"].resource.code
    member = client_for(people["tax_member"])
    assert member.post(_url("article-publish", code)).status_code == 403
    assert member.post(_url("article-review", code)).status_code == 302
    steward = client_for(people["tax_steward"])
    assert steward.post(_url("article-publish", code)).status_code == 302
    space["draft"].resource.refresh_from_db()
    assert space["draft"].resource.status == Resource.Status.PUBLISHED


def test_pages_in_chinese(client_for, people, space, org_units):
    client = client_for(people["tax_member"])
    for url in (
        _url("home"),
        _url("space", org_units["tax"].pk),
        _url("article", space["guide"].resource.code),
        _url("article-new"),
    ):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 200, url
    assert "知识" in client.get(_url("home"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


def test_yours_marks_the_persons_own_departments_not_every_space_an_admin_may_write(space, people, client_for):
    """An admin of no department may write into every space; none of them is "yours"."""
    yours = re.compile(r'class="badge text-bg-light border">yours<')
    as_admin = client_for(people["admin"]).get(reverse("knowledge:home")).content.decode()
    assert "税务局" in as_admin and "卫生健康委员会" in as_admin  # an admin may write into every space
    assert not yours.search(as_admin)
    as_member = client_for(people["tax_member"]).get(reverse("knowledge:home")).content.decode()
    assert len(yours.findall(as_member)) == 1
