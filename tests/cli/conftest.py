from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import pytest
from django.core.management import call_command


def console_script() -> str:
    """The installed `sharehub` script, beside this Python or on PATH; skips the test without it."""
    beside = Path(sys.executable).parent / "sharehub"
    found = str(beside) if beside.exists() else shutil.which("sharehub")
    if not found:
        pytest.skip("the sharehub console script is not installed")
    return found


class Run:
    """The result of one command: what it printed."""

    def __init__(self, stdout: str, stderr: str):
        self.stdout = stdout
        self.stderr = stderr

    @property
    def last_line(self) -> str:
        return self.stdout.strip().splitlines()[-1]


@pytest.fixture
def run():
    """Call a sharehub command in-process and return its output; CommandError propagates."""

    def _run(*args, **options) -> Run:
        out, err = io.StringIO(), io.StringIO()
        call_command(*args, stdout=out, stderr=err, **options)
        return Run(out.getvalue(), err.getvalue())

    return _run


@pytest.fixture
def no_server(monkeypatch):
    """Replace uvicorn.run and the several-worker server so that nothing listens; records how they were called."""
    import uvicorn

    from sharehub.web.management.commands import serve

    calls: list[tuple[tuple, dict]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append((args, kwargs)))

    def spread(command, config) -> None:  # several workers: one SO_REUSEPORT socket each (serve.py)
        options = {"host": config.host, "port": config.port, "workers": config.workers}
        options.update(proxy_headers=config.proxy_headers, log_level=config.log_level)
        calls.append(((config.app,), options))

    monkeypatch.setattr(serve, "serve_spread", spread)
    return calls
