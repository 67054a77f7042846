"""Log lines as human text (the default) or, with SHAREHUB_LOG_FORMAT=json, one JSON object per line:

    {"time": "2026-05-04T08:12:03.518Z", "level": "WARNING", "logger": "django.request",
     "message": "Not Found: /nowhere", "exception": "Traceback (most recent call last): ..."}

`time` is UTC (ISO 8601), `exception` appears when the record carries one. The same shape for Django's
loggers, Sharehub's own, uvicorn's access and error logs under `sharehub serve` (uvicorn_config) and
Python warnings.

A few lines on logging.Formatter rather than python-json-logger: the fields are five and fixed, and that
library adds every extra attribute of a record to the object, so uvicorn's `color_message` (the message
again, with terminal colour codes) and Django's `request` object would need excluding one by one.
Non-ASCII characters are escaped (`\\u7a0e`): each line is plain ASCII, which no terminal or locale can
garble and every JSON reader decodes.

Nothing here imports Django: sharehub.settings builds its LOGGING from django_logging().
"""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime

FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created, UTC)
        entry = {
            "time": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


class JsonLines:
    """A command's output (a Django OutputWrapper) whose every line is written as a JSON log line."""

    def __init__(self, out, logger: str) -> None:
        self._out, self._logger, self._formatter = out, logger, JsonFormatter()

    def write(self, message: str = "", style_func=None, ending=None) -> None:
        for text in message.splitlines():
            if text.strip():
                record = logging.LogRecord(self._logger, logging.INFO, "", 0, text, None, None)
                self._out.write(self._formatter.format(record))

    def __getattr__(self, name):
        return getattr(self._out, name)


def django_logging(log_format: str, level: str) -> dict:
    """Django's LOGGING: everything through the root logger's handler on stderr, at `level`."""
    settings: dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"console": {"class": "logging.StreamHandler"}},
        "root": {"handlers": ["console"], "level": level},
    }
    if log_format == "json":
        settings["formatters"] = {"json": {"()": "sharehub.ops.logs.JsonFormatter"}}
        settings["handlers"]["console"]["formatter"] = "json"
        # Django's own defaults give the `django` logger a plain-text handler of its own (in debug mode):
        # its records go through the root handler only, as everyone else's.
        settings["loggers"] = {"django": {"handlers": [], "level": "INFO", "propagate": True}}
    return settings


def configure(logging_settings: dict) -> None:
    """Django's LOGGING_CONFIG: the settings above, and in JSON mode Python's warnings as log records too
    (otherwise printed to stderr as text)."""
    logging.config.dictConfig(logging_settings)
    logging.captureWarnings("json" in logging_settings.get("formatters", {}))


def uvicorn_config() -> dict:
    """uvicorn's log_config in JSON mode: its error and access logs as JSON lines on stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "sharehub.ops.logs.JsonFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
    }
