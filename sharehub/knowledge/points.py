"""Recognition: points for what other departments did with a person's or a department's work.

Every point comes from one `Credit` row (who reused what, when), so "why do I have these points" is the list
of those rows. A credit is written only when someone of another department acts: same-department activity,
self-activity and repeats (each person once per item per kind per month) earn nothing.

Where credits come from:
  reads and downloads   `content_read` from the catalog (page or API read, file download): one INSERT that
                        ignores a repeat, none at all for readers of the owner department
  grants                the log reader "recognition" on `grant.created`, to another department or its member
  publishing            the same reader on `resource.published` (no actor; one per item; worth little)
  citations, accepted answers, "this helped me", session ratings   the knowledge parts call `credit` or
                        `credit_for_resource` in the transaction of the act

Points are computed when shown: Σ credits × the weight of their kind (admins set them, `set_weights`), so a
change of weights re-scores history. Against rings of colleagues rewarding each other, only the CAP
highest-weighted credits one person gives one beneficiary in a month count, and only PUBLISH_CAP publications
of a person (or department) a month; the others are kept, shown as not counted, and worth 0. Months are
calendar months in UTC (`Credit.month`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Count, F, IntegerField, Value, When, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sharehub.errors import Forbidden, Invalid
from sharehub.events.services import record
from sharehub.knowledge.models import Article, Badge, Credit, PointWeight
from sharehub.org.models import Department, Membership, User
from sharehub.policy.engine import OrgAction, can, context_for

logger = logging.getLogger(__name__)
Kind = Credit.Kind

# Points per credit when admins set none. Reuse that took effort or proves value weighs most: an accepted
# answer to another department's question (10), "this helped me" (8); a citation in an article and a grant
# (someone asked and was given access) 5; a session rating 3 (each rating from another department, whatever
# its stars: the stars are feedback for the host, attending and rating is the reuse); a download 2, a read 1;
# publishing 1, and only PUBLISH_CAP of them a month.
DEFAULT_WEIGHTS: dict[str, int] = {
    Kind.READ: 1,
    Kind.DOWNLOAD: 2,
    Kind.GRANT: 5,
    Kind.CITATION: 5,
    Kind.ANSWER: 10,
    Kind.HELPED: 8,
    Kind.SESSION: 3,
    Kind.PUBLISH: 1,
}
MAX_WEIGHT = 1000
CAP = 3  # credits from one person to one beneficiary counted a month (the highest-weighted)
PUBLISH_CAP = 5  # publications of one beneficiary counted a month
READ_KINDS = {"page": Kind.READ, "api": Kind.READ, "download": Kind.DOWNLOAD}  # other vias are not reuse
PERIODS = ("month", "year")


def month_of(moment: datetime | None = None) -> date:
    moment = (moment or timezone.now()).astimezone(UTC)
    return date(moment.year, moment.month, 1)


def _departments_of(actor) -> frozenset[int]:
    """The actor's departments: from the policy's context, already loaded for the request's user (so no
    query), else read once."""
    ctx = context_for(actor)
    if ctx.authenticated:
        return ctx.department_ids
    return frozenset(Membership.objects.filter(user_id=actor.pk).values_list("department_id", flat=True))


def credit(
    kind: str,
    *,
    actor,
    item: str,
    item_label: str = "",
    person=None,
    department_id: int | None,
    actor_department_id: int | None = None,
    when: datetime | None = None,
    actor_department_ids: Iterable[int] | None = None,
) -> Credit | None:
    """Credit `person` (and `department_id`) for `actor`'s reuse of `item` ("resource:12", "answer:7", ...).

    Returns None, writing nothing, when the act earns nothing: no actor, a service account, an actor of no
    department, the actor is the person credited, or the actor belongs to the credited department; or it was
    already credited this month.
    `actor_department_ids`: the actor's departments if the caller knows them (else the policy's context).
    Call it inside the transaction of the act itself."""
    if actor is None or getattr(actor, "pk", None) is None or getattr(actor, "is_service", False):
        return None
    person_id = getattr(person, "pk", person)
    if person_id is not None and person_id == actor.pk:
        return None
    if person_id is None and department_id is None:
        return None
    actor_departments = frozenset(actor_department_ids) if actor_department_ids is not None else _departments_of(actor)
    if not actor_departments or (department_id is not None and department_id in actor_departments):
        return None  # no department (an organization admin as such) is no other department; a colleague earns nothing
    if actor_department_id is None:
        actor_department_id = min(actor_departments)
    row = Credit(
        kind=kind,
        actor_id=actor.pk,
        actor_department_id=actor_department_id,
        person_id=person_id,
        department_id=department_id,
        item=item,
        item_label=item_label[:200],
        month=month_of(when),
    )
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:  # already credited this month
        return None
    return row


def withdraw(kind: str, *, actor, item: str) -> int:
    """Take back the credits `actor` gave for `item` (a "helped me" withdrawn, another answer accepted instead):
    what they no longer stand by earns nothing. Returns how many were removed."""
    removed, _by_model = Credit.objects.filter(kind=kind, actor_id=actor.pk, item=item).delete()
    return removed


def credited_person_id(resource) -> int | None:
    """Whose work a resource is: an article's credited person (its author, or the answerer it was made from),
    otherwise the resource's steward, otherwise whoever created it."""
    article = getattr(resource, "article", None) if resource.kind == "article" else None
    if article is not None and article.credited_to_id is not None:
        return article.credited_to_id
    return resource.steward_id or resource.created_by_id


def credit_for_resource(kind: str, *, actor, resource, when: datetime | None = None) -> Credit | None:
    """`credit` for a reuse of a catalog resource (an article included), credited to its owner department
    and to `credited_person_id`."""
    return credit(
        kind,
        actor=actor,
        item=f"resource:{resource.pk}",
        item_label=_resource_label(resource),
        person=credited_person_id(resource),
        department_id=resource.owner_department_id,
        when=when,
    )


def _resource_label(resource) -> str:
    return f"{resource.code} {resource.title}"[:200]


# ---- reads and downloads ---------------------------------------------------------------------------------


def credit_reads(kind: str, actor, resources: Iterable) -> int:
    """Credit the resources `actor` just read, in one statement that skips repeats (INSERT ... ON CONFLICT
    DO NOTHING), and in none when every resource belongs to one of the actor's departments. It runs in the
    reading request, usually outside any transaction: nothing to roll back, nothing to fail on a repeat.
    An article's credited person is looked up inside the same statement unless it is already loaded."""
    ctx = context_for(actor)
    if not ctx.authenticated or getattr(actor, "is_service", False):
        return 0
    own = ctx.department_ids
    if not own:  # an organization admin of no department, say: no other department's reuse
        return 0
    values, params = [], []
    month = connection.ops.adapt_datefield_value(month_of())
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    from_department = min(own)
    seen: set[int] = set()
    for resource in resources:
        if resource.owner_department_id in own or resource.pk in seen:
            continue
        seen.add(resource.pk)
        fallback = resource.steward_id or resource.created_by_id
        if resource.kind == "article" and "article" not in resource._state.fields_cache:
            person_sql = _ARTICLE_PERSON
            person_params = [resource.pk, fallback, actor.pk]
        else:
            person = credited_person_id(resource)
            person_sql, person_params = "%s", [None if person == actor.pk else person]
        values.append(f"(%s, %s, %s, {person_sql}, %s, %s, %s, %s, %s)")
        params += [kind, actor.pk, from_department, *person_params]
        params += [resource.owner_department_id, f"resource:{resource.pk}", _resource_label(resource), month, now]
    if not values:
        return 0
    columns = "kind, actor_id, actor_department_id, person_id, department_id, item, item_label, month, created_at"
    sql = f"INSERT INTO {_CREDIT} ({columns}) VALUES {', '.join(values)} ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


_CREDIT = Credit._meta.db_table
_ARTICLE = Article._meta.db_table
# an article's credited person, else the fallback; never the reader
_ARTICLE_PERSON = f"NULLIF(COALESCE((SELECT a.credited_to_id FROM {_ARTICLE} a WHERE a.resource_id = %s), %s), %s)"


def _on_content_read(sender, actor=None, resources=(), via="", **_signal) -> None:
    kind = READ_KINDS.get(via)
    if kind is not None and actor is not None and resources:
        credit_reads(kind, actor, resources)


# ---- grants and publishing: a reader of the log ----------------------------------------------------------


def credit_from_event(event) -> None:
    """The log reader "recognition": a grant to another department (or a member of one) credits the
    resource's owner department and its credited person; a publication credits a little. Idempotent: the
    credit's unique constraint keeps a second reading of the same event from counting twice."""
    if event.action == "grant.created":
        _credit_grant(event)
    elif event.action == "resource.published":
        _credit_publication(event)


def _credit_grant(event) -> None:
    from sharehub.access.models import Grant

    grant_id = (event.details or {}).get("grant")
    grant = (
        Grant.objects.select_related("resource", "grantee_user", "request__requester")
        .filter(pk=grant_id if isinstance(grant_id, int) else None)
        .first()
    )
    if grant is None:
        return
    resource = grant.resource
    if grant.grantee_user_id is not None:
        actor, actor_department_id = grant.grantee_user, None
        if grant.request_id and grant.request.for_department_id:
            actor_department_id = grant.request.for_department_id
    else:
        if grant.grantee_department_id == resource.owner_department_id:
            return
        actor = grant.request.requester if grant.request_id else None
        actor_department_id = grant.grantee_department_id
    credit(
        Kind.GRANT,
        actor=actor,
        item=f"resource:{resource.pk}",
        item_label=_resource_label(resource),
        person=credited_person_id(resource),
        department_id=resource.owner_department_id,
        actor_department_id=actor_department_id,
        when=event.created_at,
    )


def _credit_publication(event) -> None:
    from sharehub.catalog.models import Resource

    if event.target_type != "catalog.resource" or not str(event.target_id).isdigit():
        return
    resource = Resource.objects.select_related("article").filter(pk=int(event.target_id)).first()
    if resource is None:
        return
    row = Credit(
        kind=Kind.PUBLISH,
        actor=None,
        person_id=credited_person_id(resource),
        department_id=resource.owner_department_id,
        item=f"resource:{resource.pk}",
        item_label=_resource_label(resource),
        month=month_of(event.created_at),
    )
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:  # published before (a restore does not count again)
        pass


# ---- weights -----------------------------------------------------------------------------------------------


def weights() -> dict[str, int]:
    """Points per kind: the admins' where set, else the defaults (one query)."""
    current = dict(DEFAULT_WEIGHTS)
    current.update(dict(PointWeight.objects.values_list("kind", "points")))
    return {str(kind): points for kind, points in current.items()}


def _parse_weight(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 6:
        number = int(value.strip())
    else:
        return None
    return number if 0 <= number <= MAX_WEIGHT else None


@transaction.atomic
def set_weights(actor, wanted: dict) -> dict[str, int]:
    """Set the points of some kinds (organization admins). One event names what changed; nothing changes
    when a value is invalid."""
    decision = can(actor, OrgAction.MANAGE_ORG)
    if not decision:
        raise Forbidden(decision.message)
    errors, clean = {}, {}
    for kind, value in wanted.items():
        if kind not in Kind.values:
            errors[str(kind)[:40]] = _("Unknown kind of credit.")
            continue
        number = _parse_weight(value)
        if number is None:
            errors[kind] = _("Enter a whole number from 0 to %(max)s.") % {"max": MAX_WEIGHT}
        else:
            clean[kind] = number
    if errors:
        raise Invalid(fields=errors)
    current = weights()
    changed = {kind: number for kind, number in clean.items() if current[kind] != number}
    for kind, number in changed.items():
        PointWeight.objects.update_or_create(kind=kind, defaults={"points": number})
    if changed:
        record(
            actor,
            "recognition.weights_changed",
            ("knowledge.pointweight", "", _("point weights")),
            details={
                "kinds": sorted(changed),
                "summary": "; ".join(f"{kind}: {current[kind]} → {number}" for kind, number in sorted(changed.items())),
                "weights": {**current, **changed},
            },
        )
    return {**current, **changed}


# ---- scoring -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    name: str  # "month", "year" or "all"
    first: date | None  # first month counted (None: from the start)
    last: date | None

    @property
    def label(self) -> str:
        if self.name == "month":
            return self.first.strftime("%Y-%m")
        if self.name == "year":
            return str(self.first.year)
        return _("all time")


def period(name: str, today: date | None = None) -> Period:
    """This month or this year, in UTC calendar months (as credits are stored); anything else: all time."""
    this_month = month_of() if today is None else date(today.year, today.month, 1)
    if name == "month":
        return Period("month", this_month, this_month)
    if name == "year":
        return Period("year", date(this_month.year, 1, 1), date(this_month.year, 12, 1))
    return Period("all", None, None)


def _weight_sql(current: dict[str, int], column: str) -> tuple[str, list]:
    whens = " ".join(f"WHEN {column} = %s THEN %s" for _kind in current)
    params: list = []
    for kind, points in current.items():
        params += [kind, points]
    return f"CASE {whens} ELSE 0 END", params


@dataclass(frozen=True)
class Standing:
    id: int
    points: int
    reached: int  # departments whose people's counted credits are in it
    rank: int
    total: int  # how many are on the board


def board(
    by: str, when: Period, *, limit: int = 25, offset: int = 0, only: int | None = None, current=None
) -> list[Standing]:
    """The leaderboard of people (`by` "person") or departments, highest points first, with each one's rank
    (ties share a rank) and the board's size: one statement whatever the page size. `only`: that one's row."""
    column = "person_id" if by == "person" else "department_id"
    current = current if current is not None else weights()
    weight, weight_params = _weight_sql(current, "c.kind")
    where, where_params = [f"c.{column} IS NOT NULL"], []
    if when.first is not None:
        where.append("c.month >= %s AND c.month <= %s")
        where_params += [connection.ops.adapt_datefield_value(d) for d in (when.first, when.last)]
    sql = f"""
        WITH counted AS (
            SELECT c.{column} AS who, c.actor_id AS actor, c.actor_department_id AS from_department, {weight} AS w,
                   ROW_NUMBER() OVER (PARTITION BY c.actor_id, c.{column}, c.month
                                      ORDER BY {weight} DESC, c.created_at, c.id) AS n
            FROM {_CREDIT} c WHERE {" AND ".join(where)}
        ), totals AS (
            SELECT who, SUM(w) AS points, COUNT(DISTINCT from_department) AS reached FROM counted
            WHERE n <= CASE WHEN actor IS NULL THEN %s ELSE %s END GROUP BY who
        ), ranked AS (
            SELECT who, points, reached, RANK() OVER (ORDER BY points DESC) AS place, COUNT(*) OVER () AS total
            FROM totals WHERE points > 0
        )
        SELECT who, points, reached, place, total FROM ranked {"WHERE who = %s" if only is not None else ""}
        ORDER BY points DESC, who LIMIT %s OFFSET %s"""
    params = [*weight_params, *weight_params, *where_params, PUBLISH_CAP, CAP]
    if only is not None:
        params.append(only)
    params += [limit, offset]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [Standing(int(w), int(p), int(r), int(rank), int(t)) for w, p, r, rank, t in cursor.fetchall()]


def standing(by: str, ident: int, when: Period, current=None) -> Standing:
    rows = board(by, when, limit=1, only=ident, current=current)
    return rows[0] if rows else Standing(ident, 0, 0, 0, 0)


def credit_lines(*, person_id: int | None = None, department_id: int | None = None, when: Period, current=None):
    """The credits behind a person's (or a department's) points, newest first, each annotated with its
    weight `w` and its place `n` among the credits the same actor gave the same beneficiary that month
    (counted when n <= CAP, or PUBLISH_CAP for publications)."""
    current = current if current is not None else weights()
    weight = Case(
        *(When(kind=kind, then=Value(points)) for kind, points in current.items()),
        default=Value(0),
        output_field=IntegerField(),
    )
    if person_id is not None:
        credits = Credit.objects.filter(person_id=person_id)
    else:
        credits = Credit.objects.filter(department_id=department_id)
    if when.first is not None:
        credits = credits.filter(month__gte=when.first, month__lte=when.last)
    return (
        credits.annotate(
            w=weight,
            n=Window(
                RowNumber(),
                partition_by=[F("actor_id"), F("month")],
                order_by=[weight.desc(), F("created_at").asc(), F("pk").asc()],
            ),
        )
        .select_related("actor_department")
        .order_by("-created_at", "-pk")
    )


def is_counted(line) -> bool:
    return line.n <= (PUBLISH_CAP if line.actor_id is None else CAP)


# ---- badges ------------------------------------------------------------------------------------------------

BADGE_ICONS = {
    Badge.Code.FIRST_ANSWER: "bi-chat-square-quote",
    Badge.Code.TEN_DEPARTMENTS: "bi-diagram-3",
    Badge.Code.FIRST_SESSION: "bi-easel",
    Badge.Code.HELPFUL: "bi-hand-thumbs-up",
    Badge.Code.CENTURY: "bi-trophy",
}
TEN = 10
CENTURY_POINTS = 100
_last_badge_round: datetime | None = None


def badge_candidates(since: datetime | None = None) -> set[tuple[int, str]]:
    """(person, badge) pairs earned, set-based (a few aggregate queries), among the people credited since
    `since` (everyone when None)."""
    credits = Credit.objects.filter(person__isnull=False, person__is_active=True)
    recent: set[int] | None = None
    if since is not None:
        recent = set(
            Credit.objects.filter(created_at__gte=since, person__isnull=False)
            .values_list("person_id", flat=True)
            .distinct()
        )
        if not recent:
            return set()
        credits = credits.filter(person_id__in=recent)
    earned: set[tuple[int, str]] = set()
    for person in credits.filter(kind=Kind.ANSWER).values_list("person_id", flat=True).distinct():
        earned.add((person, Badge.Code.FIRST_ANSWER))
    for person in credits.filter(kind=Kind.SESSION).values_list("person_id", flat=True).distinct():
        earned.add((person, Badge.Code.FIRST_SESSION))
    reach = (
        credits.exclude(actor_department__isnull=True)
        .values("person_id")
        .annotate(n=Count("actor_department", distinct=True))
        .filter(n__gte=TEN)
    )
    earned.update((row["person_id"], Badge.Code.TEN_DEPARTMENTS) for row in reach)
    helped = (
        credits.filter(kind=Kind.HELPED)
        .values("person_id")
        .annotate(n=Count("actor", distinct=True))
        .filter(n__gte=TEN)
    )
    earned.update((row["person_id"], Badge.Code.HELPFUL) for row in helped)
    current, offset, page = weights(), 0, 500
    while True:  # the all-time board, best first, until points fall under the mark
        rows = board("person", period("all"), limit=page, offset=offset, current=current)
        earned.update(
            (row.id, Badge.Code.CENTURY)
            for row in rows
            if row.points >= CENTURY_POINTS and (recent is None or row.id in recent)
        )
        if len(rows) < page or rows[-1].points < CENTURY_POINTS:
            break
        offset += page
    return earned


def award_badges(*, full: bool = False) -> int:
    """The periodic job: award the badges people have earned and not yet got, each with its event (which
    notifies them). Looks at the people credited since the last round of this process (everyone on its
    first round, or with `full`). Returns how many were awarded."""
    global _last_badge_round
    started = timezone.now()
    since = None if full or _last_badge_round is None else _last_badge_round - timedelta(minutes=10)
    earned = badge_candidates(since)
    held = set(Badge.objects.filter(user_id__in={person for person, _code in earned}).values_list("user_id", "code"))
    awarded = 0
    for person, code in sorted(earned - held):
        awarded += _award(person, code)
    _last_badge_round = started
    return awarded


@transaction.atomic
def _award(person_id: int, code: str) -> int:
    user = User.objects.filter(pk=person_id).first()
    if user is None:
        return 0
    try:
        with transaction.atomic():
            badge = Badge.objects.create(user=user, code=code)
    except IntegrityError:  # awarded meanwhile by another worker
        return 0
    departments = list(Membership.objects.filter(user_id=person_id).values_list("department_id", flat=True))
    record(
        None,
        "recognition.badge_awarded",
        ("knowledge.badge", badge.pk, str(user)),
        departments=departments,
        details={"badge": code, "person": person_id, "recipients": [person_id]},
    )
    return 1


def badges_of(user_ids: Iterable[int]) -> dict[int, list[Badge]]:
    found: dict[int, list[Badge]] = {}
    for badge in Badge.objects.filter(user_id__in=list(user_ids)).order_by("awarded_at", "pk"):
        found.setdefault(badge.user_id, []).append(badge)
    return found


# ---- names, events, registration ----------------------------------------------------------------------------


def names(by: str, ids: Iterable[int]) -> dict[int, object]:
    ids = list(ids)
    if by == "person":
        return {u.pk: u for u in User.objects.filter(pk__in=ids)}
    return {d.pk: d for d in Department.objects.filter(pk__in=ids)}


def _badge_message(details: dict) -> str:
    details["badge_name"] = str(dict(Badge.Code.choices).get(details.get("badge"), details.get("badge", "")))
    return _("You earned the badge “%(badge_name)s”.")


def register() -> None:
    """Called once from KnowledgeConfig.ready: the read receiver, the log reader for grants and publications,
    the badge job, how the events read."""
    from sharehub.catalog import panels
    from sharehub.events import consumers, describe
    from sharehub.feeds import messages
    from sharehub.worker import register_periodic

    panels.content_read.connect(_on_content_read, dispatch_uid="knowledge.points.reads")
    consumers.register("recognition", credit_from_event, prefixes=("grant.created", "resource.published"))
    register_periodic("recognition badges", award_badges)
    messages.register("recognition.badge_awarded", _badge_message, lambda details: reverse("knowledge:recognition-me"))
    describe.register_area("recognition", gettext_lazy("Recognition"))
    describe.register(
        "recognition.weights_changed",
        gettext_lazy("Point weights changed"),
        gettext_lazy("%(actor)s changed the points of %(kinds)s: %(summary)s."),
    )
    describe.register(
        "recognition.badge_awarded",
        gettext_lazy("Badge awarded"),
        gettext_lazy("%(person)s earned the badge %(badge)s."),
    )
    describe.register_detail(
        "kinds", gettext_lazy("Kinds"), describe.CHOICES, choices=dict(Kind.choices), actions=("recognition.",)
    )
    describe.register_detail("summary", gettext_lazy("Change"), actions=("recognition.",))
    describe.register_detail("weights", "weights", describe.HIDDEN, actions=("recognition.",))
    describe.register_detail(
        "badge", gettext_lazy("Badge"), describe.CHOICE, choices=dict(Badge.Code.choices), actions=("recognition.",)
    )
    describe.register_detail("person", gettext_lazy("Person"), describe.PERSON, actions=("recognition.",))
