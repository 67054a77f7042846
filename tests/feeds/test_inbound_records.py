"""Inbound webhooks that write records of a dataset: a system that can only send its own JSON (a CRM, a
business system) upserts records by their key; the dataset's own checks apply and fields left out keep
their stored values."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from sharehub.errors import Invalid
from sharehub.events.models import Event
from sharehub.exchange import crypto, schema
from sharehub.feeds import inbound
from sharehub.feeds.models import InboundDelivery
from sharehub.org import services as org
from tests import factories
from tests.api.conftest import Api

pytestmark = pytest.mark.django_db

FIELDS = [
    {"name": "credit_code", "type": "credit_code", "sensitivity": "public", "required": True},
    {"name": "name", "type": "text", "sensitivity": "internal"},
    {"name": "revenue", "type": "decimal", "sensitivity": "internal"},
    {"name": "registered", "type": "date", "sensitivity": "public"},
]
MAPPING = {"credit_code": "{customer.uscc}", "name": "{customer.name}", "revenue": "{customer.revenue}"}
CODE = "91350100M000100Y43"


def crm_post(**changes) -> dict:
    return {
        "event": "customer.updated",
        "customer": {"uscc": CODE, "name": "福州示例科技有限公司", "revenue": 1200000.5, **changes},
    }


@pytest.fixture(autouse=True)
def _own_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("SHAREHUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv(crypto.FIELD_KEYS_ENV, raising=False)
    monkeypatch.delenv(crypto.BLIND_KEY_ENV, raising=False)
    crypto.reset_keyring()
    yield
    crypto.reset_keyring()


@pytest.fixture
def crm(org_units):
    return org.create_service_account(None, department=org_units["tax"], username="crm-sync")


@pytest.fixture
def dataset(org_units, people):
    resource = factories.resource(org_units["tax"], by=people["tax_steward"], kind="dataset", title="纳税人登记信息")
    schema.change_dataset(people["tax_steward"], resource, FIELDS, key_fields=["credit_code"])
    return resource


@pytest.fixture
def records_hook(people, crm, dataset):
    return inbound.create_hook(
        people["tax_steward"], account=crm, name="CRM", action="records", dataset=dataset.pk, mapping=MAPPING
    )


def post(token: str, body, **headers):
    return Client().post(
        f"/hooks/in/{token}/", json.dumps(body, ensure_ascii=False), content_type="application/json", **headers
    )


def stored(reader, dataset) -> dict:
    answer = Api(reader).get(f"/datasets/{dataset.pk}/record", {"credit_code": CODE})
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_posts_insert_then_update_a_record_by_its_key(records_hook, dataset, people):
    hook, token = records_hook
    first = post(token, crm_post())
    assert first.status_code == 201, first.content
    assert first.json() == {"dataset": dataset.code, "inserted": 1, "updated": 0, "unchanged": 0}
    assert stored(people["tax_member"], dataset)["name"] == "福州示例科技有限公司"
    assert post(token, crm_post()).json() | {} == {"dataset": dataset.code, "inserted": 0, "updated": 0, "unchanged": 1}
    renamed = post(token, crm_post(name="福州示例科技股份有限公司"))
    assert renamed.status_code == 200 and renamed.json()["updated"] == 1
    record = stored(people["tax_member"], dataset)
    assert (record["name"], record["revenue"]) == ("福州示例科技股份有限公司", "1200000.5")
    logged = InboundDelivery.objects.filter(hook=hook).order_by("pk")
    assert [d.status for d in logged] == [201, 200, 200] and logged[0].resource == dataset
    changed = Event.objects.filter(action="dataset.records_changed").order_by("seq")
    assert changed.count() == 2 and changed.last().details["via"] == "inbound"
    assert changed.last().actor.username == "crm-sync"


def test_fields_not_mapped_keep_their_stored_values(people, crm, dataset):
    Api(people["tax_member"]).post(
        f"/datasets/{dataset.pk}/records",
        {"rows": [{"credit_code": CODE, "name": "旧名", "revenue": "10", "registered": "2015-03-02"}]},
    )
    _hook, token = inbound.create_hook(
        people["tax_steward"],
        account=crm,
        name="只改名称",
        action="records",
        dataset=dataset.pk,
        mapping={"credit_code": "{customer.uscc}", "name": "{customer.name}"},
    )
    assert post(token, crm_post(name="新名")).json()["updated"] == 1
    record = stored(people["tax_member"], dataset)
    assert (record["name"], record["revenue"], record["registered"]) == ("新名", "10", "2015-03-02")


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (crm_post(uscc="91350100M000100Y44"), "credit_code", "check"),  # a check digit that does not add up
        (crm_post(revenue="十万"), "revenue", "number"),
        ({"customer": {"uscc": CODE}}, "name", "customer.name"),  # the path the mapping reads is missing
        (crm_post(name="a\u0000b"), "name", ""),
    ],
)
def test_values_the_dataset_refuses_answer_422_naming_the_field(records_hook, body, field, words):
    hook, token = records_hook
    answer = post(token, body)
    assert answer.status_code == 422, answer.content
    fields = answer.json()["error"]["fields"]
    assert field in fields and words.lower() in fields[field].lower(), fields
    assert InboundDelivery.objects.get(hook=hook).status == 422


def test_a_retry_with_the_same_delivery_id_is_answered_the_same(records_hook):
    _hook, token = records_hook
    first = post(token, crm_post(), HTTP_X_REQUEST_ID="crm-7781")
    again = post(token, crm_post(name="别的"), HTTP_X_REQUEST_ID="crm-7781")
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"dataset": ""}, "dataset"),
        ({"dataset": "abc"}, "dataset"),
        ({"mapping": {"name": "{customer.name}"}}, "credit_code"),  # the record key must be mapped
        ({"mapping": {**MAPPING, "salary": "{customer.salary}"}}, "salary"),
        ({"mapping": {**MAPPING, "name": "{customer.name"}}, "name"),
    ],
)
def test_records_hooks_are_checked_when_made(people, crm, dataset, change, field):
    form = {"account": crm, "name": "CRM", "action": "records", "dataset": dataset.pk, "mapping": MAPPING} | change
    with pytest.raises(Invalid) as refused:
        inbound.create_hook(people["tax_steward"], **form)
    assert field in refused.value.fields, refused.value.fields


def test_only_a_dataset_of_the_accounts_department_with_a_record_key(people, org_units, crm):
    other = factories.resource(org_units["health"], by=people["admin"], kind="dataset", title="就诊记录")
    keyless = factories.resource(org_units["tax"], by=people["tax_steward"], kind="dataset", title="无主键")
    notice = factories.resource(org_units["tax"], by=people["tax_steward"], kind="notice", title="通知")
    for resource, words in ((other, "department"), (keyless, "key"), (notice, "department")):
        with pytest.raises(Invalid) as refused:
            inbound.create_hook(
                people["tax_steward"], account=crm, name="x", action="records", dataset=resource.pk, mapping=MAPPING
            )
        assert words in str(refused.value.fields["dataset"]), refused.value.fields


def test_a_deleted_dataset_is_named_in_the_answer(records_hook, dataset):
    _hook, token = records_hook
    dataset.delete()
    answer = post(token, crm_post())
    assert answer.status_code == 422 and "dataset" in answer.json()["error"]["fields"]


def test_the_page_makes_a_records_hook_from_lines(client_for, people, crm, dataset):
    steward = client_for(people["tax_steward"])
    listing = steward.get(reverse("feeds:inbound")).content.decode()
    assert dataset.code in listing and 'name="records"' in listing
    form = {"name": "CRM", "account": crm.pk, "action": "records", "dataset": dataset.pk}
    bad = steward.post(reverse("feeds:inbound"), {**form, "records": "credit_code {customer.uscc}"})
    assert bad.status_code == 422 and "Line 1" in bad.content.decode()
    unknown = steward.post(reverse("feeds:inbound"), {**form, "records": "credit_code: {c}\nsalary: {s}"})
    assert unknown.status_code == 422 and "salary: Unknown field" in unknown.content.decode()
    made = steward.post(
        reverse("feeds:inbound"), {**form, "records": "credit_code: {customer.uscc}\n\nname: {customer.name}\n"}
    )
    page = made.content.decode()
    assert made.status_code == 200 and "sh-inbound-address" in page and dataset.code in page
    token = page.split('sh-inbound-address">', 1)[1].split("<", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    assert post(token, crm_post()).status_code == 201
    chinese = client_for(people["tax_steward"])
    chinese.cookies["django_language"] = "zh-hans"
    assert "数据集" in chinese.get(reverse("feeds:inbound")).content.decode()
