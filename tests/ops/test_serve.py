"""Monitoring a real `sharehub serve` (marked live): with `--workers 2` each process counts its own requests
and any scrape adds them all up; with SHAREHUB_LOG_FORMAT=json every line it writes is a JSON object."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.live.server import LiveServer, _live_database, _stop, _wait_until_answering, free_port, running_server

pytestmark = pytest.mark.live

ROUTE = "/health/live"


def _get(url: str) -> httpx.Response:
    """A request on a connection of its own, so the kernel may hand it to either worker."""
    with httpx.Client(timeout=10) as client:
        return client.get(url)


def _requests_counted(text: str, route: str = ROUTE) -> tuple[float, float]:
    """(requests counted, latency observations) for `route` in an exposition or a merge of files."""
    counted = observed = 0.0
    for family in text_string_to_metric_families(text) if isinstance(text, str) else text:
        for sample in family.samples:
            if sample.labels.get("route") != route:
                continue
            if sample.name == "sharehub_http_requests_total":
                counted += sample.value
            elif sample.name == "sharehub_http_request_duration_seconds_count":
                observed += sample.value
    return counted, observed


def _per_process(metrics_dir: Path) -> dict[str, float]:
    """What each process's own files hold for ROUTE, by pid."""
    found = {}
    for file in metrics_dir.glob("counter_*.db"):
        pid = file.stem.rpartition("_")[2]
        found[pid] = _requests_counted(MultiProcessCollector.merge([str(file)]))[0]
    return found


def test_two_workers_counts_add_up_in_every_scrape():
    with running_server(workers=2) as server:
        metrics_dir = server.data_dir / "metrics"
        made, deadline = 0, time.monotonic() + 120
        # until both workers have answered some (the second may still be starting when the first answers)
        while len([n for n in _per_process(metrics_dir).values() if n]) < 2:
            assert time.monotonic() < deadline, f"one worker answered everything: {_per_process(metrics_dir)}"
            assert _get(server.base_url + ROUTE).status_code == 200
            made += 1
        for _ in range(30):
            assert _get(server.base_url + ROUTE).status_code == 200
            made += 1
        shares = _per_process(metrics_dir)
        assert sum(shares.values()) == made and all(share < made for share in shares.values())
        for _ in range(6):  # each scrape answered by one worker or the other, each with everyone's counts
            scraped = _get(server.base_url + "/metrics")
            assert scraped.status_code == 200
            assert _requests_counted(scraped.text) == (made, made)
        assert "sharehub_log_reader_lag_events" in scraped.text


@contextmanager
def _serving_with_json_logs(tmp: Path):
    """`sharehub serve --workers 2 -v 2` (uvicorn's access log on) with JSON logs; stdout and stderr apart."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(SHAREHUB_DATA_DIR=str(tmp), SHAREHUB_LOG_FORMAT="json", SHAREHUB_LOG_LEVEL="INFO")
    database = env.get("DATABASE_URL", "")
    with _live_database(database) if database else nullcontext("") as live_url:
        if live_url:
            env["DATABASE_URL"] = live_url
        port = free_port()
        server = LiveServer(f"http://127.0.0.1:{port}", tmp, env, tmp / "stderr.log")
        server.run_cli("migrate", "--verbosity", "0")
        with (tmp / "stdout.log").open("wb") as out, server.log_path.open("wb") as err:
            server.process = subprocess.Popen(
                [sys.executable, "-m", "sharehub", "serve", "--port", str(port), "--workers", "2", "--verbosity", "2"],
                env=env,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        try:
            _wait_until_answering(server, 120)
            yield server
        finally:
            _stop(server.process)


def test_json_logs_are_one_object_a_line():
    with tempfile.TemporaryDirectory(prefix="sharehub-json-") as tmp:
        with _serving_with_json_logs(Path(tmp)) as server:
            assert _get(server.base_url + ROUTE).status_code == 200
            assert _get(server.base_url + "/no/such/page/").status_code == 404  # django.request warns
            assert _get(server.base_url + "/health/ready").status_code == 200
            with suppress(ProcessLookupError):
                os.killpg(server.process.pid, signal.SIGTERM)  # uvicorn logs its shutdown too
            server.process.wait(30)
        lines = {name: (Path(tmp) / f"{name}.log").read_text().splitlines() for name in ("stdout", "stderr")}
    entries = []
    for name, found in lines.items():
        for line in found:
            try:
                entry = json.loads(line)
            except ValueError:
                pytest.fail(f"not JSON on {name}: {line!r}")
            assert isinstance(entry, dict) and {"time", "level", "logger", "message"} <= set(entry), line
            assert entry["time"].endswith("Z")
            entries.append(entry)
    loggers = {entry["logger"] for entry in entries}
    assert {"sharehub.serve", "uvicorn.error", "uvicorn.access", "django.request"} <= loggers, loggers
    messages = [entry["message"] for entry in entries]
    assert any("Sharehub is running on" in m for m in messages)
    assert any('"GET /health/live HTTP/1.1" 200' in m for m in messages)
    assert any(m == "Not Found: /no/such/page/" for m in messages)
