"""Where the processes of one host keep their metric counts, so a scrape of any one adds them all up.

prometheus_client's multiprocess mode: each process writes its counts into files of its own (named by its
pid) in PROMETHEUS_MULTIPROC_DIR, and a scrape reads every file there. The choice is made when
prometheus_client is first imported, so `sharehub` (sharehub.cli) sets the directory before Django starts;
every process started through it, `sharehub serve` with its workers and `sharehub worker` alike, then
counts into `<data directory>/metrics`. Nothing here imports prometheus_client.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def use_data_dir() -> None:
    """Count into `<data directory>/metrics` unless PROMETHEUS_MULTIPROC_DIR already names a directory."""
    from sharehub import config

    path = Path(os.environ.get(ENV) or config.data_dir() / "metrics")
    path.mkdir(parents=True, exist_ok=True)
    os.environ[ENV] = str(path)


def directory() -> Path | None:
    raw = os.environ.get(ENV, "")
    return Path(raw) if raw else None


def clean() -> int:
    """At `sharehub serve`'s start: remove the files of processes that are gone, so the counts start again
    (Prometheus takes a counter that drops as a restart). A running `sharehub worker`'s files stay. Returns
    how many files were removed."""
    path = directory()
    if path is None or not path.is_dir():
        return 0
    removed = 0
    for file in path.glob("*.db"):
        pid = file.stem.rpartition("_")[2]
        if pid.isdigit() and _alive(int(pid)):
            continue
        with contextlib.suppress(FileNotFoundError):
            file.unlink()
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: not ours to judge, and not one of ours that died
        return True
    return True
