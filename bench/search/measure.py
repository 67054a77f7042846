"""The measurements: indexing throughput against raw jieba, and query latency through the search
service, its SQL statement alone, the HTTP API, the bare full-text query and tantivy.

Everything here runs on the database Django is configured with; `run.py` prepares that database
(and the test suite's smoke test uses its own)."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection

from bench.search import tantivy_baseline
from bench.search import vocabulary as vocab
from bench.search.corpus import Corpus

TEXT_BATCH = 2000
INDEX_BATCH = 20_000  # resources per transaction (`sharehub reindex` writes them all in one)
TARGET_SHARE = 0.05
PERSON_CANDIDATES = 80
STATEMENT_MARK = "hits AS "  # the CTE every search statement has, wherever it stands


def percentile(samples: Sequence[float], share: float) -> float:
    """Nearest-rank percentile; NaN for no samples."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass
class Timing:
    """Latencies in milliseconds of one path for one group of queries."""

    samples: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        self.samples.append(seconds * 1000)

    def summary(self) -> dict:
        return {
            "n": len(self.samples),
            "p50": percentile(self.samples, 0.5),
            "p95": percentile(self.samples, 0.95),
            "max": max(self.samples) if self.samples else math.nan,
        }


class SqlLog:
    """Records every statement Django runs while active (for the statement alone and the query count)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple, float]] = []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.calls.append((sql, params, time.perf_counter() - start))

    def main_statement(self) -> tuple[str, tuple] | None:
        for sql, params, _seconds in self.calls:
            if sql.startswith("WITH ") and STATEMENT_MARK in sql:
                return sql, params
        return None


# -- indexing -----------------------------------------------------------------------------------


@dataclass
class IndexingResult:
    docs: int = 0  # what index_resources indexed
    source_bytes: int = 0  # their text (estimated from the sample when the baselines are sampled)
    baseline_docs: int = 0  # what raw jieba and the segmentation alone went over
    baseline_bytes: int = 0
    ours_s: float = 0.0
    raw_jieba_s: float = 0.0
    segment_s: float = 0.0
    tantivy_build_s: float | None = None
    tantivy_reused: bool = False


def index_ours(ids: Sequence[int], progress: Callable[[str], None]) -> float:
    """The real indexing code over every resource, in batches, from a cold start of its caches."""
    from sharehub.search import segment
    from sharehub.search.services import index_resources

    segment.reset()
    segment.pinyin_of.cache_clear()
    segment.segmenter()  # loading the organization's dictionary is start-up cost, not throughput
    started = time.perf_counter()
    for start in range(0, len(ids), INDEX_BATCH):
        index_resources(ids[start : start + INDEX_BATCH])
        done = min(len(ids), start + INDEX_BATCH)
        progress(f"indexed {done} ({done / (time.perf_counter() - started):.0f} docs/s)")
    return time.perf_counter() - started


def source_batches(ids: Sequence[int]) -> Iterator[list]:
    """The text the indexer reads (`source_text`), batch by batch; reading it is not timed."""
    from sharehub.search.documents import resources_for_index, source_text

    for start in range(0, len(ids), TEXT_BATCH):
        yield [source_text(r) for r in resources_for_index(ids[start : start + TEXT_BATCH])]


def text_baselines(
    ids: Sequence[int], tantivy_index, progress: Callable[[str], None], every: int = 1
) -> IndexingResult:
    """Raw `jieba.cut_for_search` and our segmentation alone (`index_document`, no database) over
    exactly the text the indexer read (or every `every`-th batch of it); the segmented documents
    also feed tantivy when it is built (only from the whole text)."""
    import jieba

    from sharehub.search import segment
    from sharehub.search.documents import index_document

    jieba.initialize()
    segment.pinyin_of.cache_clear()
    segmenter = segment.segmenter()
    result = IndexingResult(docs=len(ids))
    build_s = 0.0
    sample = [i for start in range(0, len(ids), TEXT_BATCH * every) for i in ids[start : start + TEXT_BATCH]]
    for texts in source_batches(sample):
        for t in texts:
            result.baseline_bytes += len(t.title.encode()) + len(t.catalog.encode()) + len(t.content.encode())
        started = time.perf_counter()
        for t in texts:
            for part in (t.title, t.catalog, t.content):
                for _word in jieba.cut_for_search(part):
                    pass
        result.raw_jieba_s += time.perf_counter() - started
        started = time.perf_counter()
        documents = [index_document(t, segmenter) for t in texts]
        result.segment_s += time.perf_counter() - started
        if tantivy_index is not None and not tantivy_index.reused:
            started = time.perf_counter()
            tantivy_index.add(documents)
            build_s += time.perf_counter() - started
        result.baseline_docs += len(texts)
        if result.baseline_docs % 20_000 == 0:
            progress(f"baselines over {result.baseline_docs} docs")
    result.source_bytes = round(result.baseline_bytes * result.docs / max(1, result.baseline_docs))
    if tantivy_index is not None:
        started = time.perf_counter()
        tantivy_index.finish()
        if not tantivy_index.reused:
            result.tantivy_build_s = build_s + time.perf_counter() - started
        result.tantivy_reused = tantivy_index.reused
    return result


# -- who searches -------------------------------------------------------------------------------


def pick_person(corpus: Corpus, share: float = TARGET_SHARE):
    """The person (of an evenly spread sample) whose visible() count is nearest `share` of the corpus."""
    from sharehub.org.models import User
    from sharehub.policy.engine import Action, visible

    step = max(1, len(corpus.person_ids) // PERSON_CANDIDATES)
    target = share * len(corpus.resource_ids)
    best = None
    for user in User.objects.filter(pk__in=corpus.person_ids[::step]).order_by("pk"):
        count = visible(user).count()
        if best is None or abs(count - target) < abs(best[1] - target):
            best = (user, count)
    user, count = best
    user = User.objects.get(pk=user.pk)
    readable = visible(user, action=Action.READ).count()
    return user, {"username": user.username, "visible": count, "readable": readable}


# -- queries ------------------------------------------------------------------------------------


def _parsed(query: str):
    from sharehub.search import segment
    from sharehub.search.syntax import parse

    return parse(query, segment.segmenter())


def bare_sql() -> tuple[str, str]:
    """(top-20 statement, count statement) on the full-text table alone, no permission filter."""
    from sharehub.search.backends import FTS_TABLE, PG_WEIGHTS

    if connection.vendor == "sqlite":
        top = f"SELECT rowid, bm25({FTS_TABLE}) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s ORDER BY 2 LIMIT 20"
        count = f"SELECT COUNT(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
        return top, count
    top = (
        f"SELECT resource_id, ts_rank('{PG_WEIGHTS}', full_vec, q, 1) AS rank "
        "FROM search_resourceentry, to_tsquery('simple', %s) q WHERE full_vec @@ q ORDER BY rank DESC LIMIT 20"
    )
    count = "SELECT COUNT(*) FROM search_resourceentry WHERE full_vec @@ to_tsquery('simple', %s)"
    return top, count


def match_expression(query: str) -> str:
    """The MATCH (FTS5) or tsquery (PostgreSQL) text the backend builds for this query."""
    from sharehub.search.backends import backend_for

    parsed = _parsed(query)
    return backend_for().match(parsed.include, parsed.exclude).params[0]


def _run_sql(sql: str, params) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@dataclass
class GroupResult:
    """Latencies per path for one group of queries (Chinese 2-term, English prefix)."""

    timings: dict[str, Timing] = field(default_factory=dict)
    totals: dict[str, list[int]] = field(default_factory=dict)
    sql_counts: dict[str, list[int]] = field(default_factory=dict)
    statements: dict[str, tuple[str, tuple]] = field(default_factory=dict)

    def timing(self, path: str) -> Timing:
        return self.timings.setdefault(path, Timing())


def measure_search(group: GroupResult, label: str, actor, queries: Sequence[str], repeat: int) -> None:
    """`search(actor, q)` (facets, snippets and the page of hits included), then its main SQL statement alone."""
    from sharehub.search.queries import search

    for query in queries:
        log = SqlLog()
        with connection.execute_wrapper(log):
            result = search(actor, query)
        group.totals.setdefault(label, []).append(result.total)
        group.sql_counts.setdefault(label, []).append(len(log.calls))
        statement = log.main_statement()
        if statement:
            group.statements[f"{label}:{query}"] = statement
        for _ in range(repeat):
            started = time.perf_counter()
            search(actor, query)
            group.timing(f"search_{label}").add(time.perf_counter() - started)
        if statement:
            _run_sql(*statement)
            for _ in range(repeat):
                started = time.perf_counter()
                _run_sql(*statement)
                group.timing(f"statement_{label}").add(time.perf_counter() - started)


def api_available() -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve("/api/v1/search")
    except Resolver404:
        return False
    return True


def api_client(user):
    """A Django test Client carrying a bearer token issued to `user` by the real token service."""
    from django.test import Client

    from sharehub.org.services import issue_token

    _token, raw = issue_token(user, user, "search benchmark")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def measure_api(group: GroupResult, label: str, client, queries: Sequence[str], repeat: int) -> None:
    for query in queries:
        response = client.get("/api/v1/search", {"q": query})
        if response.status_code != 200:
            raise RuntimeError(f"/api/v1/search?q={query} answered {response.status_code}: {response.content[:300]!r}")
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get("/api/v1/search", {"q": query})
            response.content  # noqa: B018 - the body is part of the answer
            group.timing(f"api_{label}").add(time.perf_counter() - started)


def measure_bare(group: GroupResult, queries: Sequence[str], repeat: int) -> None:
    top, count = bare_sql()
    for query in queries:
        expression = match_expression(query)
        group.totals.setdefault("bare", []).append(_run_sql(count, [expression])[0][0])
        _run_sql(top, [expression])
        for _ in range(repeat):
            started = time.perf_counter()
            _run_sql(top, [expression])
            group.timing("bare").add(time.perf_counter() - started)


def measure_tantivy(group: GroupResult, index, queries: Sequence[str], repeat: int) -> None:
    for query in queries:
        parsed = _parsed(query)
        group.totals.setdefault("tantivy", []).append(index.count(index.query(parsed)))
        index.top(index.query(parsed))
        for _ in range(repeat):
            started = time.perf_counter()
            index.top(index.query(parsed))
            group.timing("tantivy").add(time.perf_counter() - started)


GROUPS = {"zh": vocab.ZH_QUERIES, "en": vocab.EN_QUERIES}


@dataclass
class Actors:
    person: object
    admin: object
    person_info: dict


def measure_queries(
    actors: Actors,
    tantivy_index,
    repeat: int,
    progress: Callable[[str], None],
    *,
    api: bool = True,
    groups: dict | None = None,
) -> tuple[dict[str, GroupResult], str]:
    """Every path for every group of queries; returns the results and how the API was reached."""
    groups = groups or GROUPS
    api_note = "Django test Client, bearer token (in-process, no network)"
    clients = None
    if not api:
        api_note = "skipped (--no-api)"
    elif api_available():
        clients = {"person": api_client(actors.person), "admin": api_client(actors.admin)}
    else:
        api_note = "not measured: /api/v1/search is not mounted"
    results = {}
    for name, queries in groups.items():
        group = GroupResult()
        for label, actor in (("person", actors.person), ("admin", actors.admin)):
            measure_search(group, label, actor, queries, repeat)
            progress(f"{name}: search() as {label}")
            if clients:
                measure_api(group, label, clients[label], queries, repeat)
                progress(f"{name}: API as {label}")
        measure_bare(group, queries, repeat)
        if tantivy_index is not None:
            measure_tantivy(group, tantivy_index, queries, repeat)
        progress(f"{name}: baselines")
        results[name] = group
    return results, api_note


def median_int(values: Sequence[int]) -> int:
    return int(statistics.median(values)) if values else 0


def open_tantivy(data_dir: Path, signature: dict, build: bool = True):
    """The tantivy index of this corpus: reused when built before, else built (or None if `build` is false)."""
    if not tantivy_baseline.available():
        return None
    if not build and not tantivy_baseline.TantivyIndex.built(data_dir / "tantivy", signature):
        return None
    return tantivy_baseline.TantivyIndex(data_dir / "tantivy", signature)
