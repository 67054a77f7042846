"""How a field's value is masked for a reader whose grant does not cover it in the clear.

`mask(rule, field_type, value, hasher=...)` works on canonical values (what `types.parse` returns):

- none: the value unchanged; hidden: None.
- hash: `hasher(index_text(field_type, value))`. The caller passes a keyed HMAC; an unkeyed hash of an ID
  number or a phone number is reversed by trying every candidate, so this module never hashes itself.
- partial, by type:
  - resident_id: first 6 and last 4 ("110105********1234"); the birth date in the middle is hidden.
  - credit_code: first 2 and last 2 ("91**************43").
  - phone: a mobile keeps the first 3 and last 4 ("138****5678"); a landline keeps its area code and the
    last 2 digits of the number ("010-******78"); an extension is dropped.
  - email: first character of the name and the domain ("z***@example.com").
  - text (mostly names): a Chinese name keeps the surname character and stars the rest ("张*", "张**",
    at most three stars; a single character becomes "*"); other text keeps its first character and three
    stars ("J***") whatever its length.
  - date: the year ("1985-**-**"); datetime: the year ("1985-**-**T**:**:**Z").
  - integer, decimal, boolean, enum: None, as hidden. A number with starred digits reads as a different
    number, a yes/no or a choice has nothing to keep, and a range bucket needs bounds per field that the
    schema does not have; a later "bucket" rule can add them.
- An unknown rule or type, or a value not in canonical shape, fails closed: None or all stars, never the value.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.db import models
from django.utils.translation import pgettext_lazy

from sharehub.exchange.types import FieldType, Value, index_text


class MaskRule(models.TextChoices):
    NONE = "none", pgettext_lazy("masking rule", "not masked")
    PARTIAL = "partial", pgettext_lazy("masking rule", "partly hidden")
    HASH = "hash", pgettext_lazy("masking rule", "hashed")
    HIDDEN = "hidden", pgettext_lazy("masking rule", "hidden")


_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_LANDLINE = re.compile(r"(0\d{2,3})-(\d{7,8})(?:-\d+)?", re.ASCII)
_STARS = "******"


def mask(rule: str, field_type: str, value: Value, *, hasher: Callable[[str], str]) -> Value:
    """`value` as a reader under `rule` may see it (see the module docstring)."""
    return masker(rule, field_type, hasher=hasher)(value)


def masker(rule: str, field_type: str, *, hasher: Callable[[str], str]) -> Callable[[Value], Value]:
    """`mask` for one field, its rule and type resolved once (a page masks the same field a thousand times)."""
    if rule == MaskRule.NONE:
        return lambda value: value
    if rule == MaskRule.HASH:
        return lambda value: None if value is None else hasher(index_text(field_type, value))
    if rule == MaskRule.PARTIAL:
        partial = _PARTIAL.get(field_type)
        if partial is not None:
            return lambda value: partial(value) if isinstance(value, str) else None
    return lambda value: None


def _resident_id(value: str) -> str:
    return value[:6] + "*" * 8 + value[-4:] if len(value) == 18 else _STARS


def _credit_code(value: str) -> str:
    return value[:2] + "*" * 14 + value[-2:] if len(value) == 18 else _STARS


def _phone(value: str) -> str:
    if len(value) == 11 and value.isdigit():
        return value[:3] + "****" + value[-4:]
    if landline := _LANDLINE.fullmatch(value):
        area, number = landline.groups()
        return f"{area}-{'*' * (len(number) - 2)}{number[-2:]}"
    return _STARS


def _email(value: str) -> str:
    name, at, domain = value.rpartition("@")
    return f"{name[:1]}***@{domain}" if at and name else _STARS


def _text(value: str) -> str:
    if not value:
        return _STARS
    if _CJK.match(value):
        return value[0] + "*" * min(len(value) - 1, 3) if len(value) > 1 else "*"
    return value[0] + "***"


def _date(value: str) -> str:
    return f"{value[:4]}-**-**" if len(value) == 10 else _STARS


def _datetime(value: str) -> str:
    return f"{value[:4]}-**-**T**:**:**Z" if len(value) >= 20 else _STARS


_PARTIAL: dict[str, Callable[[str], str]] = {
    FieldType.RESIDENT_ID: _resident_id,
    FieldType.CREDIT_CODE: _credit_code,
    FieldType.PHONE: _phone,
    FieldType.EMAIL: _email,
    FieldType.TEXT: _text,
    FieldType.DATE: _date,
    FieldType.DATETIME: _datetime,
}
