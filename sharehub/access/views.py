"""The pages of the access process: requesting, deciding, grants. Thin: parse the request, call
queries and services, render. Service errors become pages through the catalog's `page` decorator
(NotFound 404, Forbidden 403 with the policy's reason); a decision that lost a race ("already
decided") comes back as a message on the request's page, not as an error page. Also the working-day
calendar: every signed-in person reads it, organization admins change it."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS, WEEKDAYS_ABBR
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from sharehub.access import calendar, holidays, queries, services
from sharehub.access.forms import AnswerForm, ApproveForm, QuestionForm, ReasonForm, RequestForm, status_choices
from sharehub.access.models import AccessRequest, CalendarDay, Grant, RequestNote
from sharehub.access.queries import RequestFilters
from sharehub.catalog import files
from sharehub.catalog import queries as catalog_queries
from sharehub.catalog.views import page
from sharehub.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge
from sharehub.org.queries import person_labels
from sharehub.policy.engine import Action, OrgAction, ProcessAction, can
from sharehub.validation import parse_id
from sharehub.web.redirects import back_to

PAGE_SIZE = 25
Status = AccessRequest.Status
STATUS_CSS = {
    Status.PENDING: "text-bg-primary",
    Status.PENDING_HEAD: "text-bg-info",
    Status.INFO: "text-bg-warning",
    Status.APPROVED: "text-bg-success",
    Status.REJECTED: "text-bg-danger",
    Status.WITHDRAWN: "text-bg-secondary",
}
GRANT_CSS = {
    "active": "text-bg-success",
    "future": "text-bg-info",
    "expired": "text-bg-secondary",
    "revoked": "text-bg-danger",
}


def _grant_state_labels() -> dict[str, str]:
    return {
        "active": _("active"),
        "future": _("not yet valid"),
        "expired": _("expired"),
        "revoked": _("revoked"),
    }


# --- deadlines ----------------------------------------------------------------------------------


def _deadline(access_request: AccessRequest, now, overrides=None) -> dict:
    """How a request's deadline reads: overdue, due in N working days, paused, or closed."""
    if access_request.status == Status.INFO:
        return {"state": "paused", "text": _("clock paused: waiting for the requester")}
    if not access_request.is_open:
        return {"state": "closed", "text": ""}
    if access_request.deadline_at <= now:
        days = (now - access_request.deadline_at).days
        if days == 0:
            return {"state": "overdue", "text": _("overdue by less than a day")}
        text = ngettext("overdue by %(n)s day", "overdue by %(n)s days", days) % {"n": days}
        return {"state": "overdue", "text": text}
    days = calendar.working_days_between(now, access_request.deadline_at, overrides)
    if days == 0:
        return {"state": "today", "text": _("due today")}
    if days == 1:
        return {"state": "soon", "text": _("due in 1 working day")}
    return {
        "state": "soon" if days <= 2 else "later",
        "text": _("due in %(n)s working days") % {"n": days},
    }


def days_left(until, now) -> str:
    """ "29 days left" (not Django's "4 weeks, 1 day"): calendar days from today to the day `until`
    falls on, in the reader's time zone; empty once past."""
    if until <= now:
        return ""
    days = (timezone.localdate(until) - timezone.localdate(now)).days
    if days == 0:
        return _("ends today")
    return ngettext("%(n)s day left", "%(n)s days left", days) % {"n": days}


def _rows(requests) -> list[dict]:
    """Table rows of requests, with each requester's name and departments (one query for the page)."""
    now = timezone.now()
    requests = list(requests)
    people = person_labels({r.requester_id for r in requests})
    latest = max((r.deadline_at for r in requests if r.is_open), default=now)
    overrides = calendar.overrides_between(now, latest) if latest > now else {}
    return [
        {
            "r": r,
            "css": STATUS_CSS.get(r.status, ""),
            "due": _deadline(r, now, overrides),
            "requester": people.get(r.requester_id),
        }
        for r in requests
    ]


def _status_filter(request, allowed: list[tuple[str, str]]) -> str:
    wanted = request.GET.get("status", "")
    return wanted if wanted in {value for value, _label in allowed} else ""


# --- requesting ---------------------------------------------------------------------------------


def _open_request_of(user, resource):
    return queries.my_requests(user, RequestFilters(status="open", resource=resource.pk)).first()


def _request_page(request, resource, form, *, status=200, duplicate=None):
    context = {
        "resource": resource,
        "form": form,
        "duplicate": duplicate if duplicate is not None else _open_request_of(request.user, resource),
        "dataset_fields": resource.dataset_fields or [],
    }
    return render(request, "access/request_form.html", context, status=status)


@page
def request_create(request, ident):
    resource = catalog_queries.access_resource(request.user, ident, Action.VIEW)
    decision = can(request.user, ProcessAction.REQUEST, resource)
    if not decision and decision.code == "already_readable":
        return render(request, "access/already_readable.html", {"resource": resource, "decision": decision})
    if not decision:
        context = {"resource": resource, "decision": decision, "steward": resource.steward}
        return render(request, "access/cannot_request.html", context, status=403)
    if request.method != "POST":
        wanted = {f.get("name") for f in resource.dataset_fields or []} & set(request.GET.getlist("fields"))
        initial = {"fields_wanted": sorted(wanted)} if wanted else None  # the one-source page names them
        return _request_page(request, resource, RequestForm(request.user, resource, initial=initial))
    form = RequestForm(request.user, resource, request.POST)
    if form.is_valid():
        try:
            created = services.create_request(request.user, resource, **form.values())
        except Invalid as error:
            form.add_service_errors(error.fields or {None: error.message})
        except Conflict as error:
            form.add_error(None, str(error.message))
            form.style()
            return _request_page(request, resource, form, status=409)
        else:
            messages.success(
                request,
                _("Request #%(id)s sent to %(dept)s. You will be notified of the decision.")
                % {"id": created.pk, "dept": resource.owner_department.name},
            )
            return redirect("access:detail", rid=created.pk)
    form.style()
    return _request_page(request, resource, form, status=422)


# --- my requests, request detail --------------------------------------------------------------


@page
def my_requests(request):
    choices = status_choices()
    status = _status_filter(request, choices)
    queryset = queries.my_requests(request.user, RequestFilters(status=status or None))
    page_obj = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"rows": _rows(page_obj.object_list), "page_obj": page_obj, "choices": choices, "status": status}
    return render(request, "access/my_requests.html", context)


def _grant_of(access_request: AccessRequest) -> Grant | None:
    try:
        return access_request.grant
    except Grant.DoesNotExist:
        return None


def _detail(request, access_request: AccessRequest, *, forms=None, status=200):
    user = request.user
    forms = forms or {}
    is_requester = access_request.requester_id == user.pk
    deciding = access_request.status in (Status.PENDING, Status.PENDING_HEAD)
    decide = can(user, ProcessAction.DECIDE, access_request) if deciding else None
    grant = _grant_of(access_request)
    notes = list(queries.notes_of(access_request))
    asked = [n for n in notes if n.kind == RequestNote.Kind.INFO_ASKED]
    state = queries.grant_state(grant) if grant else ""
    context = {
        "ar": access_request,
        "requester": person_labels([access_request.requester_id]).get(access_request.requester_id),
        "css": STATUS_CSS.get(access_request.status, ""),
        "due": _deadline(access_request, timezone.now()),
        "notes": notes,
        "question": asked[-1] if asked and access_request.status == Status.INFO else None,
        "is_requester": is_requester,
        "can_decide": bool(decide),
        "decide": decide,
        "grant": grant,
        "grant_state": state,
        "grant_css": GRANT_CSS.get(state, ""),
        "grant_label": _grant_state_labels().get(state, ""),
        "grant_left": days_left(grant.valid_until, timezone.now()) if state == "active" else "",
        "narrowed": queries.narrowing(access_request, grant) if grant else None,
        "can_revoke": bool(grant and can(user, ProcessAction.REVOKE, grant)),
        "approve_form": forms.get("approve") or (ApproveForm(access_request) if decide else None),
        "reject_form": forms.get("reject") or ReasonForm(prefix="reject"),
        "ask_form": forms.get("ask") or QuestionForm(),
        "answer_form": forms.get("answer") or AnswerForm(),
        "open_tab": forms.get("tab", ""),
    }
    return render(request, "access/request_detail.html", context, status=status)


@page
def request_detail(request, rid):
    return _detail(request, queries.access_request(request.user, rid))


def _back(access_request):
    return redirect("access:detail", rid=access_request.pk)


def _lost(request, error) -> None:
    messages.warning(request, str(error.message))


@require_POST
@page
def request_approve(request, rid):
    access_request = queries.access_request(request.user, rid)
    form = ApproveForm(access_request, request.POST)
    if access_request.is_open and form.is_valid():
        try:
            done = services.approve_request(request.user, access_request, **form.values())
        except Invalid as error:
            form.add_service_errors(error.fields or {None: error.message})
        except (Conflict, Forbidden) as error:
            _lost(request, error)
            return _back(access_request)
        else:
            if done.status == Status.PENDING_HEAD:
                messages.success(request, _("Approved; the request now awaits the head of the department."))
            else:
                messages.success(request, _("Approved. The grant is active now."))
            return _back(access_request)
    elif not access_request.is_open:
        messages.warning(
            request,
            _("This request was already decided (%(status)s).") % {"status": access_request.get_status_display()},
        )
        return _back(access_request)
    form.style()
    return _detail(request, access_request, forms={"approve": form, "tab": "approve"}, status=422)


def _text_step(
    request, rid, *, form, field: str, act, done, forms_key: str, tab: str | None, lost=(Conflict, Forbidden)
):
    """One decision or reply that takes a single text (a reason, a question, an answer): errors go
    back to the form on the request page (422); a lost race or a refusal is a message."""
    access_request = queries.access_request(request.user, rid)
    try:
        act(access_request, form.data.get(form.add_prefix(field), ""))
    except Invalid as error:
        form.is_valid()
        form.errors.clear()
        form.add_error(field, " ".join(str(m) for m in error.fields.values()) or str(error.message))
        form.style()
        forms = {forms_key: form, **({"tab": tab} if tab else {})}
        return _detail(request, access_request, forms=forms, status=422)
    except lost as error:
        _lost(request, error)
    else:
        messages.success(request, done)
    return _back(access_request)


@require_POST
@page
def request_reject(request, rid):
    return _text_step(
        request, rid,
        form=ReasonForm(request.POST, prefix="reject"), field="reason", forms_key="reject", tab="reject",
        act=lambda ar, text: services.reject_request(request.user, ar, reason=text),
        done=_("Rejected. The requester sees your reason."),
    )  # fmt: skip


@require_POST
@page
def request_ask(request, rid):
    return _text_step(
        request, rid,
        form=QuestionForm(request.POST), field="question", forms_key="ask", tab="ask",
        act=lambda ar, text: services.ask_for_information(request.user, ar, question=text),
        done=_("Question sent. The deadline is paused until the requester answers."),
    )  # fmt: skip


@require_POST
@page
def request_answer(request, rid):
    """The requester's answer, with an optional file (stored before the write transaction)."""
    access_request = queries.access_request(request.user, rid)
    form = AnswerForm(request.POST, request.FILES)
    upload = request.FILES.get("attachment")
    try:
        services.give_information(
            request.user,
            access_request,
            answer=form.data.get("answer", ""),
            attachment=(upload.name, upload.chunks()) if upload else None,
        )
    except (Invalid, TooLarge) as error:
        form.is_valid()
        form.errors.clear()
        for name, message in (error.fields or {"answer": error.message}).items():
            form.add_error("attachment" if name == "file" else "answer", str(message))
        form.style()
        status = 413 if isinstance(error, TooLarge) else 422
        return _detail(request, access_request, forms={"answer": form}, status=status)
    except Conflict as error:
        _lost(request, error)
    else:
        messages.success(request, _("Answer sent; the request is back with the steward."))
    return _back(access_request)


@require_http_methods(["GET", "HEAD"])
@page
def request_file(request, rid, aid):
    """A file added to a request: to its requester and deciders only, always as a download."""
    _access_request, attachment = queries.access_attachment(request.user, rid, aid)
    return files.download(attachment.sha256, attachment.filename, attachment.mime_type)


@require_POST
@page
def request_withdraw(request, rid):
    access_request = queries.access_request(request.user, rid)
    try:
        services.withdraw_request(request.user, access_request)
    except Conflict as error:
        _lost(request, error)
    else:
        messages.success(request, _("Request withdrawn."))
    return _back(access_request)


# --- the steward inbox, overdue requests --------------------------------------------------------


@page
def inbox(request):
    user = request.user
    choices = status_choices(with_all=False, only=(Status.PENDING, Status.PENDING_HEAD))
    status = _status_filter(request, choices)
    resources = queries.inbox_resources(user)
    wanted = parse_id(request.GET.get("resource", ""))
    resource_id = wanted if wanted in {r[0] for r in resources} else None
    queryset = queries.inbox(user, RequestFilters(status=status or None, resource=resource_id))
    page_obj = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "rows": _rows(page_obj.object_list),
        "page_obj": page_obj,
        "choices": choices,
        "status": status,
        "resources": resources,
        "resource_id": resource_id,
        "failures": request.session.pop("access_bulk_failures", None),
    }
    return render(request, "access/inbox.html", context)


DECISION_CSS = {
    RequestNote.Kind.FIRST_APPROVAL: "text-bg-info",
    RequestNote.Kind.APPROVED: "text-bg-success",
    RequestNote.Kind.REJECTED: "text-bg-danger",
}


@page
def handled(request):
    """已办: the requests this person decided, with the decision and its date, newest first."""
    page_obj = Paginator(queries.handled(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    notes = list(page_obj.object_list)
    people = person_labels({n.request.requester_id for n in notes})
    rows = [
        {
            "n": n,
            "r": n.request,
            "css": STATUS_CSS.get(n.request.status, ""),
            "decision_css": DECISION_CSS.get(n.kind, ""),
            "requester": people.get(n.request.requester_id),
        }
        for n in notes
    ]
    return render(request, "access/handled.html", {"rows": rows, "page_obj": page_obj})


@require_POST
@page
def inbox_bulk(request):
    user = request.user
    approve = request.POST.get("action") == "approve"
    reason = request.POST.get("reason", "")
    ids = list(dict.fromkeys(pk for pk in map(parse_id, request.POST.getlist("ids")) if pk is not None))
    if not ids:
        messages.warning(request, _("Tick the requests to decide first."))
        return redirect("access:inbox")
    if not approve and not reason.strip():
        messages.error(request, _("Give a reason for rejecting; nothing was decided."))
        return redirect("access:inbox")
    found, failures = [], {}
    for rid in ids:
        try:
            found.append(queries.access_request(user, rid))
        except NotFound:
            failures[rid] = str(_("Not found."))
    failures.update(services.bulk_decide(user, found, approve=approve, reason=reason))
    done = len(ids) - len(failures)
    if done:
        text = _("%(n)s request(s) approved.") if approve else _("%(n)s request(s) rejected.")
        messages.success(request, text % {"n": done})
    if failures:
        messages.error(request, _("%(n)s request(s) could not be decided; see below.") % {"n": len(failures)})
        request.session["access_bulk_failures"] = [[rid, str(why)] for rid, why in failures.items()]
    return redirect("access:inbox")


@page
def overdue(request):
    if not can(request.user, OrgAction.MANAGE_ORG):
        raise Http404()
    queryset = queries.visible_requests(request.user, RequestFilters(overdue=True))
    page_obj = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "access/overdue.html", {"rows": _rows(page_obj.object_list), "page_obj": page_obj})


# --- grants -------------------------------------------------------------------------------------


def _grant_rows(grants) -> list[dict]:
    now = timezone.now()
    labels = _grant_state_labels()
    rows = []
    for g in grants:
        state = queries.grant_state(g, now)
        left = days_left(g.valid_until, now) if state == "active" else ""
        rows.append({"g": g, "state": state, "label": labels[state], "css": GRANT_CSS[state], "left": left})
    return rows


@page
def resource_grants(request, ident):
    resource = catalog_queries.access_resource(request.user, ident, Action.VIEW)
    decision = can(request.user, Action.MANAGE, resource)
    if not decision:
        context = {"message": decision.message, "next_step": decision.next_step, "resource": resource}
        return render(request, "catalog/forbidden.html", context, status=403)
    grants = queries.visible_grants(request.user, resource_id=resource.pk)
    context = {"resource": resource, "rows": _grant_rows(grants), "revoke_form": ReasonForm(prefix="revoke")}
    return render(request, "access/resource_grants.html", context)


@require_POST
@page
def grant_revoke(request, gid):
    grant = queries.access_grant(request.user, gid)
    back = back_to(request, reverse("access:resource_grants", args=[grant.resource.code]))
    try:
        services.revoke_grant(request.user, grant, reason=request.POST.get("revoke-reason", ""))
    except Invalid as error:
        messages.error(request, " ".join(str(m) for m in error.fields.values()) or str(error.message))
    except (Conflict, Forbidden) as error:
        _lost(request, error)
    else:
        messages.success(request, _("Grant revoked; access ended now."))
    return back


@page
def my_grants(request):
    rows = _grant_rows(queries.my_grants(request.user))
    for row in rows:
        row["renew"] = bool(can(request.user, ProcessAction.REQUEST, row["g"].resource))
    return render(request, "access/my_grants.html", {"rows": rows})


# --- the working-day calendar -------------------------------------------------------------------

WEEKDAY_HEADS = (
    pgettext_lazy("weekday heading of a month grid", "Mo"),
    pgettext_lazy("weekday heading of a month grid", "Tu"),
    pgettext_lazy("weekday heading of a month grid", "We"),
    pgettext_lazy("weekday heading of a month grid", "Th"),
    pgettext_lazy("weekday heading of a month grid", "Fr"),
    pgettext_lazy("weekday heading of a month grid", "Sa"),
    pgettext_lazy("weekday heading of a month grid", "Su"),
)
Source = CalendarDay.Source


def _day_name(day: CalendarDay) -> str:
    return holidays.label(day.name) if day.source == Source.OFFICIAL else day.name


def _day_kind(day: date, official: CalendarDay | None, local: CalendarDay | None) -> str:
    """How a day is marked: a local day wins over an official one, which wins over the week."""
    if local is not None:
        return "local-work" if local.is_working_day else "local-off"
    if official is not None:
        return "worked" if official.is_working_day else "holiday"
    return "weekend" if day.weekday() >= 5 else "workday"


def _day_note(kind: str, named: CalendarDay | None) -> str:
    """What a marked day is, for its tooltip and for screen readers; "" for a plain working day or weekend."""
    kinds = {
        "holiday": _("official holiday"),
        "worked": _("official working day (调休)"),
        "local-off": _("local day off"),
        "local-work": _("local working day"),
    }
    if kind not in kinds:
        return ""
    name = _day_name(named) if named is not None else ""
    return f"{kinds[kind]} · {name}" if name else kinds[kind]


def _month_grids(year: int, official: dict, local: dict, today: date) -> list[dict]:
    """Twelve month grids, weeks from Monday (as in China), each cell a day of the month or None."""
    months = []
    for month in range(1, 13):
        first = date(year, month, 1)
        days_in_month = (date(year + month // 12, month % 12 + 1, 1) - first).days
        cells: list[dict | None] = [None] * first.weekday()
        for number in range(1, days_in_month + 1):
            day = date(year, month, number)
            kind = _day_kind(day, official.get(day), local.get(day))
            named = local.get(day) or official.get(day)
            cells.append({"day": day, "kind": kind, "note": _day_note(kind, named), "today": day == today})
        cells += [None] * (-len(cells) % 7)
        weeks = [cells[start : start + 7] for start in range(0, len(cells), 7)]
        months.append({"number": month, "name": MONTHS[month], "weeks": weeks})
    return months


def _official_periods(official: list[CalendarDay]) -> list[dict]:
    """The official days grouped by holiday: the runs of days off and the weekend days worked for it."""
    periods: list[dict] = []
    for day in official:
        period = next((p for p in periods if p["name"] == day.name and (day.date - p["last"]).days <= 31), None)
        if period is None:
            period = {"name": day.name, "label": holidays.label(day.name), "off": [], "worked": [], "last": day.date}
            periods.append(period)
        period["last"] = day.date
        if day.is_working_day:
            period["worked"].append({"day": day.date, "weekday": WEEKDAYS_ABBR[day.date.weekday()]})
        elif period["off"] and (day.date - period["off"][-1]["last"]).days == 1:
            period["off"][-1]["last"] = day.date
            period["off"][-1]["days"] += 1
        else:
            period["off"].append({"first": day.date, "last": day.date, "days": 1})
    # In the order of the holidays themselves (a weekend day worked ahead of one may precede another holiday).
    return sorted(periods, key=lambda p: p["off"][0]["first"] if p["off"] else p["last"])


def _calendar_page(request, year: int, *, form: dict | None = None, errors: dict | None = None, status: int = 200):
    rows = queries.calendar_days(year)
    official = {day.date: day for day in rows if day.source == Source.OFFICIAL}
    local = {day.date: day for day in rows if day.source == Source.LOCAL}
    today = calendar.local_day(timezone.now())
    first, last = holidays.published_years()
    local_rows = [
        {
            "day": day,
            "weekday": WEEKDAYS_ABBR[day.date.weekday()],
            "iso": day.date.isoformat(),
            "replaces": _day_name(official[day.date]) if day.date in official else "",
        }
        for day in local.values()
    ]
    context = {
        "year": year,
        "this_year": today.year,
        "previous_year": year - 1 if year > services.CALENDAR_YEARS[0] else None,
        "next_year": year + 1 if year < services.CALENDAR_YEARS[1] else None,
        "weekday_heads": WEEKDAY_HEADS,
        "months": _month_grids(year, official, local, today),
        "periods": _official_periods(list(official.values())),
        "local_rows": local_rows,
        "official_count": len(official),
        "published": first <= year <= last,
        "package": f"{holidays.PACKAGE} {holidays.package_version()}",
        "can_manage": bool(can(request.user, OrgAction.MANAGE_ORG)),
        "form": form or {"date": "", "kind": "off", "name": ""},
        "errors": errors or {},
    }
    return render(request, "access/calendar.html", context, status=status)


def _calendar_year(year: int | None) -> int:
    if year is None:
        return calendar.local_day(timezone.now()).year
    if not services.CALENDAR_YEARS[0] <= year <= services.CALENDAR_YEARS[1]:
        raise Http404
    return year


@require_http_methods(["GET", "HEAD"])
@page
def calendar_page(request, year: int | None = None):
    return _calendar_page(request, _calendar_year(year))


@require_POST
@page
def calendar_add(request):
    form = {key: request.POST.get(key, "") for key in ("date", "kind", "name", "year")}
    working = {"off": False, "working": True}.get(form["kind"], form["kind"])
    try:
        local = services.add_local_day(request.user, day=form["date"], is_working_day=working, name=form["name"])
    except Invalid as error:
        errors = dict(error.fields) or {"date": error.message}
        if "is_working_day" in errors:
            errors["kind"] = _("Choose a day off or a working day.")
        year = services.clean_year({}, form["year"]) or calendar.local_day(timezone.now()).year
        return _calendar_page(request, year, form=form, errors=errors, status=422)
    messages.success(
        request,
        _("Added the local day %(date)s (%(name)s).")
        % {"date": date_format(local.date, "DATE_FORMAT"), "name": local.name},
    )
    return redirect("access:calendar_year", year=local.date.year)


@require_POST
@page
def calendar_remove(request, day: str):
    removed = services.remove_local_day(request.user, day)
    messages.success(
        request,
        _("Removed the local day %(date)s (%(name)s).")
        % {"date": date_format(removed.date, "DATE_FORMAT"), "name": removed.name},
    )
    return redirect("access:calendar_year", year=removed.date.year)


@require_POST
@page
def calendar_load(request, year: int):
    year = _calendar_year(year)
    try:
        load = services.load_official_year(request.user, year)
    except Invalid as error:
        messages.error(request, " ".join(str(reason) for reason in error.fields.values()) or str(error.message))
    else:
        if load.changed_anything:
            messages.success(
                request,
                _("%(year)s: added %(added)s, changed %(changed)s, removed %(removed)s official days; %(kept)s kept.")
                % {"year": year, "added": load.added, "changed": load.changed, "removed": load.removed,
                   "kept": load.kept},
            )  # fmt: skip
        else:
            messages.info(
                request,
                _("%(year)s: the official days are up to date (%(kept)s); nothing changed.")
                % {"year": year, "kept": load.kept},
            )
    return redirect("access:calendar_year", year=year)
