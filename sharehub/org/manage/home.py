"""The console's front page: what an organization admin can manage, with the figures that need attention."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import path

from sharehub.policy.engine import OrgAction, can


@login_required
def home(request):
    if not can(request.user, OrgAction.MANAGE_ORG):
        raise Http404
    return render(request, "org/manage/home.html", {"can_admin_site": bool(can(request.user, OrgAction.ADMIN_SITE))})


urlpatterns = [path("", home, name="manage")]
