"""What an id and a piece of text may be, for every route: the API's types and parser, the pages' URL
converter and form parsing all ask here, so odd input gets a 4xx and never reaches the database.

- An id is ASCII digits naming a positive signed 64-bit integer: `"²"` and `"١٢"` are digits to
  `str.isdigit()` but not ids, and 99999999999999999999 fits no database column.
- Text holds no NUL character (no database text column takes one) and no lone surrogate (`"\\ud800"`
  in JSON decodes to a str that cannot be encoded as UTF-8).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from django.utils.translation import gettext as _
from pydantic import Field, Strict

MAX_DB_INT = 2**63 - 1

DbId = Annotated[int, Field(ge=1, le=MAX_DB_INT)]
"""A path or query id in the API (text in the URL): 422 naming the field when it cannot be a row's id."""

BodyId = Annotated[int, Strict(), Field(ge=1, le=MAX_DB_INT)]
"""An id in a JSON body: a JSON integer, not `true` or `"5"`."""

BodyInt = Annotated[int, Strict()]
"""A whole number in a JSON body: a JSON integer, not `true`."""

_ID = re.compile(r"[0-9]{1,19}")
_BAD_TEXT = re.compile(r"[\x00\ud800-\udfff]")


def parse_id(value: Any) -> int | None:
    """The id in `value` (an int, or text from a URL or a form), or None when it cannot be one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _ID.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if 1 <= number <= MAX_DB_INT else None


class IdConverter:
    """`<id:name>` in page URLs: matches only what `parse_id` accepts, so anything else is a 404."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValueError(value)
        return number

    def to_url(self, value) -> str:
        return str(value)


def text_problem(text: str) -> str | None:
    """Why `text` cannot be stored, in the caller's language, or None when it can."""
    found = _BAD_TEXT.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return _("Must not contain the NUL character.")
    return _("Must be valid Unicode text (it has an unpaired surrogate).")


def text_problems(value: Any, path: str = "") -> dict[str, str]:
    """Every string in a decoded JSON value (or form data) that cannot be stored, by dotted path.

    A bad key is reported on the object that holds it (or `body` at the top).
    """
    if isinstance(value, str):
        problem = text_problem(value)
        return {path or "body": problem} if problem else {}
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return {}
    found: dict[str, str] = {}
    for key, item in items:
        key_problem = text_problem(key) if isinstance(key, str) else None
        if key_problem:
            found.setdefault(path or "body", key_problem)
            continue
        child = f"{path}.{key}" if path else str(key)
        found.update(text_problems(item, child))
    return found


def clean_text(errors: dict, name: str, value, *, limit: int, required: bool = True) -> str:
    """A text field of a form or body, stripped; a problem is written into `errors` under `name`."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = _("Must be text.")
        return ""
    value = value.strip()
    if "\x00" in value:
        errors[name] = _("Must not contain the NUL character.")
    elif required and not value:
        errors[name] = _("This field is required.")
    elif len(value) > limit:
        errors[name] = _("At most %(n)s characters.") % {"n": limit}
    return value
