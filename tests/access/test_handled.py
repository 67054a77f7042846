"""已办 (issue 10): the inbox listed only pending requests; the handled tab lists the requests this
person decided, with the decision and its date, paginated at a constant statement count, on the
page and through the API."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sharehub.access import services
from tests import factories
from tests.access.conftest import make_request
from tests.api.conftest import Api


def html_of(response) -> str:
    return response.content.decode()


def _decide_some(people, org_units, conditional, n: int = 3, prefix: str = "asker"):
    steward = people["tax_steward"]
    done = []
    for i in range(n):
        asker = factories.member(org_units["health"], username=f"{prefix}{i}")
        access_request = make_request(asker, conditional)
        if i % 2:
            services.reject_request(steward, access_request, reason=f"理由{i}")
        else:
            services.approve_request(steward, access_request, note=f"同意{i}")
        done.append(access_request)
    return done


def test_handled_tab_lists_my_decisions_with_date(client_for, people, org_units, conditional):
    approved, rejected, _third = _decide_some(people, org_units, conditional)
    pending = make_request(people["social_member"], conditional)
    client = client_for(people["tax_steward"])
    inbox = html_of(client.get(reverse("access:inbox")))
    assert f'href="{reverse("access:handled")}"' in inbox  # the tab
    html = html_of(client.get(reverse("access:handled")))
    assert reverse("access:detail", args=[approved.pk]) in html
    assert reverse("access:detail", args=[rejected.pk]) in html
    assert reverse("access:detail", args=[pending.pk]) not in html
    assert 'data-kind="approved"' in html and 'data-kind="rejected"' in html
    assert "理由1" in html and "asker1 (卫生健康委员会)" not in html  # name and department apart
    assert "asker1" in html and "卫生健康委员会" in html
    rejected.refresh_from_db()
    assert rejected.decided_at.astimezone().strftime("%Y-%m-%d") in html
    client.cookies["django_language"] = "zh-hans"
    html = html_of(client.get(reverse("access:handled")))
    assert "已办" in html and "我审批过的申请" in html


def test_handled_shows_only_my_own_decisions(client_for, people, org_units, conditional):
    _decide_some(people, org_units, conditional, n=2)
    other_steward = factories.member(org_units["tax"], "steward", username="other_steward")
    html = html_of(client_for(other_steward).get(reverse("access:handled")))
    assert "You have not decided any request yet." in html
    # nor someone who only asked
    assert "You have not decided" in html_of(client_for(people["health_member"]).get(reverse("access:handled")))


def test_first_step_approval_is_a_decision_of_the_steward(client_for, people, org_units):
    resource = factories.resource(
        org_units["tax"], by=people["tax_steward"], sharing_type="conditional", requires_head_approval=True
    )
    access_request = make_request(people["social_member"], resource)
    services.approve_request(people["tax_steward"], access_request)
    html = html_of(client_for(people["tax_steward"]).get(reverse("access:handled")))
    assert 'data-kind="first_approval"' in html and "approved by the steward, sent to the head" in html
    assert "awaiting the head" in html  # the status now


def test_handled_statement_count_is_constant_and_pages(client_for, people, org_units, conditional, settings):
    client = client_for(people["tax_steward"])
    _decide_some(people, org_units, conditional, n=1)
    client.get(reverse("access:handled"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("access:handled"))
    more = _decide_some(people, org_units, conditional, n=27, prefix="more")
    with CaptureQueriesContext(connection) as many:
        html = html_of(client.get(reverse("access:handled")))
    assert len(many.captured_queries) == len(one.captured_queries)
    assert "1 / 2" in html  # 28 decisions, 25 a page
    assert reverse("access:detail", args=[more[-1].pk]) in html
    second = html_of(client.get(reverse("access:handled") + "?page=2"))
    assert second.count('data-kind="') == 3


def test_handled_api_matches_the_page(people, org_units, conditional):
    approved, rejected, third = _decide_some(people, org_units, conditional)
    api = Api(people["tax_steward"])
    response = api.get("/requests/handled", {"limit": 2})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [i["request"]["id"] for i in body["items"]] == [third.pk, rejected.pk]
    assert [i["decision"] for i in body["items"]] == ["approved", "rejected"]
    assert body["items"][1]["note"] == "理由1" and body["items"][1]["decided_at"]
    assert body["items"][0]["request"]["grant"]["id"]
    rest = api.get("/requests/handled", {"cursor": body["next_cursor"]}).json()
    assert [i["request"]["id"] for i in rest["items"]] == [approved.pk] and rest["next_cursor"] is None
    assert Api(people["health_member"]).get("/requests/handled").json()["items"] == []
    with CaptureQueriesContext(connection) as few:
        api.get("/requests/handled")
    _decide_some(people, org_units, conditional, n=4, prefix="more")
    with CaptureQueriesContext(connection) as many:
        assert len(api.get("/requests/handled").json()["items"]) == 7
    assert len(many.captured_queries) == len(few.captured_queries)
    assert Api().get("/requests/handled").status_code == 401
