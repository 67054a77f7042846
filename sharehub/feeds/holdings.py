"""What notifications hold per department, for the department tree's merge (sharehub.org.tree, registered
in FeedsConfig.ready): what the department is subscribed to, who follows the department, and the webhooks
it registered (or that only send events of its resources)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sharehub.feeds.models import Follow, WebhookEndpoint
from sharehub.org import tree
from sharehub.org.models import Department

Kind = Follow.Kind


def _count_subscriptions(ids: list[int]) -> dict[int, int]:
    return tree.count_by(Follow.objects.filter(department__isnull=False), "department_id", ids)


def _subscription_examples(department: Department, limit: int) -> list[str]:
    kinds = dict(Kind.choices)
    found = Follow.objects.filter(department=department).order_by("-created_at", "-id")
    return [
        f"{kinds.get(kind, kind)} #{target_id}" for kind, target_id in found.values_list("kind", "target_id")[:limit]
    ]


def _move_subscriptions(source: Department, target: Department) -> None:
    """The target is subscribed to what the source was (once, when it was already subscribed too)."""
    theirs = Follow.objects.filter(department=target)
    for kind in Kind.values:
        Follow.objects.filter(
            department=source, kind=kind, target_id__in=theirs.filter(kind=kind).values("target_id")
        ).delete()
    Follow.objects.filter(department=source).update(department=target)


def _followers():
    return Follow.objects.filter(kind=Kind.DEPARTMENT)


def _count_followers(ids: list[int]) -> dict[int, int]:
    return tree.count_by(_followers(), "target_id", ids)


def _follower_examples(department: Department, limit: int) -> list[str]:
    found = _followers().filter(target_id=department.pk).select_related("person", "department")
    return [str(f.person or f.department) for f in found.order_by("-created_at", "-id")[:limit]]


def _move_followers(source: Department, target: Department) -> None:
    """Who followed the source follows the target (once); the target does not follow itself."""
    mine, theirs = _followers().filter(target_id=source.pk), _followers().filter(target_id=target.pk)
    mine.filter(person_id__in=theirs.filter(person__isnull=False).values("person_id")).delete()
    mine.filter(department_id__in=theirs.filter(department__isnull=False).values("department_id")).delete()
    mine.update(target_id=target.pk)
    _followers().filter(target_id=target.pk, department=target).delete()


def _count_webhooks(ids: list[int]) -> dict[int, int]:
    return tree.count_by(WebhookEndpoint.objects.all(), "department_id", ids)


def _webhook_examples(department: Department, limit: int) -> list[str]:
    found = WebhookEndpoint.objects.filter(department=department).order_by("-created_at", "-id")
    return [f"{e.description} ({e.url})" if e.description else e.url for e in found[:limit]]


def _move_webhooks(source: Department, target: Department) -> None:
    """The target owns the source's endpoints; filters naming the source name the target."""
    WebhookEndpoint.objects.filter(department=source).update(department=target)
    for pk, ids in list(WebhookEndpoint.objects.values_list("pk", "department_filter")):
        if isinstance(ids, list) and source.pk in ids:
            renamed = list(dict.fromkeys(target.pk if d == source.pk else d for d in ids))
            WebhookEndpoint.objects.filter(pk=pk).update(department_filter=renamed)


def register() -> None:
    tree.register_holding(
        "subscriptions",
        _("Its subscriptions"),
        count=_count_subscriptions,
        examples=_subscription_examples,
        move=_move_subscriptions,
        on_merge=_("The target is subscribed instead."),
        order=70,
    )
    tree.register_holding(
        "followers",
        _("Followers"),
        count=_count_followers,
        examples=_follower_examples,
        move=_move_followers,
        on_merge=_("They follow the target instead."),
        order=72,
    )
    tree.register_holding(
        "webhooks",
        _("Webhooks"),
        count=_count_webhooks,
        examples=_webhook_examples,
        move=_move_webhooks,
        on_merge=_("The target owns them; filters on this department name the target."),
        order=74,
    )
