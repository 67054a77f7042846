"""How followed events read to followers (a party to an event reads the owning app's sentence)."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sharehub.feeds import messages


def _resource_link(details: dict) -> str:
    return f"/resources/{details.get('code', '')}/"


def _data_link(details: dict) -> str:
    return f"/resources/{details.get('code', '')}/data/"


def _token_expiring(details: dict) -> str:
    """The end in the reader's zone and language, read at the time the sentence is shown."""
    try:
        ends = date_format(timezone.localtime(datetime.fromisoformat(details.get("expires_at", ""))), "DATETIME_FORMAT")
    except (TypeError, ValueError):
        ends = "—"
    details["ends"] = ends
    if details.get("owner_is_service"):
        return gettext(
            "The API token %(name)s of the service account %(owner)s ends on %(ends)s; an organization admin makes"
            " a new one."
        )
    return gettext("Your API token %(name)s ends on %(ends)s; make a new one before then.")


def register() -> None:
    messages.register("token.expiring", _token_expiring, lambda details: reverse("org:tokens"))
    messages.register(
        "webhook.disabled",
        _("Your webhook to %(url)s was turned off: its deliveries kept failing. Turn it on again once it works."),
        lambda details: "/webhooks/",
    )
    followed = {
        "resource.published": (_("%(actor)s published %(target)s."), _resource_link),
        "resource.updated": (_("%(actor)s updated %(target)s."), _resource_link),
        "resource.sharing_changed": (_("%(actor)s changed who may see %(target)s."), _resource_link),
        "resource.archived": (_("%(actor)s archived %(target)s."), _resource_link),
        "resource.restored": (_("%(actor)s restored %(target)s."), _resource_link),
        "resource.attachment_added": (_("%(actor)s added an attachment to %(target)s."), _resource_link),
        "dataset.records_changed": (
            _("%(actor)s updated the records of %(target)s: %(inserted)s new, %(updated)s changed."),
            _data_link,
        ),
        "dataset.records_deleted": (_("%(actor)s deleted %(deleted)s records of %(target)s."), _data_link),
        "dataset.schema_changed": (_("%(actor)s changed the fields of %(target)s."), _resource_link),
        "dataset.correction_accepted": (_("A value in %(target)s was corrected."), _data_link),
    }
    for action, (text, link) in followed.items():
        messages.register(action, text, link, followed=True)
