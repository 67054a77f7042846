"""Organization pages: the department tree, one department, my API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from sharehub.errors import Invalid, NotFound
from sharehub.org import queries, services


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


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    context = {"new_token": None, "secret": None, "errors": {}, "name": ""}
    if request.method == "POST":
        name = request.POST.get("name", "")
        try:
            token, secret = services.issue_token(request.user, request.user, name)
        except Invalid as error:
            context.update(errors=error.fields, name=name)
        else:
            # The secret is rendered in this response only; it is not stored anywhere we can read back.
            context.update(new_token=token, secret=secret)
    context["tokens"] = queries.my_tokens(request.user)
    response = render(request, "org/tokens.html", context, status=422 if context["errors"] else 200)
    response["Cache-Control"] = "no-store"
    return response


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
