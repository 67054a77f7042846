"""The access services one by one: every refusal is a clear error that changes nothing (no row, no
event), and every change appends the expected event naming the people to notify."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from sharehub.access import services
from sharehub.access.models import AccessRequest, ApprovalRule, Grant, RequestNote
from sharehub.catalog.models import Resource
from sharehub.errors import Conflict, Forbidden, Invalid, NotFound
from sharehub.events.chain import verify_chain
from sharehub.events.models import Event
from sharehub.org.models import Membership
from sharehub.policy.engine import Action, can, forget, visible
from tests import factories

pytestmark = pytest.mark.django_db

Status = AccessRequest.Status
REQUEST_DETAIL_KEYS = {"request", "resource", "resource_id", "title", "status", "recipients"}
GRANT_DETAIL_KEYS = {"grant", "resource", "resource_id", "title", "recipients"}


@pytest.fixture
def world(org_units, people):
    tax, health = org_units["tax"], org_units["health"]
    steward = people["tax_steward"]
    w = dict(people)
    w.update(org_units)
    w["tax_head"] = factories.member(tax, Membership.Role.HEAD, username="tax_head")
    w["health_steward"] = factories.member(health, Membership.Role.STEWARD, username="health_steward")
    w["health_colleague"] = factories.member(health, Membership.Role.MEMBER, username="health_colleague")
    w["doc"] = factories.resource(
        tax,
        by=steward,
        sharing_type="conditional",
        title="纳税信用等级",
        terms_of_use="仅用于业务核验，不得转交第三方。",
        max_grant_days=30,
    )
    w["dataset"] = factories.resource(
        tax,
        by=steward,
        kind=Resource.Kind.DATASET,
        sharing_type="conditional",
        title="纳税人登记",
        dataset_fields=[
            {"name": "taxpayer_id", "sensitivity": "sensitive"},
            {"name": "name"},
            {"name": "amount"},
        ],
        max_grant_days=60,
    )
    w["head_only"] = factories.resource(
        tax, by=steward, sharing_type="conditional", title="欠税名单", requires_head_approval=True
    )
    w["open"] = factories.resource(tax, by=steward, title="办税指南")
    w["restricted"] = factories.resource(tax, by=steward, sharing_type="restricted", title="稽查案卷")
    w["draft"] = factories.resource(tax, by=steward, sharing_type="conditional", publish=False, title="草稿")
    return w


def snapshot() -> dict:
    """Everything the access process may write: requests, their notes, grants and the event log."""
    return {
        "requests": list(
            AccessRequest.objects.order_by("pk").values_list(
                "pk", "status", "period_days", "fields", "for_department_id", "deadline_at", "paused_at", "decided_at"
            )
        ),
        "notes": list(RequestNote.objects.order_by("pk").values_list("pk", "kind")),
        "grants": list(Grant.objects.order_by("pk").values_list("pk", "revoked_at", "valid_until", "revoke_reason")),
        "events": list(Event.objects.order_by("seq").values_list("seq", "action")),
    }


def ask(world, actor=None, resource=None, **overrides) -> AccessRequest:
    arguments = {
        "purpose": "社保资格核验",
        "use_category": "verification",
        "period_days": 14,
        "accept_terms": True,
    }
    arguments.update(overrides)
    return services.create_request(actor or world["health_member"], resource or world["doc"], **arguments)


def last_event(action: str) -> Event:
    event = Event.objects.filter(action=action).order_by("-seq").first()
    assert event is not None, f"no {action} event"
    return event


def check_event(action: str, *, recipients, target=None, keys=REQUEST_DETAIL_KEYS, **details) -> Event:
    """The newest `action` event: its details carry `keys`, name exactly `recipients` (user ids,
    each once) and hold `details`; its target is `target`."""
    event = last_event(action)
    assert keys <= set(event.details), (action, sorted(event.details))
    # Request events list recipients sorted, grant events in database order: compare as sets.
    assert sorted(event.details["recipients"]) == sorted({u.pk for u in recipients}), (action, event.details)
    assert len(set(event.details["recipients"])) == len(event.details["recipients"])
    assert all(isinstance(r, int) for r in event.details["recipients"])
    for key, value in details.items():
        assert event.details[key] == value, (action, key, event.details[key], value)
    if target is not None:
        assert (event.target_type, event.target_id) == (target._meta.label_lower, str(target.pk))
    return event


def refused(error_type, call, *args, **kwargs):
    """Run a call that must fail with `error_type` and leave every table as it was."""
    before = snapshot()
    with pytest.raises(error_type) as caught:
        call(*args, **kwargs)
    assert type(caught.value) is error_type, caught.value
    assert snapshot() == before
    assert str(caught.value.message)
    return caught.value


# --- requesting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"purpose": ""}, "purpose"),
        ({"purpose": "   \n "}, "purpose"),
        ({"purpose": None}, "purpose"),
        ({"purpose": "x" * 4001}, "purpose"),
        ({"purpose": "a\x00b"}, "purpose"),
        ({"use_category": "gossip"}, "use_category"),
        ({"period_days": 31}, "period_days"),
        ({"period_days": 0}, "period_days"),
        ({"period_days": -3}, "period_days"),
        ({"period_days": "two weeks"}, "period_days"),
        ({"period_days": None}, "period_days"),
        ({"accept_terms": False}, "accept_terms"),
        ({"accept_terms": "yes"}, "accept_terms"),
        ({"fields": ["taxpayer_id"]}, "fields"),  # a document has no fields at all
        ({"fields": "not, a, list"}, "fields"),
        ({"fields": [1, 2]}, "fields"),
    ],
)
def test_bad_request_input_changes_nothing(world, overrides, field):
    error = refused(Invalid, ask, world, **overrides)
    assert field in error.fields, error.fields


@pytest.mark.parametrize(
    ("fields", "bad"),
    [(["taxpayer_id", "salary"], "salary"), (["TAXPAYER_ID"], "TAXPAYER_ID"), ("amount, bonus", "bonus")],
)
def test_fields_the_dataset_lacks_are_named(world, fields, bad):
    error = refused(Invalid, ask, world, resource=world["dataset"], fields=fields)
    assert bad in error.fields["fields"]


def test_period_over_the_resources_maximum_names_the_maximum(world):
    error = refused(Invalid, ask, world, resource=world["dataset"], period_days=61)
    assert "60" in error.fields["period_days"]
    assert ask(world, resource=world["dataset"], period_days=60, fields=["name"]).period_days == 60


def test_requesting_for_a_department_one_does_not_belong_to(world):
    error = refused(Invalid, ask, world, for_department=world["hr"])
    assert "for_department" in error.fields
    refused(Invalid, ask, world, for_department=999999)
    refused(Invalid, ask, world, for_department="health")


def test_several_bad_fields_are_reported_together(world):
    error = refused(Invalid, ask, world, purpose="", period_days=999, accept_terms=False)
    assert {"purpose", "period_days", "accept_terms"} <= set(error.fields)


@pytest.mark.parametrize(
    ("which", "actor", "message"),
    [
        ("restricted", "health_member", "Restricted"),
        ("open", "health_member", "open"),
        ("doc", "tax_member", "already read"),
        ("doc", "tax_steward", "already read"),
        ("draft", "health_member", "draft"),
    ],
)
def test_what_cannot_be_requested(world, which, actor, message):
    error = refused(Forbidden, ask, world, actor=world[actor], resource=world[which])
    assert message in str(error.message)


def test_a_restricted_resource_names_its_basis_when_its_owner_asks(world):
    decision = can(world["tax_member"], "request", world["restricted"])
    assert not decision and decision.code == "restricted"
    assert world["restricted"].restriction_basis in decision.next_step


def test_anonymous_cannot_request(world):
    from django.contrib.auth.models import AnonymousUser

    refused(Forbidden, ask, world, actor=AnonymousUser())


def test_a_request_records_the_terms_and_notifies_the_owners_managers(world):
    now = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=now):
        request = ask(world, fields=None)
    assert request.status == Status.PENDING and not request.needs_head
    assert request.terms_accepted == "仅用于业务核验，不得转交第三方。"
    assert request.terms_accepted_at == now
    assert request.created_at == now and request.deadline_at > now
    assert list(request.notes.values_list("kind", "text")) == [("submitted", "社保资格核验")]
    check_event(
        "access.requested",
        recipients=[world["tax_steward"], world["tax_head"]],
        target=request,
        request=request.pk,
        resource=world["doc"].code,
        status="pending",
        period_days=14,
        for_department=None,
    )
    event = last_event("access.requested")
    assert event.actor_id == world["health_member"].pk
    assert set(event.departments.values_list("pk", flat=True)) == {world["tax"].pk, world["health"].pk}


def test_a_duplicate_open_request_is_refused_until_the_first_is_closed(world):
    first = ask(world)
    error = refused(Conflict, ask, world, purpose="再次申请")
    assert f"#{first.pk}" in str(error.message)
    # Another person of the same department may ask; so may the same person for another resource.
    ask(world, actor=world["health_colleague"])
    ask(world, resource=world["dataset"], fields=["name"])
    services.withdraw_request(world["health_member"], first)
    assert ask(world).pk != first.pk


def test_a_request_waiting_for_information_still_counts_as_open(world):
    first = ask(world)
    services.ask_for_information(world["tax_steward"], first, question="用途？")
    refused(Conflict, ask, world)


def test_a_grant_holder_may_ask_again_to_renew(world):
    first = ask(world)
    services.approve_request(world["tax_steward"], first)
    renewal = ask(world, purpose="续期")
    assert renewal.status == Status.PENDING


# --- deciding ----------------------------------------------------------------------------------


def test_approve_creates_a_grant_and_two_events(world):
    request = ask(world, period_days=10)
    now = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=now):
        services.approve_request(world["tax_steward"], request, note="同意")
    request.refresh_from_db()
    grant = request.grant
    assert (
        request.status == Status.APPROVED and request.decided_by == world["tax_steward"] and request.decided_at == now
    )
    assert grant.grantee_user == world["health_member"] and grant.grantee_department is None
    assert (grant.valid_from, grant.valid_until) == (now, now + timedelta(days=10))
    assert grant.purpose == request.purpose and grant.created_by == world["tax_steward"]
    check_event(
        "access.approved",
        recipients=[world["health_member"]],
        target=request,
        grant=grant.pk,
        narrowed=[],
        status="approved",
        note="同意",
    )
    check_event(
        "grant.created",
        recipients=[world["health_member"]],
        target=grant,
        keys=GRANT_DETAIL_KEYS | {"valid_until", "fields", "request"},
        request=request.pk,
    )
    assert can(world["health_member"], Action.READ, world["doc"])
    assert not can(world["health_colleague"], Action.READ, world["doc"])


def test_reject_needs_a_reason_and_tells_the_requester(world):
    request = ask(world)
    refused(Invalid, services.reject_request, world["tax_steward"], request, reason="  ")
    services.reject_request(world["tax_steward"], request, reason="用途不明确")
    request.refresh_from_db()
    assert request.status == Status.REJECTED and request.decision_reason == "用途不明确"
    check_event("access.rejected", recipients=[world["health_member"]], reason="用途不明确", status="rejected")
    assert not Grant.objects.exists()


@pytest.mark.parametrize("first", ["approve", "reject", "withdraw"])
@pytest.mark.parametrize("second", ["approve", "reject", "ask"])
def test_deciding_twice_is_a_conflict(world, first, second):
    request = ask(world)
    steward, head = world["tax_steward"], world["tax_head"]
    {
        "approve": lambda: services.approve_request(steward, request),
        "reject": lambda: services.reject_request(steward, request, reason="不符合条件"),
        "withdraw": lambda: services.withdraw_request(world["health_member"], request),
    }[first]()
    call = {
        "approve": lambda: services.approve_request(head, request),
        "reject": lambda: services.reject_request(head, request, reason="再拒一次"),
        "ask": lambda: services.ask_for_information(head, request, question="？"),
    }[second]
    error = refused(Conflict, call)
    assert "already decided" in str(error.message)
    assert Grant.objects.count() == (1 if first == "approve" else 0)


@pytest.mark.parametrize("decider", ["health_steward", "hr_head", "tax_member", "health_member", "auditor"])
@pytest.mark.parametrize("decision", ["approve", "reject", "ask"])
def test_only_the_owners_stewards_and_heads_decide(world, decider, decision):
    request = ask(world)
    actor = world[decider]
    call = {
        "approve": lambda: services.approve_request(actor, request),
        "reject": lambda: services.reject_request(actor, request, reason="不行"),
        "ask": lambda: services.ask_for_information(actor, request, question="？"),
    }[decision]
    refused(Forbidden, call)


def test_another_departments_request_cannot_be_decided_by_its_own_steward(world):
    # The health steward decides for health's resources, not for a request made by health.
    health_resource = factories.resource(world["health"], by=world["health_steward"], sharing_type="conditional")
    request = ask(world, actor=world["tax_member"], resource=health_resource)
    refused(Forbidden, services.approve_request, world["tax_steward"], request)
    services.approve_request(world["health_steward"], request)
    assert Grant.objects.get().resource == health_resource


def test_an_admin_may_decide(world):
    request = ask(world)
    services.reject_request(world["admin"], request, reason="管理员拒绝")
    assert AccessRequest.objects.get(pk=request.pk).status == Status.REJECTED


def test_a_missing_request_is_not_found(world):
    ghost = AccessRequest(pk=999999)
    refused(NotFound, services.approve_request, world["tax_steward"], ghost)
    refused(NotFound, services.withdraw_request, world["health_member"], ghost)


def test_the_head_decides_second_when_the_resource_asks_for_it(world):
    request = ask(world, resource=world["head_only"], period_days=20)
    assert request.needs_head
    services.approve_request(world["tax_steward"], request, period_days=15, note="初审同意")
    request.refresh_from_db()
    assert request.status == Status.PENDING_HEAD and request.period_days == 15
    assert not Grant.objects.exists()
    check_event(
        "access.first_approved",
        recipients=[world["health_member"], world["tax_head"]],
        status="pending_head",
        note="初审同意",
    )
    assert not can(world["health_member"], Action.READ, world["head_only"])
    # The steward cannot take the second step, nor can anyone but the head (or an admin).
    refused(Forbidden, services.approve_request, world["tax_steward"], request)
    refused(Forbidden, services.reject_request, world["tax_steward"], request, reason="x")
    # The head cannot widen what the steward narrowed.
    refused(Invalid, services.approve_request, world["tax_head"], request, period_days=20)
    now = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=now):
        services.approve_request(world["tax_head"], request)
    grant = Grant.objects.get()
    assert grant.valid_until == now + timedelta(days=15)
    assert AccessRequest.objects.get(pk=request.pk).decided_by == world["tax_head"]
    assert can(world["health_member"], Action.READ, world["head_only"])


def test_the_head_may_reject_at_the_second_step(world):
    request = ask(world, resource=world["head_only"])
    services.approve_request(world["tax_steward"], request)
    services.reject_request(world["tax_head"], request, reason="敏感")
    assert AccessRequest.objects.get(pk=request.pk).status == Status.REJECTED
    assert not Grant.objects.exists()


def test_a_head_deciding_first_still_passes_through_the_second_step(world):
    request = ask(world, resource=world["head_only"])
    services.approve_request(world["tax_head"], request)
    assert AccessRequest.objects.get(pk=request.pk).status == Status.PENDING_HEAD
    services.approve_request(world["tax_head"], request)
    assert AccessRequest.objects.get(pk=request.pk).status == Status.APPROVED


def test_approval_rule_trusted_departments_skip_the_head(world):
    rule = ApprovalRule.objects.create(department=world["tax"], head_for_outsiders=True)
    rule.trusted_departments.set([world["hr"]])
    trusted = ask(world, actor=world["hr_head"])
    outsider = ask(world, actor=world["health_member"])
    assert not trusted.needs_head and outsider.needs_head
    services.approve_request(world["tax_steward"], trusted)
    assert AccessRequest.objects.get(pk=trusted.pk).status == Status.APPROVED
    services.approve_request(world["tax_steward"], outsider)
    assert AccessRequest.objects.get(pk=outsider.pk).status == Status.PENDING_HEAD


def test_approval_rule_looks_at_the_department_asked_for(world):
    rule = ApprovalRule.objects.create(department=world["tax"], head_for_outsiders=True)
    rule.trusted_departments.set([world["hr"]])
    both = factories.person("both", departments={world["hr"]: "member", world["health"]: "member"})
    assert not ask(world, actor=both).needs_head  # as a person: one of their departments is trusted
    services.withdraw_request(both, AccessRequest.objects.get(requester=both))
    assert ask(world, actor=both, for_department=world["health"]).needs_head
    services.withdraw_request(both, AccessRequest.objects.get(requester=both, status=Status.PENDING))
    assert not ask(world, actor=both, for_department=world["hr"]).needs_head


def test_without_head_for_outsiders_the_rule_changes_nothing(world):
    ApprovalRule.objects.create(department=world["tax"], head_for_outsiders=False)
    assert not ask(world).needs_head


# --- approving narrower --------------------------------------------------------------------------


def test_approve_with_a_shorter_period(world):
    request = ask(world, period_days=20)
    now = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=now):
        services.approve_request(world["tax_steward"], request, period_days=5)
    assert Grant.objects.get().valid_until == now + timedelta(days=5)
    check_event("access.approved", recipients=[world["health_member"]], narrowed=["period_days"])


@pytest.mark.parametrize("period", [21, 0, -1, "forever", 10**9])
def test_approve_cannot_widen_the_period(world, period):
    request = ask(world, period_days=20)
    error = refused(Invalid, services.approve_request, world["tax_steward"], request, period_days=period)
    assert "period_days" in error.fields
    assert AccessRequest.objects.get(pk=request.pk).is_open


def test_approve_with_fewer_fields(world):
    request = ask(world, resource=world["dataset"], fields=["taxpayer_id", "name", "amount"])
    services.approve_request(world["tax_steward"], request, fields=["name", "amount"])
    assert Grant.objects.get().fields == ["name", "amount"]
    check_event("access.approved", recipients=[world["health_member"]], narrowed=["fields"])
    assert last_event("grant.created").details["fields"] == ["name", "amount"]


@pytest.mark.parametrize(
    "fields",
    [["name", "taxpayer_id"], ["salary"], [], "name, amount, taxpayer_id"],
    ids=["extra-field", "unknown-field", "no-field", "extra-as-text"],
)
def test_approve_cannot_add_fields(world, fields):
    request = ask(world, resource=world["dataset"], fields=["name", "amount"])
    error = refused(Invalid, services.approve_request, world["tax_steward"], request, fields=fields)
    assert "fields" in error.fields


def test_a_department_request_gives_a_department_grant(world):
    request = ask(world, for_department=world["health"])
    assert request.for_department == world["health"]
    services.approve_request(world["tax_steward"], request)
    grant = Grant.objects.get()
    assert grant.grantee_department == world["health"] and grant.grantee_user is None
    department_members = [world["health_member"], world["health_steward"], world["health_colleague"]]
    check_event("grant.created", recipients=department_members, keys=GRANT_DETAIL_KEYS)
    for person in department_members:
        assert can(person, Action.READ, world["doc"])
        assert visible(person, Resource.objects.filter(pk=world["doc"].pk), Action.READ).exists()
    assert not can(world["hr_head"], Action.READ, world["doc"])


def test_requester_only_turns_a_department_request_into_a_personal_grant(world):
    request = ask(world, for_department=world["health"])
    services.approve_request(world["tax_steward"], request, requester_only=True)
    grant = Grant.objects.get()
    assert grant.grantee_user == world["health_member"] and grant.grantee_department is None
    check_event("access.approved", recipients=[world["health_member"]], narrowed=["requester_only"])
    check_event("grant.created", recipients=[world["health_member"]], keys=GRANT_DETAIL_KEYS)
    assert can(world["health_member"], Action.READ, world["doc"])
    assert not can(world["health_colleague"], Action.READ, world["doc"])


def test_requester_only_at_the_first_step_holds_at_the_second(world):
    request = ask(world, resource=world["head_only"], for_department=world["health"])
    services.approve_request(world["tax_steward"], request, requester_only=True)
    services.approve_request(world["tax_head"], request)
    grant = Grant.objects.get()
    assert grant.grantee_user == world["health_member"] and grant.grantee_department is None


# --- information asked and given, withdrawing --------------------------------------------------


def test_ask_and_answer(world):
    request = ask(world)
    refused(Invalid, services.ask_for_information, world["tax_steward"], request, question="")
    services.ask_for_information(world["tax_steward"], request, question="请说明用途")
    check_event("access.info_asked", recipients=[world["health_member"]], question="请说明用途", status="info")
    # While waiting for the requester nobody decides.
    refused(Conflict, services.approve_request, world["tax_steward"], request)
    refused(Conflict, services.ask_for_information, world["tax_steward"], request, question="还有？")
    refused(NotFound, services.give_information, world["health_colleague"], request, answer="我来答")
    refused(Forbidden, services.give_information, world["tax_steward"], request, answer="我替他答")
    refused(Invalid, services.give_information, world["health_member"], request, answer=" ")
    services.give_information(world["health_member"], request, answer="用于核验")
    check_event(
        "access.info_given",
        recipients=[world["tax_steward"], world["tax_head"]],
        answer="用于核验",
        status="pending",
    )
    assert AccessRequest.objects.get(pk=request.pk).status == Status.PENDING
    services.approve_request(world["tax_steward"], request)


def test_answering_at_the_head_step_goes_back_to_the_head(world):
    request = ask(world, resource=world["head_only"])
    services.approve_request(world["tax_steward"], request)
    services.ask_for_information(world["tax_head"], request, question="补充材料")
    services.give_information(world["health_member"], request, answer="已补充")
    assert AccessRequest.objects.get(pk=request.pk).status == Status.PENDING_HEAD
    check_event("access.info_given", recipients=[world["tax_head"]], status="pending_head")


@pytest.mark.parametrize("state", ["pending", "approved", "rejected", "withdrawn"])
def test_answer_when_nothing_was_asked_is_a_conflict(world, state):
    request = ask(world)
    if state == "approved":
        services.approve_request(world["tax_steward"], request)
    elif state == "rejected":
        services.reject_request(world["tax_steward"], request, reason="否")
    elif state == "withdrawn":
        services.withdraw_request(world["health_member"], request)
    refused(Conflict, services.give_information, world["health_member"], request, answer="答")


def test_withdraw(world):
    request = ask(world)
    refused(Forbidden, services.withdraw_request, world["tax_steward"], request)
    refused(NotFound, services.withdraw_request, world["health_colleague"], request)
    services.withdraw_request(world["health_member"], request)
    request.refresh_from_db()
    assert request.status == Status.WITHDRAWN and request.decided_at is not None
    check_event("access.withdrawn", recipients=[world["tax_steward"], world["tax_head"]], status="withdrawn")
    refused(Conflict, services.withdraw_request, world["health_member"], request)
    refused(Conflict, services.approve_request, world["tax_steward"], request)


def test_withdraw_while_information_is_asked(world):
    request = ask(world)
    services.ask_for_information(world["tax_steward"], request, question="？")
    services.withdraw_request(world["health_member"], request)
    assert AccessRequest.objects.get(pk=request.pk).status == Status.WITHDRAWN


# --- revoking --------------------------------------------------------------------------------------


def _granted(world, **kwargs) -> Grant:
    request = ask(world, **kwargs)
    services.approve_request(world["tax_steward"], request)
    return Grant.objects.get(request=request)


def test_revoke_needs_a_reason_and_ends_access_at_once(world):
    grant = _granted(world)
    member = world["health_member"]
    assert can(member, Action.READ, world["doc"])
    error = refused(Invalid, services.revoke_grant, world["tax_steward"], grant, reason="")
    assert "reason" in error.fields
    assert can(member, Action.READ, world["doc"])
    services.revoke_grant(world["tax_steward"], grant, reason="项目结束")
    grant.refresh_from_db()
    assert grant.revoked_at is not None and grant.revoked_by == world["tax_steward"]
    assert grant.revoke_reason == "项目结束"
    forget(member)
    assert not can(member, Action.READ, world["doc"])
    assert not visible(member, Resource.objects.all(), Action.READ).filter(pk=world["doc"].pk).exists()
    check_event("grant.revoked", recipients=[member], target=grant, keys=GRANT_DETAIL_KEYS, reason="项目结束")
    # Revoking again, or revoking an expired grant, is a conflict.
    refused(Conflict, services.revoke_grant, world["tax_steward"], grant, reason="再撤")


def test_an_expired_grant_cannot_be_revoked(world):
    grant = _granted(world, period_days=3)
    later = grant.valid_until + timedelta(seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        refused(Conflict, services.revoke_grant, world["tax_steward"], grant, reason="过期了")


@pytest.mark.parametrize("who", ["health_member", "tax_member", "health_steward", "auditor"])
def test_only_the_owners_managers_revoke(world, who):
    grant = _granted(world)
    refused(Forbidden, services.revoke_grant, world[who], grant, reason="不要了")


def test_revoking_a_department_grant_notifies_its_members(world):
    grant = _granted(world, for_department=world["health"])
    services.revoke_grant(world["tax_head"], grant, reason="调整")
    check_event(
        "grant.revoked",
        recipients=[world["health_member"], world["health_steward"], world["health_colleague"]],
        keys=GRANT_DETAIL_KEYS,
    )


def test_a_missing_grant_is_not_found(world):
    refused(NotFound, services.revoke_grant, world["tax_steward"], Grant(pk=999999), reason="x")


# --- bulk decisions --------------------------------------------------------------------------------


def test_bulk_decide_reports_each_failure_and_keeps_the_rest(world):
    first = ask(world)
    second = ask(world, actor=world["health_colleague"])
    decided = ask(world, actor=world["hr_head"])
    services.reject_request(world["tax_steward"], decided, reason="否")
    other = ask(
        world, actor=world["tax_member"], resource=factories.resource(world["health"], sharing_type="conditional")
    )
    failures = services.bulk_decide(
        world["tax_steward"], [first, second, decided, other], approve=True, reason="批量同意"
    )
    assert set(failures) == {decided.pk, other.pk}
    assert "already decided" in failures[decided.pk]
    assert Grant.objects.filter(request__in=[first, second]).count() == 2
    failures = services.bulk_decide(world["tax_steward"], [first], approve=False, reason="")
    assert set(failures) == {first.pk}


# --- the whole log ---------------------------------------------------------------------------------


def test_every_event_names_its_recipients_and_the_chain_holds(world):
    grant = _granted(world, for_department=world["health"])
    services.revoke_grant(world["tax_steward"], grant, reason="到此为止")
    request = ask(world, resource=world["head_only"])
    services.ask_for_information(world["tax_steward"], request, question="？")
    services.give_information(world["health_member"], request, answer="。")
    services.approve_request(world["tax_steward"], request)
    services.reject_request(world["tax_head"], request, reason="否")
    withdrawn = ask(world, actor=world["health_colleague"])
    services.withdraw_request(world["health_colleague"], withdrawn)
    actions = set()
    for event in Event.objects.filter(action__regex=r"^(access|grant)\."):
        actions.add(event.action)
        assert isinstance(event.details.get("recipients"), list), event.action
        assert len(set(event.details["recipients"])) == len(event.details["recipients"]), event.action
        assert event.details["resource_id"] in {world["doc"].pk, world["head_only"].pk}
        assert world["tax"].pk in set(event.departments.values_list("pk", flat=True))
    assert actions == {
        "access.requested",
        "access.approved",
        "grant.created",
        "grant.revoked",
        "access.info_asked",
        "access.info_given",
        "access.first_approved",
        "access.rejected",
        "access.withdrawn",
    }
    assert verify_chain().ok
