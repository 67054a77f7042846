"""What an API token may do: its scopes. `read` and `write` cover every area of the API; `<area>:read` and
`<area>:write` one area (an area is one app's part of the API, the tag its operations carry). Writing
includes reading; a request that only reads (GET, HEAD) needs read.

A token's scopes narrow what its owner may do, never widen it: the policy still decides every request."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sharehub.errors import Invalid

READ, WRITE = "read", "write"
AREAS = {
    "organization": gettext_lazy("organization: departments and people"),
    "catalog": gettext_lazy("catalog: resources and reviews"),
    "access": gettext_lazy("access: requests, grants and the calendar"),
    "exchange": gettext_lazy("datasets and records"),
    "search": gettext_lazy("search"),
    "notifications": gettext_lazy("notifications, follows and webhooks"),
    "audit": gettext_lazy("audit trail"),
    "knowledge": gettext_lazy("knowledge: articles, questions, sessions, comments and recognition"),
}
EVERYTHING = (READ, WRITE)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def all_scopes() -> list[str]:
    return [READ, WRITE, *(f"{area}:{level}" for area in AREAS for level in (READ, WRITE))]


def clean(scopes: Iterable[str] | str | None) -> list[str]:
    """The scopes asked for, checked and in a stable order (read is implied by write and dropped)."""
    if scopes is None or isinstance(scopes, str):
        scopes = (scopes or "").replace(",", " ").split()
    asked = {str(scope).strip().lower() for scope in scopes if str(scope).strip()}
    known = all_scopes()
    unknown = sorted(asked - set(known))
    if unknown:
        raise Invalid(
            fields={
                "scopes": _("Unknown scope %(scope)s; scopes are %(known)s.")
                % {"scope": unknown[0], "known": ", ".join(known)}
            }
        )
    if not asked:
        raise Invalid(fields={"scopes": _("Choose at least one scope, such as read.")})
    if WRITE in asked:
        asked -= {READ, *(f"{area}:{level}" for area in AREAS for level in (READ, WRITE))}
    elif READ in asked:
        asked -= {f"{area}:{READ}" for area in AREAS}
    for area in AREAS:
        if f"{area}:{WRITE}" in asked:
            asked.discard(f"{area}:{READ}")
    return [scope for scope in known if scope in asked]


def allows(scopes: Iterable[str], area: str, method: str) -> bool:
    granted = set(scopes)
    if WRITE in granted or f"{area}:{WRITE}" in granted:
        return True
    return method.upper() in SAFE_METHODS and (READ in granted or f"{area}:{READ}" in granted)


def needed(area: str, method: str) -> str:
    """In words, the narrowest scope that lets a request of `method` into `area` through."""
    return describe([f"{area}:{READ if method.upper() in SAFE_METHODS else WRITE}"])[0]


def describe(scopes: Iterable[str]) -> list[str]:
    """The scopes in words, for pages and the CLI."""
    words = []
    for scope in scopes:
        area, _colon, level = scope.rpartition(":")
        if not area:
            words.append(_("read everything") if scope == READ else _("read and write everything"))
        elif level == READ:
            words.append(_("read %(area)s") % {"area": AREAS.get(area, area)})
        else:
            words.append(_("read and write %(area)s") % {"area": AREAS.get(area, area)})
    return words
