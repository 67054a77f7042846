"""The catalog list: filters, htmx partial, pagination, counts and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sharehub.catalog.models import Resource
from tests import factories

LIST = reverse("catalog:list")
EXPORT = reverse("catalog:export")


@pytest.fixture
def catalog(org_units, people):
    tax, hr, social, health = (org_units[k] for k in ("tax", "hr", "social", "health"))
    steward = people["tax_steward"]
    return {
        "open": factories.resource(tax, by=steward, title="纳税信用等级名单", tags=["税务", "信用"]),
        "conditional": factories.resource(
            tax, by=steward, title="企业纳税明细", sharing_type="conditional", kind="dataset", body="机密正文"
        ),
        "restricted": factories.resource(tax, by=steward, title="稽查案件线索", sharing_type="restricted"),
        "draft": factories.resource(tax, by=steward, title="草稿中的通知", publish=False),
        "scoped_hr": factories.resource(tax, by=steward, title="只给人社的数据", scope=[hr]),
        "social": factories.resource(social, title="参保人数月报", kind="notice"),
        "health": factories.resource(health, title="医院床位统计", tags=["卫生"]),
    }


def titles(response) -> str:
    return response.content.decode()


def test_anonymous_is_sent_to_sign_in(client, catalog):
    response = client.get(LIST)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_list_shows_only_what_the_person_may_see(client_for, people, catalog):
    response = client_for(people["health_member"]).get(LIST)
    assert response.status_code == 200
    html = titles(response)
    for visible in ("open", "conditional", "social", "health"):
        assert catalog[visible].title in html
    for hidden in ("restricted", "draft", "scoped_hr"):
        assert catalog[hidden].title not in html
        assert catalog[hidden].code not in html
    assert response.context["total"] == 4
    counts = {c["value"]: c["count"] for c in response.context["sharing_counts"]}
    assert counts == {"open": 3, "conditional": 1, "restricted": 0}
    assert "sh-badge-conditional" in html


def test_owner_sees_drafts_and_restricted(client_for, people, catalog):
    html = titles(client_for(people["tax_member"]).get(LIST))
    for key in ("restricted", "draft", "scoped_hr"):
        assert catalog[key].title in html


def test_scope_covers_sub_departments(client_for, people, catalog):
    html = titles(client_for(people["social_member"]).get(LIST))
    assert catalog["scoped_hr"].title in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"department": "hr"}, {"social"}),
        ({"department": "hr", "f": "1"}, set()),  # sub-departments unticked
        ({"department": "hr", "f": "1", "include_sub": "on"}, {"social"}),
        ({"kind": "dataset"}, {"conditional"}),
        ({"tag": "税务"}, {"open"}),
        ({"sharing_type": "conditional"}, {"conditional"}),
        ({"status": "draft"}, set()),
        ({"q": "床位"}, {"health"}),
    ],
)
def test_filters(client_for, people, org_units, catalog, params, expected):
    if "department" in params:
        params = {**params, "department": org_units[params["department"]].pk}
    response = client_for(people["health_member"]).get(LIST, params)
    assert response.status_code == 200
    shown = {r.pk for r in response.context["resources"]}
    assert shown == {catalog[k].pk for k in expected}
    assert response.context["total"] == len(expected)


def test_updated_since_filter(client_for, people, catalog):
    Resource.objects.filter(pk=catalog["health"].pk).update(updated_at=timezone.now() - timedelta(days=40))
    since = (timezone.localdate() - timedelta(days=10)).isoformat()
    response = client_for(people["health_member"]).get(LIST, {"updated_since": since})
    shown = {r.pk for r in response.context["resources"]}
    assert catalog["health"].pk not in shown
    assert catalog["open"].pk in shown


def test_bad_filter_values_are_ignored_not_errors(client_for, people, catalog):
    response = client_for(people["health_member"]).get(
        LIST, {"department": "99999", "updated_since": "not-a-date", "page": "x"}
    )
    assert response.status_code == 200
    assert response.context["total"] == 4


def test_htmx_request_gets_only_the_results(client_for, people, catalog):
    response = client_for(people["health_member"]).get(LIST, {"kind": "notice"}, headers={"HX-Request": "true"})
    html = titles(response)
    assert response.status_code == 200
    assert "<html" not in html
    assert catalog["social"].title in html
    assert catalog["health"].title not in html
    assert "HX-Request" in response["Vary"]
    full = client_for(people["health_member"]).get(LIST)
    page = titles(full)
    assert 'hx-get="/resources/"' in page and 'hx-target="#results"' in page and 'hx-push-url="true"' in page


def test_pagination(client_for, people, org_units):
    steward = people["tax_steward"]
    for n in range(27):
        factories.resource(org_units["tax"], by=steward, title=f"分页资源{n:02d}")
    client = client_for(people["health_member"])
    first = client.get(LIST)
    assert len(first.context["resources"]) == 25
    assert first.context["total"] == 27
    second = client.get(LIST, {"page": 2})
    assert len(second.context["resources"]) == 2
    assert "page=2" in first.content.decode()


def test_publish_button_only_for_people_who_may_create(client_for, people, catalog):
    create = reverse("catalog:create")
    assert create in titles(client_for(people["health_member"]).get(LIST))
    assert create not in titles(client_for(people["auditor"]).get(LIST))


def read_csv(response) -> list[list[str]]:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_export_csv_contains_the_filtered_visible_list_and_no_content(client_for, people, catalog):
    response = client_for(people["health_member"]).get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    codes = {row[0] for row in rows[1:]}
    assert codes == {catalog[k].code for k in ("open", "conditional", "social", "health")}
    text = "\n".join(",".join(r) for r in rows)
    assert "机密正文" not in text
    assert "纳税信用等级名单" in text
    filtered = read_csv(client_for(people["health_member"]).get(EXPORT, {"sharing_type": "conditional"}))
    assert [row[0] for row in filtered[1:]] == [catalog["conditional"].code]


def test_export_link_carries_the_filters(client_for, people, catalog):
    html = titles(client_for(people["health_member"]).get(LIST, {"kind": "notice"}))
    assert f"{EXPORT}?kind=notice" in html


def test_export_neutralizes_formulas(client_for, people, org_units):
    factories.resource(org_units["health"], by=people["health_member"], title="=HYPERLINK(1)", publish=False)
    rows = read_csv(client_for(people["health_member"]).get(EXPORT))
    assert any(row[1] == "'=HYPERLINK(1)" for row in rows)
