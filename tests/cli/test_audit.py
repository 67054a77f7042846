from __future__ import annotations

import pytest
from django.core.management.base import CommandError
from django.db import connection

from sharehub.events.models import Event
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def some_history():
    department = factories.department("税务局", "SWJ")
    factories.resource(department, title="纳税人登记信息")
    return Event.objects.count()


def test_audit_verify_on_an_intact_chain(run, some_history):
    result = run("audit", "verify")
    assert result.stdout.strip() == f"audit chain intact: {some_history} events"


def test_audit_verify_on_an_empty_chain(run):
    assert "audit chain intact: 0 events" in run("audit", "verify").stdout


def test_audit_verify_names_the_tampered_entry(run, some_history):
    assert some_history >= 4
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Event._meta.db_table} SET target_label = %s WHERE seq = %s", ["nothing to see here", 3]
        )
    with pytest.raises(CommandError) as caught:
        run("audit", "verify")
    assert "#3" in str(caught.value)
    assert "changed after it was written" in str(caught.value)
