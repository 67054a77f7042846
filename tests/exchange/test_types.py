"""Field types: what each accepts, its one canonical form, and the reason it gives when it refuses."""

from __future__ import annotations

import datetime as dt
import random
import time
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from hypothesis import assume, example, given
from hypothesis import strategies as st

from sharehub.exchange.types import (
    FieldType,
    FieldValueError,
    credit_code_check,
    index_text,
    make_credit_code,
    make_resident_id,
    parse,
    resident_id_check,
)

# The examples printed in the standards themselves.
GB11643_EXAMPLE = "11010519491231002X"
GB32100_EXAMPLE = "91350100M000100Y43"


def reason(field_type: str, raw, **kwargs) -> str:
    with pytest.raises(FieldValueError) as caught:
        parse(field_type, raw, **kwargs)
    return str(caught.value.reason)


def test_labels_are_translated():
    with translation.override("zh-hans"):
        assert str(FieldType.RESIDENT_ID.label) == "居民身份证号"
        assert str(FieldType.CREDIT_CODE.label) == "统一社会信用代码"
        assert str(FieldType.TEXT.label) == "文本"
    with translation.override("en"):
        assert str(FieldType.BOOLEAN.label) == "yes/no"


def test_reasons_follow_the_language_active_when_shown():
    with translation.override("en"), pytest.raises(FieldValueError) as caught:
        parse(FieldType.RESIDENT_ID, "110105194912310021")
    with translation.override("zh-hans"):
        assert str(caught.value) == "校验码应为 X。"
    with translation.override("en"):
        assert str(caught.value) == "The check character should be X."


@pytest.mark.parametrize("field_type", FieldType.values)
@pytest.mark.parametrize("raw", [None, "", "   ", "\t\n", "\u3000"])
def test_empty_is_none_for_every_type(field_type, raw):
    assert parse(field_type, raw, choices=["a"]) is None


def test_unknown_type_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown field type"):
        parse("colour", "red")


# --- text ---


def test_text_is_stripped_and_keeps_what_people_write():
    assert parse(FieldType.TEXT, "  张三 ") == "张三"
    assert parse(FieldType.TEXT, "café 😀 Ω") == "café 😀 Ω"
    assert parse(FieldType.TEXT, "１２３") == "１２３"  # text is kept as written: no width folding
    assert parse(FieldType.TEXT, "x" * 10_000) == "x" * 10_000


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (42, "42"),
        (2.5, "2.5"),
        (Decimal("3.10"), "3.1"),
        (True, "true"),
        (dt.date(2024, 1, 5), "2024-01-05"),
        (dt.datetime(2024, 1, 5, 8, 30), "2024-01-05T08:30:00"),
    ],
)
def test_text_from_spreadsheet_cells(raw, expected):
    assert parse(FieldType.TEXT, raw) == expected


def test_text_refuses_nul_surrogates_and_huge_input():
    assert "NUL" in reason(FieldType.TEXT, "a\x00b")
    assert "NUL" in reason(FieldType.TEXT, "a\ud800b")
    assert "10000" in reason(FieldType.TEXT, "x" * 10_001)
    started = time.monotonic()
    assert "10000" in reason(FieldType.TEXT, "长" * 1_000_000)
    assert time.monotonic() - started < 1
    assert reason(FieldType.TEXT, object())


@pytest.mark.parametrize("field_type", [t for t in FieldType.values if t != FieldType.TEXT])
def test_a_megabyte_is_refused_quickly_for_every_other_type(field_type):
    started = time.monotonic()
    for raw in ("1" * 1_000_000, "1," * 500_000, " " + "9" * 999_998 + "x"):
        reason(field_type, raw, choices=["a"])
    assert time.monotonic() - started < 1


# --- integer ---


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("42", 42),
        (" -7 ", -7),
        ("+3", 3),
        ("1,234", 1234),
        ("-1,234,567", -1234567),
        ("12.00", 12),
        ("１２３", 123),
        ("0", 0),
        (str(2**63 - 1), 2**63 - 1),
        (str(-(2**63)), -(2**63)),
        (5, 5),
        (5.0, 5),
        (Decimal("7.000"), 7),
        (2**63 - 1, 2**63 - 1),
    ],
)
def test_integer_accepts(raw, expected):
    value = parse(FieldType.INTEGER, raw)
    assert value == expected
    assert type(value) is int


@pytest.mark.parametrize(
    "raw",
    ["12.5", "1,23", "12,3456", "1e3", "0x10", "abc", "١٢", "²", "1 234", "12.", True, False, 3.5, float("nan"),
     float("inf"), Decimal("NaN"), Decimal("Infinity"), Decimal("1.5"), dt.date(2024, 1, 1), [1]],
)  # fmt: skip
def test_integer_refuses(raw):
    assert reason(FieldType.INTEGER, raw)


@pytest.mark.parametrize("raw", [str(2**63), str(-(2**63) - 1), 2**63, "9" * 20, Decimal("1E+999999999")])
def test_integer_out_of_range(raw):
    assert reason(FieldType.INTEGER, raw) == "The number is too large."


def test_integer_float_cell_too_large_to_be_exact():
    assert "format the column as text" in reason(FieldType.INTEGER, float(2**60))


# --- decimal ---


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.5", "12.5"),
        ("12.50", "12.5"),
        ("100", "100"),
        ("100.000", "100"),
        ("-0.03", "-0.03"),
        (".5", "0.5"),
        ("-0", "0"),
        ("0.000", "0"),
        ("1,234.5", "1234.5"),
        ("１２.５", "12.5"),
        (3, "3"),
        (0.1 + 0.2, "0.3"),
        (1e20, "100000000000000000000"),
        (Decimal("1E+5"), "100000"),
        (Decimal("1.50E-3"), "0.0015"),
        ("1" * 30, "1" * 30),
        ("0." + "1" * 30, "0." + "1" * 30),
        ("1234567890123456789.0123456789", "1234567890123456789.0123456789"),  # beyond Decimal's 28 digits
    ],
)
def test_decimal_canonical_form(raw, expected):
    assert parse(FieldType.DECIMAL, raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["NaN", "nan", "Infinity", "-inf", "1e5", "1.2.3", "12%", "abc", "", float("nan"), float("inf"),
     Decimal("NaN"), Decimal("-Infinity"), True, "1" * 31, "0." + "0" * 30 + "1", Decimal("1E+40")],
)  # fmt: skip
def test_decimal_refuses(raw):
    if raw == "":
        assert parse(FieldType.DECIMAL, raw) is None
    else:
        assert reason(FieldType.DECIMAL, raw)


# --- date and datetime ---


@pytest.mark.parametrize(
    "raw",
    ["2024-01-05", "2024/1/5", "2024/01/05", "2024.1.5", "2024年1月5日", "2024年01月05日", "20240105", 20240105,
     "２０２４－０１－０５", dt.date(2024, 1, 5), dt.datetime(2024, 1, 5)],
)  # fmt: skip
def test_date_forms(raw):
    assert parse(FieldType.DATE, raw) == "2024-01-05"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("2024-02-30", "There is no such date."),
        ("2023-02-29", "There is no such date."),
        ("2024-13-01", "There is no such date."),
        ("2024-1/5", "Not a date (YYYY-MM-DD)."),
        ("05/01/2024", "Not a date (YYYY-MM-DD)."),
        ("yesterday", "Not a date (YYYY-MM-DD)."),
        (45296, "Not a date (YYYY-MM-DD)."),
        (45296.0, "Not a date (YYYY-MM-DD)."),
        (dt.datetime(2024, 1, 5, 8, 30), "This is a date and time; the field holds a date only."),
    ],
)
def test_date_refuses(raw, why):
    assert reason(FieldType.DATE, raw) == why


def test_date_leap_day():
    assert parse(FieldType.DATE, "2024-02-29") == "2024-02-29"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-01-05 08:30", "2024-01-05T00:30:00Z"),  # naive: the TIME_ZONE setting, Asia/Shanghai
        ("2024-01-05T08:30:15", "2024-01-05T00:30:15Z"),
        ("2024-01-05T08:30:15.250+08:00", "2024-01-05T00:30:15.250000Z"),
        ("2024-01-05T00:30:15Z", "2024-01-05T00:30:15Z"),
        ("2024-01-05t00:30:15z", "2024-01-05T00:30:15Z"),
        ("2024-01-04T19:30:00-0500", "2024-01-05T00:30:00Z"),
        ("2024/1/5 8:30", "2024-01-05T00:30:00Z"),
        ("2024年1月5日 8:30", "2024-01-05T00:30:00Z"),
        ("2024-01-05T00:30:15.1234567Z", "2024-01-05T00:30:15.123456Z"),
        (dt.datetime(2024, 1, 5, 8, 30), "2024-01-05T00:30:00Z"),
        (dt.datetime(2024, 1, 5, 8, 30, tzinfo=dt.UTC), "2024-01-05T08:30:00Z"),
    ],
)
def test_datetime_to_utc(raw, expected):
    assert parse(FieldType.DATETIME, raw) == expected


def test_naive_datetime_follows_the_setting_not_the_active_zone(settings):
    with timezone.override("America/New_York"):
        assert parse(FieldType.DATETIME, "2024-01-05 08:30") == "2024-01-05T00:30:00Z"
    settings.TIME_ZONE = "UTC"
    assert parse(FieldType.DATETIME, "2024-01-05 08:30") == "2024-01-05T08:30:00Z"


@pytest.mark.parametrize(
    "raw",
    ["2024-01-05", "2024-01-05 25:00", "2024-01-05 08:60", "2024-02-30 08:00", "2024-01-05T08:30+25:00",
     "0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00", "now", dt.date(2024, 1, 5), 45296.5],
)  # fmt: skip
def test_datetime_refuses(raw):
    assert reason(FieldType.DATETIME, raw)


# --- boolean and enum ---


@pytest.mark.parametrize("raw", ["true", "TRUE", "True", "1", "yes", "Y", "y", "是", "ｙｅｓ", True, 1, 1.0])
def test_boolean_true(raw):
    assert parse(FieldType.BOOLEAN, raw) is True


@pytest.mark.parametrize("raw", ["false", "FALSE", "0", "no", "N", "n", "否", False, 0, 0.0])
def test_boolean_false(raw):
    assert parse(FieldType.BOOLEAN, raw) is False


@pytest.mark.parametrize("raw", ["2", "maybe", "对", "t", 2, 0.5, dt.date(2024, 1, 1)])
def test_boolean_refuses(raw):
    assert reason(FieldType.BOOLEAN, raw).startswith("Not yes or no")


def test_enum():
    choices = ["在营", "注销", "吊销"]
    assert parse(FieldType.ENUM, " 注销 ", choices=choices) == "注销"
    assert reason(FieldType.ENUM, "撤销", choices=choices) == "Not one of: 在营, 注销, 吊销."
    assert reason(FieldType.ENUM, "a", choices=["A"]) == "Not one of: A."  # exact, case included
    assert reason(FieldType.ENUM, "a") == "Not one of: ."
    many = [f"c{i}" for i in range(30)]
    assert reason(FieldType.ENUM, "x", choices=many).endswith("c9, ….")
    assert parse(FieldType.ENUM, 2, choices=("1", "2")) == "2"


# --- resident ID ---


def test_resident_id_standard_example():
    assert parse(FieldType.RESIDENT_ID, GB11643_EXAMPLE) == GB11643_EXAMPLE
    assert resident_id_check(GB11643_EXAMPLE[:17]) == "X"


@pytest.mark.parametrize(
    "raw",
    ["11010519491231002x", " 11010519491231002X ", "110105 19491231 002X", "１１０１０５１９４９１２３１００２ｘ"],
)
def test_resident_id_normalized(raw):
    assert parse(FieldType.RESIDENT_ID, raw) == GB11643_EXAMPLE


def test_resident_id_number_cells():
    first17 = "44030619900101123"
    digits_only = first17 + resident_id_check(first17)
    assert digits_only.isdigit()
    assert parse(FieldType.RESIDENT_ID, int(digits_only)) == digits_only
    assert "format the column as text" in reason(FieldType.RESIDENT_ID, float(digits_only))


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("110105194912310021", "The check character should be X."),
        ("11010519491231002", "Not a resident ID number (18 characters: 17 digits and a digit or X)."),
        ("11010519491231002XX", "Not a resident ID number (18 characters: 17 digits and a digit or X)."),
        ("X10105194912310021", "Not a resident ID number (18 characters: 17 digits and a digit or X)."),
        ("1101051949123100X2", "Not a resident ID number (18 characters: 17 digits and a digit or X)."),
        ("110105-19491231-002X", "Not a resident ID number (18 characters: 17 digits and a digit or X)."),
        ("11010519491231002Y", "Not a resident ID number (18 characters: 17 digits and a digit or X)."),
        ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "Not a resident ID number (18 characters: 17 digits and a digit or X)."),
        ("110105150001010021", "The birth date (digits 7 to 14) is in the future or too long ago."),
        ("990105194912310021", "The first two digits are not a province code."),
    ],
)
def test_resident_id_refuses(raw, why):
    assert reason(FieldType.RESIDENT_ID, raw) == why


def test_resident_id_birth_date_must_be_real_and_past():
    rng = random.Random(1)
    feb30 = "11010519490230001"
    assert (
        reason(FieldType.RESIDENT_ID, feb30 + resident_id_check(feb30)) == "Digits 7 to 14 are not a real birth date."
    )
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    future = make_resident_id(rng, birth=tomorrow)
    assert "future" in reason(FieldType.RESIDENT_ID, future)
    today = make_resident_id(rng, birth=timezone.localdate())
    assert parse(FieldType.RESIDENT_ID, today) == today
    ancient = make_resident_id(rng, birth=dt.date(1800, 1, 1))
    assert "too long ago" in reason(FieldType.RESIDENT_ID, ancient)


def test_resident_id_wrong_check_names_the_right_one():
    first17 = "44030619900101123"
    right = resident_id_check(first17)
    for wrong in "0123456789X":
        if wrong != right:
            assert reason(FieldType.RESIDENT_ID, first17 + wrong) == f"The check character should be {right}."


# --- credit code ---


def test_credit_code_standard_example():
    assert parse(FieldType.CREDIT_CODE, GB32100_EXAMPLE) == GB32100_EXAMPLE
    assert parse(FieldType.CREDIT_CODE, " 91350100m000100y43 ") == GB32100_EXAMPLE
    assert parse(FieldType.CREDIT_CODE, "９１３５０１００Ｍ０００１００Ｙ４３") == GB32100_EXAMPLE
    assert credit_code_check(GB32100_EXAMPLE[:17]) == "3"


@pytest.mark.parametrize("letter", "IOSVZ")
def test_credit_code_refuses_letters_outside_the_charset(letter):
    code = GB32100_EXAMPLE[:8] + letter + GB32100_EXAMPLE[9:]
    assert reason(FieldType.CREDIT_CODE, code).startswith("Not a unified social credit code")


@pytest.mark.parametrize(
    "raw",
    ["91350100M000100Y4", "91350100M000100Y433", "9135010AM000100Y43", "91350100M000100Y4-", "913501 00M000100Y4"],
)
def test_credit_code_refuses_shapes(raw):
    assert reason(FieldType.CREDIT_CODE, raw).startswith("Not a unified social credit code")


def test_credit_code_wrong_check_names_the_right_one():
    assert reason(FieldType.CREDIT_CODE, "91350100M000100Y42") == "The check character should be 3."


def test_credit_code_check_character_can_be_a_letter_and_zero():
    """The check is 31 - sum mod 31, with 31 written as 0; a remainder that is not zero gives a letter."""
    rng = random.Random(7)
    checks = {make_credit_code(rng)[-1] for _ in range(2000)}
    assert "0" in checks
    assert checks & set("ABCDEFGHJKLMNPQRTUWXY")


# --- phone ---


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        (13812345678, "13812345678"),
        (13812345678.0, "13812345678"),
        ("19912345678", "19912345678"),
        ("010-12345678", "010-12345678"),
        ("01012345678", "010-12345678"),
        ("(010) 6552 9988", "010-65529988"),
        ("+86 10 6552 9988", "010-65529988"),
        ("+86-010-65529988", "010-65529988"),
        ("0571-8888888", "0571-8888888"),
        ("0571 88888888", "0571-88888888"),
        ("020-87654321", "020-87654321"),
        ("010-12345678-123", "010-12345678-123"),
        ("010-12345678 转 123", "010-12345678-123"),
        ("010-12345678 ext. 45", "010-12345678-45"),
        ("(0571)8888888#9", "0571-8888888-9"),
        ("0571-8888888-1", "0571-8888888-1"),
        ("０５７１－８８８８８８８", "0571-8888888"),
    ],
)
def test_phone_canonical_form(raw, expected):
    assert parse(FieldType.PHONE, raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["12345678901", "1381234567", "138123456789", "12345678", "010-1234", "011-12345678", "0571-0888888",
     "400-123-4567", "95588", "+1 415 555 0100", "138.1234.5678", "call me", "1381234567８x", "١٣٨١٢٣٤٥٦٧٨",
     1381234567.5, True],
)  # fmt: skip
def test_phone_refuses(raw):
    assert reason(FieldType.PHONE, raw)


# --- email ---


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("zhang@example.com", "zhang@example.com"),
        (" Zhang.San@Example.COM ", "Zhang.San@example.com"),
        ("zhang＠example．com", "zhang@example.com"),
        ("a+tag@mail.gov.cn", "a+tag@mail.gov.cn"),
        ("张三@例子.中国", "张三@例子.中国"),
    ],
)
def test_email_canonical_form(raw, expected):
    assert parse(FieldType.EMAIL, raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["zhang", "zhang@", "@example.com", "zhang@example", "a@b@example.com", "zhang san@example.com",
     "zhang@exa mple.com", "zhang@example..com", "zhang@.example.com", "<zhang@example.com>", "zh\x00@example.com",
     "x" * 65 + "@example.com", "x@" + "a" * 250 + ".com", 42],
)  # fmt: skip
def test_email_refuses(raw):
    assert reason(FieldType.EMAIL, raw)


# --- index_text ---


def test_index_text_is_the_same_for_spellings_of_one_value():
    lower = parse(FieldType.RESIDENT_ID, "11010519491231002x")
    upper = parse(FieldType.RESIDENT_ID, "11010519491231002X")
    assert index_text(FieldType.RESIDENT_ID, lower) == index_text(FieldType.RESIDENT_ID, upper) == GB11643_EXAMPLE
    assert index_text(FieldType.RESIDENT_ID, "11010519491231002x") == GB11643_EXAMPLE
    assert index_text(FieldType.PHONE, parse(FieldType.PHONE, "+86 138-1234-5678")) == "13812345678"
    assert index_text(FieldType.BOOLEAN, parse(FieldType.BOOLEAN, "是")) == "true"
    assert index_text(FieldType.INTEGER, parse(FieldType.INTEGER, "1,234")) == "1234"
    assert index_text(FieldType.TEXT, None) == ""


@pytest.mark.parametrize(
    ("field_type", "value"),
    [(FieldType.BOOLEAN, 1), (FieldType.INTEGER, True), (FieldType.INTEGER, "1"), (FieldType.DATE, 20240105)],
)
def test_index_text_refuses_values_that_were_not_parsed(field_type, value):
    with pytest.raises(TypeError):
        index_text(field_type, value)


# --- properties ---

seeds = st.integers(min_value=0, max_value=2**32)
births = st.dates(min_value=dt.date(1850, 1, 1), max_value=dt.date.today() - dt.timedelta(days=2))
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@given(seeds, births, st.sampled_from(["110105", "310115", "440305", "650102", "810000"]))
def test_generated_resident_ids_parse(seed, birth, region):
    number = make_resident_id(random.Random(seed), region=region, birth=birth)
    assert parse(FieldType.RESIDENT_ID, number) == number
    assert parse(FieldType.RESIDENT_ID, number.lower()) == number


@given(seeds)
def test_generated_credit_codes_parse(seed):
    code = make_credit_code(random.Random(seed))
    assert parse(FieldType.CREDIT_CODE, code) == code


@given(seeds, st.integers(0, 17), st.sampled_from(ALNUM))
@example(0, 17, "X")
def test_any_one_character_changed_in_a_resident_id_is_refused(seed, position, replacement):
    """MOD 11-2 weights are never 0 mod 11 and 11 is prime, so every single substitution changes the check;
    a lower-case x for X is the same number, not a change."""
    number = make_resident_id(random.Random(seed))
    assume(replacement != number[position])
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(FieldValueError):
        parse(FieldType.RESIDENT_ID, changed)


@given(seeds, st.integers(0, 17), st.sampled_from(ALNUM))
def test_any_one_character_changed_in_a_credit_code_is_refused(seed, position, replacement):
    """MOD 31 weights (powers of 3) are never 0 mod 31 and 31 is prime: every substitution within the
    31-character set changes the check, and one outside it is refused by shape."""
    code = make_credit_code(random.Random(seed))
    assume(replacement != code[position])
    changed = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(FieldValueError):
        parse(FieldType.CREDIT_CODE, changed)


def test_every_one_character_change_of_the_standard_examples_is_refused():
    for example_value, field_type in (
        (GB11643_EXAMPLE, FieldType.RESIDENT_ID),
        (GB32100_EXAMPLE, FieldType.CREDIT_CODE),
    ):
        for position in range(18):
            for replacement in ALNUM:
                if replacement != example_value[position]:
                    changed = example_value[:position] + replacement + example_value[position + 1 :]
                    with pytest.raises(FieldValueError):
                        parse(field_type, changed)


_aware = st.datetimes(min_value=dt.datetime(1000, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=st.just(dt.UTC))
SAMPLES = {
    FieldType.TEXT: st.text(max_size=50),
    FieldType.INTEGER: st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(-(10**20), 10**20).map(str)),
    FieldType.DECIMAL: st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-(10**20), max_value=10**20),
        st.floats(allow_nan=False, allow_infinity=False),
        st.from_regex(r"-?[0-9]{1,20}(\.[0-9]{0,10})?", fullmatch=True),
    ),
    FieldType.DATE: st.one_of(
        st.dates(min_value=dt.date(1000, 1, 1)),
        st.dates(min_value=dt.date(1000, 1, 1)).map(lambda d: f"{d.year}/{d.month}/{d.day}"),
        st.dates(min_value=dt.date(1000, 1, 1)).map(lambda d: f"{d.year}年{d.month}月{d.day}日"),
    ),
    FieldType.DATETIME: st.one_of(
        _aware, _aware.map(lambda d: d.isoformat()), _aware.map(lambda d: f"{d:%Y/%m/%d %H:%M}")
    ),
    FieldType.BOOLEAN: st.sampled_from(["true", "False", "1", "0", "yes", "NO", "Y", "n", "是", "否", True, 0]),
    FieldType.RESIDENT_ID: seeds.map(lambda s: make_resident_id(random.Random(s)).lower()),
    FieldType.CREDIT_CODE: seeds.map(lambda s: make_credit_code(random.Random(s)).lower()),
    FieldType.PHONE: st.one_of(
        st.from_regex(r"(\+86 ?)?1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4}", fullmatch=True),
        st.from_regex(
            r"(0(10|2[0-9])-?[1-9][0-9]{7}|0[3-9][0-9]{2}-?[1-9][0-9]{6,7})(-[0-9]{1,6}| 转[0-9]{1,6})?", fullmatch=True
        ),
    ),
    FieldType.EMAIL: st.emails(),
}


@pytest.mark.parametrize("field_type", [t for t in FieldType.values if t != FieldType.ENUM])
@given(data=st.data())
def test_parse_of_index_text_gives_the_value_back(field_type, data):
    raw = data.draw(SAMPLES[field_type])
    try:
        value = parse(field_type, raw)
    except FieldValueError:
        return
    assert parse(field_type, index_text(field_type, value)) == value
    assert parse(field_type, value) == value  # a canonical value is its own canonical form


@given(st.text(max_size=20), st.lists(st.text(max_size=5), max_size=4))
def test_enum_round_trip(raw, choices):
    try:
        value = parse(FieldType.ENUM, raw, choices=choices)
    except FieldValueError:
        return
    assert value is None or parse(FieldType.ENUM, index_text(FieldType.ENUM, value), choices=choices) == value


anything = st.one_of(
    st.none(),
    st.text(),
    st.text(alphabet="0123456789０１２３-+., /年月日:TZxX@()", max_size=30),
    st.integers(),
    st.floats(),
    st.decimals(),
    st.booleans(),
    st.dates(),
    st.datetimes(),
)


@pytest.mark.parametrize("field_type", FieldType.values)
@given(raw=anything)
def test_any_input_gives_a_value_or_a_reason(field_type, raw):
    """Hostile or odd input never escapes as another exception; a refusal always has a reason."""
    try:
        value = parse(field_type, raw, choices=["a", "b"])
    except FieldValueError as error:
        assert str(error.reason)
        return
    assert value is None or isinstance(value, str | int | bool)
    if value is not None:
        assert parse(field_type, index_text(field_type, value), choices=["a", "b"]) == value
