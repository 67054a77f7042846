"""The notification list: notifications made from the log appear after the access process's
actions, link to what they are about, and are marked read one by one or all at once. The log
reader runs on commit, which never happens inside a test transaction: run it explicitly."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sharehub.access import services
from sharehub.events.consumers import run_pending
from sharehub.feeds.models import Notification
from tests import factories


@pytest.fixture
def conditional(org_units, people):
    return factories.resource(
        org_units["tax"], by=people["tax_steward"], title="企业纳税明细", sharing_type="conditional"
    )


def ask(person, resource):
    return services.create_request(
        person, resource, purpose="核验", use_category="verification", period_days=10, accept_terms=True
    )


def test_notifications_follow_the_process(client_for, people, conditional):
    access_request = ask(people["social_member"], conditional)
    run_pending()
    steward = client_for(people["tax_steward"])
    html = steward.get(reverse("feeds:list")).content.decode()
    assert "social_member (社会保险中心) requests access to 企业纳税明细." in html
    assert f'value="/requests/{access_request.pk}/"' in html  # the link, followed after marking read
    assert "sh-unread-count" in html  # the bell shows a count

    services.approve_request(people["tax_steward"], access_request)
    run_pending()
    member = client_for(people["social_member"])
    html = member.get(reverse("feeds:list")).content.decode()
    assert "Your request for 企业纳税明细 was approved." in html
    assert "You may now read 企业纳税明细." in html
    assert '<span class="badge rounded-pill text-bg-danger sh-unread-count">2</span>' in html


def test_rejection_and_revocation_reasons_reach_the_requester(client_for, people, conditional):
    first = ask(people["social_member"], conditional)
    services.reject_request(people["tax_steward"], first, reason="用途不符")
    second = ask(people["social_member"], conditional)
    services.approve_request(people["tax_steward"], second)
    services.revoke_grant(people["tax_steward"], second.grant, reason="项目结束")
    run_pending()
    html = client_for(people["social_member"]).get(reverse("feeds:list")).content.decode()
    assert "was rejected: 用途不符" in html
    assert "was revoked: 项目结束" in html


def test_mark_one_read_then_all(client_for, people, conditional):
    ask(people["social_member"], conditional)
    ask(people["health_member"], conditional)
    run_pending()
    steward = people["tax_steward"]
    client = client_for(steward)
    first, second = Notification.objects.filter(recipient=steward).order_by("id")
    response = client.post(reverse("feeds:read", args=[first.pk]), {"next": f"/requests/{first.event.target_id}/"})
    assert response.status_code == 302 and response["Location"] == f"/requests/{first.event.target_id}/"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None
    html = client.get(reverse("feeds:list") + "?unread=1").content.decode()
    assert f'data-id="{second.pk}"' in html and f'data-id="{first.pk}"' not in html
    response = client.post(reverse("feeds:read_all"), {"next": "https://evil.example.com/"})
    assert response.status_code == 302 and response["Location"] == reverse("feeds:list")
    assert not Notification.objects.filter(recipient=steward, read_at__isnull=True).exists()
    html = client.get(reverse("feeds:list")).content.decode()
    assert '<span class="sh-bell-count d-none">' in html and ' sh-unread"' not in html  # no count, no unread row


def test_someone_elses_notification_is_left_alone(client_for, people, conditional):
    ask(people["social_member"], conditional)
    run_pending()
    mine = Notification.objects.get(recipient=people["tax_steward"])
    other = client_for(people["health_member"])
    assert other.post(reverse("feeds:read", args=[mine.pk])).status_code == 302
    mine.refresh_from_db()
    assert mine.read_at is None
    assert "企业纳税明细" not in other.get(reverse("feeds:list")).content.decode()


def test_pages_need_sign_in_and_post(client, people):
    assert client.get(reverse("feeds:list")).status_code == 302
    assert client.post(reverse("feeds:read_all")).status_code == 302
    signed_in = factories.person("plain")
    from tests.conftest import login_client

    assert login_client(signed_in).get(reverse("feeds:read_all")).status_code == 405
    html = login_client(signed_in).get(reverse("feeds:list")).content.decode()
    assert "No notifications yet." in html


def test_notifications_name_people_by_display_name_and_department(client_for, people, org_units, conditional):
    """Issue 10: "machao申请共享…" showed the login name; the page shows who it is and from where."""
    from sharehub.org import services as org

    requester = people["social_member"]
    requester.display_name = "马超"
    requester.save(update_fields=["display_name"])
    org.set_membership(None, requester, org_units["health"], "member")
    ask(requester, conditional)
    run_pending()
    steward = client_for(people["tax_steward"])
    html = steward.get(reverse("feeds:list")).content.decode()
    assert "马超 (社会保险中心, 卫生健康委员会) requests access to 企业纳税明细." in html
    assert "social_member" not in html
    steward.cookies["django_language"] = "zh-hans"
    html = steward.get(reverse("feeds:list")).content.decode()
    assert "马超（社会保险中心、卫生健康委员会）申请共享“企业纳税明细”。" in html


def test_notification_page_resolves_people_in_one_query(client_for, people, org_units, conditional):
    """The actors of a page are looked up together: the statement count does not grow with the page."""
    client = client_for(people["tax_steward"])
    ask(people["social_member"], conditional)
    run_pending()
    client.get(reverse("feeds:list"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(reverse("feeds:list"))
    for n in range(6):
        asker = factories.member(org_units["health"], username=f"asker{n}")
        ask(asker, conditional)
    run_pending()
    with CaptureQueriesContext(connection) as seven:
        html = client.get(reverse("feeds:list")).content.decode()
    assert "asker5 (卫生健康委员会) requests access" in html
    assert len(seven.captured_queries) == len(one.captured_queries)


@pytest.mark.parametrize(
    "target",
    ["²", "feeds:list", "admin:index", "//evil.example.com/", "/\\evil.example.com", "https://evil.example.com/", ""],
)
def test_marking_read_goes_back_only_to_a_path_on_this_site(client_for, people, target):
    """A bare word was reversed as a view name by redirect() (a 500 for '²', found by the hostile-input
    property test); other hosts, with or without a scheme, are never followed."""
    response = client_for(people["tax_steward"]).post(reverse("feeds:read_all"), {"next": target})
    assert response.status_code == 302 and response["Location"] == reverse("feeds:list")


def test_marking_read_goes_back_to_the_page_it_came_from(client_for, people):
    response = client_for(people["tax_steward"]).post(reverse("feeds:read_all"), {"next": "/resources/?page=2"})
    assert response.status_code == 302 and response["Location"] == "/resources/?page=2"
