"""Helpers for the route-level policy tests: callers over HTTP (pages and API), leak markers.

A route test asks the policy what should happen (`can(...)`, `visible(...)`) and then checks what a
caller actually gets over HTTP: the status, the JSON, and whether a title, code or body that the
caller may not know shows up anywhere in the response.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass

from django.test import Client

from sharehub.catalog.models import Resource
from sharehub.org import services as org
from sharehub.policy.engine import Action, can

API = "/api/v1"
COUNT_RE = re.compile(r"<strong>\s*(\d+) resources?\s*</strong>")


def is_signed_in(actor) -> bool:
    """Whether requests made as `actor` are authenticated (deactivated accounts are signed out)."""
    return getattr(actor, "pk", None) is not None and actor.is_active


def who(actor) -> str:
    return getattr(actor, "username", "") or "anonymous"


class Caller:
    """One actor speaking to the pages (session) and the API (session or bearer token)."""

    def __init__(self, actor, *, bearer: bool = False):
        self.actor = actor
        self.client = Client()
        self.headers: dict[str, str] = {}
        if getattr(actor, "pk", None) is not None:
            self.client.force_login(actor)
            if bearer and actor.is_active:
                _token, secret = org.issue_token(actor, actor, "route tests")
                self.headers["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
        self.via = "bearer" if self.headers else "session"

    def __repr__(self) -> str:
        return f"<{who(self.actor)} via {self.via}>"

    # pages
    def page(self, path: str, params: dict | None = None):
        return self.client.get(path, params or {})

    def page_post(self, path: str, data: dict | None = None):
        return self.client.post(path, data or {})

    # API
    def api_get(self, path: str, params: dict | None = None):
        return self.client.get(API + path, params or {}, **self.headers)

    def api_post(self, path: str, data=None):
        if data is None:
            return self.client.post(API + path, **self.headers)
        return self.client.post(API + path, json.dumps(data), content_type="application/json", **self.headers)

    def api_patch(self, path: str, data):
        return self.client.patch(API + path, json.dumps(data), content_type="application/json", **self.headers)


def text_of(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8")
    return response.content.decode("utf-8")


def listed_count(html: str) -> int:
    """The "N resources" count at the top of the catalog list."""
    found = COUNT_RE.search(html)
    assert found, "no resource count on the catalog page"
    return int(found.group(1))


@dataclass(frozen=True)
class Markers:
    """Unique strings in each resource's title and body, so leaks show up as substrings."""

    title: dict[int, str]
    body: dict[int, str]
    code: dict[int, str]


def mark_resources(resources) -> Markers:
    """Give every resource a unique title and body marker (a plain update: no version, no event)."""
    title, body, code = {}, {}, {}
    for resource in resources:
        salt = secrets.token_hex(8)
        title[resource.pk] = f"T{salt}x"
        body[resource.pk] = f"B{salt}y"
        code[resource.pk] = resource.code
        Resource.objects.filter(pk=resource.pk).update(title=f"标题 {title[resource.pk]}", body=body[resource.pk])
        resource.title = f"标题 {title[resource.pk]}"
        resource.body = body[resource.pk]
    return Markers(title=title, body=body, code=code)


def leaked(text: str, markers: Markers, *, unknown: set[int], unreadable: set[int]) -> list[str]:
    """What `text` shows that it must not: titles and codes of unknown resources, bodies of unreadable ones."""
    found = []
    for pk in unknown:
        for kind, marker in (("title", markers.title[pk]), ("code", markers.code[pk])):
            if marker in text:
                found.append(f"{kind} of unknown resource {markers.code[pk]}")
    for pk in unreadable:
        if markers.body[pk] in text:
            found.append(f"body of unreadable resource {markers.code[pk]}")
    return found


# --- expected statuses, derived from the policy ------------------------------------------------


def expected_page(actor, action: Action, resource: Resource, *, ok: int = 200) -> int:
    """Pages: signed out -> 302 to sign-in; unknown -> 404; known but not allowed -> 403; else `ok`."""
    if not is_signed_in(actor):
        return 302
    if not can(actor, Action.VIEW, resource):
        return 404
    if action != Action.VIEW and not can(actor, action, resource):
        return 403
    return ok


def expected_api(actor, action: Action, resource: Resource, *, ok: int = 200) -> int:
    """API: signed out -> 401; unknown -> 404; known but not allowed -> 403; else `ok`."""
    if not is_signed_in(actor):
        return 401
    if not can(actor, Action.VIEW, resource):
        return 404
    if action != Action.VIEW and not can(actor, action, resource):
        return 403
    return ok
