"""Profiling helper for the request path and a worker's memory (issue 11). Not a test, not a benchmark.

    python scripts/profile_requests.py memory            # RSS after each import stage, in a fresh process
    python scripts/profile_requests.py requests USER     # in-process ms and SQL statements per route
    python scripts/profile_requests.py requests USER --profile /resources/   # plus cProfile's top functions
    python scripts/profile_requests.py serve --workers 2 # VmRSS of each `sharehub serve` worker

Run against an existing data directory (SHAREHUB_DATA_DIR, DATABASE_URL), e.g. after `sharehub demo --no-serve`.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def rss_mb(pid: int | str = "self") -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) / 1024


def memory() -> None:
    stages = [("python", lambda: None)]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharehub.settings")

    def setup():
        import django

        django.setup()

    def urls():
        from django.urls import resolve

        resolve("/")

    def asgi():
        import sharehub.asgi  # noqa: F401

    def search():
        from sharehub.search import segment

        segment.segmenter().words("社会保障卡办理")
        segment.pinyin_forms("社保")

    stages += [("django.setup()", setup), ("+ urls", urls), ("+ sharehub.asgi", asgi), ("+ first search", search)]
    for name, step in stages:
        step()
        print(f"{name:<20} {rss_mb():7.1f} MB")
    big = sorted(m for m in ("jieba", "pypinyin", "pandas", "numpy", "openpyxl", "pypdf") if m in sys.modules)
    print("loaded:", ", ".join(big) or "none of jieba, pypinyin, pandas, numpy, openpyxl, pypdf")


def requests(username: str, paths: list[str], repeat: int, profile: str | None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharehub.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from sharehub.org.models import User
    from sharehub.org.services import issue_token

    user = User.objects.get(username=username)
    _, raw = issue_token(user, user, "profile")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    browser = Client()
    browser.force_login(user)
    for path in paths:
        client = api if path.startswith("/api/") else browser
        client.get(path)  # warm: first use of templates, translations, caches
        captured = []

        def note(execute, sql, params, many, context, captured=captured):
            start = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                captured.append((sql, time.perf_counter() - start))

        with connection.execute_wrapper(note):
            response = client.get(path)
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - start) * 1000)
        sql_ms = sum(t for _, t in captured) * 1000
        print(
            f"{path:<40} {response.status_code}  median {statistics.median(times):6.2f} ms"
            f"  statements {len(captured):3d}  (SQL {sql_ms:.2f} ms)"
        )
        if profile and path == profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(repeat):
                client.get(path)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
            print(out.getvalue())
            for sql, _ in captured:
                print("   ", sql[:200])


def serve(workers: int, port: int, token: str | None, path: str) -> None:
    command = [str(ROOT / ".venv/bin/sharehub"), "serve", "--workers", str(workers), "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    sys.exit("the server did not start")
                time.sleep(0.5)
        time.sleep(5)  # both workers up
        children = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
        workers_ = [pid for pid in children if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()] or [
            str(server.pid)
        ]
        print(f"supervisor {server.pid}: {rss_mb(server.pid):.1f} MB")
        print("workers, idle:", ", ".join(f"{rss_mb(pid):.1f} MB" for pid in workers_))
        if token:
            headers = {"Authorization": f"Bearer {token}"}
            for _ in range(40):
                for url in (path, "/api/v1/resources?limit=50"):
                    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}{url}", headers=headers))
            print("workers, after 80 API calls:", ", ".join(f"{rss_mb(pid):.1f} MB" for pid in workers_))
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("memory")
    req = sub.add_parser("requests")
    req.add_argument("username")
    req.add_argument("--repeat", type=int, default=50)
    req.add_argument("--profile", help="one of the paths, to print its cProfile")
    req.add_argument(
        "--paths", nargs="*", default=["/api/v1/resources/9", "/api/v1/resources?limit=50", "/", "/resources/"]
    )
    srv = sub.add_parser("serve")
    srv.add_argument("--workers", type=int, default=2)
    srv.add_argument("--port", type=int, default=8613)
    srv.add_argument("--token", help="a bearer token, to measure again after some API calls")
    srv.add_argument("--path", default="/api/v1/resources/9")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.what == "memory":
        memory()
    elif args.what == "requests":
        requests(args.username, args.paths, args.repeat, args.profile)
    else:
        serve(args.workers, args.port, args.token, args.path)


if __name__ == "__main__":
    main()
