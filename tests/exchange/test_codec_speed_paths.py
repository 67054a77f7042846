"""The shortcuts the record reads take (bench/exchange found them worth a tenth of a page): the codec builds
each cell's AAD from a head computed once per dataset, a page works out how it shows each field once, and tokens
decode base64 without the standard library's layers. Each must give exactly what the plain paths give, or a
stored value would no longer decrypt or a mask would slip."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sharehub.exchange import crypto, queries
from sharehub.exchange.storage import Codec
from sharehub.org.models import User

from .conftest import ROWS, grant

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dataset_id=st.integers(min_value=0, max_value=2**63 - 1), key=texts, name=texts)
def test_the_codecs_aad_is_the_bytes_of_aad_for(dataset_id, key, name):
    codec = Codec(SimpleNamespace(pk=dataset_id, key_fields=[], consent_required=False, subject_field=""), [])
    assert codec.aad(key, name) == crypto.aad_for(dataset_id, key, name)


def test_a_codec_of_an_unsaved_dataset_falls_back_to_aad_for():
    codec = Codec(SimpleNamespace(pk=None, key_fields=[], consent_required=False, subject_field=""), [])
    with pytest.raises(TypeError):  # as aad_for refuses a dataset without an id
        codec.aad("k", "f")


def test_rows_shown_by_a_pages_row_shape_equal_rows_shown_alone(loaded, people, org_units):
    grant(loaded, department=org_units["social"], fields=["name"])
    reader = User.objects.get(pk=people["social_member"].pk)
    view = queries.access_dataset(reader, loaded.pk)
    page = queries.read_records(reader, view, queries.RecordQuery(limit=10), log=False)
    assert page.masked and len(page.rows) == len(ROWS)
    names = view.access.shown()
    masked = queries.masked_fields(view, names)
    assert list(masked) == page.masked
    stored = dict(view.dataset.records.values_list("key", "values"))
    shape = queries.RowShape(view, names)
    for row in page.rows:
        alone = queries.shown_row(view, row["_id"], stored[row["_id"]], names)
        assert alone == shape(row["_id"], stored[row["_id"]]) == row
        assert list(row) == ["_id", *names]


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=200))
def test_the_fast_url_safe_base64_decoding_reads_what_the_encoding_wrote(raw):
    assert crypto._unb64url(crypto._b64url(raw)) == raw
