"""Consents of data subjects: recorded, listed, withdrawn and imported by the owner's members; reads,
feed pulls and exports by others show only consented subjects' records, for the declared purpose, at
read time; each read's event names the consents relied on."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sharehub.events.models import Event
from sharehub.exchange import schema, services
from sharehub.exchange.models import Consent
from tests import factories
from tests.api.conftest import API, Api

pytestmark = pytest.mark.django_db

FIELDS = [
    {"name": "resident_id", "type": "resident_id", "sensitivity": "sensitive", "masking": "partial", "required": True},
    {"name": "name", "type": "text", "sensitivity": "internal"},
    {"name": "clinic", "type": "text", "sensitivity": "internal"},
]
ZHANG, LI = "11010519491231002X", "110105198001011238"
ROWS = [
    {"resident_id": ZHANG, "name": "张三", "clinic": "鼓楼医院"},
    {"resident_id": LI, "name": "李四", "clinic": "协和医院"},
]


@pytest.fixture
def health_dataset(org_units, people):
    steward = factories.member(org_units["health"], "steward", username="health_steward")
    resource = factories.resource(
        org_units["health"], by=steward, kind="dataset", sharing_type="open", title="门诊记录"
    )
    schema.change_dataset(
        people["health_member"],
        resource,
        FIELDS,
        key_fields=["resident_id"],
        consent_required=True,
        subject_field="resident_id",
    )
    services.upsert(people["health_member"], resource, ROWS)
    return resource


def consent(user, resource, subject=ZHANG, department="SBZX", purpose="TREAT", **extra):
    body = {"subject": subject, "department": department, "purpose": purpose, "from": "2020-01-01"}
    return Api(user).post(f"/datasets/{resource.pk}/consents", body | {"until": "2099-12-31"} | extra)


def names(user, resource, purpose="TREAT"):
    response = Api(user).get(f"/datasets/{resource.pk}/records", {"purpose": purpose})
    assert response.status_code == 200, response.content
    return [r["name"] for r in response.json()["items"]]


def test_owner_records_a_consent_without_keeping_the_identifier(health_dataset, people, org_units):
    response = consent(people["health_member"], health_dataset)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["resourceType"] == "Consent" and body["status"] == "active"
    assert body["provision"]["type"] == "permit"
    assert body["provision"]["actor"][0]["reference"]["identifier"] == "SBZX"
    assert body["provision"]["purpose"][0]["code"] == "TREAT"
    assert body["subject_hint"] != ZHANG and body["subject_hint"].startswith("1101")
    stored = Consent.objects.get()
    assert ZHANG not in json.dumps([stored.subject, stored.subject_hint])
    event = Event.objects.get(action="dataset.consent_recorded")
    assert ZHANG not in json.dumps(event.details)
    assert set(event.departments.values_list("pk", flat=True)) == {org_units["health"].pk, org_units["social"].pk}
    listed = Api(people["health_member"]).get(f"/datasets/{health_dataset.pk}/consents").json()
    assert [c["id"] for c in listed["items"]] == [stored.pk]


def test_only_owner_members_keep_consents(health_dataset, people):
    assert consent(people["social_member"], health_dataset).status_code == 403
    assert Api(people["social_member"]).get(f"/datasets/{health_dataset.pk}/consents").status_code == 403
    assert Consent.objects.count() == 0


def test_bad_consents_are_named_without_echoing_the_identifier(health_dataset, people):
    response = consent(people["health_member"], health_dataset, subject="110105194912310021", purpose="SPY")
    fields = response.json()["error"]["fields"]
    assert response.status_code == 422 and set(fields) >= {"subject", "purpose"}
    assert "110105194912310021" not in response.content.decode()
    backwards = consent(people["health_member"], health_dataset, until="2019-01-01")
    assert backwards.status_code == 422 and "until" in backwards.json()["error"]["fields"]
    nowhere = consent(people["health_member"], health_dataset, department="NOPE")
    assert nowhere.status_code == 422 and "department" in nowhere.json()["error"]["fields"]


def test_reads_need_a_purpose_and_show_only_consented_subjects(health_dataset, people):
    consent(people["health_member"], health_dataset)
    missing = Api(people["social_member"]).get(f"/datasets/{health_dataset.pk}/records")
    assert missing.status_code == 422 and "purpose" in missing.json()["error"]["fields"]
    assert names(people["social_member"], health_dataset) == ["张三"]
    assert names(people["social_member"], health_dataset, purpose="HRESCH") == []
    assert names(people["hr_head"], health_dataset) == []  # the parent department has no consent
    assert names(people["health_member"], health_dataset) == ["张三", "李四"]  # the owner sees all


def test_every_consented_read_names_the_consents_relied_on(health_dataset, people):
    first = consent(people["health_member"], health_dataset).json()["id"]
    second = consent(people["health_member"], health_dataset, subject=LI).json()["id"]
    consent(people["health_member"], health_dataset, subject=LI, purpose="HRESCH")  # not this purpose
    names(people["social_member"], health_dataset)
    read = Event.objects.filter(action="dataset.records_read").latest("pk")
    assert read.details["consents"] == sorted([first, second]) and read.details["rows"] == 2
    Api(people["social_member"]).get(f"/datasets/{health_dataset.pk}/changes", {"purpose": "TREAT"})
    feed = Event.objects.filter(action="dataset.records_read").latest("pk")
    assert feed.details["via"] == "api" and feed.details["consents"] == sorted([first, second])
    Api(people["social_member"]).get(f"/datasets/{health_dataset.pk}/records", {"purpose": "TREAT", "format": "csv"})
    export = Event.objects.filter(action="dataset.records_read").latest("pk")
    assert export.details["consents"] == sorted([first, second])


def test_a_withdrawal_takes_effect_on_the_next_read_feed_and_export(health_dataset, people):
    body = consent(people["health_member"], health_dataset).json()
    consent(people["health_member"], health_dataset, subject=LI)
    reader = Api(people["social_member"])
    assert names(people["social_member"], health_dataset) == ["张三", "李四"]
    response = Api(people["health_member"]).post(f"/datasets/{health_dataset.pk}/consents/{body['id']}/withdraw")
    assert response.status_code == 200 and response.json()["status"] == "inactive"
    assert names(people["social_member"], health_dataset) == ["李四"]
    feed = reader.get(f"/datasets/{health_dataset.pk}/changes", {"purpose": "TREAT"}).json()
    assert [c["values"]["name"] for c in feed["changes"]] == ["李四"]
    export = reader.get(f"/datasets/{health_dataset.pk}/records", {"purpose": "TREAT", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert [r["name"] for r in rows] == ["李四"]
    by_key = reader.get(f"/datasets/{health_dataset.pk}/record", {"resident_id": ZHANG, "purpose": "TREAT"})
    assert by_key.status_code in (404, 422)
    again = Api(people["health_member"]).post(f"/datasets/{health_dataset.pk}/consents/{body['id']}/withdraw")
    assert again.status_code == 409
    assert Event.objects.filter(action="dataset.consent_withdrawn").count() == 1
    inactive = Api(people["health_member"]).get(f"/datasets/{health_dataset.pk}/consents", {"status": "inactive"})
    assert [c["id"] for c in inactive.json()["items"]] == [body["id"]]


def test_expired_and_future_consents_do_not_count(health_dataset, people):
    consent(people["health_member"], health_dataset, **{"from": "2020-01-01", "until": "2020-12-31"})
    consent(people["health_member"], health_dataset, subject=LI, **{"from": "2098-01-01", "until": "2099-12-31"})
    assert names(people["social_member"], health_dataset) == []


def _import(user, resource, text: str | bytes, mode: str = "all"):
    data = text.encode() if isinstance(text, str) else text
    return Api(user).client.post(
        f"{API}/datasets/{resource.pk}/consents/import",
        {"file": SimpleUploadedFile("consents.csv", data), "mode": mode},
    )


def test_csv_import_reports_each_bad_row(health_dataset, people):
    text = (
        "subject,department,purpose,from,until\n"
        f"{ZHANG},SBZX,TREAT,2020-01-01,2099-12-31\n"
        "110105194912310021,SBZX,TREAT,2020-01-01,2099-12-31\n"
        f"{LI},NOPE,XXX,2020-01-01,2019-12-31\n"
    )
    all_or_nothing = _import(people["health_member"], health_dataset, text)
    assert all_or_nothing.status_code == 422
    fields = all_or_nothing.json()["error"]["fields"]
    assert {"rows.2.subject", "rows.3.department", "rows.3.purpose", "rows.3.until"} <= set(fields)
    assert "110105194912310021" not in all_or_nothing.content.decode()
    assert Consent.objects.count() == 0
    kept = _import(people["health_member"], health_dataset, text, mode="valid")
    assert kept.status_code == 200, kept.content
    assert (kept.json()["recorded"], kept.json()["rejected"]) == (1, 2)
    assert Event.objects.filter(action="dataset.consents_imported").count() == 1
    assert names(people["social_member"], health_dataset) == ["张三"]


def test_bad_csv_files_are_refused(health_dataset, people):
    assert _import(people["health_member"], health_dataset, b"\x89PNG\x00\x00").status_code == 422
    assert _import(people["health_member"], health_dataset, "a,b,c\n1,2,3\n").status_code == 422
    assert _import(people["health_member"], health_dataset, "").status_code == 422
    assert _import(people["social_member"], health_dataset, "subject\n").status_code == 403
    assert Consent.objects.count() == 0


def test_a_dataset_without_consent_refuses_consents(loaded, people):
    response = consent(people["tax_member"], loaded, department="SBZX")
    assert response.status_code == 422 and "subject" in response.json()["error"]["fields"]


def test_consent_pages_record_withdraw_and_import(health_dataset, people, client_for):
    member = client_for(people["health_member"])
    url = f"/resources/{health_dataset.code}/data/consents/"
    assert member.get(url).status_code == 200
    sent = member.post(
        url + "new/",
        {"subject": ZHANG, "department": "SBZX", "purpose": "TREAT", "from": "2020-01-01", "until": "2099-12-31"},
    )
    assert sent.status_code == 302
    consent_row = Consent.objects.get()
    page = member.get(url).content.decode()
    assert consent_row.subject_hint in page and ZHANG not in page
    assert member.post(f"{url}{consent_row.pk}/withdraw/").status_code == 302
    consent_row.refresh_from_db()
    assert consent_row.withdrawn_at is not None
    text = "subject,department,purpose,from,until\n110105194912310021,SBZX,TREAT,2020-01-01,2099-12-31\n"
    report = member.post(url + "import/", {"file": SimpleUploadedFile("c.csv", text.encode())})
    assert report.status_code == 200 and "sh-import-report" in report.content.decode()
    assert Consent.objects.count() == 1
    assert client_for(people["social_member"]).get(url).status_code == 403


def test_corrections_on_a_consent_dataset_need_the_subjects_consent(health_dataset, people):
    from sharehub.exchange.models import Record

    zhang = Record.objects.get(dataset_id=health_dataset.pk, subject__gt="", version=1, values__name="张三").key
    body = {"record_id": zhang, "field": "clinic", "evidence": "转院", "proposed": "省立医院", "purpose": "TREAT"}
    reader = Api(people["social_member"])
    assert reader.post(f"/datasets/{health_dataset.pk}/corrections", body).status_code == 404
    consent(people["health_member"], health_dataset)
    no_purpose = reader.post(f"/datasets/{health_dataset.pk}/corrections", body | {"purpose": ""})
    assert no_purpose.status_code == 422 and "purpose" in no_purpose.json()["error"]["fields"]
    assert reader.post(f"/datasets/{health_dataset.pk}/corrections", body).status_code == 200


def test_a_consent_reader_is_not_told_how_many_records_the_dataset_holds(health_dataset, people):
    from django.urls import reverse

    consent(people["health_member"], health_dataset)
    reader = Api(people["social_member"])
    assert reader.get(f"/datasets/{health_dataset.pk}").json()["record_count"] is None
    feed = reader.get(f"/datasets/{health_dataset.pk}/changes", {"purpose": "TREAT"}).json()
    assert feed["latest"] is None and len(feed["changes"]) == 1
    page = reader.client.get(reverse("exchange:data", args=[health_dataset.code]), {"purpose": "TREAT"})
    assert "2 records" not in page.content.decode() and "张三" in page.content.decode()
    owner = Api(people["health_member"])
    assert owner.get(f"/datasets/{health_dataset.pk}").json()["record_count"] == 2
