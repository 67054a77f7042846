"""A narrowed approval (fewer fields, a shorter period, the requester instead of the department)
tells the requester that it was narrowed and what was cut: in the notification (page and API) and
on the request page (issue 10)."""

from __future__ import annotations

from django.urls import reverse

from sharehub.access import services
from sharehub.events.consumers import run_pending
from sharehub.events.models import Event
from sharehub.feeds.models import Notification
from tests.access.conftest import make_request


def html_of(response) -> str:
    return response.content.decode()


def _approval_text(client) -> str:
    response = client.get("/api/v1/notifications")
    assert response.status_code == 200
    [item] = [i for i in response.json()["items"] if i["action"] == "access.approved"]
    return item["text"]


def test_narrowed_approval_says_what_was_cut(client_for, people, org_units, dataset):
    requester = people["social_member"]
    access_request = make_request(
        requester, dataset, period_days=30, fields=["taxpayer_id", "amount"], for_department=org_units["social"]
    )
    services.approve_request(
        people["tax_steward"], access_request, period_days=7, fields=["amount"], requester_only=True
    )
    run_pending()
    event = Event.objects.filter(action="access.approved").get()
    assert event.details["narrowed"] == ["period_days", "fields", "requester_only"]
    assert event.details["fields_cut"] == ["taxpayer_id"]
    client = client_for(requester)
    expected = (
        "Your request for 纳税申报数据集 was approved, narrower than asked: 7 days instead of 30; "
        "without 纳税人识别号 (taxpayer_id); for you only, not all of 社会保险中心."
    )
    assert _approval_text(client) == expected
    assert expected in html_of(client.get(reverse("feeds:list")))
    html = html_of(client.get(reverse("access:detail", args=[access_request.pk])))
    assert "Approved narrower than asked" in html
    assert "7 days instead of the 30 asked" in html
    assert 'class="sh-cut-fields">Fields not granted:' in html and 'data-field="taxpayer_id"' in html
    assert "Granted to the requester only, not to all of 社会保险中心" in html
    client.cookies["django_language"] = "zh-hans"
    html = html_of(client.get(reverse("feeds:list")))
    assert (
        "您对“纳税申报数据集”的共享申请已按缩小的范围批准：期限 7 天（申请 30 天）；"
        "不含字段 纳税人识别号 (taxpayer_id)；仅授权给您本人，而非社会保险中心全体。"
    ) in html
    assert "已按缩小的范围批准" in html_of(client.get(reverse("access:detail", args=[access_request.pk])))


def test_narrowed_at_the_first_step_counts_against_what_was_asked(client_for, people, org_units):
    from tests import factories

    resource = factories.resource(
        org_units["tax"], by=people["tax_steward"], sharing_type="conditional", requires_head_approval=True
    )
    head = factories.member(org_units["tax"], "head", username="tax_head")
    access_request = make_request(people["social_member"], resource, period_days=60)
    services.approve_request(people["tax_steward"], access_request, period_days=20)
    services.approve_request(head, access_request)
    run_pending()
    assert "20 days instead of 60" in _approval_text(client_for(people["social_member"]))
    html = html_of(client_for(people["social_member"]).get(reverse("access:detail", args=[access_request.pk])))
    assert "20 days instead of the 60 asked" in html


def test_approval_as_asked_says_nothing_of_narrowing(client_for, people, dataset):
    access_request = make_request(people["social_member"], dataset, fields=["amount"])
    services.approve_request(people["tax_steward"], access_request)
    run_pending()
    client = client_for(people["social_member"])
    assert _approval_text(client) == "Your request for 纳税申报数据集 was approved."
    assert "sh-narrowed" not in html_of(client.get(reverse("access:detail", args=[access_request.pk])))
    assert Notification.objects.filter(recipient=people["social_member"]).count() == 2
