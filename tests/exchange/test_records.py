"""Records through the API: upsert, masking by grant, filters, cursor pages, exports, deletes, feed."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from sharehub.events.models import Event
from sharehub.exchange.models import Change, Record
from tests.api.conftest import Api
from tests.exchange.conftest import ROWS, grant

pytestmark = pytest.mark.django_db


def records(user, resource, **params):
    return Api(user).get(f"/datasets/{resource.pk}/records", params)


def test_owner_member_imports_and_reads_everything(tax_dataset, people):
    api = Api(people["tax_member"])
    response = api.post(f"/datasets/{tax_dataset.pk}/records", {"rows": ROWS})
    assert response.status_code == 200, response.content
    assert response.json()["inserted"] == 2
    body = records(people["tax_member"], tax_dataset).json()
    assert [r["name"] for r in body["items"]] == ["福州示例科技有限公司", "上海样例贸易有限公司"]
    assert body["items"][0]["legal_id"] == "11010519491231002X"
    assert body["items"][0]["risk_note"] == "重点关注"
    assert body["masked"] == []


def test_the_same_rows_again_change_nothing(loaded, people):
    api = Api(people["tax_member"])
    before = Change.objects.count()
    response = api.post(f"/datasets/{loaded.pk}/records", {"rows": ROWS})
    assert response.json() | {"errors": []} == response.json()
    assert response.json()["unchanged"] == 2 and response.json()["changes"] is None
    assert Change.objects.count() == before


def test_a_bad_row_writes_nothing_all_or_nothing(tax_dataset, people):
    bad = [*ROWS, {"credit_code": "91350100M000100Y44", "name": "x"}]
    response = Api(people["tax_member"]).post(f"/datasets/{tax_dataset.pk}/records", {"rows": bad})
    assert response.status_code == 422
    error = response.json()["error"]
    assert list(error["fields"]) == ["rows.3.credit_code"] and "check" in error["fields"]["rows.3.credit_code"]
    assert Record.objects.count() == 0 and Change.objects.count() == 0


def test_keep_valid_rows_writes_the_good_ones_and_reports_the_rest(tax_dataset, people):
    bad = [*ROWS, {"credit_code": "91350100M000100Y44", "name": "x"}, {"name": "no key"}]
    response = Api(people["tax_member"]).post(f"/datasets/{tax_dataset.pk}/records", {"rows": bad, "mode": "valid"})
    body = response.json()
    assert response.status_code == 200
    assert (body["inserted"], body["rejected"]) == (2, 2)
    assert {(e["row"], e["field"]) for e in body["errors"]} == {(3, "credit_code"), (4, "credit_code")}


def test_outsider_without_grant_is_refused_with_the_reason(loaded, people):
    response = records(people["social_member"], loaded)
    assert response.status_code == 403
    assert "request access" in response.json()["error"]["message"]


def test_grantee_sees_granted_fields_in_full_and_the_rest_masked(loaded, people, org_units):
    grant(loaded, department=org_units["social"], fields=["name", "legal_id"])
    body = records(people["social_member"], loaded).json()
    first = body["items"][0]
    assert first["name"] == "福州示例科技有限公司"
    assert first["legal_id"] == "11010519491231002X"
    assert first["legal_person"] == "张*"
    assert first["phone"] == "138****5678"
    assert "revenue" not in first and "risk_note" not in first  # hidden rule, secret
    assert set(body["masked"]) == {"legal_person", "phone"}


def test_secret_field_only_when_granted_by_name(loaded, people, org_units):
    grant(loaded, department=org_units["social"])  # the whole dataset, no field named
    first = records(people["social_member"], loaded).json()["items"][0]
    assert first["legal_person"] == "张三" and "risk_note" not in first
    grant(loaded, department=org_units["social"], fields=["risk_note"])
    assert records(people["social_member"], loaded).json()["items"][0]["risk_note"] == "重点关注"


def test_filters_work_only_on_fields_seen_in_full(loaded, people, org_units):
    grant(loaded, department=org_units["social"], fields=["name", "credit_code"])
    assert records(people["social_member"], loaded, legal_person="张三").status_code == 422
    assert records(people["social_member"], loaded, phone__prefix="138").status_code == 422
    hit = records(people["social_member"], loaded, name__prefix="福州").json()["items"]
    assert [r["credit_code"] for r in hit] == ["91350100M000100Y43"]


def test_filters_and_sort_for_the_owner(loaded, people):
    owner = people["tax_member"]

    def names(**params) -> list[str]:
        return [r["name"] for r in records(owner, loaded, **params).json()["items"]]

    assert names(revenue__gt="1000000") == ["福州示例科技有限公司"]
    assert names(sort="-registered")[0] == "上海样例贸易有限公司"
    by_id = records(owner, loaded, legal_id="11010519491231002x").json()["items"]  # encrypted: blind index
    assert [r["name"] for r in by_id] == ["福州示例科技有限公司"]
    assert records(owner, loaded, legal_id__prefix="1101").status_code == 422
    assert [r["name"] for r in records(owner, loaded, q="贸易").json()["items"]] == ["上海样例贸易有限公司"]
    assert records(owner, loaded, risk_note__null="true").json()["items"][0]["name"] == "上海样例贸易有限公司"


def test_cursor_pages_cover_every_row_once(tax_dataset, people):
    import random

    from sharehub.exchange import services
    from sharehub.exchange.types import make_credit_code

    rng = random.Random(5)
    rows = [{"credit_code": make_credit_code(rng), "name": f"公司{i}", "revenue": str(i % 7)} for i in range(57)]
    services.upsert(people["tax_member"], tax_dataset, rows)
    for sort in ("", "revenue", "-revenue", "name"):
        seen, cursor = [], ""
        while True:
            params = {"limit": "10", "sort": sort} | ({"cursor": cursor} if cursor else {})
            body = records(people["tax_member"], tax_dataset, **params).json()
            seen.extend(r["_id"] for r in body["items"])
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert len(seen) == len(set(seen)) == 57, sort


def test_exports_are_masked_like_the_pages(loaded, people, org_units):
    grant(loaded, department=org_units["social"], fields=["name"])
    response = records(people["social_member"], loaded, format="csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0]["legal_id"] == "110105********002X" and "risk_note" not in rows[0]
    xlsx = records(people["social_member"], loaded, format="xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert "11010519491231002X" not in str(values) and "110105********002X" in str(values)


def test_each_outside_read_is_one_event_with_rows_and_fields(loaded, people, org_units):
    grant(loaded, department=org_units["social"], fields=["name"])
    records(people["social_member"], loaded)
    event = Event.objects.filter(action="dataset.records_read").get()
    assert event.details["rows"] == 2 and "name" in event.details["fields"]
    records(people["tax_member"], loaded)
    assert Event.objects.filter(action="dataset.records_read").count() == 1  # the owner's reads are not logged


def test_lookup_by_key(loaded, people):
    api = Api(people["tax_member"])
    found = api.get(f"/datasets/{loaded.pk}/record", {"credit_code": "91350100m000100y43"})
    assert found.status_code == 200 and found.json()["name"] == "福州示例科技有限公司"
    assert api.get(f"/datasets/{loaded.pk}/record", {"credit_code": "91350100M000100Y43"[:-1] + "4"}).status_code == 422


def test_delete_by_key_and_delete_all_with_the_count(loaded, people):
    api = Api(people["tax_member"])
    gone = api.post(f"/datasets/{loaded.pk}/records/delete", {"keys": ["91350100M000100Y43"]})
    assert gone.json()["deleted"] == 1
    assert api.post(f"/datasets/{loaded.pk}/records/delete-all", {"expected": 5}).status_code == 409
    assert api.post(f"/datasets/{loaded.pk}/records/delete-all", {"expected": 1}).json()["deleted"] == 1
    assert Record.objects.count() == 0


def test_replaying_the_feed_rebuilds_what_the_reader_may_read(loaded, people, org_units):
    from sharehub.exchange import services

    services.upsert(people["tax_member"], loaded, [ROWS[0] | {"name": "福州示例科技（改名）"}])
    services.delete_by_keys(people["tax_member"], loaded, [ROWS[1]["credit_code"]])
    grant(loaded, department=org_units["social"], fields=["name"])
    reader = people["social_member"]
    rebuilt: dict[str, dict] = {}
    since = 0
    while True:
        body = Api(reader).get(f"/datasets/{loaded.pk}/changes", {"since": since, "limit": 2}).json()
        for change in body["changes"]:
            if change["op"] == "delete":
                rebuilt.pop(change["_id"], None)
            else:
                rebuilt[change["_id"]] = change["values"]
        if body["next_since"] == since:
            break
        since = body["next_since"]
    current = {r["_id"]: {k: v for k, v in r.items() if k != "_id"} for r in records(reader, loaded).json()["items"]}
    assert rebuilt == current and len(current) == 1


def test_grant_holders_are_told_when_records_change(loaded, people, org_units):
    from sharehub.events import consumers
    from sharehub.exchange import services
    from sharehub.feeds.models import Notification

    grant(loaded, department=org_units["social"], fields=["name"])
    services.upsert(people["tax_member"], loaded, [ROWS[0] | {"name": "新名称有限公司"}])
    consumers.run_pending()
    notice = Notification.objects.get(recipient=people["social_member"])
    assert notice.event.action == "dataset.records_changed" and notice.event.details["updated"] == 1
    page = Api(people["social_member"]).client.get("/notifications/").content.decode()
    assert "1 changed" in page and "纳税人登记信息" in page


def test_replace_all_deletes_what_the_rows_leave_out_when_the_count_matches(loaded, people):
    api = Api(people["tax_member"])
    rows = [ROWS[0]]
    dry = api.post(f"/datasets/{loaded.pk}/records", {"rows": rows, "dry_run": True}).json()
    assert dry["would_delete"] == 1 and Record.objects.count() == 2
    refused = api.post(f"/datasets/{loaded.pk}/records", {"rows": rows, "replace_expected": 5})
    assert refused.status_code == 409 and Record.objects.count() == 2
    done = api.post(f"/datasets/{loaded.pk}/records", {"rows": rows, "replace_expected": 1}).json()
    assert (done["deleted"], done["unchanged"]) == (1, 1) and Record.objects.count() == 1
    loaded.dataset.refresh_from_db()
    assert loaded.dataset.record_count == 1


@pytest.mark.parametrize("route", ["records", "changes"])
def test_statement_count_does_not_grow_with_the_page(tax_dataset, people, org_units, route):
    import random

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sharehub.exchange import services
    from sharehub.exchange.types import make_credit_code

    rng = random.Random(9)
    rows = [{"credit_code": make_credit_code(rng), "name": f"公司{i}", "legal_id": None} for i in range(40)]
    services.upsert(people["tax_member"], tax_dataset, rows)
    grant(tax_dataset, department=org_units["social"], fields=["name"])
    api = Api(people["social_member"])

    def statements(limit: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(f"/datasets/{tax_dataset.pk}/{route}", {"limit": limit}).status_code == 200
        return len(captured)

    statements(1)  # warm: the session, the actor's context
    assert statements(2) == statements(40)


def test_a_field_left_out_keeps_its_stored_value_and_null_clears_it(loaded, people):
    api = Api(people["tax_member"])
    code = ROWS[0]["credit_code"]
    changed = api.post(f"/datasets/{loaded.pk}/records", {"rows": [{"credit_code": code, "name": "只改名称"}]})
    assert changed.json()["updated"] == 1
    row = api.get(f"/datasets/{loaded.pk}/record", {"credit_code": code}).json()
    assert row["name"] == "只改名称" and row["legal_id"] == "11010519491231002X" and row["risk_note"] == "重点关注"
    again = api.post(f"/datasets/{loaded.pk}/records", {"rows": [{"credit_code": code, "name": "只改名称"}]})
    assert again.json()["unchanged"] == 1
    api.post(f"/datasets/{loaded.pk}/records", {"rows": [{"credit_code": code, "risk_note": None}]})
    assert api.get(f"/datasets/{loaded.pk}/record", {"credit_code": code}).json()["risk_note"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "W10"},  # []
        {"cursor": "WzEsMl0"},  # [1, 2] without a sort
        {"cursor": "Wzk5OTk5OTk5OTk5OTk5OTk5OTk5OTld"},  # a pk beyond the database's integers
        {"sort": "revenue", "cursor": "WyJhYmMiLDVd"},  # ["abc", 5] for a number field
        {"sort": "name", "cursor": "W3siYSI6MX0sNV0"},  # [{"a":1}, 5]
        {"sort": "name", "cursor": "not base64 !!"},
        {"limit": "0"},
        {"limit": "99999999999"},
        {"revenue__gt": "abc"},
        {"registered__gte": "2024-13-01"},
        {"nosuchfield": "1"},
        {"name__between": "1"},
        {"name__in": ",".join(["x"] * 501)},
        {"format": "pdf"},
        {"q": "\x00"},
    ],
)
def test_hostile_record_queries_get_a_clear_422(loaded, people, params):
    response = records(people["tax_member"], loaded, **params)
    assert response.status_code in (200, 422), response.content
    if response.status_code == 422:
        assert response.json()["error"]["fields"]


def test_a_feed_position_beyond_the_database_integers_is_refused(loaded, people):
    response = Api(people["tax_member"]).get(f"/datasets/{loaded.pk}/changes", {"since": str(2**70)})
    assert response.status_code == 422
