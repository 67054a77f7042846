"""Home, sign-in pages and error pages."""

from __future__ import annotations

import sys

from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse, reverse_lazy
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views import i18n as i18n_views

from sharehub.catalog import queries as catalog_queries
from sharehub.directory import views as directory_views
from sharehub.directory.forms import SignInForm
from sharehub.errors import BadRequest, Invalid, from_request_error, is_database_busy
from sharehub.org import services as org_services
from sharehub.org.models import Membership
from sharehub.policy.engine import context_for
from sharehub.web.middleware import busy_response

CREATE_RESOURCE_FALLBACK = "/resources/new/"


def set_language(request):
    """Django's language switch, which also keeps a signed-in person's choice: their email comes in it."""
    response = i18n_views.set_language(request)
    language = request.POST.get("language", "")
    if request.method == "POST" and request.user.is_authenticated and check_for_language(language):
        org_services.set_language(request.user, language)
    return response


def _create_url() -> str:
    try:
        return reverse("catalog:create")
    except NoReverseMatch:
        return CREATE_RESOURCE_FALLBACK


@login_required
def home(request):
    user = request.user
    context = {
        "recent_mine": list(catalog_queries.recent_in_departments(user, context_for(user).department_ids)),
        "recent_across": list(catalog_queries.recent_across(user)),
        "memberships": list(
            Membership.objects.filter(user=user).select_related("department").order_by("department__path")
        ),
        "create_url": _create_url(),
    }
    return render(request, "web/home.html", context)


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True
    authentication_form = SignInForm  # says so when the LDAP directory cannot be reached

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **directory_views.sign_in_options()}


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's form checks the fields; the change itself goes through the service so it is logged."""

    template_name = "web/password_change_form.html"  # registration/… would be the admin app's template
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form):
        try:
            org_services.change_password(
                self.request.user, form.cleaned_data["old_password"], form.cleaned_data["new_password1"]
            )
        except Invalid as error:
            for name, message in error.fields.items():
                form.add_error("new_password1" if name == "new_password" else name, message)
            return self.form_invalid(form)
        update_session_auth_hash(self.request, self.request.user)
        return super(auth_views.PasswordChangeView, self).form_valid(form)


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "web/password_change_done.html"


def bad_request(request, exception=None):
    """Django's 400 for a request it cannot read; 413 when the body is over the limit."""
    error = from_request_error(exception) if exception is not None else None
    error = error or BadRequest()
    try:
        request.GET  # noqa: B018  the page's own parts read the query string again
    except SuspiciousOperation:
        request.GET = QueryDict()
    title = _("Too large") if error.status == 413 else _("The request could not be read")
    return render(request, "web/400.html", {"title": title, "message": error.message}, status=error.status)


def not_found(request, exception=None):
    return render(request, "web/404.html", status=404)


def permission_denied(request, exception=None):
    return render(request, "web/403.html", status=403)


def server_error(request):
    """Also reached by errors raised outside a view (in middleware), hence the busy check here too."""
    if is_database_busy(sys.exc_info()[1]):
        return busy_response(request)
    return HttpResponse(render_to_string("web/500.html"), status=500)  # no context: the database may be down
