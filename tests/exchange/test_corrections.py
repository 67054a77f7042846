"""Corrections (疑义校核) through the API: a reader flags a value, the owner's steward accepts (the record
is corrected as a numbered change) or rejects with a reason; both sides see the history, masked as
the records are; hostile input gets a clear answer that reveals nothing."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sharehub.access import calendar
from sharehub.access.models import AccessSettings
from sharehub.events.models import Event
from sharehub.exchange import services
from sharehub.exchange.models import BlindIndex, Change, Correction, Dataset, Record
from tests import factories
from tests.api.conftest import API, Api
from tests.exchange.conftest import ROWS, grant

pytestmark = pytest.mark.django_db

FIRST = ROWS[0]


@pytest.fixture
def granted(loaded, org_units):
    grant(loaded, department=org_units["social"], fields=["name", "legal_id"])
    return loaded


def first_id(user, resource) -> str:
    body = Api(user).get(f"/datasets/{resource.pk}/records", {"limit": 1}).json()
    return body["items"][0]["_id"]


def report(user, resource, **payload):
    return Api(user).post(f"/datasets/{resource.pk}/corrections", payload)


def flagged(user, resource, **extra):
    body = {"record_id": first_id(user, resource), "field": "name", "evidence": "营业执照上的名称不同"} | extra
    response = report(user, resource, **body)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_reader_reports_and_the_owner_sees_it_with_the_current_value(granted, people, org_units):
    item = flagged(people["social_member"], granted, proposed="福州示例科技股份有限公司")
    assert item["status"] == "open" and item["proposed"] == "福州示例科技股份有限公司"
    assert item["reporter_department"] == org_units["social"].name and "current" not in item
    correction = Correction.objects.get()
    expected = calendar.add_working_days(correction.created_at, AccessSettings.current().decision_working_days)
    assert correction.due_at == expected
    event = Event.objects.get(action="dataset.correction_reported")
    assert set(event.departments.values_list("pk", flat=True)) >= {org_units["tax"].pk, org_units["social"].pk}
    assert people["tax_steward"].pk in event.details["recipients"]
    assert "福州" not in json.dumps(event.details, ensure_ascii=False)  # no values in the log
    owner = Api(people["tax_member"]).get(f"/datasets/{granted.pk}/corrections").json()
    assert [i["id"] for i in owner["items"]] == [item["id"]]
    assert owner["items"][0]["current"] == FIRST["name"]


def test_accepting_corrects_the_record_as_one_numbered_change(granted, people, org_units):
    item = flagged(people["social_member"], granted, field="legal_id", proposed="110105194912310038")
    dataset = Dataset.objects.get(pk=granted.pk)
    before_seq, before_count = dataset.last_change, Change.objects.count()
    response = Api(people["tax_steward"]).post(f"/datasets/{granted.pk}/corrections/{item['id']}/accept", {})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted" and response.json()["decided_by"]
    dataset.refresh_from_db()
    assert dataset.last_change == before_seq + 1 and Change.objects.count() == before_count + 1
    change = Change.objects.order_by("-seq").first()
    assert (change.op, change.version, change.actor_id) == ("update", 2, people["tax_steward"].pk)
    assert set(change.values) == {k for k, v in FIRST.items() if v}  # the whole record, as stored
    assert "110105194912310038" not in json.dumps(change.values)  # encrypted like the record
    row = Api(people["tax_member"]).get(f"/datasets/{granted.pk}/records", {"credit_code": FIRST["credit_code"]})
    assert row.json()["items"][0]["legal_id"] == "110105194912310038"
    found = Api(people["tax_member"]).get(f"/datasets/{granted.pk}/records", {"legal_id": "110105194912310038"})
    assert len(found.json()["items"]) == 1  # the blind index was refreshed
    old = Api(people["tax_member"]).get(f"/datasets/{granted.pk}/records", {"legal_id": FIRST["legal_id"]})
    assert old.json()["items"] == []
    assert BlindIndex.objects.filter(field="legal_id").count() == 2
    again = services.upsert(people["tax_member"], granted, [FIRST | {"legal_id": "110105194912310038"}])
    assert again.unchanged == 1  # the fingerprint was recomputed
    event = Event.objects.get(action="dataset.correction_accepted")
    assert event.details["change"] == change.seq and people["social_member"].pk in event.details["recipients"]
    assert set(event.departments.values_list("pk", flat=True)) >= {org_units["tax"].pk, org_units["social"].pk}


def test_the_steward_may_give_the_right_value_when_none_was_proposed(granted, people):
    item = flagged(people["social_member"], granted)
    url = f"/datasets/{granted.pk}/corrections/{item['id']}/accept"
    missing = Api(people["tax_steward"]).post(url, {})
    assert missing.status_code == 422 and "value" in missing.json()["error"]["fields"]
    assert Correction.objects.get().status == "open"
    response = Api(people["tax_steward"]).post(url, {"value": "福州示例科技有限责任公司"})
    assert response.status_code == 200
    assert Record.objects.get(key=item["record_id"]).version == 2


def test_rejecting_needs_a_reason_and_leaves_the_record(granted, people):
    item = flagged(people["social_member"], granted, proposed="x")
    url = f"/datasets/{granted.pk}/corrections/{item['id']}/reject"
    assert Api(people["tax_steward"]).post(url, {"reason": "  "}).status_code == 422
    response = Api(people["tax_steward"]).post(url, {"reason": "与登记机关核对无误"})
    assert response.status_code == 200 and response.json()["reason"] == "与登记机关核对无误"
    assert Record.objects.get(key=item["record_id"]).version == 1
    assert Event.objects.filter(action="dataset.correction_rejected").count() == 1
    mine = Api(people["social_member"]).get(f"/datasets/{granted.pk}/corrections").json()["items"][0]
    assert mine["status"] == "rejected" and mine["reason"] == "与登记机关核对无误"


def test_only_stewards_decide(granted, people):
    item = flagged(people["social_member"], granted, proposed="x")
    for who in ("tax_member", "social_member"):
        response = Api(people[who]).post(f"/datasets/{granted.pk}/corrections/{item['id']}/reject", {"reason": "r"})
        assert response.status_code == 403
    assert Correction.objects.get().status == "open"


def test_a_second_decision_gets_409(granted, people):
    item = flagged(people["social_member"], granted, proposed="新名称")
    base = f"/datasets/{granted.pk}/corrections/{item['id']}"
    assert Api(people["tax_steward"]).post(f"{base}/accept", {}).status_code == 200
    late = Api(people["admin"]).post(f"{base}/reject", {"reason": "no"})
    assert late.status_code == 409 and late.json()["error"]["fields"]["status"] == "accepted"
    assert Change.objects.filter(op="update").count() == 1


def test_a_record_deleted_meanwhile_gives_a_clear_409(granted, people):
    item = flagged(people["social_member"], granted, proposed="新名称")
    services.delete_by_keys(people["tax_member"], granted, [FIRST["credit_code"]])
    response = Api(people["tax_steward"]).post(f"/datasets/{granted.pk}/corrections/{item['id']}/accept", {})
    assert response.status_code == 409 and "deleted" in response.json()["error"]["message"]
    assert Correction.objects.get().status == "open"
    rejected = Api(people["tax_steward"]).post(
        f"/datasets/{granted.pk}/corrections/{item['id']}/reject", {"reason": "已注销"}
    )
    assert rejected.status_code == 200


# --- what each side sees --------------------------------------------------------------------------


def test_proposals_are_masked_like_the_field_except_for_their_author(granted, people, org_units):
    colleague = factories.member(org_units["social"], "member", username="social_2")
    item = flagged(people["social_member"], granted, field="legal_person", proposed="张三丰")
    assert item["proposed"] == "张三丰"  # the author sees what they typed
    stored = Correction.objects.get().proposed
    assert "张三丰" not in stored  # encrypted like the field
    seen = Api(colleague).get(f"/datasets/{granted.pk}/corrections").json()["items"][0]
    assert seen["proposed"] != "张三丰" and seen["proposed"].startswith("张") and seen["proposed_shown"] == "masked"
    owner = Api(people["tax_member"]).get(f"/datasets/{granted.pk}/corrections/{item['id']}").json()
    assert owner["proposed"] == "张三丰" and owner["current"] == FIRST["legal_person"]


def test_other_departments_see_nothing(granted, people, org_units):
    item = flagged(people["social_member"], granted, proposed="x")
    grant(granted, department=org_units["health"])
    outsider = Api(people["health_member"])
    assert outsider.get(f"/datasets/{granted.pk}/corrections").json()["items"] == []
    assert outsider.get(f"/datasets/{granted.pk}/corrections/{item['id']}").status_code == 404
    assert outsider.post(f"/datasets/{granted.pk}/corrections/{item['id']}/reject", {"reason": "r"}).status_code in (
        403,
        404,
    )


# --- hostile input ----------------------------------------------------------------------------------


def test_unknown_record_is_404(granted, people):
    response = report(people["social_member"], granted, record_id="f" * 64, field="name", evidence="e")
    assert response.status_code == 404
    response = report(people["social_member"], granted, record_id="x" * 5000, field="name", evidence="e")
    assert response.status_code == 404


def test_a_hidden_field_answers_like_a_missing_one(granted, people):
    record_id = first_id(people["social_member"], granted)
    hidden = report(people["social_member"], granted, record_id=record_id, field="revenue", evidence="e").json()
    missing = report(people["social_member"], granted, record_id=record_id, field="nosuch", evidence="e").json()
    assert hidden["error"]["fields"]["field"] == "No field named revenue."
    assert missing["error"]["fields"]["field"] == "No field named nosuch."
    secret = report(people["social_member"], granted, record_id=record_id, field="risk_note", evidence="e")
    assert secret.status_code == 422 and "重点" not in secret.content.decode()
    assert Correction.objects.count() == 0


def test_bad_text_and_values_are_named(granted, people):
    record_id = first_id(people["social_member"], granted)
    huge = report(people["social_member"], granted, record_id=record_id, field="name", evidence="证" * 100_000)
    assert huge.status_code == 422 and "evidence" in huge.json()["error"]["fields"]
    empty = report(people["social_member"], granted, record_id=record_id, field="name", evidence="")
    assert empty.status_code == 422
    bad = report(people["social_member"], granted, record_id=record_id, field="legal_id", proposed="123", evidence="e")
    assert bad.status_code == 422 and "proposed" in bad.json()["error"]["fields"]
    key = report(people["social_member"], granted, record_id=record_id, field="credit_code", evidence="e")
    assert key.status_code == 422 and "record key" in key.json()["error"]["fields"]["field"]
    assert (
        report(people["social_member"], granted, record_id=record_id, field=["name"], evidence="e").status_code == 422
    )
    assert Correction.objects.count() == 0


def test_readers_without_read_are_refused(loaded, people):
    record_id = first_id(people["tax_member"], loaded)
    response = report(people["social_member"], loaded, record_id=record_id, field="name", evidence="e")
    assert response.status_code == 403
    restricted = factories.resource(
        loaded.owner_department, by=people["tax_steward"], kind="dataset", sharing_type="restricted"
    )
    response = report(people["social_member"], restricted, record_id=record_id, field="name", evidence="e")
    assert response.status_code == 404


def _with_file(user, resource, name: str, content: bytes, **fields):
    form = {"record_id": first_id(user, resource), "field": "name", "evidence": "见附件"} | fields
    form["file"] = SimpleUploadedFile(name, content)
    client = Api(user).client
    return client.post(f"{API}/datasets/{resource.pk}/corrections/with-file", form)


def test_evidence_file_is_kept_and_only_the_parties_download_it(granted, people, org_units):
    response = _with_file(people["social_member"], granted, "执照.pdf", b"%PDF-1.4 evidence")
    assert response.status_code == 200, response.content
    item = response.json()
    assert item["file"]["filename"] == "执照.pdf" and item["file"]["size"] == 17
    download = Api(people["tax_steward"]).client.get(item["file"]["url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 evidence"
    assert download["Content-Disposition"].startswith("attachment")
    grant(granted, department=org_units["health"])
    assert Api(people["health_member"]).client.get(item["file"]["url"]).status_code == 404


def test_bad_files_are_refused(granted, people, settings):
    assert _with_file(people["social_member"], granted, "a.txt", b"").status_code == 422
    settings.UPLOAD_LIMIT_BYTES = 10
    assert _with_file(people["social_member"], granted, "a.txt", b"x" * 100).status_code == 413
    bad_text = _with_file(people["social_member"], granted, "a.txt", b"ok", evidence="")
    assert bad_text.status_code == 422
    assert Correction.objects.count() == 0


# --- pages ------------------------------------------------------------------------------------------


def test_pages_report_list_and_decide(granted, people, client_for):
    reader = client_for(people["social_member"])
    record_id = first_id(people["social_member"], granted)
    url = f"/resources/{granted.code}/data/corrections/"
    form = reader.get(url, {"record": record_id})
    assert form.status_code == 200 and f'value="{record_id}"' in form.content.decode()
    assert 'value="revenue"' not in form.content.decode() and 'value="credit_code"' not in form.content.decode()
    sent = reader.post(
        url + "report/",
        {"record_id": record_id, "field": "legal_person", "proposed": "张三丰", "evidence": "身份证复印件",
         "file": SimpleUploadedFile("证明.txt", "证明".encode())},
    )  # fmt: skip
    assert sent.status_code == 302
    correction = Correction.objects.get()
    page = reader.get(url).content.decode()
    assert "张三丰" in page and "证明.txt" in page and "sh-stack" in page
    steward = client_for(people["tax_steward"])
    owner_page = steward.get(url).content.decode()
    assert "张三丰" in owner_page and FIRST["legal_person"] in owner_page and "Accept" in owner_page
    assert steward.get(f"{url}{correction.pk}/file/").status_code == 200
    assert steward.post(f"{url}{correction.pk}/accept/", {"value": ""}).status_code == 302
    correction.refresh_from_db()
    assert correction.status == "accepted"
    again = steward.post(f"{url}{correction.pk}/reject/", {"reason": "x"}, follow=True)
    assert "already decided" in again.content.decode()
    assert steward.post(f"{url}{correction.pk}/other/").status_code == 404


def test_page_errors_come_back_as_messages_in_chinese(granted, people, client_for):
    reader = client_for(people["social_member"])
    url = f"/resources/{granted.code}/data/corrections/"
    answer = reader.post(
        url + "report/",
        {"record_id": "f" * 64, "field": "name", "evidence": "e"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert answer.status_code == 200
    reader.cookies.load({"django_language": "zh-hans"})
    page = reader.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "报告错误的值" in page or "疑义" in page
    outsider = client_for(people["health_member"])
    assert outsider.post(url + "report/", {"record_id": "f" * 64, "field": "name", "evidence": "e"}).status_code == 403


def test_notifications_read_as_sentences_in_both_languages(granted, people):
    from django.utils import translation

    from sharehub.feeds import messages

    item = flagged(people["social_member"], granted, proposed="x")
    Api(people["tax_steward"]).post(f"/datasets/{granted.pk}/corrections/{item['id']}/reject", {"reason": "核对无误"})
    reported = Event.objects.get(action="dataset.correction_reported")
    text, link = messages.render(reported)
    assert "reports a wrong value" in text and link == f"/resources/{granted.code}/data/corrections/"
    with translation.override("zh-hans"):
        text, _link = messages.render(Event.objects.get(action="dataset.correction_rejected"))
    assert "驳回" in text and "核对无误" in text


def test_the_list_costs_the_same_whatever_its_length(granted, people):
    flagged(people["social_member"], granted, proposed="一")
    api = Api(people["tax_steward"])
    url = f"/datasets/{granted.pk}/corrections"
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        assert api.get(url).status_code == 200
    for n in range(5):
        flagged(people["social_member"], granted, proposed=f"名称{n}", field="legal_person")
    with CaptureQueriesContext(connection) as six:
        assert len(api.get(url).json()["items"]) == 6
    assert len(six.captured_queries) == len(one.captured_queries)


def test_accepting_a_value_the_record_already_holds_is_refused(granted, people):
    item = flagged(people["social_member"], granted, proposed=FIRST["name"])
    response = Api(people["tax_steward"]).post(f"/datasets/{granted.pk}/corrections/{item['id']}/accept", {})
    assert response.status_code == 422 and "already holds" in response.json()["error"]["fields"]["value"]
    assert Correction.objects.get().status == "open" and Change.objects.filter(op="update").count() == 0


def test_the_sweep_reminds_then_escalates_once(granted, people, org_units):
    from datetime import timedelta

    from sharehub.exchange import corrections

    hr_head_tax = factories.member(org_units["tax"], "head", username="tax_head")
    item = flagged(people["social_member"], granted, proposed="x")
    correction = Correction.objects.get(pk=item["id"])
    assert corrections.sweep(now=correction.created_at) == {"reminded": 0, "escalated": 0}
    near = correction.due_at - timedelta(hours=1)
    assert corrections.sweep(now=near) == {"reminded": 1, "escalated": 0}
    assert corrections.sweep(now=near) == {"reminded": 0, "escalated": 0}
    due = Event.objects.get(action="dataset.correction_due")
    assert people["tax_steward"].pk in due.details["recipients"]
    late = correction.due_at + timedelta(minutes=1)
    assert corrections.sweep(now=late) == {"reminded": 0, "escalated": 1}
    assert corrections.sweep(now=late) == {"reminded": 0, "escalated": 0}
    overdue = Event.objects.get(action="dataset.correction_overdue")
    assert hr_head_tax.pk in overdue.details["recipients"] and people["admin"].pk in overdue.details["recipients"]
    page = Api(people["social_member"]).get(f"/datasets/{granted.pk}/corrections").json()["items"][0]
    assert page["status"] == "open"


def test_a_reader_of_two_departments_chooses_which_one_reports_on_the_page(granted, people, org_units, client_for):
    from sharehub.org.models import Membership

    reader = people["social_member"]
    Membership.objects.create(user=reader, department=org_units["health"], role=Membership.Role.MEMBER)
    client = client_for(reader)
    url = f"/resources/{granted.code}/data/corrections/"
    form = client.get(url).content.decode()
    assert 'name="department"' in form and org_units["health"].name in form and org_units["social"].name in form
    assert form.index(org_units["social"].name) < form.index(org_units["health"].name)  # the grant holder first
    record_id = first_id(reader, granted)
    body = {"record_id": record_id, "field": "name", "evidence": "名称不同"}
    refused = client.post(url + "report/", body | {"department": str(org_units["tax"].pk)}, follow=True)
    assert "only if you belong to it" in refused.content.decode() and not Correction.objects.exists()
    assert client.post(url + "report/", body | {"department": "1; DROP TABLE"}, follow=True).status_code == 200
    assert not Correction.objects.exists()
    assert client.post(url + "report/", body | {"department": str(org_units["social"].pk)}).status_code == 302
    assert Correction.objects.get().reporter_department_id == org_units["social"].pk
    Correction.objects.all().delete()
    flagged(reader, granted)  # the API, naming no department: the one the grant reads through
    assert Correction.objects.get().reporter_department_id == org_units["social"].pk


def test_a_reader_of_one_department_is_not_asked_which(granted, people, client_for):
    form = client_for(people["social_member"]).get(f"/resources/{granted.code}/data/corrections/").content.decode()
    assert 'name="department"' not in form
