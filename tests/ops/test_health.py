"""/health/live and /health/ready as a load balancer asks them: no sign-in, no redirect, any Host header,
a constant number of queries, 503 naming the failing check and nothing more."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from sharehub.events.consumers import registered, run_pending
from sharehub.events.models import ConsumerCursor, Event
from sharehub.feeds.models import Mail, WebhookDelivery, WebhookEndpoint
from tests import factories
from tests.live.server import free_port

pytestmark = pytest.mark.django_db

CHECKS = {"cache", "database", "log_readers", "webhooks", "mail"}


def ask(path: str, **extra):
    response = Client().get(path, **extra)
    assert response["Content-Type"] == "application/json" and response["Cache-Control"] == "no-store"
    return response.status_code, response.json()


@pytest.fixture
def history(org_units, people):
    """A few resources: events in the log, and every reader's cursor at its head."""
    for n in range(4):
        factories.resource(org_units["tax"], by=people["tax_steward"], title=f"办税指南 {n}")
    run_pending()  # as the background work does after each commit
    head = Event.objects.order_by("-seq").values_list("seq", flat=True).first()
    cursors = dict(ConsumerCursor.objects.values_list("name", "seq"))
    assert head > 4 and set(cursors) == set(registered()) and set(cursors.values()) == {head}
    return head


def test_live_answers_without_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        status, body = ask("/health/live")
    assert (status, body) == (200, {"status": "ok", "checks": {"process": "ok"}})


def test_ready_when_everything_answers_in_a_constant_number_of_queries(history, people, django_assert_num_queries):
    with django_assert_num_queries(3):  # the log's head, the readers' cursors, the overdue webhook deliveries
        status, body = ask("/health/ready")
    assert status == 200 and body == {"status": "ok", "checks": dict.fromkeys(CHECKS, "ok")}
    for n in range(3):  # more data, the same statements
        factories.resource(factories.department(f"部门{n}", f"D{n}"), title=f"更多 {n}")
    with django_assert_num_queries(3):
        assert ask("/health/ready")[0] == 200


def test_no_sign_in_no_https_redirect_no_host_check(history, settings):
    settings.SECURE_SSL_REDIRECT = True  # SHAREHUB_HTTPS=true: every other plain-HTTP request is redirected
    elsewhere = Client().get("/resources/")
    assert elsewhere.status_code == 301
    for path in ("/health/live", "/health/ready"):
        assert ask(path, HTTP_HOST="10.20.30.40:8000")[0] == 200  # a load balancer naming the server by address
    assert Client().get("/health/live", HTTP_HOST="10.20.30.40").status_code == 200
    assert Client().post("/health/ready").status_code == 405


def test_a_reader_stuck_far_behind_for_too_long_fails_ready(history, settings):
    settings.READY_LAG_EVENTS = 3
    # a reader whose cursor stayed at the first event while the log went on
    ConsumerCursor.objects.filter(name="webhooks").update(seq=1)
    # far behind, but what it has not read is fresh (under READY_LAG_SECONDS, 600 s): a burst, not a stuck reader
    assert ask("/health/ready")[0] == 200
    settings.READY_LAG_SECONDS = 0  # now the unread events count as old
    status, body = ask("/health/ready")
    assert status == 503 and body["status"] == "fail"
    assert body["checks"] == {**dict.fromkeys(CHECKS, "ok"), "log_readers": "fail"}
    # a few events behind is within the limit
    ConsumerCursor.objects.filter(name="webhooks").update(seq=history - 3)
    assert ask("/health/ready")[0] == 200


def test_a_reader_that_never_ran_counts_from_the_start(history, settings):
    settings.READY_LAG_EVENTS, settings.READY_LAG_SECONDS = 3, 0
    ConsumerCursor.objects.filter(name="follows").delete()
    status, body = ask("/health/ready")
    assert status == 503 and body["checks"]["log_readers"] == "fail"


def test_an_unreachable_cache_fails_ready_and_says_no_more(history, settings):
    port = free_port()  # bound and closed again: nothing listens there
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": f"redis://127.0.0.1:{port}/0"}
    }
    response = Client().get("/health/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "fail", "checks": {**dict.fromkeys(CHECKS, "ok"), "cache": "fail"}}
    assert str(port).encode() not in response.content and b"Error" not in response.content
    assert ask("/health/live")[0] == 200  # the process itself still answers


def _overdue_deliveries(people, count: int, *, due_since: timedelta) -> None:
    event = Event.objects.order_by("-seq").first()
    for n in range(count):
        endpoint = WebhookEndpoint.objects.create(
            owner=people["admin"], url=f"https://hooks.example.org/{n}", secret="", created_at=timezone.now()
        )
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            event=event,
            message_id=f"msg_{event.seq}_{endpoint.pk}",
            payload="{}",
            next_attempt_at=timezone.now() - due_since,
            created_at=timezone.now() - due_since,
        )


def test_webhook_deliveries_piling_up_fail_ready(history, people, settings):
    settings.READY_QUEUE_LIMIT = 2
    _overdue_deliveries(people, 3, due_since=timedelta(seconds=60))
    assert ask("/health/ready")[0] == 200  # due, but only for a minute
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=601))
    status, body = ask("/health/ready")
    assert status == 503 and body["checks"]["webhooks"] == "fail" and body["checks"]["mail"] == "ok"
    WebhookDelivery.objects.filter(pk=WebhookDelivery.objects.first().pk).update(status="delivered")
    assert ask("/health/ready")[0] == 200  # two left: at the limit, not over it


def test_mail_piling_up_fails_ready_only_while_email_is_on(history, people, settings):
    settings.READY_QUEUE_LIMIT = 1
    long_ago = timezone.now() - timedelta(hours=1)
    for _ in range(2):
        Mail.objects.create(recipient=people["tax_member"], kind="email", next_attempt_at=long_ago, created_at=long_ago)
    settings.EMAIL_ENABLED = False
    assert ask("/health/ready")[0] == 200
    settings.EMAIL_ENABLED = True
    status, body = ask("/health/ready")
    assert status == 503 and body["checks"]["mail"] == "fail"


def test_the_failing_check_is_logged_once_with_its_reason(history, settings, caplog):
    settings.READY_LAG_EVENTS, settings.READY_LAG_SECONDS = 3, 0
    ConsumerCursor.objects.filter(name="webhooks").update(seq=1)
    with caplog.at_level("INFO", logger="sharehub.ops.health"):
        for _ in range(3):
            assert ask("/health/ready")[0] == 503
        ConsumerCursor.objects.filter(name="webhooks").update(seq=history)
        assert ask("/health/ready")[0] == 200
    messages = [record.getMessage() for record in caplog.records if record.name == "sharehub.ops.health"]
    assert len([m for m in messages if m.startswith("not ready")]) == 1
    assert "webhooks is" in messages[0] and "events behind" in messages[0]
    assert messages[-1].startswith("ready")
