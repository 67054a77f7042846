"""The outboxes date each attempt at its own time, not at the start of the round that sends it: a round to
a slow receiver lasts minutes, and an attempt dated at its start was signed with a webhook-timestamp that
receivers refuse as too old (Standard Webhooks allows 5 minutes), and its claim looked STUCK to another
worker, which sent it a second time while it was still in flight."""

from __future__ import annotations

import asyncio
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from standardwebhooks.webhooks import Webhook

from sharehub.catalog import services as catalog
from sharehub.events.consumers import run_pending
from sharehub.feeds import follows, mail, webhooks
from sharehub.feeds.models import Mail, WebhookDelivery
from tests import factories
from tests.feeds.test_mail import free_port

SLOW = 1.2  # seconds a receiver takes to answer


@pytest.fixture
def notice(org_units, people):
    return factories.resource(org_units["tax"], by=people["tax_steward"], title="办税指南")


def edit_twice(people, notice) -> None:
    for summary in ("一", "二"):
        catalog.update_resource(people["tax_steward"], notice, {"summary": summary})
        run_pending()


def test_each_webhook_attempt_is_claimed_and_signed_at_its_own_time(people, notice):
    requests: list[tuple[dict, bytes]] = []

    class SlowHandler(BaseHTTPRequestHandler):
        def do_POST(self):
            requests.append(
                ({k.lower(): v for k, v in self.headers.items()}, self.rfile.read(int(self.headers["Content-Length"])))
            )
            time.sleep(SLOW)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _endpoint, secret = webhooks.register(
            people["admin"],
            url=f"http://127.0.0.1:{server.server_address[1]}/hooks",
            event_types=["resource.updated"],
            allow_private=True,
        )
        edit_twice(people, notice)
        assert webhooks.send_due() == 2  # one round
    finally:
        server.shutdown()
    stamps = [int(headers["webhook-timestamp"]) for headers, _body in requests]
    assert stamps[1] >= stamps[0] + 1, stamps
    for headers, body in requests:
        Webhook(secret).verify(body, headers)
    first, second = WebhookDelivery.objects.order_by("pk")
    assert (second.last_attempt_at - first.last_attempt_at).total_seconds() >= SLOW


def test_each_mail_is_claimed_at_its_own_time(settings, people, notice):
    class SlowInbox:
        async def handle_DATA(self, server, session, envelope):
            await asyncio.sleep(SLOW)
            return "250 OK"

    controller = Controller(SlowInbox(), hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_ENABLED, settings.SITE_URL = True, "https://sharehub.example.org"
    reader = people["health_member"]
    reader.email = "reader@example.org"
    reader.save()
    try:
        follows.follow(reader, "resource", notice.pk, delivery="email")
        run_pending()
        edit_twice(people, notice)
        assert mail.run() == 2  # one round
    finally:
        controller.stop()
    first, second = Mail.objects.order_by("pk")
    assert (second.next_attempt_at - first.next_attempt_at).total_seconds() >= SLOW
