"""A warm policy check answers from memory (invariant 9): once an actor's context is loaded, `can()` on
a resource fetched through the catalog's queries runs no SQL, for every action and kind of actor; and
what it remembers follows changes to grants and memberships made in the same request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sharehub.access import services as access
from sharehub.access.models import Grant
from sharehub.catalog.models import Resource
from sharehub.catalog.queries import access_resource, list_resources
from sharehub.errors import NotFound
from sharehub.org import services as org
from sharehub.org.models import Membership, User
from sharehub.policy.engine import Action, ProcessAction, can, visible
from tests import factories

pytestmark = pytest.mark.django_db

ACTIONS = (*Action, ProcessAction.REQUEST)


@pytest.fixture
def world(org_units, people):
    steward = people["tax_steward"]
    tax, health, hr = org_units["tax"], org_units["health"], org_units["hr"]
    open_all = factories.resource(tax, by=steward, title="公开")
    open_hr = factories.resource(tax, by=steward, title="公开给人社", scope=[hr])
    cond_all = factories.resource(tax, by=steward, sharing_type="conditional", title="有条件")
    cond_health = factories.resource(tax, by=steward, sharing_type="conditional", title="仅卫健", scope=[health])
    cond_hr = factories.resource(tax, by=steward, sharing_type="conditional", title="仅人社", scope=[hr])
    factories.resource(tax, by=steward, sharing_type="restricted", title="不予共享")
    factories.resource(tax, by=steward, title="草稿", publish=False)
    now = timezone.now()

    def grant(resource, *, user=None, department=None, start=-1, end=30):
        return Grant.objects.create(
            resource=resource,
            grantee_user=user,
            grantee_department=department,
            purpose="核验",
            valid_from=now + timedelta(days=start),
            valid_until=now + timedelta(days=end),
        )

    grants = {
        "user": grant(cond_health, user=people["health_member"]),
        "department": grant(cond_hr, department=org_units["social"]),
        "future": grant(cond_all, user=people["health_member"], start=2, end=9),
        "expired": grant(cond_all, user=people["social_member"], start=-9, end=-2),
    }
    outsider = factories.person("outsider")
    return {"resources": [open_all, open_hr, cond_all, cond_health, cond_hr], "grants": grants, "outsider": outsider}


ACTORS = ("admin", "tax_steward", "tax_member", "health_member", "social_member", "hr_head", "outsider")


def _fresh(people, world, name: str) -> User:
    """A user object as a request has it, with a warm policy context: one decision made that needed
    the grants the actor holds (they are loaded then, with one query, not for requests that never
    look at a conditional resource)."""
    user = User.objects.get(pk=(world["outsider"] if name == "outsider" else people[name]).pk)
    can(user, Action.READ, world["resources"][2])
    return user


@pytest.mark.parametrize("name", ACTORS)
def test_warm_checks_on_the_catalog_list_run_no_sql(people, world, name):
    actor = _fresh(people, world, name)
    listed = list(list_resources(actor))
    everything = list(list_resources(User.objects.get(pk=people["admin"].pk)))
    with CaptureQueriesContext(connection) as queries:
        decided = {(r.pk, a): bool(can(actor, a, r)) for r in listed + everything for a in ACTIONS}
    assert len(queries) == 0, [q["sql"] for q in queries]
    assert {pk for (pk, a), ok in decided.items() if a == Action.READ and ok} == set(
        visible(actor, Resource.objects.all(), Action.READ).values_list("pk", flat=True)
    )


@pytest.mark.parametrize("name", ACTORS)
def test_warm_checks_on_a_resource_from_access_resource_run_no_sql(people, world, name):
    actor = _fresh(people, world, name)
    fetched = []
    for resource in Resource.objects.order_by("pk"):
        try:
            fetched.append(access_resource(actor, resource.pk, Action.VIEW))
        except NotFound:
            continue
    assert fetched
    for resource in fetched:
        with CaptureQueriesContext(connection) as queries:
            for action in ACTIONS:
                can(actor, action, resource)
        assert len(queries) == 0, (resource.title, [q["sql"] for q in queries])


def test_grants_decide_the_read_of_grantees(people, world):
    cond_all, cond_health, cond_hr = world["resources"][2:]
    health = _fresh(people, world, "health_member")
    social = _fresh(people, world, "social_member")
    hr_head = _fresh(people, world, "hr_head")
    assert can(health, Action.READ, cond_health).code == "granted"  # a grant to the person
    assert can(social, Action.READ, cond_hr).code == "granted"  # a grant to their department
    assert can(hr_head, Action.READ, cond_hr).code == "conditional_no_grant"  # not to the parent's members
    assert can(health, Action.READ, cond_all).code == "conditional_no_grant"  # starts in two days
    assert can(health, Action.READ, cond_all, now=timezone.now() + timedelta(days=3)).code == "granted"
    assert can(health, Action.READ, cond_health, now=timezone.now() + timedelta(days=31)).code == "conditional_no_grant"
    assert can(social, Action.READ, cond_all).code == "conditional_no_grant"  # ended two days ago
    # Asked about a time before the context loaded its grants: the ended grant is found by a query.
    with CaptureQueriesContext(connection) as queries:
        assert can(social, Action.READ, cond_all, now=timezone.now() - timedelta(days=3)).code == "granted"
    assert len(queries) == 1


def test_the_first_decision_that_needs_grants_loads_them_with_one_query(people, world):
    health = User.objects.get(pk=people["health_member"].pk)
    with CaptureQueriesContext(connection) as queries:
        # Fetching a conditional entry decides VIEW in memory, which needs the grants: loaded there, once.
        cond_health = access_resource(health, world["resources"][3].pk, Action.VIEW)
        assert can(health, Action.READ, cond_health).code == "granted"
        assert can(health, Action.READ, world["resources"][2]).code == "conditional_no_grant"
    grant_reads = [q["sql"] for q in queries if '"access_grant"' in q["sql"]]
    assert len(grant_reads) == 1, grant_reads


def test_a_resource_fetched_without_its_scope_is_decided_with_one_query(people, world):
    actor = _fresh(people, world, "tax_member")
    outsider = _fresh(people, world, "health_member")
    plain = Resource.objects.select_related("owner_department").get(pk=world["resources"][1].pk)  # scoped to 人社局
    with CaptureQueriesContext(connection) as queries:
        assert can(outsider, Action.READ, plain).code == "out_of_scope"
    assert len(queries) == 1
    social = _fresh(people, world, "social_member")
    assert can(social, Action.READ, Resource.objects.get(pk=plain.pk)).code == "open"  # a sub-department
    with CaptureQueriesContext(connection) as queries:
        assert can(actor, Action.READ, plain).code == "owner_member"
    assert len(queries) == 0


def test_a_revoked_grant_ends_access_within_the_same_request(people, world):
    cond_health = world["resources"][3]
    grantee = _fresh(people, world, "health_member")
    resource = access_resource(grantee, cond_health.pk, Action.READ)
    steward = User.objects.get(pk=people["tax_steward"].pk)
    access.revoke_grant(steward, world["grants"]["user"], reason="用途已结束")
    assert can(grantee, Action.READ, resource).code == "conditional_no_grant"


def test_a_new_grant_or_membership_counts_within_the_same_request(people, world, org_units):
    cond_all, _cond_health, cond_hr = world["resources"][2:]
    reader = _fresh(people, world, "hr_head")
    resource = access_resource(reader, cond_all.pk, Action.VIEW)
    assert not can(reader, Action.READ, resource)
    Grant.objects.create(
        resource=cond_all,
        grantee_department=org_units["hr"],
        purpose="核验",
        valid_from=timezone.now() - timedelta(minutes=1),
        valid_until=timezone.now() + timedelta(days=1),
    )
    assert can(reader, Action.READ, resource).code == "granted"

    admin = User.objects.get(pk=people["admin"].pk)
    assert can(reader, Action.READ, cond_hr).code == "conditional_no_grant"
    org.set_membership(admin, User.objects.get(pk=reader.pk), org_units["social"], Membership.Role.MEMBER)
    assert can(reader, Action.READ, cond_hr).code == "granted"  # the department grant to 社保中心
    org.remove_membership(admin, User.objects.get(pk=reader.pk), org_units["social"])
    assert can(reader, Action.READ, cond_hr).code == "conditional_no_grant"


def test_a_grant_rolled_back_with_its_transaction_is_forgotten(people, world, org_units):
    cond_all = world["resources"][2]
    reader = _fresh(people, world, "hr_head")
    resource = access_resource(reader, cond_all.pk, Action.VIEW)
    with transaction.atomic():
        Grant.objects.create(
            resource=cond_all,
            grantee_department=org_units["hr"],
            purpose="核验",
            valid_from=timezone.now() - timedelta(minutes=1),
            valid_until=timezone.now() + timedelta(days=1),
        )
        assert can(reader, Action.READ, resource).code == "granted"
        transaction.set_rollback(True)
    assert can(reader, Action.READ, resource).code == "conditional_no_grant"
