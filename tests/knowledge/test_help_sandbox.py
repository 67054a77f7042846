"""The demo's sandbox: `sharehub demo --sandbox` keeps a copy of the loaded demo, `sharehub demo --reset` and the
schedule put the database back to it while other connections (the server's) stay open, every page says when;
PostgreSQL is refused with the reason and a non-zero exit."""

from __future__ import annotations

import io
import re
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from sharehub.catalog.models import Resource
from sharehub.demo import data, generator, sandbox
from sharehub.org.models import Department
from tests import factories

SQLITE = connection.vendor == "sqlite"
only_sqlite = pytest.mark.skipif(not SQLITE, reason="the sandbox restores SQLite only (PostgreSQL: refused)")
only_postgres = pytest.mark.skipif(SQLITE, reason="the refusal is PostgreSQL's")


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    sandbox._banner_cache.update(key=None, state=None)


def _run(*args) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@only_sqlite
@pytest.mark.django_db(transaction=True)
def test_a_reset_puts_everything_back_while_the_server_holds_its_connection():
    kept = factories.department("税务局", "SWJ")
    sandbox.take_snapshot()
    assert sandbox.snapshot_path().stat().st_mode & 0o777 == 0o600
    factories.department("卫生健康委员会", "WJW")
    Department.objects.filter(pk=kept.pk).update(name="改过的名字")
    database = Path(connections[DEFAULT_DB_ALIAS].settings_dict["NAME"])
    server = sqlite3.connect(database, isolation_level=None)  # as a running server's open connection
    assert server.execute("SELECT count(*) FROM org_department").fetchone()[0] == 2

    seconds = sandbox.reset()

    assert seconds >= 0
    assert list(Department.objects.values_list("name", flat=True)) == ["税务局"]
    assert server.execute("SELECT count(*) FROM org_department").fetchone()[0] == 1  # it reads the new state
    server.execute("SELECT 1 FROM org_department").fetchall()
    assert server.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert server.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    server.close()
    factories.department("卫生健康委员会", "WJW")  # and it takes writes afterwards
    assert Department.objects.count() == 2


@only_sqlite
@pytest.mark.django_db(transaction=True)
def test_a_reset_waits_for_a_write_in_progress_and_never_mixes_states():
    factories.department("税务局", "SWJ")
    sandbox.take_snapshot()
    database = Path(connections[DEFAULT_DB_ALIAS].settings_dict["NAME"])
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE org_department SET name = 'half-written'")
    done = threading.Event()
    thread = threading.Thread(target=lambda: (sandbox.reset(), done.set()))
    thread.start()
    assert not done.wait(0.5)  # the reset waits for the write lock
    writer.execute("COMMIT")
    thread.join(30)
    assert done.is_set()
    writer.close()
    assert list(Department.objects.values_list("name", flat=True)) == ["税务局"]


def _small_demo(command, seed: int, scale: float) -> None:
    """The demo's departments (what `generator.is_loaded` looks for) and a few resources: the sandbox's story
    without the minute the whole demo takes to load (tests/cli/test_demo.py loads that)."""
    for code, name, *_rest in data.DEPARTMENTS:
        factories.department(name, code)
    tax = Department.objects.get(code="SWJ")
    for _ in range(3):
        factories.resource(tax)


@only_sqlite
@pytest.mark.django_db(transaction=True)
def test_demo_sandbox_loads_keeps_a_copy_and_demo_reset_restores_it(monkeypatch):
    monkeypatch.setattr("sharehub.web.management.commands.demo.Command._load", _small_demo)
    output = _run("--no-serve", "--sandbox", "--reset-every", "30")
    assert "Sandbox: kept a copy of the demo" in output and "every 30 minutes" in output
    assert sandbox.has_snapshot()
    state = sandbox.read_state()
    assert state["every"] == 30
    assert timedelta(minutes=29) < state["next_reset"] - timezone.now() <= timedelta(minutes=30)
    titles = dict(Resource.objects.values_list("pk", "title"))
    Resource.objects.update(title="沙箱里改过")
    factories.department("沙箱里加的部门", "SANDBOX")

    output = _run("--reset")

    assert "back to the demo's first state" in output and "Next scheduled reset at" in output
    assert dict(Resource.objects.values_list("pk", "title")) == titles
    assert not Department.objects.filter(code="SANDBOX").exists()
    assert generator.is_loaded()
    # a second --sandbox start keeps the first copy: the sandbox always returns to the freshly loaded demo
    stamp = sandbox.snapshot_path().stat().st_mtime_ns
    factories.department("又一个", "AGAIN")
    _run("--no-serve", "--sandbox")
    assert sandbox.snapshot_path().stat().st_mtime_ns == stamp
    _run("--reset")
    assert not Department.objects.filter(code="AGAIN").exists()

    # serving: the schedule runs beside the server, and its state goes when the server stops
    seen = {}

    def fake_server(command, **options):
        seen["threads"] = [t.name for t in threading.enumerate()]
        seen["state"] = sandbox.read_state()

    monkeypatch.setattr("sharehub.web.management.commands.demo.run_server", fake_server)
    _run("--sandbox", "--reset-every", "5")
    assert "sandbox-reset" in seen["threads"]
    assert seen["state"]["every"] == 5
    assert sandbox.read_state() is None
    _run("--no-serve")  # a plain demo run: no banner left behind
    assert sandbox.read_state() is None


@pytest.mark.django_db(transaction=True)
def test_reset_without_a_sandbox_says_what_to_do():
    with pytest.raises(CommandError) as refused:
        _run("--reset")
    message = str(refused.value)
    assert ("no sandbox snapshot" in message) if SQLITE else ("SQLite" in message and "DATABASE_URL" in message)


@only_postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_is_refused_before_anything_is_loaded():
    with pytest.raises(CommandError, match=r"only with the embedded SQLite database.*DATABASE_URL"):
        _run("--no-serve", "--scale", "0.1", "--sandbox")
    assert not Department.objects.exists()
    assert not sandbox.has_snapshot()


def test_bad_intervals_are_refused():
    for bad in ("0", "-5", "ten", str(sandbox.MAX_EVERY + 1)):
        with pytest.raises(CommandError, match="interval"):
            _run("--no-serve", "--sandbox", "--reset-every", bad)


@pytest.mark.django_db
def test_every_page_says_it_is_a_sandbox_and_when_it_resets(people, client_for, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    client = client_for(people["tax_member"])
    assert "sh-sandbox-banner" not in client.get("/").content.decode()
    next_reset = timezone.now() + timedelta(minutes=42)
    sandbox.write_state(60, next_reset)
    for url in ("/", "/resources/", "/help/"):
        html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "This is a sandbox" in html, url
    assert re.search(r"At \d\d:\d\d \(in 4[12]\xa0minutes\)", html), html.split("sh-sandbox-banner")[1][:400]
    anonymous = client_for(people["health_member"])
    anonymous.logout()
    assert "This is a sandbox" in anonymous.get("/accounts/login/").content.decode()
    client.cookies["django_language"] = "zh-hans"
    assert "这是演示沙箱" in client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


@pytest.mark.django_db
def test_the_banner_goes_when_no_sandbox_runs(people, client_for):
    client = client_for(people["tax_member"])
    sandbox.write_state(60, timezone.now() - timedelta(minutes=1))
    assert "being put back" in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    sandbox.write_state(60, timezone.now() - timedelta(hours=2))  # the sandbox stopped long ago
    assert "sh-sandbox-banner" not in client.get("/").content.decode()
    sandbox.state_path().write_text("not json", encoding="utf-8")
    assert "sh-sandbox-banner" not in client.get("/").content.decode()


def test_the_schedule_resets_when_the_time_comes_and_moves_the_next_reset(monkeypatch):
    resets = []
    monkeypatch.setattr(sandbox, "reset", lambda: resets.append(1) or 0.1)
    sandbox.write_state(5, timezone.now() - timedelta(seconds=1))
    stop = threading.Event()
    told = []

    def on_reset(seconds, next_reset):
        told.append((seconds, next_reset))
        stop.set()

    sandbox.run_schedule(stop, on_reset)
    assert resets == [1]
    assert told[0][0] == 0.1
    assert timedelta(minutes=4) < told[0][1] - timezone.now() <= timedelta(minutes=5)
    assert sandbox.read_state()["next_reset"] == told[0][1]


def test_a_failed_reset_is_logged_and_tried_at_the_next_interval(monkeypatch, caplog):
    def broken():
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(sandbox, "reset", broken)
    sandbox.write_state(5, timezone.now() - timedelta(seconds=1))
    stop = threading.Event()
    told = []
    sandbox.run_schedule(stop, lambda seconds, when: (told.append(seconds), stop.set()))
    assert told == [None]
    assert "sandbox reset failed" in caplog.text
    assert sandbox.read_state()["next_reset"] > timezone.now()


def test_the_schedule_stops_when_the_sandbox_state_is_gone():
    stop = threading.Event()
    sandbox.clear_state()
    sandbox.run_schedule(stop)  # returns at once: nothing scheduled


def test_make_demo_sandbox_passes_the_option():
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed here")
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in __import__("os").environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    plain = subprocess.run(
        ["make", "--no-print-directory", "-n", "demo"], cwd=root, env=env, capture_output=True, text=True
    )
    sandboxed = subprocess.run(
        ["make", "--no-print-directory", "-n", "demo", "SANDBOX=1"], cwd=root, env=env, capture_output=True, text=True
    )
    assert "--sandbox" not in plain.stdout
    assert ".venv/bin/sharehub demo --host 127.0.0.1 --port 8000 --workers 1 --sandbox" in sandboxed.stdout
