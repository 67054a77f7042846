"""The API and pages benchmark in one command: `make bench-api` or `python -m bench.api`.

For each database (`--db sqlite|postgres|both`) it loads the organization into a fresh data
directory (the demo, or a generated one of 200 departments, 5,000 people and 200,000 resources),
compares `can()` with pycasbin, starts `sharehub serve --workers 2` and a bare Django app under the
same uvicorn settings, alternates wrk rounds (8 connections) between the bare "hello" view and each
Sharehub route, then runs the concurrent writes against both, and prints one table per database with
the targets of issue 11 and whether each is met.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.api import load, servers

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DATABASES = ("sqlite", "postgres")
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/sh_bench_api"
HELLO_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/sh_bench_api_hello"
REDIS_URL = "redis://127.0.0.1:6379/14"

# (key, label, path, auth, target share of hello or None)
ONE = "/api/v1/resources/{resource_id}"
ROUTES = (
    ("get_member", "`GET /api/v1/resources/{id}` (open), member token", ONE, "member", 0.25),
    ("get_service", "`GET /api/v1/resources/{id}` (open), service account", ONE, "service", 0.25),
    ("list50", "`GET /api/v1/resources?limit=50`, member", "/api/v1/resources?limit=50", "member", 0.10),
    ("request", "`GET /api/v1/requests/{id}`, its requester", "/api/v1/requests/{request_id}", "requester", None),
    ("unread", "`GET /api/v1/notifications/unread-count`", "/api/v1/notifications/unread-count", "member", None),
    ("home", "home page `/`, signed-in session", "/", "session", 0.10),
    ("catalog", "catalog page `/resources/`, signed-in session", "/resources/", "session", 0.10),
)  # fmt: skip
RSS_TARGET_MB = 120
CAN_TARGET = 10.0
WRITE_P95_TARGET_MS = 300
WRITE_SHARE_TARGET = 0.25


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=(*DATABASES, "both"), default="both")
    p.add_argument("--org", choices=("demo", "generated"), default="demo")
    p.add_argument("--docs", type=int, default=200_000, help="resources of the generated organization")
    p.add_argument("--seconds", type=float, help="length of one wrk round (default 10; --quick 3)")
    p.add_argument("--rounds", type=int, help="alternating rounds (default 3)")
    p.add_argument("--write-seconds", type=float, help="length of each write phase (default 60; --quick 10)")
    p.add_argument("--quick", action="store_true", help="the demo, 3 s rounds, 10 s writes (explicit values win)")
    p.add_argument("--data-dir", type=Path, default=HERE / ".data")
    p.add_argument("--postgres-url", default=POSTGRES_URL, help="dropped and created; its name must contain 'bench'")
    p.add_argument("--hello-postgres-url", default=HELLO_POSTGRES_URL)
    p.add_argument("--redis-url", default=REDIS_URL, help="used with PostgreSQL; this Redis database is flushed")
    p.add_argument("--results", type=Path, help="also write the table to this markdown file")
    p.add_argument("--child", choices=("setup",), help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return p


def _say(db: str):
    started = time.perf_counter()

    def say(message: str) -> None:
        print(f"[{db} {time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    return say


# -- the child: load, fixtures, can() -----------------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    from bench.api import setup

    say = _say("setup")
    setup.child(args.org, args.docs, args.out, say)
    from bench.api import policy

    fixtures = json.loads(args.out.read_text())
    fixtures["policy"] = policy.measure(fixtures["member"])
    args.out.write_text(json.dumps(fixtures))
    say("can() measured")


# -- the parent ---------------------------------------------------------------------------------------


def _recreate_postgres(url: str) -> None:
    import dj_database_url
    import psycopg

    conf = dj_database_url.parse(url)
    name = conf["NAME"]
    if "bench" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: a benchmark database's name contains 'bench'")
    with psycopg.connect(
        dbname="postgres", user=conf.get("USER") or None, host=conf.get("HOST") or None,
        port=conf.get("PORT") or None, password=conf.get("PASSWORD") or None, autocommit=True,
    ) as conn:  # fmt: skip
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def environments(db: str, folder: Path, args: argparse.Namespace) -> tuple[dict, dict]:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    base["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), base.get("PYTHONPATH", "")) if p)
    sharehub = dict(base, SHAREHUB_DATA_DIR=str(folder), DJANGO_SETTINGS_MODULE="sharehub.settings")
    # The rate limits would cap one token at 20 req/s: the benchmark measures the server, not the limit.
    sharehub.update(SHAREHUB_API_RATE_TOKEN="off", SHAREHUB_API_RATE_ADDRESS="off")
    hello = dict(base, DJANGO_SETTINGS_MODULE="bench.api.hello.settings", BENCH_HELLO_DIR=str(folder))
    if db == "postgres":
        sharehub.update(DATABASE_URL=args.postgres_url, REDIS_URL=args.redis_url)
        hello["BENCH_HELLO_DATABASE_URL"] = args.hello_postgres_url
    return sharehub, hello


def _headers(auth: str, fx: dict) -> dict[str, str]:
    if auth == "session":
        return {"Cookie": fx["session_cookie"]}
    token = {"member": fx["member_token"], "service": fx["service_token"], "requester": fx["requester_token"]}[auth]
    return {"Authorization": f"Bearer {token}"}


def _rss(server: servers.Server) -> list[float]:
    return [round(mb, 1) for mb in server.rss_mb()]


def run_database(db: str, args: argparse.Namespace) -> dict:
    say = _say(db)
    folder = (args.data_dir / db).resolve()
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    env, hello_env = environments(db, folder, args)
    if db == "postgres":
        _recreate_postgres(args.postgres_url)
        _recreate_postgres(args.hello_postgres_url)
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()
    fixtures_path = folder / "fixtures.json"
    command = [sys.executable, "-m", "bench.api", "--child", "setup", "--org", args.org, "--docs", str(args.docs)]
    subprocess.run([*command, "--out", str(fixtures_path)], env=env, cwd=ROOT, check=True)
    fx = json.loads(fixtures_path.read_text())
    say(f"loaded {fx['resources']} resources; can() {fx['policy']['can_per_s']:.0f}/s")
    migrate = [sys.executable, "-m", "django", "migrate", "--run-syncdb", "-v0"]
    subprocess.run(migrate, env=hello_env, cwd=ROOT, check=True)

    sh = servers.sharehub(env, folder / "sharehub.log")
    hello = servers.hello(hello_env, folder / "hello.log")
    result: dict = {"db": db, "org": args.org, "fixtures": {k: fx[k] for k in ("resources", "people", "departments")}}
    result["policy"] = fx["policy"]
    result["load_average"] = [os.getloadavg()[0]]
    try:
        hello.wait("/")
        sh.wait("/")
        hello.settle()
        sh.settle()
        result["rss"] = {"start": {"sharehub": _rss(sh), "hello": _rss(hello)}}
        urls = {key: sh.url + path.format(**fx) for key, _label, path, _auth, _t in ROUTES}
        headers = {key: _headers(auth, fx) for key, _label, _path, auth, _t in ROUTES}
        for key in urls:  # one untimed second each: imports, caches, connections
            load.wrk(urls[key], 1, headers[key])
        load.wrk(hello.url + "/", 1)
        result["rss"]["warm"] = {"sharehub": _rss(sh), "hello": _rss(hello)}
        rounds: dict[str, list] = {"hello": [], **{key: [] for key in urls}}
        for n in range(args.rounds):
            rounds["hello"].append(load.wrk(hello.url + "/", args.seconds).__dict__)
            for key in urls:
                rounds[key].append(load.wrk(urls[key], args.seconds, headers[key]).__dict__)
            say(f"round {n + 1}/{args.rounds}: hello {rounds['hello'][-1]['rps']:.0f} req/s, "
                f"GET {rounds['get_member'][-1]['rps']:.0f} req/s")  # fmt: skip
        result["rounds"] = rounds
        result["rss"]["before_search"] = {"sharehub": _rss(sh), "hello": _rss(hello)}
        say(f"writes: bare insert for {args.write_seconds:.0f} s")
        result["writes_bare"] = load.run_writes(hello.port, fx["writers"], [], args.write_seconds, bare=True)
        say(f"writes: Sharehub for {args.write_seconds:.0f} s")
        result["writes"] = load.run_writes(sh.port, fx["writers"], fx["search_words"], args.write_seconds, bare=False)
        result["writers"] = len(fx["writers"])
        result["writer_departments"] = len({w["department"] for w in fx["writers"]})
        result["rss"]["end"] = {"sharehub": _rss(sh), "hello": _rss(hello)}
        result["load_average"].append(os.getloadavg()[0])
    finally:
        sh.stop()
        hello.stop()
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


def render(result: dict) -> str:
    rounds = result["rounds"]
    hello_rps = [r["rps"] for r in rounds["hello"]]
    lines = [
        f"### {'SQLite' if result['db'] == 'sqlite' else 'PostgreSQL + Redis'} · {result['org']} "
        f"({result['fixtures']['resources']:,} resources, {result['fixtures']['people']:,} people, "
        f"{result['fixtures']['departments']} departments)",
        "",
        *(
            [
                f"Machine load average (1 min) when the servers started / at the end: "
                f"{result['load_average'][0]:.1f} / {result['load_average'][-1]:.1f}.",
                "",
            ]
            if len(result.get("load_average", [])) == 2
            else []
        ),
        "| what | Sharehub req/s | p50 / p99 ms | errors | share of hello | target |",
        "|---|---|---|---|---|---|",
        f"| bare Django hello | {_spread(hello_rps)} | {_spread([r['p50_ms'] for r in rounds['hello']], '{:.1f}')} / "
        f"{_spread([r['p99_ms'] for r in rounds['hello']], '{:.1f}')} | {sum(r['errors'] for r in rounds['hello'])} "
        "| 100% | |",
    ]
    for key, label, _path, _auth, target in ROUTES:
        runs = rounds[key]
        shares = [r["rps"] / h for r, h in zip(runs, hello_rps, strict=True)]
        share = statistics.median(shares)
        verdict = f"≥ {target:.0%}: {_verdict(share >= target)}" if target else "—"
        answered = [r for r in runs if r["requests"]]  # a round where no request finished has no latencies
        latency = (
            f"{_spread([r['p50_ms'] for r in answered], '{:.1f}')} / "
            f"{_spread([r['p99_ms'] for r in answered], '{:.1f}')}"
            if answered
            else "none finished within a round"
        )
        lines.append(
            f"| {label} | {_spread([r['rps'] for r in runs])} | {latency} | {sum(r['errors'] for r in runs)} | "
            f"{_spread([s * 100 for s in shares], '{:.1f}')}% | {verdict} |"
        )
    p = result["policy"]
    lines += [
        "",
        "| `can()` vs pycasbin | checks/s | |",
        "|---|---|---|",
        f"| `can(member, READ, r)` warm, over all {p['resources']:,} resources ({p['allowed']:,} allowed) "
        f"| {p['can_per_s']:,.0f} | |",
        f"| pycasbin `enforce`, warm, same decisions (1 policy line, {p['policy_lines'] - 1:,} role links) "
        f"| {p['casbin_per_s']:,.0f} | |",
        f"| ratio | {p['ratio']:.2f}× | ≥ {CAN_TARGET:.0f}×: {_verdict(p['ratio'] >= CAN_TARGET)} |",
    ]
    rss = result["rss"]
    before = max(rss["before_search"]["sharehub"] or [0])
    lines += [
        "",
        "| worker RSS (MB, each of the 2 workers) | Sharehub | hello | target |",
        "|---|---|---|---|",
        f"| after start, before any request | {rss['start']['sharehub']} | {rss['start']['hello']} | |",
        f"| after one second of each route | {rss['warm']['sharehub']} | {rss['warm']['hello']} | |",
        f"| after the read rounds, before search is first used | {rss['before_search']['sharehub']} | "
        f"{rss['before_search']['hello']} | ≤ {RSS_TARGET_MB} MB: {_verdict(0 < before <= RSS_TARGET_MB)} |",
        f"| after the writes (which search) | {rss['end']['sharehub']} | {rss['end']['hello']} | |",
    ]
    w, b = result["writes"], result["writes_bare"]
    share = w["ops_per_s"] / b["ops_per_s"] if b["ops_per_s"] else 0.0
    lines += [
        "",
        f"| concurrent writes, {result['writers']} clients ({result['writer_departments']} departments), "
        f"{w['ops'] / max(w['ops_per_s'], 1e-9):.0f} s | ops/s | p50 ms | p95 ms | max ms | errors |",
        "|---|---|---|---|---|---|",
        f"| Sharehub: create, edit, save a search (deleting the oldest beyond {load.KEEP_SAVED}), search "
        f"({', '.join(f'{k} {v}' for k, v in w['by_op'].items())}) "
        f"| {w['ops_per_s']:,.1f} | {w['p50_ms']:.0f} | {w['p95_ms']:.0f} | {w['max_ms']:.0f} | {w['errors']} |",
        f"| bare Django, one row inserted per request | {b['ops_per_s']:,.1f} | {b['p50_ms']:.0f} | "
        f"{b['p95_ms']:.0f} | {b['max_ms']:.0f} | {b['errors']} |",
        f"| targets | ≥ 25% of bare: {share:.1%} {_verdict(share >= WRITE_SHARE_TARGET)} | | "
        f"≤ {WRITE_P95_TARGET_MS}: {_verdict(w['p95_ms'] <= WRITE_P95_TARGET_MS)} | | "
        f"0: {_verdict(w['errors'] == 0)} |",
    ]
    if w["error_samples"]:
        lines += ["", "First write errors: " + "; ".join(f"`{s}`" for s in w["error_samples"])]
    return "\n".join(lines) + "\n"


def machine() -> str:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores ({model})" if model else f"{os.cpu_count()} cores"


def code_version() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit


def document(results: list[dict], argv: list[str], args: argparse.Namespace) -> str:
    head = [
        f"## API and pages benchmark, {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        "",
        f"`python -m bench.api {' '.join(argv)}`".replace(" `", "`"),
        "",
        f"Code {code_version()}; machine: {machine()}. wrk, {load.CONNECTIONS} connections, 2 threads, "
        f"{args.seconds:g} s rounds, {args.rounds} rounds alternating the bare hello view and each route; "
        "figures are the median of the rounds with (min–max). Servers: uvicorn, 2 workers each.",
        "",
    ]
    return "\n".join(head) + "\n".join(render(r) for r in results)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    if args.child:
        child(args)
        return
    quick = args.quick
    if quick:
        args.org = "demo"
    args.seconds = args.seconds if args.seconds is not None else (3 if quick else 10)
    args.rounds = args.rounds if args.rounds is not None else 3
    args.write_seconds = args.write_seconds if args.write_seconds is not None else (10 if quick else 60)
    if not load.wrk_available():
        raise SystemExit("wrk is not installed: sudo apt-get install -y wrk (or `make bench-api`, which installs it)")
    args.data_dir = args.data_dir.resolve()
    dbs = DATABASES if args.db == "both" else (args.db,)
    results = [run_database(db, args) for db in dbs]
    text = document(results, argv, args)
    (args.data_dir / "results.json").write_text(json.dumps(results, indent=1))
    print(text)
    if args.results:
        args.results.write_text(text)
