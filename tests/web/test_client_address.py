"""sharehub.net.client_address: the one function that decides who is on the other end."""

from __future__ import annotations

import ipaddress

import pytest
from django.test import RequestFactory
from hypothesis import given
from hypothesis import strategies as st

from sharehub import config
from sharehub.net import client_address

PROXIES = [ipaddress.ip_network("10.0.0.0/24"), ipaddress.ip_network("fd00::/64")]


def _address(remote: str, forwarded: str | None = None, trusted=PROXIES) -> str:
    from django.test import override_settings

    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    with override_settings(TRUSTED_PROXIES=trusted):
        return client_address(RequestFactory().get("/", **extra))


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("192.0.2.1", None, "192.0.2.1"),
        ("192.0.2.1", "203.0.113.5", "192.0.2.1"),  # not a proxy: its header means nothing
        ("10.0.0.1", None, "10.0.0.1"),
        ("10.0.0.1", "203.0.113.5", "203.0.113.5"),
        ("10.0.0.1", "203.0.113.5, 198.51.100.1", "198.51.100.1"),  # right-most untrusted
        ("10.0.0.1", "203.0.113.5, 198.51.100.1, 10.0.0.7", "198.51.100.1"),  # through two proxies
        ("10.0.0.1", "10.0.0.8, 10.0.0.7", "10.0.0.8"),  # all proxies: the farthest one known
        ("10.0.0.1", "not-an-address, 10.0.0.7", "10.0.0.7"),  # garbage stops at the last sure hop
        ("10.0.0.1", "198.51.100.1:4711", "198.51.100.1"),
        ("10.0.0.1", "[2001:db8::1]:4711", "2001:db8::1"),
        ("10.0.0.1", "", "10.0.0.1"),
        ("::ffff:10.0.0.1", "203.0.113.5", "203.0.113.5"),  # IPv4-mapped peer of a dual-stack socket
        ("fd00::3", "2001:db8::9", "2001:db8::9"),
        ("", "203.0.113.5", ""),
    ],
)
def test_client_address(remote, forwarded, expected):
    assert _address(remote, forwarded) == expected


def test_no_trusted_proxies_by_default_means_the_peer():
    assert _address("127.0.0.1", "203.0.113.5", trusted=[]) == "127.0.0.1"


_ipv4 = st.ip_addresses(v=4).map(str)


@given(spoofed=st.lists(st.one_of(_ipv4, st.text(max_size=20)), max_size=5), real=_ipv4)
def test_nothing_a_client_writes_changes_the_address_the_proxy_saw(spoofed, real):
    """Whatever a client puts into X-Forwarded-For, a trusted proxy appends the peer it saw, and that wins."""
    if ipaddress.ip_address(real) in PROXIES[0]:
        return
    header = ", ".join([*(s.replace(",", " ") for s in spoofed), real])
    assert _address("10.0.0.1", header) == real


def test_trusted_proxies_setting_parses_addresses_and_networks(monkeypatch):
    monkeypatch.setenv("SHAREHUB_TRUSTED_PROXIES", "10.0.0.5, 172.16.0.0/12 ,::1")
    assert config.env_networks("SHAREHUB_TRUSTED_PROXIES") == [
        ipaddress.ip_network("10.0.0.5/32"),
        ipaddress.ip_network("172.16.0.0/12"),
        ipaddress.ip_network("::1/128"),
    ]
    monkeypatch.setenv("SHAREHUB_TRUSTED_PROXIES", "10.0.0.5, proxy.example.org")
    with pytest.raises(config.ConfigError, match=r"SHAREHUB_TRUSTED_PROXIES.*proxy\.example\.org"):
        config.env_networks("SHAREHUB_TRUSTED_PROXIES")
