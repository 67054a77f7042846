"""REST API of the sharing sessions (分享会): list, schedule, read, change, cancel, sign up, give up a seat, rate,
materials. Thin: `sessions_queries` reads through the policy, `sessions` writes."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Literal

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from sharehub.catalog import files
from sharehub.catalog.markdown import render_markdown
from sharehub.errors import Invalid
from sharehub.knowledge import sessions
from sharehub.knowledge import sessions_queries as queries
from sharehub.knowledge.models import Session, SessionMaterial, Signup
from sharehub.org.api import department_ref, person_ref
from sharehub.org.schemas import BodyId, BodyInt, DbId, DepartmentRef, PersonRef, StrictSchema, UtcDateTime
from sharehub.policy.knowledge import SessionAction, decide_session
from sharehub.validation import MAX_DB_INT

router = Router(tags=["knowledge"])

MAX_PAGE = 100


class MySignupOut(Schema):
    status: Literal["confirmed", "waiting", "cancelled"]
    waiting_position: int | None = Field(None, description="1 for the first on the waiting list")


class RatingSummary(Schema):
    average: float | None
    count: int


class SessionOut(Schema):
    id: int
    title: str
    description: str = Field(description="Markdown")
    description_html: str = Field(description="The description rendered to safe HTML")
    host_department: DepartmentRef
    speakers: list[PersonRef] = Field(description="In the order named; the first is credited for ratings")
    starts_at: datetime
    ends_at: datetime
    place: str
    link: str
    capacity: int
    confirmed: int
    waiting: int
    seats_left: int
    status: Literal["scheduled", "cancelled"]
    sequence: int = Field(description="iCalendar SEQUENCE: raised on each change")
    recording_url: str
    rating: RatingSummary
    my_signup: MySignupOut | None = Field(None, description="The caller's sign-up; null when not signed up")
    can_manage: bool
    url: str
    ics_url: str
    created_at: datetime
    updated_at: datetime


class SessionFilterIn(Schema):
    when: str = Field("upcoming", pattern="^(upcoming|past|all)$", description="upcoming, past or all")
    department: DbId | None = Field(None, description="Host department id")
    starts_from: UtcDateTime | None = Field(None, alias="from", description="Starting at or after")
    starts_before: UtcDateTime | None = Field(None, alias="to", description="Starting before")


class SessionPage(Schema):
    items: list[SessionOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null on the last page.")


class _SessionFields(StrictSchema):
    title: str | None = Field(None, max_length=sessions.MAX_TITLE)
    description: str | None = Field(None, max_length=sessions.MAX_DESCRIPTION, description="Markdown")
    host_department: BodyId | None = None
    speakers: list[BodyId] | None = Field(None, max_length=sessions.MAX_SPEAKERS, description="Person ids, in order")
    starts_at: UtcDateTime | None = Field(None, description="ISO 8601 with a zone; without one, UTC")
    ends_at: UtcDateTime | None = None
    place: str | None = Field(None, max_length=sessions.MAX_PLACE)
    link: str | None = Field(None, max_length=sessions.MAX_LINK, description="http:// or https://")
    capacity: BodyInt | None = Field(None, ge=1, le=sessions.MAX_CAPACITY)


class SessionCreateIn(_SessionFields):
    title: str = Field(max_length=sessions.MAX_TITLE)
    host_department: BodyId
    starts_at: UtcDateTime
    ends_at: UtcDateTime
    capacity: BodyInt = Field(ge=1, le=sessions.MAX_CAPACITY)


class SessionPatchIn(_SessionFields):
    recording_url: str | None = Field(None, max_length=sessions.MAX_LINK, description="Set after the session")


class CancelIn(StrictSchema):
    reason: str = Field("", max_length=sessions.MAX_REASON)


class SessionRatingIn(StrictSchema):
    stars: BodyInt = Field(ge=1, le=5)
    comment: str = Field("", max_length=sessions.MAX_COMMENT)


class SessionRatingOut(Schema):
    session: int
    stars: int
    comment: str
    created_at: datetime


class SignupOut(Schema):
    session: int
    status: Literal["confirmed", "waiting", "cancelled"]
    waiting_position: int | None


class CancelSignupOut(Schema):
    session: int
    promoted: int = Field(description="How many on the waiting list got a seat")


class AttendanceIn(StrictSchema):
    present: list[BodyId] = Field(max_length=sessions.MAX_CAPACITY, description="Ids of those who came")


class AttendanceOut(Schema):
    present: int
    absent: int


class MaterialOut(Schema):
    id: int
    filename: str
    size: int
    mime_type: str
    sha256: str
    uploaded_by: PersonRef | None
    created_at: datetime
    download_url: str


# --- serializing


def _session(actor, session: Session, *, position: int | None = None) -> dict:
    status = getattr(session, "my_status", None)
    mine = None
    if status in (Signup.Status.CONFIRMED, Signup.Status.WAITING):
        mine = {"status": status, "waiting_position": position}
    average = session.rating_average
    return {
        "id": session.pk,
        "title": session.title,
        "description": session.description,
        "description_html": render_markdown(session.description),
        "host_department": department_ref(session.host_department),
        "speakers": [person_ref(u) for u in session.speakers.all()],
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "place": session.place,
        "link": session.link,
        "capacity": session.capacity,
        "confirmed": session.confirmed_count,
        "waiting": session.waiting_count,
        "seats_left": max(session.capacity - session.confirmed_count, 0),
        "status": session.status,
        "sequence": session.sequence,
        "recording_url": session.recording_url,
        "rating": {"average": round(float(average), 2) if average is not None else None, "count": session.rating_count},
        "my_signup": mine,
        "can_manage": bool(decide_session(actor, SessionAction.MANAGE, session)),
        "url": reverse("knowledge:session", args=[session.pk]),
        "ics_url": reverse("knowledge:session-ics", args=[session.pk]),
        "created_at": session.created_at,
        "updated_at": session.updated_at,
    }


def _one(actor, pk: int) -> dict:
    session = queries.access_session(actor, pk)
    position = queries.waiting_position(queries.signup_of(actor, session))
    return _session(actor, session, position=position)


# --- the cursor: the list's (starts_at, id) order, opaque to clients


def _encode_cursor(session: Session) -> str:
    raw = f"{session.starts_at.isoformat()}|{session.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, *, descending: bool) -> Q:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, pk = raw.rsplit("|", 1)
        starts_at, pk = datetime.fromisoformat(stamp).astimezone(UTC), int(pk)
        if not 0 < pk <= MAX_DB_INT:
            raise ValueError(pk)
    except (ValueError, OverflowError, UnicodeDecodeError, binascii.Error):
        raise Invalid(fields={"cursor": _("This cursor is not one the API gave out.")}) from None
    if descending:
        return Q(starts_at__lt=starts_at) | Q(starts_at=starts_at, pk__lt=pk)
    return Q(starts_at__gt=starts_at) | Q(starts_at=starts_at, pk__gt=pk)


# --- routes


@router.get("/sessions", response=SessionPage, summary="Sharing sessions: upcoming soonest first, or past latest first")
def list_sessions(
    request,
    params: Query[SessionFilterIn],
    cursor: str | None = Query(None, description="`next_cursor` of the previous page"),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
):
    when = params.when
    filters = queries.Filters(
        department=params.department, when=when, starts_from=params.starts_from, starts_before=params.starts_before
    )
    found = queries.list_sessions(request.user, filters)
    if cursor:
        found = found.filter(_decode_cursor(cursor, descending=when == "past"))
    page = list(queries.annotated(found, request.user)[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return {
        "items": [_session(request.user, s) for s in page],
        "next_cursor": _encode_cursor(page[-1]) if more else None,
    }


@router.post("/sessions", response={201: SessionOut}, summary="Schedule a session (members of the host department)")
def create_session(request, payload: SessionCreateIn):
    data = payload.model_dump(exclude_unset=True)
    data.setdefault("speakers", [])
    session = sessions.schedule_session(request.user, data)
    return Status(201, _one(request.user, session.pk))


@router.get("/sessions/{session_id}", response=SessionOut, summary="One session")
def get_session(request, session_id: DbId):
    return _one(request.user, session_id)


@router.patch(
    "/sessions/{session_id}",
    response=SessionOut,
    summary="Change a session (its organizers); those signed up are told of a new time or place",
)
def update_session(request, session_id: DbId, payload: SessionPatchIn):
    session = queries.access_session(request.user, session_id, SessionAction.MANAGE)
    changes = payload.model_dump(exclude_unset=True)
    recording = changes.pop("recording_url", None)
    if changes:
        sessions.update_session(request.user, session, changes)
    if recording is not None:
        sessions.set_recording(request.user, session, recording)
    return _one(request.user, session.pk)


@router.post(
    "/sessions/{session_id}/cancel", response=SessionOut, summary="Cancel a session; everyone signed up is told"
)
def cancel_session(request, session_id: DbId, payload: CancelIn):
    session = queries.access_session(request.user, session_id, SessionAction.MANAGE)
    sessions.cancel_session(request.user, session, payload.reason)
    return _one(request.user, session.pk)


@router.post(
    "/sessions/{session_id}/signup",
    response={201: SignupOut},
    summary="Sign up: a seat while seats are left, else the waiting list",
)
def sign_up(request, session_id: DbId):
    session = queries.access_session(request.user, session_id)
    signup = sessions.sign_up(request.user, session)
    return Status(
        201, {"session": session.pk, "status": signup.status, "waiting_position": queries.waiting_position(signup)}
    )


@router.delete(
    "/sessions/{session_id}/signup",
    response=CancelSignupOut,
    summary="Give up one's seat or waiting-list place; the first waiting gets the seat",
)
def cancel_signup(request, session_id: DbId):
    session = queries.access_session(request.user, session_id)
    promoted = sessions.cancel_signup(request.user, session)
    return {"session": session.pk, "promoted": len(promoted)}


@router.put(
    "/sessions/{session_id}/rating",
    response=SessionRatingOut,
    summary="Rate 1–5 with a comment (those who had a seat, once it started); again to change it",
)
def rate_session(request, session_id: DbId, payload: SessionRatingIn):
    session = queries.access_session(request.user, session_id)
    rating = sessions.rate_session(request.user, session, payload.stars, payload.comment)
    return {"session": session.pk, "stars": rating.stars, "comment": rating.comment, "created_at": rating.created_at}


@router.post(
    "/sessions/{session_id}/attendance",
    response=AttendanceOut,
    summary="Mark who of those with a seat came (organizers, once it started)",
)
def mark_attendance(request, session_id: DbId, payload: AttendanceIn):
    session = queries.access_session(request.user, session_id, SessionAction.MANAGE)
    return sessions.mark_attendance(request.user, session, payload.present)


def _material(session: Session, material: SessionMaterial) -> dict:
    return {
        "id": material.pk,
        "filename": material.filename,
        "size": material.blob.size,
        "mime_type": material.blob.mime_type,
        "sha256": material.blob.sha256,
        "uploaded_by": person_ref(material.uploaded_by),
        "created_at": material.created_at,
        "download_url": reverse("api:download_session_material", args=[session.pk, material.pk]),
    }


@router.get("/sessions/{session_id}/materials", response=list[MaterialOut], summary="The session's materials")
def list_materials(request, session_id: DbId):
    session = queries.access_session(request.user, session_id)
    return [_material(session, m) for m in queries.materials_of(session)]


@router.post(
    "/sessions/{session_id}/materials",
    response={201: MaterialOut},
    summary="Upload a material (organizers; multipart field `file`)",
)
def upload_material(request, session_id: DbId, file: File[UploadedFile]):
    session = queries.access_session(request.user, session_id, SessionAction.MANAGE)
    material = sessions.add_material(request.user, session, file.name, file.chunks())
    material = queries.materials_of(session).get(pk=material.pk)
    return Status(201, _material(session, material))


@router.get(
    "/sessions/{session_id}/materials/{material_id}",
    url_name="download_session_material",
    response={200: None},
    summary="Download a material",
)
def download_material(request, session_id: DbId, material_id: DbId):
    _session_obj, material = queries.access_material(request.user, session_id, material_id)
    return files.download(material.blob.sha256, material.filename, material.blob.mime_type)


@router.delete(
    "/sessions/{session_id}/materials/{material_id}", response={204: None}, summary="Remove a material (organizers)"
)
def delete_material(request, session_id: DbId, material_id: DbId):
    _session_obj, material = queries.access_material(request.user, session_id, material_id)
    sessions.remove_material(request.user, material)
    return Status(204, None)
