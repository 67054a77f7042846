"""Organization pages: the department tree, one department, my API tokens, every token (admins)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from sharehub.errors import Invalid, NotFound
from sharehub.org import queries, services
from sharehub.policy.engine import OrgAction, can

PAGE_SIZE = 50


@login_required
def departments(request):
    return render(request, "org/departments.html", {"rows": queries.department_tree(request.user)})


@login_required
def department(request, pk: int):
    try:
        page = queries.department_page(request.user, pk)
    except NotFound:
        raise Http404 from None
    return render(request, "org/department.html", {"page": page, "department": page.department})


def _token_form(request) -> dict:
    return {
        "name": request.POST.get("name", ""),
        "scopes": request.POST.getlist("scopes"),
        "days": request.POST.get("days", ""),
    }


def _token_choices() -> dict:
    from django.conf import settings

    from sharehub.org import scopes

    return {
        "scope_choices": [
            (scope, text) for scope, text in zip(scopes.all_scopes(), scopes.describe(scopes.all_scopes()), strict=True)
        ],
        "default_days": min(settings.TOKEN_DAYS, settings.TOKEN_MAX_DAYS),
        "max_days": settings.TOKEN_MAX_DAYS,
    }


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    context = {"new_token": None, "secret": None, "errors": {}, "form": {"scopes": ["read"]}, **_token_choices()}
    if request.method == "POST":
        form = _token_form(request)
        try:
            token, secret = services.issue_token(
                request.user, request.user, form["name"], scopes=form["scopes"], days=form["days"] or None
            )
        except Invalid as error:
            context.update(errors=error.fields, form=form)
        else:
            # The secret is rendered in this response only; it is not stored anywhere we can read back.
            context.update(new_token=token, secret=secret)
    context["tokens"] = queries.my_tokens(request.user)
    context["manages_tokens"] = can(request.user, OrgAction.MANAGE_ORG).allowed
    return _no_store(render(request, "org/tokens.html", context, status=422 if context["errors"] else 200))


@login_required
@require_POST
def token_revoke(request, pk: int):
    try:
        token = queries.access_own_token(request.user, pk)
    except NotFound:
        raise Http404 from None
    services.revoke_token(request.user, token)
    messages.success(request, _("Token “%(name)s” is revoked; it no longer works.") % {"name": token.name})
    return redirect("org:tokens")


@login_required
@require_http_methods(["GET", "POST"])
def all_tokens(request):
    """Organization admins: every token, with its owner, scopes and end; revoke any; make one for a
    service account."""
    state = request.GET.get("state", "")
    state = state if state in queries.TOKEN_STATES else ""
    owner = request.GET.get("owner", "")[:150]
    try:
        found = queries.all_tokens(request.user, state=state, owner=owner)
    except NotFound:
        raise Http404 from None
    context = {
        "new_token": None,
        "secret": None,
        "errors": {},
        "form": {"scopes": ["read"]},
        "state": state,
        "owner": owner,
        "states": queries.TOKEN_STATES,
        "accounts": queries.service_accounts(request.user),
        **_token_choices(),
    }
    if request.method == "POST":
        form = {**_token_form(request), "account": request.POST.get("account", "")}
        account = context["accounts"].filter(pk=int(form["account"])).first() if form["account"].isdigit() else None
        try:
            if account is None:
                raise Invalid(fields={"account": _("Choose a service account.")})
            token, secret = services.issue_token(
                request.user, account, form["name"], scopes=form["scopes"], days=form["days"] or None
            )
        except Invalid as error:
            context.update(errors=error.fields, form=form)
        else:
            context.update(new_token=token, secret=secret)
    context["page_obj"] = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    return _no_store(render(request, "org/all_tokens.html", context, status=422 if context["errors"] else 200))


@login_required
@require_POST
def any_token_revoke(request, pk: int):
    try:
        token = queries.access_any_token(request.user, pk)
    except NotFound:
        raise Http404 from None
    services.revoke_token(request.user, token)
    messages.success(
        request,
        _("Token “%(name)s” of %(owner)s is revoked; it no longer works.") % {"name": token.name, "owner": token.user},
    )
    return redirect("org:all_tokens")
