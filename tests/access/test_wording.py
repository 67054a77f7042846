"""How the access pages word time and refusals (issue 10): days left in days, overdue in days, and
"you can already read this" as a note with a link rather than an error card."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sharehub.access import services
from sharehub.access.models import AccessRequest, Grant
from sharehub.access.views import days_left
from tests import factories
from tests.access.conftest import make_request


def html_of(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(days=29, hours=1), "29 days left"),
        (timedelta(days=28, hours=23), "29 days left"),  # a 29-day grant made a minute ago
        (timedelta(days=1), "1 day left"),
        (timedelta(hours=5), "ends today"),
        (timedelta(seconds=-1), ""),
    ],
)
def test_days_left_counts_calendar_days(delta, text):
    now = timezone.make_aware(datetime(2026, 3, 10, 10, 30))  # mid-morning where the reader is
    assert days_left(now + delta, now) == text


def _grant_ending_in(people, resource, days: int) -> Grant:
    access_request = make_request(people["social_member"], resource, period_days=days)
    services.approve_request(people["tax_steward"], access_request)
    return Grant.objects.get(request=access_request)


def test_my_grants_say_days_left_in_days(client_for, people, conditional):
    """Issue 10: "剩余 4 周，1 日" (Django's timeuntil) becomes "还剩 29 天"."""
    grant = _grant_ending_in(people, conditional, 30)
    end = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=29), datetime.min.time()))
    Grant.objects.filter(pk=grant.pk).update(valid_until=end + timedelta(hours=12))
    client = client_for(people["social_member"])
    html = html_of(client.get(reverse("access:grants")))
    assert "29 days left" in html and "weeks" not in html
    html = html_of(client.get(reverse("access:detail", args=[grant.request_id])))
    assert "29 days left" in html
    client.cookies["django_language"] = "zh-hans"
    html = html_of(client.get(reverse("access:grants")))
    assert "还剩 29 天" in html and "周" not in html


def test_overdue_requests_say_by_how_many_days(client_for, people, conditional):
    access_request = make_request(people["social_member"], conditional)
    AccessRequest.objects.filter(pk=access_request.pk).update(deadline_at=timezone.now() - timedelta(days=3, hours=2))
    client = client_for(people["tax_steward"])
    html = html_of(client.get(reverse("access:inbox")))
    assert "overdue by 3 days" in html
    client.cookies["django_language"] = "zh-hans"
    assert "已超期 3 天" in html_of(client.get(reverse("access:detail", args=[access_request.pk])))
    AccessRequest.objects.filter(pk=access_request.pk).update(deadline_at=timezone.now() - timedelta(hours=2))
    assert "已超期不到 1 天" in html_of(client.get(reverse("access:inbox")))


def test_already_readable_is_a_note_with_a_link_not_an_error(client_for, people, conditional):
    """A member of the owner department opening the request form is told they can read it."""
    for who in ("tax_member", "admin"):
        response = client_for(people[who]).get(reverse("access:request", args=[conditional.code]))
        html = html_of(response)
        assert response.status_code == 200
        assert "sh-already-readable" in html and "alert-info" in html
        assert "You can already read this resource." in html
        assert f'href="{reverse("catalog:detail", args=[conditional.code])}"' in html
        assert "This resource cannot be requested" not in html and "border-danger" not in html
        assert 'id="request-form"' not in html
    # Posting the form anyway changes nothing.
    response = client_for(people["tax_member"]).post(
        reverse("access:request", args=[conditional.code]),
        {"purpose": "x", "use_category": "verification", "period_days": "3", "accept_terms": "on"},
    )
    assert response.status_code == 200 and not AccessRequest.objects.exists()


def test_other_refusals_stay_refusals(client_for, people, org_units):
    restricted = factories.resource(org_units["tax"], by=people["tax_steward"], sharing_type="restricted")
    response = client_for(people["tax_member"]).get(reverse("access:request", args=[restricted.code]))
    assert response.status_code == 403 and "This resource cannot be requested" in html_of(response)
