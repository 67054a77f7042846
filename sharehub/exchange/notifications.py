"""What the exchange app's notifications say (registered with feeds when the app is ready)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sharehub.feeds import messages


def _corrections_link(details: dict) -> str:
    return f"/datasets/{details.get('code', '')}/corrections/"


def register() -> None:
    messages.register(
        "dataset.correction_reported", _("%(actor)s reports a wrong value in %(title)s."), _corrections_link
    )
    messages.register("dataset.correction_accepted", _("Your correction to %(title)s was accepted."), _corrections_link)
    messages.register(
        "dataset.correction_rejected", _("Your correction to %(title)s was rejected: %(reason)s"), _corrections_link
    )
    messages.register("dataset.correction_due", _("A correction to %(title)s is due soon."), _corrections_link)
    messages.register("dataset.correction_overdue", _("A correction to %(title)s is overdue."), _corrections_link)
