"""The organization's settings in the console, which used to be only in Django's admin: the deadlines of access
requests (access.AccessSettings) and each department's approval rule (access.ApprovalRule). The changes go
through sharehub.access.services, which records the events."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from sharehub.access import queries as access_queries
from sharehub.access import services as access_services
from sharehub.access.models import AccessSettings
from sharehub.errors import Invalid
from sharehub.org import queries
from sharehub.org.manage import admin_page

PAGE_SIZE = 50
SETTING_NAMES = tuple(access_services.SETTINGS_LIMITS)


@admin_page
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    """The access settings form and the departments' approval rules."""
    current = AccessSettings.current()
    form = {name: str(getattr(current, name)) for name in SETTING_NAMES}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {name: request.POST.get(name, "")[:20] for name in SETTING_NAMES}
        try:
            access_services.update_access_settings(request.user, **form)
        except Invalid as error:
            errors = error.fields
        else:
            messages.success(request, _("Access settings saved. Requests already open keep their deadline."))
            return redirect("org:manage_settings")
    rules = access_queries.approval_rules(request.user)
    context = {
        "form": form,
        "errors": errors,
        "limits": access_services.SETTINGS_LIMITS,
        "page_obj": Paginator(rules, PAGE_SIZE).get_page(request.GET.get("page")),
    }
    return render(request, "org/manage/settings.html", context, status=422 if errors else 200)


@admin_page
@require_http_methods(["GET", "POST"])
def approval_rule(request: HttpRequest, pk: int) -> HttpResponse:
    """One department's approval rule: whether its head also decides requests from outside, and which
    departments need no second step."""
    departments = list(queries.owner_departments())
    department = next((d for d in departments if d.pk == pk), None)
    if department is None:
        raise Http404
    found = access_queries.approval_rules(request.user).filter(pk=pk).first()
    rule = getattr(found, "approval_rule", None) if found is not None else None
    head = bool(rule and rule.head_for_outsiders)
    trusted = {d.pk for d in rule.trusted_departments.all()} if rule else set()
    errors: dict[str, str] = {}
    if request.method == "POST":
        head = request.POST.get("head_for_outsiders") == "on"
        asked = request.POST.getlist("trusted")
        by_id = {str(d.pk): d for d in departments}
        unknown = [value for value in asked if value not in by_id]
        trusted = {by_id[value].pk for value in asked if value in by_id}
        try:
            if unknown:
                raise Invalid(fields={"trusted": _("Choose departments from the list.")})
            access_services.set_approval_rule(
                request.user,
                department,
                head_for_outsiders=head,
                trusted_departments=[d for d in departments if d.pk in trusted],
            )
        except Invalid as error:
            errors = error.fields
        else:
            messages.success(request, _("The approval rule of %(name)s is saved.") % {"name": department.name})
            return redirect("org:manage_settings")
    context = {
        "department": department,
        "departments": [d for d in departments if d.pk != department.pk],
        "head": head,
        "trusted": trusted,
        "errors": errors,
    }
    return render(request, "org/manage/settings_rule.html", context, status=422 if errors else 200)


urlpatterns = [
    path("", settings_page, name="manage_settings"),
    path("approval/<id:pk>/", approval_rule, name="manage_settings_rule"),
]
