"""The benchmark's table: one column per database, markdown."""

from __future__ import annotations

import math

NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
BARE_LABEL = "bare full-text top 20, no permission filter (FTS5 MATCH + bm25 / tsvector @@ + ts_rank)"
GROUP_TITLES = {"zh": "Chinese 2-term queries", "en": "English prefix queries"}
P95_TARGET_MS = 50.0
RATIO_TARGET = 2.0
INDEX_TARGET = 0.6


def _num(value: float, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.{digits}f}"


def _latency(result: dict, group: str, path: str) -> str:
    summary = result["groups"].get(group, {}).get("latency", {}).get(path)
    if not summary or not summary["n"]:
        return "—"
    return f"{_num(summary['p50'])} / {_num(summary['p95'])}"


def _p95(result: dict, group: str, path: str) -> float:
    summary = result["groups"].get(group, {}).get("latency", {}).get(path)
    return summary["p95"] if summary and summary["n"] else math.nan


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def _ratio(result: dict, group: str, path: str) -> str:
    ours, bare = _p95(result, group, path), _p95(result, group, "bare")
    if math.isnan(ours) or math.isnan(bare) or not bare:
        return "—"
    ratio = ours / bare
    return f"{ratio:.1f}x {_mark(ratio <= RATIO_TARGET)}"


def _throughput(docs: int, mb: float, seconds: float | None) -> str:
    if not seconds:
        return "—"
    return f"{docs / seconds:,.0f} docs/s · {mb / seconds:.2f} MB/s ({seconds:,.1f} s)"


def _indexing_rows(result: dict) -> dict[str, str]:
    ix = result["indexing"]
    docs, mb = ix["docs"], ix["source_bytes"] / 1e6
    sample_docs = ix.get("baseline_docs", docs)
    sample_mb = ix.get("baseline_bytes", ix["source_bytes"]) / 1e6
    sampled = f" (sample of {sample_docs:,} docs)" if sample_docs < docs else ""
    share = docs * ix["raw_jieba_s"] / (ix["ours_s"] * sample_docs) if ix["ours_s"] and sample_docs else math.nan
    ratio = "—" if math.isnan(share) else f"{share:.0%} {_mark(share >= INDEX_TARGET)}"
    tantivy = _throughput(docs, mb, ix["tantivy_build_s"])
    if ix["tantivy_reused"]:
        tantivy = "built in an earlier run (same corpus)"
    return {
        "source text (UTF-8)": f"{mb:,.1f} MB" + (" (estimated from the sample)" if sampled else ""),
        "ours: `index_resources` (read, segment, pinyin, write)": _throughput(docs, mb, ix["ours_s"]),
        "raw `jieba.cut_for_search`, same text": _throughput(sample_docs, sample_mb, ix["raw_jieba_s"]) + sampled,
        f"ours / raw jieba, docs/s (target ≥ {INDEX_TARGET:.0%})": ratio,
        "segmentation alone (`index_document`, no database)": _throughput(sample_docs, sample_mb, ix["segment_s"])
        + sampled,
        "tantivy build from the segmented text (1 thread)": tantivy,
    }


def _group_rows(result: dict, group: str) -> dict[str, str]:
    hits = result["groups"].get(group, {}).get("hits", {})
    statements = result["groups"].get(group, {}).get("sql_statements", {})
    person_p95, admin_p95 = _p95(result, group, "search_person"), _p95(result, group, "search_admin")
    return {
        "`search()` · person who sees ≈5%": _latency(result, group, "search_person"),
        "`search()` · admin": _latency(result, group, "search_admin"),
        "its main SQL statement alone · person": _latency(result, group, "statement_person"),
        "its main SQL statement alone · admin": _latency(result, group, "statement_admin"),
        "HTTP API `/api/v1/search` · person": _latency(result, group, "api_person"),
        "HTTP API `/api/v1/search` · admin": _latency(result, group, "api_admin"),
        BARE_LABEL: _latency(result, group, "bare"),
        "tantivy top 20 (speed limit)": _latency(result, group, "tantivy"),
        f"p95 ≤ {P95_TARGET_MS:.0f} ms · person / admin": (
            f"{_mark(person_p95 <= P95_TARGET_MS)} / {_mark(admin_p95 <= P95_TARGET_MS)}"
            if not (math.isnan(person_p95) or math.isnan(admin_p95))
            else "—"
        ),
        f"`search()` / bare, p95 · person (target ≤ {RATIO_TARGET:.0f}x)": _ratio(result, group, "search_person"),
        f"`search()` / bare, p95 · admin (target ≤ {RATIO_TARGET:.0f}x)": _ratio(result, group, "search_admin"),
        "matches per query (median): person / admin / unfiltered / tantivy": " / ".join(
            f"{hits[k]:,}" if k in hits else "—" for k in ("person", "admin", "bare", "tantivy")
        ),
        "SQL statements per `search()` (median): person / admin": " / ".join(
            str(statements[k]) if k in statements else "—" for k in ("person", "admin")
        ),
    }


def _setup_rows(result: dict) -> dict[str, str]:
    c = result["corpus"]
    person = c["person"]
    share = person["visible"] / c["docs"] if c["docs"] else 0
    return {
        "database": result["database"],
        "corpus": f"{c['docs']:,} resources · {c['people']:,} people · {c['departments']} departments · "
        f"{c['grants']:,} grants",
        "person (≈5%)": f"{person['username']}: sees {person['visible']:,} ({share:.1%}), reads {person['readable']:,}",
        "load with bulk_create": f"{result['timings']['load_s']:,.1f} s",
        "machine load average at start / end": " / ".join(
            _num(result["timings"].get(k), 2) for k in ("load_average_start", "load_average_end")
        ),
    }


def _table(title: str, columns: list[str], rows: list[dict[str, str]]) -> list[str]:
    labels = list(dict.fromkeys(label for row in rows for label in row))
    lines = [f"| {title} | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for label in labels:
        lines.append(f"| {label} | " + " | ".join(row.get(label, "—") for row in rows) + " |")
    return lines


def render(results: dict[str, dict]) -> str:
    """`results`: backend name -> what `pipeline.run` returned. Latencies are p50 / p95 in ms."""
    order = [b for b in ("sqlite", "postgresql") if b in results] + [
        b for b in results if b not in ("sqlite", "postgresql")
    ]
    columns = [NAMES.get(b, b) for b in order]
    ordered = [results[b] for b in order]
    lines = _table("setup", columns, [_setup_rows(r) for r in ordered])
    lines += ["", *_table("indexing", columns, [_indexing_rows(r) for r in ordered])]
    for group in ("zh", "en"):
        if not any(group in r["groups"] for r in ordered):
            continue
        first = next(r for r in ordered if group in r["groups"])
        n = first["groups"][group]["latency"].get("search_person", {}).get("n", 0)
        title = f"{GROUP_TITLES[group]} ({n} timed runs), ms p50 / p95"
        lines += ["", *_table(title, columns, [_group_rows(r, group) for r in ordered])]
    notes = []
    for r in ordered:
        notes.append(f"- {NAMES.get(r['backend'], r['backend'])}: API {r['api']}; tantivy {r['tantivy']}.")
    return "\n".join([*lines, "", *notes]) + "\n"
