"""What the catalog's notifications say (registered with feeds when the app is ready)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sharehub.feeds import messages


def _resource_link(details: dict) -> str:
    return f"/resources/{details.get('code', '')}/"


def register() -> None:
    messages.register(
        "resource.review_requested", _("%(actor)s submitted the draft %(title)s for review."), _resource_link
    )
    messages.register("resource.published", _("%(actor)s published your draft %(title)s."), _resource_link)
    messages.register(
        "resource.review_returned", _("%(actor)s sent your draft %(title)s back: %(reason)s"), _resource_link
    )
    messages.register(
        "resource.archived", _("%(actor)s archived your draft %(title)s instead of publishing it."), _resource_link
    )
