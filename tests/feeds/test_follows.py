"""Follows: who hears of what, under the policy at the time the notification is made; department
subscriptions and opting out; following by default; the API and the pages. The log readers run on
commit, which never happens inside a test transaction: `run_pending` runs them."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sharehub.access import services as access
from sharehub.catalog import services as catalog
from sharehub.catalog.models import Category, Tag
from sharehub.errors import Forbidden, Invalid, NotFound
from sharehub.events.consumers import run_pending
from sharehub.feeds import follows
from sharehub.feeds.models import Follow, Notification
from sharehub.policy.engine import Action, can
from tests import factories
from tests.conftest import login_client


@pytest.fixture
def notice(org_units, people):
    return factories.resource(org_units["tax"], by=people["tax_steward"], title="办税指南")


def told(person) -> list[str]:
    return list(
        Notification.objects.filter(recipient=person, reason="following").values_list("event__action", flat=True)
    )


def test_a_follower_hears_of_an_update_and_the_author_does_not(people, notice):
    follows.follow(people["health_member"], "resource", notice.pk)
    run_pending()
    catalog.update_resource(people["tax_steward"], notice, {"summary": "新版"}, note="更新")
    run_pending()
    assert told(people["health_member"]) == ["resource.updated"]
    assert told(people["tax_steward"]) == []  # the actor (who follows it as its author) is not told


def test_new_items_reach_followers_of_the_department_tag_category_and_project(org_units, people):
    category = Category.objects.create(name="税收")
    tag = Tag.objects.create(name="发票")
    followers = {
        "department": (people["health_member"], org_units["tax"].pk),
        "tag": (people["social_member"], tag.pk),
        "category": (people["hr_head"], category.pk),
    }
    for kind, (person, number) in followers.items():
        follows.follow(person, kind, number)
    progress = factories.resource(org_units["tax"], by=people["tax_steward"], kind="progress", publish=False)
    follows.follow(people["tax_member"], "project", progress.project_id)
    run_pending()
    fresh = factories.resource(
        org_units["tax"], by=people["tax_steward"], category=category, tags=["发票"], title="发票新规"
    )
    catalog.transition(people["tax_steward"], progress, "publish")
    run_pending()
    assert told(people["health_member"]) == ["resource.published"] * 2  # the department published both
    assert told(people["social_member"]) == told(people["hr_head"]) == ["resource.published"]
    assert told(people["tax_member"]) == ["resource.published"]
    sentence = login_client(people["social_member"]).get(reverse("feeds:list")).content.decode()
    assert f"published {fresh.code} 发票新规" in sentence


def test_nobody_hears_of_what_they_may_not_see(org_units, people):
    private = factories.resource(org_units["tax"], by=people["tax_steward"], scope=[org_units["tax"]], title="内部文件")
    follows.follow(people["health_member"], "department", org_units["tax"].pk)
    follows.follow(people["tax_member"], "department", org_units["tax"].pk)
    run_pending()
    catalog.update_resource(people["tax_steward"], private, {"summary": "x"})
    factories.resource(org_units["tax"], by=people["tax_steward"], scope=[org_units["tax"]], title="另一份内部文件")
    run_pending()
    assert told(people["health_member"]) == []
    assert told(people["tax_member"]) == ["resource.published"]


def test_access_lost_before_delivery_means_no_notification(org_units, people, notice):
    follows.follow(people["health_member"], "resource", notice.pk)
    run_pending()
    catalog.update_resource(people["tax_steward"], notice, {"summary": "改"})
    # the scope narrows after the event is written and before the reader delivers it
    catalog.update_resource(
        people["tax_steward"], notice, {"scope_all": False, "scope_departments": [org_units["tax"]]}
    )
    run_pending()
    assert told(people["health_member"]) == []


def test_a_following_reaching_its_end_date_stops(people, notice, monkeypatch):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    follows.follow(people["health_member"], "resource", notice.pk, until=tomorrow)
    run_pending()
    later = timezone.now() + dt.timedelta(days=3)
    monkeypatch.setattr(timezone, "now", lambda: later)
    catalog.update_resource(people["tax_steward"], notice, {"summary": "三天后"})
    run_pending()
    assert told(people["health_member"]) == []


def test_department_subscription_and_opting_out(org_units, people, notice):
    hr_dataset = factories.resource(org_units["hr"], by=people["hr_head"], title="参保名单")
    with pytest.raises(Forbidden):
        follows.subscribe_department(people["social_member"], org_units["social"].pk, "resource", hr_dataset.pk)
    follows.subscribe_department(people["tax_steward"], org_units["tax"].pk, "resource", notice.pk)
    follows.unfollow(people["tax_member"], "resource", notice.pk)  # opts out: an own follow, off
    assert Follow.objects.get(person=people["tax_member"]).delivery == "off"
    other = factories.member(org_units["tax"], "member", username="tax_member_2")
    run_pending()
    catalog.update_resource(people["admin"], notice, {"summary": "管理员改"})
    run_pending()
    assert told(other) == ["resource.updated"]
    assert told(people["tax_member"]) == []
    follows.follow(people["tax_member"], "resource", notice.pk)  # back in
    assert follows.unsubscribe_department(people["tax_steward"], org_units["tax"].pk, "resource", notice.pk)


def test_authors_and_requesters_follow_by_default(org_units, people):
    conditional = factories.resource(
        org_units["tax"], by=people["tax_steward"], sharing_type="conditional", title="纳税明细"
    )
    access.create_request(
        people["health_member"], conditional, purpose="核验", use_category="verification", period_days=10,
        accept_terms=True,
    )  # fmt: skip
    run_pending()
    assert Follow.objects.filter(person=people["tax_steward"], kind="resource", target_id=conditional.pk).exists()
    assert Follow.objects.filter(person=people["health_member"], kind="resource", target_id=conditional.pk).exists()


@pytest.mark.parametrize(
    ("kind", "target_id", "field"),
    [
        ("planet", 1, "kind"),
        ("resource", 0, "target_id"),
        ("resource", "abc", "target_id"),
        ("resource", True, "target_id"),
    ],
)
def test_bad_follows_name_the_field(people, kind, target_id, field):
    with pytest.raises(Invalid) as error:
        follows.follow(people["tax_member"], kind, target_id)
    assert field in error.value.fields


def test_unknown_or_unseen_targets_are_not_found(org_units, people):
    private = factories.resource(org_units["tax"], by=people["tax_steward"], scope=[org_units["tax"]])
    for kind, number in (("resource", private.pk), ("resource", 999999), ("tag", 999999), ("dataset", private.pk)):
        with pytest.raises(NotFound):
            follows.follow(people["health_member"], kind, number)
    assert not Follow.objects.filter(person=people["health_member"]).exists()


def test_the_api(client_for, people, notice):
    client = client_for(people["health_member"])
    url = "/api/v1/follows"
    made = client.post(url, {"kind": "resource", "target_id": notice.pk}, content_type="application/json")
    assert made.status_code == 200, made.content
    assert made.json()["label"] == f"{notice.code} 办税指南" and made.json()["delivery"] == "in_app"
    again = client.post(
        url, {"kind": "resource", "target_id": notice.pk, "until": "2099-01-01"}, content_type="application/json"
    )
    assert again.status_code == 422 and "until" in again.json()["error"]["fields"]
    past = client.post(
        url, {"kind": "resource", "target_id": notice.pk, "until": "2020-01-01"}, content_type="application/json"
    )
    assert past.status_code == 422 and "until" in past.json()["error"]["fields"]
    odd = client.post(
        url, {"kind": "resource", "target_id": notice.pk, "colour": "red"}, content_type="application/json"
    )
    assert odd.status_code == 422
    assert (
        client.post(url, {"kind": "resource", "target_id": 10**6}, content_type="application/json").status_code == 404
    )
    listed = client.get(url).json()["items"]
    assert [(f["kind"], f["target_id"]) for f in listed] == [("resource", notice.pk)]
    gone = client.post(f"{url}/unfollow", {"kind": "resource", "target_id": notice.pk}, content_type="application/json")
    assert gone.json() == {"changed": True}
    assert client.get(url).json()["items"] == []
    anonymous = Client().get(url)
    assert anonymous.status_code in (401, 403)


def test_the_pages(client_for, org_units, people, notice):
    client = client_for(people["health_member"])
    page = client.get(reverse("catalog:detail", args=[notice.code])).content.decode()
    assert "sh-follow-button" in page
    swapped = client.post(reverse("feeds:follow"), {"kind": "resource", "target_id": notice.pk}, HTTP_HX_REQUEST="true")
    assert swapped.status_code == 200 and "sh-unfollow" in swapped.content.decode()
    listed = client.get(reverse("feeds:following")).content.decode()
    assert "办税指南" in listed and f"/resources/{notice.code}/" in listed
    back = client.post(reverse("feeds:unfollow"), {"kind": "resource", "target_id": notice.pk, "next": "/following/"})
    assert back.status_code == 302 and back["Location"] == "/following/"
    assert not Follow.objects.filter(person=people["health_member"]).exists()
    bad = client.post(reverse("feeds:follow"), {"kind": "resource", "target_id": "x", "next": "/following/"})
    assert bad.status_code == 302  # with the reason as a message on the page it goes back to
    assert "The id of what to follow" in client.get("/following/").content.decode()
    assert client.post(reverse("feeds:follow"), {"kind": "tag", "target_id": 999999}).status_code == 404
    department = client.get(reverse("org:department", args=[org_units["tax"].pk])).content.decode()
    assert 'id="follow-department-' in department
    Tag.objects.create(name="发票")
    listed = client.get(reverse("catalog:list") + "?tag=发票").content.decode()
    assert 'id="follow-tag-' in listed


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    scoped=st.lists(st.sampled_from(["tax", "hr", "social", "health"]), max_size=3, unique=True),
    kinds=st.lists(st.sampled_from(["resource", "department"]), min_size=1, max_size=2, unique=True),
)
def test_followers_are_told_exactly_when_the_policy_lets_them_see(org_units, people, scoped, kinds):
    Notification.objects.all().delete()
    Follow.objects.all().delete()
    scope = [org_units[name] for name in scoped] or None
    item = factories.resource(org_units["tax"], by=people["tax_steward"], scope=scope, publish=False)
    everyone = [p for name, p in people.items() if name != "tax_steward"]
    following = set()
    for person in everyone:
        for kind in kinds:
            number = item.pk if kind == "resource" else org_units["tax"].pk
            with contextlib.suppress(NotFound):  # a draft is unknown outside its department
                follows.follow(person, kind, number)
                following.add(person.pk)
    run_pending()
    catalog.transition(people["tax_steward"], item, "publish")
    run_pending()
    item.refresh_from_db()
    for person in everyone:
        heard = told(person) == ["resource.published"]
        assert heard == (person.pk in following and can(person, Action.VIEW, item).allowed), (person, scoped, kinds)


def test_the_list_filters_by_type(client_for, people, notice):
    follows.follow(people["health_member"], "resource", notice.pk)
    run_pending()
    catalog.update_resource(people["admin"], notice, {"summary": "管理员改"})
    run_pending()
    client = client_for(people["health_member"])
    following = client.get(reverse("feeds:list") + "?type=following").content.decode()
    assert "updated" in following and 'value="following" selected' in following
    assert "updated" not in client.get(reverse("feeds:list") + "?type=requests").content.decode()
    assert client.get("/api/v1/notifications?type=following").json()["items"][0]["action"] == "resource.updated"
    assert client.get("/api/v1/notifications?type=requests").json()["items"] == []
    bad = client.get("/api/v1/notifications?type=planets")
    assert bad.status_code == 422 and "type" in bad.json()["error"]["fields"]
