"""The console's front page: what an organization admin can manage, with the figures that need attention."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import path

from sharehub.org.manage import admin_page
from sharehub.policy.engine import OrgAction, can


@admin_page
def home(request):
    return render(request, "org/manage/home.html", {"can_admin_site": bool(can(request.user, OrgAction.ADMIN_SITE))})


urlpatterns = [path("", home, name="manage")]
