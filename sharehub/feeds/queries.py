"""A person's own notifications."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sharehub.catalog.models import Project, Resource
from sharehub.errors import NotFound
from sharehub.feeds import messages
from sharehub.feeds.messages import named_resource, render
from sharehub.feeds.models import Follow, InboundHook, Notification, SearchMatch, WebhookEndpoint
from sharehub.org.models import Department, Membership
from sharehub.org.queries import person_labels
from sharehub.policy.engine import Action, connectable_departments, context_for, decide_owned, owned_filter, visible
from sharehub.search.forms import saved_search_url
from sharehub.search.models import SavedSearch

# What a notification is about, for the list's filter: event action prefixes, or being a follower.
TOPICS = {
    "requests": (gettext_lazy("Requests"), Q(event__action__startswith="access.")),
    "grants": (gettext_lazy("Grants"), Q(event__action__startswith="grant.")),
    "resources": (gettext_lazy("Resources"), Q(event__action__startswith="resource.")),
    "data": (gettext_lazy("Data"), Q(event__action__startswith="dataset.")),
    "following": (
        gettext_lazy("Following"),
        Q(reason__in=[Notification.Reason.FOLLOWING, Notification.Reason.SEARCH]),
    ),
}


def notifications_of(actor, *, unread_only: bool = False, topic: str = "") -> QuerySet[Notification]:
    """The actor's notifications, newest first; `topic` one of TOPICS (anything else: all)."""
    queryset = Notification.objects.filter(recipient_id=getattr(actor, "pk", None)).select_related("event")
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    if topic in TOPICS:
        queryset = queryset.filter(TOPICS[topic][1])
    return queryset.order_by("-created_at", "-id")


def unread_count(actor) -> int:
    return notifications_of(actor, unread_only=True).count()


def shown(actor, notifications, people: dict | None = None) -> list[tuple[Notification, str, str]]:
    """(notification, sentence, link) for each, in the active language. A resource the actor may not
    see now is not named, whatever they could see when the event happened (invariant 10), and a
    notification they had only because they follow it is left out: one filtered query for the whole
    page, and one for the people named (unless `people` is given)."""
    notifications = list(notifications)
    if people is None:
        people = person_labels({n.event.actor_id for n in notifications})
    named = {named_resource(n.event) for n in notifications} - {None}
    seen = set()
    if named:
        seen = set(visible(actor, Resource.objects.filter(pk__in=named), Action.VIEW).values_list("pk", flat=True))
    hidden = named - seen
    unseen_targets = messages.unseen_targets(actor, [n.event for n in notifications])
    searches = _matched_searches([n.pk for n in notifications if n.reason == Notification.Reason.SEARCH])
    rows = []
    for n in notifications:
        unseen = named_resource(n.event) in hidden or messages.checked_target(n.event) in unseen_targets
        followed = n.reason in (Notification.Reason.FOLLOWING, Notification.Reason.SEARCH)
        if followed and unseen:
            continue
        rows.append((n, *render(n.event, people, hidden=unseen, followed=followed, search=searches.get(n.pk, ""))))
    return rows


def _matched_searches(notification_ids: list[int]) -> dict[int, str]:
    """The name of the saved search each of these new-match notifications is about."""
    if not notification_ids:
        return {}
    names: dict[int, str] = {}
    rows = SearchMatch.objects.filter(notification_id__in=notification_ids).order_by("saved_search__name")
    for notification_id, name in rows.values_list("notification_id", "saved_search__name"):
        names.setdefault(notification_id, name)
    return names


def newest_notification_id(actor) -> int:
    return Notification.objects.filter(recipient_id=actor.pk).order_by("-id").values_list("id", flat=True).first() or 0


def notifications_after(actor, after: int, limit: int) -> list[Notification]:
    """The actor's notifications with ids above `after`, oldest first (the live stream's order)."""
    return list(
        Notification.objects.filter(recipient_id=actor.pk, pk__gt=after).select_related("event").order_by("id")[:limit]
    )


@dataclass(frozen=True)
class FollowRow:
    follow: Follow
    label: str
    link: str
    via_department: str = ""  # the department whose subscription this is ("" for the person's own)


def _labels(actor, pairs: set[tuple[str, int]]) -> dict[tuple[str, int], tuple[str, str]]:
    """(label, link) of each followed thing the actor may see now; what they may not see is left out."""
    from sharehub.feeds.follows import _MODELS, Kind

    by_kind: dict[str, set[int]] = {}
    for kind, number in pairs:
        by_kind.setdefault(kind, set()).add(number)
    out = {}
    resource_ids = by_kind.get(Kind.RESOURCE, set()) | by_kind.get(Kind.DATASET, set())
    if resource_ids:
        rows = visible(actor, Resource.objects.filter(pk__in=resource_ids), Action.VIEW).values_list(
            "pk", "code", "title"
        )
        for pk, code, title in rows:
            for kind, suffix in ((Kind.RESOURCE, ""), (Kind.DATASET, "data/")):
                out[(kind, pk)] = (f"{code} {title}", f"/resources/{code}/{suffix}")
    for kind, model in _MODELS.items():
        for pk, name in model.objects.filter(pk__in=by_kind.get(kind, ())).values_list("pk", "name"):
            links = {
                Kind.DEPARTMENT: reverse("org:department", args=[pk]),
                Kind.TAG: reverse("catalog:list") + "?" + urlencode({"tag": name}),
                Kind.CATEGORY: reverse("catalog:list") + "?" + urlencode({"category": pk}),
                Kind.PROJECT: "",  # a project has no page of its own yet
            }
            out[(kind, pk)] = (name, links[kind])
    for saved in SavedSearch.objects.filter(pk__in=by_kind.get(Kind.SEARCH, ()), owner_id=actor.pk):
        out[(Kind.SEARCH, saved.pk)] = (saved.name, saved_search_url(saved))
    return out


def following(actor) -> list[FollowRow]:
    """The actor's own follows and their departments' subscriptions, newest first. A followed thing the
    actor may no longer see (or that is gone) is listed without its name, so it can still be unfollowed."""
    own = list(Follow.objects.filter(person_id=actor.pk).order_by("-created_at", "-id"))
    member_of = Membership.objects.filter(user_id=actor.pk).values("department_id")
    subscribed = list(
        Follow.objects.filter(department_id__in=member_of).select_related("department").order_by("-created_at", "-id")
    )
    labels = _labels(actor, {(f.kind, f.target_id) for f in own + subscribed})
    unseen = (_("something you cannot see now"), "")
    rows = [FollowRow(f, *labels.get((f.kind, f.target_id), unseen)) for f in own]
    rows += [FollowRow(f, *labels.get((f.kind, f.target_id), unseen), f.department.name) for f in subscribed]
    return rows


def follow_state(actor, kind: str, target_id: int) -> dict:
    """For a follow button: whether the actor hears of it, and how (their own follow, or a department's).
    One query: the actor's own follow and their departments' subscriptions together."""
    if not getattr(actor, "is_authenticated", False):
        return {"following": False, "own": None, "departments": []}
    member_of = Membership.objects.filter(user_id=actor.pk).values("department_id")
    rows = list(
        Follow.objects.filter(kind=kind, target_id=target_id)
        .filter(Q(person_id=actor.pk) | Q(department_id__in=member_of))
        .select_related("department")
    )
    own = next((f for f in rows if f.person_id == actor.pk), None)
    departments = sorted(f.department.name for f in rows if f.department_id is not None)
    hears = own.delivery != Follow.Delivery.OFF if own is not None else bool(departments)
    return {"following": hears, "own": own, "departments": departments}


def with_followed(searches: QuerySet[SavedSearch], actor) -> QuerySet[SavedSearch]:
    """The actor's saved searches, each with `followed`: whether they hear of its new matches."""
    own = Follow.objects.filter(person_id=getattr(actor, "pk", None), kind=Follow.Kind.SEARCH, target_id=OuterRef("pk"))
    return searches.annotate(followed=Exists(own.exclude(delivery=Follow.Delivery.OFF)))


def saved_search_name(actor, saved_id: int) -> str:
    owned = SavedSearch.objects.filter(pk=saved_id, owner_id=getattr(actor, "pk", None))
    return owned.values_list("name", flat=True).first() or ""


def managed_subscriptions(kind: str, target_id: int, department_ids) -> list[dict]:
    """The departments a steward manages, each with whether it is subscribed to this thing (one query)."""
    if not department_ids:
        return []
    subscribed = Follow.objects.filter(department_id=OuterRef("pk"), kind=kind, target_id=target_id)
    departments = Department.objects.filter(pk__in=list(department_ids)).annotate(subscribed=Exists(subscribed))
    return [{"department": d, "subscribed": d.subscribed} for d in departments.order_by("name")]


def managed_departments(actor) -> list[Department]:
    """The departments the actor is a steward or head of (they may register webhooks for them)."""
    return list(Department.objects.filter(pk__in=context_for(actor).manager_department_ids).order_by("name"))


def access_endpoint(actor, endpoint_id) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first() if str(endpoint_id).isdigit() else None
    if endpoint is None or not decide_owned(actor, endpoint.owner_id, endpoint.department_id).allowed:
        raise NotFound()
    return endpoint


def endpoints_of(actor):
    """The endpoints the actor manages: their own, their departments' (as steward or head), all (admins)."""
    return WebhookEndpoint.objects.select_related("owner", "department").filter(owned_filter(actor))


def shown_deliveries(actor, deliveries) -> list:
    """A page of an endpoint's delivery log, each with `.hidden` set when the reader may not see (now) the
    resource its event is about: its payload and answer are then not shown (invariant 10)."""
    deliveries = list(deliveries)
    named = {named_resource(d.event) for d in deliveries} - {None}
    seen = set()
    if named:
        seen = set(visible(actor, Resource.objects.filter(pk__in=named), Action.VIEW).values_list("pk", flat=True))
    for delivery in deliveries:
        resource_id = named_resource(delivery.event)
        delivery.hidden = resource_id is not None and resource_id not in seen
    return deliveries


def inbound_hooks_of(actor):
    """The inbound webhooks of the service accounts of the departments the actor manages (all: admins)."""
    if not getattr(actor, "is_authenticated", False):
        return InboundHook.objects.none()
    return InboundHook.objects.select_related("account", "account__service_owner", "project", "dataset").filter(
        account__service_owner__in=connectable_departments(actor)
    )


def inbound_hook(actor, pk: int) -> InboundHook:
    found = inbound_hooks_of(actor).filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def connectable_accounts(actor):
    return (
        get_user_model()
        .objects.filter(kind="service", is_active=True, service_owner__in=connectable_departments(actor))
        .select_related("service_owner")
        .order_by("service_owner__name", "username")
    )


def connectable_datasets(actor):
    """Datasets an inbound hook may write records to: those of the departments the actor connects systems for."""
    return (
        Resource.objects.filter(kind=Resource.Kind.DATASET, owner_department__in=connectable_departments(actor))
        .exclude(status=Resource.Status.ARCHIVED)
        .select_related("owner_department")
        .order_by("owner_department__name", "code")
    )


def connectable_projects(actor):
    return (
        Project.objects.filter(department__in=connectable_departments(actor))
        .select_related("department")
        .order_by("department__name", "name")
    )
