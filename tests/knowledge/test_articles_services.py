"""Article services: creating through the catalog, editing with versions, moving in the tree, citing."""

from __future__ import annotations

import pytest

from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource, ResourceVersion
from sharehub.errors import Conflict, Forbidden, Invalid
from sharehub.events.models import Event
from sharehub.knowledge import articles
from sharehub.knowledge.models import Article, Citation, Credit
from tests import factories

pytestmark = pytest.mark.django_db


def _article(actor, department, title="如何申报个税", **kwargs):
    return articles.create_article(actor, department=department, title=title, **kwargs)


def test_create_makes_a_catalog_resource_with_version_event_and_tree_place(people, org_units):
    steward = people["tax_steward"]
    article = _article(steward, org_units["tax"], body="# 步骤\n\n1. 登录", publish=True)
    resource = article.resource
    assert resource.kind == Resource.Kind.ARTICLE
    assert resource.code.startswith("SWJ-")
    assert resource.status == Resource.Status.PUBLISHED
    assert ResourceVersion.objects.filter(resource=resource, number=1).exists()
    events = Event.objects.filter(target_type="catalog.resource", target_id=str(resource.pk)).order_by("seq")
    actions = list(events.values_list("action", flat=True))
    assert actions == ["resource.created", "resource.published"]
    assert article.position == 0 and article.parent is None
    assert article.credited_to == steward
    second = _article(steward, org_units["tax"], title="第二篇")
    assert second.position == 1


def test_template_fills_an_empty_body_in_the_users_language(people, org_units):
    from django.utils import translation

    with translation.override("zh-hans"):
        article = _article(people["tax_member"], org_units["tax"], template="howto")
    assert "## 步骤" in article.resource.body
    article = _article(people["tax_member"], org_units["tax"], template="faq", body="自己的正文")
    assert article.resource.body == "自己的正文"


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"template": "novel"}, "template"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "a\x00b"}, "title"),
        ({"parent": 999999}, "parent"),
        ({"parent": "abc"}, "parent"),
        ({"credited_to": 999999}, "credited_to"),
        ({"sharing_type": "secret"}, "sharing_type"),
        ({"sharing_type": "conditional"}, "conditions"),
        ({"department": "x"}, "department"),
        ({"citations": "12"}, "citations"),
        ({"citations": [999999]}, "citations"),
        ({"unknown_field": 1}, "unknown_field"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(people, org_units, kwargs, field):
    kwargs = {"department": org_units["tax"], "title": "标题", **kwargs}
    with pytest.raises(Invalid) as error:
        articles.create_article(people["tax_member"], **kwargs)
    assert field in error.value.fields
    assert not Resource.objects.filter(kind="article").exists()
    assert not Article.objects.exists()


def test_only_members_write_into_a_space(people, org_units):
    with pytest.raises(Forbidden):
        _article(people["health_member"], org_units["tax"])
    assert not Resource.objects.exists()


def test_catalog_refuses_articles_outside_the_knowledge_space(people, org_units):
    with pytest.raises(Invalid) as error:
        catalog.create_resource(people["tax_member"], owner_department=org_units["tax"], kind="article", title="x")
    assert "kind" in error.value.fields


def test_parent_must_be_same_department(people, org_units):
    tax_root = _article(people["tax_member"], org_units["tax"])
    with pytest.raises(Invalid) as error:
        _article(people["health_member"], org_units["health"], parent=tax_root)
    assert "parent" in error.value.fields
    child = _article(people["tax_member"], org_units["tax"], parent=tax_root.pk)
    assert child.parent == tax_root


def test_update_makes_a_version_and_keeps_markdown(people, org_units):
    article = _article(people["tax_member"], org_units["tax"], body="v1")
    article = articles.update_article(people["tax_member"], article, {"body": "v2 <script>x</script>"}, note="fix")
    article.resource.refresh_from_db()
    assert article.resource.version == 2
    assert article.resource.body == "v2 <script>x</script>"  # stored as written; rendered through nh3
    assert ResourceVersion.objects.filter(resource=article.resource).count() == 2
    with pytest.raises(Forbidden):
        articles.update_article(people["health_member"], article, {"body": "x"})


def test_move_reorders_siblings_and_refuses_cycles(people, org_units):
    m = people["tax_member"]
    a = _article(m, org_units["tax"], title="A")
    b = _article(m, org_units["tax"], title="B")
    c = _article(m, org_units["tax"], title="C", parent=a)
    d = _article(m, org_units["tax"], title="D", parent=c)
    articles.move_article(m, b, None, 0)
    order = list(Article.objects.filter(parent=None).order_by("position").values_list("resource__title", flat=True))
    assert order == ["B", "A"]
    for bad_parent in (a, c, d):
        with pytest.raises(Invalid) as error:
            articles.move_article(m, a, bad_parent)
        assert "parent" in error.value.fields
    articles.move_article(m, d, b)
    d.refresh_from_db()
    assert d.parent_id == b.pk
    assert Event.objects.filter(action="article.moved").count() == 2
    for position in (-1, "x", True, 10**9):
        with pytest.raises(Invalid):
            articles.move_article(m, d, b, position)
    other = _article(people["health_member"], org_units["health"])
    with pytest.raises(Invalid):
        articles.move_article(m, d, other)
    with pytest.raises(Forbidden):
        articles.move_article(people["health_member"], d, None)


def test_move_limits_depth(people, org_units):
    m = people["tax_member"]
    parent = None
    for n in range(articles.MAX_DEPTH):
        parent = _article(m, org_units["tax"], title=f"L{n}", parent=parent)
    with pytest.raises(Invalid):
        _article(m, org_units["tax"], title="too deep", parent=parent)


def test_citations_only_of_visible_resources_credit_and_notify(people, org_units):
    health_doc = factories.resource(org_units["health"], by=None, title="卫健数据")
    hidden = factories.resource(org_units["health"], sharing_type="restricted", title="内部")
    article = _article(people["tax_member"], org_units["tax"], publish=False)
    with pytest.raises(Invalid):
        articles.set_citations(people["tax_member"], article, [hidden.pk])
    articles.set_citations(people["tax_member"], article, [health_doc.pk, article.resource.pk])
    assert list(Citation.objects.values_list("cited_id", flat=True)) == [health_doc.pk]  # never itself
    event = Event.objects.get(action="article.citations_changed")
    assert event.details["added"] == [health_doc.code]
    assert event.details["recipients"] == [health_doc.steward_id]
    credit = Credit.objects.get(kind=Credit.Kind.CITATION)
    assert credit.department_id == org_units["health"].pk
    # same set again: nothing recorded
    articles.set_citations(people["tax_member"], article, [health_doc])
    assert Event.objects.filter(action="article.citations_changed").count() == 1
    # a citation the editor cannot see is kept when they save their list
    Citation.objects.create(article=article, cited=hidden)
    articles.set_citations(people["tax_member"], article, [])
    assert list(Citation.objects.values_list("cited_id", flat=True)) == [hidden.pk]


def test_same_department_citation_earns_nothing(people, org_units):
    own = factories.resource(org_units["tax"], by=people["tax_steward"])
    article = _article(people["tax_member"], org_units["tax"])
    articles.set_citations(people["tax_member"], article, [own.pk])
    assert not Credit.objects.exists()


def test_from_answer_only_once(people, org_units):
    from sharehub.knowledge.models import Answer, Question

    question = Question.objects.create(title="怎么办", asker=people["health_member"], department=org_units["tax"])
    answer = Answer.objects.create(question=question, author=people["tax_steward"], body="这样办")
    article = _article(people["tax_steward"], org_units["tax"], from_answer=answer, credited_to=people["tax_steward"])
    assert article.from_answer == answer
    with pytest.raises(Conflict):
        _article(people["tax_steward"], org_units["tax"], from_answer=answer.pk)
