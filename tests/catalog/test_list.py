"""The catalog list: filters, htmx partial, pagination, counts and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db.models import Exists, OuterRef
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


# --- sort, numbered pages, archived entries, dates, statement count


def _ask(person, resource):
    from sharehub.access import services as access_services

    return access_services.create_request(
        person, resource, purpose="核验", use_category="verification", period_days=10, accept_terms=True
    )


def shown(response) -> list[int]:
    return [r.pk for r in response.context["resources"]]


def test_sort_orders(client_for, people, org_units):
    steward = people["tax_steward"]
    b = factories.resource(org_units["tax"], by=steward, title="B 纳税明细", sharing_type="conditional")
    a = factories.resource(org_units["tax"], by=steward, title="A 纳税名单", sharing_type="conditional")
    c = factories.resource(org_units["health"], title="C 床位统计")
    _ask(people["social_member"], b)
    _ask(people["health_member"], b)
    _ask(people["social_member"], a)
    client = client_for(people["hr_head"])
    assert shown(client.get(LIST)) == [c.pk, a.pk, b.pk]  # newest change first
    assert shown(client.get(LIST, {"sort": "newest"})) == [c.pk, a.pk, b.pk]
    assert shown(client.get(LIST, {"sort": "title"})) == [a.pk, b.pk, c.pk]
    # 卫生健康委员会 sorts before 税务局 by code point; within a department, newest first
    by_department = sorted([c, a, b], key=lambda r: (r.owner_department.name, -r.pk))
    assert shown(client.get(LIST, {"sort": "department"})) == [r.pk for r in by_department]
    requested = client.get(LIST, {"sort": "requested"})
    assert shown(requested) == [b.pk, a.pk, c.pk]
    html = requested.content.decode()
    assert "2 requests" in html and "1 request<" in html
    assert shown(client.get(LIST, {"sort": "nonsense"})) == [c.pk, a.pk, b.pk]
    assert [row[0] for row in read_csv(client.get(EXPORT, {"sort": "title"}))[1:]] == [a.code, b.code, c.code]


def test_sort_control_submits_with_the_filters(client_for, people, catalog):
    html = titles(client_for(people["health_member"]).get(LIST, {"sort": "title"}))
    assert 'name="sort" id="id_sort" form="filters"' in html
    assert 'hx-include="#filters"' in html
    assert '<option value="title" selected>' in html


def test_numbered_pages_keep_filters_and_sort(client_for, people, org_units, monkeypatch):
    from sharehub.catalog import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for n in range(13):
        factories.resource(org_units["tax"], by=people["tax_steward"], title=f"分页{n:02d}", kind="notice")
    factories.resource(org_units["tax"], by=people["tax_steward"], title="不是通知")
    client = client_for(people["health_member"])
    response = client.get(LIST, {"kind": "notice", "sort": "title", "page": 4})
    assert [r.title for r in response.context["resources"]] == ["分页06", "分页07"]
    html = titles(response)
    link = 'href="/resources/?kind=notice&amp;sort=title&amp;page={}"'
    for n in (1, 2, 3, 5, 6, 7):  # first page, two either side, last page
        assert link.format(n) in html, n
    assert 'rel="prev" href="/resources/?kind=notice&amp;sort=title&amp;page=3"' in html
    assert 'rel="next" href="/resources/?kind=notice&amp;sort=title&amp;page=5"' in html
    assert '<li class="page-item active" aria-current="page"><span class="page-link">4</span></li>' in html
    first = titles(client.get(LIST, {"kind": "notice", "sort": "title", "page": 1}))
    assert "&hellip;" in first and link.format(7) in first and link.format(5) not in first


def test_archived_entries_are_hidden_unless_asked(client_for, people, org_units, catalog):
    from sharehub.catalog import services

    archived = factories.resource(org_units["tax"], by=people["tax_steward"], title="旧的名单")
    services.transition(people["tax_steward"], archived, "archive")
    client = client_for(people["health_member"])
    assert archived.pk not in shown(client.get(LIST))
    assert archived.title not in titles(client.get(LIST))
    assert client.get(LIST).context["total"] == 4
    assert archived.pk in shown(client.get(LIST, {"archived": "on"}))
    assert shown(client.get(LIST, {"status": "archived"})) == [archived.pk]
    codes = {row[0] for row in read_csv(client.get(EXPORT))[1:]}
    assert archived.code not in codes
    assert archived.code in {row[0] for row in read_csv(client.get(EXPORT, {"archived": "on"}))[1:]}
    assert 'name="archived"' in titles(client.get(LIST))


def test_filters_apply_on_change_without_inline_script(client_for, people, catalog):
    html = titles(client_for(people["health_member"]).get(LIST))
    form = html[html.index('<form id="filters"') : html.index("</form>", html.index('<form id="filters"'))]
    assert 'hx-trigger="change target:{select, input[type=checkbox], input[type=date], input[name=tag]}, submit' in form
    assert "data-drop-empty" in form and "/static/web/sharehub.js" in html
    content = html[html.index("<main") :]
    assert "<script>" not in content and "onchange=" not in content and "onclick=" not in content


@pytest.mark.parametrize(
    ("language", "date", "moment"),
    [("en", "5 Mar 2026", "2026-03-05 14:30"), ("zh-hans", "2026年3月5日", "2026-03-05 14:30")],
)
def test_dates_follow_the_language(language, date, moment):
    from datetime import datetime

    from django.template import Context, Template
    from django.utils import translation

    value = timezone.make_aware(datetime(2026, 3, 5, 14, 30))
    template = Template('{{ value|date }}|{{ value|date:"DATE_FORMAT" }}|{{ value|date:"DATETIME_FORMAT" }}')
    with translation.override(language):
        assert template.render(Context({"value": value})) == f"{date}|{date}|{moment}"


def test_the_list_shows_dates_in_the_persons_language(client_for, people, org_units):
    from datetime import datetime

    resource = factories.resource(org_units["tax"], by=people["tax_steward"], title="定时资源")
    moment = timezone.make_aware(datetime(2026, 3, 5, 14, 30))
    Resource.objects.filter(pk=resource.pk).update(updated_at=moment)
    client = client_for(people["health_member"])
    assert "2026-03-05 14:30" in titles(client.get(LIST))
    client.cookies["django_language"] = "zh-hans"
    detail = titles(client.get(reverse("catalog:detail", args=[resource.code])))
    assert "2026-03-05 14:30" in detail and 'lang="zh-hans"' in detail


def test_no_template_spells_out_its_own_date_pattern():
    """Every date goes through the locale formats (sharehub/formats); the audit trail keeps seconds. Pieces of a
    date are not dates: the sessions calendar's tiles (weekday, day, month, time of day) and a month form value."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "sharehub"
    offenders = []
    for path in root.glob("*/templates/**/*.html"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for pattern in line.split("|date:")[1:]:
                fmt = pattern[1 : pattern.index(pattern[0], 1)]
                allowed = ("DATE_FORMAT", "DATETIME_FORMAT", "c", "T", "YEAR_MONTH_FORMAT")
                allowed += ("D", "l", "j", "n/j", "H:i", "Y-m")
                if fmt not in allowed and path.name != "_audit_table.html":
                    offenders.append(f"{path.relative_to(root)}:{number}: {fmt}")
    assert offenders == []


@pytest.fixture
def big_catalog(org_units, people):
    """60 resources across departments, with tags, chosen scopes, access requests and reviews."""
    from sharehub.catalog import services

    tax, hr, health = org_units["tax"], org_units["hr"], org_units["health"]
    made = []
    for n in range(60):
        owner = (tax, health)[n % 2]
        made.append(
            factories.resource(
                owner,
                by=people["tax_steward"] if owner == tax else None,
                title=f"资源{n:02d}",
                sharing_type="conditional" if n % 3 == 0 else "open",
                tags=[f"标签{n % 4}", "通用"],
                scope=[hr, health] if n % 5 == 0 else None,
                publish=n % 7 != 0,
            )
        )
    for resource in made[:6]:
        if resource.status == Resource.Status.PUBLISHED and resource.sharing_type == "conditional":
            _ask(people["social_member"], resource)
    draft = next(r for r in made if r.status == Resource.Status.DRAFT and r.owner_department == tax)
    services.submit_for_review(people["tax_member"], draft)
    return made


@pytest.mark.parametrize("sort", ["newest", "title", "department", "requested"])
@pytest.mark.parametrize("partial", [False, True])
def test_the_list_runs_a_constant_number_of_statements(client_for, people, big_catalog, monkeypatch, sort, partial):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sharehub.catalog import views

    client = client_for(people["tax_steward"])
    headers = {"HX-Request": "true"} if partial else {}
    client.get(LIST)  # the session and the first-use caches are warm
    statements = {}
    for size in (5, 50):
        monkeypatch.setattr(views, "PAGE_SIZE", size)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST, {"sort": sort, "archived": "on"}, headers=headers)
        assert response.status_code == 200
        assert len(response.context["resources"]) == size
        statements[size] = len(queries)
    assert statements[5] == statements[50], statements
    assert statements[50] <= (10 if partial else 14), statements


def test_the_list_statement_count_is_pinned(
    client_for, people, big_catalog, monkeypatch, django_assert_max_num_queries
):
    from sharehub.catalog import views

    client = client_for(people["tax_steward"])
    client.get(LIST)
    for size in (5, 50):
        monkeypatch.setattr(views, "PAGE_SIZE", size)
        with django_assert_max_num_queries(14):
            client.get(LIST, {"sort": "requested"})


def test_links_are_the_reversed_addresses(client_for, people, catalog):
    """The list reverses the catalog's address once and builds each row's links from it."""
    html = client_for(people["tax_steward"]).get(LIST).content.decode()
    for key in ("open", "conditional", "draft"):
        assert f'href="{reverse("catalog:detail", args=[catalog[key].code])}"' in html
    assert f'href="{LIST}?tag=%E7%A8%8E%E5%8A%A1"' in html  # 税务


def test_the_pages_precompiled_policy_filter_selects_what_the_orm_filter_does(people, org_units, catalog):
    """The catalog and home pages filter with the policy's precompiled SQL (run_as_is); the API and
    the export with the ORM's; both give the same rows, grants included."""
    from sharehub.catalog import queries
    from sharehub.catalog.queries import ResourceFilters
    from tests.catalog.helpers import grant

    grant(catalog["conditional"], user=people["health_member"])
    grant(catalog["scoped_hr"], department=org_units["health"])
    filters = [ResourceFilters(), ResourceFilters(archived=False), ResourceFilters(department=org_units["hr"].pk)]
    for person in people.values():
        for f in filters:
            compiled = [r.pk for r in queries.list_resources(person, f, run_as_is=True)]
            assert compiled == [r.pk for r in queries.list_resources(person, f)], (person, f)
            assert queries.count_by(queries.list_resources(person, f, run_as_is=True), "sharing_type") == (
                queries.count_by(queries.list_resources(person, f), "sharing_type")
            )


def test_the_precompiled_policy_filter_refuses_to_be_put_inside_another_query(people, catalog):
    """Inside another query its table would be renamed and the SQL would test the outer rows instead."""
    from sharehub.catalog import queries

    as_is = queries.list_resources(people["health_member"], run_as_is=True)
    with pytest.raises(TypeError, match="inside another query"):
        list(Resource.objects.filter(pk__in=as_is.values("pk")))
    with pytest.raises(TypeError, match="inside another query"):
        list(Resource.objects.filter(Exists(as_is.filter(pk=OuterRef("pk")))))
