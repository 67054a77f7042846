"""Field types of a dataset's records and how raw input becomes a canonical, JSON-storable value.

`parse(field_type, raw)` takes what an import hands over — a str from CSV, or an int, float, Decimal,
datetime, date or bool from an XLSX cell read by openpyxl — and returns the one canonical form of the
value, or raises `FieldValueError` with a reason a person can read. Empty or whitespace-only input is
None: whether a field is required is the caller's rule, not the type's.

Canonical forms (decisions worth knowing):

- text: stripped; at most 10,000 characters; no NUL or lone surrogate.
- integer: an int within the signed 64-bit range. "1,234" is accepted (comma groups of exactly three,
  as spreadsheets export them) and so is "12.00"; "12.5", floats with a fraction and booleans are not.
- decimal: a str in plain notation without exponent or trailing zeros ("12.5", "100", "-0.03"); at most
  30 digits; NaN and Infinity are refused. A float cell is read to 15 significant digits, as Excel
  shows it, so 0.1 + 0.2 stores "0.3".
- date: "YYYY-MM-DD"; also accepts 2024/1/5, 2024.1.5, 2024年1月5日, 20240105 and spreadsheet date
  cells (a datetime cell only at midnight).
- datetime: ISO 8601 in UTC with "Z" ("2024-01-05T00:30:00Z", microseconds only when not zero). Input
  without an offset is in the TIME_ZONE setting (`timezone.get_default_timezone()`), never in the
  zone activated for a request, so an import reads the same whoever runs it.
- boolean: True/False from true/false, 1/0, yes/no, y/n, 是/否 (any case).
- enum: one of `choices`, exactly, after stripping.
- resident_id: 18 characters, GB 11643-1999 (ISO 7064 MOD 11-2 check character, X upper case), a known
  province code and a real birth date not in the future.
- credit_code: 18 characters, GB 32100-2015 (charset without I, O, S, V, Z; MOD 31 check character),
  upper case. The embedded organization code's own check digit (GB 11714) is not enforced.
- phone: a mainland mobile as 11 digits ("13812345678"), or a landline as "area-number" with an
  optional "-extension" ("010-12345678", "0571-8888888-123"); +86 / 0086, spaces, dashes and
  parentheses are accepted.
- email: one @, no spaces, a dotted domain, at most 254 characters; the domain is lower-cased.

Full-width characters (１２３, ＠, －, the ideographic space) are folded to ASCII for every type but
text: that is what Chinese input methods produce. Only the full-width block is folded, not all of NFKC,
so "²" or "①" never become digits.
"""

from __future__ import annotations

import datetime as dt
import operator
import random
import re
from collections.abc import Callable, Sequence
from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

Value = str | int | bool | None

MAX_TEXT = 10_000
MAX_RAW = 1_000  # longer input for a non-text type is refused before any pattern runs
MAX_DECIMAL_DIGITS = 30
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
FLOAT_EXACT = 2**53  # a spreadsheet number cell holds whole numbers exactly only up to here


class FieldType(models.TextChoices):
    TEXT = "text", pgettext_lazy("field type", "text")
    INTEGER = "integer", pgettext_lazy("field type", "integer")
    DECIMAL = "decimal", pgettext_lazy("field type", "decimal")
    DATE = "date", pgettext_lazy("field type", "date")
    DATETIME = "datetime", pgettext_lazy("field type", "date and time")
    BOOLEAN = "boolean", pgettext_lazy("field type", "yes/no")
    ENUM = "enum", pgettext_lazy("field type", "choice")
    RESIDENT_ID = "resident_id", pgettext_lazy("field type", "resident ID number")
    CREDIT_CODE = "credit_code", pgettext_lazy("field type", "unified social credit code")
    PHONE = "phone", pgettext_lazy("field type", "phone number")
    EMAIL = "email", pgettext_lazy("field type", "email address")


class FieldValueError(ValueError):
    """A value that does not fit its field type; `reason` is a lazy, translatable sentence."""

    def __init__(self, reason):
        self.reason = reason
        super().__init__(reason)

    def __str__(self) -> str:
        return str(self.reason)


# --- helpers -----------------------------------------------------------------------------------------

_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_BAD_TEXT = re.compile(r"[\x00\ud800-\udfff]")


def _fold(text: str) -> str:
    return text.translate(_FULL_WIDTH)


def _excel_float_reason():
    return _("The spreadsheet stored this as a number, which loses digits; format the column as text.")


def _short_text(raw) -> str:
    """`raw` as folded, stripped text for a non-text type (numbers from number cells become their digits)."""
    if isinstance(raw, bool):
        raise FieldValueError(_("Not a valid value for this field."))
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float | Decimal):
        number = Decimal(format(raw, ".15g")) if isinstance(raw, float) else raw
        if not number.is_finite() or number != number.to_integral_value():
            raise FieldValueError(_("Not a valid value for this field."))
        if number.copy_abs() >= FLOAT_EXACT:
            raise FieldValueError(_excel_float_reason())
        return str(int(number))
    if not isinstance(raw, str):
        raise FieldValueError(_("Not a valid value for this field."))
    if len(raw) > MAX_RAW:
        raise FieldValueError(_("The value is too long."))
    return _fold(raw).strip()


def _is_empty(raw) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


# --- text, numbers, booleans, choices ---------------------------------------------------------------


def _parse_text(raw) -> str:
    if isinstance(raw, bool):
        text = "true" if raw else "false"
    elif isinstance(raw, dt.datetime | dt.date):
        text = raw.isoformat()
    elif isinstance(raw, int):
        text = str(raw)
    elif isinstance(raw, float | Decimal):
        text = _parse_decimal(raw)
    elif isinstance(raw, str):
        text = raw.strip()
    else:
        raise FieldValueError(_("Not a valid value for this field."))
    if len(text) > MAX_TEXT:
        raise FieldValueError(format_lazy(_("The text is longer than {limit} characters."), limit=MAX_TEXT))
    if _BAD_TEXT.search(text):
        raise FieldValueError(_("The text contains a character that cannot be stored (NUL or a broken one)."))
    return text


_INT = re.compile(r"([+-]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.0+)?", re.ASCII)


_NOT_WHOLE = _("Not a whole number.")


def _parse_integer(raw) -> int:
    not_whole = _NOT_WHOLE
    if isinstance(raw, bool):
        raise FieldValueError(not_whole)
    if isinstance(raw, int):
        number = raw
    elif isinstance(raw, float):
        if raw.is_integer() and abs(raw) >= FLOAT_EXACT:
            raise FieldValueError(_excel_float_reason())
        if not raw.is_integer():
            raise FieldValueError(not_whole)
        number = int(raw)
    elif isinstance(raw, Decimal):
        if not raw.is_finite() or raw != raw.to_integral_value():
            raise FieldValueError(not_whole)
        if raw.adjusted() > 19:  # checked before int() builds a huge number
            raise FieldValueError(_("The number is too large."))
        number = int(raw)
    elif isinstance(raw, str):
        match = _INT.fullmatch(_fold(raw).strip()) if len(raw) <= MAX_RAW else None
        if not match:
            raise FieldValueError(not_whole)
        number = int(match[1] + match[2].replace(",", ""))
    else:
        raise FieldValueError(not_whole)
    if not INT_MIN <= number <= INT_MAX:
        raise FieldValueError(_("The number is too large."))
    return number


_DECIMAL = re.compile(r"[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)", re.ASCII)


_NOT_NUMBER = _("Not a number.")


def _parse_decimal(raw) -> str:
    not_number = _NOT_NUMBER
    if isinstance(raw, bool):
        raise FieldValueError(not_number)
    if isinstance(raw, int):
        number = Decimal(raw)
    elif isinstance(raw, float):
        number = Decimal(format(raw, ".15g"))  # what Excel shows; nan and inf stay nan and inf
    elif isinstance(raw, Decimal):
        number = raw
    elif isinstance(raw, str):
        text = _fold(raw).strip() if len(raw) <= MAX_RAW else ""
        if not _DECIMAL.fullmatch(text):
            raise FieldValueError(not_number)
        number = Decimal(text.replace(",", ""))
    else:
        raise FieldValueError(not_number)
    if not number.is_finite():
        raise FieldValueError(not_number)
    return _plain_decimal(number)


def _too_many_digits() -> FieldValueError:
    return FieldValueError(format_lazy(_("The number has more than {limit} digits."), limit=MAX_DECIMAL_DIGITS))


def _plain_decimal(number: Decimal) -> str:
    """Plain notation without trailing zeros, computed from the digits (Decimal.normalize would round to 28)."""
    sign, digit_tuple, exponent = number.as_tuple()
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    if not digits:
        return "0"
    stripped = digits.rstrip("0")
    if exponent < 0:
        drop = min(len(digits) - len(stripped), -exponent)
        digits, exponent = digits[: len(digits) - drop], exponent + drop
    if exponent >= 0:
        if len(digits) + exponent > MAX_DECIMAL_DIGITS:
            raise _too_many_digits()
        text = digits + "0" * exponent
    else:
        if max(len(digits), -exponent) > MAX_DECIMAL_DIGITS:
            raise _too_many_digits()
        whole, fraction = digits[:exponent], digits[exponent:].rjust(-exponent, "0")
        text = f"{whole or '0'}.{fraction}"
    return f"-{text}" if sign else text


_TRUE = {"true", "1", "yes", "y", "是"}
_FALSE = {"false", "0", "no", "n", "否"}


def _parse_boolean(raw) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float) and raw in (0, 1):
        return raw == 1
    if isinstance(raw, str) and len(raw) <= MAX_RAW:
        word = _fold(raw).strip().casefold()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise FieldValueError(_("Not yes or no (use true/false, 1/0, yes/no, 是/否)."))


def _parse_enum(raw, choices: Sequence[str]) -> str:
    text = raw.strip() if isinstance(raw, str) else _parse_text(raw)
    if text in choices:
        return text
    shown = ", ".join(choices[:10]) + (", …" if len(choices) > 10 else "")
    raise FieldValueError(format_lazy(_("Not one of: {choices}."), choices=shown))


# --- dates and times ---------------------------------------------------------------------------------

_DATE = r"(\d{4})(?:([-/.])(\d{1,2})\2(\d{1,2})|年(\d{1,2})月(\d{1,2})日?|(\d{2})(\d{2}))"
_DATE_RE = re.compile(_DATE, re.ASCII)
_DATETIME_RE = re.compile(
    _DATE + r"(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?",
    re.IGNORECASE | re.ASCII,
)


def _date_from_groups(groups: Sequence[str | None]) -> dt.date:
    year, _sep, m1, d1, m2, d2, m3, d3 = groups
    return dt.date(int(year), int(m1 or m2 or m3), int(d1 or d2 or d3))


_NOT_DATE = _("Not a date (YYYY-MM-DD).")


def _parse_date(raw) -> str:
    not_date = _NOT_DATE
    if isinstance(raw, dt.datetime):
        if raw.time() != dt.time(0):
            raise FieldValueError(_("This is a date and time; the field holds a date only."))
        return raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    text = _short_text(raw) if not isinstance(raw, float | Decimal | bool) else None
    match = _DATE_RE.fullmatch(text) if text else None
    if not match:
        raise FieldValueError(not_date)
    try:
        return _date_from_groups(match.groups()).isoformat()
    except ValueError:
        raise FieldValueError(_("There is no such date.")) from None


def _utc_text(moment: dt.datetime) -> str:
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    try:
        moment = moment.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise FieldValueError(_("The date and time are out of range.")) from None
    return moment.replace(tzinfo=None).isoformat() + "Z"


_NOT_DATETIME = _("Not a date and time (YYYY-MM-DD HH:MM:SS).")


def _parse_datetime(raw) -> str:
    if isinstance(raw, dt.datetime):
        return _utc_text(raw)
    not_datetime = _NOT_DATETIME
    if not isinstance(raw, str) or len(raw) > MAX_RAW:
        raise FieldValueError(not_datetime)
    match = _DATETIME_RE.fullmatch(_fold(raw).strip())
    if not match:
        raise FieldValueError(not_datetime)
    hour, minute, second, fraction, offset = match.groups()[8:]
    try:
        day = _date_from_groups(match.groups()[:8])
        moment = dt.datetime.combine(
            day, dt.time(int(hour), int(minute), int(second or 0), int((fraction or "0")[:6].ljust(6, "0")))
        )
        if offset:
            moment = moment.replace(tzinfo=_offset(offset))
    except ValueError:
        raise FieldValueError(_("There is no such date and time.")) from None
    return _utc_text(moment)


def _offset(text: str) -> dt.tzinfo:
    if text.upper() == "Z":
        return dt.UTC
    digits = text[1:].replace(":", "")
    delta = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    return dt.timezone(-delta if text[0] == "-" else delta)  # over 24 h raises ValueError


# --- identifiers -------------------------------------------------------------------------------------

# Province-level codes of GB/T 2260 (83 is on residence permits of Taiwan residents).
_PROVINCES = frozenset(
    str(code) for code in (*range(11, 16), 21, 22, 23, *range(31, 38), *range(41, 47), *range(50, 55), *range(61, 66))
) | {"71", "81", "82", "83"}
_ID_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]
_ID_CHECK = "10X98765432"
_RESIDENT_ID = re.compile(r"[1-9]\d{16}[\dX]", re.ASCII)
_EARLIEST_BIRTH = dt.date(1850, 1, 1)


def resident_id_check(first17: str) -> str:
    """The GB 11643-1999 check character (ISO 7064 MOD 11-2) of the first 17 digits."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


_SPACES = re.compile(r"\s+")


def _compact(raw) -> str:
    return _SPACES.sub("", _short_text(raw))


_ID_WEIGHT_OF_ZEROS = 48 * sum(_ID_WEIGHTS)  # ord("0") times each weight


def _parse_resident_id(raw, today: Callable[[dt.date], bool] | None = None) -> str:
    """`today(birth)`: whether the birth date is not after today (by default, timezone.localdate())."""
    text = _compact(raw).upper()
    if not _RESIDENT_ID.fullmatch(text):
        raise FieldValueError(_("Not a resident ID number (18 characters: 17 digits and a digit or X)."))
    return _checked_resident_id(text, today)


def _checked_resident_id(text: str, today: Callable[[dt.date], bool] | None) -> str:
    """`text`, which matches _RESIDENT_ID, when its province, birth date and check character are right."""
    if text[:2] not in _PROVINCES:
        raise FieldValueError(_("The first two digits are not a province code."))
    try:
        birth = dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise FieldValueError(_("Digits 7 to 14 are not a real birth date.")) from None
    if not (birth >= _EARLIEST_BIRTH and (today(birth) if today else birth <= timezone.localdate())):
        raise FieldValueError(_("The birth date (digits 7 to 14) is in the future or too long ago."))
    # resident_id_check() of the 17 ASCII digits, from their code points
    expected = _ID_CHECK[(sum(map(operator.mul, text[:17].encode("ascii"), _ID_WEIGHTS)) - _ID_WEIGHT_OF_ZEROS) % 11]
    if text[17] != expected:
        raise FieldValueError(format_lazy(_("The check character should be {check}."), check=expected))
    return text


_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUE = {c: i for i, c in enumerate(_CREDIT_CHARS)}
_CREDIT_WEIGHTS = [3**i % 31 for i in range(17)]  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
_CREDIT_CODE = re.compile(rf"[{_CREDIT_CHARS}]{{2}}\d{{6}}[{_CREDIT_CHARS}]{{10}}", re.ASCII)


def credit_code_check(first17: str) -> str:
    """The GB 32100-2015 check character (MOD 31) of the first 17 characters."""
    total = sum(_CREDIT_VALUE[c] * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_CHARS[(31 - total % 31) % 31]


def _parse_credit_code(raw) -> str:
    text = _compact(raw).upper()
    return _checked_credit_code(text)


def _checked_credit_code(text: str) -> str:
    if not _CREDIT_CODE.fullmatch(text):
        raise FieldValueError(
            _(
                "Not a unified social credit code (18 characters of 0-9 and A-Y without I, O, S, V, Z;"
                " characters 3 to 8 are digits)."
            )
        )
    expected = credit_code_check(text[:17])
    if text[17] != expected:
        raise FieldValueError(format_lazy(_("The check character should be {check}."), check=expected))
    return text


_EXTENSION = re.compile(r"\s*(?:转|分机|ext\.?|x|#)\s*(\d{1,6})$", re.IGNORECASE | re.ASCII)
_COUNTRY = re.compile(r"^(?:\+|00)\s*86")
_MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)
_AREA = re.compile(r"0(?:10|2\d|[3-9]\d{2})", re.ASCII)
_LOCAL = re.compile(r"[1-9]\d{6,7}", re.ASCII)


def _landline(digits: str) -> tuple[str, str] | None:
    """(area, number) when the digits are a landline: 010 and 02x are three digits long, other area codes four."""
    size = 3 if digits.startswith(("010", "02")) else 4
    area, number = digits[:size], digits[size:]
    return (area, number) if _AREA.fullmatch(area) and _LOCAL.fullmatch(number) else None


def _parse_phone(raw) -> str:
    text = _short_text(raw)
    extension = None
    if match := _EXTENSION.search(text):
        extension, text = match[1], text[: match.start()]
    international = bool(_COUNTRY.match(text))
    text = _COUNTRY.sub("", text)
    groups = [g for g in re.split(r"[\s()\-]+", text) if g]
    if not groups or not all(g.isascii() and g.isdigit() for g in groups):
        raise FieldValueError(_("Not a phone number (digits, spaces and dashes only)."))
    digits = "".join(groups)
    if extension is None and _MOBILE.fullmatch(digits):
        return digits
    if international and not digits.startswith("0"):
        digits = "0" + digits  # +86 10 12345678: the trunk 0 is dropped after the country code
        groups[0] = "0" + groups[0]
    # "010-12345678-123": three groups that read as area, number and extension.
    if extension is None and len(groups) == 3:
        area, number, extension = groups
        if _AREA.fullmatch(area) and _LOCAL.fullmatch(number) and len(extension) <= 6:
            return f"{area}-{number}-{extension}"
        extension = None
    if parts := _landline(digits):
        return "-".join((*parts, extension) if extension else parts)
    # "01012345678-123": a whole landline, then the extension.
    if extension is None and len(groups) == 2 and len(groups[1]) <= 6 and (parts := _landline(groups[0])):
        return "-".join((*parts, groups[1]))
    raise FieldValueError(
        _("Not a mainland mobile (11 digits starting 13-19) or landline with area code (such as 010-12345678).")
    )


_EMAIL_BAD = re.compile(r"[\s\x00-\x1f\x7f()<>\[\]\\,;:\"]")


def _parse_email(raw) -> str:
    if not isinstance(raw, str):
        raise FieldValueError(_("Not an email address."))
    text = _short_text(raw)
    local, at, domain = text.rpartition("@")
    labels = domain.split(".")
    if (
        len(text) > 254
        or not at
        or "@" in local
        or not local
        or len(local) > 64
        or _EMAIL_BAD.search(text)
        or len(labels) < 2
        or not all(labels)
        or _BAD_TEXT.search(text)
    ):
        raise FieldValueError(_("Not an email address (name@example.com)."))
    return f"{local}@{domain.lower()}"


# --- the public entry points -------------------------------------------------------------------------


def parse(field_type: str, raw, *, choices: Sequence[str] = ()) -> Value:
    """The canonical value of `raw` for `field_type`, None when empty; FieldValueError says why not."""
    if _is_empty(raw):
        return None
    match field_type:
        case FieldType.TEXT:
            return _parse_text(raw)
        case FieldType.INTEGER:
            return _parse_integer(raw)
        case FieldType.DECIMAL:
            return _parse_decimal(raw)
        case FieldType.DATE:
            return _parse_date(raw)
        case FieldType.DATETIME:
            return _parse_datetime(raw)
        case FieldType.BOOLEAN:
            return _parse_boolean(raw)
        case FieldType.ENUM:
            return _parse_enum(raw, list(choices))
        case FieldType.RESIDENT_ID:
            return _parse_resident_id(raw)
        case FieldType.CREDIT_CODE:
            return _parse_credit_code(raw)
        case FieldType.PHONE:
            return _parse_phone(raw)
        case FieldType.EMAIL:
            return _parse_email(raw)
    raise ValueError(f"unknown field type {field_type!r}")


# Fast paths of `parser`: each takes a str that is not blank and returns what the full parser returns for it.
# They handle the forms an export usually has and hand anything else to the full parser.

_SIMPLE_DECIMAL = re.compile(r"(-?)(\d+)(?:\.(\d+))?", re.ASCII)
_BOOLEAN_WORDS = dict.fromkeys(_TRUE, True) | dict.fromkeys(_FALSE, False)


def _text_fast(raw: str) -> str:
    text = raw.strip()
    if len(text) > MAX_TEXT or _BAD_TEXT.search(text):
        return _parse_text(raw)  # raises
    return text


def _integer_fast(raw: str) -> int:
    if len(raw) <= 18 and raw.isdigit() and raw.isascii():
        return int(raw)  # 18 digits are within 64 bits
    return _parse_integer(raw)


def _decimal_fast(raw: str) -> str:
    match = _SIMPLE_DECIMAL.fullmatch(raw) if len(raw) <= MAX_RAW else None
    if match is None:
        return _parse_decimal(raw)
    sign, whole, fraction = match.groups()
    whole, fraction = whole.lstrip("0"), (fraction or "").rstrip("0")
    if not whole and not fraction:
        return "0"
    if len(whole) + len(fraction) > MAX_DECIMAL_DIGITS:
        return _parse_decimal(raw)  # raises, or counts the digits the way the full parser does
    text = f"{whole or '0'}.{fraction}" if fraction else whole
    return f"-{text}" if sign else text


def _date_fast(raw: str) -> str:
    match = _DATE_RE.fullmatch(raw)
    if match is None:
        return _parse_date(raw)
    try:
        return _date_from_groups(match.groups()).isoformat()
    except ValueError:
        raise FieldValueError(_("There is no such date.")) from None


def _boolean_fast(raw: str) -> bool:
    value = _BOOLEAN_WORDS.get(raw)
    return _parse_boolean(raw) if value is None else value


def _phone_fast(raw: str) -> str:
    return raw if _MOBILE.fullmatch(raw) else _parse_phone(raw)


def _credit_code_fast(raw: str) -> str:
    return _checked_credit_code(raw) if _CREDIT_CODE.fullmatch(raw) else _parse_credit_code(raw)


def _not_after_today() -> Callable[[dt.date], bool]:
    """`birth <= timezone.localdate()`, asking for the date again only for a birth date after the last answer."""
    last = [dt.date.min]

    def check(birth: dt.date) -> bool:
        if birth <= last[0]:
            return True
        last[0] = timezone.localdate()
        return birth <= last[0]

    return check


def _unknown(field_type: str) -> Callable[[object], Value]:
    def fail(raw) -> Value:
        raise ValueError(f"unknown field type {field_type!r}")

    return fail


def parser(field_type: str, *, choices: Sequence[str] = ()) -> Callable[[object], Value]:
    """`parse` for one field, resolved once (an import parses a column with it): `parser(t, choices=c)(raw)`
    returns or raises what `parse(t, raw, choices=c)` does, faster for the forms files usually hold."""
    if field_type == FieldType.RESIDENT_ID:
        today = _not_after_today()

        def fast(raw: str) -> str:
            if _RESIDENT_ID.fullmatch(raw):
                return _checked_resident_id(raw, today)
            return _parse_resident_id(raw, today)

        def full(raw) -> str:
            return _parse_resident_id(raw, today)
    elif field_type == FieldType.ENUM:
        options = list(choices)
        members = frozenset(options)

        def fast(raw: str) -> str:
            text = raw.strip()
            return text if text in members else _parse_enum(raw, options)

        def full(raw) -> str:
            return _parse_enum(raw, options)
    else:
        full = _FULL.get(field_type) or _unknown(field_type)
        fast = _FAST.get(field_type, full)

    def parse_field(raw) -> Value:
        if type(raw) is str:
            return fast(raw) if raw and not raw.isspace() else None
        if _is_empty(raw):
            return None
        return full(raw)

    return parse_field


_FULL: dict[str, Callable[[object], Value]] = {
    FieldType.TEXT: _parse_text,
    FieldType.INTEGER: _parse_integer,
    FieldType.DECIMAL: _parse_decimal,
    FieldType.DATE: _parse_date,
    FieldType.DATETIME: _parse_datetime,
    FieldType.BOOLEAN: _parse_boolean,
    FieldType.CREDIT_CODE: _parse_credit_code,
    FieldType.PHONE: _parse_phone,
    FieldType.EMAIL: _parse_email,
}
_FAST: dict[str, Callable[[str], Value]] = {
    FieldType.TEXT: _text_fast,
    FieldType.INTEGER: _integer_fast,
    FieldType.DECIMAL: _decimal_fast,
    FieldType.DATE: _date_fast,
    FieldType.BOOLEAN: _boolean_fast,
    FieldType.CREDIT_CODE: _credit_code_fast,
    FieldType.PHONE: _phone_fast,
}


def index_text(field_type: str, value: Value) -> str:
    """The canonical text of a parsed value, for keys and the blind index ("" for None).

    `parse(field_type, index_text(field_type, v))` gives `v` back for every parsed value `v`."""
    if value is None:
        return ""
    if field_type == FieldType.BOOLEAN:
        if not isinstance(value, bool):
            raise TypeError(f"a boolean field holds True or False, not {value!r}")
        return "true" if value else "false"
    if field_type == FieldType.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"an integer field holds an int, not {value!r}")
        return str(value)
    if not isinstance(value, str):
        raise TypeError(f"a {field_type} field holds text, not {value!r}")
    if field_type in (FieldType.RESIDENT_ID, FieldType.CREDIT_CODE):
        return value.upper()
    return value


# --- generators for tests and demo data --------------------------------------------------------------


def make_resident_id(rng: random.Random, region: str = "110105", birth: dt.date | None = None) -> str:
    """A valid resident ID number for `region` (six digits) and `birth` (random in 1940-2005 when None)."""
    if birth is None:
        start = dt.date(1940, 1, 1)
        birth = start + dt.timedelta(days=rng.randrange((dt.date(2005, 12, 31) - start).days + 1))
    first17 = f"{region}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + resident_id_check(first17)


_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def make_credit_code(rng: random.Random) -> str:
    """A valid unified social credit code; its organization-code part also passes the GB 11714 check."""
    body = "".join(rng.choice(_CREDIT_CHARS) for _ in range(8))
    org_check = 11 - sum(int(c, 36) * w for c, w in zip(body, _ORG_CODE_WEIGHTS, strict=True)) % 11
    org_code = body + {10: "X", 11: "0"}.get(org_check, str(org_check))
    region = rng.choice(("110105", "310115", "440305", "330106", "510107"))
    first17 = rng.choice("159") + rng.choice("123") + region + org_code
    return first17 + credit_code_check(first17)
