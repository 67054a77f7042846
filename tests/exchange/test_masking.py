"""Masking rules: what a reader sees of each type, and that partial masking never gives the value away."""

from __future__ import annotations

import hashlib
import hmac
import random

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from sharehub.exchange.masking import MaskRule, mask
from sharehub.exchange.types import FieldType, make_credit_code, make_resident_id, parse

KEY = b"test key, not a secret"


def hasher(text: str) -> str:
    return hmac.new(KEY, text.encode(), hashlib.sha256).hexdigest()


def partial(field_type: str, value):
    return mask(MaskRule.PARTIAL, field_type, value, hasher=hasher)


def test_labels_are_translated():
    with translation.override("zh-hans"):
        assert [str(label) for label in MaskRule.labels] == ["不脱敏", "部分遮盖", "哈希", "隐藏"]


@pytest.mark.parametrize("field_type", FieldType.values)
@pytest.mark.parametrize("rule", MaskRule.values)
def test_none_stays_none(rule, field_type):
    assert mask(rule, field_type, None, hasher=hasher) is None


def test_none_rule_and_hidden_rule():
    assert mask(MaskRule.NONE, FieldType.INTEGER, 42, hasher=hasher) == 42
    assert mask(MaskRule.NONE, FieldType.BOOLEAN, False, hasher=hasher) is False
    assert mask(MaskRule.HIDDEN, FieldType.TEXT, "张三", hasher=hasher) is None
    assert mask(MaskRule.HIDDEN, FieldType.BOOLEAN, False, hasher=hasher) is None


def test_hash_uses_the_callers_keyed_hasher_on_the_index_text():
    lower = parse(FieldType.RESIDENT_ID, "11010519491231002x")
    hashed = mask(MaskRule.HASH, FieldType.RESIDENT_ID, lower, hasher=hasher)
    assert hashed == hasher("11010519491231002X")
    assert hashed == mask(MaskRule.HASH, FieldType.RESIDENT_ID, "11010519491231002X", hasher=hasher)
    assert mask(MaskRule.HASH, FieldType.BOOLEAN, True, hasher=hasher) == hasher("true")
    assert mask(MaskRule.HASH, FieldType.INTEGER, 7, hasher=hasher) == hasher("7")
    seen = []
    mask(MaskRule.HASH, FieldType.PHONE, "13812345678", hasher=seen.append)
    assert seen == ["13812345678"]


@pytest.mark.parametrize(
    ("field_type", "value", "expected"),
    [
        (FieldType.RESIDENT_ID, "11010519491231002X", "110105********002X"),
        (FieldType.CREDIT_CODE, "91350100M000100Y43", "91**************43"),
        (FieldType.PHONE, "13812345678", "138****5678"),
        (FieldType.PHONE, "010-12345678", "010-******78"),
        (FieldType.PHONE, "0571-8888888-123", "0571-*****88"),
        (FieldType.EMAIL, "zhang@example.com", "z***@example.com"),
        (FieldType.TEXT, "张三", "张*"),
        (FieldType.TEXT, "张三丰", "张**"),
        (FieldType.TEXT, "欧阳娜娜", "欧***"),
        (FieldType.TEXT, "爱新觉罗·溥仪", "爱***"),
        (FieldType.TEXT, "张", "*"),
        (FieldType.TEXT, "John Smith", "J***"),
        (FieldType.TEXT, "J", "J***"),
        (FieldType.DATE, "1985-03-12", "1985-**-**"),
        (FieldType.DATETIME, "1985-03-12T08:30:00Z", "1985-**-**T**:**:**Z"),
    ],
)
def test_partial(field_type, value, expected):
    assert partial(field_type, value) == expected


@pytest.mark.parametrize(
    ("field_type", "value"),
    [
        (FieldType.INTEGER, 123456),
        (FieldType.DECIMAL, "8500.50"),
        (FieldType.BOOLEAN, True),
        (FieldType.ENUM, "在营"),
    ],
)
def test_partial_of_numbers_flags_and_choices_is_hidden(field_type, value):
    assert partial(field_type, value) is None


@pytest.mark.parametrize(
    ("field_type", "value"),
    [
        (FieldType.RESIDENT_ID, "110105"),
        (FieldType.CREDIT_CODE, "91350100"),
        (FieldType.PHONE, "12345"),
        (FieldType.EMAIL, "nobody"),
        (FieldType.DATE, "1985"),
    ],
)
def test_partial_of_a_value_not_in_canonical_shape_gives_nothing_away(field_type, value):
    assert partial(field_type, value) == "******"


def test_unknown_rule_or_type_fails_closed():
    assert mask("reveal", FieldType.TEXT, "张三", hasher=hasher) is None
    assert mask(MaskRule.PARTIAL, "colour", "red", hasher=hasher) is None


seeds = st.integers(min_value=0, max_value=2**32)
mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
landlines = st.from_regex(r"(0(10|2[0-9])-[1-9][0-9]{7}|0[3-9][0-9]{2}-[1-9][0-9]{6,7})(-[0-9]{1,6})?", fullmatch=True)


def other_digits(rng: random.Random, text: str) -> str:
    return "".join(rng.choice("0123456789") for _ in text)


# "Never contains the middle digits" as a property: the masked output is the same whatever the middle holds,
# so nothing of it can be read back (a substring check would be wrong: 13000000000 keeps "0000" at its ends).


@given(seeds, seeds)
def test_partial_resident_id_does_not_depend_on_the_birth_date_and_sequence(seed, other):
    number = make_resident_id(random.Random(seed))
    masked = partial(FieldType.RESIDENT_ID, number)
    assert masked == number[:6] + "********" + number[-4:]
    twin = number[:6] + other_digits(random.Random(other), number[6:14]) + number[14:]
    assert partial(FieldType.RESIDENT_ID, twin) == masked


@given(seeds, seeds)
def test_partial_credit_code_does_not_depend_on_the_middle(seed, other):
    code = make_credit_code(random.Random(seed))
    masked = partial(FieldType.CREDIT_CODE, code)
    assert masked == code[:2] + "*" * 14 + code[-2:]
    twin = code[:2] + other_digits(random.Random(other), code[2:16]) + code[16:]
    assert partial(FieldType.CREDIT_CODE, twin) == masked


@given(mobiles, seeds)
def test_partial_mobile_does_not_depend_on_the_middle_four(number, other):
    value = parse(FieldType.PHONE, number)
    masked = partial(FieldType.PHONE, value)
    assert masked == value[:3] + "****" + value[-4:]
    twin = value[:3] + other_digits(random.Random(other), value[3:7]) + value[7:]
    assert partial(FieldType.PHONE, twin) == masked


@given(landlines, seeds)
def test_partial_landline_keeps_only_area_and_last_two(number, other):
    value = parse(FieldType.PHONE, number)
    area, local = value.split("-")[:2]
    masked = partial(FieldType.PHONE, value)
    assert masked == f"{area}-{'*' * (len(local) - 2)}{local[-2:]}"
    twin = f"{area}-{local[0]}{other_digits(random.Random(other), local[1:-2])}{local[-2:]}-99"
    assert partial(FieldType.PHONE, twin) == masked


@given(st.sampled_from([FieldType.RESIDENT_ID, FieldType.CREDIT_CODE, FieldType.PHONE]), seeds, mobiles)
def test_partial_never_returns_the_full_value(field_type, seed, mobile):
    rng = random.Random(seed)
    value = {
        FieldType.RESIDENT_ID: make_resident_id(rng),
        FieldType.CREDIT_CODE: make_credit_code(rng),
        FieldType.PHONE: mobile,
    }[field_type]
    masked = partial(field_type, value)
    assert masked != value
    assert "*" in masked
    assert masked.count("*") >= 4 and len(masked) == len(value)


@given(st.text(min_size=1, max_size=40).map(str.strip).filter(bool))
def test_partial_text_keeps_at_most_the_first_character(name):
    masked = partial(FieldType.TEXT, name)
    assert masked == "*" or (masked[0] == name[0] and set(masked[1:]) == {"*"})
    assert masked != name or name in ("*", "**", "***", "****")
