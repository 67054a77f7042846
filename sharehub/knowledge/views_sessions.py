"""Pages of the sharing sessions (分享会). Thin: parse, call `sessions_queries` and `sessions`, render.

/sessions/            upcoming sessions, a list (filter by department)
/sessions/calendar/   a month: a grid on wide screens, a list of days on phones
/sessions/past/       past sessions with their ratings
/sessions/<id>/       one session: seats left, sign-up, waiting-list position, materials, ratings
/sessions/feed/<token>.ics   a person's subscribable calendar (no sign-in: the signed token is the key)
"""

from __future__ import annotations

import calendar as monthly
from datetime import date, datetime, timedelta

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sharehub.catalog import files
from sharehub.catalog.forms import UploadForm
from sharehub.catalog.markdown import render_markdown
from sharehub.catalog.views import page
from sharehub.errors import Conflict, Invalid, TooLarge
from sharehub.knowledge import sessions, sessions_ics
from sharehub.knowledge import sessions_queries as queries
from sharehub.knowledge.models import Session, Signup
from sharehub.knowledge.sessions_forms import SessionForm
from sharehub.org.models import Department
from sharehub.policy.knowledge import SessionAction, decide_session
from sharehub.validation import parse_id

PAGE_SIZE = 20
MONTH_LIMIT = 500  # sessions shown in one month's grid


def _departments() -> list[Department]:
    return list(Department.objects.filter(archived_at__isnull=True).order_by("path").only("pk", "name", "path"))


def _department_filter(request) -> int | None:
    raw = request.GET.get("department")
    return parse_id(raw) if raw else None


def _list_context(request, department: int | None) -> dict:
    departments = _departments()
    return {
        "departments": departments,
        "department": department,
        "can_schedule": any(decide_session(request.user, SessionAction.SCHEDULE, d) for d in departments),
    }


def _paged(request, queryset):
    paginator = Paginator(queryset, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    return page_obj, list(page_obj.object_list)


@require_GET
@page
def session_list(request):
    department = _department_filter(request)
    found = queries.list_sessions(request.user, queries.Filters(department=department, when="upcoming"))
    page_obj, rows = _paged(request, queries.annotated(found, request.user))
    context = {**_list_context(request, department), "page_obj": page_obj, "sessions": rows, "tab": "upcoming"}
    return render(request, "knowledge/sessions/list.html", context)


@require_GET
@page
def session_past(request):
    department = _department_filter(request)
    found = queries.list_sessions(request.user, queries.Filters(department=department, when="past"))
    page_obj, rows = _paged(request, queries.annotated(found, request.user))
    context = {**_list_context(request, department), "page_obj": page_obj, "sessions": rows, "tab": "past"}
    context["past"] = True
    return render(request, "knowledge/sessions/list.html", context)


def _month(raw: str | None) -> date:
    today = timezone.localdate()
    try:
        year, month = (int(part) for part in (raw or "").split("-"))
        if 1970 <= year <= 9998 and 1 <= month <= 12:
            return date(year, month, 1)
    except ValueError:
        pass
    return today.replace(day=1)


@require_GET
@page
def session_calendar(request):
    department = _department_filter(request)
    first = _month(request.GET.get("month"))
    weeks = monthly.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    zone = timezone.get_current_timezone()
    start = datetime.combine(weeks[0][0], datetime.min.time(), tzinfo=zone)
    end = datetime.combine(weeks[-1][-1] + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    filters = queries.Filters(department=department, when="all", starts_from=start, starts_before=end)
    rows = list(queries.annotated(queries.list_sessions(request.user, filters), request.user)[:MONTH_LIMIT])
    by_day: dict[date, list[Session]] = {}
    for session in rows:
        by_day.setdefault(timezone.localtime(session.starts_at).date(), []).append(session)
    today = timezone.localdate()
    grid = [[{"day": d, "sessions": by_day.get(d, []), "other": d.month != first.month, "today": d == today}
             for d in week] for week in weeks]  # fmt: skip
    days = [cell for week in grid for cell in week if cell["sessions"] and not cell["other"]]
    previous = (first - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    context = {
        **_list_context(request, department),
        "tab": "calendar",
        "month": first,
        "grid": grid,
        "days": days,
        "weekdays": [weeks[0][i] for i in range(7)],
        "previous": previous.strftime("%Y-%m"),
        "following": following.strftime("%Y-%m"),
        "this_month": today.replace(day=1).strftime("%Y-%m"),
    }
    return render(request, "knowledge/sessions/calendar.html", context)


def _detail(request, session: Session, *, rating_form=None, upload_error=None, status=200):
    user = request.user
    signup = queries.signup_of(user, session)
    manage = bool(decide_session(user, SessionAction.MANAGE, session))
    now = timezone.now()
    started = session.starts_at <= now
    cancelled = session.status == Session.Status.CANCELLED
    my_rating = queries.rating_of(user, session)
    context = {
        "session": session,
        "speakers": list(session.speakers.all()),
        "description_html": render_markdown(session.description),
        "signup": signup,
        "active": signup is not None and signup.status != Signup.Status.CANCELLED,
        "position": queries.waiting_position(signup),
        "seats_left": max(session.capacity - session.confirmed_count, 0),
        "can_manage": manage,
        "started": started,
        "ended": session.ends_at <= now,
        "cancelled": cancelled,
        "open_for_signup": not cancelled and not started,
        "materials": list(queries.materials_of(session)),
        "ratings": list(queries.ratings_of(session)[:50]),
        "my_rating": my_rating,
        "may_rate": started
        and not cancelled
        and signup is not None
        and signup.status == Signup.Status.CONFIRMED
        and signup.attended is not False,
        "rating_error": rating_form,
        "upload_form": UploadForm(),
        "upload_error": upload_error,
        "attendees": list(queries.signups(session)) if manage else [],
        "stars": range(1, 6),
    }
    return render(request, "knowledge/sessions/detail.html", context, status=status)


@require_GET
@page
def session_detail(request, pk):
    return _detail(request, queries.access_session(request.user, pk))


def _form_page(request, form, session=None, status=200):
    return render(request, "knowledge/sessions/form.html", {"form": form, "session": session}, status=status)


def _save(request, form, save):
    """Parse, call `save(values)`; a service's field errors go back onto the form."""
    if not form.is_valid():
        return None
    try:
        values = form.values()
    except forms.ValidationError:
        return None
    try:
        return save(values)
    except Invalid as error:
        form.add_service_errors(error.fields or {"__all__": error.message})
        return None


@require_http_methods(["GET", "POST"])
@page
def session_create(request):
    if request.method == "POST":
        form = SessionForm(request.user, request.POST)
        session = _save(request, form, lambda values: sessions.schedule_session(request.user, values))
        if session is None:
            return _form_page(request, form, status=422)
        messages.success(request, _("The session is scheduled."))
        return redirect("knowledge:session", pk=session.pk)
    form = SessionForm(request.user)
    if not form.fields["host_department"].choices:
        return render(
            request, "catalog/forbidden.html", {"message": _("Only members of a department host sessions for it.")},
            status=403,
        )  # fmt: skip
    return _form_page(request, form)


@require_http_methods(["GET", "POST"])
@page
def session_edit(request, pk):
    session = queries.access_session(request.user, pk, SessionAction.MANAGE)
    if session.status == Session.Status.CANCELLED:
        raise Conflict(_("This session was cancelled."))
    if request.method == "POST":
        form = SessionForm(request.user, request.POST, session=session)
        saved = _save(request, form, lambda values: sessions.update_session(request.user, session, values))
        if saved is None:
            return _form_page(request, form, session, status=422)
        messages.success(request, _("Saved."))
        return redirect("knowledge:session", pk=session.pk)
    return _form_page(request, SessionForm(request.user, session=session), session)


@require_POST
@page
def session_cancel(request, pk):
    session = queries.access_session(request.user, pk, SessionAction.MANAGE)
    sessions.cancel_session(request.user, session, request.POST.get("reason", ""))
    messages.success(request, _("The session is cancelled; those signed up are told."))
    return redirect("knowledge:session", pk=session.pk)


@require_POST
@page
def signup_add(request, pk):
    session = queries.access_session(request.user, pk)
    signup = sessions.sign_up(request.user, session)
    if signup.status == Signup.Status.CONFIRMED:
        messages.success(request, _("You have a seat."))
    else:
        messages.info(request, _("The session is full: you are on the waiting list, and told if a seat frees up."))
    return redirect("knowledge:session", pk=session.pk)


@require_POST
@page
def signup_cancel(request, pk):
    session = queries.access_session(request.user, pk)
    sessions.cancel_signup(request.user, session)
    messages.success(request, _("You are no longer signed up."))
    return redirect("knowledge:session", pk=session.pk)


def _ics_response(body: bytes, filename: str | None = None) -> HttpResponse:
    response = HttpResponse(body, content_type=sessions_ics.CONTENT_TYPE)
    if filename:
        response["Content-Disposition"] = files.content_disposition(filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@page
def session_ics(request, pk):
    session = queries.access_session(request.user, pk)
    url = request.build_absolute_uri(reverse("knowledge:session", args=[session.pk]))
    body = sessions_ics.invitation(session, url, reader=request.user, mine=getattr(session, "my_status", None))
    return _ics_response(body, f"session-{session.pk}.ics")


@require_POST
@page
def material_add(request, pk):
    session = queries.access_session(request.user, pk, SessionAction.MANAGE)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail(request, session, upload_error=_("Choose a file to upload."), status=422)
    upload = form.cleaned_data["file"]
    try:
        material = sessions.add_material(request.user, session, upload.name, upload.chunks())
    except TooLarge as error:
        return _detail(request, session, upload_error=error.message, status=413)
    except Invalid as error:
        message = " ".join(str(m) for m in error.fields.values()) or error.message
        return _detail(request, session, upload_error=message, status=422)
    messages.success(request, _("Added %(name)s.") % {"name": material.filename})
    return redirect(reverse("knowledge:session", args=[session.pk]) + "#materials")


@require_http_methods(["GET", "HEAD"])
@page
def material_download(request, pk, mid):
    _session, material = queries.access_material(request.user, pk, mid)
    return files.download(material.blob.sha256, material.filename, material.blob.mime_type)


@require_POST
@page
def material_remove(request, pk, mid):
    session, material = queries.access_material(request.user, pk, mid)
    sessions.remove_material(request.user, material)
    messages.success(request, _("Removed %(name)s.") % {"name": material.filename})
    return redirect(reverse("knowledge:session", args=[session.pk]) + "#materials")


@require_POST
@page
def recording_set(request, pk):
    session = queries.access_session(request.user, pk, SessionAction.MANAGE)
    try:
        sessions.set_recording(request.user, session, request.POST.get("recording_url", ""))
    except Invalid as error:
        messages.error(request, " ".join(str(m) for m in error.fields.values()) or str(error.message))
    else:
        messages.success(request, _("Saved."))
    return redirect(reverse("knowledge:session", args=[session.pk]) + "#after")


@require_POST
@page
def attendance_mark(request, pk):
    session = queries.access_session(request.user, pk, SessionAction.MANAGE)
    counts = sessions.mark_attendance(request.user, session, request.POST.getlist("present"))
    messages.success(request, _("Attendance saved: %(present)s present, %(absent)s absent.") % counts)
    return redirect(reverse("knowledge:session", args=[session.pk]) + "#attendance")


@require_POST
@page
def rate(request, pk):
    session = queries.access_session(request.user, pk)
    try:
        sessions.rate_session(request.user, session, request.POST.get("stars"), request.POST.get("comment", ""))
    except Invalid as error:
        message = " ".join(str(m) for m in error.fields.values()) or str(error.message)
        return _detail(request, queries.access_session(request.user, pk), rating_form=message, status=422)
    messages.success(request, _("Thank you for your rating."))
    return redirect(reverse("knowledge:session", args=[session.pk]) + "#ratings")


# --- the personal calendar feed


@require_GET
@page
def feed_page(request):
    url = request.build_absolute_uri(reverse("knowledge:session-feed", args=[queries.feed_token(request.user)]))
    return render(request, "knowledge/sessions/feed.html", {"feed_url": url, "tab": "feed"})


@require_POST
@page
def feed_renew(request):
    sessions.renew_feed(request.user)
    messages.success(request, _("Made a new address; the old one no longer works."))
    return redirect("knowledge:session-feed-page")


@require_GET
def feed_ics(request, token):
    """No sign-in: calendar apps fetch this. The token names the person; a replaced token is a 404."""
    user = queries.user_for_feed_token(token)
    if user is None:
        raise Http404()
    with translation.override(user.language or translation.get_language()):
        # cancelled ones too, marked so, until they would have ended: calendars then drop them
        filters = queries.Filters(when="all", starts_from=timezone.now() - timedelta(days=1))
        found = queries.list_sessions(user, filters).filter(ends_at__gt=timezone.now())
        rows = list(queries.annotated(found, user)[:MONTH_LIMIT])
        body = sessions_ics.feed(
            rows,
            lambda s: request.build_absolute_uri(reverse("knowledge:session", args=[s.pk])),
            name=_("Sharehub sharing sessions"),
        )
    response = _ics_response(body)
    response["Cache-Control"] = "private, max-age=300"
    return response
