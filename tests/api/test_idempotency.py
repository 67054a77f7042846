"""Idempotency-Key on API writes: a retried push changes nothing and gets the first answer; the same key
with another request is refused; two at once write once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from sharehub.catalog.models import Resource
from sharehub.org import services as org
from sharehub.org.models import IdempotencyKey


@pytest.fixture
def erp(org_units, people):
    """A service account's token, the way an ERP pushes."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {org.issue_token(None, people['tax_steward'], 'ERP')[1]}")


def push(client, body: dict, key: str | None = "order-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post("/api/v1/resources", body, content_type="application/json", **headers)


def body_for(org_units, title: str = "ERP 推送的进展") -> dict:
    return {"owner_department": org_units["tax"].pk, "kind": "notice", "title": title, "publish": True}


def test_a_replay_returns_the_first_answer_and_writes_nothing(erp, org_units):
    first = push(erp, body_for(org_units))
    assert first.status_code == 201, first.content
    again = push(erp, body_for(org_units))
    assert again.status_code == 201 and again.content == first.content
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Resource.objects.filter(title="ERP 推送的进展").count() == 1


def test_the_same_key_with_another_body_is_refused(erp, org_units):
    assert push(erp, body_for(org_units)).status_code == 201
    other = push(erp, body_for(org_units, "另一条"))
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()["error"]["fields"]
    assert not Resource.objects.filter(title="另一条").exists()


def test_keys_belong_to_their_caller(erp, org_units, people):
    draft = {**body_for(org_units), "publish": False}
    assert push(erp, draft).status_code == 201
    other = Client(HTTP_AUTHORIZATION=f"Bearer {org.issue_token(None, people['tax_member'], 'CRM')[1]}")
    answer = push(other, draft)
    assert answer.status_code == 201 and "Idempotent-Replayed" not in answer
    assert Resource.objects.filter(title="ERP 推送的进展").count() == 2


def test_a_refused_request_is_not_kept_so_it_can_be_retried(erp, org_units):
    bad = push(erp, {**body_for(org_units), "kind": "planet"})
    assert bad.status_code == 422
    assert not IdempotencyKey.objects.exists()
    assert push(erp, body_for(org_units)).status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 256, "订单-1", "tab\there"])
def test_a_malformed_key_is_a_clear_400(erp, org_units, key):
    answer = push(erp, body_for(org_units), key=key)
    assert answer.status_code == 400 and "Idempotency-Key" in answer.json()["error"]["fields"]
    assert not Resource.objects.exists()


def test_reads_and_requests_without_a_key_are_untouched(erp, org_units):
    assert erp.get("/api/v1/resources", HTTP_IDEMPOTENCY_KEY="k").status_code == 200
    assert push(erp, body_for(org_units), key=None).status_code == 201
    assert push(erp, body_for(org_units), key=None).status_code == 201
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_at_once_write_once(org_units, people):
    token = org.issue_token(None, people["tax_steward"], "ERP")[1]
    answers: list = []

    def send() -> None:
        try:
            answers.append(push(Client(HTTP_AUTHORIZATION=f"Bearer {token}"), body_for(org_units), key="same"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [a.status_code for a in answers] == [201] * 4
    assert len({a.content for a in answers}) == 1
    assert Resource.objects.filter(title="ERP 推送的进展").count() == 1


def test_the_readme_example_posts_a_progress_entry_once(erp, org_units):
    from sharehub.catalog.models import Project

    project = Project.objects.create(department=org_units["tax"], name="金税四期")
    entry = {"owner_department": org_units["tax"].pk, "kind": "progress", "project": project.pk,
             "title": "一期接口联调完成", "publish": True}  # fmt: skip
    answers = [push(erp, entry, key="erp-progress-2026-0412") for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 201], answers[0].content
    assert Resource.objects.filter(kind="progress", project=project).count() == 1


def test_an_answer_with_a_secret_is_not_kept_and_its_replay_says_so(erp, org_units, monkeypatch):
    """A webhook's signing secret is shown once: it is never written into the kept answer (invariant 6)."""
    from sharehub.feeds import webhooks

    public = [(2, 1, 6, "", ("93.184.216.34", 443))]  # erp.example.org, as a public DNS would answer
    monkeypatch.setattr(webhooks.socket, "getaddrinfo", lambda host, *a, **k: public)
    body = {"url": "https://erp.example.org/hooks", "event_types": ["resource."]}
    first = erp.post("/api/v1/webhooks", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="hook-1")
    assert first.status_code == 201, first.content
    secret = first.json()["secret"]
    assert first["Cache-Control"] == "no-store"
    kept = IdempotencyKey.objects.get(key="hook-1")
    assert kept.status == 201 and secret.encode() not in bytes(kept.body)
    again = erp.post("/api/v1/webhooks", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="hook-1")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    assert "shown only once" in again.json()["error"]["message"]
    assert secret not in again.content.decode()
