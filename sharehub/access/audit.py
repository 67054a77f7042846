"""How the access process's actions read on the audit page (registered with events when the app is ready)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sharehub.access.models import AccessRequest, CalendarDay, Grant
from sharehub.events import describe
from sharehub.policy.engine import Action, ProcessAction, can


def _ids(ids: set[str]) -> list[int]:
    return [int(i) for i in ids if i.isdigit() and len(i) <= 18]


def _requests(viewer, ids: set[str]) -> dict[str, describe.Ref]:
    """Requests by number, linked to their page for the parties to them (the policy's "see")."""
    found = {}
    for request in AccessRequest.objects.filter(pk__in=_ids(ids)).select_related("resource"):
        url = reverse("access:detail", args=[request.pk]) if can(viewer, ProcessAction.SEE, request) else ""
        found[str(request.pk)] = describe.Ref(gettext("#%(n)s") % {"n": request.pk}, "", url)
    return found


def _grants(viewer, ids: set[str]) -> dict[str, describe.Ref]:
    """Grants by their grantee; linked to the resource's grants for those who manage it."""
    found = {}
    grants = Grant.objects.filter(pk__in=_ids(ids)).select_related(
        "resource__owner_department", "grantee_user", "grantee_department"
    )
    for grant in grants:
        grantee = grant.grantee_user or grant.grantee_department
        url = ""
        if can(viewer, Action.MANAGE, grant.resource):
            url = reverse("access:resource_grants", args=[grant.resource.code])
        found[str(grant.pk)] = describe.Ref(str(grantee) if grantee else str(grant), "", url)
    return found


def _local_day(details: dict) -> str:
    if details.get("is_working_day"):
        return gettext("%(actor)s made %(date)s a working day: %(name)s.")
    return gettext("%(actor)s made %(date)s a day off: %(name)s.")


def register() -> None:
    describe.register_area("access", _("Access requests"))
    describe.register_area("grant", _("Grants"))
    describe.register_area("calendar", _("Working-day calendar"))
    describe.register_target("access.accessrequest", _requests)
    describe.register_target("access.grant", _grants)

    describe.register(
        "access.requested",
        _("Access requested"),
        _("%(actor)s requested access to %(resource)s (request %(target)s)."),
    )
    describe.register(
        "access.first_approved",
        _("First approval"),
        _("%(actor)s approved request %(target)s for %(resource)s at the first step; it now awaits the head."),
    )
    describe.register(
        "access.approved", _("Request approved"), _("%(actor)s approved request %(target)s for %(resource)s.")
    )
    describe.register(
        "access.rejected",
        _("Request rejected"),
        _("%(actor)s rejected request %(target)s for %(resource)s: %(reason)s"),
    )
    describe.register(
        "access.info_asked",
        _("Information asked"),
        _("%(actor)s asked for more information on request %(target)s for %(resource)s: %(question)s"),
    )
    describe.register(
        "access.info_given",
        _("Information given"),
        _("%(actor)s answered on request %(target)s for %(resource)s."),
    )
    describe.register(
        "access.withdrawn", _("Request withdrawn"), _("%(actor)s withdrew request %(target)s for %(resource)s.")
    )
    describe.register(
        "access.reminder",
        _("Deadline reminder"),
        _("%(actor)s reminded the deciders that request %(target)s for %(resource)s is due %(deadline)s."),
    )
    describe.register(
        "access.escalated",
        _("Overdue request escalated"),
        _("%(actor)s escalated request %(target)s for %(resource)s: it was due %(deadline)s."),
    )
    describe.register(
        "grant.created",
        _("Grant created"),
        _("%(actor)s granted %(target)s access to %(resource)s until %(valid_until)s."),
    )
    describe.register(
        "grant.revoked",
        _("Grant revoked"),
        _("%(actor)s revoked the access of %(target)s to %(resource)s: %(reason)s"),
    )
    describe.register(
        "grant.expiring",
        _("Grant ending soon"),
        _("The access of %(target)s to %(resource)s ends on %(valid_until)s."),
    )
    describe.register(
        "grant.expired",
        _("Grant ended"),
        _("The access of %(target)s to %(resource)s ended on %(valid_until)s."),
    )
    describe.register("calendar.local_day_added", _("Local calendar day added"), _local_day)
    describe.register(
        "calendar.local_day_removed",
        _("Local calendar day removed"),
        _("%(actor)s removed the local calendar day %(date)s (%(name)s)."),
    )
    describe.register(
        "calendar.official_loaded",
        _("Official calendar loaded"),
        _(
            "%(actor)s loaded the official calendar of %(year)s: %(added)s days added, %(changed)s changed, "
            "%(removed)s removed."
        ),
    )

    statuses = dict(AccessRequest.Status.choices)
    describe.register_detail("request", "request", describe.HIDDEN, actions=("access.",))
    describe.register_detail("request", _("Request"), describe.ref("access.accessrequest"), actions=("grant.",))
    describe.register_detail("grant", "grant", describe.HIDDEN, actions=("access.", "grant."))
    describe.register_detail("status", _("Status"), describe.CHOICE, choices=statuses, actions=("access.",))
    describe.register_detail("period_days", _("Period (days)"), describe.NUMBER, actions=("access.",))
    describe.register_detail("asked_period_days", _("Period asked (days)"), describe.NUMBER, actions=("access.",))
    describe.register_detail(
        "use_category",
        _("Use"),
        describe.CHOICE,
        choices=dict(AccessRequest.UseCategory.choices),
        actions=("access.",),
    )
    describe.register_detail("for_department", _("For the department"), describe.DEPARTMENT, actions=("access.",))
    describe.register_detail("deadline", _("Deadline"), describe.DATETIME, actions=("access.",))
    describe.register_detail(
        "narrowed",
        _("Narrower than asked"),
        describe.CHOICES,
        choices={
            "period_days": _("a shorter period"),
            "fields": _("fewer fields"),
            "requester_only": _("the requester only"),
        },
        actions=("access.",),
    )
    describe.register_detail("fields_cut", "fields_cut", describe.HIDDEN, actions=("access.",))  # labels below
    describe.register_detail("fields_cut_labels", _("Fields left out"), describe.LIST, actions=("access.",))
    describe.register_detail("department_name", _("Department left out"), actions=("access.",))
    describe.register_detail("question", _("Question"), actions=("access.",))
    describe.register_detail("answer", _("Answer"), actions=("access.",))
    describe.register_detail("attachment", _("Attached file"), actions=("access.",))
    describe.register_detail("valid_until", _("Valid until"), describe.DATETIME, actions=("grant.",))
    describe.register_detail("date", _("Date"), describe.DATE, actions=("calendar.",))
    describe.register_detail("is_working_day", _("Working day"), describe.BOOL, actions=("calendar.",))
    describe.register_detail(
        "source", _("Source"), describe.CHOICE, choices=dict(CalendarDay.Source.choices), actions=("calendar.",)
    )
    describe.register_detail("replaces", _("Replaces"), actions=("calendar.",))
    describe.register_detail("year", _("Year"), actions=("calendar.",))
    describe.register_detail("package", _("Package"), actions=("calendar.",))
    for key, label in (
        ("added", _("Added")),
        ("changed", _("Changed")),
        ("removed", _("Removed")),
        ("kept", _("Kept")),
    ):
        describe.register_detail(key, label, describe.NUMBER, actions=("calendar.",))
    # The organization's settings page (issue 14, part D).
    describe.register(
        "access.settings_changed",
        _("Access settings changed"),
        _("%(actor)s changed the deadlines of access requests."),
    )
    describe.register(
        "access.approval_rule_set",
        _("Approval rule changed"),
        lambda details: (
            gettext("%(actor)s made the head of %(target)s also decide requests from other departments.")
            if details.get("head_for_outsiders")
            else gettext("%(actor)s let the stewards of %(target)s decide requests alone.")
        ),
    )
    for key, label in (
        ("decision_working_days", _("Decision deadline (working days)")),
        ("reminder_working_days", _("Reminder before the deadline (working days)")),
        ("expiry_notice_days", _("Notice before a grant ends (days)")),
    ):
        describe.register_detail(key, label, describe.NUMBER, actions=("access.settings_changed",))
    describe.register_detail(
        "head_for_outsiders", _("Head also decides"), describe.BOOL, actions=("access.approval_rule_set",)
    )
    describe.register_detail(
        "trusted_departments",
        _("Departments that need no second step"),
        describe.DEPARTMENTS,
        actions=("access.approval_rule_set",),
    )
