"""How the details every app shares read on the audit page (each app registers its own actions)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sharehub.events import describe

# The ways in (`via` of reads and writes), named by the apps that record them.
VIA = {
    "page": _("the web page"),
    "api": _("the API"),
    "search": _("search"),
    "edit": _("the edit form"),
    "diff": _("a version comparison"),
    "download": _("a download"),
    "inbound": _("an inbound webhook"),
    "cli": _("the command line"),
    "overlap": _("the one-source check"),
    "demo": _("the demo loader"),
}


def register() -> None:
    for key in ("code", "title", "resource_id"):  # they repeat the target, named with its title and code
        describe.register_detail(key, key, describe.HIDDEN)
    describe.register_detail("recipients", _("Notified"), describe.PEOPLE)
    describe.register_detail("resource", _("Resource"), describe.RESOURCE)
    describe.register_detail("resources", _("Resources"), describe.RESOURCES)
    describe.register_detail("department", _("Department"), describe.DEPARTMENT)
    describe.register_detail("departments", _("Departments"), describe.DEPARTMENTS)
    describe.register_detail("via", _("Through"), describe.CHOICE, choices=VIA)
    describe.register_detail("reason", _("Reason"))
    describe.register_detail("note", _("Note"))
    describe.register_detail("name", _("Name"))
    describe.register_detail("fields", _("Fields"), describe.LIST)
    describe.register_detail("status", _("Status"))
    describe.register_detail("version", _("Version"), describe.NUMBER)
    describe.register_detail("count", _("Count"), describe.NUMBER)
