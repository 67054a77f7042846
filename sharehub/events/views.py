"""The audit page: auditors read, filter, verify and export the event log. Nothing here writes."""

from __future__ import annotations

import csv
import json
from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from sharehub.events import queries
from sharehub.policy.engine import OrgAction, can, visible_departments

PAGE_SIZE = 50
CSV_COLUMNS = [
    "seq",
    "time",
    "actor",
    "action",
    "target_type",
    "target_id",
    "target",
    "departments",
    "details",
    "hash",
]


def _require_auditor(request) -> None:
    """Non-auditors get the same 404 as for a page that does not exist (invariant 2)."""
    if not can(request.user, OrgAction.READ_AUDIT):
        raise Http404


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=gettext_lazy("Actor"), required=False, max_length=150)
    action = forms.ChoiceField(label=gettext_lazy("Action"), required=False)
    department = forms.TypedChoiceField(label=gettext_lazy("Department"), required=False, coerce=int, empty_value=None)
    target_type = forms.ChoiceField(label=gettext_lazy("Target type"), required=False)
    target_id = forms.CharField(label=gettext_lazy("Target id"), required=False, max_length=64)
    since = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(label=gettext_lazy("Text"), required=False, max_length=200)

    def __init__(self, data, actor):
        super().__init__(data)
        everything = [("", _("all"))]
        self.fields["action"].choices = everything + [(a, a) for a in queries.action_names()]
        self.fields["target_type"].choices = everything + [(t, t) for t in queries.target_types()]
        self.fields["department"].choices = everything + [
            (d.pk, d.name) for d in visible_departments(actor).order_by("path", "name")
        ]
        for field in self.fields.values():
            is_select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = "form-select form-select-sm" if is_select else "form-control form-control-sm"

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end date is before the start date."))
        return data

    def filters(self) -> queries.EventFilters:
        """The valid fields as EventFilters; dates are whole days in the viewer's time zone."""
        self.is_valid()  # fills cleaned_data with the fields that are valid; the others are ignored
        data = self.cleaned_data
        zone = timezone.get_current_timezone()

        def start_of(day):
            return timezone.make_aware(datetime.combine(day, time.min), zone) if day else None

        until = data.get("until")
        return queries.EventFilters(
            actor=(data.get("actor") or "").strip() or None,
            action=data.get("action") or None,
            department=data.get("department") or None,
            target_type=data.get("target_type") or None,
            target_id=(data.get("target_id") or "").strip() or None,
            since=start_of(data.get("since")),
            until=start_of(until + timedelta(days=1)) if until else None,
            text=(data.get("q") or "").strip() or None,
        )


def _compact(details) -> str:
    return json.dumps(details, ensure_ascii=False, separators=(",", ":"), sort_keys=True) if details else ""


def _filtered(request):
    form = AuditFilterForm(request.GET, request.user)
    return form, queries.list_events(request.user, form.filters())


@login_required
@require_GET
def audit(request):
    _require_auditor(request)
    form, events = _filtered(request)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    for event in page.object_list:
        event.details_json = _compact(event.details)
    context = {"form": form, "page": page}
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "audit-table":
        return render(request, "events/_audit_table.html", context)
    return render(request, "events/audit.html", context)


@login_required
@require_POST
def audit_verify(request):
    _require_auditor(request)
    result = queries.check_chain(request.user)
    context = {"result": result}
    if request.headers.get("HX-Request"):
        return render(request, "events/_verify_result.html", context)
    form, events = _filtered(request)
    page = Paginator(events, PAGE_SIZE).get_page(1)
    for event in page.object_list:
        event.details_json = _compact(event.details)
    return render(request, "events/audit.html", {**context, "form": form, "page": page})


class _Echo:
    def write(self, value):
        return value


def _cell(value) -> str:
    """Keep spreadsheet programs from running a cell as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


@login_required
@require_GET
def audit_export(request):
    _require_auditor(request)
    _form, events = _filtered(request)
    writer = csv.writer(_Echo())
    zone = timezone.get_current_timezone()

    def rows():
        yield "\ufeff" + writer.writerow(CSV_COLUMNS)
        for event in events.iterator(chunk_size=1000):
            yield writer.writerow(
                [
                    _cell(v)
                    for v in (
                        event.seq,
                        timezone.localtime(event.created_at, zone).isoformat(timespec="seconds"),
                        event.actor_name,
                        event.action,
                        event.target_type,
                        event.target_id,
                        event.target_label,
                        " ".join(d.name for d in event.departments.all()),
                        _compact(event.details),
                        event.hash,
                    )
                ]
            )

    stamp = timezone.localtime(timezone.now(), zone).strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="sharehub-audit-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
