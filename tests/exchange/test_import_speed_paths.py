"""The shortcuts the import takes (bench/exchange: the import was 1.5% of a bare executemany): a parser per
column with fast paths for the usual forms, keyed functions made once per codec, and records, digests and
changes written with one statement per table and batch. Each must give exactly what the plain path gives:
the same values and reasons, the same digests and tokens, the same rows in the database."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import random
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sharehub.exchange import crypto, services
from sharehub.exchange.models import BlindIndex, Change, Record
from sharehub.exchange.types import (
    FieldType,
    FieldValueError,
    index_text,
    make_credit_code,
    make_resident_id,
    parse,
    parser,
)

from .conftest import ROWS
from .test_types import anything

CHOICES = ["鼓楼区", "台江区", "a", " b"]


def outcome(call):
    try:
        return "value", call()
    except FieldValueError as error:
        return "refused", str(error.reason)
    except Exception as error:  # the kind of failure must match too
        return "error", type(error).__name__


seeds = st.integers(min_value=0, max_value=2**32)
typical = st.one_of(
    st.text(alphabet="0123456789", max_size=25),
    st.text(alphabet="0123456789-.,+ ", max_size=25),
    st.from_regex(r"-?0*[0-9]{0,20}(\.[0-9]{0,20}0*)?", fullmatch=True),
    st.text(alphabet="0123456789０１２３-/.年月日 \u3000XxZ:T+@()转", max_size=25),
    st.dates(min_value=dt.date(1000, 1, 1)).map(str),
    st.dates(min_value=dt.date(1000, 1, 1)).map(lambda d: f"{d.year}/{d.month}/{d.day}"),
    st.from_regex(r"1[0-9]{10}", fullmatch=True),
    st.from_regex(r"[+0]?86 ?1[3-9][0-9]{9}", fullmatch=True),
    seeds.map(lambda s: make_resident_id(random.Random(s))),
    seeds.map(lambda s: make_resident_id(random.Random(s), birth=dt.date(2099, 1, 1))),
    seeds.map(lambda s: make_resident_id(random.Random(s))[:17] + random.Random(s).choice("0123456789Xx")),
    seeds.map(lambda s: make_credit_code(random.Random(s))),
    seeds.map(lambda s: make_credit_code(random.Random(s)).lower()),
    st.sampled_from(["true", "True", "是", "否", "0", "1", "y", " yes", "鼓楼区", " 台江区 ", "b", " b", "1,234"]),
    anything,
)


@pytest.mark.parametrize("field_type", FieldType.values)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=typical)
@example(raw="0" * 1001 + "1")
@example(raw="1" * 31)
@example(raw="0." + "0" * 29 + "1")
@example(raw="-0.000")
@example(raw="1" * 19)
@example(raw="9" * 18)
@example(raw="110105194912310021")
@example(raw="11010519491231002X")
def test_a_columns_parser_gives_what_parse_gives(field_type, raw):
    assert outcome(lambda: parser(field_type, choices=CHOICES)(raw)) == outcome(
        lambda: parse(field_type, raw, choices=CHOICES)
    )


def test_an_unknown_type_fails_like_parse_does():
    parse_field = parser("no-such-type")
    assert parse_field("  ") is None and parse("no-such-type", "  ") is None
    with pytest.raises(ValueError, match="unknown field type"):
        parse_field("x")


def test_a_resident_id_born_after_the_first_answer_asks_for_the_date_again(monkeypatch):
    from sharehub.exchange import types

    today = [dt.date(2000, 1, 1)]
    monkeypatch.setattr(types.timezone, "localdate", lambda: today[0])
    parse_field = parser(FieldType.RESIDENT_ID)
    born = make_resident_id(random.Random(1), birth=dt.date(2000, 6, 1))
    with pytest.raises(FieldValueError, match="future"):
        parse_field(born)
    today[0] = dt.date(2001, 1, 1)  # a long import: midnight passed
    assert parse_field(born) == born


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=texts.filter(lambda k: k and "\x1f" not in k), text=texts)
def test_the_blind_index_is_hmac_sha256_of_kind_and_text(kind, text):
    ring = crypto.keyring()
    expected = hmac.new(ring._blind_key, f"{kind}\x1f{text}".encode(), hashlib.sha256).hexdigest()
    assert ring.blind_index(kind, text) == ring.indexer(kind)(text) == expected


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plain=texts, aad=st.binary(max_size=40))
def test_the_encryptors_tokens_are_the_keyrings(plain, aad):
    ring = crypto.keyring()
    token = ring.encryptor()(plain, aad)
    assert ring.is_token(token) and ring.kid_of(token) == ring.active_kid
    assert ring.decrypt(token, aad=aad) == plain
    assert len(token) == len(ring.encrypt(plain, aad=aad))


@pytest.mark.django_db
def test_prepare_is_fingerprint_store_subject_and_digests(tax_dataset, people):
    codec = services.codec_for(tax_dataset.dataset)
    ring = codec.keyring
    empty = dict.fromkeys(ROWS[0], "") | {"phone": None}  # every field named, most of them empty
    rows = [*ROWS, empty | {"credit_code": make_credit_code(random.Random(5)), "name": "x"}]
    checked = services.check(people["tax_member"], tax_dataset, rows)[2]
    prepared = services.check(people["tax_member"], tax_dataset, rows, prepare=True)[2]
    assert len(prepared.valid) == 3
    assert [(n, k) for n, k, _v in prepared.valid] == [(n, k) for n, k, _v in checked.valid]
    for (_n, key, values), (_m, _k, row) in zip(checked.valid, prepared.valid, strict=True):
        canonical = json.dumps([values.get(f.name) for f in codec.fields], ensure_ascii=False, separators=(",", ":"))
        assert row.fingerprint == ring.blind_index(f"row:{tax_dataset.pk}", canonical) == codec.fingerprint(values)
        stored = json.loads(row.text)
        assert row.text == json.dumps(stored)  # Django's JSONField text
        assert codec.reveal(key, stored) == {f.name: values.get(f.name) for f in codec.fields}
        assert all(ring.is_token(stored[n]) for n in codec.encrypted if n in stored)
        assert row.subject == codec.subject_of(values)
        assert (
            row.digests
            == codec.digests(values)
            == [
                (f.name, ring.blind_index(f"value:{f.type}", index_text(f.type, values[f.name])))
                for f in codec.digested
                if values.get(f.name) is not None
            ]
        )


@pytest.mark.django_db
def test_rows_that_leave_fields_out_are_kept_parsed_and_rows_alike_share_their_digested_names(tax_dataset, people):
    codec = services.codec_for(tax_dataset.dataset)
    partial = {k: v for k, v in ROWS[1].items() if k != "risk_note"}
    checked = services.check(people["tax_member"], tax_dataset, [ROWS[0], partial], prepare=True)[2]
    whole, left_out = checked.valid[0][2], checked.valid[1][2]
    assert left_out == services.check(people["tax_member"], tax_dataset, [partial])[2].valid[0][2]
    assert whole.digested == ("credit_code", "legal_person", "legal_id", "phone", "risk_note")
    (_n, key, values), *_rest = services.check(people["tax_member"], tax_dataset, [ROWS[0]])[2].valid
    assert codec.prepare(key, values).digested is codec.prepare(key, dict(values)).digested == whole.digested


def _raw(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


@pytest.mark.django_db
def test_bulk_rows_are_the_rows_the_orm_writes(tax_dataset, people):
    """Inserted, then updated: every column as Django would have written it, ids from the table's sequence."""
    services.upsert(people["tax_member"], tax_dataset, ROWS)
    records = list(Record.objects.filter(dataset=tax_dataset.dataset).order_by("pk"))
    codec = services.codec_for(tax_dataset.dataset)
    assert [r.version for r in records] == [1, 1] and records[0].pk < records[1].pk
    assert [codec.reveal(r.key, r.values)["name"] for r in records] == [row["name"] for row in ROWS]
    assert all(r.created_at == r.updated_at and r.created_at.tzinfo is not None for r in records)
    if connection.vendor == "sqlite":  # the JSON text itself (PostgreSQL keeps jsonb, not text)
        texts = dict(_raw('SELECT id, "values" FROM exchange_record'))
        assert all(texts[r.pk] == connection.ops.adapt_json_value(r.values, None) for r in records)
    # the next record the ORM creates gets the next number
    later = Record.objects.create(dataset=tax_dataset.dataset, key="k" * 64, values={}, fingerprint="f" * 64)
    assert later.pk > records[-1].pk
    later.delete()

    changed = [dict(ROWS[0], name="改名"), ROWS[1]]
    result = services.upsert(people["tax_member"], tax_dataset, changed)
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 1)
    first = Record.objects.get(pk=records[0].pk)
    assert first.version == 2 and first.updated_at > first.created_at == records[0].created_at
    assert codec.reveal(first.key, first.values)["name"] == "改名"
    digests = list(BlindIndex.objects.filter(record=first).values_list("field", "digest"))
    assert sorted(digests) == sorted(codec.digests(codec.reveal(first.key, first.values)))
    changes = list(Change.objects.filter(dataset=tax_dataset.dataset).order_by("seq"))
    assert [(c.seq, c.op, c.version) for c in changes] == [(1, "insert", 1), (2, "insert", 1), (3, "update", 2)]
    assert changes[2].values == first.values and changes[2].actor_id == people["tax_member"].pk
    assert changes[2].created_at == first.updated_at


def test_decimal_fast_path_examples():
    fast = parser(FieldType.DECIMAL)
    cases = {"0012.500": "12.5", "-0.00": "0", "100": "100", "100.000": "100", "-3.14": "-3.14", "0.05": "0.05"}
    for raw, expected in cases.items():
        assert fast(raw) == parse(FieldType.DECIMAL, raw) == expected
    assert fast(Decimal("1.50")) == "1.5"


def _table_or_reason(data, filename: str):
    from sharehub.errors import Invalid
    from sharehub.exchange import files

    try:
        table = files.open_table(data, filename)
        return table.columns, list(table.rows())
    except Invalid as error:
        return "refused", str(error.fields)


FILES = {
    "utf8.csv": "代码,名称\n1,福州\n2,厦门\n".encode(),
    "bom.csv": "\ufeff代码,名称\r\n1,福州\r\n".encode(),
    "gbk.csv": "代码;名称\n1;福州\n2;泉州\n".encode("gb18030"),
    "tabs.csv": b"a\tb\n1\t2\n\n3\t4\n",
    "quoted.csv": b'a,b\n"x,1","line\nbreak"\n',
    "empty.csv": b"",
    "blank.csv": b" \n\t\r\n",
    "nul.csv": b"a,b\n1,\x002\n",
    "latin1.csv": "a,b\n1,caf\xe9\n".encode("latin-1") + b"\xff\xfe",
    "noheader.csv": b",,\n1,2,3\n",
    "broken.csv": b'a,b\n"x\n',
}


@pytest.mark.parametrize("name", sorted(FILES))
@pytest.mark.parametrize("chunk", [3, 1024 * 1024])
def test_a_csv_file_read_from_its_path_gives_what_its_bytes_give(tmp_path, monkeypatch, name, chunk):
    from sharehub.exchange import files

    monkeypatch.setattr(files, "CHUNK_BYTES", chunk)  # 3: characters split between chunks
    path = tmp_path / name
    path.write_bytes(FILES[name])
    assert _table_or_reason(path, name) == _table_or_reason(FILES[name], name)
