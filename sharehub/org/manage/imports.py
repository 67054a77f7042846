"""Importing people from CSV or XLSX: the list of past imports with the upload form, one import's preview
(or result) with its rows, errors first, and the template to fill in. The rules are in
sharehub.org.people_import; these views parse the request, call it and render."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sharehub.errors import Invalid, NotFound, ServiceError, TooLarge
from sharehub.org import people_import, queries
from sharehub.org.manage import admin_page
from sharehub.org.models import PeopleImport

PAGE_SIZE = 50


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


@admin_page
@require_http_methods(["GET", "POST"])
def index(request):
    """Past imports (newest first) and the upload form; a good file leads to its preview."""
    error = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise Invalid(fields={"file": _("Choose a CSV or XLSX file.")})
            if upload.size > people_import.MAX_BYTES:
                message = _("The file is larger than %(n)s MB; split it into smaller files.")
                raise TooLarge(fields={"file": message % {"n": people_import.MAX_BYTES // 2**20}})
            found = people_import.preview_upload(request.user, upload.read(), upload.name or "")
        except ServiceError as failure:
            error = failure
        else:
            return redirect("org:manage_import", pk=found.pk)
    imports = queries.people_imports(request.user)
    context = {
        "page_obj": Paginator(imports, PAGE_SIZE).get_page(request.GET.get("page")),
        "errors": error.fields if error else {},
        "error": error,
        "max_mb": people_import.MAX_BYTES // 2**20,
        "max_rows": people_import.MAX_ROWS,
        "columns": _column_help(),
    }
    return _no_store(render(request, "org/manage/imports.html", context, status=error.status if error else 200))


def _column_help() -> list[tuple[str, str, str]]:
    return [
        ("username", people_import.HEADINGS_ZH["username"], _("login name; required")),
        ("display_name", people_import.HEADINGS_ZH["display_name"], _("the name shown")),
        ("email", people_import.HEADINGS_ZH["email"], _("email address")),
        ("department", people_import.HEADINGS_ZH["department"], _("code or name; several separated by ; or ；")),
        ("role", people_import.HEADINGS_ZH["role"], _("member, steward or head (成员, 资源管理员, 负责人)")),
        ("org_roles", people_import.HEADINGS_ZH["org_roles"], _("admin, auditor (系统管理员, 审计员), or none (无)")),
        ("active", people_import.HEADINGS_ZH["active"], _("yes or no (是 or 否)")),
    ]


def _access(request, pk: int) -> PeopleImport:
    try:
        return queries.access_people_import(request.user, pk)
    except NotFound:
        raise Http404 from None


def _column_labels() -> dict[str, str]:
    return {
        "username": _("Username"),
        "display_name": _("Display name"),
        "email": _("Email address"),
        "department": _("Departments"),
        "role": _("Role"),
        "org_roles": _("Organization roles"),
        "active": _("Active"),
    }


def _action_labels(applied: bool) -> dict[str, str]:
    if applied:
        return {"create": _("added"), "update": _("changed"), "unchanged": _("unchanged"), "error": _("skipped")}
    return {"create": _("new"), "update": _("changes"), "unchanged": _("unchanged"), "error": _("error")}


def _rows_shown(rows: list[dict], applied: bool) -> list[dict]:
    """Rows of one page as cells (column, label, value, changed, error), errors in the reader's language."""
    labels, actions = _column_labels(), _action_labels(applied)
    shown = []
    for row in rows:
        errors = row.get("errors") or {}
        values = row.get("values") or {}
        changes = set(row.get("changes") or ())
        cells = [
            {
                "name": name,
                "label": label,
                "value": values.get(name, ""),
                "changed": name in changes,
                "error": people_import.error_text(*errors[name]) if name in errors else "",
            }
            for name, label in labels.items()
        ]
        action = row.get("action", "error")
        shown.append({"line": row.get("line"), "action": action, "action_label": actions.get(action, action),
                      "cells": cells})  # fmt: skip
    return shown


def _filter_labels() -> dict[str, str]:
    return {"error": _("With errors"), "create": _("New"), "update": _("Changes"), "unchanged": _("Unchanged")}


def _detail(request, found: PeopleImport, error: ServiceError | None = None):
    show = request.GET.get("show", "")
    show = show if show in people_import.ACTIONS else ""
    page_obj = Paginator(people_import.ordered_rows(found, show), PAGE_SIZE).get_page(request.GET.get("page"))
    summary = found.summary or {}
    counts = {action: summary.get(action, 0) for action in people_import.ACTIONS}
    context = {
        "imp": found,
        "page_obj": page_obj,
        "rows": _rows_shown(page_obj.object_list, found.status == PeopleImport.Status.APPLIED),
        "labels": _column_labels(),
        "filters": [("", _("All"), found.summary.get("rows", len(found.rows)))]
        + [(action, label, counts[action]) for action, label in _filter_labels().items()],
        "counts": counts,
        "valid": counts["create"] + counts["update"] + counts["unchanged"],
        "summary": summary,
        "show": show,
        "error": error,
        "is_preview": found.status == PeopleImport.Status.PREVIEW,
    }
    status = error.status if error else 200
    return _no_store(render(request, "org/manage/import.html", context, status=status))


@admin_page
@require_GET
def detail(request, pk: int):
    """One import: the counts and the rows, errors first; apply or discard while it is a preview."""
    return _detail(request, _access(request, pk))


@admin_page
@require_POST
def apply(request, pk: int):
    found = _access(request, pk)
    try:
        found = people_import.apply_import(request.user, found)
    except ServiceError as error:
        found.refresh_from_db()
        return _detail(request, found, error)
    if found.status == PeopleImport.Status.APPLIED:
        counts = {"created": found.summary.get("create", 0), "updated": found.summary.get("update", 0),
                  "skipped": found.summary.get("error", 0)}  # fmt: skip
        text = _("Imported: %(created)s added, %(updated)s changed; rows with errors skipped: %(skipped)s.")
        messages.success(request, text % counts)
    else:
        messages.error(request, _("Nothing was imported: %(reason)s") % {"reason": found.summary.get("reason", "")})
    return redirect("org:manage_import", pk=found.pk)


@admin_page
@require_POST
def discard(request, pk: int):
    found = _access(request, pk)
    try:
        people_import.discard_import(request.user, found)
    except ServiceError as error:
        found.refresh_from_db()
        return _detail(request, found, error)
    messages.success(request, _("The import “%(name)s” is discarded; nothing was written.") % {"name": found.file_name})
    return redirect("org:manage_imports")


@admin_page
@require_GET
def template(request, fmt: str):
    """The file to fill in: the header row, in Chinese for a Chinese reader, else in English (both read)."""
    if fmt not in people_import.FORMATS:
        raise Http404
    return people_import.template_response(fmt)


urlpatterns = [
    path("", index, name="manage_imports"),
    path("template.<str:fmt>", template, name="manage_import_template"),
    path("<id:pk>/", detail, name="manage_import"),
    path("<id:pk>/apply/", apply, name="manage_import_apply"),
    path("<id:pk>/discard/", discard, name="manage_import_discard"),
]
