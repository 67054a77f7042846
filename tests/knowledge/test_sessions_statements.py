"""The sharing-session lists run the same number of SQL statements for 1 session as for many (invariant 9), and
that number is pinned: a moved pin is a change in the cost of the route; read the statements printed first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sharehub.knowledge import sessions
from sharehub.knowledge.models import Session
from tests.api.conftest import Api
from tests.knowledge.sessions_helpers import move_to_past, schedule

pytestmark = pytest.mark.django_db

MANY = 25


def _grow(people, org_units, n: int) -> None:
    """n upcoming and n past sessions, each with two speakers, a seat taken and a waiting list, past ones rated."""
    host = people["tax_member"]
    while Session.objects.filter(starts_at__gt=timezone.now()).count() < n:
        upcoming = schedule(host, org_units["tax"], capacity=1, speakers=[people["tax_steward"], host])
        sessions.sign_up(people["health_member"], upcoming)
        sessions.sign_up(people["social_member"], upcoming)
        past = schedule(host, org_units["tax"], capacity=1, speakers=[people["tax_steward"]])
        sessions.sign_up(people["health_member"], past)
        sessions.add_material(host, past, "slides.txt", [b"x"])
        move_to_past(past, hours=24 * 20)
        sessions.rate_session(people["health_member"], past, 5)


def _count(call) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code == 200, response.content[:500]
    return len(captured), [q["sql"] for q in captured.captured_queries]


ROUTES = {
    # pages: the session, the user, their memberships (the policy), the departments (the filter), the count, the
    # rows (counts, rating and the reader's sign-up as subqueries), the speakers, and the navigation's three
    # badge counts (inbox, reviews, unread notifications)
    "page list": (lambda c, a, m: c.get("/sessions/"), 10),
    "page past": (lambda c, a, m: c.get("/sessions/past/"), 10),
    # the calendar: no count (a month has a limit, not pages)
    "page calendar": (lambda c, a, m: c.get("/sessions/calendar/", {"month": m}), 9),
    # API: the session, the user, their memberships, the rows, the speakers
    "api list": (lambda c, a, m: a.get("/sessions", {"limit": 100}), 5),
    "api past": (lambda c, a, m: a.get("/sessions", {"limit": 100, "when": "past"}), 5),
}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_lists_cost_the_same_for_one_and_many(client_for, people, org_units, route):
    call, pinned = ROUTES[route]
    reader = people["hr_head"]
    client, api = client_for(reader), Api(reader)
    month = lambda: timezone.localtime(timezone.now() + timedelta(hours=48)).strftime("%Y-%m")  # noqa: E731
    _grow(people, org_units, 1)
    one, _sql = _count(lambda: call(client, api, month()))
    _grow(people, org_units, MANY)
    many, statements = _count(lambda: call(client, api, month()))
    assert one == many, "\n".join(statements)
    assert many == pinned, "\n".join(statements)
