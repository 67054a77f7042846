"""How a notification reads: each app registers a sentence (with %(name)s taken from the event's
details) and a link for the actions it emits."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from sharehub.org.queries import person_labels


@dataclass(frozen=True)
class Template:
    # a lazy translatable string with %(key)s placeholders from event details, or a function of the
    # details that picks one (e.g. a narrowed approval reads differently)
    text: object
    link: Callable[[dict], str] | None = None


_templates: dict[str, Template] = {}


def register(action: str, text, link: Callable[[dict], str] | None = None) -> None:
    _templates[action] = Template(text, link)


class _Details(dict):
    def __missing__(self, key):
        return "—"


def render(event, people: dict | None = None) -> tuple[str, str]:
    """(sentence, link) for an event, in the active language. The actor is named by display name and
    department from `people` (see `render_many`), else looked up, else by the login name logged."""
    if people is None:
        people = person_labels([event.actor_id])
    template = _templates.get(event.action)
    details = _Details(event.details or {})
    person = people.get(event.actor_id)
    details.setdefault("actor", str(person) if person else (event.actor_name or _("Sharehub")))
    details.setdefault("target", event.target_label)
    if template is None:
        return f"{event.action}: {event.target_label}", ""
    link = template.link(details) if template.link else ""
    text = template.text(details) if callable(template.text) else template.text
    return str(text) % details, link


def render_many(events: Iterable, people: dict | None = None) -> list[tuple[str, str]]:
    """(sentence, link) for each event; the actors are resolved in one query for all of them
    (or taken from `people`, a `person_labels` answer)."""
    events = list(events)
    if people is None:
        people = person_labels({e.actor_id for e in events})
    return [render(e, people) for e in events]
