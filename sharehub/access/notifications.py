"""What the access process's notifications say (registered with feeds when the app is ready)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sharehub.feeds import messages


def _request_link(details: dict) -> str:
    return f"/requests/{details.get('request', '')}/"


def _resource_link(details: dict) -> str:
    return f"/resources/{details.get('resource', '')}/"


def register() -> None:
    messages.register("access.requested", _("%(actor)s requests access to %(title)s."), _request_link)
    messages.register(
        "access.first_approved",
        _("The steward approved the request for %(title)s; it now awaits the head."),
        _request_link,
    )
    messages.register("access.approved", _("Your request for %(title)s was approved."), _request_link)
    messages.register("access.rejected", _("Your request for %(title)s was rejected: %(reason)s"), _request_link)
    messages.register(
        "access.info_asked", _("More information is asked on your request for %(title)s: %(question)s"), _request_link
    )
    messages.register("access.info_given", _("%(actor)s answered on the request for %(title)s."), _request_link)
    messages.register("access.withdrawn", _("%(actor)s withdrew the request for %(title)s."), _request_link)
    messages.register("access.reminder", _("The request for %(title)s is due soon."), _request_link)
    messages.register("access.escalated", _("The request for %(title)s is overdue."), _request_link)
    messages.register("grant.created", _("You may now read %(title)s."), _resource_link)
    messages.register("grant.revoked", _("Your access to %(title)s was revoked: %(reason)s"), _resource_link)
    messages.register("grant.expiring", _("Your access to %(title)s ends soon."), _resource_link)
    messages.register("grant.expired", _("Your access to %(title)s has ended."), _resource_link)
