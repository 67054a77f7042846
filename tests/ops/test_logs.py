"""SHAREHUB_LOG_FORMAT: the JSON line's shape, and settings that cannot be used stop the command with a sentence."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from sharehub.ops import logs, multiprocess


def _record(message: str, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("sharehub.feeds.mail", logging.WARNING, __file__, 1, message, args, exc_info)


def test_a_record_is_one_line_of_json_with_utc_time_level_logger_message():
    formatter = logs.JsonFormatter()
    before = datetime.now(UTC)
    line = formatter.format(_record("邮件 %s 未发送:\n%s", 42, "connection refused"))
    assert "\n" not in line and line.isascii()
    entry = json.loads(line)
    assert set(entry) == {"time", "level", "logger", "message"}
    assert entry["level"] == "WARNING" and entry["logger"] == "sharehub.feeds.mail"
    assert entry["message"] == "邮件 42 未发送:\nconnection refused"
    assert entry["time"].endswith("Z")
    at = datetime.fromisoformat(entry["time"])
    assert at.utcoffset().total_seconds() == 0 and abs((at - before).total_seconds()) < 5


def test_an_exception_comes_as_its_text():
    try:
        {}["missing"]
    except KeyError:
        record = _record("the round failed", exc_info=sys.exc_info())
    entry = json.loads(logs.JsonFormatter().format(record))
    assert entry["exception"].startswith("Traceback (most recent call last):")
    assert "KeyError: 'missing'" in entry["exception"]


def test_extra_attributes_stay_out():
    record = _record("Started server process [%d]", 7)
    record.color_message = "Started server process [\x1b[36m%d\x1b[0m]"  # as uvicorn adds
    record.request = object()  # as django.request adds
    assert set(json.loads(logs.JsonFormatter().format(record))) == {"time", "level", "logger", "message"}


def test_the_logging_settings_pick_the_formatter():
    text, as_json = logs.django_logging("text", "INFO"), logs.django_logging("json", "INFO")
    assert "formatter" not in text["handlers"]["console"] and text["root"]["level"] == "INFO"
    assert as_json["handlers"]["console"]["formatter"] == "json"
    assert as_json["loggers"]["django"]["handlers"] == []  # no plain-text handler of Django's own


def _sharehub(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    child = {k: v for k, v in os.environ.items() if not k.startswith("SHAREHUB_") and k != multiprocess.ENV}
    child.update(SHAREHUB_DATA_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "-m", "sharehub", *args], env=child, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"SHAREHUB_LOG_FORMAT": "xml"}, "SHAREHUB_LOG_FORMAT must be text or json, not 'xml'"),
        ({"SHAREHUB_METRICS_TOKEN": "short"}, "SHAREHUB_METRICS_TOKEN must be at least 16 characters"),
        ({"SHAREHUB_METRICS_ALLOW": "10.0.0.0/8, intranet"}, "SHAREHUB_METRICS_ALLOW must list IP addresses"),
        ({"SHAREHUB_READY_LAG_EVENTS": "many"}, "SHAREHUB_READY_LAG_EVENTS must be a whole number"),
    ],
)
def test_settings_that_cannot_be_used_are_named(tmp_path, env, says):
    result = _sharehub(tmp_path, "check", **env)
    assert result.returncode == 2 and says in result.stderr and "Traceback" not in result.stderr


def test_json_is_accepted_in_any_case(tmp_path):
    result = _sharehub(tmp_path, "check", SHAREHUB_LOG_FORMAT="JSON")
    assert result.returncode == 0, result.stderr


def test_a_start_removes_the_counts_of_processes_that_are_gone(tmp_path, monkeypatch):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead, alive = int(gone.stdout), os.getpid()
    for name in (f"counter_{dead}.db", f"histogram_{dead}.db", f"counter_{alive}.db", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    monkeypatch.setenv(multiprocess.ENV, str(tmp_path))
    assert multiprocess.clean() == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"counter_{alive}.db", "notes.txt"]
