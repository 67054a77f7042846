"""How a notification reads: each app registers a sentence (with %(name)s taken from the event's
details) and a link for the actions it emits."""

from __future__ import annotations

from collections.abc import Callable
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
_followed: dict[str, Template] = {}  # how an event reads to someone who follows what it is about


def register(action: str, text, link: Callable[[dict], str] | None = None, *, followed: bool = False) -> None:
    (_followed if followed else _templates)[action] = Template(text, link)


class _Details(dict):
    def __missing__(self, key):
        return "—"


RESOURCE_TARGET = "catalog.resource"

# Other kinds of target an event names that a reader may stop seeing (a private question): target type ->
# (the ids of them the actor may see now, out of those given: one query), registered by the owning app.
_target_checks: dict[str, Callable] = {}


def register_target_check(target_type: str, seen: Callable) -> None:
    _target_checks[target_type] = seen


def checked_target(event) -> tuple[str, int] | None:
    """(target type, id) of an event's target whose sight is checked at read time, if any."""
    if event.target_type in _target_checks and str(event.target_id).isdigit():
        return event.target_type, int(event.target_id)
    return None


def unseen_targets(actor, events) -> set[tuple[str, int]]:
    """The checked targets of `events` the actor may not see now: one query per kind of target."""
    by_type: dict[str, set[int]] = {}
    for event in events:
        found = checked_target(event)
        if found is not None:
            by_type.setdefault(found[0], set()).add(found[1])
    unseen = set()
    for target_type, ids in by_type.items():
        seen = _target_checks[target_type](actor, ids)
        unseen |= {(target_type, pk) for pk in ids - set(seen)}
    return unseen


def named_resource(event) -> int | None:
    """The id of the resource an event is about (`resource_id` in its details, or its target), if any."""
    raw = (event.details or {}).get("resource_id")
    if raw is None and event.target_type == RESOURCE_TARGET:
        raw = event.target_id
    return int(raw) if str(raw).isdigit() and len(str(raw)) <= 18 else None


def named_recipients(event) -> set[int]:
    """The people an event names as involved (`recipients` in its details): they hear of it as such."""
    return {int(r) for r in (event.details or {}).get("recipients", []) if str(r).isdigit() and len(str(r)) <= 18}


def render(
    event, people: dict | None = None, *, hidden: bool = False, followed: bool = False, search: str = ""
) -> tuple[str, str]:
    """(sentence, link) for an event, in the active language. The actor is named by display name and
    department from `people` (a `person_labels` answer), else looked up, else by the login name logged.

    `hidden`: the reader may not see, now, the resource the event names (invariant 10); the sentence
    then says so instead of naming it, and there is no link. `followed`: the reader was told because they
    follow what the event is about, not as a party to it; `search`: the name of their followed saved
    search that the resource now matches."""
    if people is None:
        people = person_labels([event.actor_id])
    template = (_followed if followed else _templates).get(event.action)
    details = _Details(event.details or {})
    person = people.get(event.actor_id)
    details.setdefault("actor", str(person) if person else (event.actor_name or _("Sharehub")))
    details.setdefault("target", event.target_label)
    if hidden:
        unseen = _("a resource you cannot see")
        details.update(title=unseen, target=unseen, resource=unseen, resource_id="")
    if template is None:
        return f"{event.action}: {details['target']}", ""
    link = template.link(details) if template.link and not hidden else ""
    text = template.text(details) if callable(template.text) else template.text
    sentence = str(text) % details
    if search:
        sentence += " " + _("It matches your saved search “%(search)s”.") % {"search": search}
    return sentence, link
