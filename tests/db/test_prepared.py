"""A prepared read (sharehub.db.prepared) answers exactly as its queryset does, for any values, on
both databases, and compiles only once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Q
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sharehub.access.models import Grant
from sharehub.db.prepared import PreparedRead
from sharehub.org.models import Department, Membership
from tests import factories

pytestmark = pytest.mark.django_db


def departments_named(name: str):
    return Department.objects.filter(name=name).order_by("pk").values_list("pk", "name", "created_at")


def grants_after(user_id: int, after: datetime):
    return Grant.objects.filter(
        Q(grantee_user_id=user_id)
        | Q(grantee_department_id__in=Membership.objects.filter(user_id=user_id).values("department_id")),
        valid_until__gt=after,
    ).values_list("pk", "valid_until", "fields")


NAMED = PreparedRead(departments_named, name=str)
GRANTS = PreparedRead(grants_after, user_id=int, after=datetime)


def test_it_answers_as_the_queryset_with_the_values_converted(org_units):
    for name in ("税务局", "no such department", "", "'; DROP TABLE org_department; --", "%", "_"):
        assert NAMED.rows(name=name) == list(departments_named(name)), name
    found = NAMED.rows(name="税务局")
    assert found and isinstance(found[0][2], datetime) and found[0][2].tzinfo is not None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=30).filter(lambda t: "\x00" not in t), days=st.integers(-400, 400))
def test_any_values_give_what_the_queryset_gives(granted, text, days):
    user, moment = granted
    assert NAMED.rows(name=text) == list(departments_named(text))
    after = moment + timedelta(days=days)
    assert sorted(GRANTS.rows(user_id=user.pk, after=after)) == sorted(grants_after(user.pk, after))


@pytest.fixture
def granted(org_units, people):
    """A grant to a person's department and one to the person, ending at different times."""
    from sharehub.access.models import Grant as GrantModel

    member = people["health_member"]
    resource = factories.resource(org_units["tax"], sharing_type="conditional")
    now = datetime(2026, 12, 6, 12, tzinfo=UTC)
    GrantModel.objects.create(
        resource=resource, grantee_department=org_units["health"], valid_from=now, valid_until=now + timedelta(days=30),
        purpose="核验", fields=["a", "b"],
    )  # fmt: skip
    GrantModel.objects.create(
        resource=resource, grantee_user=member, valid_from=now, valid_until=now + timedelta(days=90), purpose="统计",
    )  # fmt: skip
    return member, now


def test_it_compiles_once(org_units, monkeypatch):
    calls = []
    read = PreparedRead(lambda name: calls.append(name) or departments_named(name), name=str)
    read.rows(name="税务局")
    read.rows(name="人社局")
    assert len(calls) == 1


def test_it_refuses_what_it_cannot_replace():
    in_list = PreparedRead(lambda pk: Department.objects.filter(pk__in=[pk, pk]).values_list("pk"), pk=int)
    in_list.rows(pk=1)  # the same value twice is two slots, both replaced
    unused = PreparedRead(lambda pk: Department.objects.values_list("pk"), pk=int)
    with pytest.raises(TypeError, match="pk"):
        unused.rows(pk=1)
    with pytest.raises(TypeError):
        PreparedRead(lambda pk: Department.objects.values_list("pk"), pk=list).rows(pk=[1])
    with pytest.raises(TypeError, match="exactly"):
        NAMED.rows(name="x", other=1)


@pytest.mark.django_db
def test_an_id_array_selects_the_rows_of_its_ids():
    from sharehub.db.ids import id_array

    made = [Department.objects.create(name=f"部门{n}", code=f"IDS{n}").pk for n in range(5)]
    assert set(Department.objects.filter(pk__in=id_array(made[1:4])).values_list("pk", flat=True)) == set(made[1:4])
    assert not Department.objects.filter(pk__in=id_array([])).exists()
    many = [*range(-40_000, 0), made[0], str(made[4])]  # more than a statement's placeholders allow; strings too
    assert set(Department.objects.filter(pk__in=id_array(many)).values_list("pk", flat=True)) == {made[0], made[4]}
