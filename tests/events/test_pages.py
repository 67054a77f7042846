"""The audit page: auditors only, filters, chain verification and CSV export."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.db import connection
from django.test import Client

from sharehub.events.models import Event
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def activity(org_units, people):
    tax, health = org_units["tax"], org_units["health"]
    return {
        "tax": factories.resource(tax, by=people["tax_steward"], title="税务公开目录"),
        "health": factories.resource(health, title="卫健通知"),
    }


def test_auditor_sees_the_audit_page(activity, people, client_for):
    response = client_for(people["auditor"]).get("/audit/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "resource.created" in html
    assert "税务公开目录" in html
    page = response.context["page"]
    assert page.paginator.count == Event.objects.count()


@pytest.mark.parametrize("who", ["tax_member", "tax_steward", "admin"])
def test_non_auditors_get_404_everywhere(activity, people, client_for, who):
    client = client_for(people[who])
    assert client.get("/audit/").status_code == 404
    assert client.post("/audit/verify/").status_code == 404
    assert client.get("/audit/export.csv").status_code == 404


def test_anonymous_is_sent_to_login():
    response = Client().get("/audit/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_audit_link_only_in_auditor_navigation(people, client_for):
    assert 'href="/audit/"' in client_for(people["auditor"]).get("/").content.decode()
    assert 'href="/audit/"' not in client_for(people["tax_member"]).get("/").content.decode()


def test_filters_action_actor_department_text(activity, org_units, people, client_for):
    client = client_for(people["auditor"])

    def seqs(params):
        response = client.get("/audit/", params)
        assert response.status_code == 200
        return {e.seq for e in response.context["page"].object_list}

    by_action = seqs({"action": "resource.created"})
    assert by_action == set(Event.objects.filter(action="resource.created").values_list("seq", flat=True))
    assert len(by_action) == 2
    by_actor = seqs({"actor": "tax_steward"})
    assert by_actor and all(Event.objects.get(seq=s).actor_name == "tax_steward" for s in by_actor)
    tax = org_units["tax"].pk
    by_dept = seqs({"department": tax, "action": "resource.created"})
    assert by_dept == {Event.objects.get(action="resource.created", target_label__contains="税务公开目录").seq}
    by_text = seqs({"q": "卫健通知"})
    assert by_text and all("卫健通知" in Event.objects.get(seq=s).target_label for s in by_text)
    by_target = seqs({"target_type": "catalog.resource", "target_id": activity["health"].pk})
    assert by_target and all(Event.objects.get(seq=s).target_id == str(activity["health"].pk) for s in by_target)


def test_date_filters_are_whole_days(activity, people, client_for):
    client = client_for(people["auditor"])
    everything = client.get("/audit/", {"since": "2000-01-01", "until": "2999-12-31"})
    assert everything.context["page"].paginator.count == Event.objects.count()
    nothing = client.get("/audit/", {"until": "2000-01-01"})
    assert nothing.context["page"].paginator.count == 0
    bad = client.get("/audit/", {"since": "not-a-date"})
    assert bad.status_code == 200  # the bad field is shown as an error and ignored
    assert bad.context["form"].errors.get("since")


def test_htmx_request_gets_only_the_table(activity, people, client_for):
    response = client_for(people["auditor"]).get(
        "/audit/", {"action": "resource.created"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="audit-table"
    )
    html = response.content.decode()
    assert "<table" in html
    assert "<html" not in html


def test_pagination(activity, people, client_for):
    client = client_for(people["auditor"])
    total = Event.objects.count()
    assert total > 0
    from sharehub.events import views

    first = client.get("/audit/")
    assert len(first.context["page"].object_list) == min(total, views.PAGE_SIZE)
    top = Event.objects.order_by("-seq").first()
    assert first.context["page"].object_list[0].seq == top.seq


def test_verify_reports_intact_chain(activity, people, client_for):
    client = client_for(people["auditor"])
    response = client.post("/audit/verify/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="verify-ok"' in html
    assert str(Event.objects.count()) in html
    full = client.post("/audit/verify/")  # without htmx: the whole page with the result
    assert 'id="verify-ok"' in full.content.decode() and "<table" in full.content.decode()


def test_verify_reports_a_tampered_chain(activity, people, client_for):
    victim = Event.objects.filter(action="resource.created").order_by("seq").first()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE events_event SET target_label = %s WHERE seq = %s", ["forged", victim.seq])
    response = client_for(people["auditor"]).post("/audit/verify/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'id="verify-broken"' in html
    assert f"#{victim.seq}" in html


def test_export_csv_has_bom_and_filtered_rows(activity, people, client_for):
    response = client_for(people["auditor"]).get("/audit/export.csv", {"action": "resource.created"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["seq", "time", "actor", "action"]
    assert len(rows) == 3
    assert {r[3] for r in rows[1:]} == {"resource.created"}
    assert any("税务公开目录" in r[6] for r in rows[1:])
    details = json.loads(rows[1][8]) if rows[1][8] else {}
    assert isinstance(details, dict)


def test_export_neutralises_formulas(people, client_for, org_units):
    factories.department("=1+2", "EVIL")
    response = client_for(people["auditor"]).get("/audit/export.csv", {"action": "department.created"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "'=1+2" in body


def test_no_page_edits_or_deletes_events(activity, people, client_for):
    client = client_for(people["auditor"])
    before = list(Event.objects.order_by("seq").values_list("seq", "hash"))
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)("/audit/").status_code == 405
    assert client.post("/audit/").status_code == 405
    assert client.post("/audit/export.csv").status_code == 405
    assert list(Event.objects.order_by("seq").values_list("seq", "hash"))[: len(before)] == before


def test_times_are_shown_in_the_viewers_zone(activity, people, client_for):
    from zoneinfo import ZoneInfo

    from django.utils import timezone as tz

    auditor = people["auditor"]
    auditor.time_zone = "America/New_York"
    auditor.save(update_fields=["time_zone"])
    event = Event.objects.order_by("-seq").first()
    expected = tz.localtime(event.created_at, ZoneInfo("America/New_York")).strftime("%Y-%m-%d %H:%M:%S")
    html = client_for(auditor).get("/audit/").content.decode()
    assert expected in html
    assert "America/New_York" in html
