"""Creating a resource locks its department (to number the code) and then the event chain's head.
A transaction that already holds the head and then inserts a row referencing that department must not
deadlock with it: on PostgreSQL the department lock is FOR NO KEY UPDATE, which a referencing insert's
FOR KEY SHARE does not wait for. (With FOR UPDATE, bench/api's concurrent writes hit real deadlocks.)"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from sharehub.catalog import services
from sharehub.catalog.models import Resource
from sharehub.events.services import record
from sharehub.org.models import Membership
from tests import factories

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row lock modes are PostgreSQL's"),
]


def test_a_create_and_a_transaction_holding_the_chain_head_do_not_deadlock():
    tax = factories.department("税务局", "SWJ")
    steward = factories.member(tax, Membership.Role.STEWARD, username="steward_a")
    newcomer = factories.person("newcomer")
    head_held, errors, created = threading.Event(), [], []

    def holds_the_head_then_references_the_department():
        try:
            with transaction.atomic():
                record(None, "test.head_held", None, details={})
                head_held.set()
                time.sleep(0.5)  # the create below now holds the department and waits for the head
                Membership.objects.create(user=newcomer, department=tax, role=Membership.Role.MEMBER)
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    def creates_a_resource():
        try:
            head_held.wait(5)
            created.append(services.create_resource(steward, owner_department=tax, kind="document", title="并发"))
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=holds_the_head_then_references_the_department),
        threading.Thread(target=creates_a_resource),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(created) == 1 and Resource.objects.filter(pk=created[0].pk).exists()
    assert Membership.objects.filter(user=newcomer, department=tax).exists()
