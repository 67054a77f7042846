"""Health checks for a load balancer and the Prometheus scrape; answered before the rest of the middleware
(sharehub.ops.middleware), with no sign-in. Health answers say `ok` or `fail` per check and nothing more."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from sharehub.net import client_address, peer_is_trusted_proxy
from sharehub.ops import health

# Headers a reverse proxy adds. From a peer that is not a trusted proxy they mean the loopback peer may be
# a proxy on this host passing on someone else's request.
_PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def _answer(checks: dict[str, str]) -> JsonResponse:
    ok = all(value == health.OK for value in checks.values())
    response = JsonResponse({"status": "ok" if ok else "fail", "checks": checks}, status=200 if ok else 503)
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def live(request):
    return _answer(health.live())


@require_safe
def ready(request):
    return _answer(health.ready())


def _refused(status: int) -> HttpResponse:
    text = "A valid bearer token is needed." if status == 401 else "This address may not read the metrics."
    response = HttpResponse(text + "\n", status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


def scrape_refusal(request) -> int | None:
    """None when this request may read the metrics, else the status to refuse it with: 401 for a token that
    is not SHAREHUB_METRICS_TOKEN, 403 for an address outside SHAREHUB_METRICS_ALLOW (outside loopback when
    neither is set; with only a token set, every scrape needs the token)."""
    token = settings.METRICS_TOKEN
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    if authorization:
        scheme, _, given = authorization.partition(" ")
        if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return None
        return 401
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return 403
    if settings.METRICS_ALLOW:
        return None if any(address in network for network in settings.METRICS_ALLOW) else 403
    if token:
        return 403
    proxied = not peer_is_trusted_proxy(request) and any(header in request.META for header in _PROXY_HEADERS)
    return None if address.is_loopback and not proxied else 403


@require_safe
def metrics(request):
    refusal = scrape_refusal(request)
    if refusal is not None:
        return _refused(refusal)
    from prometheus_client import CONTENT_TYPE_LATEST

    from sharehub.ops.metrics import exposition

    response = HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
