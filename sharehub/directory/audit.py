"""How directory sign-in's actions read on the audit page (registered with events when the app is ready)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sharehub.directory.models import DirectoryAccount, MappingRule
from sharehub.events import describe
from sharehub.org.models import Membership

SYNC_COUNTS = {
    "people": _("People in the directory"),
    "created": _("People added"),
    "linked": _("People linked"),
    "updated": _("Profiles updated"),
    "memberships_set": _("Department roles set"),
    "memberships_removed": _("Removed from departments"),
    "deactivated": _("People deactivated"),
    "reactivated": _("People reactivated"),
    "grants_ended": _("Grants ended"),
    "refused": _("People refused"),
}


def register() -> None:
    describe.register_area("directory", _("Directory sign-in"))
    describe.register(
        "directory.account_linked",
        _("Linked to a directory"),
        _("%(target)s was linked to their account in %(source)s."),
    )
    describe.register(
        "directory.person_left",
        _("Left the directory"),
        _("%(target)s is no longer in the directory: deactivated, %(grants_ended)s of their grants ended."),
    )
    describe.register(
        "directory.rule_created", _("Mapping rule added"), _("%(actor)s added the mapping rule %(target)s.")
    )
    describe.register(
        "directory.rule_updated", _("Mapping rule changed"), _("%(actor)s changed the mapping rule %(target)s.")
    )
    describe.register(
        "directory.rule_deleted", _("Mapping rule deleted"), _("%(actor)s deleted the mapping rule %(target)s.")
    )
    describe.register(
        "directory.rule_moved", _("Mapping rule moved"), _("%(actor)s moved the mapping rule %(target)s %(direction)s.")
    )
    describe.register("directory.synced", _("Directory synced"), _("The directory sync read %(people)s people."))

    describe.register_detail(
        "source",
        _("Directory"),
        describe.CHOICE,
        choices=dict(DirectoryAccount.Source.choices),
        actions=("directory.",),
    )
    describe.register_detail("external_id", _("Identifier in the directory"), actions=("directory.",))
    describe.register_detail(
        "kind", _("Matches on"), describe.CHOICE, choices=dict(MappingRule.Kind.choices), actions=("directory.",)
    )
    describe.register_detail("attribute", _("Attribute"), actions=("directory.",))
    describe.register_detail("value", _("Value"), actions=("directory.",))
    describe.register_detail(
        "role", _("Role"), describe.CHOICE, choices=dict(Membership.Role.choices), actions=("directory.",)
    )
    describe.register_detail("is_active", _("Active"), describe.BOOL, actions=("directory.",))
    describe.register_detail("position", _("Position"), describe.NUMBER, actions=("directory.",))
    describe.register_detail(
        "direction",
        _("Direction"),
        describe.CHOICE,
        choices={"up": _("up"), "down": _("down")},
        actions=("directory.",),
    )
    for key, label in SYNC_COUNTS.items():
        describe.register_detail(key, label, describe.NUMBER, actions=("directory.",))
