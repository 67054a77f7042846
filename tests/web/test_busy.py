"""A request that cannot get the database in time (SQLite's write lock held past its timeout, no pooled
PostgreSQL connection free) answers 503 with Retry-After, on pages and in the API, never a 500."""

from __future__ import annotations

import psycopg
import pytest
from django.db import OperationalError
from django.test import Client
from psycopg_pool import PoolTimeout

from sharehub.errors import is_database_busy


def _locked() -> OperationalError:
    return OperationalError("database is locked")


def _pool_timeout() -> OperationalError:
    try:
        raise PoolTimeout("couldn't get a connection after 10.00 sec")
    except PoolTimeout as cause:
        try:
            raise OperationalError(str(cause)) from cause
        except OperationalError as error:
            return error


def _deadlock() -> OperationalError:
    """As Django raises PostgreSQL's answer to two transactions waiting on each other."""
    try:
        raise psycopg.errors.DeadlockDetected("deadlock detected")
    except psycopg.errors.DeadlockDetected as cause:
        try:
            raise OperationalError(str(cause)) from cause
        except OperationalError as error:
            return error


BUSY = [
    pytest.param(_locked, id="sqlite-locked"),
    pytest.param(_pool_timeout, id="pool-timeout"),
    pytest.param(_deadlock, id="postgresql-deadlock"),
]


@pytest.mark.parametrize("make_error", BUSY)
def test_a_busy_database_gives_a_503_page(people, client_for, monkeypatch, make_error):
    def busy(*args, **kwargs):
        raise make_error()

    monkeypatch.setattr("sharehub.web.views.catalog_queries.recent_across", busy)
    response = client_for(people["tax_member"]).get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "try again" in response.content.decode()


@pytest.mark.parametrize("make_error", BUSY)
def test_a_busy_database_gives_a_503_in_the_api_error_shape(people, client_for, monkeypatch, make_error):
    def busy(*args, **kwargs):
        raise make_error()

    monkeypatch.setattr("sharehub.org.api._person_or_404", busy)
    response = client_for(people["tax_member"]).get("/api/v1/me")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "busy"


def test_busy_outside_a_view_still_gives_a_503(people, monkeypatch):
    """Middleware (sessions, the signed-in user) reads the database before any view runs."""

    def busy(*args, **kwargs):
        raise _locked()

    client = Client(raise_request_exception=False)
    client.force_login(people["tax_member"])
    monkeypatch.setattr("django.contrib.auth.middleware.get_user", busy)
    response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"


def test_other_database_errors_are_not_called_busy():
    assert not is_database_busy(OperationalError("no such table: catalog_resource"))
    assert not is_database_busy(ValueError("database is locked"))
    assert is_database_busy(_locked()) and is_database_busy(_pool_timeout())
