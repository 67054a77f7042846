"""Route-level property tests: on random organizations, every page and API route shows each person
exactly what the policy lets them see, and nothing else (invariants 1 and 2).

For each account of a generated organization (and an anonymous visitor) the test walks the catalog
API (all cursor pages, every resource by id and by code, versions, explain, attachments) and the
pages (the catalog with all its pages and with searches for unknown titles, the CSV export, home, the
department tree and every department, and every resource's detail, explain, versions and edit page).
Each resource carries a unique marker in its title and its body, so a title, code or body that the
person may not know is caught by a substring search in any response.
"""

from __future__ import annotations

import math
from unittest import mock

import pytest
from django.db import transaction
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings

from sharehub.catalog import views as catalog_views
from sharehub.catalog.models import Resource
from sharehub.org.models import Department
from sharehub.policy.engine import Action, can, visible
from tests.policy.route_helpers import (
    Caller,
    Markers,
    expected_api,
    expected_page,
    is_signed_in,
    leaked,
    listed_count,
    mark_resources,
    text_of,
)
from tests.policy.strategies import OrgSpec, World, build_world, org_specs

pytestmark = pytest.mark.django_db

ROUTE_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
LIST_PAGE_SIZE = 3  # small pages so that pagination is walked on both the page and the API
API_PAGE_SIZE = 2
MISSING_CODE = "NOPE-2000-0001"


class Seen:
    """What one signed-in actor may know, from the policy."""

    def __init__(self, actor, world: World):
        everything = Resource.objects.all()
        self.all = {r.pk for r in world.resources}
        self.view = set(visible(actor, everything, Action.VIEW).values_list("pk", flat=True))
        self.read = {r.pk for r in world.resources if can(actor, Action.READ, r)}
        assert self.read == set(visible(actor, everything, Action.READ).values_list("pk", flat=True))
        self.unknown = self.all - self.view
        self.unreadable = self.all - self.read


def _no_leak(response, markers: Markers, seen: Seen, where: str, echo: str = "") -> str:
    """The response text, after checking it shows nothing unknown or unreadable. What the caller
    typed is left out: the address (which the language switch repeats as `next`) and `echo` (a
    search, which the page repeats in the search box and in links)."""
    text = text_of(response)
    checked = text.replace(f'name="next" type="hidden" value="{escape(response.wsgi_request.get_full_path())}"', "")
    if echo:
        checked = checked.replace(f'value="{echo}"', "").replace(f"q={echo}", "")
    found = leaked(checked, markers, unknown=seen.unknown, unreadable=seen.unreadable)
    assert not found, f"{where}: {found}"
    return text


# --- API -----------------------------------------------------------------------------------------


def _check_api_list(caller: Caller, world: World, markers: Markers, seen: Seen) -> None:
    ids: list[int] = []
    cursor = None
    for _round in range(len(world.resources) + 2):
        params = {"limit": API_PAGE_SIZE, "include_body": "true"}
        if cursor:
            params["cursor"] = cursor
        response = caller.api_get("/resources", params)
        assert response.status_code == 200, (caller, response.content)
        _no_leak(response, markers, seen, f"{caller} GET /api/v1/resources")
        data = response.json()
        for item in data["items"]:
            pk = item["id"]
            ids.append(pk)
            readable = pk in seen.read
            assert item["can_read"] is readable, (caller, item["code"])
            assert (item["body"] is not None) is readable, (caller, item["code"], "body")
            assert (item["body_html"] is not None) is readable, (caller, item["code"], "body_html")
            if readable:
                assert item["body"] == markers.body[pk]
            others = sorted(markers.code[o] for o in seen.view if o != pk)
            assert item["related"] == others, (caller, item["code"], "related")
        cursor = data["next_cursor"]
        if not cursor:
            break
    else:
        pytest.fail(f"{caller}: the cursor never ended")
    assert len(ids) == len(set(ids)), f"{caller}: a resource came twice across cursor pages"
    assert set(ids) == seen.view, f"{caller}: API list {sorted(ids)} != visible {sorted(seen.view)}"

    # Without include_body no body at all.
    response = caller.api_get("/resources", {"limit": 200})
    assert all(item["body"] is None for item in response.json()["items"])


def _check_api_resource(caller: Caller, world: World, markers: Markers, seen: Seen) -> None:
    actor = caller.actor
    missing_id = max(seen.all, default=0) + 10_000
    routes = {"": Action.VIEW, "/versions": Action.READ, "/explain": Action.VIEW, "/attachments": Action.READ}
    absent = {}
    for suffix in routes:
        for ident in (missing_id, MISSING_CODE):
            response = caller.api_get(f"/resources/{ident}{suffix}")
            assert response.status_code == 404, (caller, ident, suffix)
            absent[suffix, isinstance(ident, int)] = response.content
    for resource in world.resources:
        for suffix, action in routes.items():
            for ident in (resource.pk, resource.code):
                path = f"/resources/{ident}{suffix}"
                response = caller.api_get(path)
                want = expected_api(actor, action, resource)
                assert response.status_code == want, f"{caller} GET {path}: {response.status_code} != {want}"
                _no_leak(response, markers, seen, f"{caller} GET {path}")
                if want == 404:
                    # Unknown means 404, byte for byte the answer for a resource that does not exist.
                    assert response.content == absent[suffix, isinstance(ident, int)], f"{caller} GET {path}"
                if suffix == "" and want == 200:
                    item = response.json()
                    assert item["id"] == resource.pk
                    assert (item["body"] is not None) is (resource.pk in seen.read), f"{caller} GET {path} body"


# --- pages ---------------------------------------------------------------------------------------


def _codes_in(text: str, markers: Markers, ids) -> set[int]:
    return {pk for pk in ids if markers.code[pk] in text}


def _check_catalog_pages(caller: Caller, world: World, markers: Markers, seen: Seen) -> None:
    pages = max(1, math.ceil(len(seen.view) / LIST_PAGE_SIZE))
    listed: list[int] = []
    for number in range(1, pages + 1):
        response = caller.page("/resources/", {"page": number, "archived": "on"})
        assert response.status_code == 200, caller
        text = _no_leak(response, markers, seen, f"{caller} /resources/?page={number}")
        assert listed_count(text) == len(seen.view), f"{caller} /resources/ count"
        on_page = _codes_in(text, markers, seen.all)
        assert len(on_page) == min(LIST_PAGE_SIZE, len(seen.view) - (number - 1) * LIST_PAGE_SIZE), caller
        listed += on_page
    assert sorted(listed) == sorted(seen.view), f"{caller} /resources/ lists {sorted(listed)} != {sorted(seen.view)}"
    current = Resource.objects.filter(pk__in=seen.view).exclude(status=Resource.Status.ARCHIVED).count()
    response = caller.page("/resources/")  # archived entries only when asked
    assert listed_count(_no_leak(response, markers, seen, f"{caller} /resources/")) == current, caller

    for pk in seen.unknown:
        echo = markers.title[pk]
        response = caller.page("/resources/", {"q": echo})
        text = _no_leak(response, markers, seen, f"{caller} /resources/?q=<title of unknown>", echo)
        assert listed_count(text) == 0, f"{caller} /resources/?q= finds an unknown resource"
        echo = markers.code[pk]
        response = caller.page("/resources/", {"q": echo})
        text = _no_leak(response, markers, seen, f"{caller} /resources/?q=<code of unknown>", echo)
        assert listed_count(text) == 0, f"{caller} /resources/?q= finds an unknown code"
    for pk in sorted(seen.view)[:1]:
        response = caller.page("/resources/", {"q": markers.title[pk], "archived": "on"})
        assert listed_count(text_of(response)) == 1, f"{caller} /resources/?q=<title of a visible one>"

    response = caller.page("/resources/export.csv", {"archived": "on"})
    assert response.status_code == 200, caller
    text = _no_leak(response, markers, seen, f"{caller} /resources/export.csv")
    assert _codes_in(text, markers, seen.all) == seen.view, f"{caller} export.csv"


def _check_other_pages(caller: Caller, world: World, markers: Markers, seen: Seen) -> None:
    for path in ("/", "/departments/"):
        response = caller.page(path)
        assert response.status_code == 200, (caller, path)
        _no_leak(response, markers, seen, f"{caller} {path}")
    for department in Department.objects.order_by("pk"):
        path = f"/departments/{department.pk}/"
        response = caller.page(path)
        assert response.status_code == 200, (caller, path)
        text = _no_leak(response, markers, seen, f"{caller} {path}")
        own = {r.pk for r in world.resources if r.owner_department_id == department.pk}
        subtree = {r.pk for r in world.resources if f"/{department.pk}/" in r.owner_department.path or r.pk in own}
        assert _codes_in(text, markers, seen.all) == subtree & seen.view, f"{caller} {path}"


def _check_resource_pages(caller: Caller, world: World, markers: Markers, seen: Seen) -> None:
    actor = caller.actor
    routes = {"": Action.VIEW, "explain/": Action.VIEW, "versions/": Action.READ, "edit/": Action.EDIT}
    missing = caller.page(f"/resources/{max(seen.all, default=0) + 10_000}/")
    assert missing.status_code == 404, caller
    for resource in world.resources:
        for suffix, action in routes.items():
            for ident in (resource.pk, resource.code):
                path = f"/resources/{ident}/{suffix}"
                response = caller.page(path)
                want = expected_page(actor, action, resource)
                assert response.status_code == want, f"{caller} GET {path}: {response.status_code} != {want}"
                text = _no_leak(response, markers, seen, f"{caller} GET {path}")
                if suffix == "" and want == 200:
                    shown = markers.body[resource.pk] in text
                    assert shown is (resource.pk in seen.read), f"{caller} GET {path}: body shown={shown}"
                    related = _codes_in(text, markers, seen.all - {resource.pk})
                    assert related == seen.view - {resource.pk}, f"{caller} GET {path}: related"


# --- signed out ----------------------------------------------------------------------------------


def _check_signed_out(caller: Caller, world: World, markers: Markers) -> None:
    everything = {r.pk for r in world.resources}
    nothing = type("Nothing", (), {"unknown": everything, "unreadable": everything})()
    paths = ["/", "/resources/", "/resources/export.csv", "/departments/"]
    paths += [f"/departments/{d.pk}/" for d in world.departments[:2]]
    for resource in world.resources:
        paths += [f"/resources/{resource.pk}/", f"/resources/{resource.code}/explain/"]
    for path in paths:
        response = caller.page(path)
        assert response.status_code == 302, (caller, path, response.status_code)
        assert "/login/" in response["Location"], (caller, path)
        _no_leak(response, markers, nothing, f"{caller} {path}")
    api_paths = ["/resources"] + [f"/resources/{r.code}" for r in world.resources]
    for path in api_paths:
        response = caller.api_get(path)
        assert response.status_code == 401, (caller, path, response.status_code)
        _no_leak(response, markers, nothing, f"{caller} GET /api/v1{path}")


# --- the property --------------------------------------------------------------------------------


def _link_everything(world: World) -> None:
    """Relate every resource to every other, so each detail page and API item has a related list to filter."""
    for resource in world.resources:
        resource.related.add(*[r for r in world.resources if r.pk != resource.pk])


def check_routes(world: World) -> None:
    markers = mark_resources(world.resources)
    _link_everything(world)
    for index, actor in enumerate(world.everyone):
        caller = Caller(actor, bearer=bool(index % 2) or bool(getattr(actor, "is_service", False)))
        if not is_signed_in(actor):
            _check_signed_out(caller, world, markers)
            continue
        seen = Seen(actor, world)
        _check_api_list(caller, world, markers, seen)
        _check_api_resource(caller, world, markers, seen)
        _check_catalog_pages(caller, world, markers, seen)
        _check_other_pages(caller, world, markers, seen)
        _check_resource_pages(caller, world, markers, seen)


@ROUTE_SETTINGS
@given(spec=org_specs(max_departments=5, max_people=5, max_resources=6))
def test_routes_show_exactly_what_policy_allows(spec: OrgSpec):
    with (
        mock.patch.object(catalog_views, "PAGE_SIZE", LIST_PAGE_SIZE),
        transaction.atomic(),
    ):
        world = build_world(spec)
        check_routes(world)
        transaction.set_rollback(True)
