"""The notification list: what happened that involves the person, newest first."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from sharehub.feeds import queries, services
from sharehub.web.redirects import back_to

PAGE_SIZE = 30


@login_required
def notification_list(request):
    unread_only = request.GET.get("unread") == "1"
    queryset = queries.notifications_of(request.user, unread_only=unread_only)
    page_obj = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    items = [
        {"n": n, "sentence": sentence, "link": link}
        for n, sentence, link in queries.shown(request.user, page_obj.object_list)
    ]
    context = {"items": items, "page_obj": page_obj, "unread_only": unread_only}
    return render(request, "feeds/notifications.html", context)


@require_POST
@login_required
def mark_read(request, nid=None):
    """Mark one notification (then follow its link, when given) or all of them read."""
    if nid is not None:
        services.mark_read(request.user, [nid])
    else:
        services.mark_read(request.user)
    return back_to(request, reverse("feeds:list"))
