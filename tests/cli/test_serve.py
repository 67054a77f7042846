from __future__ import annotations

import gc
import os

import pytest
from django.core.management.base import CommandError

from sharehub import asgi, console, heap

pytestmark = pytest.mark.django_db


def test_serve_runs_uvicorn_with_the_asgi_app(run, no_server):
    result = run("serve", "--host", "0.0.0.0", "--port", "9000", "--workers", "3")
    assert no_server == [
        (
            ("sharehub.asgi:application",),
            {"host": "0.0.0.0", "port": 9000, "workers": 3, "proxy_headers": False, "log_level": "warning"},
        )
    ]
    assert "http://0.0.0.0:9000/" in result.stdout


def test_serve_leaves_forwarded_headers_to_sharehub(run, no_server):
    """uvicorn's default believes X-Forwarded-For from 127.0.0.1 and rewrites the peer address with it:
    rotating that header from the host itself then escaped the sign-in lockout (issue 10, 1.5)."""
    run("serve")
    (_args, kwargs) = no_server[0]
    assert kwargs["proxy_headers"] is False


def test_serve_defaults(run, no_server):
    run("serve")
    (_args, kwargs) = no_server[0]
    assert (kwargs["host"], kwargs["port"], kwargs["workers"]) == ("127.0.0.1", 8000, 1)


def test_serve_applies_pending_migrations_first(run, no_server, monkeypatch):
    order = []
    monkeypatch.setattr(console, "pending_migrations", lambda: 2)
    monkeypatch.setattr(console, "call_command", lambda name, **kwargs: order.append(name))
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: order.append("uvicorn"))
    result = run("serve")
    assert order == ["migrate", "uvicorn"]
    assert "2 pending database migration" in result.stdout


def test_serve_without_pending_migrations_does_not_migrate(run, no_server, monkeypatch):
    called = []
    monkeypatch.setattr(console, "call_command", lambda name, **kwargs: called.append(name))
    run("serve")
    assert called == []
    assert len(no_server) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "http"], "port must be a number"),
        (["--port", "70000"], "between 1 and 65535"),
        (["--workers", "0"], "at least one worker"),
    ],
)
def test_serve_rejects_bad_arguments(run, no_server, args, message):
    with pytest.raises(CommandError, match=message):
        run("serve", *args)
    assert no_server == []


def test_each_server_process_starts_the_background_worker_when_configured(run, no_server, monkeypatch, settings):
    """The loop runs in every process that loads the application (each of `--workers N`), where the wake-ups
    of that process's requests reach it, not in the supervising parent."""
    started = []
    settings.SERVER_RUNS_WORKER = True
    monkeypatch.setenv("SHAREHUB_WORKER_IN_PROCESS", "0")  # restored after the test
    monkeypatch.setenv("SHAREHUB_SERVER_PROCESS", "0")
    monkeypatch.setattr(gc, "set_threshold", lambda *thresholds: None)  # this is the tests' process
    monkeypatch.setattr("sharehub.worker.start_in_thread", lambda interval: started.append(interval))
    run("serve")
    assert started == [] and os.environ["SHAREHUB_WORKER_IN_PROCESS"] == "1"
    asgi._application()  # what each server process does when it loads the application
    assert started == [settings.WORKER_INTERVAL_SECONDS]
    settings.SERVER_RUNS_WORKER = False
    monkeypatch.setenv("SHAREHUB_WORKER_IN_PROCESS", "0")
    run("serve")
    asgi._application()
    assert started == [settings.WORKER_INTERVAL_SECONDS]


def test_only_server_processes_collect_garbage_less_often(monkeypatch):
    """`sharehub serve` marks its processes; elsewhere (the tests' own process, which imports the application)
    the collector keeps Python's thresholds: fewer full collections there held leaked connections longer."""
    chosen = []
    monkeypatch.setattr(gc, "set_threshold", lambda *thresholds: chosen.append(thresholds))
    monkeypatch.setenv("SHAREHUB_WORKER_IN_PROCESS", "0")
    monkeypatch.delenv("SHAREHUB_SERVER_PROCESS", raising=False)
    asgi._application()
    assert chosen == []
    monkeypatch.setenv("SHAREHUB_SERVER_PROCESS", "1")
    asgi._application()
    assert chosen == [heap.SERVER_THRESHOLDS]
