"""The help pages: /help/ (the list of pages and their search), /help/<topic>/ (one page with its table of
contents), and the tour's "seen" endpoint.

The pages hold no data of the organization (they are the repository's own documentation), so they are open to
anyone, signed in or not: the sign-in page links to "getting started". The search is open too; it reads only
the help files. Marking the tour seen needs a signed-in person and a CSRF token."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_POST

from sharehub.errors import Invalid
from sharehub.knowledge import help_pages

MAX_QUERY_LENGTH = 200


def _context(request) -> dict:
    language = help_pages.language_of(get_language())
    roles = help_pages.tour_roles(request.user) if request.user.is_authenticated else []
    return {
        "groups": help_pages.grouped(language),
        "tour_roles": [(role, help_pages.TOUR_ROLE_LABELS[role]) for role in roles],
    }


@require_GET
def index(request):
    query = request.GET.get("q", "")[:MAX_QUERY_LENGTH].strip()
    error, hits = "", []
    try:
        hits = help_pages.search(query)
    except Invalid as problem:
        error = problem.fields.get("q", problem.message)
    context = {**_context(request), "page": help_pages.page("index"), "query": query, "hits": hits, "error": error}
    return render(request, "knowledge/help/index.html", context, status=422 if error else 200)


@require_GET
def topic(request, topic: str):
    page = help_pages.page(topic) if help_pages.exists(topic) else None
    if page is None:
        raise Http404
    if topic == "index":
        return index(request)
    return render(request, "knowledge/help/page.html", {**_context(request), "page": page})


@login_required
@require_POST
def tour_seen(request):
    """The tour of `role` was finished or dismissed: 204, or 422 naming the field."""
    try:
        help_pages.mark_tour_seen(request.user, request.POST.get("role", ""))
    except Invalid as error:
        body = {"error": {"code": error.code, "message": str(error.message), "fields": error.fields}}
        return JsonResponse(body, status=422)
    return HttpResponse(status=204)
