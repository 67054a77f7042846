"""What the access process's notifications say (registered with feeds when the app is ready)."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sharehub.feeds import messages


def _request_link(details: dict) -> str:
    return f"/requests/{details.get('request', '')}/"


def _resource_link(details: dict) -> str:
    return f"/resources/{details.get('resource', '')}/"


def _approved(details: dict) -> str:
    """A narrowed approval says so, and what was cut (in the reader's language, at read time)."""
    narrowed = details.get("narrowed") or []
    if not narrowed:
        return gettext("Your request for %(title)s was approved.")
    cuts = []
    if "period_days" in narrowed:
        granted, asked = details.get("period_days"), details.get("asked_period_days")
        cuts.append(gettext("%(granted)s days instead of %(asked)s") % {"granted": granted, "asked": asked})
    if "fields" in narrowed:
        names = details.get("fields_cut_labels") or details.get("fields_cut") or []
        cuts.append(gettext("without %(fields)s") % {"fields": gettext(", ").join(str(n) for n in names)})
    if "requester_only" in narrowed:
        dept = details.get("department_name") or "—"
        cuts.append(gettext("for you only, not all of %(dept)s") % {"dept": dept})
    details["cut"] = gettext("; ").join(cuts)
    return gettext("Your request for %(title)s was approved, narrower than asked: %(cut)s.")


def register() -> None:
    messages.register("access.requested", _("%(actor)s requests access to %(title)s."), _request_link)
    messages.register(
        "access.first_approved",
        _("The steward approved the request for %(title)s; it now awaits the head."),
        _request_link,
    )
    messages.register("access.approved", _approved, _request_link)
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
