"""Request middleware of the web layer: the person's time zone and what a trusted proxy may tell us."""

from __future__ import annotations

import zoneinfo

from django.utils import timezone

from sharehub.net import peer_is_trusted_proxy


class UserTimezoneMiddleware:
    """Show times in the person's own zone when they chose one; stored times stay UTC."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.META.get("HTTP_AUTHORIZATION", "").startswith("Bearer "):
            # The token, not the session, says who calls (sharehub.api.BearerToken, after this runs), and
            # the API answers in UTC: the session user is not looked up (a session-table read) for it.
            timezone.deactivate()
            return self.get_response(request)
        zone = getattr(getattr(request, "user", None), "time_zone", "") or ""
        if zone:
            try:
                timezone.activate(zoneinfo.ZoneInfo(zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


class DatabaseBusyMiddleware:
    """A page whose request could not get the database in time answers 503 with Retry-After, not 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from sharehub.errors import is_database_busy

        return busy_response(request) if is_database_busy(exception) else None


def busy_response(request):
    """Rendered without the request's context: its context processors would reach for the busy database. A
    machine (it posted JSON, or asks for JSON rather than HTML) gets the API's error body instead of the page."""
    from django.http import HttpResponse, JsonResponse
    from django.template.loader import render_to_string
    from django.utils.translation import gettext as _

    from sharehub.api import error_body
    from sharehub.errors import RETRY_AFTER_SECONDS

    wants_json = request.content_type == "application/json" or (
        request.get_preferred_type(["text/html", "application/json"]) == "application/json"
    )
    if wants_json:
        body = error_body("busy", _("The database is busy; try again in a few seconds."))
        response = JsonResponse(body, status=503, json_dumps_params={"ensure_ascii": False})
    else:
        response = HttpResponse(render_to_string("web/503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class TrustedProxyMiddleware:
    """Drop X-Forwarded-Proto unless a trusted proxy sent it, so that SECURE_PROXY_SSL_HEADER (which
    Django honours from anyone) only believes the configured proxies."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "HTTP_X_FORWARDED_PROTO" in request.META and not peer_is_trusted_proxy(request):
            del request.META["HTTP_X_FORWARDED_PROTO"]
        return self.get_response(request)
