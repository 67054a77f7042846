from __future__ import annotations

import zoneinfo

from django.utils import timezone


class UserTimezoneMiddleware:
    """Show times in the person's own zone when they chose one; stored times stay UTC."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = getattr(getattr(request, "user", None), "time_zone", "") or ""
        if zone:
            try:
                timezone.activate(zoneinfo.ZoneInfo(zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)
