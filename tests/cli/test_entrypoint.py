"""The real `sharehub` console script, in a fresh data directory, as a user would run it."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.cli.conftest import console_script


@pytest.fixture
def sharehub(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env["SHAREHUB_DATA_DIR"] = str(tmp_path / "data")
    script = console_script()

    def _run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [script, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False
        )

    return _run


def test_console_script_end_to_end(sharehub, tmp_path):
    demo = sharehub("demo", "--no-serve", "--scale", "0.1")
    assert demo.returncode == 0, demo.stderr
    assert "Loaded the demo organization" in demo.stdout
    assert (tmp_path / "data" / "sharehub.sqlite3").exists()

    verify = sharehub("audit", "verify")
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.startswith("audit chain intact: ")

    token = sharehub("token", "create", "erp-sync", "--name", "erp")
    assert token.returncode == 0, token.stderr
    assert token.stdout.strip().splitlines()[-1].startswith("shr_")

    missing = sharehub("token", "revoke", "9999")
    assert missing.returncode != 0
    assert "There is no token with id 9999" in missing.stderr
    assert "Traceback" not in missing.stderr

    again = sharehub("createadmin", "--username", "admin", "--password", "Long-enough-9")
    assert again.returncode != 0
    assert "exists already" in again.stderr and "Traceback" not in again.stderr
