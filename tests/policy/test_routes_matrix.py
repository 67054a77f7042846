"""The route matrix: every role x resource case x route, the HTTP answer against the policy decision.

The engine itself is checked against a hand-written table in test_matrix.py; this module checks that
the routes carry the engine's decision faithfully. The expected status of each case comes from
`can(...)`:

    signed out                     pages 302 to sign-in, API 401
    may not view (unknown)         404, and the response names neither the title nor the code
    may view but not do the thing  403
    allowed                        200 (GET, PATCH, API transitions), 302 (page transitions)

A transition the policy allows but the resource's status does not (publishing a published resource)
is a 422 in the API and a redirect with a message on the page; writes that are refused change
nothing. Every write runs in a savepoint that is rolled back, so cases do not affect each other.

The organization:

    SCOPE (路由业务处)           the department chosen in "chosen" scopes
      SUB (路由业务科)           a sub-department of SCOPE: covered by the scope
    OWNER (路由数据局)           owns every resource
    OUT (路由外部局)             never in a chosen scope; holds the grants of the "grant" cases
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone

from sharehub.access.models import Grant
from sharehub.catalog.models import Resource
from sharehub.org.models import User
from sharehub.policy.engine import Action, can
from tests import factories
from tests.policy.route_helpers import (
    Caller,
    Markers,
    expected_api,
    expected_page,
    is_signed_in,
    mark_resources,
    text_of,
)

# Marked so that pytest-django sets up the test database even when this module runs alone; the
# module's world lives in an outer transaction that is rolled back when the module ends.
pytestmark = pytest.mark.django_db

OPEN, CONDITIONAL, RESTRICTED = "open", "conditional", "restricted"
DRAFT, PUBLISHED = "draft", "published"
TRANSITION_SOURCES = {"publish": {DRAFT}, "archive": {DRAFT, PUBLISHED}}

ROLES = (
    "admin",
    "auditor",
    "owner_member",
    "owner_steward",
    "scope_member",  # member of SCOPE
    "sub_member",  # member of SUB, a sub-department of SCOPE
    "out_member",  # member of OUT
    "anonymous",
)
BEARER_ROLES = {"owner_steward", "sub_member", "out_member"}  # the others call the API with a session


@dataclass(frozen=True)
class Case:
    sharing: str
    scope: str  # "all" or "chosen" (SCOPE)
    status: str
    grant: bool = False  # an active grant to out_member

    @property
    def id(self) -> str:
        return f"{self.sharing}-{self.scope}-{self.status}" + ("-granted" if self.grant else "")


CASES = [
    Case(sharing, scope, status)
    for sharing in (OPEN, CONDITIONAL, RESTRICTED)
    for scope in ("all", "chosen")
    for status in (DRAFT, PUBLISHED)
]
CASES += [Case(CONDITIONAL, scope, status, grant=True) for scope in ("all", "chosen") for status in (DRAFT, PUBLISHED)]

ROUTES = (
    "page_detail",
    "page_versions",
    "page_edit",
    "page_publish",
    "page_archive",
    "api_detail",
    "api_versions",
    "api_patch",
    "api_publish",
    "api_archive",
)


@dataclass
class RouteWorld:
    actors: dict
    callers: dict[str, Caller]
    resources: dict[Case, Resource]
    markers: Markers


def _build() -> RouteWorld:
    scope = factories.department("路由业务处", "RSCOPE")
    sub = factories.department("路由业务科", "RSUB", parent=scope)
    owner = factories.department("路由数据局", "ROWNER")
    out = factories.department("路由外部局", "ROUT")
    people = {
        "admin": factories.person("r_admin", admin=True),
        "auditor": factories.person("r_auditor", auditor=True),
        "owner_member": factories.member(owner, "member", username="r_owner_member"),
        "owner_steward": factories.member(owner, "steward", username="r_owner_steward"),
        "scope_member": factories.member(scope, "member", username="r_scope_member"),
        "sub_member": factories.member(sub, "member", username="r_sub_member"),
        "out_member": factories.member(out, "member", username="r_out_member"),
    }
    steward = people["owner_steward"]
    now = timezone.now()
    ids = {}
    for case in CASES:
        resource = factories.resource(
            owner,
            by=steward,
            sharing_type=case.sharing,
            publish=case.status == PUBLISHED,
            scope=None if case.scope == "all" else [scope],
        )
        if case.grant:
            Grant.objects.create(
                resource=resource,
                grantee_user=people["out_member"],
                purpose="路由测试。",
                valid_from=now - timedelta(days=1),
                valid_until=now + timedelta(days=30),
            )
        ids[case] = resource.pk
    loaded = Resource.objects.select_related("owner_department", "steward").prefetch_related("scope_departments")
    by_pk = {r.pk: r for r in loaded.filter(pk__in=ids.values())}
    resources = {case: by_pk[pk] for case, pk in ids.items()}
    markers = mark_resources(resources.values())
    # Fresh user objects: the policy caches memberships on the object it was given.
    actors = {role: User.objects.get(pk=user.pk) for role, user in people.items()}
    actors["anonymous"] = AnonymousUser()
    callers = {role: Caller(actor, bearer=role in BEARER_ROLES) for role, actor in actors.items()}
    return RouteWorld(actors=actors, callers=callers, resources=resources, markers=markers)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build()
        transaction.set_rollback(True)


def test_matrix_covers_the_roles_and_cases(world):
    assert set(world.callers) == set(ROLES)
    assert len({c.id for c in CASES}) == len(CASES) == 16
    assert {c.sharing for c in CASES} == {OPEN, CONDITIONAL, RESTRICTED}


# --- expectations from the policy ------------------------------------------------------------------


def _transition_ok(resource: Resource, verb: str) -> bool:
    return resource.status in TRANSITION_SOURCES[verb]


def expected_status(route: str, actor, resource: Resource) -> int:
    if route == "page_detail":
        return expected_page(actor, Action.VIEW, resource)
    if route == "page_versions":
        return expected_page(actor, Action.READ, resource)
    if route == "page_edit":
        return expected_page(actor, Action.EDIT, resource)
    if route in ("page_publish", "page_archive"):
        return expected_page(actor, Action.MANAGE, resource, ok=302)
    if route == "api_detail":
        return expected_api(actor, Action.VIEW, resource)
    if route == "api_versions":
        return expected_api(actor, Action.READ, resource)
    if route == "api_patch":
        return expected_api(actor, Action.EDIT, resource)
    if route in ("api_publish", "api_archive"):
        verb = route.removeprefix("api_")
        return expected_api(actor, Action.MANAGE, resource, ok=200 if _transition_ok(resource, verb) else 422)
    raise ValueError(route)


def _call(caller: Caller, route: str, resource: Resource, new_title: str):
    # Pages by code and API by id for reads, the other way round for writes: both lookups are exercised.
    if route == "page_detail":
        return caller.page(f"/resources/{resource.code}/")
    if route == "page_versions":
        return caller.page(f"/resources/{resource.pk}/versions/")
    if route == "page_edit":
        return caller.page(f"/resources/{resource.code}/edit/")
    if route in ("page_publish", "page_archive"):
        return caller.page_post(f"/resources/{resource.pk}/{route.removeprefix('page_')}/")
    if route == "api_detail":
        return caller.api_get(f"/resources/{resource.pk}")
    if route == "api_versions":
        return caller.api_get(f"/resources/{resource.pk}/versions")
    if route == "api_patch":
        return caller.api_patch(f"/resources/{resource.code}", {"title": new_title})
    if route in ("api_publish", "api_archive"):
        return caller.api_post(f"/resources/{resource.code}/{route.removeprefix('api_')}")
    raise ValueError(route)


def _row(resource: Resource) -> tuple:
    return Resource.objects.filter(pk=resource.pk).values_list("title", "status", "version", "updated_at").get()


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@pytest.mark.parametrize("role", ROLES)
def test_route_matches_policy(world, role, case, route):
    actor = world.actors[role]
    caller = world.callers[role]
    resource = world.resources[case]
    want = expected_status(route, actor, resource)
    new_title = f"改名 {role} {case.id}"
    before = _row(resource)

    with transaction.atomic():
        response = _call(caller, route, resource, new_title)
        text = text_of(response)
        after = _row(resource)
        transaction.set_rollback(True)

    decision = {a.value: can(actor, a, resource).code for a in Action}
    assert response.status_code == want, (
        f"{role} {route} {case.id}: {response.status_code} != {want}; {decision}; {text[:300]}"
    )

    title, code = world.markers.title[resource.pk], resource.code
    if not is_signed_in(actor):
        if route.startswith("page_"):
            assert "/login/" in response["Location"]
        assert title not in text and code not in text
    elif want == 404:
        # The page repeats its own address in the language switch; nothing else may name the resource.
        shown = text.replace(f'value="{response.wsgi_request.get_full_path()}"', "")
        assert title not in shown and code not in shown, f"{role} {route} {case.id}: 404 names the resource"
    elif want == 302:
        assert response["Location"].startswith(f"/resources/{code}/")

    readable = bool(can(actor, Action.READ, resource))
    if route in ("page_detail", "api_detail") and want == 200:
        assert (world.markers.body[resource.pk] in text) is readable, f"{role} {route} {case.id}: body"

    writes = route in ("api_patch", "page_publish", "page_archive", "api_publish", "api_archive")
    if writes and (want not in (200, 302) or not is_signed_in(actor)):
        assert after == before, f"{role} {route} {case.id}: a refused write changed the resource"
    elif route == "api_patch":
        assert response.json()["title"] == new_title and after[0] == new_title
    elif route in ("api_publish", "api_archive") or (route.startswith("page_") and writes):
        verb = route.split("_", 1)[1]
        target = {"publish": PUBLISHED, "archive": "archived"}[verb]
        if _transition_ok(resource, verb):
            assert after[1] == target, f"{role} {route} {case.id}: status {after[1]}"
        else:
            assert after == before
    assert _row(resource) == before, "the savepoint did not roll back"


def test_matrix_reaches_every_answer(world):
    """The cases are chosen so that every kind of answer occurs: the matrix is not vacuous."""
    seen = {
        expected_status(route, world.actors[role], world.resources[case])
        for role in ROLES
        for case in CASES
        for route in ROUTES
    }
    assert seen == {200, 302, 401, 403, 404, 422}
