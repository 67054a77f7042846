"""What the search page was asked, read from the address (or the hidden fields of the save form).

The parameter names are the API's: q, department (repeatable id), kind, tag, sharing_type, updated,
sort, page. Only the types are checked here (a department or page that is not a number is 422 naming
the field); the values themselves are checked by `search.queries`, one place for the choices.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.http import QueryDict
from django.urls import reverse
from django.utils.translation import gettext as _

from sharehub.errors import Invalid
from sharehub.search.queries import MAX_PAGE, SearchFilters
from sharehub.search.services import SAVED_FILTER_KEYS
from sharehub.validation import parse_id

LIST_KEYS = ("department", "kind", "tag", "sharing_type")
MAX_VALUES = 20
DEFAULT_SORT = "relevance"


PARAMETERS = ("q", *LIST_KEYS, "updated", "sort", "page")


def null_characters(data: QueryDict, names) -> dict[str, str]:
    """The fields whose text holds a NUL character, which no database column can store."""
    message = _("Null characters are not allowed.")
    return {name: message for name in names if any("\x00" in value for value in data.getlist(name))}


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _values(data: QueryDict, name: str) -> list[str]:
    return [v.strip() for v in data.getlist(name) if v.strip()][:MAX_VALUES]


def saved_params(saved) -> QueryDict:
    """A saved search as the address parameters of the search page."""
    data = QueryDict(mutable=True)
    if saved.query:
        data["q"] = saved.query
    filters = saved.filters or {}
    for name in SAVED_FILTER_KEYS:  # a fixed order: PostgreSQL's jsonb does not keep the stored one
        if name in filters:
            values = filters[name]
            data.setlist(name, [str(v) for v in (values if isinstance(values, list) else [values])])
    return data


def saved_search_url(saved) -> str:
    """The web search page with the saved query and filters (the page and the API share their names)."""
    params = saved_params(saved).urlencode()
    return reverse("search:page") + (f"?{params}" if params else "")


@dataclass(frozen=True)
class SearchState:
    """One search as the page shows it; every link on the page is this state with one thing changed."""

    q: str = ""
    department: tuple[int, ...] = ()
    kind: tuple[str, ...] = ()
    tag: tuple[str, ...] = ()
    sharing_type: tuple[str, ...] = ()
    updated: str = ""
    sort: str = DEFAULT_SORT
    page: int = 1

    @classmethod
    def from_data(cls, data: QueryDict) -> SearchState:
        errors = null_characters(data, PARAMETERS)
        departments = []
        for value in _values(data, "department"):
            if parse_id(value) is not None:
                departments.append(parse_id(value))
            else:
                errors.setdefault("department", _("Choose departments by their number."))
        page_text = (data.get("page") or "1").strip()
        page = int(page_text) if _is_number(page_text) and len(page_text) < 7 else 0
        if page < 1:
            errors.setdefault("page", _("Choose a page from 1 to %(n)s.") % {"n": MAX_PAGE})
        if errors:
            raise Invalid(fields=errors)
        return cls(
            q=(data.get("q") or "").strip(),
            department=tuple(dict.fromkeys(departments)),
            kind=tuple(dict.fromkeys(_values(data, "kind"))),
            tag=tuple(dict.fromkeys(_values(data, "tag"))),
            sharing_type=tuple(dict.fromkeys(_values(data, "sharing_type"))),
            updated=(data.get("updated") or "").strip(),
            sort=(data.get("sort") or "").strip() or DEFAULT_SORT,
            page=page,
        )

    @classmethod
    def from_saved(cls, saved) -> SearchState:
        return cls.from_data(saved_params(saved))

    @property
    def is_empty(self) -> bool:
        """Nothing asked yet: no words and no filter."""
        return not (self.q or self.department or self.kind or self.tag or self.sharing_type or self.updated)

    @property
    def has_filters(self) -> bool:
        return bool(self.department or self.kind or self.tag or self.sharing_type or self.updated)

    def filters(self) -> SearchFilters:
        return SearchFilters(
            department=list(self.department),
            kind=list(self.kind),
            tag=list(self.tag),
            sharing_type=list(self.sharing_type),
            updated=self.updated,
        )

    def saved_filters(self) -> dict[str, list[str]]:
        """The filters as `services.save_search` keeps them (the sort too, when it is not the default)."""
        filters = {name: [str(v) for v in getattr(self, name)] for name in LIST_KEYS}
        filters["updated"] = [self.updated] if self.updated else []
        filters["sort"] = [self.sort] if self.sort != DEFAULT_SORT else []
        return {k: v for k, v in filters.items() if k in SAVED_FILTER_KEYS and v}

    def params(self) -> list[tuple[str, str]]:
        """The address parameters of this state; defaults are left out so addresses stay short."""
        pairs = [("q", self.q)] if self.q else []
        for name in LIST_KEYS:
            pairs += [(name, str(v)) for v in getattr(self, name)]
        if self.updated:
            pairs.append(("updated", self.updated))
        if self.sort != DEFAULT_SORT:
            pairs.append(("sort", self.sort))
        if self.page != 1:
            pairs.append(("page", str(self.page)))
        return pairs

    def query_string(self) -> str:
        params = self.params()
        return "?" + urlencode(params) if params else ""

    def toggled(self, name: str, value: str) -> SearchState:
        """This search with a filter value switched on or off, from its first page."""
        if name == "updated":
            return replace(self, updated="" if self.updated == value else value, page=1)
        if name == "department":
            value = int(value)
        current = getattr(self, name)
        changed = tuple(v for v in current if v != value) if value in current else (*current, value)
        return replace(self, page=1, **{name: changed})

    def selected(self, name: str, value: str) -> bool:
        if name == "updated":
            return self.updated == value
        if name == "department":
            return parse_id(value) in self.department
        return value in getattr(self, name)

    def with_page(self, page: int) -> SearchState:
        return replace(self, page=page)

    def with_sort(self, sort: str) -> SearchState:
        return replace(self, sort=sort, page=1)
