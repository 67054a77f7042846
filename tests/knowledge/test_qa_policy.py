"""Property test: on random organizations with random private and public questions, a question (and its
answers) appears on every route exactly when `decide_question` lets the reader SEE it, the SQL filter agrees
with the one-case decision, and both agree with the rules in the docstring of `sharehub.policy.knowledge`."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sharehub.errors import NotFound
from sharehub.knowledge import qa
from sharehub.knowledge import qa_queries as queries
from sharehub.knowledge.models import Question
from sharehub.org.models import Membership
from sharehub.policy.knowledge import QuestionAction, decide_question, question_filter
from tests import factories

pytestmark = pytest.mark.django_db

ROLES = (Membership.Role.MEMBER, Membership.Role.STEWARD, Membership.Role.HEAD)


@dataclass(frozen=True)
class PersonSpec:
    memberships: tuple[tuple[int, str], ...]
    admin: bool


@dataclass(frozen=True)
class QuestionSpec:
    asker: int
    department: int | None
    resource: int | None  # a resource of that department index (each department has one, stewarded)
    private: bool


@st.composite
def worlds(draw):
    n = draw(st.integers(2, 4))
    dept = st.integers(0, n - 1)
    people = draw(
        st.lists(
            st.builds(
                PersonSpec,
                memberships=st.lists(st.tuples(dept, st.sampled_from(ROLES)), max_size=2, unique_by=lambda m: m[0]).map(
                    tuple
                ),
                admin=st.sampled_from((False, False, False, True)),
            ),
            min_size=2,
            max_size=5,
        )
    )
    asked = st.builds(
        QuestionSpec,
        asker=st.integers(0, len(people) - 1),
        department=st.none() | dept,
        resource=st.none() | dept,
        private=st.booleans(),
    ).filter(lambda q: q.department is not None or q.resource is not None)
    questions = draw(st.lists(asked, min_size=1, max_size=5))
    return n, tuple(people), tuple(questions)


def _build(spec):
    n, people_specs, question_specs = spec
    departments = [factories.department() for _ in range(n)]
    stewards = [factories.member(d, Membership.Role.STEWARD) for d in departments]
    resources = [factories.resource(d, by=s, steward=s.pk) for d, s in zip(departments, stewards, strict=True)]
    people = []
    for p in people_specs:
        people.append(factories.person(departments={departments[i]: role for i, role in p.memberships}, admin=p.admin))
    questions = []
    for i, q in enumerate(question_specs):
        question = qa.ask_question(
            people[q.asker],
            title=f"问题{i} 完税证明",
            department=departments[q.department] if q.department is not None else None,
            resource=resources[q.resource].code if q.resource is not None else None,
            private=q.private,
        )
        qa.answer_question(stewards[q.department if q.department is not None else q.resource], question, f"回答{i}")
        questions.append(question)
    return departments, [*people, *stewards], resources, questions


def _rules(user, question: Question) -> bool:
    """The docstring's reading, independent of the code."""
    if not question.private or user.is_org_admin or question.asker_id == user.pk:
        return True
    mine = set(Membership.objects.filter(user=user).values_list("department_id", flat=True))
    if question.department_id in mine:
        return True
    resource = question.resource
    return resource is not None and (resource.owner_department_id in mine or resource.steward_id == user.pk)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=worlds())
def test_a_question_appears_on_a_route_iff_the_policy_lets_one_see_it(spec):
    with transaction.atomic():
        _departments, people, _resources, questions = _build(spec)
        fresh = list(Question.objects.select_related("resource").order_by("pk"))
        for user in people:
            decided = {q.pk for q in fresh if decide_question(user, QuestionAction.SEE, q)}
            assert decided == {q.pk for q in fresh if _rules(user, q)}, user.username
            in_sql = set(Question.objects.filter(question_filter(user)).values_list("pk", flat=True))
            assert in_sql == decided, user.username
            rows, counts = queries.list_questions(user, queries.QuestionFilters())
            assert {q.pk for q in rows} == decided and counts["all"] == len(decided)
            similar, _articles = queries.similar(user, "完税证明")
            assert {q.pk for q in similar} <= decided and len(similar) == min(len(decided), queries.SIMILAR)
            client = Client()
            client.force_login(user)
            listed = client.get("/api/v1/questions?limit=100").json()
            assert {q["id"] for q in listed["items"]} == decided and listed["counts"]["all"] == len(decided)
            for question in questions:
                seen = question.pk in decided
                response = client.get(f"/api/v1/questions/{question.pk}")
                assert response.status_code == (200 if seen else 404), (user.username, question.pk)
                if seen:
                    assert len(response.json()["answers"]) == 1
                page = client.get(f"/questions/{question.pk}/")
                assert page.status_code == (200 if seen else 404)
                if not seen:
                    with pytest.raises(NotFound):
                        queries.access_question(user, question.pk)
        transaction.set_rollback(True)
