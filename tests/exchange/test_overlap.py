"""One source (一数一源): finding the datasets of other departments that already hold a dataset's people
and companies, exactly through the blind index or by similar names, within what the policy lets the
steward see."""

from __future__ import annotations

import random
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.onesource import make_pair, score
from sharehub.demo.names import company_names, written_differently
from sharehub.errors import Forbidden, NotFound
from sharehub.events.models import Event
from sharehub.exchange import schema, services
from sharehub.exchange.overlap import EXACT, FUZZY, find_overlaps, fuzzy_matches, normalize_name
from sharehub.exchange.types import make_credit_code
from tests import factories
from tests.api.conftest import Api
from tests.exchange.conftest import grant

pytestmark = pytest.mark.django_db

UNIT_FIELDS = [
    {"name": "credit_code", "type": "credit_code", "sensitivity": "public", "required": True},
    {"name": "unit_name", "type": "text", "label_zh": "参保单位名称", "sensitivity": "internal"},
    {"name": "insured", "type": "integer", "sensitivity": "internal"},
]
NAME_FIELDS = [
    {"name": "code", "type": "text", "sensitivity": "public", "required": True},
    {"name": "enterprise_name", "type": "text", "label_zh": "企业名称", "sensitivity": "public"},
    {"name": "legal_person", "type": "text", "label_zh": "法定代表人姓名", "sensitivity": "public"},
]


def written(code: str, rng: random.Random) -> str:
    """A credit code as people type it: spaces, lower case, full-width characters."""
    how = rng.randrange(3)
    if how == 0:
        return f"{code[:6]} {code[6:12]} {code[12:]}"
    if how == 1:
        return code.lower()
    return code.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})


def dataset(owner, by, fields, key, **options):
    resource = factories.resource(owner, by=by, kind="dataset", **options)
    schema.change_dataset(by, resource, fields, key_fields=[key])
    return resource


@pytest.fixture
def pair(tax_dataset, people, org_units):
    """税务局's taxpayers (conditional) and 社保中心's insured units: 30 of 40 units are taxpayers."""
    rng = random.Random(5)
    codes = sorted({make_credit_code(rng) for _ in range(60)})
    taxpayers = [{"credit_code": c, "name": f"纳税人{n}有限公司"} for n, c in enumerate(codes[:50])]
    services.upsert(people["tax_member"], tax_dataset, taxpayers)
    steward = factories.member(org_units["social"], "steward", username="social_steward")
    units = dataset(org_units["social"], steward, UNIT_FIELDS, "credit_code", title="参保单位登记")
    shared = codes[20:50]
    rows = [{"credit_code": written(c, rng), "unit_name": f"单位{c[-4:]}", "insured": 3} for c in shared]
    rows += [{"credit_code": c, "unit_name": f"单位{c[-4:]}", "insured": 1} for c in codes[50:60]]
    services.upsert(steward, units, rows)
    return units, steward


def test_exact_overlap_counts_the_records_found_elsewhere(pair, tax_dataset, people):
    units, _steward = pair
    report = find_overlaps(people["social_member"], units.code)
    assert report.total == 40
    [found] = report.overlaps
    assert found.resource == tax_dataset and found.method == EXACT
    assert (found.matched, found.total) == (30, 40)  # IDs written with spaces, lower case, full width: all found
    assert found.pairs == [("credit_code", "credit_code")]
    assert found.sources == ["credit_code"]
    assert not found.readable and found.may_request


def test_the_exact_detection_runs_a_fixed_number_of_queries(pair, tax_dataset, people, org_units):
    """One query for the candidates, one for their fields, two for the blind index: as many whatever the
    number of datasets elsewhere that share identifiers."""
    units, steward = pair

    def statements() -> int:
        with CaptureQueriesContext(connection) as queries:
            report = find_overlaps(steward, units.code)
        assert {o.method for o in report.overlaps} == {EXACT}
        return len(queries)

    statements()  # the steward's policy context and grants, once
    one = statements()
    codes = _codes(units, people)
    for n in range(3):
        copy = dataset(org_units["tax"], people["tax_steward"], UNIT_FIELDS, "credit_code", title=f"副本{n}")
        services.upsert(people["tax_member"], copy, [{"credit_code": c, "unit_name": "x"} for c in codes[: 5 + n]])
    assert statements() == one
    assert len(find_overlaps(steward, units.code).overlaps) == 4


def test_named_sources_are_the_authoritative_fields(pair, tax_dataset, people):
    units, steward = pair
    fields = [dict(f) for f in UNIT_FIELDS]
    fields[0] |= {"source": tax_dataset.pk, "source_field": "credit_code"}
    fields[1] |= {"source": tax_dataset.pk, "source_field": "name"}
    schema.change_dataset(steward, units, fields)
    [found] = find_overlaps(steward, units.code).overlaps
    assert found.sources == ["credit_code", "name"]


def test_datasets_the_steward_cannot_see_are_not_counted(pair, people, org_units):
    units, steward = pair
    health = factories.member(org_units["health"], "steward")
    hidden = dataset(
        org_units["health"],
        health,
        [{"name": "credit_code", "type": "credit_code", "sensitivity": "public"}],
        "credit_code",
        sharing_type="restricted",
    )
    services.upsert(health, hidden, [{"credit_code": c} for c in _codes(units, people)])
    codes = {o.resource.code for o in find_overlaps(steward, units.code).overlaps}
    assert hidden.code not in codes
    admin_codes = {o.resource.code for o in find_overlaps(people["admin"], units.code).overlaps}
    assert hidden.code in admin_codes


def _codes(units, people) -> list[str]:
    body = Api(people["admin"]).get(f"/datasets/{units.pk}/records", {"limit": 100}).json()
    return [row["credit_code"] for row in body["items"]]


def test_only_the_owner_department_asks(pair, tax_dataset, people, org_units):
    units, _steward = pair
    with pytest.raises(Forbidden):
        find_overlaps(people["tax_member"], units.code)  # sees the entry, is not of the owner
    health = factories.member(org_units["health"], "steward")
    hidden = dataset(org_units["health"], health, UNIT_FIELDS, "credit_code", sharing_type="restricted")
    with pytest.raises(NotFound):
        find_overlaps(people["social_member"], hidden.code)


def _name_pair(org_units, people, *, sharing_type="open", masking="none"):
    rng = random.Random(9)
    names = company_names(rng, 30)
    fields = [dict(f) for f in NAME_FIELDS]
    fields[1]["masking"] = masking
    if masking != "none":
        fields[1]["sensitivity"] = "internal"
    licences = dataset(org_units["tax"], people["tax_steward"], fields, "code", sharing_type=sharing_type)
    services.upsert(
        people["tax_member"], licences, [{"code": f"L{n}", "enterprise_name": name} for n, name in enumerate(names)]
    )
    steward = factories.member(org_units["social"], "steward", username="social_steward")
    mine = dataset(org_units["social"], steward, NAME_FIELDS, "code", title="用工备案")
    rows = [{"code": f"M{n}", "enterprise_name": written_differently(rng, n)[0]} for n in names[:20]]
    rows = [dict(row, code=f"M{i}") for i, row in enumerate(rows)]
    rows += [{"code": "X1", "enterprise_name": "完全不同的名字股份有限公司"}]
    services.upsert(steward, mine, rows)
    return licences, mine, steward


def test_fuzzy_overlap_by_organization_names(org_units, people):
    licences, mine, steward = _name_pair(org_units, people)
    [found] = find_overlaps(steward, mine.code).overlaps
    assert found.resource == licences and found.method == FUZZY
    assert 17 <= found.matched <= 20 and found.total == 21
    assert found.pairs == [("enterprise_name", "enterprise_name")]  # not the legal person's name
    assert found.readable


def test_fuzzy_reads_only_fields_seen_in_full(org_units, people):
    _licences, mine, steward = _name_pair(org_units, people, masking="partial")
    report = find_overlaps(steward, mine.code)
    assert report.overlaps == [] and report.fuzzy_scanned == 1


def test_fuzzy_needs_the_right_to_read(org_units, people):
    licences, mine, steward = _name_pair(org_units, people, sharing_type="conditional")
    assert find_overlaps(steward, mine.code).overlaps == []
    grant(licences, department=org_units["social"], fields=["enterprise_name"])
    [found] = find_overlaps(steward, mine.code).overlaps
    assert found.method == FUZZY and found.readable
    [read] = Event.objects.filter(action="dataset.records_read", target_id=str(licences.pk))
    assert read.details | {"via": "overlap", "rows": 30, "fields": ["enterprise_name"]} == read.details


def test_normalized_names():
    assert normalize_name("福州示例科技有限公司") == normalize_name(" 福州示例 科技公司")
    assert normalize_name("（鼓楼）华兴ＡＢ科技有限责任公司") == "鼓楼华兴ab科技"
    assert normalize_name("某公司") == "某公司"  # too short to lose its ending


def test_fuzzy_precision_and_recall_on_a_generated_pair():
    ours, theirs, truth, kinds = make_pair(1000, 0.8, seed=3)
    assert {"identical", "legal_form", "typo", "spaces", "full_width"} <= set(kinds)
    precision, recall = score(fuzzy_matches(ours, theirs), truth)
    assert precision >= 0.95 and recall >= 0.9, (precision, recall)


def test_api_and_page(pair, tax_dataset, people, client_for):
    units, steward = pair
    body = Api(steward).get(f"/datasets/{units.pk}/overlaps").json()
    assert body["total"] == 40
    assert body["items"][0] | {"can_request": True} == body["items"][0]
    assert (body["items"][0]["code"], body["items"][0]["matched"]) == (tax_dataset.code, 30)
    assert Api(people["tax_member"]).get(f"/datasets/{units.pk}/overlaps").status_code == 403
    assert Api(people["health_member"]).get("/datasets/999999/overlaps").status_code == 404

    client = client_for(steward)
    detail = client.get(f"/resources/{units.code}/").content.decode()
    assert f"/resources/{units.code}/data/sources/" in detail
    page = client.get(f"/resources/{units.code}/data/sources/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "30 of your 40 records already exist in" in text and tax_dataset.title in text
    assert f"/resources/{tax_dataset.code}/request/?fields=credit_code" in text
    form = client.get(f"/resources/{tax_dataset.code}/request/?fields=credit_code&fields=nope").content.decode()
    assert re.search(r"<input[^>]*value=\"credit_code\"[^>]*checked", form)
    assert client_for(people["tax_member"]).get(f"/resources/{units.code}/data/sources/").status_code == 403


def test_page_in_chinese(pair, client_for):
    units, steward = pair
    client = client_for(steward)
    text = client.get(f"/resources/{units.code}/data/sources/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "一数一源" in text and "您的 40 条记录中有 30 条已存在于" in text


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), size=st.integers(1, 60))
def test_every_name_finds_itself_and_its_plain_variants(seed, size):
    """Spacing, full-width characters and a shorter legal form never stop a name from being found."""
    rng = random.Random(seed)
    ours = company_names(rng, size)
    assert fuzzy_matches(ours, ours) == {i: (i, 100.0) for i in range(size)}
    plain = []
    for name in ours:
        text, how = written_differently(rng, name)
        plain.append(text if how in ("spaces", "full_width", "legal_form") else name)
    assert {i: j for i, (j, _score) in fuzzy_matches(ours, plain).items()} == {i: i for i in range(size)}
