"""How the organization's actions read on the audit page (registered with events when the app is ready)."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sharehub.events import describe
from sharehub.org.models import Membership


def _department_created(details: dict) -> str:
    if details.get("parent"):
        return gettext("%(actor)s created the department %(target)s under %(parent)s.")
    return gettext("%(actor)s created the department %(target)s.")


def _department_moved(details: dict) -> str:
    if details.get("parent"):
        return gettext("%(actor)s moved the department %(target)s under %(parent)s.")
    return gettext("%(actor)s moved the department %(target)s to the top level.")


def _person_updated(details: dict) -> str:
    if details.get("is_active") is False:
        return gettext("%(actor)s deactivated %(target)s.")
    if details.get("is_active") is True:
        return gettext("%(actor)s reactivated %(target)s.")
    return gettext("%(actor)s changed the profile of %(target)s.")


def _password_set(details: dict) -> str:
    if details.get("usable") is False:
        return gettext("%(actor)s turned off password sign-in for %(target)s.")
    return gettext("%(actor)s set a new password for %(target)s.")


def _membership_set(details: dict) -> str:
    if details.get("previous_role"):
        return gettext("%(actor)s changed the role of %(target)s in %(department)s from %(previous_role)s to %(role)s.")
    return gettext("%(actor)s added %(target)s to %(department)s as %(role)s.")


def register() -> None:
    describe.register_area("auth", _("Sign-in"))
    describe.register_area("department", _("Departments"))
    describe.register_area("person", _("People"))
    describe.register_area("membership", _("Memberships"))
    describe.register_area("service_account", _("Service accounts"))
    describe.register_area("token", _("API tokens"))

    describe.register("auth.login", _("Signed in"), _("%(actor)s signed in from %(address)s."))
    describe.register("auth.logout", _("Signed out"), _("%(actor)s signed out."))
    describe.register(
        "auth.login_failed", _("Failed sign-in"), _("Someone failed to sign in as %(target)s from %(address)s.")
    )
    describe.register(
        "auth.unlocked", _("Sign-in pause lifted"), _("%(actor)s lifted the sign-in pause of %(target)s.")
    )
    describe.register("department.created", _("Department created"), _department_created)
    describe.register("department.updated", _("Department changed"), _("%(actor)s changed the department %(target)s."))
    describe.register("department.moved", _("Department moved"), _department_moved)
    describe.register("person.created", _("Person added"), _("%(actor)s added %(target)s."))
    describe.register("person.updated", _("Profile changed"), _person_updated)
    describe.register("person.password_set", _("Password set by an admin"), _password_set)
    describe.register("person.password_changed", _("Own password changed"), _("%(actor)s changed their own password."))
    describe.register(
        "person.roles_changed",
        _("Organization roles changed"),
        _("%(actor)s changed the organization roles of %(target)s."),
    )
    describe.register("membership.set", _("Department role set"), _membership_set)
    describe.register(
        "membership.removed", _("Removed from a department"), _("%(actor)s removed %(target)s from %(department)s.")
    )
    describe.register(
        "service_account.created",
        _("Service account created"),
        _("%(actor)s created the service account %(target)s."),
    )
    describe.register(
        "token.issued", _("API token issued"), _("%(actor)s issued the API token “%(name)s” to %(target)s.")
    )
    describe.register(
        "token.revoked", _("API token revoked"), _("%(actor)s revoked the API token “%(name)s” of %(target)s.")
    )
    describe.register(
        "token.expiring",
        _("API token ending soon"),
        _("The API token “%(name)s” of %(target)s ends on %(expires_at)s."),
    )

    roles = dict(Membership.Role.choices)
    describe.register_detail("address", _("Network address"), actions=("auth.",))
    describe.register_detail("username", _("Login name"), actions=("auth.",))
    describe.register_detail("code", _("Code"), actions=("department.",))
    describe.register_detail("parent", _("Parent department"), describe.DEPARTMENT, actions=("department.",))
    describe.register_detail("description", _("Description"), actions=("department.",))
    describe.register_detail("username", _("Login name"), actions=("person.", "service_account."))
    describe.register_detail("display_name", _("Display name"), actions=("person.",))
    describe.register_detail("email", _("Email address"), actions=("person.",))
    describe.register_detail("time_zone", _("Time zone"), actions=("person.",))
    describe.register_detail("is_active", _("Active"), describe.BOOL, actions=("person.",))
    describe.register_detail("usable", _("Password sign-in"), describe.BOOL, actions=("person.",))
    describe.register_detail("admin", _("Organization admin"), describe.BOOL, actions=("person.",))
    describe.register_detail("auditor", _("Auditor"), describe.BOOL, actions=("person.",))
    describe.register_detail("role", _("Role"), describe.CHOICE, choices=roles, actions=("membership.",))
    describe.register_detail(
        "previous_role", _("Previous role"), describe.CHOICE, choices=roles, actions=("membership.",)
    )
    describe.register_detail("token", "token", describe.HIDDEN, actions=("token.",))  # the prefix names it
    describe.register_detail("prefix", _("Token prefix"), describe.DIGEST, actions=("token.",))
    describe.register_detail("scopes", _("Scopes"), describe.LIST, actions=("token.",))
    describe.register_detail("expires_at", _("Expires"), describe.DATETIME, actions=("token.",))
    for key in ("owner", "owner_is_service"):  # the target names the owner, a service account marked as such
        describe.register_detail(key, key, describe.HIDDEN, actions=("token.",))
