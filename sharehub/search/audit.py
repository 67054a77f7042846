"""How search's actions read on the audit page (registered with events when the app is ready)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sharehub.events import describe


def register() -> None:
    describe.register_area("search", _("Search"))
    describe.register(
        "search.term_added", _("Dictionary word added"), _("%(actor)s added “%(text)s” to the search dictionary.")
    )
    describe.register(
        "search.term_removed",
        _("Dictionary word removed"),
        _("%(actor)s removed “%(text)s” from the search dictionary."),
    )
    describe.register("search.saved", _("Search saved"), _("%(actor)s saved the search %(target)s (“%(query)s”)."))
    describe.register(
        "search.saved_deleted", _("Saved search deleted"), _("%(actor)s deleted the saved search %(target)s.")
    )
    describe.register_detail("text", _("Word"), actions=("search.",))
    describe.register_detail("query", _("Search words"), actions=("search.",))
