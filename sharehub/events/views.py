"""The audit page: auditors read, filter, verify and export the event log. Nothing here writes."""

from __future__ import annotations

import csv
import json
from datetime import datetime, time, timedelta

from django import forms
from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from sharehub.errors import Invalid
from sharehub.events import describe, export, queries
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
    "action_name",
    "description",
    "readable_details",
]
CSV_CHUNK = 500  # events described together: a constant number of queries for each chunk


def _require_auditor(request) -> None:
    """Non-auditors get the same 404 as for a page that does not exist (invariant 2)."""
    if not can(request.user, OrgAction.READ_AUDIT):
        raise Http404


def _target_type_name(target_type: str) -> str:
    """A target type by its model's name ("catalog.resource" → resource), else as stored."""
    app_label, _dot, model = target_type.partition(".")
    try:
        return str(apps.get_model(app_label, model)._meta.verbose_name)
    except (LookupError, ValueError):
        return target_type


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=gettext_lazy("Actor"), required=False, max_length=150)
    action = forms.ChoiceField(label=gettext_lazy("Action"), required=False)
    department = forms.TypedChoiceField(label=gettext_lazy("Department"), required=False, coerce=int, empty_value=None)
    target_type = forms.ChoiceField(label=gettext_lazy("Target type"), required=False)
    target_id = forms.CharField(label=gettext_lazy("Target id"), required=False, max_length=64)
    since = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(label=gettext_lazy("Text"), required=False, max_length=200)
    seq = forms.IntegerField(label=gettext_lazy("Entry #"), required=False, min_value=1, max_value=2**62)

    def __init__(self, data, actor):
        super().__init__(data)
        everything = [("", _("all"))]
        self.fields["action"].choices = everything + describe.grouped_choices(queries.action_names())
        self.fields["target_type"].choices = everything + sorted(
            ((t, _target_type_name(t)) for t in queries.target_types()), key=lambda choice: choice[1]
        )
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
            seq=data.get("seq"),
        )


class ExportForm(forms.Form):
    """The range of a signed export: entries by number, or the days they were written on, or both."""

    from_seq = forms.IntegerField(label=gettext_lazy("From entry #"), required=False, min_value=1)
    to_seq = forms.IntegerField(label=gettext_lazy("To entry #"), required=False, min_value=1)
    since = forms.DateField(
        label=gettext_lazy("Written from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=gettext_lazy("Written until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="export", **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control form-control-sm"

    def range(self) -> export.Range:
        """The entries to export; Invalid (naming the field) when the form or the range is not valid."""
        if not self.is_valid():
            raise Invalid(fields={name: " ".join(errors) for name, errors in self.errors.items()})
        data = self.cleaned_data
        zone = timezone.get_current_timezone()

        def start_of(day):
            return timezone.make_aware(datetime.combine(day, time.min), zone) if day else None

        until = data.get("until")
        return export.resolve_range(
            from_seq=data.get("from_seq"),
            to_seq=data.get("to_seq"),
            since=start_of(data.get("since")),
            until=start_of(until + timedelta(days=1)) if until else None,
        )


def _compact(details) -> str:
    return json.dumps(details, ensure_ascii=False, separators=(",", ":"), sort_keys=True) if details else ""


def _filtered(request):
    form = AuditFilterForm(request.GET, request.user)
    return form, queries.list_events(request.user, form.filters())


def _page_context(request, form, events, page_number) -> dict:
    """The page of events, readable (a constant number of queries whatever the page size)."""
    page = Paginator(events, PAGE_SIZE).get_page(page_number)
    return {"form": form, "page": page, "rows": describe.describe(request.user, page.object_list)}


def _export_context(export_form=None) -> dict:
    return {"export_form": export_form or ExportForm(), "signing_key": export.key_info()}


@login_required
@require_GET
def audit(request):
    _require_auditor(request)
    form, events = _filtered(request)
    context = _page_context(request, form, events, request.GET.get("page"))
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "audit-table":
        return render(request, "events/_audit_table.html", context)
    return render(request, "events/audit.html", {**context, **_export_context()})


@login_required
@require_POST
def audit_verify(request):
    _require_auditor(request)
    result = queries.check_chain(request.user)
    context = {"result": result}
    if request.headers.get("HX-Request"):
        return render(request, "events/_verify_result.html", context)
    form, events = _filtered(request)
    context.update(_page_context(request, form, events, 1))
    return render(request, "events/audit.html", {**context, **_export_context()})


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
    user = request.user
    writer = csv.writer(_Echo())
    zone = timezone.get_current_timezone()

    def row(event, readable: describe.Described) -> list[str]:
        return [
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
                readable.name,
                readable.sentence.text,
                "; ".join(f"{label}: {value.text}" for label, value in readable.details),
            )
        ]

    def written(chunk) -> str:
        readable = describe.describe(user, chunk)
        return "".join(writer.writerow(row(e, r)) for e, r in zip(chunk, readable, strict=True))

    def rows():
        yield "\ufeff" + writer.writerow(CSV_COLUMNS)
        chunk = []
        for event in events.iterator(chunk_size=CSV_CHUNK):
            chunk.append(event)
            if len(chunk) == CSV_CHUNK:
                yield written(chunk)
                chunk = []
        if chunk:
            yield written(chunk)

    stamp = timezone.localtime(timezone.now(), zone).strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="sharehub-audit-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def audit_export_signed(request):
    """A signed, verifiable export of a range of the chain (JSON Lines); see sharehub.events.exportfile."""
    _require_auditor(request)
    export_form = ExportForm(request.GET)
    try:
        span = export_form.range()
    except Invalid as error:
        for name, message in error.fields.items():
            if name in export_form.fields and not export_form.has_error(name):
                export_form.add_error(name, str(message))
        form, events = _filtered(request)
        context = {**_page_context(request, form, events, 1), **_export_context(export_form), "export_open": True}
        return render(request, "events/audit.html", context, status=422)
    lines = export.export_lines(span, request.user.get_username())
    stamp = timezone.localtime(timezone.now()).strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(lines, content_type="application/jsonl; charset=utf-8")
    name = f"sharehub-audit-{span.first_seq}-{span.last_seq}-{stamp}.jsonl"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
