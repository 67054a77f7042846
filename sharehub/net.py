"""Who is on the other end of a request: the one place that reads the peer address and X-Forwarded-For.

Only a direct peer listed in SHAREHUB_TRUSTED_PROXIES may speak for someone else. Behind such proxies
the client is the right-most address of X-Forwarded-For that is not itself a trusted proxy: every hop to
its right was appended by a proxy we trust, and everything to its left was written by the client, who
may write anything.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse(raw: str) -> Address | None:
    """An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:5678`; None if it is not one."""
    text = raw.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted_proxy(address: Address | None) -> bool:
    return address is not None and any(address in network for network in settings.TRUSTED_PROXIES)


def peer_is_trusted_proxy(request: HttpRequest) -> bool:
    """Whether the direct peer of this request is one of the configured proxies."""
    return is_trusted_proxy(_parse(request.META.get("REMOTE_ADDR") or ""))


def client_address(request: HttpRequest) -> str:
    """The client's address, for sign-in throttling, API rate limits and the audit log."""
    remote = request.META.get("REMOTE_ADDR") or ""
    client = _parse(remote)
    if not is_trusted_proxy(client):
        return str(client) if client is not None else remote
    hops = (request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",")
    for raw in reversed(hops):
        hop = _parse(raw)
        if hop is None:
            break  # a trusted proxy passed on something that is not an address: stop at the last sure hop
        client = hop
        if not is_trusted_proxy(hop):
            break
    return str(client)
