"""The outermost middleware: counts and times every request by its route pattern, and answers the health
and metrics URLs itself, before the rest of the chain.

Those three are asked by machines every few seconds: they skip sessions, languages, CSRF, the HTTPS redirect
and the host check (a load balancer often names the server by its address, which ALLOWED_HOSTS need not
list), and no rate limit counts them. They still resolve through sharehub.urls, so the route label is the
same as anywhere else.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.urls import resolve

from sharehub.ops import metrics
from sharehub.ops.urls import BARE_PATHS


class OpsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        if request.path_info in BARE_PATHS:
            match = resolve(request.path_info)
            request.resolver_match = match
            response = match.func(request, *match.args, **match.kwargs)
        else:
            response = self.get_response(request)
        metrics.request_done(request.method, route(request), response.status_code, time.perf_counter() - started)
        return response


def route(request) -> str:
    """The URL pattern that answered (`/api/v1/resources/{resource_id}`, `/resources/<code>/`), never the path
    itself, so that the number of label values stays that of the routes."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route:
        return "/" + match.route
    if request.path_info.startswith(settings.STATIC_URL):
        return "static"
    return "unmatched"  # no route (404), or answered by a middleware before routing (a redirect, a refusal)
