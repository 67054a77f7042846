"""What a new user meets first: the system check before setup, and the make targets' arguments."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "scripts" / "check-system.sh"


def _check(path: str, python: str = "python3.11") -> subprocess.CompletedProcess:
    env = {"PATH": path, "PYTHON": python, "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run([str(CHECK)], env=env, capture_output=True, text=True, timeout=60, check=False)


def _bin_with(tmp_path: Path, *programs: str) -> str:
    """A PATH holding only bash, env, id and the named programs."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in ("bash", "env", "id", *programs):
        # this Python's own interpreter, not a version manager's shim that needs more on the PATH
        found = os.path.realpath(sys.executable) if name == "python3.11" else shutil.which(name)
        if found is None:
            pytest.skip(f"{name} is not installed here")
        (folder / name).symlink_to(found)
    return str(folder)


def test_check_system_names_every_missing_package_with_the_apt_get_line(tmp_path):
    result = _check(_bin_with(tmp_path))
    assert result.returncode == 1
    assert "python3.11: Python 3.11 (python3.11 is not on the PATH)" in result.stderr
    assert "gettext: msgfmt" in result.stderr
    assert "apt-get install -y python3.11 python3.11-venv gettext nodejs npm make" in result.stderr


def test_check_system_names_only_what_is_missing(tmp_path):
    result = _check(_bin_with(tmp_path, "python3.11", "node", "npm", "make"))
    assert result.returncode == 1
    assert "apt-get install -y gettext\n" in result.stderr
    assert "python3.11-venv" not in result.stderr


def test_check_system_passes_here():
    """The machine that runs the suite has what setup needs (setup ran)."""
    result = _check(os.environ["PATH"])
    assert (result.returncode, result.stderr) == (0, "")


def _outside_make() -> dict[str, str]:
    """The environment without what a parent `make` passes down (`make test` runs this suite): a sub-make
    would otherwise inherit its flags and print "make[1]: Entering directory"."""
    return {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}}


def test_make_demo_passes_host_port_and_workers():
    if shutil.which("make") is None:
        pytest.skip("make is not installed here")
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "demo", "HOST=0.0.0.0", "PORT=8001", "WORKERS=2"],
        cwd=ROOT,
        env=_outside_make(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.splitlines()[0] == "PYTHON=python3.11 scripts/check-system.sh"
    assert ".venv/bin/sharehub demo --host 0.0.0.0 --port 8001 --workers 2" in result.stdout


def test_make_lint_sets_up_what_it_needs():
    """The install runs only when pyproject.toml is newer than its stamp (a second setup does nothing), so ask
    make what it would run were pyproject.toml just changed (-W), as on a fresh clone."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed here")
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "-W", "pyproject.toml", "lint"],
        cwd=ROOT,
        env=_outside_make(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert ".venv/bin/pip install --quiet -e '.[dev]'" in result.stdout
    assert result.stdout.index("pip install") < result.stdout.index("ruff check")
