"""Sign-in attempts in the console: the failed sign-ins django-axes counts (who, from where, how many, when,
whether signing in is paused now), lifting a pause early (services.unlock_sign_in, which records the event),
and the latest successful sign-ins."""

from __future__ import annotations

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from sharehub.errors import Invalid
from sharehub.org import queries, services
from sharehub.org.manage import admin_page
from sharehub.org.manage.accounts import refuse_nul

PAGE_SIZE = 50
RECENT_SIGN_INS = 20


def _page(request: HttpRequest, *, unlock_errors: dict | None = None) -> HttpResponse:
    locked_only = request.GET.get("locked") == "1"
    username = request.GET.get("username", "").replace("\x00", "")[:150]
    attempts = queries.sign_in_attempts(request.user, locked_only=locked_only, username=username)
    page_obj = Paginator(attempts, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page_obj": page_obj,
        "rows": queries.attempt_rows(page_obj.object_list),
        "locked_only": locked_only,
        "username": username,
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cool_off_minutes": int(get_cool_off().total_seconds() // 60),
        "recent": queries.recent_sign_ins(request.user, RECENT_SIGN_INS),
        "unlock_errors": unlock_errors or {},
    }
    return render(request, "org/manage/signins.html", context, status=422 if unlock_errors else 200)


@admin_page
@require_GET
def signin_list(request: HttpRequest) -> HttpResponse:
    return _page(request)


@admin_page
@require_POST
def unlock(request: HttpRequest) -> HttpResponse:
    """Lift the pause of one username before it ends by itself."""
    username = request.POST.get("username", "")
    try:
        refuse_nul(request.POST, ("username",))
        if not username.strip() or len(username) > 255:
            raise Invalid(fields={"username": _("Name the username whose sign-in pause to lift.")})
    except Invalid as error:
        return _page(request, unlock_errors=error.fields)
    cleared = services.unlock_sign_in(request.user, username)
    if cleared:
        messages.success(request, _("Sign-in unlocked for %(names)s.") % {"names": username})
    else:
        messages.info(request, _("No failed sign-ins are counted for %(name)s any more.") % {"name": username})
    return redirect("org:manage_signins")


urlpatterns = [
    path("", signin_list, name="manage_signins"),
    path("unlock/", unlock, name="manage_signins_unlock"),
]
