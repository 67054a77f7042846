"""Recognition, through its sources and its scoring: reads and downloads by other departments (one cheap
statement, none for colleagues), grants and publications from the log, the caps against rings, weights that
re-score history, badges. The ring test is the issue's: two people of two departments rewarding each other
cannot climb above an honest contributor whose work people of several departments reused."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sharehub.access import services as access
from sharehub.catalog import panels
from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.errors import Forbidden, Invalid
from sharehub.events.consumers import run_pending
from sharehub.events.models import Event
from sharehub.feeds.models import Notification
from sharehub.knowledge import points
from sharehub.knowledge.models import Article, Badge, Credit, PointWeight
from sharehub.knowledge.points import Kind
from sharehub.org import services as org
from sharehub.policy.engine import context_for
from tests import factories

pytestmark = pytest.mark.django_db


def read(actor, *resources, via="page"):
    catalog.note_content_read(actor, list(resources), via=via)


def person_points(user, name="month") -> int:
    return points.standing("person", user.pk, points.period(name)).points


def department_points(department, name="month") -> int:
    return points.standing("department", department.pk, points.period(name)).points


def credit_statements(queries) -> list[str]:
    return [q["sql"] for q in queries if "knowledge_credit" in q["sql"]]


@pytest.fixture
def doc(org_units, people):
    return factories.resource(org_units["tax"], by=people["tax_steward"], title="纳税指南")


# --- reads and downloads -------------------------------------------------------------------------------------


def test_a_read_by_another_department_credits_the_owner_once_a_month(people, org_units, doc):
    read(people["health_member"], doc)
    read(people["health_member"], doc)  # repeated clicks
    read(people["health_member"], doc, via="api")  # the same kind by another way
    (row,) = Credit.objects.filter(kind=Kind.READ)
    assert (row.actor, row.person, row.department) == (people["health_member"], people["tax_steward"], org_units["tax"])
    assert row.actor_department == org_units["health"]
    assert row.item == f"resource:{doc.pk}" and "纳税指南" in row.item_label
    assert row.month == points.month_of()
    read(people["health_member"], doc, via="download")
    assert Credit.objects.filter(kind=Kind.DOWNLOAD).count() == 1
    assert person_points(people["tax_steward"]) == 1 + 2


def test_colleagues_self_admins_searches_edits_and_service_accounts_earn_nothing(people, org_units, doc):
    read(people["tax_member"], doc)  # same department
    read(people["tax_steward"], doc)  # self
    read(people["admin"], doc)  # an admin of no department is no other department
    assert points.credit_for_resource(Kind.HELPED, actor=people["admin"], resource=doc) is None
    for via in ("edit", "diff", "search"):
        read(people["health_member"], doc, via=via)
    service = org.create_service_account(people["admin"], department=org_units["health"], username="erp-bot")
    assert service.is_service
    read(service, doc, via="api")
    assert not Credit.objects.exists()


def test_a_person_of_two_departments_reading_one_of_them_earns_nothing(people, org_units, doc):
    both = factories.person("both", departments={org_units["health"]: "member", org_units["tax"]: "member"})
    read(both, doc)
    assert not Credit.objects.exists()


def test_reads_cost_one_statement_when_they_credit_and_none_from_colleagues(people, org_units, doc):
    reader = people["health_member"]
    context_for(reader)  # as a request has, by the time it shows content
    context_for(people["tax_member"])
    other = factories.resource(org_units["tax"], by=people["tax_steward"])
    with CaptureQueriesContext(connection) as queries:
        panels.note_read(reader, [doc, other], "page")
    assert len(queries) == 1 and credit_statements(queries) == [queries[0]["sql"]]
    with CaptureQueriesContext(connection) as queries:
        panels.note_read(reader, [doc, other], "page")  # a repeat: still one statement, no error
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        panels.note_read(people["tax_member"], [doc, other], "page")
    assert len(queries) == 0
    assert Credit.objects.count() == 2


def test_an_article_credits_its_credited_person_and_never_the_reader(people, org_units):
    article_resource = factories.resource(
        org_units["tax"], by=people["tax_steward"], kind=Resource.Kind.ARTICLE, knowledge_space=True
    )
    Article.objects.get_or_create(resource=article_resource, defaults={"credited_to": people["health_member"]})
    Article.objects.filter(resource=article_resource).update(credited_to=people["health_member"])
    fresh = Resource.objects.get(pk=article_resource.pk)  # the article not loaded: found inside the INSERT
    read(people["social_member"], fresh)
    row = Credit.objects.get(actor=people["social_member"])
    assert row.person == people["health_member"] and row.department == org_units["tax"]
    # the answerer reading the article made from their answer credits the owner department, not themself
    read(people["health_member"], Resource.objects.get(pk=article_resource.pk))
    row = Credit.objects.get(actor=people["health_member"])
    assert row.person is None and row.department == org_units["tax"]


# --- credit(): the rules every source goes through ------------------------------------------------------------


def test_credit_refuses_self_same_department_and_repeats(people, org_units, doc):
    steward, member, health = people["tax_steward"], people["tax_member"], people["health_member"]
    assert points.credit_for_resource(Kind.HELPED, actor=steward, resource=doc) is None
    assert points.credit_for_resource(Kind.HELPED, actor=member, resource=doc) is None
    assert points.credit_for_resource(Kind.HELPED, actor=health, resource=doc) is not None
    assert points.credit_for_resource(Kind.HELPED, actor=health, resource=doc) is None
    assert points.credit(Kind.HELPED, actor=None, item="resource:1", department_id=org_units["tax"].pk) is None
    # known departments given by the caller are used instead of a query
    assert (
        points.credit(
            Kind.CITATION,
            actor=health,
            item="resource:99",
            department_id=org_units["tax"].pk,
            actor_department_ids=[org_units["tax"].pk],
        )
        is None
    )
    assert Credit.objects.count() == 1


def test_next_month_counts_again(people, doc):
    health = people["health_member"]
    points.credit_for_resource(Kind.HELPED, actor=health, resource=doc, when=datetime(2024, 1, 31, tzinfo=UTC))
    points.credit_for_resource(Kind.HELPED, actor=health, resource=doc, when=datetime(2024, 2, 1, tzinfo=UTC))
    assert sorted(Credit.objects.values_list("month", flat=True)) == [date(2024, 1, 1), date(2024, 2, 1)]
    assert points.standing("person", people["tax_steward"].pk, points.period("all")).points == 16


# --- grants and publications, from the log ---------------------------------------------------------------


@pytest.fixture
def conditional(org_units, people):
    return factories.resource(org_units["tax"], by=people["tax_steward"], sharing_type="conditional")


def _request(requester, resource, **kwargs):
    return access.create_request(
        requester,
        resource,
        purpose="核验纳税情况",
        use_category="verification",
        period_days=30,
        accept_terms=True,
        **kwargs,
    )


def test_a_grant_to_another_departments_member_credits_the_owner(people, org_units, conditional):
    request = _request(people["health_member"], conditional)
    access.approve_request(people["tax_steward"], request)
    run_pending()
    (row,) = Credit.objects.filter(kind=Kind.GRANT)
    assert (row.actor, row.person, row.department) == (people["health_member"], people["tax_steward"], org_units["tax"])
    # reading the log again (a crash before the cursor moved) does not count twice
    points.credit_from_event(Event.objects.get(action="grant.created"))
    assert Credit.objects.filter(kind=Kind.GRANT).count() == 1
    assert person_points(people["tax_steward"]) == 5 + 1  # the grant, and publishing the resource


def test_a_grant_to_a_department_credits_with_the_requester_for_it(people, org_units, conditional):
    request = _request(people["social_member"], conditional, for_department=org_units["social"])
    access.approve_request(people["tax_steward"], request)
    run_pending()
    (row,) = Credit.objects.filter(kind=Kind.GRANT)
    assert row.actor == people["social_member"] and row.actor_department == org_units["social"]


def test_publishing_earns_little_once_per_item_and_only_five_a_month(people, org_units):
    made = [factories.resource(org_units["tax"], by=people["tax_steward"]) for _ in range(7)]
    run_pending()
    assert Credit.objects.filter(kind=Kind.PUBLISH, actor__isnull=True).count() == 7
    catalog.transition(people["tax_steward"], made[0], "archive")
    catalog.transition(people["tax_steward"], Resource.objects.get(pk=made[0].pk), "restore")
    run_pending()
    assert Credit.objects.filter(kind=Kind.PUBLISH).count() == 7
    assert person_points(people["tax_steward"]) == points.PUBLISH_CAP * 1
    assert department_points(org_units["tax"]) == points.PUBLISH_CAP


# --- caps, rings ------------------------------------------------------------------------------------------------


def test_one_person_gives_one_beneficiary_at_most_three_credits_a_month(people, org_units):
    steward, health = people["tax_steward"], people["health_member"]
    docs = [factories.resource(org_units["tax"], by=steward) for _ in range(5)]
    for d in docs:
        read(health, d)
    assert person_points(steward) == 3
    # a later, weightier act still counts: the three highest-weighted do
    points.credit(Kind.ANSWER, actor=health, item="answer:1", person=steward, department_id=org_units["tax"].pk)
    assert person_points(steward) == 10 + 1 + 1
    assert Credit.objects.filter(person=steward).exclude(kind=Kind.PUBLISH).count() == 6  # all kept
    lines = list(points.credit_lines(person_id=steward.pk, when=points.period("month")))
    reads = [line for line in lines if line.kind == Kind.READ]
    assert sum(points.is_counted(line) for line in reads) == 2
    # another person of the same department is another reuser
    joiner = factories.member(org_units["health"], username="joiner")
    points.credit_for_resource(Kind.READ, actor=joiner, resource=docs[0])
    assert person_points(steward) == 13


def test_a_ring_cannot_climb_above_an_honest_contributor(org_units):
    x, y, z = (factories.department(f"环{n}", f"RING{n}") for n in "XYZ")
    a, b = factories.member(x, "steward", username="ring_a"), factories.member(y, "steward", username="ring_b")
    colleagues = {a: factories.member(x, username="ring_a2"), b: factories.member(y, username="ring_b2")}
    honest = factories.member(z, "steward", username="honest")

    def items(owner, who, n):
        return [factories.resource(owner, by=who, title=f"{who.username} {i}") for i in range(n)]

    a_items, b_items = items(x, a, 30), items(y, b, 30)
    honest_items = items(z, honest, 3)
    run_pending()  # publications
    ring_scores = []
    for round_items in (a_items[:10], a_items):  # more items, more activity: the same score
        for mine, theirs, me in ((round_items, b_items, a), (b_items, round_items, b)):
            for item in theirs:
                for _click in range(3):
                    read(me, item)
                read(me, item, via="download")
                points.credit_for_resource(Kind.HELPED, actor=me, resource=item)
                points.credit_for_resource(Kind.CITATION, actor=me, resource=item)
                points.credit_for_resource(Kind.GRANT, actor=me, resource=item)
                owner = item.steward_id
                points.credit(
                    Kind.ANSWER,
                    actor=me,
                    item=f"answer:{item.pk}",
                    person=owner,
                    department_id=item.owner_department_id,
                )
                points.credit(
                    Kind.SESSION,
                    actor=me,
                    item=f"session:{item.pk}",
                    person=owner,
                    department_id=item.owner_department_id,
                )
            for item in mine:  # self and same-department activity
                read(me, item)
                read(colleagues[me], item)
                points.credit_for_resource(Kind.HELPED, actor=colleagues[me], resource=item)
        ring_scores.append((person_points(a), person_points(b)))
    assert ring_scores[0] == ring_scores[1]
    # honest work reused by people of four other departments: a read and a "helped me" each
    for n in range(4):
        reuser = factories.member(factories.department(f"用户{n}", f"USE{n}"), username=f"reuser{n}")
        read(reuser, honest_items[n % 3])
        points.credit_for_resource(Kind.HELPED, actor=reuser, resource=honest_items[n % 3])
    ring_best = max(person_points(a), person_points(b))
    assert ring_best <= points.CAP * max(points.DEFAULT_WEIGHTS.values()) + points.PUBLISH_CAP
    assert person_points(honest) > ring_best
    board = points.board("person", points.period("month"))
    assert board[0].id == honest.pk and board[0].rank == 1 and board[0].reached == 4
    departments = points.board("department", points.period("month"))
    assert departments[0].id == z.pk
    assert department_points(x) < department_points(z) and department_points(y) < department_points(z)
    # the ring's extra credits are kept, and shown as not counted
    lines = list(points.credit_lines(person_id=a.pk, when=points.period("month")))
    assert len(lines) > 100 and sum(points.is_counted(line) for line in lines) == points.CAP + points.PUBLISH_CAP
    # nothing came from a colleague or from themselves
    assert not Credit.objects.filter(actor__in=colleagues.values()).exists()
    assert not Credit.objects.filter(actor=a, person=a).exists()


# --- weights --------------------------------------------------------------------------------------------------


def test_weights_re_score_history_and_are_an_event(people, doc):
    points.credit_for_resource(Kind.HELPED, actor=people["health_member"], resource=doc)
    assert person_points(people["tax_steward"]) == 8
    points.set_weights(people["admin"], {"helped": 20, "read": "3"})
    assert person_points(people["tax_steward"]) == 20
    event = Event.objects.get(action="recognition.weights_changed")
    assert event.details["kinds"] == ["helped", "read"] and "helped: 8 → 20" in event.details["summary"]
    points.set_weights(people["admin"], {"helped": 20})  # no change, no event
    assert Event.objects.filter(action="recognition.weights_changed").count() == 1
    points.set_weights(people["admin"], {"helped": 0})
    assert person_points(people["tax_steward"]) == 0
    assert points.weights()["helped"] == 0 and PointWeight.objects.count() == 2


@pytest.mark.parametrize("value", [-1, 1001, "x", "1e3", None, True, "", " " * 3, "9" * 50])
def test_bad_weights_are_refused_whole(people, value):
    with pytest.raises(Invalid) as error:
        points.set_weights(people["admin"], {"read": 4, "helped": value})
    assert "helped" in error.value.fields
    assert not PointWeight.objects.exists()


def test_only_admins_set_weights(people):
    with pytest.raises(Invalid):
        points.set_weights(people["admin"], {"nonsense": 1})
    for who in ("tax_steward", "hr_head", "auditor"):
        with pytest.raises(Forbidden):
            points.set_weights(people[who], {"read": 5})


# --- badges ---------------------------------------------------------------------------------------------------


def test_badges_are_awarded_once_with_an_event_and_a_notification(people, org_units, doc):
    steward = people["tax_steward"]
    points.credit(
        Kind.ANSWER, actor=people["health_member"], item="answer:5", person=steward, department_id=org_units["tax"].pk
    )
    points.credit(
        Kind.SESSION, actor=people["social_member"], item="session:2", person=steward, department_id=org_units["tax"].pk
    )
    assert points.award_badges(full=True) == 2
    assert set(Badge.objects.filter(user=steward).values_list("code", flat=True)) == {
        Badge.Code.FIRST_ANSWER,
        Badge.Code.FIRST_SESSION,
    }
    assert points.award_badges(full=True) == 0
    event = Event.objects.filter(action="recognition.badge_awarded").first()
    assert event.details["recipients"] == [steward.pk]
    run_pending()
    assert Notification.objects.filter(recipient=steward, event__action="recognition.badge_awarded").count() == 2


def test_reach_helpful_and_century_badges(people, org_units, doc):
    steward = people["tax_steward"]
    for n in range(10):
        reuser = factories.member(factories.department(f"部门乙{n}", f"B{n}"), username=f"b{n}")
        points.credit_for_resource(Kind.HELPED, actor=reuser, resource=doc)
        points.credit_for_resource(Kind.CITATION, actor=reuser, resource=doc)
    points.award_badges(full=True)
    codes = set(Badge.objects.filter(user=steward).values_list("code", flat=True))
    assert {Badge.Code.TEN_DEPARTMENTS, Badge.Code.HELPFUL, Badge.Code.CENTURY} <= codes
    assert not Badge.objects.exclude(user=steward).exists()


def test_the_badge_round_looks_only_at_people_credited_since_the_last(people, org_units, doc):
    points.award_badges(full=True)
    points.credit(
        Kind.ANSWER,
        actor=people["health_member"],
        item="answer:9",
        person=people["tax_member"],
        department_id=org_units["tax"].pk,
    )
    assert points.award_badges() == 1
    assert Badge.objects.get().user == people["tax_member"]
