"""The catalog pages. Thin: parse the request, call queries and services, render.

Every page needs a signed-in person. Errors from the services become pages: NotFound a 404,
Forbidden a 403 with the policy's reason, Invalid the form again with its field errors (422),
TooLarge a 413.
"""

from __future__ import annotations

import csv
import io
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from sharehub.catalog import files, panels, queries, services
from sharehub.catalog.forms import FilterForm, ResourceForm, SharingForm, UploadForm
from sharehub.catalog.markdown import render_markdown
from sharehub.catalog.models import Resource
from sharehub.catalog.snapshots import diff_snapshots
from sharehub.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError, TooLarge
from sharehub.policy.engine import Action, Decision, ProcessAction, can, creatable_departments
from sharehub.validation import parse_id

PAGE_SIZE = 25

SHARING_CSS = {
    Resource.SharingType.OPEN: "sh-badge-open",
    Resource.SharingType.CONDITIONAL: "sh-badge-conditional",
    Resource.SharingType.RESTRICTED: "sh-badge-restricted",
}


def page(view):
    """Sign-in required; service errors the view did not handle become error pages."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404() from None
        except Forbidden as error:
            return _forbidden(request, message=error.message)
        except ServiceError as error:
            return render(
                request,
                "catalog/error.html",
                {"message": error.message, "fields": error.fields},
                status=error.status,
            )

    return wrapper


def _forbidden(request, decision: Decision | None = None, resource: Resource | None = None, message=None):
    context = {
        "message": message or (decision.message if decision is not None else _("You are not allowed to do this.")),
        "next_step": decision.next_step if decision is not None else "",
        "resource": resource,
    }
    return render(request, "catalog/forbidden.html", context, status=403)


def _access(request, ident: str, action: Action = Action.VIEW) -> Resource:
    return queries.access_resource(request.user, ident, action)


def _partial(request) -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")


# --- the list and the export ---------------------------------------------------------------------


def _followable(form: FilterForm) -> list[dict]:
    """The department, category and tag the list is narrowed to, each with a follow button."""
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    found = []
    for kind, label in (("department", _("Department")), ("category", _("Category"))):
        if data.get(kind):
            found.append({"kind": kind, "id": data[kind].pk, "kind_label": label, "name": data[kind].name})
    tag = queries.tag_named(data.get("tag") or "")
    if tag is not None:
        found.append({"kind": "tag", "id": tag.pk, "kind_label": _("Tag"), "name": tag.name})
    return found


@page
def resource_list(request):
    form = FilterForm(request.user, request.GET)
    queryset = queries.list_resources(request.user, form.filters(), run_as_is=True)
    sort = form.sort_order()
    counts = queries.count_by(queryset, "sharing_type")
    paginator = Paginator(queries.catalog_rows(queryset, sort), PAGE_SIZE)
    paginator.count = sum(counts.values())  # every row has a sharing type: no COUNT query of its own
    page_obj = paginator.get_page(request.GET.get("page"))
    sharing_counts = [
        {"value": value, "label": label, "count": counts.get(value, 0), "css": SHARING_CSS[value]}
        for value, label in Resource.SharingType.choices
    ]
    context = {
        "form": form,
        "sort": sort,
        "page_obj": page_obj,
        "page_range": paginator.get_elided_page_range(page_obj.number, on_each_side=2, on_ends=1),
        "resources": queries.with_tag_names(page_obj.object_list),
        "total": paginator.count,
        "sharing_counts": sharing_counts,
        "followable": _followable(form) if request.user.is_authenticated else [],
    }
    if _partial(request):
        template = "catalog/_results.html"
    else:
        template = "catalog/list.html"
        context["can_create"] = creatable_departments(request.user).exists()
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _csv_cell(value) -> str:
    """Text a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


@page
def export_csv(request):
    """The filtered list as CSV: catalog fields only, never content. BOM first so Excel reads UTF-8."""
    form = FilterForm(request.user, request.GET)
    queryset = queries.sort_resources(queries.list_resources(request.user, form.filters()), form.sort_order())
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(
        [
            _("Code"),
            _("Title"),
            _("Kind"),
            _("Owner department"),
            _("Sharing type"),
            _("Status"),
            _("Scope"),
            _("Category"),
            _("Data grade"),
            _("Steward"),
            _("Update frequency"),
            _("Tags"),
            _("Summary"),
            _("Created"),
            _("Updated"),
            _("Published"),
            _("Address"),
        ]
    )
    whole = _("The whole organization")
    for r in queryset.iterator(chunk_size=500):
        scope = whole if r.scope_all else "; ".join(d.name for d in r.scope_departments.all())
        row = [
            r.code,
            r.title,
            r.get_kind_display(),
            r.owner_department.name,
            r.get_sharing_type_display(),
            r.get_status_display(),
            scope,
            r.category or "",
            r.data_grade or "",
            r.steward or "",
            r.get_update_frequency_display(),
            ", ".join(t.name for t in r.tags.all()),
            r.summary,
            _local(r.created_at),
            _local(r.updated_at),
            _local(r.published_at),
            request.build_absolute_uri(reverse("catalog:detail", args=[r.code])),
        ]
        writer.writerow([_csv_cell(v) for v in row])
    response = HttpResponse(out.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="sharehub-catalog-{stamp}.csv"'
    return response


# --- create, edit, sharing -----------------------------------------------------------------------


def _form_page(request, form, *, resource=None, publishable=(), status=200):
    context = {"form": form, "resource": resource, "publishable": sorted(publishable), "kinds": Resource.Kind}
    return render(request, "catalog/form.html", context, status=status)


@page
def resource_create(request):
    departments = list(creatable_departments(request.user))
    if not departments:
        return _forbidden(request, message=_("You belong to no department, so there is nowhere to publish to."))
    publishable = queries.publishable_department_ids(request.user, departments)
    if request.method != "POST":
        initial = {"sharing_type": Resource.SharingType.OPEN}
        wanted = parse_id(request.GET.get("department", ""))
        if wanted in {d.pk for d in departments}:
            initial["owner_department"] = wanted
        form = ResourceForm(request.user, initial=initial)
        return _form_page(request, form, publishable=publishable)
    form = ResourceForm(request.user, request.POST)
    publish = request.POST.get("action") == "publish"
    review = request.POST.get("action") == "review"
    status = 422
    if form.is_valid():
        try:
            resource = services.create_resource(
                request.user,
                owner_department=form.cleaned_data["owner_department"],
                kind=form.cleaned_data["kind"],
                publish=publish,
                submit_for_review=review,
                **form.values(),
            )
        except Invalid as error:
            form.add_service_errors(error.fields or {None: error.message})
        except Forbidden as error:
            form.add_error(None, str(error.message))
            status = 403
        else:
            if publish:
                messages.success(request, _("Published %(code)s.") % {"code": resource.code})
            elif review:
                messages.success(
                    request,
                    _("Saved %(code)s as a draft and submitted it for review.") % {"code": resource.code},
                )
            else:
                messages.success(request, _("Saved %(code)s as a draft.") % {"code": resource.code})
            return redirect("catalog:detail", ident=resource.code)
    form.style()
    return _form_page(request, form, publishable=publishable, status=status)


@page
def resource_edit(request, ident):
    resource = _access(request, ident)
    decision = can(request.user, Action.EDIT, resource)
    if not decision:
        return _forbidden(request, decision, resource)
    with_sharing = bool(can(request.user, Action.MANAGE, resource))
    if request.method != "POST":
        services.note_content_read(request.user, [resource], via="edit")
        form = ResourceForm(request.user, resource=resource, with_sharing=with_sharing)
        return _form_page(request, form, resource=resource)
    form = ResourceForm(request.user, request.POST, resource=resource, with_sharing=with_sharing)
    if form.is_valid():
        try:
            updated = services.update_resource(
                request.user, resource, form.values(), note=form.cleaned_data.get("note", "")
            )
        except Invalid as error:
            form.add_service_errors(error.fields or {None: error.message})
        else:
            if updated.version != resource.version:
                messages.success(request, _("Saved version %(n)s.") % {"n": updated.version})
            else:
                messages.info(request, _("Nothing changed."))
            return redirect("catalog:detail", ident=updated.code)
    form.style()
    return _form_page(request, form, resource=resource, status=422)


@page
def resource_sharing(request, ident):
    resource = _access(request, ident)
    decision = can(request.user, Action.MANAGE, resource)
    if not decision:
        return _forbidden(request, decision, resource)
    status = 200
    if request.method == "POST":
        form = SharingForm(request.user, resource, request.POST)
        status = 422
        if form.is_valid():
            try:
                services.change_sharing(request.user, resource, **form.sharing_values())
            except Invalid as error:
                form.add_service_errors(error.fields or {None: error.message})
            else:
                messages.success(request, _("Sharing settings saved."))
                return redirect("catalog:detail", ident=resource.code)
        form.style()
    else:
        form = SharingForm(request.user, resource)
    return render(request, "catalog/sharing.html", {"form": form, "resource": resource}, status=status)


@require_POST
@page
def resource_transition(request, ident, verb):
    resource = _access(request, ident)
    try:
        services.transition(request.user, resource, verb)
    except Invalid as error:
        messages.error(request, str(error.message))
    else:
        done = {
            "publish": _("Published %(code)s."),
            "archive": _("Archived %(code)s. It stays in the catalog, marked as archived."),
            "restore": _("Restored %(code)s."),
        }[verb]
        messages.success(request, done % {"code": resource.code})
    return redirect("catalog:detail", ident=resource.code)


# --- review of drafts ---------------------------------------------------------------------------


@page
def review_queue(request):
    """Drafts submitted for review in the departments the person reviews (empty for everyone else)."""
    page_obj = Paginator(queries.review_queue(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "catalog/reviews.html", {"page_obj": page_obj, "reviews": page_obj.object_list})


def _back(request, resource: Resource):
    """Back to the queue when the decision was taken there, else to the resource."""
    if request.POST.get("from") == "queue":
        return redirect("catalog:reviews")
    return redirect("catalog:detail", ident=resource.code)


@require_POST
@page
def review_submit(request, ident):
    resource = _access(request, ident, Action.EDIT)
    try:
        services.submit_for_review(request.user, resource, request.POST.get("note", ""))
    except (Invalid, Conflict) as error:
        messages.error(request, " ".join(str(m) for m in error.fields.values()) or str(error.message))
    else:
        messages.success(
            request,
            _("Submitted %(code)s for review. The stewards and heads of %(dept)s are told.")
            % {
                "code": resource.code,
                "dept": resource.owner_department.name,
            },
        )
    return redirect("catalog:detail", ident=resource.code)


@require_POST
@page
def review_publish(request, ident):
    resource = _access(request, ident, Action.REVIEW)
    try:
        services.publish_reviewed(request.user, resource)
    except Conflict as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Published %(code)s; the submitter is told.") % {"code": resource.code})
    return _back(request, resource)


@require_POST
@page
def review_return(request, ident):
    resource = _access(request, ident, Action.REVIEW)
    try:
        services.return_draft(request.user, resource, request.POST.get("reason", ""))
    except (Invalid, Conflict) as error:
        messages.error(request, " ".join(str(m) for m in error.fields.values()) or str(error.message))
    else:
        messages.success(request, _("Sent %(code)s back to the submitter.") % {"code": resource.code})
    return _back(request, resource)


# --- detail, versions, explanation ---------------------------------------------------------------


def _detail(request, resource: Resource, *, upload_form=None, upload_error=None, status=200):
    user = request.user
    read = can(user, Action.READ, resource)
    context = {
        "resource": resource,
        "read": read,
        "can_edit": bool(can(user, Action.EDIT, resource)),
        "can_manage": bool(can(user, Action.MANAGE, resource)),
        "can_review": bool(can(user, Action.REVIEW, resource)),
        "scope_departments": list(resource.scope_departments.all()),
        "tags": list(resource.tags.all()),
        "related": list(queries.related_visible(user, resource)),
        "upload_form": upload_form or UploadForm(),
        "upload_error": upload_error,
    }
    if context["can_edit"]:
        context["review"] = queries.latest_review(resource)
    if read:
        context["body_html"] = render_markdown(resource.body)
        context["attachments"] = list(queries.attachments_of(resource))
        services.note_content_read(user, [resource], via="page")
    context["panels"] = panels.render(request, resource, read)
    return render(request, "catalog/detail.html", context, status=status)


@page
def resource_detail(request, ident):
    return _detail(request, _access(request, ident))


@page
def resource_versions(request, ident):
    resource = _access(request, ident, Action.READ)
    versions = list(queries.versions_of(resource))
    context = {"resource": resource, "versions": versions}
    return render(request, "catalog/versions.html", context)


def _version_number(raw) -> int:
    number = parse_id(raw)
    if number is None:
        raise Invalid(_("Choose two versions to compare."), fields={"version": _("Choose two versions to compare.")})
    return number


@page
def resource_diff(request, ident):
    resource = _access(request, ident, Action.READ)
    old, new = queries.version_pair(
        resource, _version_number(request.GET.get("a")), _version_number(request.GET.get("b"))
    )
    changes = diff_snapshots(*queries.shown_snapshots(request.user, [old, new]))
    services.note_content_read(request.user, [resource], via="diff")
    context = {
        "resource": resource,
        "old": old,
        "new": new,
        "changes": changes,
    }
    return render(request, "catalog/diff.html", context)


@page
def resource_explain(request, ident):
    resource = _access(request, ident)
    user = request.user
    labels = {
        Action.VIEW: _("See the catalog entry"),
        Action.READ: _("Read the content"),
        Action.EDIT: _("Edit"),
        Action.MANAGE: _("Publish, archive, change sharing"),
        Action.REVIEW: _("Review drafts submitted for review"),
    }
    decisions = [
        {"action": action, "label": label, "decision": can(user, action, resource)} for action, label in labels.items()
    ]
    context = {
        "resource": resource,
        "decisions": decisions,
        "scope_departments": list(resource.scope_departments.all()),
        "steward": resource.steward,
        "can_request": bool(can(request.user, ProcessAction.REQUEST, resource)),
    }
    return render(request, "catalog/explain.html", context)


# --- attachments ---------------------------------------------------------------------------------


@require_POST
@page
def attachment_add(request, ident):
    resource = _access(request, ident)
    decision = can(request.user, Action.EDIT, resource)
    if not decision:
        return _forbidden(request, decision, resource)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail(request, resource, upload_form=form, upload_error=_("Choose a file to upload."), status=422)
    upload = form.cleaned_data["file"]
    try:
        attachment = services.add_attachment(request.user, resource, upload.name, upload.chunks())
    except TooLarge as error:
        return _detail(request, resource, upload_form=form, upload_error=error.message, status=413)
    except Invalid as error:
        message = " ".join(str(m) for m in error.fields.values()) or error.message
        return _detail(request, resource, upload_form=form, upload_error=message, status=422)
    messages.success(request, _("Attached %(name)s.") % {"name": attachment.filename})
    return redirect(reverse("catalog:detail", kwargs={"ident": resource.code}) + "#attachments")


@require_http_methods(["GET", "HEAD"])
@page
def attachment_download(request, ident, aid):
    resource, attachment = queries.access_attachment(request.user, ident, aid)
    response = files.download(attachment.blob.sha256, attachment.filename, attachment.blob.mime_type)
    services.note_content_read(request.user, [resource], via="download")
    return response


@require_POST
@page
def attachment_remove(request, ident, aid):
    resource, attachment = queries.access_attachment(request.user, ident, aid)
    services.remove_attachment(request.user, attachment)
    messages.success(request, _("Removed %(name)s.") % {"name": attachment.filename})
    return redirect(reverse("catalog:detail", kwargs={"ident": resource.code}) + "#attachments")
