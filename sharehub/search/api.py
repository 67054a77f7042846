"""Search API: permission-aware full-text search with facets, suggestions as you type, saved searches
and the organization's dictionary.

A thin router: searching goes through `search.queries` (one statement under the policy filter, so
totals and facets never count what the caller may not see), writes through `search.services` (which
ask the policy: only organization admins change the dictionary).
"""

from __future__ import annotations

from django.urls import reverse
from ninja import Query, Router, Status

from sharehub.catalog.models import Resource
from sharehub.errors import NotFound
from sharehub.org.api import person_ref
from sharehub.org.schemas import DbId
from sharehub.search import queries, services
from sharehub.search.forms import SearchState, saved_search_url
from sharehub.search.models import SavedSearch, SearchTerm
from sharehub.search.schemas import (
    SavedSearchIn,
    SavedSearchOut,
    SearchIn,
    SearchOut,
    SuggestionOut,
    TermIn,
    TermOut,
)

router = Router(tags=["search"])

READ_VIA = "api"
SUGGEST_MAX_LENGTH = 100


def _resource_urls(resource: Resource) -> dict:
    return {
        "url": reverse("catalog:detail", args=[resource.code]),
        "api_url": reverse("api:get_resource", args=[resource.code]),
    }


def _hit(hit: queries.Hit) -> dict:
    resource = hit.resource
    return {
        "id": resource.pk,
        "code": resource.code,
        "title": resource.title,
        "title_html": str(hit.title_html),
        "kind": resource.kind,
        "sharing_type": resource.sharing_type,
        "status": resource.status,
        "department": {"id": resource.owner_department_id, "name": resource.owner_department.name},
        "updated_at": resource.updated_at,
        "score": hit.score,
        "can_read": hit.readable,
        "snippet_html": str(hit.snippet.html),
        "snippet_source": hit.snippet.source,
        **_resource_urls(resource),
    }


def _facets(facets: dict[str, list[queries.FacetValue]]) -> dict:
    return {
        name: [{"value": f.value, "label": f.label, "count": f.count, "selected": f.selected} for f in values]
        for name, values in facets.items()
    }


@router.get(
    "/search",
    response=SearchOut,
    summary="Search the catalog: words, phrases, pinyin, filters and facets",
    description="Only resources the caller may see are matched, counted and faceted. A conditional resource "
    "the caller may not read matches and is quoted on its catalog entry only (`can_read` false); "
    "the content of the others is searched and quoted.\n\n"
    "Paging is by page number (`page`, `page_size`, with `total` and `pages`) rather than the cursors "
    "of the other lists: relevance order has no stable key to continue from, and people jump between "
    "result pages. A page beyond the last is empty.\n\n"
    "A snippet quoted from non-open content is a read and lands on the audit log, once per request.",
)
def search(request, filters: Query[SearchIn]):
    criteria = queries.SearchFilters(
        department=filters.department,
        kind=[kind.value for kind in filters.kind],
        tag=filters.tag,
        sharing_type=[sharing.value for sharing in filters.sharing_type],
        updated=filters.updated.value if filters.updated else "",
    )
    result = queries.search(
        request.user, filters.q, criteria, sort=filters.sort.value, page=filters.page, page_size=filters.page_size
    )
    services.note_quoted_reads(request.user, result.hits, via=READ_VIA)
    return {
        "query": result.query,
        "total": result.total,
        "page": result.page,
        "pages": result.pages,
        "page_size": result.page_size,
        "results": [_hit(h) for h in result.hits],
        "facets": _facets(result.facets),
        "unknown_filters": result.unknown,
    }


@router.get(
    "/search/suggest",
    response=list[SuggestionOut],
    summary="Titles and tags for the search box as the caller types",
)
def suggest(request, q: str = Query("", max_length=SUGGEST_MAX_LENGTH)):
    items = []
    for suggestion in queries.suggest(request.user, q):
        if suggestion.resource is not None:
            url = _resource_urls(suggestion.resource)["url"]
        else:
            url = reverse("search:page") + SearchState(tag=(suggestion.label,)).query_string()
        items.append({"kind": suggestion.kind, "label": suggestion.label, "html": str(suggestion.html), "url": url})
    return items


# --- saved searches


def _saved(saved: SavedSearch) -> dict:
    return {
        "id": saved.pk,
        "name": saved.name,
        "query": saved.query,
        "filters": saved.filters or {},
        "created_at": saved.created_at,
        "search_url": saved_search_url(saved),
    }


@router.get("/search/saved", response=list[SavedSearchOut], summary="Your saved searches, by name")
def list_saved(request):
    return [_saved(s) for s in queries.saved_searches(request.user)]


@router.post(
    "/search/saved",
    response={201: SavedSearchOut},
    summary="Save a search under a name",
    description="Needs words or at least one filter. 409 when you already have a saved search with this name.",
)
def create_saved(request, payload: SavedSearchIn):
    saved = services.save_search(request.user, name=payload.name, query=payload.query, filters=payload.filters)
    return Status(201, _saved(saved))


@router.delete(
    "/search/saved/{saved_id}",
    response={204: None},
    summary="Delete one of your saved searches",
    description="Someone else's saved search is 404, like a missing one.",
)
def delete_saved(request, saved_id: DbId):
    services.delete_saved_search(request.user, saved_id)
    return Status(204, None)


# --- the organization's dictionary


def _term(term: SearchTerm) -> dict:
    return {
        "id": term.pk,
        "text": term.text,
        "note": term.note,
        "created_by": person_ref(term.created_by),
        "created_at": term.created_at,
    }


@router.get(
    "/search/terms",
    response=list[TermOut],
    summary="The organization's dictionary: words that search keeps whole",
    description="Abbreviations, system and licence names (智税通, 营业执照) that word segmentation would "
    "otherwise split. Department names are kept whole too, without being listed here.",
)
def list_terms(request):
    return [_term(t) for t in SearchTerm.objects.select_related("created_by").order_by("text")]


@router.post(
    "/search/terms",
    response={201: TermOut},
    summary="Add a word to the dictionary (organization admins)",
    description="The resources that mention it are reindexed in the background, after which the word is found "
    "whole. 403 for callers who are not organization admins; 409 when the word is already there.",
)
def add_term(request, payload: TermIn):
    term = services.add_term(request.user, payload.text, payload.note)
    return Status(201, _term(term))


@router.delete(
    "/search/terms/{term_id}",
    response={204: None},
    summary="Remove a word from the dictionary (organization admins)",
)
def remove_term(request, term_id: DbId):
    term = SearchTerm.objects.filter(pk=term_id).first()
    if term is None:
        raise NotFound()
    services.remove_term(request.user, term)
    return Status(204, None)
