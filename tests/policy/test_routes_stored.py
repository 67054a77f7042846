"""Route-level property test for stored references (invariant 10): what was saved naming another
resource (a version's related codes, a notification's title) is filtered by the policy when shown.

On random organizations every resource is related to every other through edits (version 2 relates
all the others, version 3 none, version 4 all again), and every person holds a notification naming
each resource. Then, for each account, the old versions and the diffs (API and pages), the version
history page, the notifications (API and page), the catalog export and the audit routes must show no
title or code of a resource the person may not see now, and must show those they may see. Every
person has also asked for every resource and holds an expired grant from the answer: their requests
and grants (API and pages) name only the resources they may see now.
"""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings

from sharehub.access.models import AccessRequest, Grant
from sharehub.catalog import queries
from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.events.services import record
from sharehub.feeds.services import notify_from_event
from sharehub.org import services as org
from sharehub.policy.engine import Action
from tests.policy.route_helpers import (
    Caller,
    Markers,
    expected_api,
    expected_page,
    is_signed_in,
    mark_resources,
)
from tests.policy.strategies import OrgSpec, PersonSpec, ResourceSpec, World, build_world, org_specs
from tests.policy.test_routes import Seen, _codes_in, _no_leak

pytestmark = pytest.mark.django_db

STORED_SETTINGS = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
RELATED_VERSION, UNRELATED_VERSION, LAST_VERSION = 2, 3, 4
DIFFS = ((1, LAST_VERSION), (RELATED_VERSION, UNRELATED_VERSION))  # related codes added; removed


def _relate_in_versions(world: World) -> None:
    """Versions 2 to 4 of every resource, made by an admin who sees everything."""
    editor = org.create_person(None, username="version_editor", is_org_admin=True, check_password=False)
    for resource in world.resources:
        others = [r.pk for r in world.resources if r.pk != resource.pk]
        title = Resource.objects.get(pk=resource.pk).title
        edits = (
            {"related": others, "title": f"{title} 第二版"},
            {"related": [], "summary": "第三版"},
            {"related": others, "summary": "第四版"},
        )
        for changes in edits:
            catalog.update_resource(editor, Resource.objects.get(pk=resource.pk), changes)


def _notify_everyone(world: World) -> None:
    """One notification per resource for every account, naming it by title (as the access process does)."""
    recipients = [user.pk for user in world.everyone if getattr(user, "pk", None) is not None]
    for resource in Resource.objects.filter(pk__in=[r.pk for r in world.resources]).order_by("pk"):
        event = record(
            None,
            "grant.revoked",
            resource,
            details={
                "resource": resource.code,
                "resource_id": resource.pk,
                "title": resource.title,
                "reason": "性质测试",
                "recipients": recipients,
            },
        )
        notify_from_event(event)


def _request_everything(world: World) -> None:
    """For every person, an approved request for every resource and the grant it made, now expired
    (so that what the policy lets them see is unchanged). Written directly: the access process would
    refuse to request an open or restricted resource."""
    past = timezone.now() - timedelta(days=30)
    for person in world.everyone:
        if not is_signed_in(person) or getattr(person, "is_service", False):
            continue
        for resource in world.resources:
            asked = AccessRequest.objects.create(
                resource_id=resource.pk,
                requester_id=person.pk,
                purpose="性质测试",
                use_category=AccessRequest.UseCategory.VERIFICATION,
                period_days=5,
                asked_period_days=5,
                terms_accepted_at=past,
                deadline_at=past + timedelta(days=3),
                status=AccessRequest.Status.APPROVED,
                decided_at=past,
            )
            Grant.objects.create(
                resource_id=resource.pk,
                grantee_user_id=person.pk,
                purpose="性质测试",
                valid_from=past,
                valid_until=past + timedelta(days=5),
                request=asked,
            )


def _check_requests_and_grants(caller: Caller, world: World, markers: Markers, seen: Seen) -> None:
    if getattr(caller.actor, "is_service", False):
        return
    for path in ("/requests", "/grants"):
        response = caller.api_get(path, {"scope": "mine", "limit": 200})
        assert response.status_code == 200, (caller, path)
        _no_leak(response, markers, seen, f"{caller} GET /api/v1{path}")
        items = response.json()["items"]  # the drawn grants to the caller's departments come on top
        assert len(items) >= len(world.resources), (caller, path)
        named = {item["resource"]["id"] for item in items if not item["resource"]["hidden"]}
        assert named == seen.view, f"{caller} GET /api/v1{path} names {sorted(named)} != visible {sorted(seen.view)}"
        for item in items[:3]:
            detail = caller.api_get(f"{path}/{item['id']}")
            assert detail.status_code == 200, (caller, path, item["id"])
            _no_leak(detail, markers, seen, f"{caller} GET /api/v1{path}/{item['id']}")
    for path in ("/requests/", "/grants/"):
        response = caller.page(path)
        assert response.status_code == 200, (caller, path)
        text = _no_leak(response, markers, seen, f"{caller} {path}")
        assert {pk for pk in seen.all if markers.title[pk] in text} == seen.view, f"{caller} {path}"
    for asked in AccessRequest.objects.filter(requester_id=caller.actor.pk).only("pk", "resource_id"):
        response = caller.page(f"/requests/{asked.pk}/")
        assert response.status_code == 200, (caller, asked.pk)
        text = _no_leak(response, markers, seen, f"{caller} /requests/{asked.pk}/")
        assert (markers.title[asked.resource_id] in text) == (asked.resource_id in seen.view), (caller, asked.pk)


def _diff_codes(changes: list[dict]) -> tuple[set[str], set[str]]:
    """The related codes a diff shows as added and as removed."""
    added, removed = set(), set()
    for change in changes:
        if change["field"] == "related":
            added |= {line["text"] for line in change["lines"] if line["kind"] == "added"}
            removed |= {line["text"] for line in change["lines"] if line["kind"] == "removed"}
    return added, removed


def _check_versions_api(caller: Caller, world: World, markers: Markers, seen: Seen) -> None:
    for resource in world.resources:
        want = expected_api(caller.actor, Action.READ, resource)
        known = {markers.code[pk] for pk in seen.view - {resource.pk}}
        for number in (RELATED_VERSION, UNRELATED_VERSION):
            path = f"/resources/{resource.code}/versions/{number}"
            response = caller.api_get(path)
            assert response.status_code == want, f"{caller} GET {path}: {response.status_code} != {want}"
            _no_leak(response, markers, seen, f"{caller} GET {path}")
            if want == 200:
                related = set(response.json()["snapshot"]["related"])
                assert related == (known if number == RELATED_VERSION else set()), f"{caller} GET {path}"
        for old, new in DIFFS:
            path = f"/resources/{resource.pk}/diff"
            response = caller.api_get(path, {"from": old, "to": new})
            assert response.status_code == want, f"{caller} GET {path} {old}..{new}: {response.status_code} != {want}"
            _no_leak(response, markers, seen, f"{caller} GET {path} {old}..{new}")
            if want == 200:
                shown = _diff_codes(response.json()["changes"])
                assert shown == ((known, set()) if old == 1 else (set(), known)), f"{caller} GET {path} {old}..{new}"


def _check_versions_pages(caller: Caller, world: World, markers: Markers, seen: Seen) -> None:
    for resource in world.resources:
        want = expected_page(caller.actor, Action.READ, resource)
        others = seen.all - {resource.pk}
        paths = [f"/resources/{resource.code}/versions/"]
        paths += [f"/resources/{resource.code}/diff/?a={old}&b={new}" for old, new in DIFFS]
        for path in paths:
            response = caller.page(path)
            assert response.status_code == want, f"{caller} GET {path}: {response.status_code} != {want}"
            text = _no_leak(response, markers, seen, f"{caller} GET {path}")
            if want == 200 and "/diff/" in path:
                assert _codes_in(text, markers, others) == seen.view - {resource.pk}, f"{caller} GET {path}"


def _check_notifications(caller: Caller, world: World, markers: Markers, seen: Seen) -> None:
    response = caller.api_get("/notifications", {"limit": 200})
    assert response.status_code == 200, caller
    _no_leak(response, markers, seen, f"{caller} GET /api/v1/notifications")
    items = response.json()["items"]
    assert len(items) == len(world.resources), caller
    named = {pk for pk in seen.all if any(markers.title[pk] in item["text"] for item in items)}
    assert named == seen.view, f"{caller} notifications name {sorted(named)} != visible {sorted(seen.view)}"
    response = caller.page("/notifications/")
    assert response.status_code == 200, caller
    text = _no_leak(response, markers, seen, f"{caller} /notifications/")
    assert {pk for pk in seen.all if markers.title[pk] in text} == seen.view, f"{caller} /notifications/"


def _check_exports(caller: Caller, world: World, markers: Markers, seen: Seen) -> None:
    response = caller.page("/resources/export.csv?archived=on")  # archived entries are listed only when asked
    assert response.status_code == 200, caller
    text = _no_leak(response, markers, seen, f"{caller} /resources/export.csv")
    assert _codes_in(text, markers, seen.all) == seen.view, f"{caller} export.csv"
    # The audit trail is whole for auditors by design (they read it and nothing else extra); everyone
    # else gets no part of it.
    if caller.actor.is_auditor and not caller.actor.is_service:
        return
    for path in ("/audit/", "/audit/export.csv"):
        response = caller.page(path)
        assert response.status_code == 404, (caller, path, response.status_code)
        _no_leak(response, markers, seen, f"{caller} {path}")
    response = caller.api_get("/audit/events")
    assert response.status_code in (403, 404), (caller, response.status_code)
    _no_leak(response, markers, seen, f"{caller} GET /api/v1/audit/events")


def check_stored_references(world: World) -> None:
    markers = mark_resources(world.resources)
    _relate_in_versions(world)
    _notify_everyone(world)
    _request_everything(world)
    for index, actor in enumerate(world.everyone):
        if not is_signed_in(actor):
            continue
        caller = Caller(actor, bearer=bool(index % 2) or bool(getattr(actor, "is_service", False)))
        seen = Seen(actor, world)
        _check_versions_api(caller, world, markers, seen)
        _check_versions_pages(caller, world, markers, seen)
        _check_notifications(caller, world, markers, seen)
        _check_exports(caller, world, markers, seen)
        _check_requests_and_grants(caller, world, markers, seen)


@STORED_SETTINGS
@given(spec=org_specs(max_departments=4, max_people=5, max_resources=5))
def test_stored_references_show_only_what_policy_allows_now(spec: OrgSpec):
    with transaction.atomic():
        world = build_world(spec)
        check_stored_references(world)
        transaction.set_rollback(True)


def test_the_checks_catch_a_snapshot_shown_unfiltered():
    """With the read-time filter patched out, the checks above fail on the smallest organization
    that has a hidden related resource: they are not vacuous."""
    spec = OrgSpec(
        parents=(None, None),
        people=(PersonSpec(memberships=((0, "member"),)),),
        resources=(
            ResourceSpec(owner=0, sharing="open", scope=None, status="published"),
            ResourceSpec(owner=1, sharing="restricted", scope=None, status="draft"),
        ),
        grants=(),
    )
    unfiltered = mock.patch.object(queries, "shown_snapshots", lambda actor, versions: [v.snapshot for v in versions])
    with transaction.atomic(), unfiltered:
        world = build_world(spec)
        with pytest.raises(AssertionError, match="unknown resource"):
            check_stored_references(world)
        transaction.set_rollback(True)
