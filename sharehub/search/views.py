"""The search pages. Thin: read what was asked, call `search.queries` and `search.services`, render.

`/search/` shows one search: the box, facets with counts (links that switch a filter on or off),
the chosen filters as removable chips, highlighted hits, sorting and pages. With htmx, a facet, the
sort or a page swaps only `#search-results` and pushes the address; without JavaScript the same
links load the page. Bad parameters are 422 with the reason next to the box, never a 500.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_POST

from sharehub.catalog.models import Resource
from sharehub.catalog.views import page
from sharehub.errors import Conflict, Invalid
from sharehub.feeds.queries import with_followed
from sharehub.org.models import Department
from sharehub.search import queries, services
from sharehub.search.forms import SearchState, null_characters, saved_search_url
from sharehub.web.redirects import back_to

READ_VIA = "search"
SUGGEST_MAX_LENGTH = 100
FACETS_SHOWN = 8
FACETS = (
    ("department", gettext_lazy("Department")),
    ("kind", gettext_lazy("Kind")),
    ("sharing_type", gettext_lazy("Sharing type")),
    ("tag", gettext_lazy("Tag")),
    ("updated", gettext_lazy("Updated")),
)
FIELD_LABELS = {
    "q": gettext_lazy("Search words"),
    "page": gettext_lazy("Page"),
    "page_size": gettext_lazy("Page size"),
    "sort": gettext_lazy("Sort"),
    **dict(FACETS),
}


def _partial(request) -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")


def _url(state: SearchState) -> str:
    return reverse("search:page") + state.query_string()


# --- the search page -----------------------------------------------------------------------------


def _facet_groups(state: SearchState, result: queries.SearchResult) -> list[dict]:
    groups = []
    for name, title in FACETS:
        values = [
            {
                "label": f.label,
                "count": f.count,
                "selected": state.selected(name, f.value),
                "url": _url(state.toggled(name, f.value)),
            }
            for f in result.facets.get(name, [])
        ]
        if values:
            groups.append({"name": name, "title": title, "shown": values[:FACETS_SHOWN], "more": values[FACETS_SHOWN:]})
    return groups


def _chips(state: SearchState) -> list[dict]:
    """The chosen filters, each with the address of the search without it."""
    names = dict(Department.objects.filter(pk__in=state.department).values_list("pk", "name"))
    labels = {
        "department": {str(k): v for k, v in names.items()},
        "kind": dict(Resource.Kind.choices),
        "sharing_type": dict(Resource.SharingType.choices),
        "updated": {value: label for value, _days, label in queries.UPDATED_BUCKETS},
    }
    chips = []
    for name, title in FACETS:
        chosen = ((state.updated,) if state.updated else ()) if name == "updated" else getattr(state, name)
        for value in chosen:
            value = str(value)
            chips.append(
                {
                    "name": name,
                    "title": title,
                    "label": labels.get(name, {}).get(value, value),
                    "url": _url(state.toggled(name, value)),
                }
            )
    return chips


def _pages(state: SearchState, result: queries.SearchResult) -> dict | None:
    last = min(result.pages, queries.MAX_PAGE)
    if last <= 1 and state.page == 1:
        return None
    current = state.page
    numbers = sorted({1, last, *range(max(1, current - 2), min(last, current + 2) + 1)})
    items, previous = [], 0
    for number in numbers:
        if number - previous > 1:
            items.append(None)
        items.append({"number": number, "url": _url(state.with_page(number)), "current": number == current})
        previous = number
    return {
        "items": items,
        "previous": _url(state.with_page(min(current - 1, last))) if current > 1 else "",
        "next": _url(state.with_page(current + 1)) if current < last else "",
    }


def _unknown_messages(unknown: dict[str, list[str]]) -> list[str]:
    texts = [_("No department is called “%(name)s”.") % {"name": name} for name in unknown.get("dept", [])]
    # Translators: the separator between items of a list in a sentence (、 in Chinese).
    kinds = pgettext("list separator", ", ").join(str(label) for _value, label in Resource.Kind.choices)
    texts += [
        _("“%(name)s” is not a kind of resource. The kinds are: %(kinds)s.") % {"name": name, "kinds": kinds}
        for name in unknown.get("kind", [])
    ]
    return texts


def _result_context(request, state: SearchState) -> dict:
    result = queries.search(request.user, state.q, state.filters(), sort=state.sort, page=state.page)
    services.note_quoted_reads(request.user, result.hits, via=READ_VIA)
    return {
        "result": result,
        "hits": result.hits,
        "facet_groups": _facet_groups(state, result),
        "chips": _chips(state),
        "pages": _pages(state, result),
        "unknown": _unknown_messages(result.unknown),
        "sorts": [
            {"value": value, "label": label, "url": _url(state.with_sort(value)), "current": value == state.sort}
            for value, label in (("relevance", _("Relevance")), ("date", _("Newest")))
        ],
        "clear_url": _url(SearchState(q=state.q)),
    }


def _saved_items(request, state: SearchState) -> list[dict]:
    """The person's saved searches; the one the page shows now is marked."""
    current = state.with_page(1)
    items = []
    for saved in with_followed(queries.saved_searches(request.user), request.user):
        try:
            is_current = not state.is_empty and SearchState.from_saved(saved) == current
        except Invalid:
            is_current = False
        follow = {"following": saved.followed, "own": saved.followed, "departments": []}
        items.append({"saved": saved, "current": is_current, "follow": follow})
    return items


def _render_search(request, data, *, status: int = 200, save_errors: dict | None = None, save_name: str = ""):
    context = {
        "q": (data.get("q") or "").strip(),
        "state": SearchState(),
        "result": None,
        "error": None,
        "save_errors": save_errors or {},
        "save_name": save_name,
        "can_save": bool(save_errors),
        "kind_values": ", ".join(Resource.Kind.values),
        "current_url": reverse("search:page"),
    }
    try:
        state = SearchState.from_data(data)
        context["state"] = state
        context["current_url"] = _url(state)
        if not state.is_empty:
            context.update(_result_context(request, state))
            context["can_save"] = True
    except Invalid as error:
        status = error.status
        context["error"] = {
            "message": error.message,
            "fields": [(FIELD_LABELS.get(name, name), reason) for name, reason in error.fields.items()],
            "names": set(error.fields),
        }
    context["saved_searches"] = _saved_items(request, context["state"])
    template = "search/_results.html" if _partial(request) else "search/page.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@page
def search_page(request):
    return _render_search(request, request.GET)


# --- suggestions for the header box ------------------------------------------------------------


def suggest(request):
    """Titles and tags as the person types in the header box; an empty answer closes the list."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    if null_characters(request.GET, ["q"]):
        return HttpResponse("")
    text = (request.GET.get("q") or "")[:SUGGEST_MAX_LENGTH]
    try:
        suggestions = queries.suggest(request.user, text)
    except Invalid:
        suggestions = []
    items = []
    for suggestion in suggestions:
        if suggestion.resource is not None:
            url = reverse("catalog:detail", args=[suggestion.resource.code])
        else:
            url = _url(SearchState(tag=(suggestion.label,)))
        items.append({"kind": suggestion.kind, "html": suggestion.html, "url": url, "resource": suggestion.resource})
    context = {"items": items, "q": text.strip(), "search_url": _url(SearchState(q=text.strip()))}
    response = render(request, "search/_suggestions.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- saved searches ------------------------------------------------------------------------------


def _own_saved(request, saved_id: int):
    saved = queries.saved_searches(request.user).filter(pk=saved_id).first()
    if saved is None:
        raise Http404()
    return saved


@page
@require_POST
def saved_create(request):
    """Save what the page shows under a name; errors come back on the page next to the name."""
    name = request.POST.get("name", "")
    try:
        state = SearchState.from_data(request.POST)
        saved = services.save_search(request.user, name=name, query=state.q, filters=state.saved_filters())
    except (Invalid, Conflict) as error:
        fields = error.fields or {"name": error.message}
        return _render_search(request, request.POST, status=error.status, save_errors=fields, save_name=name)
    messages.success(request, _("Saved the search “%(name)s”.") % {"name": saved.name})
    return redirect(saved_search_url(saved))


@page
def saved_open(request, saved_id: int):
    return redirect(saved_search_url(_own_saved(request, saved_id)))


@page
@require_POST
def saved_delete(request, saved_id: int):
    saved = _own_saved(request, saved_id)
    services.delete_saved_search(request.user, saved.pk)
    messages.success(request, _("Deleted the saved search “%(name)s”.") % {"name": saved.name})
    return back_to(request, reverse("search:page"))
