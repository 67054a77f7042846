"""What a person holds in the conditional-sharing process, for the handover when they leave
(sharehub.org.handover, registered in AccessConfig.ready): requests waiting for them as the only decider,
their own open requests (withdrawn), the grants in their own name (ended)."""

from __future__ import annotations

from collections import Counter

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sharehub.access import services
from sharehub.access.models import AccessRequest, Grant, RequestNote
from sharehub.org import handover
from sharehub.org.models import Membership, User

Status = AccessRequest.Status
MANAGERS = (Membership.Role.STEWARD, Membership.Role.HEAD)


def _item(access_request: AccessRequest, detail: str = "") -> handover.Item:
    resource = access_request.resource
    return handover.Item(
        label=f"#{access_request.pk} {resource.code} {resource.title}",
        key=access_request.pk,
        department_id=resource.owner_department_id,
        detail=detail,
        url=reverse("access:detail", args=[access_request.pk]),
    )


def _listed(queryset, detail=lambda r: "") -> tuple[list[handover.Item], int]:
    rows = list(queryset.select_related("resource", "requester").order_by("deadline_at", "pk")[: handover.SHOWN])
    count = queryset.count() if len(rows) == handover.SHOWN else len(rows)
    return [_item(r, detail(r)) for r in rows], count


def waiting_for_only_decider(person: User):
    """Open requests of departments where the person is the only active steward or head (the only head, at
    the head's step): nobody else would decide them."""
    own = dict(Membership.objects.filter(user=person, role__in=MANAGERS).values_list("department_id", "role"))
    if not own:
        return AccessRequest.objects.none()
    others = Counter(
        Membership.objects.filter(department_id__in=list(own), user__is_active=True, role__in=MANAGERS)
        .exclude(user=person)
        .values_list("department_id", "role")
    )
    alone = [d for d in own if not others[(d, Membership.Role.STEWARD)] and not others[(d, Membership.Role.HEAD)]]
    only_head = [d for d, role in own.items() if role == Membership.Role.HEAD and not others[(d, Membership.Role.HEAD)]]
    return AccessRequest.objects.filter(
        Q(status=Status.PENDING, resource__owner_department_id__in=alone)
        | Q(status=Status.PENDING_HEAD, resource__owner_department_id__in=only_head)
    )


def _waiting_held(person: User):
    return _listed(waiting_for_only_decider(person), lambda r: r.requester.display_name or r.requester.username)


def _own_open(person: User):
    return AccessRequest.objects.filter(requester=person, status__in=AccessRequest.OPEN_STATUSES)


def _own_held(person: User):
    return _listed(_own_open(person), lambda r: r.get_status_display())


def _withdraw_own(actor, person: User, plan) -> int:
    """Withdraw each of their open requests on their behalf: its history says so, its deciders are told."""
    withdrawn = 0
    for access_request in _own_open(person).order_by("pk"):
        access_request = services._locked_request(access_request)
        if not access_request.is_open:
            continue
        access_request.status = Status.WITHDRAWN
        access_request.decided_at = timezone.now()
        access_request.save(update_fields=["status", "decided_at"])
        owner = access_request.resource.owner_department_id
        text = plan.reason or gettext("Withdrawn because the requester left.")
        services._log_step(
            actor, access_request, RequestNote.Kind.WITHDRAWN, "access.withdrawn", services._managers(owner), text
        )
        withdrawn += 1
    return withdrawn


def _personal_grants(person: User):
    return Grant.objects.filter(grantee_user=person, revoked_at__isnull=True, valid_until__gt=timezone.now())


def _grants_held(person: User):
    grants = _personal_grants(person).select_related("resource").order_by("valid_until", "pk")
    rows = list(grants[: handover.SHOWN])
    count = grants.count() if len(rows) == handover.SHOWN else len(rows)
    items = [
        handover.Item(
            label=f"{g.resource.code} {g.resource.title}",
            key=g.pk,
            department_id=g.resource.owner_department_id,
            detail=gettext("until %(date)s") % {"date": timezone.localtime(g.valid_until).date().isoformat()},
        )
        for g in rows
    ]
    return items, count


def _end_grants(actor, person: User, plan) -> int:
    reason = plan.reason or gettext("%(name)s left the organization; their grants end with their account.") % {
        "name": person
    }
    return services.end_personal_grants(person, reason=reason)


def register() -> None:
    handover.register(
        handover.Part(
            key="waiting_requests",
            title=_("Requests waiting for them as the only decider"),
            outcome=_("They wait for the successor in the department."),
            held=_waiting_held,
            order=30,
        )
    )
    handover.register(
        handover.Part(
            key="own_requests",
            title=_("Their own open requests"),
            outcome=_("Withdrawn."),
            held=_own_held,
            hand_over=_withdraw_own,
            order=40,
            on_leave=True,
        )
    )
    handover.register(
        handover.Part(
            key="grants",
            title=_("Grants in their own name"),
            outcome=_("Ended now, each with the reason."),
            held=_grants_held,
            hand_over=_end_grants,
            order=50,
            on_leave=True,
        )
    )
