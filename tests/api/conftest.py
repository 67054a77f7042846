"""Fixtures for the REST API tests: JSON helpers and a small catalog."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from sharehub.access.models import Grant
from sharehub.catalog.models import Resource
from sharehub.events.models import Event
from tests import factories

API = "/api/v1"


class Api:
    """A test client speaking JSON to /api/v1 as one caller (session or bearer token)."""

    def __init__(self, user=None, token: str | None = None):
        self.client = Client()
        self.headers = {}
        if user is not None:
            self.client.force_login(user)
        if token is not None:
            self.headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"

    def _send(self, method: str, path: str, data=None, raw: bytes | None = None):
        call = getattr(self.client, method)
        if raw is None and data is None:
            return call(API + path, **self.headers)
        body = raw if raw is not None else json.dumps(data)
        return call(API + path, body, content_type="application/json", **self.headers)

    def get(self, path: str, params: dict | None = None):
        return self.client.get(API + path, params or {}, **self.headers)

    def post(self, path: str, data=None, raw: bytes | None = None):
        return self._send("post", path, data, raw)

    def patch(self, path: str, data=None, raw: bytes | None = None):
        return self._send("patch", path, data, raw)

    def delete(self, path: str):
        return self.client.delete(API + path, **self.headers)

    def upload(self, path: str, name: str, content: bytes):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return self.client.post(API + path, {"file": SimpleUploadedFile(name, content)}, **self.headers)


@pytest.fixture
def api_as():
    return lambda user=None, token=None: Api(user, token)


@pytest.fixture
def catalog(org_units, people):
    """Resources of 税务局 (tax) in each sharing type, plus a draft and one scoped to 人社局."""
    tax, hr = org_units["tax"], org_units["hr"]
    by = people["tax_steward"]
    return {
        "open": factories.resource(tax, by=by, title="公开资源", tags=["税务", "公开"]),
        "conditional": factories.resource(tax, by=by, sharing_type="conditional", title="有条件资源"),
        "restricted": factories.resource(tax, by=by, sharing_type="restricted", title="不予共享资源"),
        "draft": factories.resource(tax, by=by, publish=False, title="草稿"),
        "hr_scoped": factories.resource(tax, by=by, scope=[hr], title="人社范围"),
    }


def grant(resource: Resource, *, user=None, department=None, days: int = 7, revoked: bool = False) -> Grant:
    now = timezone.now()
    return Grant.objects.create(
        resource=resource,
        grantee_user=user,
        grantee_department=department,
        purpose="业务核验",
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=days),
        revoked_at=now if revoked else None,
    )


def read_events() -> list[Event]:
    return list(Event.objects.filter(action="resource.read").order_by("seq"))


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]
