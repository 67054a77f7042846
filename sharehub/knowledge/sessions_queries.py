"""Reading sharing sessions (分享会): every read goes through `decide_session`; lists run a constant number of
statements whatever their length (counts, ratings and the reader's own sign-up come as subqueries)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.db.models import Avg, Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from sharehub.errors import Forbidden, NotFound
from sharehub.knowledge.models import CalendarFeed, Session, SessionMaterial, SessionRating, Signup
from sharehub.org.models import User
from sharehub.policy.knowledge import SessionAction, decide_session
from sharehub.validation import parse_id

FEED_SALT = "sharehub.knowledge.sessions.feed"


def _count(status: str) -> Subquery:
    rows = Signup.objects.filter(session=OuterRef("pk"), status=status).order_by()
    return Coalesce(
        Subquery(rows.values("session").annotate(n=Count("pk")).values("n")[:1], output_field=IntegerField()),
        Value(0),
    )


def _speakers_in_order() -> QuerySet[User]:
    """People ordered as they were named as speakers (the through table's id; the first is credited)."""
    table = Session.speakers.through._meta.db_table
    return User.objects.extra(order_by=[f"{table}.id"])  # a fixed table name, no input


def annotated(queryset: QuerySet[Session], actor=None) -> QuerySet[Session]:
    """Sessions with `confirmed_count`, `waiting_count`, `rating_average`, `rating_count` and, for `actor`,
    `my_status` (their sign-up's status, or None), with the host department and the speakers."""
    ratings = SessionRating.objects.filter(session=OuterRef("pk")).order_by().values("session")
    queryset = queryset.select_related("host_department", "created_by").prefetch_related(
        Prefetch("speakers", queryset=_speakers_in_order())
    )
    queryset = queryset.annotate(
        confirmed_count=_count(Signup.Status.CONFIRMED),
        waiting_count=_count(Signup.Status.WAITING),
        rating_average=Subquery(ratings.annotate(a=Avg("stars")).values("a")[:1]),
        rating_count=Coalesce(
            Subquery(ratings.annotate(n=Count("pk")).values("n")[:1], output_field=IntegerField()), Value(0)
        ),
    )
    if actor is not None and getattr(actor, "pk", None) is not None:
        mine = Signup.objects.filter(session=OuterRef("pk"), user_id=actor.pk).values("status")[:1]
        queryset = queryset.annotate(my_status=Subquery(mine))
    return queryset


def visible(actor) -> QuerySet[Session]:
    """Every session `actor` may see (sessions are open to everyone signed in)."""
    if not decide_session(actor, SessionAction.SEE, None):
        return Session.objects.none()
    return Session.objects.all()


@dataclass
class Filters:
    department: int | None = None
    when: str = "upcoming"  # upcoming | past | all
    starts_from: datetime | None = None
    starts_before: datetime | None = None


def list_sessions(actor, filters: Filters | None = None) -> QuerySet[Session]:
    """Upcoming sessions soonest first (those still running included); past ones latest first."""
    filters = filters or Filters()
    now = timezone.now()
    queryset = visible(actor)
    if filters.department:
        queryset = queryset.filter(host_department_id=filters.department)
    if filters.starts_from is not None:
        queryset = queryset.filter(starts_at__gte=filters.starts_from)
    if filters.starts_before is not None:
        queryset = queryset.filter(starts_at__lt=filters.starts_before)
    if filters.when == "upcoming":
        return queryset.filter(ends_at__gt=now, status=Session.Status.SCHEDULED).order_by("starts_at", "pk")
    if filters.when == "past":
        return queryset.filter(ends_at__lte=now).exclude(status=Session.Status.CANCELLED).order_by("-starts_at", "-pk")
    return queryset.order_by("starts_at", "pk")


def access_session(actor, ident, action: SessionAction = SessionAction.SEE) -> Session:
    """The session with id `ident` (annotated for `actor`), authorized for `action`: NotFound when it is missing
    or unseen, Forbidden (with the policy's reason) when seen but the action is refused."""
    pk = parse_id(ident)
    if pk is None or not decide_session(actor, SessionAction.SEE, None):
        raise NotFound()
    session = annotated(Session.objects.filter(pk=pk), actor).first()
    if session is None:
        raise NotFound()
    if action != SessionAction.SEE:
        decision = decide_session(actor, action, session)
        if not decision:
            raise Forbidden(decision.message)
    return session


def speakers_in_order(session: Session) -> list[User]:
    """The speakers in the order they were named (the first is credited for ratings by other departments)."""
    return list(_speakers_in_order().filter(sessions_spoken=session))


def signup_of(actor, session: Session) -> Signup | None:
    if getattr(actor, "pk", None) is None:
        return None
    return Signup.objects.filter(session=session, user_id=actor.pk).first()


def waiting_position(signup: Signup | None) -> int | None:
    """1 for the first on the waiting list, ...; None when not waiting."""
    if signup is None or signup.status != Signup.Status.WAITING:
        return None
    ahead = Signup.objects.filter(session_id=signup.session_id, status=Signup.Status.WAITING).filter(
        Q(signed_up_at__lt=signup.signed_up_at) | Q(signed_up_at=signup.signed_up_at, pk__lt=signup.pk)
    )
    return ahead.count() + 1


def signups(session: Session) -> QuerySet[Signup]:
    """Everyone signed up (confirmed first, then the waiting list in its order), for the organizers."""
    active = Signup.objects.filter(session=session).exclude(status=Signup.Status.CANCELLED)
    return active.select_related("user").order_by("-status", "signed_up_at", "pk")  # "waiting" > "confirmed"


def materials_of(session: Session) -> QuerySet[SessionMaterial]:
    return (
        SessionMaterial.objects.filter(session=session)
        .select_related("blob", "uploaded_by")
        .order_by("created_at", "pk")
    )


def access_material(actor, ident, material_id) -> tuple[Session, SessionMaterial]:
    session = access_session(actor, ident)
    pk = parse_id(material_id)
    material = materials_of(session).filter(pk=pk).first() if pk is not None else None
    if material is None:
        raise NotFound()
    return session, material


def ratings_of(session: Session) -> QuerySet[SessionRating]:
    return SessionRating.objects.filter(session=session).select_related("user").order_by("-created_at", "-pk")


def rating_of(actor, session: Session) -> SessionRating | None:
    return SessionRating.objects.filter(session=session, user_id=actor.pk).first()


# --- the personal calendar feed: a signed token naming the person and the feed's current nonce


def feed_nonce(user_id: int) -> str:
    """The nonce of the person's current feed address ("" until they first make a new one)."""
    return CalendarFeed.objects.filter(user_id=user_id).values_list("nonce", flat=True).first() or ""


def feed_token(user) -> str:
    """The same token on every visit (no timestamp), so a calendar app subscribed to the URL keeps working."""
    return signing.Signer(salt=FEED_SALT).sign_object([user.pk, feed_nonce(user.pk)])


def user_for_feed_token(token: str):
    """The active person a feed token was made for, or None when it is forged, garbled or replaced."""
    if not isinstance(token, str) or len(token) > 300:
        return None
    try:
        user_id, nonce = signing.Signer(salt=FEED_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if parse_id(user_id) is None or not isinstance(nonce, str):
        return None
    user = User.objects.filter(pk=user_id, is_active=True, kind=User.Kind.PERSON).first()
    if user is None or feed_nonce(user.pk) != nonce:
        return None
    return user
