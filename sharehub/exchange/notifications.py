"""What the exchange app's notifications say (registered with feeds when the app is ready)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sharehub.feeds import messages


def _data_link(details: dict) -> str:
    return f"/resources/{details.get('code', '')}/data/"


def _corrections_link(details: dict) -> str:
    return f"/resources/{details.get('code', '')}/data/corrections/"


def register() -> None:
    messages.register(
        "dataset.records_changed",
        _("%(actor)s updated the records of %(title)s: %(inserted)s new, %(updated)s changed."),
        _data_link,
    )
    messages.register("dataset.records_deleted", _("%(actor)s deleted %(deleted)s records of %(title)s."), _data_link)
    messages.register(
        "dataset.correction_reported", _("%(actor)s reports a wrong value in %(title)s."), _corrections_link
    )
    messages.register("dataset.correction_accepted", _("Your correction to %(title)s was accepted."), _corrections_link)
    messages.register(
        "dataset.correction_rejected", _("Your correction to %(title)s was rejected: %(reason)s"), _corrections_link
    )
    messages.register("dataset.correction_due", _("A correction to %(title)s is due soon."), _corrections_link)
    messages.register("dataset.correction_overdue", _("A correction to %(title)s is overdue."), _corrections_link)
