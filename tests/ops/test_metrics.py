"""/metrics: who may scrape it, and what it counts (requests by route pattern, latency, rate-limit refusals,
webhook deliveries and mails by outcome) and reads from the database (log readers' lag, outboxes)."""

from __future__ import annotations

import ipaddress

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from sharehub.catalog import services as catalog
from sharehub.events.consumers import run_pending
from sharehub.events.models import ConsumerCursor
from sharehub.feeds import follows, mail, webhooks
from tests import factories
from tests.feeds.test_webhooks import Receiver

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-scrape-token-0123456789"


def scrape(**extra) -> dict[tuple[str, tuple], float]:
    """Every sample of an allowed scrape, by (name, sorted labels)."""
    response = Client().get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def refused(status: int, **extra) -> None:
    response = Client().get("/metrics", **extra)
    assert response.status_code == status
    assert b"sharehub_" not in response.content and b"# HELP" not in response.content


# ---- who may scrape


def test_with_nothing_set_only_loopback_scrapes():
    assert scrape()  # the test client comes from 127.0.0.1
    assert scrape(REMOTE_ADDR="::1")
    refused(403, REMOTE_ADDR="192.0.2.10")
    # a proxy on this host passing someone else's request on, not listed in SHAREHUB_TRUSTED_PROXIES
    refused(403, HTTP_X_FORWARDED_FOR="198.51.100.7")
    refused(401, HTTP_AUTHORIZATION="Bearer guessed-token-guessed-token")  # no token is set: none is right


def test_a_token_is_needed_once_one_is_set(settings):
    settings.METRICS_TOKEN = TOKEN
    refused(403)  # no token, even from loopback
    refused(403, REMOTE_ADDR="192.0.2.10")
    response = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong-token-wrong-token")
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    refused(401, HTTP_AUTHORIZATION=f"Basic {TOKEN}")
    refused(401, HTTP_AUTHORIZATION=f"Bearer {TOKEN}x")
    assert scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}", REMOTE_ADDR="192.0.2.10")
    assert scrape(HTTP_AUTHORIZATION=f"bearer {TOKEN}")


def test_an_address_list_lets_its_networks_scrape(settings):
    settings.METRICS_ALLOW = [ipaddress.ip_network("10.8.0.0/16"), ipaddress.ip_network("2001:db8::/32")]
    assert scrape(REMOTE_ADDR="10.8.3.4")
    assert scrape(REMOTE_ADDR="2001:db8::9")
    refused(403, REMOTE_ADDR="10.9.0.1")
    refused(403)  # loopback is not on the list
    settings.METRICS_TOKEN = TOKEN  # both set: either one lets a scrape in
    assert scrape(REMOTE_ADDR="10.8.3.4")
    assert scrape(REMOTE_ADDR="192.0.2.10", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    refused(403, REMOTE_ADDR="192.0.2.10")


def test_behind_a_trusted_proxy_the_client_address_decides(settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.1/32")]
    settings.METRICS_ALLOW = [ipaddress.ip_network("192.0.2.0/24")]
    assert scrape(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.7")
    refused(403, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1")
    refused(403, REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="192.0.2.7")  # not a proxy: not believed


def test_the_metrics_url_is_not_redirected_or_host_checked(settings):
    settings.SECURE_SSL_REDIRECT = True
    assert scrape(HTTP_HOST="10.20.30.40:8000")


# ---- what it counts


def test_requests_are_counted_by_route_pattern_with_their_latency(org_units, people):
    first = factories.resource(org_units["tax"], by=people["tax_steward"], title="办税指南")
    second = factories.resource(org_units["tax"], by=people["tax_steward"], title="社保缴费")
    route = "/resources/<str:ident>/"
    before = scrape()
    browser = Client()
    browser.force_login(people["tax_member"])
    for resource in (first, second, second):
        assert browser.get(f"/resources/{resource.code}/").status_code == 200
    assert browser.get("/resources/NOPE-404/").status_code == 404
    assert browser.get("/no/such/page/").status_code == 404
    after = scrape()

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("sharehub_http_requests_total", method="GET", route=route, status="200") == 3
    assert grew("sharehub_http_requests_total", method="GET", route=route, status="404") == 1
    assert grew("sharehub_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert grew("sharehub_http_request_duration_seconds_count", method="GET", route=route) == 4
    assert grew("sharehub_http_request_duration_seconds_bucket", method="GET", route=route, le="+Inf") == 4
    assert grew("sharehub_http_request_duration_seconds_sum", method="GET", route=route) > 0
    assert grew("sharehub_http_requests_total", method="GET", route="/metrics", status="200") == 1
    labels = {dict(key[1]).get("route") for key in after}
    assert not any(resource.code in (label or "") for label in labels for resource in (first, second))


def test_api_requests_carry_the_ninja_route_and_refusals_by_rate_limit_are_counted(settings):
    settings.API_RATE_ADDRESS = (2, 60)
    before = scrape()
    statuses = [Client().get("/api/v1/me", HTTP_AUTHORIZATION="Bearer nope").status_code for _ in range(4)]
    assert statuses == [401, 401, 429, 429]
    after = scrape()
    assert (
        value(after, "sharehub_rate_limited_total", limit="address")
        - value(before, "sharehub_rate_limited_total", limit="address")
        == 2
    )
    for status, count in (("401", 2), ("429", 2)):
        grew = value(after, "sharehub_http_requests_total", method="GET", route="/api/v1/me", status=status) - value(
            before, "sharehub_http_requests_total", method="GET", route="/api/v1/me", status=status
        )
        assert grew == count


def test_the_lag_gauge_shows_a_stuck_reader(org_units, people):
    for n in range(3):
        factories.resource(org_units["tax"], by=people["tax_steward"], title=f"办税指南 {n}")
    run_pending()
    samples = scrape()
    lags = {
        dict(labels)["reader"]: v for (name, labels), v in samples.items() if name == "sharehub_log_reader_lag_events"
    }
    assert set(lags) >= {"notifications", "follows", "webhooks"} and set(lags.values()) == {0}
    head = ConsumerCursor.objects.get(name="webhooks").seq
    ConsumerCursor.objects.filter(name="webhooks").update(seq=head - 7)
    samples = scrape()
    assert value(samples, "sharehub_log_reader_lag_events", reader="webhooks") == 7
    assert value(samples, "sharehub_log_reader_lag_events", reader="notifications") == 0
    assert value(samples, "sharehub_log_reader_lag_seconds", reader="webhooks") >= 0
    assert value(samples, "sharehub_database_up") == 1


def test_webhook_deliveries_and_mails_are_counted_where_they_are_sent(org_units, people, settings):
    settings.EMAIL_ENABLED, settings.SITE_URL = True, "https://sharehub.example.org"
    receiver = Receiver()
    try:
        webhooks.register(people["admin"], url=receiver.url, event_types=["resource.updated"], allow_private=True)
        reader = people["health_member"]
        reader.email = "li.wei@example.org"
        reader.save()
        notice = factories.resource(org_units["tax"], by=people["tax_steward"], title="办税指南")
        follows.follow(reader, "resource", notice.pk, delivery="email")
        run_pending()
        before = scrape()
        receiver.answers = [500]
        for summary in ("一", "二"):
            catalog.update_resource(people["tax_steward"], notice, {"summary": summary})
        run_pending()
        queued = scrape()
        assert (
            value(queued, "sharehub_webhook_deliveries_pending") - value(before, "sharehub_webhook_deliveries_pending")
            == 2
        )
        assert value(queued, "sharehub_webhook_deliveries_due") >= 2
        assert webhooks.send_due() == 1  # the first attempt is refused (500) and retried later
        assert mail.run() == 2
        after = scrape()
    finally:
        receiver.server.shutdown()

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("sharehub_webhook_deliveries_total", outcome="delivered") == 1
    assert grew("sharehub_webhook_deliveries_total", outcome="retrying") == 1
    assert grew("sharehub_mails_total", outcome="sent") == 2
    assert (
        value(after, "sharehub_webhook_deliveries_pending") - value(before, "sharehub_webhook_deliveries_pending") == 1
    )
    assert value(after, "sharehub_mails_pending") == 0


def test_a_scrape_costs_a_constant_number_of_queries(org_units, people, django_assert_num_queries):
    factories.resource(org_units["tax"], by=people["tax_steward"])
    run_pending()
    with django_assert_num_queries(4):  # the log's head, the cursors, the webhook and the mail outboxes
        scrape()
    for n in range(3):
        factories.resource(org_units["tax"], by=people["tax_steward"], title=f"更多 {n}")
    with django_assert_num_queries(4):
        scrape()
