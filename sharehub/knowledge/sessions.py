"""Sharing sessions (分享会): every write validates, asks the policy (`decide_session`), changes rows and records
its event in one transaction; the event's `recipients` are who is told (through notifications).

Seats: a sign-up is confirmed while seats are left, otherwise it joins the waiting list (ordered by
`signed_up_at`). Every change of seats locks the session's row first (SELECT ... FOR UPDATE; on SQLite the
IMMEDIATE transaction already holds the write lock), so two people taking the last seat at once cannot both be
confirmed. A freed seat goes to the first on the waiting list in the same transaction."""

from __future__ import annotations

import secrets
import unicodedata
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sharehub import worker
from sharehub.catalog import extract, files
from sharehub.catalog.models import Blob
from sharehub.errors import Conflict, Forbidden, Invalid
from sharehub.events.services import record
from sharehub.knowledge import points
from sharehub.knowledge.models import CalendarFeed, Credit, Session, SessionMaterial, SessionRating, Signup
from sharehub.knowledge.sessions_queries import speakers_in_order
from sharehub.org.models import Department, User
from sharehub.policy.knowledge import SessionAction, decide_session
from sharehub.validation import parse_id, text_problem

MAX_TITLE = 200
MAX_DESCRIPTION = 20_000
MAX_PLACE = 200
MAX_LINK = 500
MAX_CAPACITY = 10_000
MAX_SPEAKERS = 10
MAX_COMMENT = 2_000
MAX_REASON = 500
MAX_MATERIALS = 50
MAX_LENGTH = timedelta(days=7)
MAX_AHEAD = timedelta(days=3 * 366)
EDITABLE = ("title", "description", "host_department", "speakers", "starts_at", "ends_at", "place", "link", "capacity")
NOTIFIED_CHANGES = {"starts_at", "ends_at", "place", "link"}  # what those signed up are told of


def _require(decision) -> None:
    if not decision:
        raise Forbidden(decision.message)


def _strip_controls(value: str, *, multiline: bool) -> str:
    """Drop control characters (keeping line breaks and tabs in multi-line text); one-line text loses its
    breaks too."""
    keep = "\n\t" if multiline else ""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        value = value.replace("\n", " ").replace("\t", " ")
    return "".join(ch for ch in value if ch in keep or unicodedata.category(ch) != "Cc")


def _text(errors: dict, name: str, value, *, limit: int, required: bool = False, multiline: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = _("Must be text.")
        return ""
    problem = text_problem(value)
    if problem:
        errors[name] = problem
        return ""
    value = _strip_controls(value, multiline=multiline).strip()
    if required and not value:
        errors[name] = _("This field is required.")
    elif len(value) > limit:
        errors[name] = _("At most %(n)s characters.") % {"n": limit}
    return value


def _link(errors: dict, name: str, value) -> str:
    value = _text(errors, name, value, limit=MAX_LINK)
    if value and name not in errors:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except DjangoValidationError:
            errors[name] = _("Enter a web address starting with http:// or https://.")
    return value


def _moment(errors: dict, name: str, value) -> datetime | None:
    """A time as given by the API (aware, any zone) or a form (naive: in the reader's zone), kept in UTC."""
    if value is None or value == "":
        errors[name] = _("This field is required.")
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            errors[name] = _("Enter a date and time.")
            return None
    if not isinstance(value, datetime):
        errors[name] = _("Enter a date and time.")
        return None
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value, timezone.get_current_timezone())
        return value.astimezone(UTC).replace(microsecond=0)  # calendars keep whole seconds
    except (OverflowError, ValueError):
        errors[name] = _("This time is out of range.")
        return None


def _department(errors: dict, value) -> Department | None:
    if isinstance(value, Department):
        return value
    pk = parse_id(value)
    found = Department.objects.filter(pk=pk, archived_at__isnull=True).first() if pk is not None else None
    if found is None:
        errors["host_department"] = _("Choose a department.")
    return found


def _speakers(errors: dict, value) -> list[User]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        errors["speakers"] = _("Give a list of people.")
        return []
    ids = []
    for item in value:
        pk = item.pk if isinstance(item, User) else parse_id(item)
        if pk is None:
            errors["speakers"] = _("Give a list of people.")
            return []
        if pk not in ids:
            ids.append(pk)
    if len(ids) > MAX_SPEAKERS:
        errors["speakers"] = _("At most %(n)s speakers.") % {"n": MAX_SPEAKERS}
        return []
    found = {u.pk: u for u in User.objects.filter(pk__in=ids, is_active=True, kind=User.Kind.PERSON)}
    if len(found) != len(ids):
        errors["speakers"] = _("Some of these people do not exist or have left.")
        return []
    return [found[pk] for pk in ids]


def _capacity(errors: dict, value) -> int | None:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        errors["capacity"] = _("Enter a whole number of seats.")
        return None
    if not 1 <= value <= MAX_CAPACITY:
        errors["capacity"] = _("Between 1 and %(n)s seats.") % {"n": MAX_CAPACITY}
        return None
    return value


def _validate(actor, data: dict, current: Session | None = None) -> dict:
    """The cleaned values of the fields given (all of them when scheduling); raises Invalid naming each bad
    field, Forbidden when the actor may not host for the department chosen."""
    unknown = set(data) - set(EDITABLE)
    if unknown:
        raise Invalid(fields={name: _("Unknown field.") for name in sorted(unknown)})
    creating = current is None
    given = set(EDITABLE) if creating else set(data)
    errors: dict = {}
    out: dict = {}
    if "title" in given:
        out["title"] = _text(errors, "title", data.get("title"), limit=MAX_TITLE, required=True)
    if "description" in given:
        out["description"] = _text(errors, "description", data.get("description"), limit=MAX_DESCRIPTION,
                                   multiline=True)  # fmt: skip
    if "place" in given:
        out["place"] = _text(errors, "place", data.get("place"), limit=MAX_PLACE)
    if "link" in given:
        out["link"] = _link(errors, "link", data.get("link"))
    if "capacity" in given:
        out["capacity"] = _capacity(errors, data.get("capacity"))
    if "speakers" in given:
        out["speakers"] = _speakers(errors, data.get("speakers"))
    if "host_department" in given:
        out["host_department"] = _department(errors, data.get("host_department"))
    for name in ("starts_at", "ends_at"):
        if name in given:
            out[name] = _moment(errors, name, data.get(name))
    starts = out.get("starts_at", current.starts_at if current else None)
    ends = out.get("ends_at", current.ends_at if current else None)
    now = timezone.now()
    if "starts_at" not in errors and "ends_at" not in errors and starts and ends:
        if "starts_at" in out and (creating or out["starts_at"] != current.starts_at) and starts <= now:
            errors["starts_at"] = _("The session cannot start in the past.")
        elif starts > now + MAX_AHEAD:
            errors["starts_at"] = _("Schedule at most three years ahead.")
        if ends <= starts:
            errors["ends_at"] = _("The session must end after it starts.")
        elif ends - starts > MAX_LENGTH:
            errors["ends_at"] = _("A session lasts at most seven days.")
    place = out.get("place", current.place if current else "")
    link = out.get("link", current.link if current else "")
    if "place" not in errors and "link" not in errors and not place and not link:
        errors["place"] = _("Give a place, an online link, or both.")
    if errors:
        raise Invalid(fields=errors)
    department = out.get("host_department")
    if department is not None and (creating or department.pk != current.host_department_id):
        _require(decide_session(actor, SessionAction.SCHEDULE, department))
    return out


def _when(session: Session) -> dict:
    return {"starts_at": session.starts_at.isoformat(), "ends_at": session.ends_at.isoformat()}


def _active_ids(session: Session, *statuses: str) -> list[int]:
    statuses = statuses or (Signup.Status.CONFIRMED, Signup.Status.WAITING)
    found = Signup.objects.filter(session=session, status__in=statuses).values_list("user_id", flat=True)
    return sorted(found)


def _locked(session: Session) -> Session:
    """The session's row, locked until the transaction ends (all seat changes go through here)."""
    return Session.objects.select_for_update().get(pk=session.pk)


@transaction.atomic
def schedule_session(actor, data: dict) -> Session:
    values = _validate(actor, dict(data))
    speakers = values.pop("speakers")
    session = Session.objects.create(**values, created_by=actor)
    _name_speakers(session, speakers)
    record(
        actor,
        "session.scheduled",
        session,
        departments=[session.host_department_id],
        details={
            "session": session.pk,
            "title": session.title,
            **_when(session),
            "capacity": session.capacity,
            "speakers": [s.pk for s in speakers],
            "recipients": [s.pk for s in speakers],
        },
    )
    return session


def _name_speakers(session: Session, speakers: list[User]) -> None:
    """Speakers in the order given: the through table's ids keep it (`set()` adds them in a set's order)."""
    through = Session.speakers.through
    through.objects.bulk_create([through(session=session, user=person) for person in speakers])


def _still_on(session: Session) -> None:
    if session.status == Session.Status.CANCELLED:
        raise Conflict(_("This session was cancelled."))


@transaction.atomic
def update_session(actor, session: Session, changes: dict) -> Session:
    """Change a session (its organizers); SEQUENCE goes up so calendars replace the invitation. Raising the
    capacity promotes from the waiting list; lowering it un-confirms nobody."""
    session = _locked(session)
    _require(decide_session(actor, SessionAction.MANAGE, session))
    _still_on(session)
    values = _validate(actor, dict(changes), current=session)
    speakers = values.pop("speakers", None)
    changed = sorted(name for name, value in values.items() if getattr(session, name) != value)
    if speakers is not None and [s.pk for s in speakers] != [s.pk for s in speakers_in_order(session)]:
        session.speakers.clear()
        _name_speakers(session, speakers)
        changed.append("speakers")
    if not changed:
        return session
    for name, value in values.items():
        setattr(session, name, value)
    session.sequence += 1
    session.save()
    if {"starts_at", "ends_at"} & set(changed):
        session.reminded_at = None  # a moved session is reminded of again
        session.save(update_fields=["reminded_at"])
    told = _active_ids(session) if NOTIFIED_CHANGES & set(changed) else []
    record(
        actor,
        "session.updated",
        session,
        departments=[session.host_department_id],
        details={"session": session.pk, "title": session.title, **_when(session), "fields": sorted(changed),
                 "place": session.place, "sequence": session.sequence, "recipients": told},
    )  # fmt: skip
    if "capacity" in changed:
        _promote(actor, session)
    return session


@transaction.atomic
def cancel_session(actor, session: Session, reason: str = "") -> Session:
    session = _locked(session)
    _require(decide_session(actor, SessionAction.MANAGE, session))
    _still_on(session)
    errors: dict = {}
    reason = _text(errors, "reason", reason, limit=MAX_REASON, multiline=True)
    if errors:
        raise Invalid(fields=errors)
    session.status = Session.Status.CANCELLED
    session.sequence += 1
    session.save(update_fields=["status", "sequence", "updated_at"])
    record(
        actor,
        "session.cancelled",
        session,
        departments=[session.host_department_id],
        details={"session": session.pk, "title": session.title, **_when(session), "reason": reason,
                 "recipients": _active_ids(session)},
    )  # fmt: skip
    return session


# --- seats


def _confirmed_count(session: Session) -> int:
    return Signup.objects.filter(session=session, status=Signup.Status.CONFIRMED).count()


def _promote(actor, session: Session) -> list[Signup]:
    """Give free seats to the waiting list, first come first served; each promoted person is told. The caller
    holds the session's lock."""
    free = session.capacity - _confirmed_count(session)
    if free <= 0:
        return []
    waiting = Signup.objects.filter(session=session, status=Signup.Status.WAITING).order_by("signed_up_at", "pk")
    promoted = list(waiting[:free])
    for signup in promoted:
        signup.status = Signup.Status.CONFIRMED
        signup.save(update_fields=["status"])
        record(
            actor,
            "session.promoted",
            session,
            departments=[session.host_department_id],
            details={"session": session.pk, "title": session.title, "person": signup.user_id, **_when(session),
                     "recipients": [signup.user_id]},
        )  # fmt: skip
    return promoted


def _open_for_signups(session: Session) -> None:
    _still_on(session)
    if session.starts_at <= timezone.now():
        raise Conflict(_("This session has already started."))


@transaction.atomic
def sign_up(actor, session: Session) -> Signup:
    """A seat if one is left, else a place on the waiting list."""
    _require(decide_session(actor, SessionAction.SEE, session))
    if getattr(actor, "is_service", False):
        raise Forbidden(_("Service accounts do not sign up for sessions."))
    session = _locked(session)
    _open_for_signups(session)
    signup = Signup.objects.filter(session=session, user_id=actor.pk).first()
    if signup is not None and signup.status != Signup.Status.CANCELLED:
        raise Conflict(_("You are already signed up for this session."))
    status = Signup.Status.CONFIRMED if _confirmed_count(session) < session.capacity else Signup.Status.WAITING
    if signup is None:
        signup = Signup(session=session, user=actor)
    signup.status, signup.signed_up_at, signup.attended = status, timezone.now(), None
    signup.save()
    record(
        actor,
        "session.signed_up",
        session,
        departments=[session.host_department_id],
        details={"session": session.pk, "title": session.title, "status": status},
    )
    return signup


@transaction.atomic
def cancel_signup(actor, session: Session) -> list[Signup]:
    """Give up one's seat (or place on the waiting list); a freed seat goes to the first waiting, who is told.
    Returns the sign-ups promoted."""
    _require(decide_session(actor, SessionAction.SEE, session))
    session = _locked(session)
    _open_for_signups(session)
    signup = Signup.objects.filter(session=session, user_id=actor.pk).exclude(status=Signup.Status.CANCELLED).first()
    if signup is None:
        raise Conflict(_("You are not signed up for this session."))
    was = signup.status
    signup.status = Signup.Status.CANCELLED
    signup.save(update_fields=["status"])
    record(
        actor,
        "session.signup_cancelled",
        session,
        departments=[session.host_department_id],
        details={"session": session.pk, "title": session.title, "status": was},
    )
    return _promote(actor, session) if was == Signup.Status.CONFIRMED else []


# --- reminders (a periodic job of the worker)


def send_reminders(now: datetime | None = None) -> int:
    """Remind the confirmed attendees of each session starting within SHARING_SESSION_REMINDER_HOURS, once per
    session (`reminded_at`). Returns how many sessions were reminded of."""
    now = now or timezone.now()
    horizon = now + timedelta(hours=settings.SHARING_SESSION_REMINDER_HOURS)
    due = Session.objects.filter(
        status=Session.Status.SCHEDULED, reminded_at__isnull=True, starts_at__gt=now, starts_at__lte=horizon
    ).order_by("starts_at", "pk")
    return sum(_remind(pk, now) for pk in list(due.values_list("pk", flat=True)[:500]))


@transaction.atomic
def _remind(session_id: int, now: datetime) -> int:
    session = Session.objects.select_for_update().filter(pk=session_id).first()
    if session is None or session.reminded_at is not None or session.status != Session.Status.SCHEDULED:
        return 0  # another worker reminded meanwhile, or it was cancelled
    session.reminded_at = now
    session.save(update_fields=["reminded_at"])
    record(
        None,
        "session.reminder",
        session,
        departments=[session.host_department_id],
        details={"session": session.pk, "title": session.title, **_when(session), "place": session.place,
                 "recipients": _active_ids(session, Signup.Status.CONFIRMED)},
    )  # fmt: skip
    return 1


# --- after the session: materials, recording, attendance, ratings


def add_material(actor, session: Session, filename: str, chunks) -> SessionMaterial:
    """Store a file (content-addressed, like catalog attachments, within the upload limit) and attach it. The
    file is written before the transaction; an orphan blob file left by a failed one is harmless."""
    name = files.clean_filename(filename)
    _require(decide_session(actor, SessionAction.MANAGE, session))
    sha256, size, tmp_path = files.store_upload(chunks)
    with open(tmp_path, "rb") as handle:
        head = handle.read(8192)
    mime = files.sniff_type(head, name)
    files.commit_blob(sha256, tmp_path)
    with transaction.atomic():
        session = _locked(session)
        _require(decide_session(actor, SessionAction.MANAGE, session))
        if SessionMaterial.objects.filter(session=session).count() >= MAX_MATERIALS:
            raise Invalid(fields={"file": _("At most %(n)s files per session.") % {"n": MAX_MATERIALS}})
        blob = Blob.objects.filter(sha256=sha256).first()
        if blob is None:
            status = Blob.TextStatus.PENDING if extract.has_text(mime) else Blob.TextStatus.NONE
            blob = Blob.objects.create(sha256=sha256, size=size, mime_type=mime, text_status=status)
            if status == Blob.TextStatus.PENDING:
                transaction.on_commit(worker.wake)
        material = SessionMaterial.objects.create(session=session, blob=blob, filename=name, uploaded_by=actor)
        record(
            actor,
            "session.material_added",
            session,
            departments=[session.host_department_id],
            details={"session": session.pk, "title": session.title, "material": material.pk, "filename": name,
                     "size": size, "sha256": sha256, "mime_type": mime,
                     "recipients": _active_ids(session, Signup.Status.CONFIRMED)},
        )  # fmt: skip
    return material


@transaction.atomic
def remove_material(actor, material: SessionMaterial) -> None:
    session = _locked(material.session)
    _require(decide_session(actor, SessionAction.MANAGE, session))
    record(
        actor,
        "session.material_removed",
        session,
        departments=[session.host_department_id],
        details={"session": session.pk, "title": session.title, "material": material.pk,
                 "filename": material.filename},
    )  # fmt: skip
    material.delete()  # the blob stays: content-addressed, it may be attached elsewhere


@transaction.atomic
def set_recording(actor, session: Session, url: str) -> Session:
    session = _locked(session)
    _require(decide_session(actor, SessionAction.MANAGE, session))
    errors: dict = {}
    url = _link(errors, "recording_url", url)
    if errors:
        raise Invalid(fields=errors)
    if url == session.recording_url:
        return session
    session.recording_url = url
    session.save(update_fields=["recording_url", "updated_at"])
    record(
        actor,
        "session.recording_set",
        session,
        departments=[session.host_department_id],
        details={"session": session.pk, "title": session.title, "recording_url": url,
                 "recipients": _active_ids(session, Signup.Status.CONFIRMED) if url else []},
    )  # fmt: skip
    return session


def _started(session: Session) -> None:
    _still_on(session)
    if session.starts_at > timezone.now():
        raise Conflict(_("This session has not started yet."))


@transaction.atomic
def mark_attendance(actor, session: Session, present) -> dict:
    """Record who of the confirmed came (`present`: their user ids); the other confirmed did not."""
    session = _locked(session)
    _require(decide_session(actor, SessionAction.MANAGE, session))
    _started(session)
    if not isinstance(present, list | tuple | set):
        raise Invalid(fields={"present": _("Give a list of people.")})
    ids = {parse_id(p) for p in present}
    if None in ids:
        raise Invalid(fields={"present": _("Give a list of people.")})
    confirmed = Signup.objects.filter(session=session, status=Signup.Status.CONFIRMED)
    known = set(confirmed.values_list("user_id", flat=True))
    if ids - known:
        raise Invalid(fields={"present": _("Only people with a confirmed seat can be marked present.")})
    came = confirmed.filter(user_id__in=ids).update(attended=True)
    missed = confirmed.exclude(user_id__in=ids).update(attended=False)
    record(
        actor,
        "session.attendance_marked",
        session,
        departments=[session.host_department_id],
        details={"session": session.pk, "title": session.title, "present": came, "absent": missed},
    )
    return {"present": came, "absent": missed}


def credited_person_id(session: Session) -> int | None:
    """Whose work a session is, for recognition: its first speaker, else whoever scheduled it."""
    speakers = speakers_in_order(session)
    return speakers[0].pk if speakers else session.created_by_id


@transaction.atomic
def rate_session(actor, session: Session, stars, comment: str = "") -> SessionRating:
    """A confirmed attendee rates 1–5 with a comment, once (a second rating changes the first). A rating by
    someone of another department than the host credits the session's first speaker and the host."""
    _require(decide_session(actor, SessionAction.SEE, session))
    session = Session.objects.get(pk=session.pk)
    _started(session)
    errors: dict = {}
    if isinstance(stars, str) and stars.strip() in {"1", "2", "3", "4", "5"}:
        stars = int(stars.strip())
    if isinstance(stars, bool) or stars not in (1, 2, 3, 4, 5):
        errors["stars"] = _("Choose 1 to 5 stars.")
    comment = _text(errors, "comment", comment, limit=MAX_COMMENT, multiline=True)
    if errors:
        raise Invalid(fields=errors)
    signup = Signup.objects.filter(session=session, user_id=actor.pk, status=Signup.Status.CONFIRMED).first()
    if signup is None:
        raise Forbidden(_("Only people who had a seat rate a session."))
    if signup.attended is False:
        raise Forbidden(_("The organizers marked you absent from this session."))
    rating = SessionRating.objects.filter(session=session, user_id=actor.pk).first()
    changed = rating is not None
    if rating is None:
        rating = SessionRating(session=session, user=actor)
    rating.stars, rating.comment = stars, comment
    rating.save()
    credited = points.credit(
        Credit.Kind.SESSION,
        actor=actor,
        item=f"session:{session.pk}",
        item_label=session.title,
        person=credited_person_id(session),
        department_id=session.host_department_id,
    )
    record(
        actor,
        "session.rated",
        session,
        departments=[session.host_department_id],
        details={"session": session.pk, "title": session.title, "stars": stars, "changed": changed,
                 "credited": credited is not None},
    )  # fmt: skip
    return rating


# --- the personal calendar feed


@transaction.atomic
def renew_feed(actor) -> None:
    """A new address for the actor's calendar feed; the old one stops working."""
    if getattr(actor, "pk", None) is None or getattr(actor, "is_service", False):
        raise Forbidden()
    CalendarFeed.objects.update_or_create(user_id=actor.pk, defaults={"nonce": secrets.token_urlsafe(12)})
    record(actor, "session.feed_renewed", actor)


def register() -> None:
    """Called once from KnowledgeConfig.ready: event descriptions, notification sentences, the reminder job."""
    from sharehub.knowledge import sessions_text

    sessions_text.register()
    worker.register_periodic("session reminders", send_reminders)
