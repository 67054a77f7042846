"""What the exchange's notifications say (registered with feeds when the app is ready)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sharehub.feeds import messages


def _data_link(details: dict) -> str:
    return f"/resources/{details.get('code', '')}/data/"


def register() -> None:
    messages.register(
        "dataset.records_changed",
        _("%(actor)s updated the records of %(title)s: %(inserted)s new, %(updated)s changed."),
        _data_link,
    )
    messages.register("dataset.records_deleted", _("%(actor)s deleted %(deleted)s records of %(title)s."), _data_link)
