"""What a person holds in notifications, for the handover when they leave (sharehub.org.handover,
registered in FeedsConfig.ready): the webhooks they registered (turned off) and what they follow (kept for
their return; a deactivated person is told nothing)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from sharehub.feeds import webhooks
from sharehub.feeds.models import Follow, WebhookEndpoint
from sharehub.org import handover
from sharehub.org.models import User

OWNER_LEFT = gettext_noop("Its owner left the organization.")


def _webhooks_held(person: User):
    endpoints = WebhookEndpoint.objects.filter(owner=person, active=True).select_related("department")
    rows = list(endpoints.order_by("pk")[: handover.SHOWN])
    count = endpoints.count() if len(rows) == handover.SHOWN else len(rows)
    items = [
        handover.Item(
            label=e.description or e.url,
            key=e.pk,
            department_id=e.department_id,
            detail=e.department.name if e.department_id else e.url,
        )
        for e in rows
    ]
    return items, count


def _turn_off(actor, person: User, plan) -> int:
    """Turn off each active webhook they registered (it sends what its owner may see: nothing, once they are
    deactivated); a steward of its department can turn it on again."""
    endpoints = list(WebhookEndpoint.objects.filter(owner=person, active=True).order_by("pk"))
    for endpoint in endpoints:
        webhooks.change(actor, endpoint, active=False)  # turning off checks no address (no name resolved)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(disabled_reason=OWNER_LEFT)
    return len(endpoints)


def _follows_held(person: User):
    follows = Follow.objects.filter(person=person)
    count = follows.count()
    return [], count


def register() -> None:
    handover.register(
        handover.Part(
            key="webhooks",
            title=_("Webhooks they registered"),
            outcome=_("Turned off; a steward of its department can turn it on again."),
            held=_webhooks_held,
            hand_over=_turn_off,
            order=60,
            on_leave=True,
        )
    )
    handover.register(
        handover.Part(
            key="follows",
            title=_("What they follow"),
            outcome=_("Kept for their return; they are told nothing while deactivated."),
            held=_follows_held,
            order=70,
        )
    )
