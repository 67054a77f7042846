"""The audit chain (invariant 3): one event per change, in the same transaction, hash-chained, and
every kind of tampering named by `verify_chain()`. Also the shape of the main events, in the manner
of Zulip's `verify_action()`."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
from django.db import connection, transaction
from django.db.models import ProtectedError
from django.http import HttpRequest
from django.test import Client

from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.errors import Invalid
from sharehub.events.chain import GENESIS_HASH, event_digest, verify_chain
from sharehub.events.models import AppendOnlyError, ChainHead, Event
from sharehub.org import services as org
from sharehub.org.models import Department, Membership
from tests import factories

pytestmark = pytest.mark.django_db


def _head() -> tuple[int, str]:
    head = ChainHead.objects.filter(pk=1).first()
    return (head.seq, head.hash) if head else (0, GENESIS_HASH)


def _events_after(seq: int) -> list[Event]:
    return list(Event.objects.filter(seq__gt=seq).order_by("seq").prefetch_related("departments"))


class Captured(list):
    """The events appended inside a `capture()` block, oldest first."""

    @property
    def actions(self) -> list[str]:
        return [e.action for e in self]


@contextmanager
def capture():
    start, _hash = _head()
    events = Captured()
    yield events
    events.extend(_events_after(start))


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _json_placeholder() -> str:
    return "%s::jsonb" if connection.vendor == "postgresql" else "%s"


# ---------------------------------------------------------------------------------------------
# A chain built by real service actions


def _service_story():
    """A day in a small organization; returns (expected number of events per step, objects)."""
    steps = []

    def step(n, fn, *args, **kwargs):
        start, _hash = _head()
        result = fn(*args, **kwargs)
        steps.append((fn.__name__, n, _head()[0] - start))
        return result

    admin = step(1, org.create_person, None, username="chain_admin", is_org_admin=True, check_password=False)
    tax = step(1, org.create_department, admin, name="税务局", code="SWJ")
    hr = step(1, org.create_department, admin, name="人社局", code="RSJ")
    social = step(1, org.create_department, admin, name="社保中心", code="SBZX", parent=hr)
    steward = step(1, org.create_person, admin, username="chain_steward", check_password=False)
    step(1, org.set_membership, admin, steward, tax, Membership.Role.STEWARD)
    member = step(1, org.create_person, admin, username="chain_member", check_password=False)
    step(1, org.set_membership, admin, member, tax, Membership.Role.MEMBER)
    step(1, org.set_membership, admin, member, tax, Membership.Role.HEAD)  # a role change is a change
    step(0, org.set_membership, admin, member, tax, Membership.Role.HEAD)  # no change, no event
    resource = step(
        1, catalog.create_resource, steward, owner_department=tax, kind="document", title="纳税信用", body="正文"
    )
    step(1, catalog.update_resource, member, resource, {"summary": "摘要"})
    step(0, catalog.update_resource, member, resource, {"summary": "摘要"})  # nothing changed
    step(1, catalog.transition, steward, resource, "publish")
    # A change of sharing is an edit of the resource and a sharing change: two events.
    step(2, catalog.change_sharing, steward, resource, scope_all=False, scope_departments=[social])
    step(1, catalog.transition, steward, resource, "archive")
    step(1, catalog.transition, steward, resource, "restore")
    token, _raw = step(1, org.issue_token, member, member, "ERP")
    step(1, org.revoke_token, member, token)
    step(0, org.revoke_token, member, token)  # already revoked
    return steps


def test_service_actions_append_one_linked_event_per_change():
    start, start_hash = _head()
    steps = _service_story()
    for name, wanted, got in steps:
        assert got == wanted, f"{name} appended {got} events, expected {wanted}"
    events = _events_after(start)
    total = sum(wanted for _n, wanted, _g in steps)
    assert [e.seq for e in events] == list(range(start + 1, start + total + 1))
    previous = start_hash
    for event in events:
        assert event.prev_hash == previous, f"#{event.seq} does not link"
        assert len(event.hash) == 64
        previous = event.hash
    assert _head() == (start + total, previous)
    result = verify_chain()
    assert result.ok, result.reason
    assert result.checked == start + total
    assert result.broken_seq is None


def _small_chain(n: int = 6) -> list[Event]:
    """A fresh chain of `n` events (one department each, so each event has a departments row)."""
    assert _head()[0] == 0, "each test starts from an empty chain"
    for i in range(n):
        org.create_department(None, name=f"链部门{i}", code=f"CH{i}")
    events = _events_after(0)
    assert len(events) == n
    assert verify_chain().ok
    return events


# ---------------------------------------------------------------------------------------------
# Tampering, each on its own fresh chain


def test_update_of_details_with_raw_sql_is_named():
    _small_chain()
    _sql(f"UPDATE events_event SET details = {_json_placeholder()} WHERE seq = %s", [json.dumps({"name": "x"}), 3])
    result = verify_chain()
    assert not result.ok
    assert result.broken_seq == 3
    assert result.checked == 2
    assert "#3" in result.reason
    assert "changed" in result.reason


def test_update_of_target_label_with_raw_sql_is_named():
    _small_chain()
    _sql("UPDATE events_event SET target_label = %s WHERE seq = %s", ["伪造", 4])
    result = verify_chain()
    assert (result.ok, result.broken_seq) == (False, 4)
    assert "#4" in result.reason
    assert "changed" in result.reason


def test_rewrite_that_recomputes_the_hash_breaks_the_next_link():
    """A forger who rewrites an entry and recomputes its hash is caught by the entry after it."""
    events = _small_chain()
    forged = events[1]
    digest = event_digest(
        seq=forged.seq,
        created_at=forged.created_at,
        actor_id=forged.actor_id,
        actor_name=forged.actor_name,
        action=forged.action,
        target_type=forged.target_type,
        target_id=forged.target_id,
        target_label="伪造",
        department_ids=[d.pk for d in forged.departments.all()],
        details=forged.details,
        prev_hash=forged.prev_hash,
    )
    _sql("UPDATE events_event SET target_label = %s, hash = %s WHERE seq = %s", ["伪造", digest, forged.seq])
    result = verify_chain()
    assert (result.ok, result.broken_seq, result.checked) == (False, forged.seq + 1, forged.seq)
    assert "link" in result.reason


def _delete_event(seq: int) -> None:
    _sql(
        "DELETE FROM events_event_departments WHERE event_id IN (SELECT id FROM events_event WHERE seq = %s)",
        [seq],
    )
    _sql("DELETE FROM events_event WHERE seq = %s", [seq])


def test_delete_of_a_middle_event_is_named():
    _small_chain()
    _delete_event(3)
    result = verify_chain()
    assert (result.ok, result.broken_seq, result.checked) == (False, 3, 2)
    assert "#3" in result.reason
    assert "missing" in result.reason


def test_delete_of_the_last_event_is_caught_by_the_chain_head():
    _small_chain(5)
    _delete_event(5)
    result = verify_chain()
    assert (result.ok, result.broken_seq, result.checked) == (False, 5, 4)
    assert "missing" in result.reason
    assert "#5" in result.reason


def test_delete_of_everything_is_caught_by_the_chain_head():
    _small_chain(3)
    _sql("DELETE FROM events_event_departments")
    _sql("DELETE FROM events_event")
    result = verify_chain()
    assert (result.ok, result.broken_seq) == (False, 1)


def test_reordering_two_events_is_caught():
    _small_chain()
    _sql("UPDATE events_event SET seq = %s WHERE seq = %s", [-1, 2])
    _sql("UPDATE events_event SET seq = %s WHERE seq = %s", [2, 3])
    _sql("UPDATE events_event SET seq = %s WHERE seq = %s", [3, -1])
    result = verify_chain()
    assert (result.ok, result.broken_seq) == (False, 2)
    assert "#2" in result.reason


def test_changing_an_events_department_row_is_named():
    events = _small_chain()
    other = Department.objects.exclude(pk__in=[d.pk for d in events[3].departments.all()]).first()
    _sql(
        "UPDATE events_event_departments SET department_id = %s WHERE event_id = %s",
        [other.pk, events[3].pk],
    )
    result = verify_chain()
    assert (result.ok, result.broken_seq) == (False, 4)
    assert "changed" in result.reason


def test_adding_an_events_department_row_is_named():
    events = _small_chain()
    other = Department.objects.exclude(pk__in=[d.pk for d in events[1].departments.all()]).first()
    _sql("INSERT INTO events_event_departments (event_id, department_id) VALUES (%s, %s)", [events[1].pk, other.pk])
    result = verify_chain()
    assert (result.ok, result.broken_seq) == (False, 2)


def test_orm_refuses_to_change_or_delete_an_event():
    events = _small_chain(3)
    event = Event.objects.get(pk=events[1].pk)
    event.target_label = "改过"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert verify_chain().ok


@pytest.mark.parametrize("how", ["delete", "update"])
def test_orm_refuses_bulk_delete_and_update(how):
    _small_chain(3)
    with pytest.raises(AppendOnlyError), transaction.atomic():
        if how == "delete":
            Event.objects.filter(seq=2).delete()
        else:
            Event.objects.filter(seq=2).update(target_label="改过")
    assert verify_chain().ok


def test_deleting_a_department_keeps_the_chain_intact():
    department = org.create_department(None, name="临时部门", code="TMP")
    assert verify_chain().ok
    try:
        with transaction.atomic():
            department.delete()
    except ProtectedError:
        pass
    result = verify_chain()
    assert result.ok, result.reason


# ---------------------------------------------------------------------------------------------
# Same transaction: a failed change leaves no event and no row


def test_invalid_service_call_leaves_no_event_and_no_row():
    admin = factories.person("tx_admin", admin=True)
    tax = factories.department("税务局", "SWJ")
    steward = factories.member(tax, "steward")
    start = _head()
    count = (Department.objects.count(), Resource.objects.count(), Event.objects.count())

    with pytest.raises(Invalid) as caught:
        org.create_department(admin, name="", code="1bad")
    assert set(caught.value.fields) == {"name", "code"}
    with pytest.raises(Invalid):
        org.create_department(admin, name="税务局", code="OTHER")  # the name is taken
    with pytest.raises(Invalid) as caught:
        catalog.create_resource(
            steward, owner_department=tax, kind="document", title="无条件", sharing_type="conditional"
        )
    assert "conditions" in caught.value.fields
    resource = factories.resource(tax, by=steward)
    start, count = _head(), (Department.objects.count(), Resource.objects.count(), Event.objects.count())
    with pytest.raises(Invalid):
        catalog.transition(steward, resource, "restore")  # a published resource cannot be restored
    with pytest.raises(Invalid):
        catalog.update_resource(steward, resource, {"title": ""})
    with pytest.raises(Invalid):
        org.set_membership(admin, steward, tax, "owner")

    assert _head() == start
    assert (Department.objects.count(), Resource.objects.count(), Event.objects.count()) == count
    assert Resource.objects.get(pk=resource.pk).title == resource.title
    assert verify_chain().ok


class _Boom(Exception):
    pass


def test_failure_after_record_rolls_the_event_back_and_the_chain_continues():
    factories.department("前置部门", "PRE")
    before_seq, before_hash = _head()

    with pytest.raises(_Boom), transaction.atomic():
        org.create_department(None, name="回滚部门", code="RB")
        assert _head()[0] == before_seq + 1  # recorded inside the block...
        raise _Boom

    assert _head() == (before_seq, before_hash)  # ...and gone with it
    assert not Department.objects.filter(code="RB").exists()
    assert not Event.objects.filter(seq=before_seq + 1).exists()
    assert verify_chain().ok

    org.create_department(None, name="后续部门", code="NEXT")
    (event,) = _events_after(before_seq)
    assert event.seq == before_seq + 1
    assert event.prev_hash == before_hash
    result = verify_chain()
    assert result.ok and result.checked == before_seq + 1


# ---------------------------------------------------------------------------------------------
# Event schemas (Zulip's verify_action)


def check_event(event, action, *, actor, target_type, target_id, departments, details):
    assert event.action == action
    assert event.actor_id == (actor.pk if actor is not None else None), action
    assert event.actor_name == (actor.get_username() if actor is not None else ""), action
    assert event.target_type == target_type, action
    assert event.target_id == (str(target_id) if target_id is not None else ""), action
    assert {d.pk for d in event.departments.all()} == {d.pk for d in departments}, action
    assert set(event.details) == set(details), f"{action}: {sorted(event.details)}"
    assert event.created_at is not None


@pytest.fixture
def shop():
    admin = factories.person("schema_admin", admin=True)
    tax = factories.department("税务局", "SWJ")
    social = factories.department("社保中心", "SBZX")
    steward = factories.member(tax, "steward", username="schema_steward")
    member = factories.member(tax, "member", username="schema_member")
    return {"admin": admin, "tax": tax, "social": social, "steward": steward, "member": member}


def test_resource_event_schemas(shop, settings, tmp_path):
    settings.BLOB_DIR = tmp_path / "blobs"
    tax, social, steward, member = shop["tax"], shop["social"], shop["steward"], shop["member"]

    with capture() as events:
        resource = catalog.create_resource(
            steward,
            owner_department=tax,
            kind="document",
            title="纳税信用",
            sharing_type="conditional",
            conditions="核验",
        )
    assert events.actions == ["resource.created"]
    check_event(
        events[0],
        "resource.created",
        actor=steward,
        target_type="catalog.resource",
        target_id=resource.pk,
        departments=[tax],
        details={"code", "kind", "sharing_type", "status"},
    )
    assert events[0].details == {
        "code": resource.code,
        "kind": "document",
        "sharing_type": "conditional",
        "status": "draft",
    }
    assert events[0].target_label == str(resource)

    with capture() as events:
        catalog.update_resource(member, resource, {"title": "纳税信用等级", "tags": ["税务"]}, note="补充")
    assert events.actions == ["resource.updated"]
    check_event(
        events[0],
        "resource.updated",
        actor=member,
        target_type="catalog.resource",
        target_id=resource.pk,
        departments=[tax],
        details={"code", "version", "fields", "note"},
    )
    assert sorted(events[0].details["fields"]) == ["tags", "title"]
    assert events[0].details["version"] == 2

    for verb, action in (
        ("publish", "resource.published"),
        ("archive", "resource.archived"),
        ("restore", "resource.restored"),
    ):
        with capture() as events:
            catalog.transition(steward, resource, verb)
        assert events.actions == [action]
        check_event(
            events[0],
            action,
            actor=steward,
            target_type="catalog.resource",
            target_id=resource.pk,
            departments=[tax],
            details={"code"},
        )

    with capture() as events:
        catalog.change_sharing(steward, resource, scope_all=False, scope_departments=[social])
    assert events.actions == ["resource.updated", "resource.sharing_changed"]
    check_event(
        events[1],
        "resource.sharing_changed",
        actor=steward,
        target_type="catalog.resource",
        target_id=resource.pk,
        departments=[tax, social],
        details={"code", "sharing_type", "scope_all", "scope"},
    )
    assert events[1].details["scope"] == [social.pk]
    assert events[1].details["scope_all"] is False

    with capture() as events:
        attachment = catalog.add_attachment(member, resource, "说明.txt", [b"hello ", b"world"])
    assert events.actions == ["resource.attachment_added"]
    check_event(
        events[0],
        "resource.attachment_added",
        actor=member,
        target_type="catalog.resource",
        target_id=resource.pk,
        departments=[tax],
        details={"code", "attachment", "filename", "size", "sha256", "mime_type"},
    )
    assert events[0].details["attachment"] == attachment.pk
    assert events[0].details["size"] == 11

    with capture() as events:
        published = catalog.create_resource(steward, owner_department=tax, kind="notice", title="通知", publish=True)
    assert events.actions == ["resource.created", "resource.published"]
    assert all(e.target_id == str(published.pk) for e in events)
    assert verify_chain().ok


def test_org_event_schemas(shop):
    admin, tax = shop["admin"], shop["tax"]

    with capture() as events:
        child = org.create_department(admin, name="征管科", code="ZGK", parent=tax)
    assert events.actions == ["department.created"]
    check_event(
        events[0],
        "department.created",
        actor=admin,
        target_type="org.department",
        target_id=child.pk,
        departments=[child],
        details={"name", "code", "parent"},
    )
    assert events[0].details["parent"] == tax.pk

    with capture() as events:
        person = org.create_person(admin, username="new_person", check_password=False)
    assert events.actions == ["person.created"]
    check_event(
        events[0],
        "person.created",
        actor=admin,
        target_type="org.user",
        target_id=person.pk,
        departments=[],
        details={"username", "admin", "auditor"},
    )

    with capture() as events:
        org.set_membership(admin, person, child, Membership.Role.MEMBER)
        org.set_membership(admin, person, child, Membership.Role.STEWARD)
    assert events.actions == ["membership.set", "membership.set"]
    for event in events:
        check_event(
            event,
            "membership.set",
            actor=admin,
            target_type="org.user",
            target_id=person.pk,
            departments=[child],
            details={"department", "role", "previous_role"},
        )
    assert [(e.details["role"], e.details["previous_role"]) for e in events] == [
        ("member", None),
        ("steward", "member"),
    ]

    with capture() as events:
        token, raw = org.issue_token(person, person, "ERP")
        org.revoke_token(admin, token)
    assert events.actions == ["token.issued", "token.revoked"]
    check_event(
        events[0],
        "token.issued",
        actor=person,
        target_type="org.user",
        target_id=person.pk,
        departments=[],
        details={"token", "name", "prefix", "scopes", "expires_at"},
    )
    check_event(
        events[1],
        "token.revoked",
        actor=admin,
        target_type="org.user",
        target_id=person.pk,
        departments=[],
        details={"token", "name", "prefix"},
    )
    for event in events:
        stored = json.dumps(event.details, ensure_ascii=False) + event.target_label
        assert raw not in stored and raw[12:] not in stored, "the token secret must never reach the log"
    assert verify_chain().ok


def _request() -> HttpRequest:
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = "10.0.0.7"
    return request


def test_auth_event_schemas():
    person = factories.person("login_person")
    client = Client()

    with capture() as events:
        assert not client.login(request=_request(), username="login_person", password="wrong-password")
    assert events.actions == ["auth.login_failed"]
    check_event(
        events[0],
        "auth.login_failed",
        actor=None,
        target_type="org.user",
        target_id=None,
        departments=[],
        details={"address"},
    )
    assert events[0].target_label == "login_person"
    assert events[0].details["address"] == "10.0.0.7"
    assert "wrong-password" not in json.dumps(events[0].details)

    with capture() as events:
        assert client.login(request=_request(), username="login_person", password=factories.PASSWORD)
    assert events.actions == ["auth.login"]
    check_event(
        events[0],
        "auth.login",
        actor=person,
        target_type="org.user",
        target_id=person.pk,
        departments=[],
        details={"address"},
    )
    assert verify_chain().ok
