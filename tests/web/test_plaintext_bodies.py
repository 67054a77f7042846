"""Under ASGI Django reads a request body before any view runs and spools one over
FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file; bodies carrying the plaintext of encrypted dataset fields
stay in memory instead (sharehub.bodies), and past the limit are refused with 413."""

from __future__ import annotations

import asyncio
import io

import pytest
from django.conf import settings

from sharehub import asgi, bodies


def _receive(chunks: list[bytes]):
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]

    async def receive():
        return messages.pop(0)

    return receive


def _read(handler, in_memory: bool, chunks: list[bytes]):
    async def run():
        asgi._in_memory_body.set(in_memory)
        asgi._body_refused.set(False)
        body = await handler.read_body(_receive(chunks))
        return body, asgi._body_refused.get()

    return asyncio.run(run())


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", "/api/v1/datasets/12/records", True),
        ("POST", "/api/v1/datasets/TAX-2026-0001/consents/import", True),
        ("POST", "/resources/TAX-2026-0001/data/import/", True),
        ("POST", "/resources/TAX-2026-0001/data/consents/import/", True),
        ("GET", "/api/v1/datasets/12/records", False),
        ("POST", "/api/v1/datasets/12/records/delete", False),
        ("POST", "/resources/TAX-2026-0001/attachments/", False),
        ("POST", "/api/v1/datasets/12/records/../../../x/records", False),
    ],
)
def test_which_bodies_carry_plaintext(method, path, expected):
    assert bodies.carries_plaintext(method, path) is expected


def test_a_plaintext_body_larger_than_the_spool_stays_in_memory():
    handler = asgi.application
    big = b"x" * (settings.FILE_UPLOAD_MAX_MEMORY_SIZE + 1)
    body, refused = _read(handler, True, [big[:1000], big[1000:]])
    assert isinstance(body, io.BytesIO) and body.read() == big and not refused
    other, _ = _read(handler, False, [big])
    assert not isinstance(other, io.BytesIO)  # Django's own spool, which rolls over to a file
    other.close()


def test_past_the_limit_the_body_is_dropped_and_refused(monkeypatch):
    monkeypatch.setattr(asgi, "PLAINTEXT_BODY_LIMIT", 10)
    body, refused = _read(asgi.application, True, [b"12345", b"67890", b"abc", b"def"])
    assert refused and body.read() == b""

    async def answer():
        asgi._body_refused.set(True)
        return asgi.application.create_request({"path": "/api/v1/datasets/1/records"}, body)

    request, response = asyncio.run(answer())
    assert request is None and response.status_code == 413
    assert b"too_large" in response.content
