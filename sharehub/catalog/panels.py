"""Sections other apps add to a resource's page and what they learn of its reads, registered in their
AppConfig.ready, so that the catalog never imports them (knowledge: cited by, comments, ratings, "this
helped me", and recognition counting reads by other departments)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.dispatch import Signal
from django.utils.safestring import SafeString, mark_safe

# Sent after a request showed resources' content (open content too): sender=None, actor, resources, via
# ("page", "download", "api", "edit", "diff", "search").
content_read = Signal()

# (request, resource, read decision) -> HTML, or "" to show nothing. `column`: "main" under the content,
# "side" in the right column.
Panel = Callable[..., str]
_panels: list[tuple[int, str, Panel]] = []


def register(panel: Panel, *, order: int = 100, column: str = "main") -> None:
    _panels.append((order, column, panel))
    _panels.sort(key=lambda entry: entry[0])


def render(request, resource, read) -> dict[str, list[SafeString]]:
    shown: dict[str, list[SafeString]] = {"main": [], "side": []}
    for _order, column, panel in _panels:
        html = panel(request, resource, read)
        if html:
            shown[column].append(mark_safe(html))
    return shown


def note_read(actor, resources: Iterable, via: str) -> None:
    content_read.send(sender=None, actor=actor, resources=list(resources), via=via)
