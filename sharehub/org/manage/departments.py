"""The department tree console, /manage/departments/: the whole tree with what each department holds, searched
and filtered; create, edit and move a department; merge one into another after a preview of what moves along;
archive one that holds nothing, and restore it. Organization admins only: anyone else gets 404. The rules are
in org.services (create, edit, move) and org.tree (merge, archive, restore)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from sharehub.errors import Conflict, Invalid, NotFound
from sharehub.org import queries, services, tree
from sharehub.org.manage import admin_page
from sharehub.org.models import Department
from sharehub.validation import parse_id

PAGE_SIZE = 50
MAX_SEARCH = 100


def _department(request, pk: int) -> Department:
    """The department for an organization admin (archived and merged ones too); 404 for anyone else."""
    try:
        found = queries.manage_departments(request.user).select_related("parent").filter(pk=pk).first()
    except NotFound:
        raise Http404 from None
    if found is None:
        raise Http404
    return found


def _chosen(value: str, field_name: str) -> Department | None:
    """The department a form's select names ("" for none); Invalid naming the field when there is no such."""
    text = (value or "").strip()
    if not text:
        return None
    number = parse_id(text)
    found = Department.objects.filter(pk=number).first() if number is not None else None
    if found is None:
        raise Invalid(fields={field_name: _("Choose a department from the list.")})
    return found


def _choices(pairs) -> list[tuple[str, str]]:
    """Departments for a select, indented by their depth (no-break spaces: an option keeps them)."""
    return [(str(d.pk), "\u00a0" * 3 * depth + f"{d.name} ({d.code})") for d, depth in pairs]


def _form(request) -> dict:
    return {name: request.POST.get(name, "") for name in ("name", "code", "parent", "description")}


# --- the tree ----------------------------------------------------------------------------------------------


@admin_page
def manage_departments(request):
    text = request.GET.get("q", "")[:MAX_SEARCH]
    state = request.GET.get("state", "")
    state = state if state in queries.TREE_STATES else ""
    found = queries.manage_departments(request.user, text=text, state=state)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "rows": queries.console_rows(page.object_list, flat=bool(text.strip() or state)),
        "q": text,
        "state": state,
    }
    return render(request, "org/manage/departments.html", context)


# --- create, edit, move ------------------------------------------------------------------------------------


@admin_page
@require_http_methods(["GET", "POST"])
def new_department(request):
    errors: dict = {}
    form = {"parent": request.GET.get("parent", "")}
    if request.method == "POST":
        form = _form(request)
        try:
            parent = _chosen(form["parent"], "parent")
            department = services.create_department(
                request.user, name=form["name"], code=form["code"], parent=parent, description=form["description"]
            )
        except Invalid as error:
            errors = error.fields
        else:
            messages.success(request, _("Department “%(name)s” created.") % {"name": department.name})
            return redirect("org:manage_department", department.pk)
    context = {"form": form, "errors": errors, "parents": _choices(queries.department_picker())}
    return render(request, "org/manage/departments_new.html", context, status=422 if errors else 200)


def _detail(request, department: Department, *, errors=None, form=None, move_errors=None, problem="", status=200):
    context = {
        "department": department,
        "form": form or {"name": department.name, "code": department.code, "description": department.description},
        "errors": errors or {},
        "move_errors": move_errors or {},
        "problem": problem,
        "parents": _choices(queries.department_picker(leave_out=department)),
        "current_parent": str(department.parent_id or ""),
        "held": [item for item in tree.holding_counts(department) if item.count],
    }
    return render(request, "org/manage/departments_detail.html", context, status=status)


@admin_page
@require_http_methods(["GET", "POST"])
def department(request, pk: int):
    """One department: its details to edit, where it sits (to move it), what it holds, merge and archive."""
    found = _department(request, pk)
    if request.method == "GET":
        return _detail(request, found)
    form = _form(request)
    try:
        changes = {"name": form["name"], "code": form["code"], "description": form["description"]}
        services.update_department(request.user, found, **changes)
    except Invalid as error:
        found.refresh_from_db()
        return _detail(request, found, errors=error.fields, form=form, status=422)
    messages.success(request, _("Department “%(name)s” saved.") % {"name": found.name})
    return redirect("org:manage_department", found.pk)


@admin_page
@require_POST
def move_department(request, pk: int):
    found = _department(request, pk)
    try:
        parent = _chosen(request.POST.get("parent", ""), "parent")
        if (parent.pk if parent is not None else None) == found.parent_id:
            raise Invalid(fields={"parent": _("It is there already; choose another parent.")})
        services.move_department(request.user, found, parent)
    except Invalid as error:
        found.refresh_from_db()
        return _detail(request, found, move_errors=error.fields, status=422)
    if parent is None:
        messages.success(request, _("“%(name)s” is now a top-level department.") % {"name": found.name})
    else:
        messages.success(
            request, _("“%(name)s” is now under “%(parent)s”.") % {"name": found.name, "parent": parent.name}
        )
    return redirect("org:manage_department", found.pk)


# --- merge -------------------------------------------------------------------------------------------------


def _merge_page(request, source: Department, *, target=None, errors=None, problem="", status=200):
    preview = None
    if target is not None and not errors:
        preview = tree.merge_preview(request.user, source, target)
    context = {
        "department": source,
        "target": target,
        "preview": preview,
        "errors": errors or {},
        "problem": problem,
        "targets": _choices(queries.department_picker(leave_out=source)),
    }
    return render(request, "org/manage/departments_merge.html", context, status=status)


@admin_page
@require_http_methods(["GET", "POST"])
def merge_department(request, pk: int):
    """GET: choose where to merge into, then the preview of everything that moves along. POST: the merge,
    refused if what would move changed since the preview (`expected`)."""
    source = _department(request, pk)
    data = request.POST if request.method == "POST" else request.GET
    target = None
    try:
        if "into" in data:
            target = _chosen(data.get("into", ""), "into")
            tree.check_merge(source, target)
        elif request.method == "POST":
            raise Invalid(fields={"into": _("Choose the department to merge into.")})
    except Invalid as error:
        return _merge_page(request, source, target=target, errors=error.fields, status=422)
    except Conflict as error:
        return _merge_page(request, source, problem=str(error.message), status=409)
    if request.method == "GET":
        return _merge_page(request, source, target=target)
    try:
        counts = tree.merge_departments(request.user, source, target, expected=request.POST.get("expected", "")[:64])
    except Invalid as error:
        return _merge_page(request, source, target=target, errors=error.fields, status=422)
    except Conflict as error:
        source.refresh_from_db()
        if source.archived_at is not None:
            return _merge_page(request, source, problem=str(error.message), status=409)
        return _merge_page(request, source, target=target, problem=str(error.message), status=409)
    moved = sum(counts.values())
    messages.success(
        request,
        _("“%(source)s” is merged into “%(target)s”: %(n)s items moved along.")
        % {"source": source.name, "target": target.name, "n": moved},
    )
    return redirect("org:manage_department", target.pk)


# --- archive and restore -----------------------------------------------------------------------------------


def _archive_page(request, department: Department, *, problem="", status=200):
    context = {"department": department, "preview": tree.archive_preview(request.user, department), "problem": problem}
    return render(request, "org/manage/departments_archive.html", context, status=status)


@admin_page
@require_http_methods(["GET", "POST"])
def archive_department(request, pk: int):
    """GET: what blocks archiving (offering the merge instead) or what stays for the record. POST: archive."""
    found = _department(request, pk)
    if request.method == "GET":
        return _archive_page(request, found)
    try:
        tree.archive_department(request.user, found)
    except Conflict as error:
        found.refresh_from_db()
        return _archive_page(request, found, problem=str(error.message), status=409)
    messages.success(request, _("“%(name)s” is archived.") % {"name": found.name})
    return redirect("org:manage_department", found.pk)


@admin_page
@require_POST
def restore_department(request, pk: int):
    found = _department(request, pk)
    try:
        tree.restore_department(request.user, found)
    except Invalid as error:
        found.refresh_from_db()
        return _detail(request, found, problem=" ".join(str(m) for m in error.fields.values()), status=422)
    except Conflict as error:
        found.refresh_from_db()
        return _detail(request, found, problem=str(error.message), status=409)
    messages.success(request, _("“%(name)s” is in use again.") % {"name": found.name})
    return redirect("org:manage_department", found.pk)


urlpatterns = [
    path("", manage_departments, name="manage_departments"),
    path("new/", new_department, name="manage_department_new"),
    path("<id:pk>/", department, name="manage_department"),
    path("<id:pk>/move/", move_department, name="manage_department_move"),
    path("<id:pk>/merge/", merge_department, name="manage_department_merge"),
    path("<id:pk>/archive/", archive_department, name="manage_department_archive"),
    path("<id:pk>/restore/", restore_department, name="manage_department_restore"),
]
