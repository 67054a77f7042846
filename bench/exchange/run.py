"""The data-exchange benchmark in one command: `make bench-exchange` or `python -m bench.exchange`.

For each database (`--db sqlite|postgres|both`) it builds an organization in a fresh data directory
(an owner department, a grantee department with a grant naming some fields), writes N deterministic
rows × 10 columns to a CSV file (2 masked fields, 1 encrypted), imports it with `sharehub records
import` against a bare `executemany` into a plain table of the same database, starts `sharehub serve`,
Datasette (serving the same rows as a plain SQLite table) and a bare Starlette endpoint (reading the
plain table from the same database), alternates rounds of cursor walks (1,000-row pages, unfiltered
and with one equality filter) between the three, then measures key lookups on the encrypted field,
a change-feed catch-up and the workers' memory, and prints one table per database with the targets
of the issue and whether each is met.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from bench.api import servers
from bench.api.run import _recreate_postgres, code_version, machine
from bench.exchange import data, load

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DATABASES = ("sqlite", "postgres")
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/sh_bench_exchange"
ROWS = 1_000_000
QUICK_ROWS = 50_000
CHANGES = 100_000

IMPORT_TARGET = 0.5  # of the bare executemany
DATASETTE_TARGET = 2.0  # × Datasette
BARE_TARGET = 0.5  # of the bare Starlette endpoint
LOOKUP_P95_TARGET_MS = 20.0
FILTER = {"district": data.FILTER_DISTRICT}
WALKS = (("all", {}), ("filtered", FILTER))
SERVERS = ("sharehub", "datasette", "bare")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.exchange", description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=(*DATABASES, "both"), default="both")
    p.add_argument("--rows", type=int, help=f"rows of the dataset (default {ROWS:,}; --quick {QUICK_ROWS:,})")
    p.add_argument("--walk-rows", type=int, help="rows a walk reads before it stops (default 100,000; --quick 20,000)")
    p.add_argument("--rounds", type=int, help="alternating rounds of walks (default 3; --quick 2)")
    p.add_argument("--lookups", type=int, help="distinct key lookups (default 2,000; --quick 300)")
    p.add_argument("--quick", action="store_true", help=f"{QUICK_ROWS:,} rows and shorter walks (explicit values win)")
    p.add_argument("--data-dir", type=Path, default=HERE / ".data")
    p.add_argument("--postgres-url", default=POSTGRES_URL, help="dropped and created; its name must contain 'bench'")
    p.add_argument("--results", type=Path, help="also write the table to this markdown file")
    p.add_argument("--child", choices=("prepare", "bare-import", "floor", "page-work"), help=argparse.SUPPRESS)
    p.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--dataset", help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return p


def _say(db: str):
    started = time.perf_counter()

    def say(message: str) -> None:
        print(f"[{db} {time.perf_counter() - started:7.1f}s] {message}", file=sys.stderr, flush=True)

    return say


def environment(db: str, folder: Path, args: argparse.Namespace) -> dict:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    base["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), base.get("PYTHONPATH", "")) if p)
    env = dict(base, SHAREHUB_DATA_DIR=str(folder), DJANGO_SETTINGS_MODULE="sharehub.settings")
    env.update(SHAREHUB_API_RATE_TOKEN="off", SHAREHUB_API_RATE_ADDRESS="off")
    if db == "postgres":
        env["DATABASE_URL"] = args.postgres_url
    return env


def _child(what: str, env: dict, out: Path, csv_path: Path | None = None) -> dict:
    command = [sys.executable, "-m", "bench.exchange", "--child", what, "--out", str(out)]
    if csv_path is not None:
        command += ["--csv", str(csv_path)]
    subprocess.run(command, env=env, cwd=ROOT, check=True)
    return json.loads(out.read_text())


def import_floor(env: dict, fx: dict, csv_path: Path, out: Path) -> dict:
    """The import's work before it writes (read, check, encrypt, digest, fingerprint), in a new process timed
    from outside as the import is: the share of bare that any import doing this work per row can reach."""
    command = [sys.executable, "-m", "bench.exchange", "--child", "floor", "--out", str(out)]
    command += ["--csv", str(csv_path), "--dataset", fx["code"]]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, check=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    inside = json.loads(out.read_text())
    return {"seconds": seconds, "cpu_seconds": cpu, "rows_per_s": inside["rows"] / seconds, "inside": inside}


def sharehub_import(env: dict, fx: dict, csv_path: Path, log: Path) -> dict:
    """`sharehub records import` as a person runs it: a new process, the whole path from the file."""
    command = [sys.executable, "-m", "sharehub.cli", "records", "import", fx["code"], str(csv_path)]
    command += ["--as", fx["steward"]]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with log.open("w") as handle:
        subprocess.run(command, env=env, cwd=ROOT, check=True, stdout=handle, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"seconds": seconds, "cpu_seconds": cpu, "output": log.read_text().strip().splitlines()[-1:]}


def analyze(url: str) -> bool:
    """Planner statistics for the imported tables, as autovacuum's analyze would gather soon after the import.
    Without them PostgreSQL reads a fresh 1,000,000-row dataset's pages by sorting every row after the cursor
    (a bitmap scan and a top-N sort) instead of walking the primary key: tens of ms a page, growing with N."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        autovacuum = conn.execute("SHOW autovacuum").fetchone()[0]
        conn.execute("ANALYZE")
    return autovacuum != "on"


def start_servers(db: str, env: dict, folder: Path, plain_db: Path) -> dict[str, servers.Server]:
    started = {"sharehub": servers.sharehub(env, folder / "sharehub.log")}
    port = servers.free_port()
    datasette = [str(Path(sys.executable).parent / "datasette"), "serve", "-i", str(plain_db), "--port", str(port)]
    datasette += ["--setting", "max_returned_rows", str(load.PAGE)]
    started["datasette"] = servers.Server("datasette", datasette, env, port, folder / "datasette.log")
    port = servers.free_port()
    target = env["DATABASE_URL"] if db == "postgres" else str(folder / "sharehub.sqlite3")
    bare = [sys.executable, "-m", "uvicorn", "bench.exchange.bare:app", "--workers", str(servers.WORKERS)]
    bare += ["--port", str(port), "--no-proxy-headers", "--log-level", "warning"]
    started["bare"] = servers.Server("bare", bare, dict(env, BENCH_BARE_DB=target), port, folder / "bare.log")
    return started


def _rss(server: servers.Server) -> list[float]:
    pids = server.worker_pids() or [server.process.pid]
    return [round(servers._rss_mb(pid), 1) for pid in pids]


def _walk(name: str, server: servers.Server, fx: dict, filters: dict, max_rows: int) -> dict:
    if name == "sharehub":
        client = load.Client(server.port, {"Authorization": f"Bearer {fx['grantee_token']}"})
        walk = load.walk_sharehub(client, fx["resource_id"], filters, max_rows)
    elif name == "datasette":
        client = load.Client(server.port)
        walk = load.walk_datasette(client, filters, max_rows)
    else:
        client = load.Client(server.port)
        walk = load.walk_bare(client, filters, max_rows)
    client.close()
    return walk.summary()


def run_database(db: str, args: argparse.Namespace, csv_path: Path, plain_db: Path) -> dict:
    say = _say(db)
    folder = (args.data_dir / db).resolve()
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    env = environment(db, folder, args)
    if db == "postgres":
        _recreate_postgres(args.postgres_url)
    fx = _child("prepare", env, folder / "fixtures.json")
    say(f"organization ready: dataset {fx['code']} (#{fx['resource_id']}), grant naming {fx['grant_fields']}")
    result: dict = {"db": db, "rows": args.rows, "load_average": [os.getloadavg()[0]]}
    bare = _child("bare-import", env, folder / "bare-import.json", csv_path)
    say(f"bare executemany: {bare['rows']:,} rows in {bare['seconds']:.1f} s")
    least = import_floor(env, fx, csv_path, folder / "floor.json")
    say(f"floor (check and prepare, no writes): {args.rows:,} rows in {least['seconds']:.1f} s")
    imported = sharehub_import(env, fx, csv_path, folder / "import.log")
    say(f"sharehub records import: {args.rows:,} rows in {imported['seconds']:.1f} s ({imported['output']})")
    result["import"] = {
        "bare": bare,
        "floor": least,
        "sharehub": imported | {"rows_per_s": args.rows / imported["seconds"]},
    }
    if db == "postgres":
        result["analyzed"] = analyze(args.postgres_url)
        say("ANALYZE done (what autovacuum does after a large write; this server may run with it off)")

    started = start_servers(db, env, folder, plain_db)
    try:
        for server in started.values():
            server.wait("/")
        result["rss"] = {"start": {name: _rss(s) for name, s in started.items()}}
        for name, server in started.items():  # one untimed page each: imports, caches, connections
            _walk(name, server, fx, {}, load.PAGE)
        rounds: dict = {walk: {name: [] for name in SERVERS} for walk, _f in WALKS}
        for n in range(args.rounds):
            for walk, filters in WALKS:
                for name in SERVERS:
                    rounds[walk][name].append(_walk(name, started[name], fx, filters, args.walk_rows))
                say(f"round {n + 1}/{args.rounds} {walk}: " + ", ".join(
                    f"{name} {rounds[walk][name][-1]['rows_per_s']:,.0f} rows/s" for name in SERVERS))  # fmt: skip
        result["walks"] = rounds
        result["page_work"] = _child("page-work", env, folder / "page-work.json")
        sh = started["sharehub"]
        values = data.lookup_values(args.rows, args.lookups)
        base = f"/api/v1/datasets/{fx['resource_id']}"
        filtered = [f"{base}/records?{urlencode({data.ENCRYPTED: v, 'limit': 10})}" for v in values]
        by_key = [f"{base}/record?{urlencode({data.ENCRYPTED: v})}" for v in values]

        def connect() -> load.Client:
            return load.Client(sh.port, {"Authorization": f"Bearer {fx['grantee_token']}"})

        load.lookups(connect, filtered[:20])  # warm
        result["lookups"] = {"filter": load.lookups(connect, filtered), "by_key": load.lookups(connect, by_key)}
        # The floor: the bare endpoint fetching one row by primary key, under the same load and client.
        step = max(1, args.rows // args.lookups)
        floor = [f"/rows?limit=1&cursor={n}" for n in range(0, args.rows, step)][: args.lookups]
        result["lookups"]["bare_pk"] = load.lookups(lambda: load.Client(started["bare"].port), floor)
        say(f"lookups p95: filter {result['lookups']['filter']['p95_ms']:.1f} ms, "
            f"by key {result['lookups']['by_key']['p95_ms']:.1f} ms")  # fmt: skip
        consumer = connect()
        result["changes"] = load.catch_up(consumer, fx["resource_id"], min(CHANGES, args.rows))
        consumer.close()
        say(f"change feed: {result['changes']['changes']:,} in {result['changes']['seconds']:.1f} s")
        result["rss"]["end"] = {name: _rss(s) for name, s in started.items()}
        result["load_average"].append(os.getloadavg()[0])
    finally:
        for server in started.values():
            server.stop()
    say("done")
    return result


# -- the table ----------------------------------------------------------------------------------------


def _spread(values: list[float], fmt: str = "{:,.0f}") -> str:
    if not values:
        return "—"
    med = statistics.median(values)
    if len(values) == 1:
        return fmt.format(med)
    return f"{fmt.format(med)} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def _verdict(ok: bool) -> str:
    return "**pass**" if ok else "**FAIL**"


def _cpu(measured: dict) -> str:
    return f" ({measured['cpu_seconds']:.1f})" if "cpu_seconds" in measured else ""


def _ratio(walks: dict, name: str, baseline: str) -> list[float]:
    return [s["rows_per_s"] / b["rows_per_s"] for s, b in zip(walks[name], walks[baseline], strict=True)]


def render(result: dict) -> str:
    postgres = result["db"] == "postgres"
    imp = result["import"]
    share = imp["sharehub"]["rows_per_s"] / imp["bare"]["rows_per_s"]
    lines = [
        f"### {'PostgreSQL' if postgres else 'SQLite'} · {result['rows']:,} rows × {len(data.COLUMNS)} columns",
        "",
        *(
            [
                "`ANALYZE` ran after the imports (this server's autovacuum is off; it would otherwise gather the "
                "statistics soon after a large write).",
                "",
            ]
            if result.get("analyzed")
            else []
        ),
        f"Machine load average (1 min) after the imports / at the end: "
        f"{result['load_average'][0]:.1f} / {result['load_average'][-1]:.1f}.",
        "",
        "| import of the CSV file | rows/s | seconds (CPU s of the importing process) | share of bare | target |",
        "|---|---|---|---|---|",
        f"| bare: csv module + `executemany` into a plain table, same database, one transaction "
        f"| {imp['bare']['rows_per_s']:,.0f} | {imp['bare']['seconds']:.1f}{_cpu(imp['bare'])} | 100% | |",
        *(
            [
                "| floor: the import's work without writing (a new process: read, parse, check, encrypt, blind "
                f"index, fingerprint) | {imp['floor']['rows_per_s']:,.0f} | {imp['floor']['seconds']:.1f}"
                f"{_cpu(imp['floor'])} | {imp['floor']['rows_per_s'] / imp['bare']['rows_per_s']:.1%} | "
                "the most any import doing this work reaches |"
            ]
            if "floor" in imp
            else []
        ),
        f"| `sharehub records import` (a new process: parse, check, encrypt, blind index, records + changes) "
        f"| {imp['sharehub']['rows_per_s']:,.0f} | {imp['sharehub']['seconds']:.1f}{_cpu(imp['sharehub'])} "
        f"| {share:.1%} | ≥ {IMPORT_TARGET:.0%}: {_verdict(share >= IMPORT_TARGET)} |",
        "",
        "| records JSON, 1,000-row pages followed by cursor | rows/s | page p50 ms | vs Datasette | vs bare "
        "| targets |",
        "|---|---|---|---|---|---|",
    ]
    walks_label = {"all": "all rows", "filtered": f"`district={data.FILTER_DISTRICT}` (1 row in 10)"}
    datasette_note = " on SQLite (Datasette serves only SQLite)" if postgres else ""
    for walk, _filters in WALKS:
        w = result["walks"][walk]
        vs_ds, vs_bare = _ratio(w, "sharehub", "datasette"), _ratio(w, "sharehub", "bare")
        ok_ds = statistics.median(vs_ds) >= DATASETTE_TARGET
        ok_bare = statistics.median(vs_bare) >= BARE_TARGET
        first_rows = w["sharehub"][0]["rows"]
        lines += [
            f"| Sharehub {walks_label[walk]}, grantee (2 fields masked, {first_rows:,} rows a walk) "
            f"| {_spread([r['rows_per_s'] for r in w['sharehub']])} "
            f"| {_spread([r['page_p50_ms'] for r in w['sharehub']], '{:.0f}')} "
            f"| {_spread(vs_ds, '{:.2f}')}× | {_spread([v * 100 for v in vs_bare], '{:.0f}')}% "
            f"| ≥ {DATASETTE_TARGET:.0f}× Datasette: {_verdict(ok_ds)}; ≥ {BARE_TARGET:.0%} of bare: "
            f"{_verdict(ok_bare)} |",
            f"| Datasette{datasette_note}, same rows as a plain table, `_size=1000`, `_next` "
            f"| {_spread([r['rows_per_s'] for r in w['datasette']])} "
            f"| {_spread([r['page_p50_ms'] for r in w['datasette']], '{:.0f}')} | 1× | | |",
            f"| bare Starlette endpoint, plain table in the same database "
            f"| {_spread([r['rows_per_s'] for r in w['bare']])} "
            f"| {_spread([r['page_p50_ms'] for r in w['bare']], '{:.0f}')} | | 100% | |",
        ]
    if "page_work" in result:
        work = result["page_work"]
        sharehub_p50 = statistics.median(r["page_p50_ms"] for r in result["walks"]["all"]["sharehub"])
        datasette_p50 = statistics.median(r["page_p50_ms"] for r in result["walks"]["all"]["datasette"])
        lines += [
            "",
            f"| where a 1,000-row page of all rows goes, grantee ({work['pages']} pages) | ms a page |",
            "|---|---|",
            f"| Sharehub over HTTP, p50 (above) | {sharehub_p50:.1f} |",
            f"| `queries.read_records` in the process, CPU (fetch, decrypt, mask, shape; no HTTP, no read event) "
            f"| {work['read_ms_per_page']:.1f} |",
            f"| of which: decrypting `{data.ENCRYPTED}` of 1,000 rows alone, CPU (the baselines decrypt nothing) "
            f"| {work['decrypt_ms_per_page']:.1f} |",
            f"| Datasette over HTTP, p50 (above); 2× Datasette needs a page in half this time | {datasette_p50:.1f} |",
        ]
    lk = result["lookups"]
    lines += [
        "",
        f"| key lookup on the encrypted field `{data.ENCRYPTED}`, grantee, distinct values, "
        f"{lk['filter']['threads']} connections | requests | req/s | p50 ms | p95 ms | p99 ms | errors | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    routes = (("filter", f"`GET …/records?{data.ENCRYPTED}=…`"), ("by_key", f"`GET …/record?{data.ENCRYPTED}=…`"))
    if "bare_pk" in lk:  # the machine's floor: no work but a round trip to a Python server
        routes += (("bare_pk", "bare Starlette `GET /rows?limit=1&cursor=…` (one row by primary key; the floor)"),)
    for key, label in routes:
        m = lk[key]
        target = (
            f"p95 ≤ {LOOKUP_P95_TARGET_MS:.0f} ms: {_verdict(m['p95_ms'] <= LOOKUP_P95_TARGET_MS and not m['errors'])}"
            if key != "bare_pk"
            else ""
        )
        lines.append(
            f"| {label} | {m['requests']:,} | {m['per_s']:,.0f} | {m['p50_ms']:.1f} | {m['p95_ms']:.1f} "
            f"| {m['p99_ms']:.1f} | {m['errors']} | {target} |"
        )
    ch = result["changes"]
    rss = result["rss"]
    lines += [
        "",
        "| change feed catch-up, grantee, `since` + limit 1000 | changes | pages | seconds | changes/s |",
        "|---|---|---|---|---|",
        f"| from 0 | {ch['changes']:,} | {ch['pages']} | {ch['seconds']:.1f} | {ch['per_s']:,.0f} |",
        "",
        "| RSS (MB) per worker | Sharehub (2 workers) | Datasette (1 process) | bare Starlette (2 workers) |",
        "|---|---|---|---|",
        f"| after start | {rss['start']['sharehub']} | {rss['start']['datasette']} | {rss['start']['bare']} |",
        f"| after the run | {rss['end']['sharehub']} | {rss['end']['datasette']} | {rss['end']['bare']} |",
    ]
    return "\n".join(lines) + "\n"


def document(results: list[dict], argv: list[str], args: argparse.Namespace) -> str:
    head = [
        f"## Data-exchange benchmark, {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        "",
        f"`python -m bench.exchange {' '.join(argv)}`".replace(" `", "`"),
        "",
        f"Code {code_version()}; machine: {machine()}. Walks: one client, {args.rounds} rounds alternating "
        f"Sharehub, Datasette and the bare endpoint, each walk stopping after {args.walk_rows:,} rows; "
        "figures are the median of the rounds with (min–max), a ratio is taken within a round.",
        "",
    ]
    return "\n".join(head) + "\n".join(render(r) for r in results)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    if args.child:
        from bench.exchange import setup

        setup.child(args.child, args.out, args.csv, args.dataset)
        return
    quick = args.quick
    args.rows = args.rows if args.rows is not None else (QUICK_ROWS if quick else ROWS)
    args.walk_rows = args.walk_rows if args.walk_rows is not None else (20_000 if quick else 100_000)
    args.rounds = args.rounds if args.rounds is not None else (2 if quick else 3)
    args.lookups = args.lookups if args.lookups is not None else (300 if quick else 2_000)
    args.data_dir = args.data_dir.resolve()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    say = _say("data")
    csv_path = data.write_csv(args.data_dir / f"rows-{args.rows}.csv", args.rows)
    from bench.exchange import setup

    plain_dir = args.data_dir / f"plain-{args.rows}"
    plain_dir.mkdir(exist_ok=True)
    plain_db = setup.datasette_db(csv_path, plain_dir / "plain.db")  # Datasette names the database "plain"
    say(f"{csv_path.name} and {plain_db} ready")
    dbs = DATABASES if args.db == "both" else (args.db,)
    results = [run_database(db, args, csv_path, plain_db) for db in dbs]
    text = document(results, argv, args)
    (args.data_dir / "results.json").write_text(json.dumps(results, indent=1))
    print(text)
    if args.results:
        args.results.write_text(text)
