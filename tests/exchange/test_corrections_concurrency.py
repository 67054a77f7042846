"""Two stewards deciding one correction at the same moment, each in their own thread and connection:
one wins, the other gets Conflict (409); the record changes once, one decision is logged, and the
event chain holds. SQLite runs as deployed (a WAL file), as in tests/access/test_concurrency.py."""

from __future__ import annotations

import pytest

from sharehub.errors import Conflict
from sharehub.events.chain import verify_chain
from sharehub.events.models import Event
from sharehub.exchange import corrections, queries, schema, services
from sharehub.exchange.models import Change, Correction
from sharehub.org.models import Membership, User
from tests import factories
from tests.access.test_concurrency import at_once, sqlite_file_database  # noqa: F401  (a fixture)
from tests.exchange.conftest import ROWS, TAX_FIELDS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(sqlite_file_database):  # noqa: F811
    tax = factories.department("税务局", "SWJ")
    steward = factories.member(tax, Membership.Role.STEWARD, username="steward_a")
    factories.member(tax, Membership.Role.STEWARD, username="steward_b")
    member = factories.member(tax, Membership.Role.MEMBER, username="reporter")
    resource = factories.resource(tax, by=steward, kind="dataset", sharing_type="conditional")
    schema.change_dataset(steward, resource, TAX_FIELDS, key_fields=["credit_code"])
    services.upsert(member, resource, ROWS)
    view = queries.access_dataset(member, resource.pk)
    key = view.codec.key_of({"credit_code": ROWS[0]["credit_code"]})
    correction = corrections.report_correction(
        member, view, record_id=key, field="name", evidence="名称有误", proposed="新名称"
    )
    return {"resource": resource, "correction": correction}


def _decide(world, username: str, accept: bool):
    def call():
        actor = User.objects.get(username=username)  # each thread its own actor (and policy context)
        view = queries.access_dataset(actor, world["resource"].pk)
        if accept:
            return corrections.accept_correction(actor, view, world["correction"].pk)
        return corrections.reject_correction(actor, view, world["correction"].pk, reason="核对无误")

    return call


@pytest.mark.parametrize("first_accepts", [True, False])
def test_two_stewards_deciding_at_once_one_wins(world, first_accepts):
    results = at_once(_decide(world, "steward_a", first_accepts), _decide(world, "steward_b", not first_accepts))
    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["error", "ok"], results
    error = next(value for kind, value in results if kind == "error")
    assert type(error) is Conflict and error.status == 409, repr(error)
    correction = Correction.objects.get()
    winner = next(value for kind, value in results if kind == "ok")
    assert correction.status == winner.status
    assert Change.objects.filter(op="update").count() == (1 if correction.status == "accepted" else 0)
    decisions = Event.objects.filter(action__in=["dataset.correction_accepted", "dataset.correction_rejected"])
    assert decisions.count() == 1
    assert verify_chain().ok
