"""Follows: what a person (or a department, subscribed by its steward) hears about, and turning the
log's events into notifications for followers. A follower hears of an event only if the policy lets
them see the resource when the notification is made; the list re-checks when it is shown."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sharehub.catalog.models import Category, Project, Resource, Tag
from sharehub.errors import Forbidden, Invalid, NotFound
from sharehub.events.services import record
from sharehub.feeds import live
from sharehub.feeds.messages import named_recipients, named_resource
from sharehub.feeds.models import Follow, Notification, SearchMatch
from sharehub.org.models import Department, Membership
from sharehub.org.schemas import MAX_DB_INT
from sharehub.policy.engine import Action, active_people, can, viewers, visible
from sharehub.search.forms import SearchState, saved_search_url
from sharehub.search.models import SavedSearch
from sharehub.search.queries import matching_ids

Kind = Follow.Kind
Delivery = Follow.Delivery
MAX_UNTIL_DAYS = 3660
FOLLOWING = Notification.Reason.FOLLOWING
SEARCH = Notification.Reason.SEARCH

# What each followed event is about: a published resource is news for whoever follows it, its
# department, its tags, its category or its project; the rest concern the resource (or its records) alone.
NEW_ITEM = "resource.published"
ABOUT_RESOURCE = (
    "resource.updated",
    "resource.sharing_changed",
    "resource.archived",
    "resource.restored",
    "resource.attachment_added",
)
ABOUT_RECORDS = (
    "dataset.records_changed",
    "dataset.records_deleted",
    "dataset.schema_changed",
    "dataset.correction_accepted",
)
FOLLOWED_ACTIONS = frozenset((NEW_ITEM, *ABOUT_RESOURCE, *ABOUT_RECORDS))
# Who started something follows it from then on: the author of a resource, the requester of access.
FOLLOWED_BY_ACTOR = frozenset(("resource.created", "access.requested"))

_MODELS = {Kind.DEPARTMENT: Department, Kind.TAG: Tag, Kind.CATEGORY: Category, Kind.PROJECT: Project}


@dataclass(frozen=True)
class Target:
    kind: str
    target_id: int
    label: str
    link: str


def _clean(kind, target_id) -> tuple[str, int]:
    if kind not in Kind.values:
        raise Invalid(fields={"kind": _("Choose one of %(kinds)s.") % {"kinds": ", ".join(Kind.values)}})
    try:
        number = int(str(target_id))
    except ValueError:
        number = 0
    if isinstance(target_id, bool) or not 0 < number <= MAX_DB_INT:
        raise Invalid(fields={"target_id": _("The id of what to follow, a whole number.")})
    return kind, number


def target(actor, kind, target_id) -> Target:
    """What `kind`/`target_id` names, if the actor may see it (else NotFound: unknown means 404)."""
    kind, number = _clean(kind, target_id)
    if kind in (Kind.RESOURCE, Kind.DATASET):
        resource = visible(actor, Resource.objects.filter(pk=number), Action.VIEW).first()
        if resource is None or (kind == Kind.DATASET and resource.kind != Resource.Kind.DATASET):
            raise NotFound()
        link = f"/resources/{resource.code}/" + ("data/" if kind == Kind.DATASET else "")
        return Target(kind, number, f"{resource.code} {resource.title}", link)
    if not getattr(actor, "is_authenticated", False):
        raise NotFound()
    if kind == Kind.SEARCH:  # a saved search is its owner's alone
        saved = SavedSearch.objects.filter(pk=number, owner_id=actor.pk).first()
        if saved is None:
            raise NotFound()
        return Target(kind, number, saved.name, saved_search_url(saved))
    item = _MODELS[kind].objects.filter(pk=number).first()
    if item is None:
        raise NotFound()
    links = {
        Kind.DEPARTMENT: f"/departments/{number}/",
        Kind.TAG: f"/resources/?tag={item.name}",
        Kind.CATEGORY: f"/resources/?category={number}",
        Kind.PROJECT: "",
    }
    return Target(kind, number, str(getattr(item, "name", item)), links[kind])


def _until(value) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise Invalid(fields={"until": _("A date such as 2027-06-30.")}) from None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise Invalid(fields={"until": _("A date such as 2027-06-30.")})
    today = timezone.localdate()
    if value < today:
        raise Invalid(fields={"until": _("The end date has passed; leave it empty to follow with no end.")})
    if value > today + dt.timedelta(days=MAX_UNTIL_DAYS):
        raise Invalid(fields={"until": _("At most ten years ahead; leave it empty to follow with no end.")})
    return value


BY_MAIL = (Delivery.EMAIL, Delivery.DAILY, Delivery.WEEKLY)
# When several follows bring one notification, the one that tells soonest decides how it is mailed.
_URGENCY = {Delivery.IN_APP: 0, Delivery.WEEKLY: 1, Delivery.DAILY: 2, Delivery.EMAIL: 3}


def checked_delivery(actor, value, field: str = "delivery") -> str:
    """`value` if it is a way of delivery the actor can have (mail needs email set up and an address)."""
    if value not in Delivery.values:
        raise Invalid(fields={field: _("Choose one of %(ways)s.") % {"ways": ", ".join(Delivery.values)}})
    if value in BY_MAIL:
        if not settings.EMAIL_ENABLED:
            raise Invalid(fields={field: _("Email is not set up on this Sharehub; ask an administrator.")})
        if not (getattr(actor, "email", "") or "").strip():
            raise Invalid(fields={field: _("Your account has no email address; ask an administrator to add one.")})
    return value


def _department_covers(person_id: int, kind: str, number: int) -> bool:
    member_of = Membership.objects.filter(user_id=person_id).values("department_id")
    return Follow.objects.filter(
        department_id__in=member_of, kind=kind, target_id=number, delivery=Delivery.IN_APP
    ).exists()


@transaction.atomic
def follow(actor, kind, target_id, *, delivery: str | None = None, until=None) -> Follow:
    """Follow something (or change how): the actor's own follow, made or updated. Without `delivery` a new
    follow is in the app and an existing one keeps its way (unless it was off)."""
    found = target(actor, kind, target_id)
    if delivery is None:
        current = Follow.objects.filter(person_id=actor.pk, kind=found.kind, target_id=found.target_id).first()
        keep = current is not None and current.delivery != Delivery.OFF
        delivery = current.delivery if keep else Delivery.IN_APP
    delivery, until = checked_delivery(actor, delivery), _until(until)
    now = timezone.now()
    item, created = Follow.objects.update_or_create(
        person_id=actor.pk,
        kind=found.kind,
        target_id=found.target_id,
        defaults={"delivery": delivery, "until": until},
        create_defaults={"delivery": delivery, "until": until, "created_at": now, "created_by_id": actor.pk},
    )
    record(
        actor,
        "follow.created" if created else "follow.changed",
        ("feeds.follow", item.pk, found.label),
        details={"kind": found.kind, "target_id": found.target_id, "delivery": delivery, "until": until},
    )
    return item


@transaction.atomic
def unfollow(actor, kind, target_id) -> bool:
    """Stop following. Where a department subscription still covers the actor, their own follow is kept
    with delivery off (opting out of it); otherwise it is removed. False if nothing changed."""
    kind, number = _clean(kind, target_id)
    if not getattr(actor, "is_authenticated", False):
        raise NotFound()
    own = Follow.objects.select_for_update().filter(person_id=actor.pk, kind=kind, target_id=number).first()
    label = f"{kind} {number}"
    if _department_covers(actor.pk, kind, number):
        if own is not None and own.delivery == Delivery.OFF:
            return False
        if own is None:
            own = Follow.objects.create(
                person_id=actor.pk,
                kind=kind,
                target_id=number,
                delivery=Delivery.OFF,
                created_at=timezone.now(),
                created_by_id=actor.pk,
            )
        else:
            own.delivery, own.until = Delivery.OFF, None
            own.save(update_fields=["delivery", "until"])
        record(actor, "follow.changed", ("feeds.follow", own.pk, label), details={"kind": kind, "delivery": "off"})
        return True
    if own is None:
        return False
    pk = own.pk
    own.delete()
    record(actor, "follow.removed", ("feeds.follow", pk, label), details={"kind": kind, "target_id": number})
    return True


def _department(actor, department_id) -> Department:
    """The department to subscribe (departments are public structure: an unknown one is a field error)."""
    text = str(department_id)
    department = Department.objects.filter(pk=int(text)).first() if text.isdigit() and len(text) <= 18 else None
    if department is None:
        raise Invalid(fields={"department_id": _("No department with this id.")})
    decision = can(actor, "subscribe", department)
    if not decision.allowed:
        raise Forbidden(decision.message)
    return department


@transaction.atomic
def subscribe_department(actor, department_id, kind, target_id, *, until=None) -> Follow:
    """A steward subscribes their whole department: every member hears of it unless they opt out."""
    if kind == Kind.SEARCH:
        raise Invalid(fields={"kind": _("A saved search is one person's own: a department cannot subscribe to it.")})
    department = _department(actor, department_id)
    found = target(actor, kind, target_id)
    until = _until(until)
    item, _created = Follow.objects.update_or_create(
        department=department,
        kind=found.kind,
        target_id=found.target_id,
        defaults={"delivery": Delivery.IN_APP, "until": until},
        create_defaults={"until": until, "created_at": timezone.now(), "created_by_id": actor.pk},
    )
    record(
        actor,
        "follow.department_subscribed",
        ("feeds.follow", item.pk, found.label),
        departments=[department],
        details={"kind": found.kind, "target_id": found.target_id, "until": until},
    )
    return item


@transaction.atomic
def unsubscribe_department(actor, department_id, kind, target_id) -> bool:
    department = _department(actor, department_id)
    kind, number = _clean(kind, target_id)
    item = Follow.objects.filter(department=department, kind=kind, target_id=number).first()
    if item is None:
        return False
    pk = item.pk
    item.delete()
    record(
        actor,
        "follow.department_unsubscribed",
        ("feeds.follow", pk, f"{kind} {number}"),
        departments=[department],
        details={"kind": kind, "target_id": number},
    )
    return True


def _about(event, resource: Resource) -> list[tuple[str, int]]:
    """The (kind, id) pairs whose followers hear of this event."""
    if event.action in ABOUT_RECORDS:
        return [(Kind.DATASET, resource.pk)]
    pairs = [(Kind.RESOURCE, resource.pk)]
    if event.action == NEW_ITEM:
        pairs.append((Kind.DEPARTMENT, resource.owner_department_id))
        pairs += [(Kind.TAG, tag_id) for tag_id in resource.tags.values_list("pk", flat=True)]
        if resource.category_id:
            pairs.append((Kind.CATEGORY, resource.category_id))
        if resource.project_id:
            pairs.append((Kind.PROJECT, resource.project_id))
    return pairs


def followers(pairs: Iterable[tuple[str, int]], at: dt.datetime) -> dict[int, str]:
    """The people who hear of something about these (kind, id) pairs that happened at `at`, each with how
    (the most urgent delivery of their follows that match): their own follows that were on then, and their
    departments' subscriptions (in the app) unless they turned that one off. A follow made after the
    event (a reader catching up late) does not hear of it."""
    pairs = list(pairs)
    if not pairs:
        return {}
    matching = Q()
    for kind, number in pairs:
        matching |= Q(kind=kind, target_id=number)
    on = timezone.localdate(at)
    rows = Follow.objects.filter(matching, created_at__lte=at).filter(Q(until__isnull=True) | Q(until__gte=on))
    people: dict[int, str] = {}
    opted_out: set[tuple[int, str, int]] = set()
    subscribed: dict[int, list[tuple[str, int]]] = defaultdict(list)

    def hear(person_id: int, delivery: str) -> None:
        if _URGENCY[delivery] >= _URGENCY[people.get(person_id, Delivery.IN_APP)]:
            people[person_id] = delivery

    for person_id, department_id, kind, number, delivery in rows.values_list(
        "person_id", "department_id", "kind", "target_id", "delivery"
    ):
        if person_id is not None:
            if delivery == Delivery.OFF:
                opted_out.add((person_id, kind, number))
            else:
                hear(person_id, delivery)
        elif delivery != Delivery.OFF:
            subscribed[department_id].append((kind, number))
    if subscribed:
        members = Membership.objects.filter(department_id__in=list(subscribed)).values_list("user_id", "department_id")
        for user_id, department_id in members:
            if any((user_id, kind, number) not in opted_out for kind, number in subscribed[department_id]):
                hear(user_id, Delivery.IN_APP)
    return people


def notify_followers(event) -> None:
    """The log reader's handler: an in-app notification for each follower who may see the resource now."""
    if event.action in FOLLOWED_BY_ACTOR:
        _follow_by_default(event)
        return
    resource_id = named_resource(event)
    resource = Resource.objects.filter(pk=resource_id).first() if resource_id else None
    if resource is None:
        return
    candidates = followers(_about(event, resource), event.created_at)
    for person_id in (event.actor_id, *named_recipients(event)):  # those it names hear of it as involved
        candidates.pop(person_id, None)
    if not candidates:
        return
    recipients = viewers(active_people(candidates), resource)
    mailing = settings.EMAIL_ENABLED
    mails = {pk: candidates[pk] if mailing and candidates[pk] in BY_MAIL else "" for pk in recipients}
    written = Notification.objects.create_for_event(event, mails, FOLLOWING)  # not who was told already
    live.push_after_commit(event, written, followed=True)


def _follow_by_default(event) -> None:
    resource_id = named_resource(event)
    if event.actor_id is None or resource_id is None or not Resource.objects.filter(pk=resource_id).exists():
        return
    Follow.objects.get_or_create(
        person_id=event.actor_id,
        kind=Kind.RESOURCE,
        target_id=resource_id,
        defaults={"created_at": event.created_at, "created_by_id": event.actor_id},
    )


def wants(event) -> bool:
    return event.action in FOLLOWED_ACTIONS or event.action in FOLLOWED_BY_ACTOR


# ---- followed saved searches: what newly matches them

SEARCH_READER = "search-follows"
# after these a resource may match a search it did not match before (it is new, its text or its sharing changed)
MAY_NEWLY_MATCH = (
    "resource.published",
    "resource.updated",
    "resource.sharing_changed",
    "resource.restored",
    "resource.attachment_added",
)


@dataclass(frozen=True)
class NewMatch:
    person_id: int
    saved_search_id: int
    saved_search_name: str
    resource_id: int
    event: object
    mail: str


def _changed_resources(events) -> dict[int, object]:
    """Each resource the batch may have made match, with the last event about it."""
    latest: dict[int, object] = {}
    for event in events:
        resource_id = named_resource(event)
        if resource_id is not None:
            latest[resource_id] = event
    return latest


def find_search_matches(events) -> list[NewMatch]:
    """For a batch of events (read after the search index has taken them in): each followed saved search's
    resources that it finds now, for its owner, among those the batch changed, and that it has not
    announced yet. A change by the owner themselves, or made before they followed, is not news to them.
    Runs with no transaction open; `write_search_matches` writes what it found."""
    latest = _changed_resources(events)
    if not latest:
        return []
    first_day = timezone.localdate(min(event.created_at for event in latest.values()))
    rows = (
        Follow.objects.filter(kind=Kind.SEARCH, person__is_active=True)
        .exclude(delivery=Delivery.OFF)
        .filter(Q(until__isnull=True) | Q(until__gte=first_day))
        .select_related("person")
    )
    follows_by_search = {follow.target_id: follow for follow in rows}
    searches = SavedSearch.objects.filter(pk__in=list(follows_by_search))
    earlier = SearchMatch.objects.filter(saved_search_id__in=list(follows_by_search), resource_id__in=list(latest))
    announced = set(earlier.values_list("saved_search_id", "resource_id"))
    mailing = settings.EMAIL_ENABLED
    found = []
    for saved in searches:
        follow = follows_by_search[saved.pk]
        candidates = [
            resource_id
            for resource_id, event in latest.items()
            if event.created_at >= follow.created_at
            and event.actor_id != follow.person_id
            and (follow.until is None or timezone.localdate(event.created_at) <= follow.until)
            and (saved.pk, resource_id) not in announced
        ]
        if not candidates:
            continue
        try:
            filters = SearchState.from_saved(saved).filters()
        except Invalid:
            continue
        for resource_id in sorted(matching_ids(follow.person, saved.query, filters, candidates)):
            mail = follow.delivery if mailing and follow.delivery in BY_MAIL else ""
            found.append(NewMatch(follow.person_id, saved.pk, saved.name, resource_id, latest[resource_id], mail))
    return found


def write_search_matches(matches: list[NewMatch]) -> None:
    """Inside the reader's transaction: the notifications of new matches, each match once (a saved search
    deleted meanwhile is skipped), then one live push per event and saved search."""
    if not matches:
        return
    saved_ids = {m.saved_search_id for m in matches}
    still_saved = set(SavedSearch.objects.filter(pk__in=saved_ids).values_list("pk", flat=True))
    announced = set(
        SearchMatch.objects.filter(
            saved_search_id__in=still_saved, resource_id__in={m.resource_id for m in matches}
        ).values_list("saved_search_id", "resource_id")
    )
    fresh = [
        m for m in matches if m.saved_search_id in still_saved and (m.saved_search_id, m.resource_id) not in announced
    ]
    if not fresh:
        return
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=m.person_id, event=m.event, created_at=m.event.created_at, reason=SEARCH, mail=m.mail
            )
            for m in fresh
        ],
        ignore_conflicts=True,  # already told of this event (as a party to it, or as a follower)
    )
    written = {
        (recipient_id, event_id): (pk, reason)
        for pk, recipient_id, event_id, reason in Notification.objects.filter(
            event_id__in={m.event.pk for m in fresh}, recipient_id__in={m.person_id for m in fresh}
        ).values_list("pk", "recipient_id", "event_id", "reason")
    }
    now = timezone.now()
    SearchMatch.objects.bulk_create(
        [
            SearchMatch(
                saved_search_id=m.saved_search_id,
                resource_id=m.resource_id,
                notification_id=written.get((m.person_id, m.event.pk), (None, ""))[0],
                created_at=now,
            )
            for m in fresh
        ],
        ignore_conflicts=True,
    )
    pushes: dict[tuple[int, str], dict[int, int]] = defaultdict(dict)
    for m in fresh:
        pk, reason = written.get((m.person_id, m.event.pk), (None, ""))
        if pk is not None and reason == SEARCH:
            pushes[(m.event.pk, m.saved_search_name)][m.person_id] = pk
    events = {m.event.pk: m.event for m in fresh}
    for (event_id, name), recipients in pushes.items():
        live.push_after_commit(events[event_id], recipients, followed=True, search=name)
