"""API rate limits, counted in Django's cache so that every worker shares them when the cache is Redis.

A signed-in caller is limited per bearer token (or per person, for a browser session): the token is
who answers for the traffic, and one address may be a whole office behind NAT. A caller that is not
signed in is limited per client address (sharehub.net.client_address), which bounds token guessing.

Each limit is a fixed window: one counter per key and window, raised with the cache's atomic `incr`.
ninja's SimpleRateThrottle keeps a list of timestamps that it reads, changes and writes back, which
loses counts when several workers share a key; a counter does not, and stays one small integer.
"""

from __future__ import annotations

import hashlib
import math
import time
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from sharehub.net import client_address
from sharehub.ops import metrics

_wait: ContextVar[int | None] = ContextVar("sharehub_rate_wait", default=None)


def hit(key: str, rate: tuple[int, int] | None, now: float | None = None) -> int | None:
    """Count one request against `key`; None while within `rate`, else the seconds until it may retry."""
    if rate is None:
        return None
    limit, period = rate
    now = time.time() if now is None else now
    window = int(now // period)
    cache_key = f"sharehub:rate:{key}:{period}:{window}"
    if cache.add(cache_key, 1, timeout=period + 1):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # the window's counter expired between add and incr: start the next one
            cache.add(cache_key, 1, timeout=period + 1)
            count = 1
    if count <= limit:
        return None
    metrics.refused(key)
    return max(1, math.ceil((window + 1) * period - now))


def token_key(raw_token: str) -> str:
    return "token:" + hashlib.sha256(raw_token.encode()).hexdigest()[:32]


def caller_key(request: HttpRequest) -> str:
    """The signed-in caller a request counts against: its bearer token, else the session's person."""
    key = getattr(request, "rate_limit_key", None)
    if key:
        return key
    return f"user:{request.user.pk}"


class PerCaller(BaseThrottle):
    """ninja runs this after authentication succeeded, on every API operation."""

    def allow_request(self, request: HttpRequest) -> bool:
        wait = hit(caller_key(request), settings.API_RATE_TOKEN)
        _wait.set(wait)
        return wait is None

    def wait(self) -> float | None:
        return _wait.get()


def anonymous_wait(request: HttpRequest) -> int | None:
    """Count a request that failed authentication against its address; seconds to wait when over the limit."""
    return hit("address:" + client_address(request), settings.API_RATE_ADDRESS)
