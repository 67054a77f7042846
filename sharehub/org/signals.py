"""Sign-ins and failed sign-ins land on the event log."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from sharehub.events.services import record
from sharehub.net import client_address


def _address(request) -> str:
    return client_address(request) if request is not None else ""


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    with transaction.atomic():
        record(user, "auth.login", user, details={"address": _address(request)})


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        with transaction.atomic():
            record(user, "auth.logout", user, details={"address": _address(request)})


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    with transaction.atomic():
        record(
            None,
            "auth.login_failed",
            ("org.user", "", credentials.get("username", "")[:150]),
            details={"address": _address(request)},
        )
