"""How the audit trail reads to people.

Each app registers, for the actions it records (in its `audit.py`, called when the app is ready):

* `register_area(prefix, label)`: the group its actions are filed under ("resource." → Catalog);
* `register(action, name, sentence)`: a short name ("Content read") and a sentence with %(actor)s,
  %(target)s and %(key)s placeholders taken from the event's details, or a function of the details that
  picks one (as `sharehub.feeds.messages` does for notifications);
* `register_detail(key, label, kind)`: how a key of the details is labelled and shown (a person id as a
  name, a department id as its name, a resource code as its title, a date in the reader's zone, ...);
* `register_target(target_type, resolve)`: how the objects of one of its types are found for a page of
  events, in one query, with a link where the policy lets the reader follow it.

An action or a key nobody registered still reads sensibly (its code, made readable), so events written by
code newer than these registrations, or by code since removed, show.

`describe(viewer, events)` reads a page: the stored ids of every row are collected first and looked up
together (people in one query, departments in one, resources in two, each other target type in one), so
the number of statements does not grow with the page (invariant 9). What is linked is decided by
`sharehub.policy.engine` at read time (invariant 10); the labels are what the event recorded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format, number_format
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

# ---- kinds of detail values -------------------------------------------------------------------------------

TEXT = "text"
NUMBER = "number"
BOOL = "bool"
PERSON = "person"  # a user id
PEOPLE = "people"  # a list of user ids
USERNAME = "username"  # a login name
DEPARTMENT = "department"  # a department id
DEPARTMENTS = "departments"  # a list of department ids
RESOURCE = "resource"  # a resource code (or id)
RESOURCE_ID = "resource_id"  # a resource id
RESOURCES = "resources"  # a list of resource codes
DATETIME = "datetime"  # an ISO 8601 moment, shown in the reader's zone
DATE = "date"  # an ISO 8601 day
SIZE = "size"  # bytes
CHOICE = "choice"  # a code with a translated label (`choices`)
CHOICES = "choices"  # a list of such codes
DIGEST = "digest"  # a long hexadecimal digest, shortened
LIST = "list"  # a list of plain values
ACTIONS = "actions"  # a list of action names, or prefixes ending in "." (what a webhook sends)
HIDDEN = "hidden"  # not shown (it repeats the target, or means nothing to a reader)
REF = "ref:"  # + a target type: an id (or a list of ids) of an object of that type (see `ref`)


def ref(target_type: str) -> str:
    """The kind of a detail that holds the id (or ids) of objects of `target_type`: they are found by that
    type's registered resolver, together with the page's targets, and shown like targets."""
    return REF + target_type


FOLD_CHARS = 120  # longer text is folded: its start shown, the rest one click away
FOLD_ITEMS = 6  # longer lists likewise
RESOLVE_PER_LIST = 20  # resources of one list looked up (and linked); the rest are shown by their code
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_ACTION = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9_.]+$")


@dataclass(frozen=True)
class ActionText:
    name: object  # a lazy translatable string
    sentence: object  # a lazy translatable string, or a function of the details that returns one


@dataclass(frozen=True)
class DetailKey:
    label: object
    kind: str = TEXT
    choices: Mapping | None = None
    shown: Callable[[dict], bool] | None = None  # a function of the details: whether the value says anything


@dataclass(frozen=True)
class Ref:
    """An object as an auditor sees it: its label (as recorded), its code, a link if the reader may follow
    it, and whether it no longer exists."""

    label: str
    code: str = ""
    url: str = ""
    gone: bool = False


# A resolver gets the reader and the ids (strings, as events store them) of one target type on a page and
# answers {id: Ref} for those it can name, in a constant number of queries. Ids it does not answer are
# shown by their recorded label, unlinked.
Resolver = Callable[[object, set[str]], dict[str, Ref]]

_areas: dict[str, object] = {}
_actions: dict[str, ActionText] = {}
_details: dict[str, DetailKey] = {}
_action_details: dict[tuple[str, str], DetailKey] = {}
_targets: dict[str, Resolver] = {}


def register_area(prefix: str, label) -> None:
    """The group of the actions that start with `prefix` + "." (e.g. "resource")."""
    _areas[prefix] = label


def register(action: str, name, sentence) -> None:
    if not _ACTION.match(action):
        raise ValueError(f"not an action name: {action!r}")
    _actions[action] = ActionText(name, sentence)


def register_detail(
    key: str, label, kind: str = TEXT, *, choices: Mapping | None = None, actions=(), shown=None
) -> None:
    """How the detail `key` reads; for `actions` only (exact names, or prefixes ending in ".") if given.
    `shown(details)` may leave it out where it only repeats the sentence."""
    entry = DetailKey(label, kind, choices, shown)
    if actions:
        for action in actions:
            _action_details[(action, key)] = entry
    else:
        _details[key] = entry


def register_target(target_type: str, resolve: Resolver) -> None:
    _targets[target_type] = resolve


def is_registered(action: str) -> bool:
    return action in _actions


def registered_actions() -> list[str]:
    return sorted(_actions)


def _humanize(code: str) -> str:
    return code.replace("_", " ").strip().capitalize()


def area_of(action: str) -> str:
    return action.split(".", 1)[0]


def area_label(prefix: str) -> str:
    label = _areas.get(prefix)
    return str(label) if label is not None else _humanize(prefix)


def action_name(action: str) -> str:
    """The translated name of an action; an unregistered one is made readable from its code
    ("calendar.day_added" → "Calendar: day added")."""
    known = _actions.get(action)
    if known is not None:
        return str(known.name)
    prefix, _dot, rest = action.partition(".")
    if not rest:
        return _humanize(action)
    return pgettext("audit", "%(area)s: %(what)s") % {
        "area": area_label(prefix),
        "what": rest.replace("_", " ").replace(".", " "),
    }


def _action_or_area(code: str) -> str:
    if code.endswith("."):
        return pgettext("audit", "All: %(area)s") % {"area": area_label(code[:-1])}
    return action_name(code)


def grouped_choices(actions: Iterable[str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Choices for a filter menu: the actions by area (each area led by "all of it"), areas and actions
    sorted by their translated names."""
    by_area: dict[str, list[str]] = {}
    for action in actions:
        by_area.setdefault(area_of(action), []).append(action)
    groups = []
    for prefix, names in by_area.items():
        label = area_label(prefix)
        options = [(f"{prefix}.", pgettext("audit", "All: %(area)s") % {"area": label})]
        options += sorted(((a, action_name(a)) for a in names), key=lambda option: option[1])
        groups.append((label, options))
    return sorted(groups, key=lambda group: group[0])


def detail_key(action: str, key: str) -> DetailKey:
    found = _action_details.get((action, key))
    if found is not None:
        return found
    prefix = action.split(".", 1)[0] + "."
    found = _action_details.get((prefix, key)) or _details.get(key)
    return found if found is not None else DetailKey(_humanize(key), "")


# ---- pieces: each value once as text and once as HTML ------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    text: str
    html: SafeString

    @classmethod
    def plain(cls, value) -> Piece:
        text = "" if value is None else str(value)
        return cls(text, conditional_escape(text))


DASH = Piece("—", mark_safe("—"))


def _joined(pieces: list[Piece], *, fold: bool) -> Piece:
    separator = _(", ")
    text = separator.join(p.text for p in pieces)
    if not fold or len(pieces) <= FOLD_ITEMS:
        return Piece(text, mark_safe(conditional_escape(separator).join(p.html for p in pieces)))
    shown, rest = pieces[:FOLD_ITEMS], pieces[FOLD_ITEMS:]
    more = pgettext("audit", "and %(n)s more") % {"n": len(rest)}
    html = format_html(
        '{} <details class="sh-fold"><summary>{}</summary>{}</details>',
        mark_safe(conditional_escape(separator).join(p.html for p in shown)),
        more,
        mark_safe(conditional_escape(separator).join(p.html for p in rest)),
    )
    return Piece(text, html)


def _text(value: str, *, fold: bool) -> Piece:
    if len(value) <= FOLD_CHARS:
        return Piece.plain(value)
    start = value[: FOLD_CHARS - 40].rstrip() + "…"
    if not fold:
        return Piece(value, format_html('<span title="{}">{}</span>', value, start))
    html = format_html(
        '<details class="sh-fold"><summary>{}</summary><div class="sh-prewrap">{}</div></details>', start, value
    )
    return Piece(value, html)


def _yes_no(value) -> Piece:
    return Piece.plain(pgettext("audit", "yes") if value else pgettext("audit", "no"))


def _moment(value) -> Piece:
    moment = value if isinstance(value, datetime) else parse_datetime(str(value)) if value else None
    if moment is None:
        return _day(value)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    shown = date_format(timezone.localtime(moment), "DATETIME_FORMAT")
    return Piece(shown, format_html('<time datetime="{}">{}</time>', moment.isoformat(), shown))


def _day(value) -> Piece:
    day = value if isinstance(value, date) else parse_date(str(value)) if value else None
    if day is None:
        return Piece.plain(value)
    return Piece.plain(date_format(day, "DATE_FORMAT"))


def _number(value, *, group: bool = True) -> Piece:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return Piece.plain(value)
    return Piece.plain(number_format(value, force_grouping=group))


def _digest(value) -> Piece:
    text = str(value)
    if len(text) <= 16:
        return Piece(text, format_html('<code class="sh-code">{}</code>', text))
    return Piece(text, format_html('<code class="sh-code" title="{}">{}…</code>', text, text[:12]))


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _generic(value, *, fold: bool, group: bool = True) -> Piece:
    """A value nobody described: made readable by its type (numbers in a list are not grouped, so that
    "1, 2000" does not read as three numbers)."""
    if _empty(value):
        return DASH
    if isinstance(value, bool):
        return _yes_no(value)
    if isinstance(value, int | float):
        return _number(value, group=group)
    if isinstance(value, list):
        return _joined([_generic(v, fold=False, group=False) for v in value], fold=fold)
    if isinstance(value, dict):
        parts = [
            Piece(f"{_humanize(str(k))}: {p.text}", format_html("{}: {}", _humanize(str(k)), p.html))
            for k, p in ((k, _generic(v, fold=False)) for k, v in value.items())
        ]
        return _joined(parts, fold=fold)
    text = str(value)
    if parse_datetime(text) is not None and "T" in text:
        return _moment(text)
    return _text(text, fold=fold)


def person_piece(label, fallback: str = "") -> Piece:
    """A person by display name and departments; a service account marked as such."""
    if label is None:
        if not fallback:
            return DASH
        return Piece(fallback, format_html('<span class="sh-person">{}</span>', fallback))
    html = format_html('<span class="sh-person">{}</span>', label.name)
    text = label.name
    if label.departments:
        departments = _(", ").join(label.departments)
        html += format_html(
            ' <span class="sh-person-dept">{}</span>',
            pgettext("audit", "(%(departments)s)") % {"departments": departments},
        )
        text = str(label)
    if label.is_service:
        service = pgettext("audit", "service account")
        html += format_html(' <span class="badge sh-service">{}</span>', service)
        text += f" [{service}]"
    return Piece(text, html)


def ref_piece(ref: Ref) -> Piece:
    """An object by title and code; its title linked when the reader may follow the link."""
    label = ref.label or ref.code
    if ref.url:
        title = format_html('<a class="sh-obj-title" href="{}">{}</a>', ref.url, label)
    else:
        title = format_html('<span class="sh-obj-title">{}</span>', label)
    text = label
    if ref.code and ref.label and ref.code != ref.label:
        title = format_html('{}<span class="sh-code">{}</span>', title, ref.code)
        text = pgettext("audit", "%(title)s (%(code)s)") % {"title": ref.label, "code": ref.code}
    if ref.gone:
        gone = pgettext("audit", "no longer exists")
        title = format_html('{} <span class="sh-gone">({})</span>', title, gone)
        text += f" ({gone})"
    return Piece(text, format_html('<span class="sh-obj">{}</span>', title))


# ---- a page of events -----------------------------------------------------------------------------------------


@dataclass
class Described:
    """One event as the audit page shows it."""

    event: object
    name: str
    area: str
    sentence: Piece
    details: list[tuple[str, Piece]] = field(default_factory=list)
    departments: list[Piece] = field(default_factory=list)

    @property
    def seq(self) -> int:
        return self.event.seq


@dataclass
class _Found:
    """What a page's stored ids resolve to: filled by `_resolve` in a fixed number of queries."""

    people: dict = field(default_factory=dict)  # user id or login name -> PersonLabel
    departments: dict[int, Ref] = field(default_factory=dict)  # the ones the reader may open
    resources_by_id: dict[int, object] = field(default_factory=dict)
    resources_by_code: dict[str, object] = field(default_factory=dict)
    resource_links: dict[int, str] = field(default_factory=dict)
    targets: dict[tuple[str, str], Ref] = field(default_factory=dict)
    looked_up: set[str] = field(default_factory=set)  # target types whose resolver was asked


RESOURCE_TARGET = "catalog.resource"
USER_TARGET = "org.user"
DEPARTMENT_TARGET = "org.department"


def _values(value) -> list:
    return value if isinstance(value, list) else [value]


def _as_id(value) -> int | None:
    text = str(value)
    return int(text) if text.isdigit() and len(text) <= 18 else None


def _collect(events) -> dict[str, set]:
    wanted: dict[str, set] = {
        "people": set(),
        "usernames": set(),
        "departments": set(),
        "resource_ids": set(),
        "resource_codes": set(),
    }
    targets: dict[str, set[str]] = {}
    for event in events:
        if event.actor_id:
            wanted["people"].add(event.actor_id)
        if event.target_type == USER_TARGET:
            if _as_id(event.target_id) is not None:
                wanted["people"].add(_as_id(event.target_id))
            elif event.target_label:
                wanted["usernames"].add(event.target_label)
        elif event.target_type == DEPARTMENT_TARGET and _as_id(event.target_id) is not None:
            wanted["departments"].add(_as_id(event.target_id))
        elif event.target_type == RESOURCE_TARGET and _as_id(event.target_id) is not None:
            wanted["resource_ids"].add(_as_id(event.target_id))
        elif event.target_type in _targets and event.target_id:
            targets.setdefault(event.target_type, set()).add(event.target_id)
        for department in event.departments.all():
            wanted["departments"].add(department.pk)
        for key, value in (event.details or {}).items():
            kind = detail_key(event.action, key).kind
            if value is None:
                continue
            if kind.startswith(REF) and kind[len(REF) :] in _targets:
                ids = {str(v) for v in _values(value)[:RESOLVE_PER_LIST] if v is not None}
                targets.setdefault(kind[len(REF) :], set()).update(ids)
            if kind in (PERSON, PEOPLE):
                wanted["people"].update(i for i in map(_as_id, _values(value)) if i is not None)
            elif kind == USERNAME:
                wanted["usernames"].update(str(v) for v in _values(value) if v)
            elif kind in (DEPARTMENT, DEPARTMENTS):
                wanted["departments"].update(i for i in map(_as_id, _values(value)) if i is not None)
            elif kind == RESOURCE_ID:
                wanted["resource_ids"].update(i for i in map(_as_id, _values(value)) if i is not None)
            elif kind in (RESOURCE, RESOURCES):
                for item in _values(value)[:RESOLVE_PER_LIST]:
                    if isinstance(item, int):
                        wanted["resource_ids"].add(item)
                    elif item:
                        wanted["resource_codes"].add(str(item)[:64])
    wanted["targets"] = targets
    return wanted


def _resolve(viewer, events) -> _Found:
    from django.db.models import Q

    from sharehub.catalog.models import Resource
    from sharehub.org.queries import person_labels
    from sharehub.policy.engine import Action, can, visible_departments

    wanted = _collect(events)
    found = _Found()
    found.people = person_labels(wanted["people"], wanted["usernames"])
    if wanted["departments"]:
        for pk, name in visible_departments(viewer).filter(pk__in=wanted["departments"]).values_list("pk", "name"):
            found.departments[pk] = Ref(name, "", reverse("org:department", args=[pk]))
    if wanted["resource_ids"] or wanted["resource_codes"]:
        resources = (
            Resource.objects.filter(Q(pk__in=wanted["resource_ids"]) | Q(code__in=wanted["resource_codes"]))
            .select_related("owner_department")
            .prefetch_related("scope_departments")
        )
        for resource in resources:
            found.resources_by_id[resource.pk] = resource
            found.resources_by_code[resource.code] = resource
            if can(viewer, Action.VIEW, resource):
                found.resource_links[resource.pk] = reverse("catalog:detail", args=[resource.code])
    for target_type, ids in wanted["targets"].items():
        found.looked_up.add(target_type)
        for ident, ref in _targets[target_type](viewer, ids).items():
            found.targets[(target_type, str(ident))] = ref
    return found


def _title_without_code(label: str, code: str) -> str:
    if code and label.startswith(code):
        return label[len(code) :].strip() or label
    return label


class _Reader:
    """Formats the values of one page's events with what `_resolve` found."""

    def __init__(self, found: _Found):
        self.found = found

    def person(self, value, fallback: str = "") -> Piece:
        return person_piece(self.found.people.get(value), fallback or str(value))

    def department(self, value) -> Piece:
        pk = _as_id(value)
        ref = self.found.departments.get(pk) if pk is not None else None
        return ref_piece(ref) if ref else Piece.plain(value)

    def resource(self, value, title: str = "") -> Piece:
        resource = None
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            resource = self.found.resources_by_id.get(int(value))
        if resource is None and isinstance(value, str):
            resource = self.found.resources_by_code.get(value)
        if resource is None:
            return ref_piece(Ref(title or str(value), str(value) if title else "", "", gone=True))
        return ref_piece(Ref(resource.title, resource.code, self.found.resource_links.get(resource.pk, "")))

    def ref(self, target_type: str, ident) -> Piece:
        found = self.found.targets.get((target_type, str(ident)))
        if found is not None:
            return ref_piece(found)
        return Piece.plain(pgettext("audit", "#%(n)s") % {"n": ident})

    def value(self, event, key: str, value, *, fold: bool) -> Piece:
        spec = detail_key(event.action, key)
        kind = spec.kind
        if value is None or value == "" or value == []:
            return DASH
        if kind == PERSON:
            return self.person(_as_id(value), str(value))
        if kind == PEOPLE:
            return _joined([self.person(_as_id(v), str(v)) for v in _values(value)], fold=fold)
        if kind == USERNAME:
            return _joined([self.person(str(v), str(v)) for v in _values(value)], fold=fold)
        if kind == DEPARTMENT:
            return self.department(value)
        if kind == DEPARTMENTS:
            return _joined([self.department(v) for v in _values(value)], fold=fold)
        if kind in (RESOURCE, RESOURCE_ID):
            return self.resource(value, (event.details or {}).get("title", "") if key != "code" else "")
        if kind == RESOURCES:
            items = _values(value)
            pieces = [self.resource(v) for v in items[:RESOLVE_PER_LIST]]
            pieces += [Piece.plain(v) for v in items[RESOLVE_PER_LIST:]]
            return _joined(pieces, fold=fold)
        if kind == BOOL:
            return _yes_no(value)
        if kind == NUMBER:
            return _number(value)
        if kind == DATETIME:
            return _moment(value)
        if kind == DATE:
            return _day(value)
        if kind == SIZE:
            return Piece.plain(filesizeformat(value)) if isinstance(value, int) else Piece.plain(value)
        if kind == CHOICE:
            return Piece.plain((spec.choices or {}).get(value, value))
        if kind == CHOICES:
            return _joined([Piece.plain((spec.choices or {}).get(v, v)) for v in _values(value)], fold=fold)
        if kind == DIGEST:
            return _digest(value)
        if kind == ACTIONS:
            return _joined([Piece.plain(_action_or_area(str(v))) for v in _values(value)], fold=fold)
        if kind == LIST:
            return _joined([_generic(v, fold=False, group=False) for v in _values(value)], fold=fold)
        if kind.startswith(REF):
            return _joined([self.ref(kind[len(REF) :], v) for v in _values(value)], fold=fold)
        if kind == TEXT:
            if isinstance(value, list | dict | bool):
                return _generic(value, fold=fold)
            return _text(str(value), fold=fold)
        return _generic(value, fold=fold)

    def actor(self, event) -> Piece:
        if event.actor_id:
            return self.person(event.actor_id, event.actor_name)
        if event.actor_name:
            return person_piece(None, event.actor_name)
        return Piece.plain(pgettext("audit", "Sharehub"))

    def target(self, event) -> Piece:
        kind, ident, label = event.target_type, event.target_id, event.target_label
        if not kind and not label:
            return DASH
        if kind == USER_TARGET:
            key = _as_id(ident) if ident else label
            if key in self.found.people:
                return person_piece(self.found.people[key])
            return Piece(label, format_html('<span class="sh-person">{}</span>', label))
        if kind == DEPARTMENT_TARGET:
            ref = self.found.departments.get(_as_id(ident)) if ident else None
            return ref_piece(ref) if ref else ref_piece(Ref(label))
        if kind == RESOURCE_TARGET:
            code = (event.details or {}).get("code", "")
            pk = _as_id(ident) if ident else None
            resource = self.found.resources_by_id.get(pk) if pk is not None else None
            if resource is not None:
                code = resource.code
            title = _title_without_code(label, code)
            if pk is not None and resource is None:
                return ref_piece(Ref(title, code, "", gone=True))
            url = self.found.resource_links.get(pk, "") if pk is not None else ""
            return ref_piece(Ref(title, code, url))
        ref = self.found.targets.get((kind, ident))
        if ref is not None:
            return ref_piece(ref)
        gone = kind in self.found.looked_up and bool(ident)
        return ref_piece(Ref(label, "", "", gone=gone))


class _Default(dict):
    """Placeholder values; one the details lack reads as a dash."""

    def __init__(self, values, missing):
        super().__init__(values)
        self.missing = missing

    def __missing__(self, key):
        return self.missing


def _sentence_template(event) -> str:
    known = _actions.get(event.action)
    if known is None:  # an action nobody registered: its readable code, who, and about what
        if event.target_label or event.target_type:
            return pgettext("audit", "%(actor)s · %(unregistered_action)s · %(target)s")
        return pgettext("audit", "%(actor)s · %(unregistered_action)s")
    sentence = known.sentence
    return str(sentence(dict(event.details or {})) if callable(sentence) else sentence)


def _describe_one(event, reader: _Reader) -> Described:
    template = _sentence_template(event)
    used = set(_PLACEHOLDER.findall(template))
    details = event.details or {}
    parts: dict[str, Piece] = {}
    for name in used:
        if name == "actor":
            parts[name] = reader.actor(event)
        elif name == "target":
            parts[name] = reader.target(event)
        elif name == "departments" and name not in details:
            parts[name] = _joined(_department_pieces(event, reader), fold=False)
        elif name == "unregistered_action" and not is_registered(event.action):
            parts[name] = Piece.plain(action_name(event.action))
        elif name in details:
            parts[name] = reader.value(event, name, details[name], fold=False)
    text = template % _Default({k: v.text for k, v in parts.items()}, DASH.text)
    html = conditional_escape(template) % _Default({k: v.html for k, v in parts.items()}, DASH.html)
    shown = []
    for key, value in details.items():
        spec = detail_key(event.action, key)
        if spec.kind == HIDDEN or key in used or _empty(value) or (spec.shown and not spec.shown(details)):
            continue
        shown.append((str(spec.label), reader.value(event, key, value, fold=True)))
    return Described(
        event=event,
        name=action_name(event.action),
        area=area_label(area_of(event.action)),
        sentence=Piece(text, mark_safe(html)),
        details=shown,
        departments=_department_pieces(event, reader),
    )


def _department_pieces(event, reader: _Reader) -> list[Piece]:
    pieces = []
    for department in event.departments.all():
        ref = reader.found.departments.get(department.pk)
        pieces.append(ref_piece(ref) if ref else Piece.plain(department.name))
    return pieces


def describe(viewer, events) -> list[Described]:
    """The page's events, readable: a constant number of queries whatever the page's length."""
    events = list(events)
    reader = _Reader(_resolve(viewer, events))
    return [_describe_one(event, reader) for event in events]
