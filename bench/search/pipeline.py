"""One benchmark run on the database Django is configured with: load the corpus, index it, measure.

Returns plain data (JSON-able) that `report.py` turns into the table."""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from django.db import connection

from bench.search import corpus as corpus_module
from bench.search import measure
from bench.search.corpus import Sizes


@dataclass(frozen=True)
class Config:
    sizes: Sizes
    data_dir: Path
    repeat: int = 5
    tantivy: bool = True
    api: bool = True
    profile: bool = False
    groups: dict[str, tuple[str, ...]] | None = None  # query groups; default measure.GROUPS
    baseline_every: int = 1  # raw jieba and segmentation alone over every n-th batch of the text


def database_label() -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            return f"SQLite {cursor.fetchone()[0]}"
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"


def analyze() -> None:
    """PostgreSQL: refresh planner statistics after the bulk load, as autovacuum would within a minute
    in production. SQLite is left as the application leaves it (Sharehub never runs ANALYZE)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _load_average() -> float | None:
    """The 1-minute load average: other work on the machine skews every figure."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def _tantivy_note(config: Config, index) -> str:
    if index is not None:
        return "measured"
    if not config.tantivy:
        return "skipped"
    if config.baseline_every > 1:
        return "skipped: it is built only from the whole text (run once without --baseline-every)"
    return "not installed (pip install -e '.[bench]')"


def run(config: Config, progress: Callable[[str], None] = print) -> dict:
    from sharehub.org.models import User

    timings = {"load_average_start": _load_average()}
    started = time.perf_counter()
    corpus = corpus_module.load(config.sizes, progress)
    timings["load_s"] = time.perf_counter() - started
    ids = corpus.resource_ids

    progress("indexing with sharehub.search.services.index_resources")
    ours_s = measure.index_ours(ids, progress)
    analyze()

    tantivy_index = None
    if config.tantivy:
        signature = {**asdict(config.sizes), "format": 1}
        tantivy_index = measure.open_tantivy(config.data_dir, signature, build=config.baseline_every == 1)
    progress("raw jieba and segmentation alone over the same text" + (", tantivy" if tantivy_index else ""))
    indexing = measure.text_baselines(ids, tantivy_index, progress, every=config.baseline_every)
    indexing.ours_s = ours_s

    person, person_info = measure.pick_person(corpus)
    admin = User.objects.get(pk=corpus.admin_id)
    progress(f"person {person_info['username']} sees {person_info['visible']} of {len(ids)}")
    actors = measure.Actors(person=person, admin=admin, person_info=person_info)
    query_groups = config.groups or measure.GROUPS
    groups, api_note = measure.measure_queries(
        actors, tantivy_index, config.repeat, progress, api=config.api, groups=query_groups
    )

    timings["load_average_end"] = _load_average()
    result = {
        "backend": connection.vendor,
        "database": database_label(),
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "sizes": asdict(config.sizes),
        "corpus": {
            "docs": len(ids),
            "people": len(corpus.person_ids),
            "departments": len(corpus.department_ids),
            "grants": corpus.grants,
            "person": person_info,
        },
        "indexing": asdict(indexing),
        "timings": timings,
        "api": api_note,
        "tantivy": _tantivy_note(config, tantivy_index),
        "groups": {
            name: {
                "latency": {path: timing.summary() for path, timing in group.timings.items()},
                "hits": {label: measure.median_int(values) for label, values in group.totals.items()},
                "sql_statements": {label: measure.median_int(values) for label, values in group.sql_counts.items()},
            }
            for name, group in groups.items()
        },
        "profile": None,
    }
    if config.profile:
        from bench.search import profiling

        progress("profiling the slowest case")
        result["profile"] = profiling.profile_slowest(result, query_groups, actors)
    return result
