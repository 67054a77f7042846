"""The search benchmark in one command: `make bench-search` or `python -m bench.search [--docs N]`.

For each database (`--backend sqlite|postgresql|both`) it prepares a fresh data directory (the SQLite
file lives in it; the PostgreSQL database is dropped and created), then runs a child process
configured for that database which migrates, generates the corpus, indexes it and measures. The
parent prints both columns side by side as one markdown table and writes it to
`bench/search/results-<date>.md`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FULL_DOCS = 200_000
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/sh_bench"
BACKENDS = ("sqlite", "postgresql")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__.split("\n\n")[0])
    p.add_argument("--docs", type=int, default=FULL_DOCS, help="resources in the corpus (default 200000)")
    p.add_argument("--people", type=int, help="people (default: docs/40, at most 5000)")
    p.add_argument("--departments", type=int, help="departments (default: docs/25, at most 200)")
    p.add_argument("--grants", type=int, help="grants (default: docs/4)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--backend", choices=(*BACKENDS, "both"), default="both")
    p.add_argument("--data-dir", type=Path, default=HERE / ".data", help="where the databases and indexes go")
    p.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES,
        help="PostgreSQL database to drop and create (its name must contain 'bench')",
    )
    p.add_argument("--repeat", type=int, default=5, help="timed runs of each query on each path")
    p.add_argument("--no-tantivy", action="store_true", help="skip the tantivy baseline")
    p.add_argument(
        "--baseline-every",
        type=int,
        default=1,
        metavar="N",
        help="time raw jieba and the segmentation alone over every N-th batch of 2000 docs (default: all); "
        "tantivy is then only reused from an earlier run in the same --data-dir",
    )
    p.add_argument("--no-api", action="store_true", help="skip the HTTP API measurements")
    p.add_argument("--profile", action="store_true", help="profile the slowest case (plans, profiler, SQL)")
    p.add_argument("--results", type=Path, help="markdown file to write (default bench/search/results-<date>.md)")
    p.add_argument(
        "--combine",
        nargs="+",
        type=Path,
        metavar="RESULT_JSON",
        help="only print the table of earlier runs (their <data-dir>/<backend>/result.json files), side by side",
    )
    p.add_argument("--child", choices=BACKENDS, help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return p


def _progress(backend: str):
    started = time.perf_counter()

    def say(message: str) -> None:
        print(f"[{backend} {time.perf_counter() - started:7.1f}s] {message}", file=sys.stderr, flush=True)

    return say


# -- the child: one database -----------------------------------------------------------------------


def _load_all_code() -> None:
    """Import every module the measurements use now: a run that takes an hour must measure one version
    of the code, not pick up files edited in the work tree halfway through."""
    from importlib import import_module

    from django.conf import settings

    import_module(settings.ROOT_URLCONF)
    for name in ("documents", "queries", "services", "snippets", "syntax", "segment", "tasks"):
        import_module(f"sharehub.search.{name}")
    import_module("bench.search.profiling")


def code_version() -> str:
    """The commit measured, and whether the work tree differed from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "sharehub"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + (" with uncommitted changes under sharehub/" if dirty else "")


def child(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    _load_all_code()

    from bench.search import pipeline
    from bench.search.corpus import Sizes

    say = _progress(args.child)
    call_command("migrate", verbosity=0)
    say("migrated")
    sizes = Sizes.scaled(args.docs, args.seed, people=args.people, departments=args.departments, grants=args.grants)
    config = pipeline.Config(
        sizes=sizes,
        data_dir=args.data_dir,
        repeat=args.repeat,
        tantivy=not args.no_tantivy,
        api=not args.no_api,
        profile=args.profile,
        baseline_every=max(1, args.baseline_every),
    )
    version = code_version()
    result = pipeline.run(config, say)
    result["code"] = version
    args.out.write_text(json.dumps(result, default=str))
    say("done")


# -- the parent: prepare each database, run the children, print the table -------------------------


def recreate_postgres(url: str) -> None:
    import dj_database_url
    import psycopg

    settings = dj_database_url.parse(url)
    name = settings["NAME"]
    if "bench" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: a benchmark database's name contains 'bench'")
    with psycopg.connect(
        dbname="postgres",
        user=settings.get("USER") or None,
        password=settings.get("PASSWORD") or None,
        host=settings.get("HOST") or None,
        port=settings.get("PORT") or None,
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def child_argv(args: argparse.Namespace, backend: str, out: Path) -> list[str]:
    argv = ["--docs", str(args.docs), "--seed", str(args.seed), "--repeat", str(args.repeat)]
    argv += ["--baseline-every", str(args.baseline_every)]
    for name in ("people", "departments", "grants"):
        if getattr(args, name) is not None:
            argv += [f"--{name}", str(getattr(args, name))]
    argv += [flag for flag, on in (("--no-tantivy", args.no_tantivy), ("--no-api", args.no_api)) if on]
    argv += ["--profile"] if args.profile else []
    return [*argv, "--data-dir", str(args.data_dir), "--child", backend, "--out", str(out)]


def run_backend(backend: str, args: argparse.Namespace) -> dict:
    folder = args.data_dir / backend
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    env = dict(os.environ, SHAREHUB_DATA_DIR=str(folder), DJANGO_SETTINGS_MODULE="sharehub.settings")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    if backend == "postgresql":
        recreate_postgres(args.postgres_url)
        env["DATABASE_URL"] = args.postgres_url
    else:
        env.pop("DATABASE_URL", None)
    out = folder / "result.json"
    command = [sys.executable, "-m", "bench.search", *child_argv(args, backend, out)]
    subprocess.run(command, env=env, cwd=ROOT, check=True)
    return json.loads(out.read_text())


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores{' (' + model + ')' if model else ''}, {platform.system()} {platform.release()}"


def document(results: dict[str, dict], argv: list[str]) -> str:
    from bench.search import report

    any_result = next(iter(results.values()))
    head = [
        f"# Search benchmark, {date.today().isoformat()}",
        "",
        f"`python -m bench.search {' '.join(argv)}`".replace("  ", " "),
        "",
        "Code: " + "; ".join(f"{report.NAMES.get(b, b)} {r.get('code', 'unknown')}" for b, r in results.items()) + ".",
        "",
        f"Machine: {machine()}; {any_result['python']}; seed {any_result['sizes']['seed']}. "
        "Latencies are wall-clock milliseconds in one process (p50 / p95 over every timed run of every query, "
        "after one untimed warm-up run per query). Indexing segments in a second thread while the database "
        "writes (the baselines are single-threaded). On SQLite an admin's search runs two statements at once "
        '(the ranked page, and the facets on a second connection); "its main SQL statement alone" is then '
        "the ranked page's.",
        "",
    ]
    body = report.render(results)
    profiles = [
        f"\n## Profile of the slowest case on {report.NAMES.get(b, b)}\n\n{r['profile']}"
        for b, r in results.items()
        if r.get("profile")
    ]
    return "\n".join(head) + "\n" + body + "".join(profiles)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    args.data_dir = args.data_dir.resolve()
    if args.child:
        child(args)
        return
    if args.combine:
        loaded = [json.loads(path.read_text()) for path in args.combine]
        results = {r["backend"]: r for r in loaded}
    else:
        backends = BACKENDS if args.backend == "both" else (args.backend,)
        results = {backend: run_backend(backend, args) for backend in backends}
    text = document(results, argv)
    print(text)
    target = args.results
    if target is None:
        docs = next(iter(results.values()))["corpus"]["docs"]
        suffix = "" if docs == FULL_DOCS else f"-{docs}docs"
        target = HERE / f"results-{date.today().isoformat()}{suffix}.md"
    target.write_text(text)
    print(f"written to {target}", file=sys.stderr)
