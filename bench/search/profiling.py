"""Where the time goes in the slowest case: each SQL statement of one `search()` call, the query plan
of the main statement and of the bare full-text query, and a profile of repeated calls."""

from __future__ import annotations

import cProfile
import io
import math
import pstats
import re
import statistics
import sys
import time

from django.db import connection

from bench.search import measure

PROFILE_RUNS = 10
TOP_FUNCTIONS = 30


def _slowest_case(result: dict) -> tuple[str, str]:
    best, worst = None, -1.0
    for group, data in result["groups"].items():
        for label in ("person", "admin"):
            p95 = data["latency"].get(f"search_{label}", {}).get("p95", math.nan)
            if not math.isnan(p95) and p95 > worst:
                best, worst = (group, label), p95
    return best


def _slowest_query(actor, queries) -> tuple[str, float]:
    from sharehub.search.queries import search

    timed = []
    for query in queries:
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            search(actor, query)
            runs.append(time.perf_counter() - started)
        timed.append((statistics.median(runs), query))
    seconds, query = max(timed)
    return query, seconds * 1000


def _short(sql: str, size: int = 110) -> str:
    return re.sub(r"\s+", " ", sql)[:size].replace("|", "\\|")


def _statements(actor, query: str) -> tuple[list[str], tuple[str, tuple] | None]:
    from sharehub.search.queries import search

    search(actor, query)
    log = measure.SqlLog()
    started = time.perf_counter()
    with connection.execute_wrapper(log):
        search(actor, query)
    total = (time.perf_counter() - started) * 1000
    sql_ms = sum(seconds for _s, _p, seconds in log.calls) * 1000
    lines = [
        f"One call: {total:.1f} ms in all, {len(log.calls)} SQL statements taking {sql_ms:.1f} ms at `execute`"
        + (
            " (SQLite computes the remaining rows at fetch time, counted as Python here)"
            if connection.vendor == "sqlite"
            else ""
        )
        + ".",
        "",
        "| ms at execute | statement |",
        "|---|---|",
    ]
    lines += [f"| {seconds * 1000:.2f} | `{_short(sql)}` |" for sql, _params, seconds in log.calls]
    statement = log.main_statement()
    if statement:
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(*statement)
                cursor.fetchall()
            runs.append((time.perf_counter() - started) * 1000)
        lines += [
            "",
            f"The main statement alone, executed and fetched: {statistics.median(runs):.1f} ms (median of 5).",
        ]
    return lines, statement


def _plan(sql: str, params) -> list[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            rows = cursor.fetchall()
            depth = {0: -1}
            out = []
            for node, parent, _unused, detail in rows:
                depth[node] = depth.get(parent, -1) + 1
                out.append("  " * depth[node] + detail)
            return out
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return [row[0] for row in cursor.fetchall()]


def _profile(actor, query: str) -> str:
    from sharehub.search.queries import search

    try:
        from pyinstrument import Profiler
    except ImportError:
        Profiler = None
    if Profiler is not None:
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(PROFILE_RUNS):
            search(actor, query)
        profiler.stop()
        return "pyinstrument, " + profiler.output_text(unicode=True, color=False, show_all=False)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(PROFILE_RUNS):
        search(actor, query)
    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).strip_dirs().sort_stats("cumulative").print_stats(TOP_FUNCTIONS)
    return "cProfile, " + out.getvalue()


def profile_slowest(result: dict, groups: dict[str, tuple[str, ...]], actors) -> str:
    case = _slowest_case(result)
    if case is None:
        return "No search() timings to profile."
    group, label = case
    actor = actors.person if label == "person" else actors.admin
    query, ms = _slowest_query(actor, groups[group])
    lines = [
        f"Slowest case: `search()` as the {label}, {group} queries; its slowest query is `{query}` "
        f"({ms:.1f} ms median of 3).",
        "",
    ]
    statement_lines, statement = _statements(actor, query)
    lines += statement_lines
    if statement:
        lines += ["", "Plan of the main statement:", "", "```", *_plan(*statement), "```"]
    top, _count = measure.bare_sql()
    lines += ["", "Plan of the bare full-text query:", "", "```", *_plan(top, [measure.match_expression(query)]), "```"]
    lines += ["", f"Profile of {PROFILE_RUNS} calls:", "", "```", _profile(actor, query).rstrip(), "```", ""]
    print(f"profiled {group}/{label} {query!r}", file=sys.stderr)
    return "\n".join(lines)
