"""What the conditional-sharing process holds per department, for the department tree's merge
(sharehub.org.tree, registered in AccessConfig.ready): grants given to the department, requests made for it,
and its approval rule (and the rules of others that trust it)."""

from __future__ import annotations

from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sharehub.access.models import AccessRequest, ApprovalRule, Grant
from sharehub.org import tree
from sharehub.org.models import Department

Trusted = ApprovalRule.trusted_departments.through


def _active_grants():
    return Grant.objects.filter(revoked_at__isnull=True, valid_until__gt=timezone.now())


def _count_grants(ids: list[int]) -> dict[int, int]:
    return tree.count_by(_active_grants(), "grantee_department_id", ids)


def _grant_examples(department: Department, limit: int) -> list[str]:
    found = _active_grants().filter(grantee_department=department).select_related("resource").order_by("valid_until")
    return [
        gettext("%(resource)s until %(date)s")
        % {
            "resource": f"{g.resource.code} {g.resource.title}",
            "date": formats.date_format(timezone.localtime(g.valid_until), "SHORT_DATE_FORMAT"),
        }
        for g in found[:limit]
    ]


def _move_grants(source: Department, target: Department) -> None:
    """Every grant to the source (ended and revoked ones too, for the record) is the target's now."""
    Grant.objects.filter(grantee_department=source).update(grantee_department=target)


def _open_requests():
    return AccessRequest.objects.filter(status__in=AccessRequest.OPEN_STATUSES)


def _count_requests(ids: list[int]) -> dict[int, int]:
    return tree.count_by(_open_requests(), "for_department_id", ids)


def _request_examples(department: Department, limit: int) -> list[str]:
    found = _open_requests().filter(for_department=department).select_related("resource").order_by("deadline_at")
    return [f"#{r.pk} {r.resource.code} {r.resource.title}" for r in found[:limit]]


def _move_requests(source: Department, target: Department) -> None:
    AccessRequest.objects.filter(for_department=source).update(for_department=target)


def _count_rules(ids: list[int]) -> dict[int, int]:
    """Its own approval rule (0 or 1) and the rules of other departments that trust it."""
    own = tree.count_by(ApprovalRule.objects.all(), "department_id", ids)
    trusting = tree.count_by(Trusted.objects.all(), "department_id", ids)
    return {pk: own.get(pk, 0) + trusting.get(pk, 0) for pk in set(own) | set(trusting)}


def _rule_examples(department: Department, limit: int) -> list[str]:
    found = []
    rule = ApprovalRule.objects.filter(department=department).first()
    if rule is not None:
        found.append(
            gettext("Its own: the head also decides requests from other departments")
            if rule.head_for_outsiders
            else gettext("Its own: stewards decide alone")
        )
    trusting = ApprovalRule.objects.filter(trusted_departments=department).select_related("department")
    found += [gettext("Trusted by %(dept)s") % {"dept": r.department.name} for r in trusting[: max(limit - 1, 1)]]
    return found[:limit]


def _move_rules(source: Department, target: Department) -> None:
    """The target keeps its own rule if it has one (the source's is dropped), else takes the source's. Rules
    that trusted the source trust the target; the target's own rule does not list itself."""
    if ApprovalRule.objects.filter(department=target).exists():
        ApprovalRule.objects.filter(department=source).delete()
    else:
        ApprovalRule.objects.filter(department=source).update(department=target)
    Trusted.objects.filter(
        department=source, approvalrule_id__in=Trusted.objects.filter(department=target).values("approvalrule_id")
    ).delete()
    Trusted.objects.filter(department=source).update(department=target)
    Trusted.objects.filter(Q(department=target) & Q(approvalrule__department=target)).delete()


def register() -> None:
    tree.register_holding(
        "grants",
        _("Grants given to it"),
        count=_count_grants,
        examples=_grant_examples,
        move=_move_grants,
        on_merge=_("The target holds them, until the same dates."),
        order=60,
    )
    tree.register_holding(
        "access_requests",
        _("Open requests made for it"),
        count=_count_requests,
        examples=_request_examples,
        move=_move_requests,
        on_merge=_("They are requests for the target now."),
        order=62,
    )
    tree.register_holding(
        "approval_rules",
        _("Approval rules"),
        count=_count_rules,
        examples=_rule_examples,
        move=_move_rules,
        on_merge=_("If the target has its own rule it keeps it and this one is dropped; rules that trust this "
                   "department trust the target."),
        order=64,
    )  # fmt: skip
