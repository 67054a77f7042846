"""Permission-aware search: results, counts, facets and the page of hits come from one SQL statement
that joins the full-text index to the index entries (the trigger-kept mirror of each resource's policy
columns, see models.ResourceEntry) under the policy filter.

The permission rule inside that statement: a resource the person may read matches on any of its text;
a resource whose entry they may only see (conditional, no grant) matches, ranks and is quoted on its
catalog text alone; anything else is not in the statement's rows at all.
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sharehub.catalog.models import Resource, Tag
from sharehub.errors import Invalid
from sharehub.org.models import Department
from sharehub.policy.engine import Action, access_terms, resource_sql, visible
from sharehub.search import segment
from sharehub.search.backends import ENTRY_TABLE, FACET_TABLE, backend_for
from sharehub.search.models import ResourceEntry, SavedSearch
from sharehub.search.snippets import Snippet, attachment_texts, highlight, snippet_for
from sharehub.search.syntax import ParsedQuery, parse

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_PAGE = 500
TAG_FACET_SIZE = 30
SORTS = ("relevance", "date")
UPDATED_BUCKETS = (
    ("7d", 7, gettext_lazy("past week")),
    ("30d", 30, gettext_lazy("past month")),
    ("365d", 365, gettext_lazy("past year")),
    ("older", None, gettext_lazy("older")),
)
FRESH_BOOSTS = ((30, 1.25), (180, 1.1))
HELPER_THREADS = 4  # admins searching at once on SQLite, each with a facet statement on a helper


@dataclass
class SearchFilters:
    department: list[int] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    tag: list[str] = field(default_factory=list)
    sharing_type: list[str] = field(default_factory=list)
    updated: str = ""
    among: list[int] = field(default_factory=list)  # only these resources (not a filter people choose)


@dataclass
class Hit:
    resource: Resource
    score: float
    readable: bool
    title_html: str
    snippet: Snippet | None
    tags: list[str] = field(default_factory=list)


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool = False


@dataclass
class SearchResult:
    query: str
    parsed: ParsedQuery
    filters: SearchFilters
    sort: str
    page: int
    page_size: int
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    unknown: dict[str, list[str]] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))


def _kind_value(text: str) -> str | None:
    lowered = text.strip().casefold()
    for value, label in Resource.Kind.choices:
        if lowered in (value, str(label).casefold()):
            return value
    return None


def _department_ids(name: str) -> list[int]:
    """The departments dept: names: by name or code (dept:税务局, dept:SWJ), else by part of the name."""
    departments = Department.objects.values_list("pk", flat=True)
    exact = list(departments.filter(Q(name=name) | Q(code__iexact=name)))
    return exact or list(departments.filter(name__icontains=name).order_by("path", "pk")[:200])


def resolve_filters(parsed: ParsedQuery, filters: SearchFilters) -> tuple[SearchFilters, dict[str, list[str]]]:
    """Merge dept:/kind:/tag: from the query text into the explicit filters; names nothing matches
    are reported back instead of being silently ignored."""
    merged = SearchFilters(
        department=list(filters.department),
        kind=list(filters.kind),
        tag=list(filters.tag),
        sharing_type=list(filters.sharing_type),
        updated=filters.updated,
    )
    unknown: dict[str, list[str]] = {}
    for name in parsed.filters.get("dept", []):
        ids = _department_ids(name)
        if ids:
            merged.department.extend(ids)
        else:
            unknown.setdefault("dept", []).append(name)
    for name in parsed.filters.get("kind", []):
        value = _kind_value(name)
        if value:
            merged.kind.append(value)
        else:
            unknown.setdefault("kind", []).append(name)
    merged.tag.extend(parsed.filters.get("tag", []))
    return merged, unknown


_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean_text(text: str) -> str:
    """NUL means nothing in a search (PostgreSQL refuses it in text); a lone surrogate (JSON can carry
    one) cannot be encoded for the database and becomes U+FFFD, which matches nothing."""
    return _SURROGATE.sub("\ufffd", (text or "").replace("\x00", ""))


def _without_nul(filters: SearchFilters) -> SearchFilters:
    return SearchFilters(
        department=list(filters.department),
        kind=[_clean_text(k) for k in filters.kind],
        tag=[_clean_text(t) for t in filters.tag],
        sharing_type=[_clean_text(v) for v in filters.sharing_type],
        updated=_clean_text(filters.updated),
    )


def _validate(filters: SearchFilters, sort: str, page: int, page_size: int) -> None:
    errors = {}
    kinds = set(Resource.Kind.values)
    if any(k not in kinds for k in filters.kind):
        errors["kind"] = _("Choose one of: %(choices)s.") % {"choices": ", ".join(Resource.Kind.values)}
    sharing = set(Resource.SharingType.values)
    if any(s not in sharing for s in filters.sharing_type):
        errors["sharing_type"] = _("Choose one of: %(choices)s.") % {"choices": ", ".join(Resource.SharingType.values)}
    if filters.updated and filters.updated not in {b[0] for b in UPDATED_BUCKETS}:
        errors["updated"] = _("Choose one of: %(choices)s.") % {"choices": ", ".join(b[0] for b in UPDATED_BUCKETS)}
    if sort not in SORTS:
        errors["sort"] = _("Choose one of: %(choices)s.") % {"choices": ", ".join(SORTS)}
    if not 1 <= page <= MAX_PAGE:
        errors["page"] = _("Choose a page from 1 to %(n)s.") % {"n": MAX_PAGE}
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        errors["page_size"] = _("Choose a page size from 1 to %(n)s.") % {"n": MAX_PAGE_SIZE}
    if errors:
        raise Invalid(fields=errors)


def _dt(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True)
class _Rows:
    """Where the statement reads each resource's facet columns: the index entries, or (for an admin on
    SQLite, who tests no policy) the narrower facet table (`SqliteBackend.create_facets`)."""

    source: str
    table: str
    updated: str
    adapt: Callable[[datetime], object]

    def columns(self) -> str:
        t = self.table
        return (
            f"{t}.resource_id AS id, {t}.owner_department_id AS dept, {t}.kind AS kind, "
            f"{t}.sharing_type AS sharing, {t}.{self.updated} AS updated"
        )


def _entry_rows(backend) -> _Rows:
    return _Rows(backend.entry_source, ENTRY_TABLE, "updated_at", _dt)


def _all_rows(backend) -> _Rows:
    if backend.vendor == "sqlite":
        return _Rows(FACET_TABLE, FACET_TABLE, "updated_us", _micros)
    return _entry_rows(backend)


def _bucket_bounds(now: datetime) -> list[tuple[str, datetime | None]]:
    return [(name, now - timedelta(days=days) if days else None) for name, days, _label in UPDATED_BUCKETS]


def _filter_sql(filters: SearchFilters, now: datetime, rows: _Rows) -> tuple[list[str], list]:
    clauses: list[str] = []
    params: list = []
    if filters.among:
        clauses.append(f"{rows.table}.resource_id IN (" + ", ".join(["%s"] * len(filters.among)) + ")")
        params += list(filters.among)
    if filters.department:
        ids = sorted(set(filters.department))
        paths = [f"%/{i}/%" for i in ids]
        clauses.append(
            f"{rows.table}.owner_department_id IN (SELECT d.id FROM org_department d WHERE d.id IN ("
            + ", ".join(["%s"] * len(ids))
            + ") OR "
            + " OR ".join(["d.path LIKE %s"] * len(paths))
            + ")"
        )
        params += ids + paths
    if filters.kind:
        clauses.append(f"{rows.table}.kind IN (" + ", ".join(["%s"] * len(filters.kind)) + ")")
        params += list(filters.kind)
    if filters.sharing_type:
        clauses.append(f"{rows.table}.sharing_type IN (" + ", ".join(["%s"] * len(filters.sharing_type)) + ")")
        params += list(filters.sharing_type)
    for tag in filters.tag:
        clauses.append(
            f"{rows.table}.resource_id IN (SELECT rt.resource_id FROM catalog_resource_tags rt"
            " JOIN catalog_tag t ON t.id = rt.tag_id WHERE t.name = %s)"
        )
        params.append(tag)
    if filters.updated:
        bounds = _bucket_bounds(now)
        bound = dict(bounds)[filters.updated]
        if bound is not None:  # "past week/month/year": everything since then
            clauses.append(f"{rows.table}.{rows.updated} >= %s")
            params.append(rows.adapt(bound))
        else:  # "older": before the longest period
            clauses.append(f"{rows.table}.{rows.updated} < %s")
            params.append(rows.adapt(bounds[-2][1]))
    return clauses, params


def _freshness(column: str, now, adapt: Callable[[datetime], object] = _dt) -> tuple[str, list]:
    sql = "CASE " + " ".join(f"WHEN {column} >= %s THEN {boost}" for _days, boost in FRESH_BOOSTS) + " ELSE 1.0 END"
    return sql, [adapt(now - timedelta(days=days)) for days, _boost in FRESH_BOOSTS]


def _reads_everything(actor, now) -> bool:
    return resource_sql(actor, Action.READ, now, model=ResourceEntry)[0] == "1=1"


def _hits_sql(
    actor, parsed: ParsedQuery, filters: SearchFilters, now, scored: bool = True, materialized: bool = True
) -> tuple[str, list, _Rows]:
    """The CTEs ending in `hits` (id, dept, kind, sharing, updated, score, readable): every resource the
    query finds for the actor, under the permission rule of this module's docstring; and where its
    columns come from.

    Someone who reads everything gets one pass over the facet rows (`_all_rows`), with a score unless
    not `scored` (and, not `materialized`, run inside the one query that reads it). Anyone else: `cand`
    takes the candidates (the full-text index prefilters them by the actor's access terms), applies
    the VIEW filter and works out, once per row, whether the actor may read it, both scores and both
    ways of matching; `hits` keeps a row if it matches the way the actor may match it."""
    backend = backend_for()
    if _reads_everything(actor, now):
        rows = _all_rows(backend)
        filter_clauses, filter_params = _filter_sql(filters, now, rows)
        match = backend.match(parsed.include, parsed.exclude, None, rows.table) if parsed.has_terms else None
        where = [match.condition, match.exclude_full] if match else []
        where_params = [*match.params, *match.exclude_full_params] if match else []
        score, score_params = "0.0", []
        if match and scored:
            freshness, freshness_params = _freshness(f"{rows.table}.{rows.updated}", now, rows.adapt)
            score, score_params = f"({match.full_score}) * {freshness}", [*match.score_params, *freshness_params]
        sql = (
            f"hits AS {'' if materialized else 'NOT '}MATERIALIZED "
            f"(SELECT {rows.columns()}, {score} AS score, 1 AS readable "
            f"FROM {rows.source} {match.joins if match else ''}"
            + (" WHERE " + " AND ".join([*where, *filter_clauses]) if where or filter_clauses else "")
            + ")"
        )
        return sql, [*score_params, *where_params, *filter_params], rows

    rows = _entry_rows(backend)
    filter_clauses, filter_params = _filter_sql(filters, now, rows)
    match = backend.match(parsed.include, parsed.exclude, access_terms(actor)) if parsed.has_terms else None
    source = f"{rows.source} {match.joins if match else ''}"
    where = ([match.condition] if match else []) + filter_clauses
    where_params = (list(match.params) if match else []) + filter_params
    # A few full-text candidates: the policy tests them row by row; browsing tests every entry.
    visible_sql, visible_params = resource_sql(actor, Action.VIEW, now, model=ResourceEntry, correlated=bool(match))
    readable_sql, readable_params = resource_sql(actor, Action.READ, now, model=ResourceEntry, correlated=bool(match))
    if match:
        matching = (
            f"{match.full_score} AS full_score, {match.catalog_score} AS catalog_score, "
            f"CASE WHEN ({match.exclude_full}) THEN 1 ELSE 0 END AS full_ok, "
            f"CASE WHEN ({match.catalog_condition}) AND ({match.exclude_catalog}) THEN 1 ELSE 0 END AS catalog_ok"
        )
        matching_params = [
            *match.score_params,
            *match.score_params,
            *match.exclude_full_params,
            *match.catalog_params,
            *match.exclude_catalog_params,
        ]
        freshness, freshness_params = _freshness("updated", now)
        score = f"(CASE WHEN readable = 1 THEN full_score ELSE catalog_score END) * {freshness}"
    else:
        matching, matching_params = "1 AS full_ok, 1 AS catalog_ok", []
        score, freshness_params = "0.0", []
    sql = (
        f"cand AS MATERIALIZED (SELECT {rows.columns()}, {matching}, "
        f"CASE WHEN ({readable_sql}) THEN 1 ELSE 0 END AS readable FROM {source} WHERE "
        + " AND ".join([*where, f"({visible_sql})"])
        + "), hits AS MATERIALIZED (SELECT id, dept, kind, sharing, updated, "
        f"{score} AS score, readable FROM cand WHERE (CASE WHEN readable = 1 THEN full_ok ELSE catalog_ok END) = 1)"
    )
    return sql, [*matching_params, *readable_params, *where_params, *visible_params, *freshness_params], rows


def _facets_sql(rows: _Rows, now) -> tuple[str, str, list]:
    """A `counts` CTE over `hits` and the (facet, key, label, value) rows of the total and each facet's
    counts. The facets with a few known values (kind, sharing type, period) are counted in one pass
    over the hits, which costs less than a grouping each; the periods' counts contain each other, as the
    periods do, and "older" is the rest."""
    backend = backend_for()
    bounds = [bound for _name, bound in _bucket_bounds(now) if bound is not None]
    known = [("kind", value, "kind = %s") for value in Resource.Kind.values]
    known += [("sharing_type", value, "sharing = %s") for value in Resource.SharingType.values]
    cte = (
        "counts AS MATERIALIZED (SELECT COUNT(*) AS total, "
        + ", ".join(f"COUNT(*) FILTER (WHERE {condition}) AS n{i}" for i, (_f, _v, condition) in enumerate(known))
        + ", "
        + ", ".join(f"COUNT(*) FILTER (WHERE updated >= %s) AS p{i}" for i in range(len(bounds)))
        + " FROM hits)"
    )
    cte_params = [*(value for _facet, value, _condition in known), *(rows.adapt(bound) for bound in bounds)]
    periods = [name for name, days, _label in UPDATED_BUCKETS if days]
    older = UPDATED_BUCKETS[-1][0]
    select = (
        "SELECT 'total', '', '', total FROM counts "
        + "".join(
            f"UNION ALL SELECT '{facet}', %s, '', n{i} FROM counts WHERE n{i} > 0 "
            for i, (facet, _value, _condition) in enumerate(known)
        )
        + "".join(f"UNION ALL SELECT 'updated', '{name}', '', p{i} FROM counts " for i, name in enumerate(periods))
        + f"UNION ALL SELECT 'updated', '{older}', '', total - p{len(periods) - 1} FROM counts "
        "UNION ALL SELECT 'department', CAST(g.dept AS TEXT), d.name, g.n "
        "FROM (SELECT dept, COUNT(*) AS n FROM hits GROUP BY dept) g JOIN org_department d ON d.id = g.dept "
        "UNION ALL SELECT 'tag', CAST(t.id AS TEXT), t.name, g.n FROM (SELECT rt.tag_id AS tag_id, COUNT(*) AS n "
        f"FROM {backend.hit_tag_links} GROUP BY rt.tag_id "
        f"ORDER BY n DESC, rt.tag_id LIMIT {TAG_FACET_SIZE}) g JOIN catalog_tag t ON t.id = g.tag_id"
    )
    return cte, select, [*cte_params, *(value for _facet, value, _condition in known)]


def _page_sql(parsed: ParsedQuery, sort: str, limit: int, offset: int) -> tuple[str, list]:
    """('hit', id, readable, score) rows over `hits`: the page, in order."""
    order = "score DESC, updated DESC, id DESC" if sort == "relevance" and parsed.has_terms else "updated DESC, id DESC"
    sql = (
        "SELECT * FROM (SELECT 'hit', CAST(id AS TEXT), CAST(readable AS TEXT), score FROM hits "
        f"ORDER BY {order} LIMIT %s OFFSET %s) page"
    )
    return sql, [limit, offset]


def _statement(actor, parsed: ParsedQuery, filters: SearchFilters, sort: str, limit: int, offset: int, now):
    """The one statement: (facet, key, label, value) rows; 'hit' rows come last, in order, with the
    label saying whether the person may read the content."""
    hits_sql, params, rows = _hits_sql(actor, parsed, filters, now)
    counts_sql, facets_sql, facets_params = _facets_sql(rows, now)
    page_sql, page_params = _page_sql(parsed, sort, limit, offset)
    sql = f"WITH {hits_sql}, {counts_sql} {facets_sql} UNION ALL {page_sql}"
    return sql, [*params, *facets_params, *page_params]


def _fetch(sql: str, params: list, using=None) -> list:
    with (using or connection).cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _facets_in_helper(sql: str, params: list) -> list:
    """Runs in a helper thread, on that thread's own connection (kept open for the next search)."""
    return _fetch(sql, params, using=connections[DEFAULT_DB_ALIAS])


_helpers: ThreadPoolExecutor | None = None
_helpers_lock = threading.Lock()


def _helper_pool() -> ThreadPoolExecutor:
    global _helpers
    with _helpers_lock:
        if _helpers is None:
            _helpers = ThreadPoolExecutor(max_workers=HELPER_THREADS, thread_name_prefix="search-facets")
        return _helpers


def _forget_helpers() -> None:
    """A forked worker has none of its parent's threads: it starts its own pool when it needs one."""
    global _helpers, _helpers_lock
    _helpers, _helpers_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_helpers)


def _split_rows(actor, parsed: ParsedQuery, filters: SearchFilters, sort: str, limit: int, offset: int, now):
    """An admin's search on SQLite in two statements at once, the facets on a helper thread's connection
    and the ranked page on this one: each costs about half of the one statement, and SQLite works
    without the interpreter lock. None if another connection committed meanwhile (`PRAGMA
    data_version` moved), since the two may then have read different states; the caller then runs
    the one statement."""
    facet_hits, facet_hits_params, rows = _hits_sql(actor, parsed, filters, now, scored=False)
    counts_sql, facets_sql, facets_params = _facets_sql(rows, now)
    ranked_hits, ranked_params, _rows = _hits_sql(actor, parsed, filters, now, materialized=False)
    page_sql, page_params = _page_sql(parsed, sort, limit, offset)
    version = _fetch("PRAGMA data_version", [])
    facets = _helper_pool().submit(
        _facets_in_helper, f"WITH {facet_hits}, {counts_sql} {facets_sql}", [*facet_hits_params, *facets_params]
    )
    try:
        page = _fetch(f"WITH {ranked_hits} {page_sql}", [*ranked_params, *page_params])
    except BaseException:
        wait([facets])  # no statement outlives the search
        raise
    counted = facets.result()
    if _fetch("PRAGMA data_version", []) != version:
        return None
    return counted + page


def _result_rows(actor, parsed: ParsedQuery, filters: SearchFilters, sort: str, limit: int, offset: int, now):
    if (
        connection.vendor == "sqlite"
        and parsed.has_terms
        and not connection.in_atomic_block
        and _reads_everything(actor, now)
    ):
        rows = _split_rows(actor, parsed, filters, sort, limit, offset, now)
        if rows is not None:
            return rows
    return _fetch(*_statement(actor, parsed, filters, sort, limit, offset, now))


def search(
    actor,
    query: str = "",
    filters: SearchFilters | None = None,
    *,
    sort: str = "relevance",
    page: int = 1,
    page_size: int = PAGE_SIZE,
    now: datetime | None = None,
) -> SearchResult:
    filters = _without_nul(filters or SearchFilters())
    query = _clean_text(query)
    _validate(filters, sort, page, page_size)
    now = now or timezone.now()
    parsed = parse(query, segment.segmenter())
    if parsed.exclude and not parsed.include:
        raise Invalid(fields={"q": _("Add a word to search for: a search cannot only exclude words.")})
    merged, unknown = resolve_filters(parsed, filters)
    rows = []
    if not unknown and access_terms(actor) != ():  # () : the actor may see nothing
        rows = _result_rows(actor, parsed, merged, sort, page_size, (page - 1) * page_size, now)
    total, counts, hit_rows = 0, {}, []
    for facet, key, label, value in rows:
        if facet == "total":
            total = int(value)
        elif facet == "hit":
            hit_rows.append((int(key), float(value or 0.0), label == "1"))
        else:
            counts.setdefault(facet, {})[key] = (label, int(value))
    hits = _hits(parsed, hit_rows)
    return SearchResult(
        query=query,
        parsed=parsed,
        filters=merged,
        sort=sort,
        page=page,
        page_size=page_size,
        total=total,
        hits=hits,
        facets=_facets(counts, merged),
        unknown=unknown,
    )


def matching_ids(
    actor, query: str, filters: SearchFilters, among: Iterable[int], now: datetime | None = None
) -> set[int]:
    """Which of the resources `among` this search finds for the actor now, under the same permission rule
    as the search page (a followed saved search's new matches). A search that cannot run (only excluded
    words, a department that no longer exists) finds nothing."""
    among = sorted(set(among))
    if not among or access_terms(actor) == ():
        return set()
    now = now or timezone.now()
    parsed = parse(_clean_text(query), segment.segmenter())
    if parsed.exclude and not parsed.include:
        return set()
    merged, unknown = resolve_filters(parsed, _without_nul(filters))
    try:
        _validate(merged, SORTS[0], 1, 1)
    except Invalid:
        return set()
    if unknown:
        return set()
    found: set[int] = set()
    for start in range(0, len(among), 500):
        merged.among = among[start : start + 500]
        hits_sql, params, _rows = _hits_sql(actor, parsed, merged, now, scored=False)
        found.update(row[0] for row in _fetch(f"WITH {hits_sql} SELECT id FROM hits", params))
    return found


def _hits(parsed: ParsedQuery, hit_rows: list[tuple[int, float, bool]]) -> list[Hit]:
    """The page of hits, in the statement's order; the rows were chosen under the policy filter, so
    they are fetched by id here, with what a hit shows (owner department, tag names)."""
    if not hit_rows:
        return []
    ids = [row[0] for row in hit_rows]
    resources = {r.pk: r for r in Resource.objects.select_related("owner_department").filter(pk__in=ids)}
    tags: dict[int, list[str]] = {}
    for resource_id, name in (
        Resource.tags.through.objects.filter(resource_id__in=ids)
        .order_by("tag__name")
        .values_list("resource_id", "tag__name")
    ):
        tags.setdefault(resource_id, []).append(name)
    words = parsed.words()
    prefixes = parsed.prefix_words()
    hits: list[Hit] = []
    for resource_id, score, can_read in hit_rows:
        resource = resources.get(resource_id)
        if resource is None:
            continue
        snippet = snippet_for(
            resource, words, prefixes, tag_names=tags.get(resource_id, []), include_content=can_read, attachments=None
        )
        hits.append(
            Hit(
                resource=resource,
                score=score,
                readable=can_read,
                title_html=highlight(resource.title, words, prefixes),
                snippet=snippet,
                tags=tags.get(resource_id, []),
            )
        )
    unquoted = [hit for hit in hits if hit.snippet is None]
    if unquoted:
        attachments = attachment_texts([hit.resource.pk for hit in unquoted])
        for hit in unquoted:
            hit.snippet = snippet_for(
                hit.resource,
                words,
                prefixes,
                tag_names=hit.tags,
                include_content=True,
                attachments=attachments.get(hit.resource.pk, []),
            )
    return hits


def _facets(grouped: dict[str, dict[str, tuple[str, int]]], filters: SearchFilters) -> dict[str, list[FacetValue]]:
    counts = {name: [(key, label, count) for key, (label, count) in values.items()] for name, values in grouped.items()}
    kind_labels = dict(Resource.Kind.choices)
    sharing_counts = {key: count for key, _label, count in counts.get("sharing_type", [])}
    updated_counts = {key: count for key, _label, count in counts.get("updated", [])}
    return {
        "department": sorted(
            (FacetValue(k, label, c, int(k) in filters.department) for k, label, c in counts.get("department", [])),
            key=lambda f: (-f.count, f.label),
        ),
        "kind": sorted(
            (FacetValue(k, str(kind_labels.get(k, k)), c, k in filters.kind) for k, _l, c in counts.get("kind", [])),
            key=lambda f: -f.count,
        ),
        "sharing_type": [
            FacetValue(value, str(label), sharing_counts[value], value in filters.sharing_type)
            for value, label in Resource.SharingType.choices
            if sharing_counts.get(value)
        ],
        "tag": [
            FacetValue(label, label, c, label in filters.tag)
            for _k, label, c in sorted(counts.get("tag", []), key=lambda kc: (-kc[2], kc[1]))
        ],
        "updated": [
            FacetValue(name, str(label), updated_counts[name], filters.updated == name)
            for name, _days, label in UPDATED_BUCKETS
            if updated_counts.get(name)
        ],
    }


@dataclass
class Suggestion:
    kind: str  # "resource" or "tag"
    label: str
    html: str
    resource: Resource | None = None


def suggest(actor, text: str, limit: int = 8) -> list[Suggestion]:
    """Titles and tags for the search box as the person types."""
    text = (text or "").strip()
    text = _clean_text(text)
    if not text:
        return []
    try:
        result = search(actor, text, page_size=limit)
    except Invalid:  # half-typed input such as "-word": no suggestions yet
        return []
    suggestions = [
        Suggestion("resource", h.resource.title, h.title_html, h.resource) for h in result.hits if h.resource
    ]
    visible_with_tag = visible(actor, Resource.objects.filter(tags=OuterRef("pk")))
    tags = (
        Tag.objects.filter(Q(name__istartswith=text) | Q(name__icontains=text))
        .filter(Exists(visible_with_tag))
        .order_by("name")[:5]
    )
    words = result.parsed.words()
    prefixes = result.parsed.prefix_words()
    suggestions += [Suggestion("tag", tag.name, highlight(tag.name, words, prefixes)) for tag in tags]
    return suggestions


def saved_searches(actor):
    if not getattr(actor, "is_authenticated", False):
        return SavedSearch.objects.none()
    return SavedSearch.objects.filter(owner_id=actor.pk)
