"""Review of drafts: a member submits a draft, the stewards and heads of its department are told and
find it in their queue, they publish it or send it back with a reason, and the submitter is told.
Who reviews is the policy's REVIEW action. The log reader runs on commit, which never happens inside a
test transaction: `run_pending` runs it explicitly."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from sharehub.catalog import services
from sharehub.catalog.models import DraftReview, Resource
from sharehub.errors import Conflict, Invalid
from sharehub.events.consumers import run_pending
from sharehub.events.models import Event
from sharehub.feeds.models import Notification
from sharehub.policy.engine import Action, can, visible
from tests import factories
from tests.api.conftest import Api

QUEUE = reverse("catalog:reviews")


@pytest.fixture
def tax_head(org_units):
    return factories.member(org_units["tax"], "head", username="tax_head")


@pytest.fixture
def draft(org_units, people):
    return factories.resource(org_units["tax"], by=people["tax_member"], publish=False, title="待审的草稿")


def submit(client, resource, note=""):
    return client.post(reverse("catalog:review_submit", args=[resource.code]), {"note": note})


def pending(resource) -> DraftReview | None:
    return DraftReview.objects.filter(resource=resource, outcome=DraftReview.Outcome.PENDING).first()


def notified(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).values_list("event__action", flat=True))


# --- submitting


def test_member_submits_a_draft_and_the_stewards_and_heads_are_told(client_for, people, tax_head, draft):
    member = client_for(people["tax_member"])
    page = member.get(reverse("catalog:detail", args=[draft.code])).content.decode()
    assert reverse("catalog:review_submit", args=[draft.code]) in page

    response = submit(member, draft, "请审核，谢谢")
    assert response.status_code == 302
    review = pending(draft)
    assert review is not None and review.submitted_by == people["tax_member"] and review.note == "请审核，谢谢"
    event = Event.objects.get(action="resource.review_requested")
    assert event.details["recipients"] == sorted([people["tax_steward"].pk, tax_head.pk])
    assert event.details["review"] == review.pk

    run_pending()
    assert notified(people["tax_steward"]) == ["resource.review_requested"]
    assert notified(tax_head) == ["resource.review_requested"]
    assert notified(people["tax_member"]) == []
    assert notified(people["hr_head"]) == []
    html = client_for(people["tax_steward"]).get(reverse("feeds:list")).content.decode()
    assert "tax_member (税务局) submitted the draft 待审的草稿 for review." in html
    assert f'value="/resources/{draft.code}/"' in html

    again = member.get(reverse("catalog:detail", args=[draft.code])).content.decode()
    assert "sh-review-pending" in again and "请审核，谢谢" in again
    assert reverse("catalog:review_submit", args=[draft.code]) not in again


def test_a_draft_waits_for_review_only_once(client_for, people, draft):
    member = client_for(people["tax_member"])
    submit(member, draft)
    response = submit(member, draft)
    assert response.status_code == 302
    assert DraftReview.objects.filter(resource=draft).count() == 1
    assert "already waiting for review" in member.get(response["Location"]).content.decode()


def test_only_drafts_are_submitted(people, org_units):
    published = factories.resource(org_units["tax"], by=people["tax_steward"])
    with pytest.raises(Invalid):
        services.submit_for_review(people["tax_member"], published)
    assert not DraftReview.objects.exists()


def test_the_publish_form_saves_and_submits_in_one_step(client_for, people, org_units):
    response = client_for(people["tax_member"]).post(
        reverse("catalog:create"),
        {
            "owner_department": org_units["tax"].pk,
            "kind": "document",
            "title": "新的通知草稿",
            "update_frequency": "irregular",
            "sharing_type": "open",
            "scope": "all",
            "action": "review",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    resource = Resource.objects.get(title="新的通知草稿")
    assert resource.status == Resource.Status.DRAFT
    assert pending(resource).submitted_by == people["tax_member"]
    assert Event.objects.filter(action="resource.review_requested", target_id=str(resource.pk)).count() == 1


def test_the_publish_form_offers_review_to_members(client_for, people):
    html = client_for(people["tax_member"]).get(reverse("catalog:create")).content.decode()
    assert 'value="review"' in html
    assert 'id="publish-button"' not in html


# --- the queue


def test_the_queue_lists_the_drafts_submitted_in_the_reviewers_departments(client_for, people, org_units, draft):
    health_steward = factories.member(org_units["health"], "steward", username="health_steward")
    health_draft = factories.resource(org_units["health"], by=people["health_member"], publish=False, title="卫健草稿")
    quiet_draft = factories.resource(org_units["tax"], by=people["tax_member"], publish=False, title="未提交草稿")
    services.submit_for_review(people["tax_member"], draft, "note")
    services.submit_for_review(people["health_member"], health_draft)

    def listed(user) -> set[str]:
        response = client_for(user).get(QUEUE)
        assert response.status_code == 200
        return {r.resource.title for r in response.context["reviews"]}

    assert listed(people["tax_steward"]) == {draft.title}
    assert listed(health_steward) == {health_draft.title}
    assert listed(people["admin"]) == {draft.title, health_draft.title}
    for outsider in ("tax_member", "hr_head", "health_member", "social_member", "auditor"):
        assert listed(people[outsider]) == set(), outsider
    html = client_for(people["hr_head"]).get(QUEUE).content.decode()
    assert draft.title not in html and draft.code not in html
    assert quiet_draft.title not in client_for(people["tax_steward"]).get(QUEUE).content.decode()


def test_the_queue_is_in_the_navigation_of_reviewers_only(client_for, people, draft):
    services.submit_for_review(people["tax_member"], draft)
    steward = client_for(people["tax_steward"]).get(reverse("catalog:list")).content.decode()
    assert QUEUE in steward
    assert '<span class="badge rounded-pill text-bg-light sh-review-count">1</span>' in steward
    assert QUEUE not in client_for(people["tax_member"]).get(reverse("catalog:list")).content.decode()


def test_the_queue_speaks_chinese(client_for, people, draft):
    services.submit_for_review(people["tax_member"], draft)
    client = client_for(people["tax_steward"])
    client.cookies["django_language"] = "zh-hans"
    with translation.override("zh-hans"):
        html = client.get(QUEUE, headers={"accept-language": "zh-hans"}).content.decode()
    assert "待审核" in html
    assert "退回" in html


def test_the_list_marks_drafts_awaiting_review(client_for, people, draft):
    services.submit_for_review(people["tax_member"], draft)
    html = client_for(people["tax_member"]).get(reverse("catalog:list")).content.decode()
    assert html.count("sh-in-review") == 1


# --- deciding


def test_reviewer_publishes_from_the_queue_and_the_submitter_is_told(client_for, people, draft):
    services.submit_for_review(people["tax_member"], draft)
    response = client_for(people["tax_steward"]).post(
        reverse("catalog:review_publish", args=[draft.code]), {"from": "queue"}
    )
    assert response.status_code == 302 and response["Location"] == QUEUE
    draft.refresh_from_db()
    assert draft.status == Resource.Status.PUBLISHED and draft.published_at is not None
    review = DraftReview.objects.get(resource=draft)
    assert review.outcome == DraftReview.Outcome.PUBLISHED and review.decided_by == people["tax_steward"]
    event = Event.objects.get(action="resource.published", target_id=str(draft.pk))
    assert event.details["recipients"] == [people["tax_member"].pk]
    run_pending()
    html = client_for(people["tax_member"]).get(reverse("feeds:list")).content.decode()
    assert "tax_steward (税务局) published your draft 待审的草稿." in html
    assert client_for(people["tax_steward"]).get(QUEUE).context["reviews"].__len__() == 0


def test_reviewer_sends_back_with_a_reason_and_the_submitter_resubmits(client_for, people, draft):
    services.submit_for_review(people["tax_member"], draft)
    steward = client_for(people["tax_steward"])
    url = reverse("catalog:review_return", args=[draft.code])

    assert steward.post(url, {"reason": "  "}).status_code == 302
    assert pending(draft) is not None  # no reason, not sent back

    assert steward.post(url, {"reason": "缺少数据来源说明"}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == Resource.Status.DRAFT
    review = DraftReview.objects.get(resource=draft)
    assert review.outcome == DraftReview.Outcome.RETURNED and review.reason == "缺少数据来源说明"
    run_pending()
    assert notified(people["tax_member"]) == ["resource.review_returned"]
    member = client_for(people["tax_member"])
    assert "sent your draft 待审的草稿 back: 缺少数据来源说明" in member.get(reverse("feeds:list")).content.decode()
    page = member.get(reverse("catalog:detail", args=[draft.code])).content.decode()
    assert "sh-review-returned" in page and "缺少数据来源说明" in page

    submit(member, draft, "已补充")
    assert pending(draft).note == "已补充"
    assert DraftReview.objects.filter(resource=draft).count() == 2


def test_publishing_or_archiving_from_the_detail_page_settles_the_review(client_for, people, org_units, draft):
    other = factories.resource(org_units["tax"], by=people["tax_member"], publish=False)
    services.submit_for_review(people["tax_member"], draft)
    services.submit_for_review(people["tax_member"], other)
    steward = client_for(people["tax_steward"])
    steward.post(reverse("catalog:transition", args=[draft.code, "publish"]))
    steward.post(reverse("catalog:transition", args=[other.code, "archive"]))
    assert DraftReview.objects.get(resource=draft).outcome == DraftReview.Outcome.PUBLISHED
    assert DraftReview.objects.get(resource=other).outcome == DraftReview.Outcome.CLOSED
    run_pending()
    assert sorted(notified(people["tax_member"])) == ["resource.archived", "resource.published"]


def test_a_decided_review_cannot_be_decided_again(client_for, people, draft):
    services.submit_for_review(people["tax_member"], draft)
    services.publish_reviewed(people["tax_steward"], draft)
    with pytest.raises(Conflict):
        services.return_draft(people["tax_steward"], draft, "晚了")


@pytest.mark.parametrize("route", ["catalog:review_publish", "catalog:review_return"])
def test_who_may_not_review_gets_403_or_404(client_for, people, draft, route):
    services.submit_for_review(people["tax_member"], draft)
    url = reverse(route, args=[draft.code])
    assert client_for(people["tax_member"]).post(url, {"reason": "x"}).status_code == 403  # sees the draft
    for outsider in ("hr_head", "health_member", "auditor"):
        assert client_for(people[outsider]).post(url, {"reason": "x"}).status_code == 404, outsider
    assert pending(draft) is not None


def test_outsiders_cannot_submit_a_draft(client_for, people, draft):
    assert submit(client_for(people["hr_head"]), draft).status_code == 404
    assert not DraftReview.objects.exists()


def test_policy_review_decision_and_filter_agree(people, org_units, tax_head, draft):
    health_draft = factories.resource(org_units["health"], by=people["health_member"], publish=False)
    published = factories.resource(org_units["tax"], by=people["tax_steward"])
    resources = [draft, health_draft, published]
    for who, person in [*people.items(), ("tax_head", tax_head)]:
        allowed = {r.pk for r in resources if can(person, Action.REVIEW, r)}
        filtered = set(visible(person, Resource.objects.filter(pk__in=[r.pk for r in resources]), Action.REVIEW)
                       .values_list("pk", flat=True))  # fmt: skip
        assert allowed == filtered, who
    assert can(people["tax_steward"], Action.REVIEW, draft).code == "owner_reviewer"
    assert can(tax_head, Action.REVIEW, draft)
    assert can(people["tax_member"], Action.REVIEW, draft).code == "not_reviewer"
    assert not can(people["hr_head"], Action.REVIEW, draft)


# --- API


def test_api_review_flow(people, draft):
    member, steward = Api(people["tax_member"]), Api(people["tax_steward"])
    created = member.post(f"/resources/{draft.code}/review", {"note": "请审"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["outcome"] == "pending" and body["resource"]["code"] == draft.code and body["note"] == "请审"
    assert member.post(f"/resources/{draft.code}/review", {}).json()["error"]["code"] == "conflict"

    queue = steward.get("/reviews").json()
    assert [item["resource"]["code"] for item in queue["items"]] == [draft.code]
    assert member.get("/reviews").json()["items"] == []
    assert Api(people["hr_head"]).get("/reviews").json()["items"] == []

    returned = steward.post(f"/resources/{draft.code}/review/return", {"reason": "补充说明"})
    assert returned.status_code == 200 and returned.json()["outcome"] == "returned"
    assert returned.json()["reason"] == "补充说明" and returned.json()["decided_by"]["username"] == "tax_steward"
    assert steward.get("/reviews").json()["items"] == []

    member.post(f"/resources/{draft.code}/review", {})
    published = steward.post(f"/resources/{draft.code}/review/publish")
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert steward.post(f"/resources/{draft.code}/review/publish").status_code == 409


def test_api_review_permissions_and_bad_input(people, draft):
    services.submit_for_review(people["tax_member"], draft)
    member, outsider, steward = Api(people["tax_member"]), Api(people["hr_head"]), Api(people["tax_steward"])
    assert member.post(f"/resources/{draft.code}/review/publish").status_code == 403
    assert member.post(f"/resources/{draft.code}/review/return", {"reason": "x"}).status_code == 403
    assert outsider.post(f"/resources/{draft.code}/review/publish").status_code == 404
    assert outsider.post(f"/resources/{draft.code}/review/return", {"reason": "x"}).status_code == 404
    assert outsider.post(f"/resources/{draft.code}/review", {}).status_code == 404
    assert Api().get("/reviews").status_code == 401
    no_reason = steward.post(f"/resources/{draft.code}/review/return", {"reason": ""})
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["error"]["fields"]
    assert steward.post(f"/resources/{draft.code}/review/return", {"reason": "x", "extra": 1}).status_code == 422
    assert steward.get("/reviews", {"cursor": "nonsense"}).status_code == 422
    assert pending(draft) is not None


def test_api_queue_pages_with_a_cursor(people, org_units):
    drafts = [factories.resource(org_units["tax"], by=people["tax_member"], publish=False) for _ in range(3)]
    for resource in drafts:
        services.submit_for_review(people["tax_member"], resource)
    steward = Api(people["tax_steward"])
    first = steward.get("/reviews", {"limit": 2}).json()
    second = steward.get("/reviews", {"limit": 2, "cursor": first["next_cursor"]}).json()
    seen = [i["resource"]["code"] for i in first["items"] + second["items"]]
    assert seen == [r.code for r in drafts] and second["next_cursor"] is None


def test_the_author_of_a_published_draft_is_told_once_as_its_submitter(people, tax_head, draft):
    """The author follows the draft (as its author) and is named by the publishing event: one notification,
    as the one involved, whichever log reader runs first."""
    run_pending()  # the author now follows it
    services.submit_for_review(people["tax_member"], draft, "")
    services.publish_reviewed(tax_head, draft)
    run_pending()
    told = Notification.objects.filter(recipient=people["tax_member"], event__action="resource.published")
    assert list(told.values_list("reason", flat=True)) == [Notification.Reason.INVOLVED]
