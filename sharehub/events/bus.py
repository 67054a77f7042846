"""In-process delivery of committed events to readers (search indexing, notifications, ...).

Handlers register by action prefix; they run after the transaction that wrote the event commits,
so they never see a change that was rolled back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

Handler = Callable[["Event"], None]  # noqa: F821
_handlers: list[tuple[str, Handler]] = []


def subscribe(prefix: str, handler: Handler) -> None:
    if (prefix, handler) not in _handlers:
        _handlers.append((prefix, handler))


def publish(event) -> None:
    for prefix, handler in list(_handlers):
        if event.action.startswith(prefix):
            try:
                handler(event)
            except Exception:
                logger.exception("event handler %s failed for event #%s", handler, event.seq)
