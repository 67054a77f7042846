"""Following a saved search: its owner hears of each resource that newly matches it, once, found by
the same permission-aware search as the search page, after the search index has taken the change in."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sharehub.access import services as access
from sharehub.catalog import services as catalog
from sharehub.errors import Invalid, NotFound
from sharehub.events.consumers import run_pending
from sharehub.events.models import ConsumerCursor, Event
from sharehub.feeds import follows
from sharehub.feeds.models import Follow, Notification, SearchMatch
from sharehub.search import services as search
from tests import factories
from tests.conftest import login_client


@pytest.fixture
def invoices(people):
    """The health member's saved search for 发票 in the tax bureau's resources, followed."""
    saved = search.save_search(people["health_member"], name="税务发票", query="发票")
    follows.follow(people["health_member"], "search", saved.pk)
    run_pending()
    return saved


def matches_told(person) -> list[str]:
    rows = Notification.objects.filter(recipient=person, reason="search").order_by("id")
    return [n.event.target_label.split(" ", 1)[-1] for n in rows.select_related("event")]  # "CODE title": the title


def test_a_new_match_is_announced_once_and_a_resource_that_does_not_match_is_not(org_units, people, invoices):
    steward = people["tax_steward"]
    fresh = factories.resource(org_units["tax"], by=steward, title="发票管理办法", body="增值税发票的开具")
    factories.resource(org_units["tax"], by=steward, title="社保缴费指南", body="缴费基数")
    run_pending()  # one round: the index takes the new resources in, then the saved search is asked
    assert matches_told(people["health_member"]) == [fresh.title]
    catalog.update_resource(steward, fresh, {"summary": "第二版"}, note="修订")
    run_pending()
    assert matches_told(people["health_member"]) == [fresh.title]  # known already: not news again
    assert SearchMatch.objects.filter(saved_search=invoices, resource=fresh).count() == 1
    page = login_client(people["health_member"]).get(reverse("feeds:list")).content.decode()
    assert "税务发票" in page and fresh.code in page


def test_an_edit_that_makes_a_resource_match_is_news(org_units, people, invoices):
    steward = people["tax_steward"]
    guide = factories.resource(org_units["tax"], by=steward, title="办事指南", body="营业执照")
    run_pending()
    assert matches_told(people["health_member"]) == []
    catalog.update_resource(steward, guide, {"body": "营业执照与电子发票"}, note="补充")
    run_pending()
    assert matches_told(people["health_member"]) == ["办事指南"]


def test_the_search_keeps_the_policy(org_units, people, invoices):
    steward = people["tax_steward"]
    factories.resource(org_units["tax"], by=steward, scope=[org_units["tax"]], title="内部发票台账")
    hidden_text = factories.resource(
        org_units["tax"], by=steward, sharing_type="conditional", title="纳税人名录", body="发票领用记录"
    )
    run_pending()
    assert matches_told(people["health_member"]) == []  # not in scope; conditional: only its catalog text counts
    asked = access.create_request(
        people["health_member"],
        hidden_text,
        purpose="核验",
        use_category="verification",
        period_days=10,
        accept_terms=True,
    )
    access.approve_request(steward, asked)
    run_pending()
    follows.unfollow(people["health_member"], "resource", hidden_text.pk)  # followed as its requester: not that way
    catalog.update_resource(steward, hidden_text, {"summary": "年度"}, note="年度更新")
    run_pending()
    assert matches_told(people["health_member"]) == ["纳税人名录"]  # readable now: its content matches


def test_own_changes_and_changes_before_the_follow_are_not_news(org_units, people):
    steward, colleague = people["tax_steward"], factories.member(org_units["tax"], "steward")
    saved = search.save_search(steward, name="发票", query="发票")
    before = factories.resource(org_units["tax"], by=colleague, title="发票旧规")
    run_pending()
    follows.follow(steward, "search", saved.pk)
    factories.resource(org_units["tax"], by=steward, title="发票草稿说明")
    run_pending()
    assert matches_told(steward) == []
    catalog.update_resource(colleague, before, {"summary": "改"}, note="改")
    run_pending()
    assert matches_told(steward) == ["发票旧规"]  # changed after the follow: it is announced, once


def test_filters_of_the_saved_search_apply(org_units, people):
    member = people["health_member"]
    saved = search.save_search(member, name="人社", query="指南", filters={"department": [str(org_units["hr"].pk)]})
    follows.follow(member, "search", saved.pk)
    run_pending()
    factories.resource(org_units["tax"], by=people["tax_steward"], title="办税指南")
    hr = factories.resource(org_units["hr"], title="就业指南")
    run_pending()
    assert matches_told(member) == [hr.title]


def test_only_the_owner_follows_a_saved_search_and_no_department_subscribes(org_units, people, invoices):
    with pytest.raises(NotFound):
        follows.follow(people["tax_member"], "search", invoices.pk)
    with pytest.raises(Invalid) as refused:
        follows.subscribe_department(people["tax_steward"], org_units["tax"].pk, "search", invoices.pk)
    assert "kind" in refused.value.fields


def test_deleting_the_saved_search_ends_its_follow(org_units, people, invoices):
    search.delete_saved_search(people["health_member"], invoices.pk)
    assert not Follow.objects.filter(kind="search").exists()
    factories.resource(org_units["tax"], by=people["tax_steward"], title="发票新规")
    run_pending()
    assert matches_told(people["health_member"]) == []


def test_it_never_reads_past_the_search_index(org_units, people, invoices):
    factories.resource(org_units["tax"], by=people["tax_steward"], title="发票须知")
    index_place = ConsumerCursor.objects.get(name="search-index").seq
    newest = Event.objects.order_by("-seq").values_list("seq", flat=True).first()
    assert newest > index_place  # the index has not read the new events yet
    from sharehub.events import consumers

    consumers.run_consumer(consumers._consumers[follows.SEARCH_READER])
    assert ConsumerCursor.objects.get(name=follows.SEARCH_READER).seq <= index_place
    run_pending()
    assert matches_told(people["health_member"]) == ["发票须知"]


def test_the_search_page_and_following_page(org_units, people, invoices):
    client = login_client(people["health_member"])
    page = client.get(reverse("search:page"), {"q": "发票"}).content.decode()
    assert 'aria-label="Stop following new matches of 税务发票"' in page
    stopped = client.post(
        reverse("feeds:unfollow"), {"kind": "search", "target_id": invoices.pk}, HTTP_HX_REQUEST="true"
    )
    assert stopped.status_code == 200 and "Follow new matches of 税务发票" in stopped.content.decode()
    assert not Follow.objects.filter(kind="search").exists()
    client.post(reverse("feeds:follow"), {"kind": "search", "target_id": invoices.pk})
    listed = client.get(reverse("feeds:following")).content.decode()
    assert "税务发票" in listed and "/search/?q=" in listed


def test_the_api(client_for, people, invoices):
    other = client_for(people["tax_member"])
    refused = other.post(
        "/api/v1/follows", {"kind": "search", "target_id": invoices.pk}, content_type="application/json"
    )
    assert refused.status_code == 404
    own = client_for(people["health_member"]).get("/api/v1/follows").json()["items"]
    assert [(f["kind"], f["label"]) for f in own] == [("search", "税务发票")]
