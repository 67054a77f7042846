"""Failed sign-ins are limited per username from any address and per address; the address is the one
sharehub.net decides, believing X-Forwarded-For only from SHAREHUB_TRUSTED_PROXIES (issue 10, 1.5)."""

from __future__ import annotations

import ipaddress

import pytest
from django.test import Client

from sharehub.events.models import Event
from tests import factories

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
LIMIT = 5  # SHAREHUB_LOGIN_FAILURE_LIMIT's default


def _login(username: str, password: str, address: str = "127.0.0.1", forwarded: str | None = None) -> int:
    extra = {"REMOTE_ADDR": address}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return Client().post(LOGIN, {"username": username, "password": password}, **extra).status_code


def _fail(username: str, times: int, **where) -> None:
    """Failures below the limit show the form again."""
    for _ in range(times):
        assert _login(username, "wrong-password", **where) == 200


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/24")]


def test_rotating_x_forwarded_for_from_the_host_itself_does_not_escape_the_lockout(people):
    """The reproducer: each failure claimed another client address; none of them is believed."""
    for n in range(LIMIT - 1):
        assert _login("tax_member", "wrong-password", forwarded=f"203.0.113.{n}") == 200
    assert _login("tax_member", "wrong-password", forwarded="203.0.113.99") == 429
    assert _login("tax_member", factories.PASSWORD, forwarded="198.51.100.7") == 429


def test_a_username_is_locked_after_failures_from_many_addresses(people):
    for n in range(LIMIT - 1):
        _fail("tax_member", 1, address=f"192.0.2.{n + 1}")
    assert _login("tax_member", "wrong-password", address="192.0.2.100") == 429
    assert _login("tax_member", factories.PASSWORD, address="192.0.2.200") == 429
    assert _login("tax_steward", factories.PASSWORD, address="192.0.2.200") == 302


def test_an_address_is_locked_after_failures_for_many_usernames(people):
    for n in range(LIMIT - 1):
        _fail(f"nobody{n}", 1, address="192.0.2.9")
    assert _login("nobody-else", "wrong-password", address="192.0.2.9") == 429
    assert _login("tax_member", factories.PASSWORD, address="192.0.2.9") == 429
    assert _login("tax_member", factories.PASSWORD, address="192.0.2.10") == 302


def test_signing_in_to_ones_own_account_does_not_reset_the_count_against_another(people):
    _fail("tax_steward", LIMIT - 1, address="192.0.2.5")
    assert _login("tax_member", factories.PASSWORD, address="192.0.2.5") == 302
    assert _login("tax_steward", "wrong-password", address="192.0.2.6") == 429


def test_a_success_clears_the_persons_own_mistakes_from_that_address(people):
    _fail("tax_member", LIMIT - 1, address="192.0.2.5")
    assert _login("tax_member", factories.PASSWORD, address="192.0.2.5") == 302
    _fail("tax_member", LIMIT - 1, address="192.0.2.5")
    assert _login("tax_member", factories.PASSWORD, address="192.0.2.5") == 302


def test_behind_a_trusted_proxy_clients_are_told_apart_by_x_forwarded_for(people, behind_proxy):
    _fail("nobody", LIMIT - 1, address="10.0.0.2", forwarded="198.51.100.1")
    assert _login("nobody", "wrong-password", address="10.0.0.2", forwarded="198.51.100.1") == 429
    assert _login("tax_member", factories.PASSWORD, address="10.0.0.2", forwarded="198.51.100.1") == 429
    assert _login("tax_member", factories.PASSWORD, address="10.0.0.2", forwarded="198.51.100.2") == 302


def test_behind_a_trusted_proxy_a_client_cannot_rotate_its_own_x_forwarded_for(people, behind_proxy):
    """The client writes the left part of the header; the proxy appends the address it saw."""
    for n in range(LIMIT - 1):
        _fail("nobody", 1, address="10.0.0.2", forwarded=f"203.0.113.{n}, 198.51.100.1")
    assert _login("nobody", "wrong-password", address="10.0.0.2", forwarded="203.0.113.99, 198.51.100.1") == 429
    assert _login("tax_member", factories.PASSWORD, address="10.0.0.2", forwarded="1.2.3.4, 198.51.100.1") == 429


def test_the_audit_log_records_the_decided_address(people, behind_proxy):
    _login("tax_member", "wrong-password", address="10.0.0.2", forwarded="203.0.113.9, 198.51.100.1")
    event = Event.objects.get(action="auth.login_failed")
    assert event.details["address"] == "198.51.100.1"
