"""Service accounts in the console: the list with their tokens' state, making one, and one account's page
(rename, another owning department, deactivate or reactivate, its tokens made and revoked). Every change goes
through sharehub.org.services, which records the event."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from sharehub.errors import Invalid, NotFound
from sharehub.org import queries, services
from sharehub.org.manage import admin_page
from sharehub.org.models import ApiToken, User
from sharehub.org.views import _no_store, _token_choices, _token_form

PAGE_SIZE = 50


def _department_id(value: str) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) <= 18 else None


def refuse_nul(data, names) -> None:
    """Invalid naming each field whose text holds a NUL character, which no database column stores."""
    errors = {
        name: _("Null characters are not allowed.") for name in names if any("\x00" in v for v in data.getlist(name))
    }
    if errors:
        raise Invalid(fields=errors)


def _account(request: HttpRequest, pk: int) -> User:
    try:
        return queries.access_service_account(request.user, pk)
    except NotFound:
        raise Http404 from None


@admin_page
@require_http_methods(["GET", "POST"])
def account_list(request: HttpRequest) -> HttpResponse:
    """Every service account (filter by owning department and state); the form that makes one."""
    department_id = _department_id(request.GET.get("department", ""))
    state = request.GET.get("state", "")
    state = state if state in queries.ACCOUNT_STATES else ""
    departments = list(queries.owner_departments())
    form = {"username": "", "display_name": "", "department": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {name: request.POST.get(name, "")[:200] for name in form}
        chosen = {d.pk: d for d in departments}.get(_department_id(form["department"]))
        try:
            refuse_nul(request.POST, ("username", "display_name"))
            if chosen is None:
                raise Invalid(fields={"department": _("Choose a department that is not archived.")})
            account = services.create_service_account(
                request.user, department=chosen, username=form["username"], display_name=form["display_name"].strip()
            )
        except Invalid as error:
            errors = error.fields
        else:
            messages.success(
                request,
                _("Service account “%(name)s” created. Make a token for it below.") % {"name": account},
            )
            return redirect("org:manage_account", account.pk)
    accounts = queries.manage_service_accounts(request.user, department_id=department_id, state=state)
    context = {
        "page_obj": Paginator(accounts, PAGE_SIZE).get_page(request.GET.get("page")),
        "departments": departments,
        "department_id": department_id,
        "state": state,
        "form": form,
        "errors": errors,
    }
    return render(request, "org/manage/accounts.html", context, status=422 if errors else 200)


def _token_page(request: HttpRequest, account: User):
    return Paginator(account.api_tokens.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))


@admin_page
@require_http_methods(["GET", "POST"])
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One service account with its tokens; POST makes a token, shown once (the page is not stored)."""
    account = _account(request, pk)
    context = {
        "account": account,
        "departments": list(queries.owner_departments()),
        "chosen_department": str(account.service_owner_id or ""),
        "new_token": None,
        "secret": None,
        "errors": {},
        "edit_errors": {},
        "form": {"scopes": ["read"]},
        **_token_choices(),
    }
    if request.method == "POST":
        form = _token_form(request)
        try:
            refuse_nul(request.POST, ("name",))
            token, secret = services.issue_token(
                request.user, account, form["name"], scopes=form["scopes"], days=form["days"] or None
            )
        except Invalid as error:
            context.update(errors=error.fields, form=form)
        else:
            # The secret is in this response only; Sharehub keeps its fingerprint.
            context.update(new_token=token, secret=secret)
    context["page_obj"] = _token_page(request, account)
    status = 422 if context["errors"] else 200
    return _no_store(render(request, "org/manage/account.html", context, status=status))


@admin_page
@require_POST
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename the account or give it another owning department."""
    account = _account(request, pk)
    departments = list(queries.owner_departments())
    form = {"display_name": request.POST.get("display_name", "")[:200], "department": request.POST.get("department")}
    chosen = {d.pk: d for d in departments}.get(_department_id(form["department"] or ""))
    try:
        refuse_nul(request.POST, ("display_name",))
        if chosen is None:
            raise Invalid(fields={"department": _("Choose a department that is not archived.")})
        services.update_service_account(request.user, account, display_name=form["display_name"], department=chosen)
    except Invalid as error:
        account.display_name = form["display_name"]
        context = {
            "account": account,
            "departments": departments,
            "chosen_department": form["department"],
            "edit_errors": error.fields,
            "errors": {},
            "form": {"scopes": ["read"]},
            "page_obj": _token_page(request, account),
            **_token_choices(),
        }
        return _no_store(render(request, "org/manage/account.html", context, status=422))
    messages.success(request, _("Service account “%(name)s” saved.") % {"name": account})
    return redirect("org:manage_account", account.pk)


@admin_page
@require_POST
def account_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (its tokens are refused from the next request on) or reactivate the account."""
    account = _account(request, pk)
    active = request.POST.get("active", "")
    if active not in ("0", "1"):
        return HttpResponse(_("active: send 0 or 1."), status=422, content_type="text/plain; charset=utf-8")
    services.update_person(request.user, account, is_active=active == "1")
    if active == "1":
        messages.success(request, _("“%(name)s” is active again; its tokens work again.") % {"name": account})
    else:
        messages.success(request, _("“%(name)s” is deactivated; its tokens are refused.") % {"name": account})
    return redirect("org:manage_account", account.pk)


@admin_page
@require_POST
def token_revoke(request: HttpRequest, pk: int, token_id: int) -> HttpResponse:
    account = _account(request, pk)
    token = ApiToken.objects.filter(user=account, pk=token_id).first()
    if token is None:
        raise Http404
    services.revoke_token(request.user, token)
    messages.success(request, _("Token “%(name)s” is revoked; it no longer works.") % {"name": token.name})
    return redirect("org:manage_account", account.pk)


urlpatterns = [
    path("", account_list, name="manage_accounts"),
    path("<id:pk>/", account_detail, name="manage_account"),
    path("<id:pk>/edit/", account_edit, name="manage_account_edit"),
    path("<id:pk>/active/", account_active, name="manage_account_active"),
    path("<id:pk>/tokens/<id:token_id>/revoke/", token_revoke, name="manage_account_token_revoke"),
]
