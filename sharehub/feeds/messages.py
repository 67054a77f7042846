"""How a notification reads: each app registers a sentence (with %(name)s taken from the event's
details) and a link for the actions it emits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Template:
    text: str  # a lazy translatable string with %(key)s placeholders from event details
    link: Callable[[dict], str] | None = None


_templates: dict[str, Template] = {}


def register(action: str, text, link: Callable[[dict], str] | None = None) -> None:
    _templates[action] = Template(text, link)


class _Details(dict):
    def __missing__(self, key):
        return "—"


def render(event) -> tuple[str, str]:
    """(sentence, link) for an event, in the active language."""
    template = _templates.get(event.action)
    details = _Details(event.details or {})
    details.setdefault("actor", event.actor_name or _("Sharehub"))
    details.setdefault("target", event.target_label)
    if template is None:
        return f"{event.action}: {event.target_label}", ""
    link = template.link(details) if template.link else ""
    return str(template.text) % details, link
