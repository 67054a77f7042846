"""How failed sign-ins are counted (django-axes): per username from any address, and per address."""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.http import HttpRequest


class SignInAttempts(AxesDatabaseHandler):
    """Axes' database handler, except that a successful sign-in clears only the failures of that username
    from that address.

    Axes would clear every failure matching any lockout parameter: all failures from the address (whoever
    they were for) and all failures for the username (from wherever). Then someone could try four passwords
    on a colleague's account, sign in to their own, and have four more tries; and a person signing in at
    their desk would wipe an attacker's count against them from elsewhere.
    """

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        username = get_client_username(request, credentials)
        deleted, _ = AccessAttempt.objects.filter(username=username, ip_address=request.axes_ip_address).delete()
        return deleted
