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
    # The console's service accounts and Django's admin (issue 14, part D).
    describe.register(
        "service_account.moved",
        _("Service account moved"),
        _("%(actor)s gave the service account %(target)s to %(department)s."),
    )
    describe.register_detail(
        "previous_department", _("Previous department"), describe.DEPARTMENT, actions=("service_account.",)
    )
    describe.register(
        "person.superuser_set",
        _("Superuser changed"),
        lambda details: (
            gettext("%(actor)s let %(target)s into Django's administration as a superuser.")
            if details.get("superuser")
            else gettext("%(actor)s took %(target)s out of Django's administration.")
        ),
    )
    describe.register_detail("superuser", _("Superuser"), describe.BOOL, actions=("person.",))
    # People imports from CSV/XLSX (issue 14, part C: sharehub.org.people_import).
    from sharehub.org.queries import people_import_refs

    describe.register_area("org", _("Organization"))
    describe.register_target("org.peopleimport", people_import_refs)
    describe.register(
        "org.people_import_checked",
        _("People file checked"),
        _(
            "%(actor)s uploaded %(target)s to import people: %(create)s to add, %(update)s to change; "
            "rows with errors: %(error)s."
        ),
    )
    describe.register(
        "org.people_imported",
        _("People imported"),
        _(
            "%(actor)s imported people from %(target)s: %(created)s added, %(updated)s changed; "
            "rows skipped: %(skipped)s."
        ),
    )
    describe.register(
        "org.people_import_failed",
        _("People import failed"),
        _("The import of people from %(target)s by %(actor)s failed and wrote nothing: %(reason)s"),
    )
    describe.register(
        "org.people_import_discarded", _("People import discarded"), _("%(actor)s discarded the import %(target)s.")
    )
    people_imports = (
        "org.people_import_checked", "org.people_imported", "org.people_import_failed", "org.people_import_discarded",
    )  # fmt: skip
    describe.register_detail("file_name", _("File"), actions=people_imports)
    describe.register_detail("reason", _("Reason"), actions=people_imports)
    describe.register_detail("line", _("Line"), describe.NUMBER, actions=people_imports)
    for key, label in (
        ("create", _("To add")), ("update", _("To change")), ("unchanged", _("Unchanged")), ("error", _("With errors")),
        ("created", _("Added")), ("updated", _("Changed")), ("skipped", _("Skipped")),
    ):  # fmt: skip
        describe.register_detail(key, label, describe.NUMBER, actions=people_imports)
    # The department tree console (issue 14, part A: sharehub.org.tree). The merge's target is the department
    # that takes everything in (so the search index rereads its resources); the counts are registered with
    # each holding (tree.register_holding).
    describe.register(
        "department.merged",
        _("Departments merged"),
        _("%(actor)s merged the department %(merged)s into %(target)s."),
    )
    describe.register(
        "department.archived", _("Department archived"), _("%(actor)s archived the department %(target)s.")
    )
    describe.register(
        "department.restored",
        _("Department restored"),
        _("%(actor)s took the department %(target)s out of the archive."),
    )
    describe.register_detail("merged", _("Merged department"), describe.DEPARTMENT, actions=("department.merged",))
    # The people console and the handover wizard (issue 14, part B: sharehub.org.manage.people, sharehub.org.handover)
    describe.register(
        "person.handed_over",
        _("Handed over and deactivated"),
        _("%(actor)s handed over what %(target)s held to %(successors)s and deactivated them."),
    )
    describe.register_detail("language", _("Language of emails"), actions=("person.",))
    describe.register_detail("successors", _("Successors"), describe.PEOPLE, actions=("person.handed_over",))
    describe.register_detail("counts", _("Handed over"), actions=("person.handed_over",))
    describe.register_detail("recipients", "recipients", describe.HIDDEN, actions=("person.handed_over",))
