"""Webhooks out against a local receiver that verifies every request with the `standardwebhooks` library,
as a receiving system would, and fails on purpose when told to: signatures (also two during a secret's
rotation), at-least-once delivery with one webhook-id, backoff, disabling after failing for good, the
policy as the endpoint's owner, and refusing internal addresses."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from sharehub.catalog import services as catalog
from sharehub.errors import Forbidden, Invalid
from sharehub.events.consumers import run_pending
from sharehub.feeds import webhooks
from sharehub.feeds.models import Notification, WebhookDelivery, WebhookEndpoint
from tests import factories


class Receiver:
    """An HTTP server on 127.0.0.1 that keeps each request and answers with `answers` in turn (then 200)."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict, bytes]] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if status == 200 else b"busy")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def verified(self, secret: str) -> list[dict]:
        return [Webhook(secret).verify(body, headers) for headers, body in self.requests]


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.server.shutdown()


@pytest.fixture
def notice(org_units, people):
    return factories.resource(org_units["tax"], by=people["tax_steward"], title="办税指南")


@pytest.fixture
def endpoint(people, receiver):
    """A 卫健委 member's endpoint; an admin let it reach this machine's receiver."""
    found, secret = webhooks.register(
        people["admin"], url=receiver.url, event_types=["resource.updated", "dataset."], allow_private=True
    )
    found.owner = people["health_member"]
    found.save(update_fields=["owner"])
    return found, secret


def edit(people, resource, summary: str) -> None:
    catalog.update_resource(people["tax_steward"], resource, {"summary": summary})
    run_pending()


def test_a_signed_delivery_a_receiver_verifies(endpoint, receiver, people, notice):
    _found, secret = endpoint
    edit(people, notice, "新版")
    assert webhooks.send_due() == 1
    (body,) = receiver.verified(secret)
    assert body["type"] == "resource.updated" and body["data"]["resource"]["code"] == notice.code
    headers = receiver.requests[0][0]
    assert headers["webhook-id"].startswith("msg_") and headers["webhook-signature"].startswith("v1,")
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.new_secret()).verify(receiver.requests[0][1], headers)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered" and delivery.response_status == 200 and delivery.duration_ms is not None


def test_failures_are_retried_with_the_same_id_then_delivered(endpoint, receiver, people, notice):
    _found, secret = endpoint
    receiver.answers = [500, 503]
    edit(people, notice, "一")
    assert webhooks.send_due() == 0
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.error == "HTTP 500"
    assert delivery.next_attempt_at >= timezone.now() + timedelta(seconds=4)
    assert webhooks.send_due() == 0  # not due yet
    for _ in range(2):
        WebhookDelivery.objects.update(next_attempt_at=timezone.now())
        webhooks.send_due()
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 3
    ids = {headers["webhook-id"] for headers, _body in receiver.requests}
    assert len(receiver.requests) == 3 and len(ids) == 1  # one message, sent until it was taken
    assert len(receiver.verified(secret)) == 3


def test_failing_for_good_turns_the_endpoint_off_and_tells_its_owner(endpoint, receiver, people, notice):
    found, _secret = endpoint
    receiver.answers = [500] * 20
    edit(people, notice, "一")
    for _ in range(len(webhooks.BACKOFF) + 1):
        WebhookDelivery.objects.update(next_attempt_at=timezone.now())
        webhooks.send_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == len(webhooks.BACKOFF) + 1
    found.refresh_from_db()
    assert not found.active and found.disabled_reason
    run_pending()
    told = Notification.objects.filter(recipient=people["health_member"], event__action="webhook.disabled")
    assert told.count() == 1
    edit(people, notice, "二")
    assert WebhookDelivery.objects.count() == 1  # an endpoint that is off gets nothing new


def test_two_signatures_while_a_secret_is_rotated(endpoint, receiver, people, notice):
    found, old = endpoint
    new = webhooks.rotate_secret(people["health_member"], found)
    edit(people, notice, "一")
    webhooks.send_due()
    headers, body = receiver.requests[0]
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)
    WebhookEndpoint.objects.update(previous_until=timezone.now() - timedelta(seconds=1))
    edit(people, notice, "二")
    webhooks.send_due()
    headers, body = receiver.requests[1]
    assert len(headers["webhook-signature"].split(" ")) == 1
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body, headers)


def test_the_owner_gets_only_what_they_may_see_at_sending(endpoint, receiver, org_units, people, notice):
    edit(people, notice, "一")
    catalog.update_resource(
        people["tax_steward"], notice, {"scope_all": False, "scope_departments": [org_units["tax"]]}
    )
    run_pending()
    webhooks.send_due()
    assert receiver.requests == []
    assert WebhookDelivery.objects.get().status == "dropped"
    private = factories.resource(org_units["tax"], by=people["tax_steward"], scope=[org_units["tax"]])
    edit(people, private, "内部")
    assert WebhookDelivery.objects.count() == 1  # never made for what the owner cannot see


def test_internal_addresses_are_refused_unless_an_admin_allows(people):
    for url in ("http://127.0.0.1:8080/x", "http://10.1.2.3/x", "http://[::1]/x", "http://169.254.169.254/latest",
                "ftp://example.org/x", "http://user:pw@example.org/x"):  # fmt: skip
        with pytest.raises(Invalid) as error:
            webhooks.register(people["health_member"], url=url, event_types=["resource.updated"])
        assert "url" in error.value.fields, url
    with pytest.raises(Forbidden):
        webhooks.register(
            people["health_member"], url="http://127.0.0.1/x", event_types=["resource."], allow_private=True
        )
    with pytest.raises(Invalid) as error:
        webhooks.register(people["health_member"], url="https://example.org/x", event_types=["planet.exploded"])
    assert "event_types" in error.value.fields


def test_the_pages_register_show_the_secret_once_and_resend(client_for, people, receiver, endpoint, notice):
    found, _secret = endpoint
    client = client_for(people["health_member"])
    listed = client.get(reverse("feeds:webhooks")).content.decode()
    assert receiver.url in listed
    refused = client.post(reverse("feeds:webhooks"), {"url": "http://127.0.0.1/x", "event_types": ["resource.updated"]})
    assert refused.status_code == 422 and "private" in refused.content.decode()
    edit(people, notice, "一")
    webhooks.send_due()
    page = client.get(reverse("feeds:webhook", args=[found.pk])).content.decode()
    assert "resource.updated" in page and "HTTP 200" in page and "whsec_" not in page
    delivery = WebhookDelivery.objects.get()
    resend = client.post(reverse("feeds:webhook", args=[found.pk]), {"action": "redeliver", "delivery": delivery.pk})
    assert resend.status_code == 302
    webhooks.send_due()
    assert (
        len(receiver.requests) == 2 and receiver.requests[0][0]["webhook-id"] == receiver.requests[1][0]["webhook-id"]
    )
    rotated = client.post(reverse("feeds:webhook", args=[found.pk]), {"action": "rotate"})
    assert "whsec_" in rotated.content.decode() and rotated["Cache-Control"] == "no-store"
    assert client_for(people["tax_member"]).get(reverse("feeds:webhook", args=[found.pk])).status_code == 404


def test_payloads_hold_no_recipient_lists(endpoint, receiver, people, notice):
    edit(people, notice, "一")
    webhooks.send_due()
    body = json.loads(receiver.requests[0][1])
    assert set(body["data"]["details"]) <= set(webhooks._DETAIL_KEYS)


def test_the_api(client_for, people, org_units, receiver, notice, monkeypatch):
    public = [(2, 1, 6, "", ("93.184.216.34", 443))]  # erp.example.org, as a public DNS would answer
    monkeypatch.setattr(
        webhooks.socket, "getaddrinfo", lambda host, *a, **k: public if host == "erp.example.org" else []
    )
    client = client_for(people["tax_steward"])
    made = client.post(
        "/api/v1/webhooks",
        {"url": "https://erp.example.org/hooks", "event_types": ["resource."], "department": org_units["tax"].pk},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    hook = made.json()
    assert hook["secret"].startswith("whsec_") and hook["department"] == org_units["tax"].pk
    assert [h["id"] for h in client.get("/api/v1/webhooks").json()] == [hook["id"]]
    assert "secret" not in client.get(f"/api/v1/webhooks/{hook['id']}").json()
    off = client.patch(f"/api/v1/webhooks/{hook['id']}", {"active": False}, content_type="application/json")
    assert off.status_code == 200 and off.json()["active"] is False
    private = client.patch(f"/api/v1/webhooks/{hook['id']}", {"allow_private": True}, content_type="application/json")
    assert private.status_code == 403
    bad = client.post(
        "/api/v1/webhooks", {"url": "http://10.0.0.1/", "event_types": ["x"]}, content_type="application/json"
    )
    assert bad.status_code == 422 and {"url", "event_types"} <= set(bad.json()["error"]["fields"])
    assert client.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret").json()["secret"].startswith("whsec_")
    assert client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json() == {"items": [], "next_cursor": None}
    assert client_for(people["health_member"]).get(f"/api/v1/webhooks/{hook['id']}").status_code == 404


@pytest.mark.parametrize("url", ["http://exa\x00mple.org/x", "http://example.org/a b", "http://example.org/\nx"])
def test_odd_addresses_are_refused_even_where_private_ones_are_allowed(people, url):
    with pytest.raises(Invalid) as error:
        webhooks.register(people["admin"], url=url, event_types=["resource."], allow_private=True)
    assert "url" in error.value.fields


def test_a_description_keeps_no_control_characters(people, receiver):
    endpoint, _secret = webhooks.register(
        people["admin"], url=receiver.url, event_types=["resource."], description="ERP\x00 同步\n", allow_private=True
    )
    assert endpoint.description == "ERP 同步"


def test_the_log_shows_no_payload_about_what_the_reader_may_not_see(client_for, org_units, people, receiver):
    """A steward manages the department's endpoint, whose owner (a member elsewhere) may see a resource the
    steward may not: the delivery is listed, its payload and answer are not."""
    scoped = factories.resource(org_units["hr"], by=people["hr_head"], scope=[org_units["health"]], title="卫健专供")
    found = WebhookEndpoint.objects.create(
        owner=people["health_member"], department=org_units["tax"], url=receiver.url, event_types=["resource.updated"],
        secret="", allow_private=True, created_at=timezone.now(),
    )  # fmt: skip
    found.secret = webhooks._seal(webhooks.new_secret(), found.pk)
    found.save()
    catalog.update_resource(people["hr_head"], scoped, {"summary": "新"})
    run_pending()
    webhooks.send_due()
    assert WebhookDelivery.objects.get().status == "delivered"
    steward = client_for(people["tax_steward"])
    page = steward.get(reverse("feeds:webhook", args=[found.pk])).content.decode()
    assert "卫健专供" not in page and "About a resource you cannot see" in page
    (item,) = steward.get(f"/api/v1/webhooks/{found.pk}/deliveries").json()["items"]
    assert item["payload"] == "" and item["event_type"] == "resource.updated"
    owner_view = client_for(people["health_member"]).get(f"/api/v1/webhooks/{found.pk}/deliveries").json()
    assert "卫健专供" in owner_view["items"][0]["payload"]


def test_the_page_registers_with_a_department_filter(client_for, org_units, people, monkeypatch):
    public = [(2, 1, 6, "", ("93.184.216.34", 443))]
    monkeypatch.setattr(webhooks.socket, "getaddrinfo", lambda host, *a, **k: public)
    client = client_for(people["tax_steward"])
    answer = client.post(
        reverse("feeds:webhooks"),
        {"url": "https://crm.example.org/in", "event_types": ["resource.published"],
         "department_filter": [str(org_units["tax"].pk)], "department": str(org_units["tax"].pk)},
    )  # fmt: skip
    assert answer.status_code == 200 and "whsec_" in answer.content.decode()
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.department_filter == [org_units["tax"].pk] and endpoint.department == org_units["tax"]
    bad = client.post(reverse("feeds:webhooks"), {"url": "https://crm.example.org/in", "event_types": ["resource."],
                                                  "department_filter": ["x"]})  # fmt: skip
    assert bad.status_code == 422 and "Department ids" in bad.content.decode()


def test_the_endpoint_list_is_what_decide_owned_allows(org_units, people, receiver):
    """The list (the policy's `owned_filter`) and one endpoint's page (`decide_owned`) agree for everyone."""
    from sharehub.feeds import queries
    from sharehub.policy.engine import decide_owned

    made = [
        WebhookEndpoint.objects.create(
            owner=owner,
            department=dept,
            url=receiver.url,
            event_types=["resource."],
            secret="",
            created_at=timezone.now(),
        )
        for owner, dept in ((people["tax_member"], org_units["tax"]), (people["health_member"], None))
    ]
    for person in people.values():
        listed = set(queries.endpoints_of(person).values_list("pk", flat=True))
        allowed = {e.pk for e in made if decide_owned(person, e.owner_id, e.department_id).allowed}
        assert listed == allowed, person


@pytest.mark.django_db(transaction=True)
def test_names_are_resolved_outside_any_transaction(people, org_units, monkeypatch):
    """A slow DNS answer must not hold a write transaction open (invariant 8)."""
    inside = []

    def lookup(host, *args, **kwargs):
        inside.append(connection.in_atomic_block)
        return [(2, 1, 6, "", ("93.184.216.34", 443))]

    monkeypatch.setattr(webhooks.socket, "getaddrinfo", lookup)
    steward = people["tax_steward"]
    found, _secret = webhooks.register(
        steward, url="https://erp.example.org/h", event_types=["resource."], department=org_units["tax"].pk
    )
    webhooks.change(steward, found, url="https://crm.example.org/h")
    assert inside == [False, False]
    assert WebhookEndpoint.objects.get(pk=found.pk).url == "https://crm.example.org/h"


def test_turning_an_endpoint_off_resolves_no_name_and_turning_it_on_checks_the_address(endpoint, people, monkeypatch):
    """Turning off runs inside write transactions (a leaver's handover): no network there (invariant 8)."""
    found, _secret = endpoint
    WebhookEndpoint.objects.filter(pk=found.pk).update(allow_private=False, url="https://erp.example.org/hooks")
    found.refresh_from_db()
    looked_up = []
    monkeypatch.setattr(webhooks.socket, "getaddrinfo", lambda host, *a, **k: looked_up.append(host) or [])
    webhooks.change(people["admin"], found, active=False)
    assert looked_up == [] and WebhookEndpoint.objects.get(pk=found.pk).active is False
    with pytest.raises(Invalid) as refused:
        webhooks.change(people["admin"], found, active=True)
    assert looked_up == ["erp.example.org"] and "url" in refused.value.fields
