"""A key lookup by another department (the data-exchange bench's lookups, issue 12) costs a fixed, small
number of statements, and still writes its one read event on the chain, committed with its department,
before the answer."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sharehub.events.chain import verify_chain
from sharehub.events.models import ConsumerCursor, Event, EventDepartment
from sharehub.events.services import record
from sharehub.org import services as org
from tests.api.conftest import Api
from tests.exchange.conftest import grant

# token, resource with its owner and dataset row, memberships, grants, fields, the record; then the event:
# the chain head, the event, its department, the head moved (one statement on PostgreSQL), and the commit
MOST_STATEMENTS = 13


def _statements(captured) -> list[str]:
    return [q["sql"] for q in captured if q["sql"] not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT")]


@pytest.mark.parametrize("route", ["records", "record"])
def test_a_grantee_lookup_costs_a_fixed_number_of_statements_and_writes_one_event(loaded, people, org_units, route):
    grant(loaded, department=org_units["social"], fields=["credit_code", "legal_id"])
    reader = people["social_member"]
    api = Api(token=org.issue_token(None, reader, "lookups")[1])
    params = {"credit_code": "91350100M000100Y43"}
    assert api.get(f"/datasets/{loaded.pk}/{route}", params).status_code == 200  # warm: the token's last use
    cursors = dict(ConsumerCursor.objects.values_list("name", "seq"))
    before = Event.objects.filter(action="dataset.records_read").count()
    with CaptureQueriesContext(connection) as captured:
        response = api.get(f"/datasets/{loaded.pk}/{route}", params)
    assert response.status_code == 200
    statements = _statements(captured.captured_queries)
    assert len(statements) <= MOST_STATEMENTS, "\n".join(statements)
    assert Event.objects.filter(action="dataset.records_read").count() == before + 1
    event = Event.objects.filter(action="dataset.records_read").latest("seq")
    assert event.actor_id == reader.pk and event.target_id == str(loaded.pk)
    assert event.details["rows"] == 1 and event.details["via"] == "api" and event.details["grants"]
    assert list(EventDepartment.objects.filter(event=event).values_list("department_id", flat=True)) == [
        loaded.owner_department_id
    ]
    assert verify_chain().ok
    # no log reader acts on a read event: none is set going for it (their cursors pass it later)
    assert dict(ConsumerCursor.objects.values_list("name", "seq")) == cursors


def test_appended_events_read_back_as_written_and_the_chain_holds(people, org_units):
    first = record(people["tax_steward"], "probe.one", ("probe", 1, "一"), details={"text": "中文", "n": [1, 2]})
    second = record(
        None, "probe.two", departments=[org_units["social"], org_units["tax"].pk, None], details={"nested": {"a": None}}
    )
    third = record(people["social_member"], "probe.three", ("probe", "x", "x" * 400))
    assert (second.seq, third.seq) == (first.seq + 1, first.seq + 2)
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    stored = Event.objects.get(pk=first.pk)
    assert (stored.seq, stored.hash, stored.details, stored.actor_id) == (
        first.seq,
        first.hash,
        {"text": "中文", "n": [1, 2]},
        people["tax_steward"].pk,
    )
    assert stored.created_at == first.created_at
    assert sorted(Event.objects.get(pk=second.pk).departments.values_list("pk", flat=True)) == sorted(
        [org_units["social"].pk, org_units["tax"].pk]
    )
    assert len(Event.objects.get(pk=third.pk).target_label) == 300
    assert verify_chain().ok
