"""The search API: results, filters, facets, paging, sort, errors, permissions, suggestions and saved
searches. The dictionary routes are in test_terms.py."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from sharehub.catalog.models import Resource
from sharehub.events.models import Event
from sharehub.search.models import SavedSearch
from tests import factories
from tests.api.conftest import Api, error_of, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(org_units, people, indexed):
    """Resources about 社保 in three departments, in each sharing type, indexed."""
    tax, hr, social, health = org_units["tax"], org_units["hr"], org_units["social"], org_units["health"]
    made = {
        "notice": factories.resource(
            tax,
            by=people["tax_steward"],
            kind="notice",
            title="社保缴费基数调整通知",
            summary="关于2024年度社会保险缴费基数的通知",
            tags=["社保", "通知"],
        ),
        "licence": factories.resource(
            tax,
            by=people["tax_steward"],
            sharing_type="conditional",
            title="营业执照核验接口",
            summary="企业登记信息核验",
            body="接口密钥在附件中 secretword",
            tags=["社保"],
        ),
        "card": factories.resource(hr, kind="dataset", title="社保卡办理网点", summary="全市社保卡网点名单"),
        "pension": factories.resource(social, title="养老保险待遇测算", summary="社保待遇测算口径"),
        "private": factories.resource(health, sharing_type="restricted", title="社保医疗结算明细", summary="社保"),
    }
    indexed()
    return made


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [hit["title"] for hit in response.json()["results"]]


def facet(body: dict, name: str) -> dict[str, tuple[int, bool]]:
    return {f["value"]: (f["count"], f["selected"]) for f in body["facets"][name]}


# --- results


def test_search_returns_hits_with_links_and_highlights(library, people):
    response = Api(people["health_member"]).get("/search", {"q": "社保缴费"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["query"] == "社保缴费"
    assert (body["total"], body["page"], body["pages"], body["page_size"]) == (1, 1, 1, 20)
    assert body["unknown_filters"] == {}
    [hit] = body["results"]
    notice = library["notice"]
    assert hit["id"] == notice.pk and hit["code"] == notice.code
    assert hit["title"] == "社保缴费基数调整通知"
    assert "<mark>社保</mark>" in hit["title_html"] and "<mark>缴费</mark>" in hit["title_html"]
    assert (hit["kind"], hit["sharing_type"], hit["status"]) == ("notice", "open", "published")
    assert hit["department"] == {"id": notice.owner_department_id, "name": "税务局"}
    assert hit["can_read"] is True and hit["score"] > 0
    assert hit["snippet_source"] == "summary" and "<mark>缴费</mark>" in hit["snippet_html"]
    assert hit["url"] == reverse("catalog:detail", args=[notice.code])
    assert hit["api_url"] == f"/api/v1/resources/{notice.code}"
    assert Api(people["health_member"]).client.get(hit["api_url"]).status_code == 200
    assert hit["updated_at"]


def test_bearer_token_works_like_a_session(library, people):
    from sharehub.org import services as org

    _token, secret = org.issue_token(people["health_member"], people["health_member"], name="search")
    assert titles(Api(token=secret).get("/search", {"q": "社保卡"})) == ["社保卡办理网点"]


def test_only_what_the_caller_may_see_is_matched_and_counted(library, people):
    outsider = Api(people["tax_member"]).get("/search", {"q": "社保"}).json()
    assert outsider["total"] == 4
    assert "社保医疗结算明细" not in [h["title"] for h in outsider["results"]]
    assert sum(f["count"] for f in outsider["facets"]["sharing_type"]) == 4
    assert "restricted" not in facet(outsider, "sharing_type")
    owner = Api(people["admin"]).get("/search", {"q": "社保"}).json()
    assert owner["total"] == 5


def test_a_conditional_resource_without_a_grant_shows_no_content(library, people):
    caller = Api(people["health_member"])
    [hit] = caller.get("/search", {"q": "营业执照"}).json()["results"]
    assert hit["can_read"] is False
    assert "secretword" not in hit["snippet_html"] and "密钥" not in hit["snippet_html"]
    assert hit["snippet_source"] in ("summary", "catalog")
    assert caller.get("/search", {"q": "secretword"}).json()["total"] == 0
    assert not Event.objects.filter(action="resource.read").exists()


def test_a_grant_opens_the_content_and_quoting_it_is_a_read(library, people):
    caller = Api(people["health_member"])
    grant(library["licence"], user=people["health_member"])
    [hit] = caller.get("/search", {"q": "secretword"}).json()["results"]
    assert hit["can_read"] is True
    assert hit["snippet_source"] == "body" and "<mark>secretword</mark>" in hit["snippet_html"]
    [event] = Event.objects.filter(action="resource.read")
    assert event.details["via"] == "api" and event.details["resources"] == [library["licence"].code]
    # Open content quoted, or closed content not quoted, is not a read.
    caller.get("/search", {"q": "社保卡"})
    caller.get("/search", {"q": "营业执照"})
    assert Event.objects.filter(action="resource.read").count() == 1


# --- filters and facets


def test_facets_count_every_match_and_mark_the_chosen_values(library, people, org_units):
    caller = Api(people["tax_member"])
    body = caller.get("/search", {"q": "社保"}).json()
    departments = facet(body, "department")
    assert departments == {
        str(org_units["tax"].pk): (2, False),
        str(org_units["hr"].pk): (1, False),
        str(org_units["social"].pk): (1, False),
    }
    assert {f["label"] for f in body["facets"]["department"]} == {"税务局", "人力资源和社会保障局", "社会保险中心"}
    assert facet(body, "kind") == {"notice": (1, False), "document": (2, False), "dataset": (1, False)}
    assert facet(body, "sharing_type") == {"open": (3, False), "conditional": (1, False)}
    assert facet(body, "tag")["社保"] == (2, False)
    # The periods contain each other: everything from this week is also from this month and year.
    assert facet(body, "updated") == {"7d": (4, False), "30d": (4, False), "365d": (4, False)}

    chosen = caller.get("/search", {"q": "社保", "kind": "notice", "tag": "社保"}).json()
    assert [h["title"] for h in chosen["results"]] == ["社保缴费基数调整通知"]
    assert facet(chosen, "kind") == {"notice": (1, True)}
    assert facet(chosen, "tag")["社保"] == (1, True)


def test_department_filter_takes_several_ids_and_includes_sub_departments(library, people, org_units):
    caller = Api(people["tax_member"])
    hr_only = caller.get("/search", {"q": "社保", "department": org_units["hr"].pk})
    assert sorted(titles(hr_only)) == ["养老保险待遇测算", "社保卡办理网点"]
    assert facet(hr_only.json(), "department")[str(org_units["social"].pk)] == (1, False)
    both = caller.get("/search", {"q": "社保", "department": [org_units["social"].pk, org_units["tax"].pk]})
    assert sorted(titles(both)) == ["养老保险待遇测算", "社保缴费基数调整通知", "营业执照核验接口"]
    selected = facet(both.json(), "department")
    assert selected[str(org_units["tax"].pk)] == (2, True) and selected[str(org_units["social"].pk)] == (1, True)


def test_sharing_type_is_repeatable_and_updated_buckets_filter(library, people):
    caller = Api(people["admin"])
    closed = caller.get("/search", {"q": "社保", "sharing_type": ["conditional", "restricted"]})
    assert sorted(titles(closed)) == ["社保医疗结算明细", "营业执照核验接口"]
    Resource.objects.filter(pk=library["card"].pk).update(updated_at=timezone.now() - timedelta(days=100))
    Resource.objects.filter(pk=library["pension"].pk).update(updated_at=timezone.now() - timedelta(days=800))
    past_year = titles(caller.get("/search", {"q": "社保", "updated": "365d"}))
    assert "社保卡办理网点" in past_year and "养老保险待遇测算" not in past_year and len(past_year) == 4
    assert titles(caller.get("/search", {"q": "社保", "updated": "older"})) == ["养老保险待遇测算"]
    buckets = facet(caller.get("/search", {"q": "社保", "updated": "older"}).json(), "updated")
    assert buckets == {"older": (1, True)}
    assert facet(caller.get("/search", {"q": "社保"}).json(), "updated") == {
        "7d": (3, False),
        "30d": (3, False),
        "365d": (4, False),
        "older": (1, False),
    }


def test_filters_in_the_query_text_and_names_that_match_nothing(library, people, org_units):
    caller = Api(people["tax_member"])
    assert sorted(titles(caller.get("/search", {"q": "社保 dept:人力资源和社会保障局"}))) == [
        "养老保险待遇测算",
        "社保卡办理网点",
    ]
    assert titles(caller.get("/search", {"q": "社保 kind:dataset"})) == ["社保卡办理网点"]
    body = caller.get("/search", {"q": "社保 dept:不存在的局 kind:spreadsheet"}).json()
    assert body["unknown_filters"] == {"dept": ["不存在的局"], "kind": ["spreadsheet"]}
    assert body["total"] == 0 and body["results"] == []


def test_filters_alone_list_resources_newest_first(library, people):
    body = Api(people["tax_member"]).get("/search", {"kind": "dataset"}).json()
    assert [h["title"] for h in body["results"]] == ["社保卡办理网点"]
    assert body["results"][0]["score"] == 0


# --- paging and sort


@pytest.fixture
def reports(org_units, indexed):
    tax = org_units["tax"]
    made = [factories.resource(tax, title=f"月度统计报表 第{n}期", summary="统计报表") for n in range(1, 6)]
    now = timezone.now()
    for age, resource in enumerate(reversed(made)):  # the last made is the newest
        Resource.objects.filter(pk=resource.pk).update(updated_at=now - timedelta(hours=age))
    indexed()
    return made


def test_pages_cover_every_hit_once(reports, people):
    caller = Api(people["tax_member"])
    seen = []
    for page in (1, 2, 3):
        body = caller.get("/search", {"q": "报表", "page": page, "page_size": 2}).json()
        assert (body["total"], body["pages"], body["page"], body["page_size"]) == (5, 3, page, 2)
        seen += [h["id"] for h in body["results"]]
    assert sorted(seen) == sorted(r.pk for r in reports) and len(seen) == 5
    beyond = caller.get("/search", {"q": "报表", "page": 4, "page_size": 2}).json()
    assert beyond["results"] == [] and beyond["total"] == 5


def test_sort_by_date_is_newest_first(reports, people):
    caller = Api(people["tax_member"])
    dated = caller.get("/search", {"q": "报表", "sort": "date"}).json()["results"]
    assert [h["id"] for h in dated] == [r.pk for r in reversed(reports)]
    stamps = [h["updated_at"] for h in dated]
    assert stamps == sorted(stamps, reverse=True)


def test_relevance_ranks_title_matches_first(org_units, people, indexed):
    tax = org_units["tax"]
    factories.resource(tax, title="办事指南", summary="其中提到公积金一次")
    factories.resource(tax, title="公积金提取办法", summary="公积金提取条件")
    indexed()
    results = Api(people["tax_member"]).get("/search", {"q": "公积金", "sort": "relevance"}).json()["results"]
    assert [h["title"] for h in results] == ["公积金提取办法", "办事指南"]
    assert results[0]["score"] > results[1]["score"]


# --- errors


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "社保", "kind": "spreadsheet"}, "kind"),
        ({"q": "社保", "sharing_type": ["open", "secret"]}, "sharing_type"),
        ({"q": "社保", "updated": "yesterday"}, "updated"),
        ({"q": "社保", "sort": "random"}, "sort"),
        ({"q": "社保", "page": 0}, "page"),
        ({"q": "社保", "page": 501}, "page"),
        ({"q": "社保", "page": "two"}, "page"),
        ({"q": "社保", "page_size": 101}, "page_size"),
        ({"q": "社保", "department": "tax"}, "department"),
        ({"q": "社保", "department": 0}, "department"),
        ({"q": "-secretword"}, "q"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(library, people, params, field):
    response = Api(people["tax_member"]).get("/search", params)
    assert response.status_code == 422, response.content
    error = error_of(response)
    assert error["code"] == "invalid"
    assert [name.split(".")[0] for name in error["fields"]] == [field], error


def test_choices_are_named_in_the_error(library, people):
    error = error_of(Api(people["tax_member"]).get("/search", {"kind": "spreadsheet"}))
    assert "document" in error["fields"]["kind"] and "dataset" in error["fields"]["kind"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/search?q=社保"),
        ("get", "/search/suggest?q=社保"),
        ("get", "/search/saved"),
        ("post", "/search/saved"),
        ("delete", "/search/saved/1"),
        ("get", "/search/terms"),
        ("post", "/search/terms"),
        ("delete", "/search/terms/1"),
    ],
)
def test_anonymous_callers_get_401(library, method, path):
    caller = Api()
    response = caller.post(path, {"name": "x", "query": "y"}) if method == "post" else getattr(caller, method)(path)
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"


def test_a_wrong_token_is_401(library):
    assert Api(token="shr_not-a-real-token").get("/search", {"q": "社保"}).status_code == 401


# --- suggestions


def test_suggestions_name_resources_and_tags_with_links(library, people):
    response = Api(people["tax_member"]).get("/search/suggest", {"q": "社保"})
    assert response.status_code == 200
    items = response.json()
    resources = [i for i in items if i["kind"] == "resource"]
    tags = [i for i in items if i["kind"] == "tag"]
    assert "社保医疗结算明细" not in [i["label"] for i in resources]
    notice = next(i for i in resources if i["label"] == "社保缴费基数调整通知")
    assert notice["url"] == reverse("catalog:detail", args=[library["notice"].code])
    assert "<mark>社保</mark>" in notice["html"]
    [tag] = tags
    assert tag["label"] == "社保" and tag["html"] == "<mark>社保</mark>"
    parts = urlsplit(tag["url"])
    assert parts.path == reverse("search:page") and parse_qs(parts.query) == {"tag": ["社保"]}


def test_suggestions_for_nothing_typed_are_empty(library, people):
    assert Api(people["tax_member"]).get("/search/suggest", {"q": "  "}).json() == []
    assert Api(people["tax_member"]).get("/search/suggest").json() == []


def test_suggestions_by_pinyin_initials(library, people):
    labels = [i["label"] for i in Api(people["tax_member"]).get("/search/suggest", {"q": "sbk"}).json()]
    assert "社保卡办理网点" in labels


# --- saved searches


def test_saved_searches_are_created_listed_and_deleted(library, people, org_units):
    caller = Api(people["tax_member"])
    hr = org_units["hr"].pk
    created = caller.post(
        "/search/saved",
        {"name": "人社的社保数据", "query": "社保", "filters": {"department": [hr], "kind": "dataset", "sort": "date"}},
    )
    assert created.status_code == 201, created.content
    saved = created.json()
    assert saved["name"] == "人社的社保数据" and saved["query"] == "社保"
    assert saved["filters"] == {"department": [str(hr)], "kind": ["dataset"], "sort": ["date"]}
    parts = urlsplit(saved["search_url"])
    assert parts.path == reverse("search:page")
    applied = parse_qs(parts.query)
    assert applied == {"q": ["社保"], "department": [str(hr)], "kind": ["dataset"], "sort": ["date"]}
    # The same names work on the API: the saved search gives the same results there.
    assert titles(caller.get("/search", applied)) == ["社保卡办理网点"]
    assert Event.objects.filter(action="search.saved").count() == 1

    listed = caller.get("/search/saved").json()
    assert [s["id"] for s in listed] == [saved["id"]]
    assert parse_qs(urlsplit(listed[0]["search_url"]).query) == applied  # PostgreSQL's jsonb reorders keys

    assert caller.delete(f"/search/saved/{saved['id']}").status_code == 204
    assert caller.get("/search/saved").json() == []
    assert Event.objects.filter(action="search.saved_deleted").count() == 1
    assert caller.delete(f"/search/saved/{saved['id']}").status_code == 404


def test_someone_elses_saved_search_is_404_and_stays(library, people):
    mine = Api(people["tax_member"]).post("/search/saved", {"name": "社保", "query": "社保"}).json()
    other = Api(people["health_member"])
    assert other.get("/search/saved").json() == []
    response = other.delete(f"/search/saved/{mine['id']}")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    assert SavedSearch.objects.filter(pk=mine["id"]).exists()
    assert other.delete("/search/saved/99999999999999999999").status_code in (404, 422)


@pytest.mark.parametrize(
    ("payload", "field", "status"),
    [
        ({"query": "社保"}, "name", 422),
        ({"name": "空的"}, "query", 422),
        ({"name": "x", "query": "社保", "filters": {"colour": "red"}}, "filters", 422),
        ({"name": "x", "query": "社保", "filters": ["kind"]}, "filters", 422),
        ({"name": "x", "query": "社保", "owner": 1}, "owner", 422),
        ({"name": "x" * 101, "query": "社保"}, "name", 422),
    ],
)
def test_bad_saved_searches_are_refused_naming_the_field(library, people, payload, field, status):
    response = Api(people["tax_member"]).post("/search/saved", payload)
    assert response.status_code == status, response.content
    assert field in error_of(response)["fields"]


def test_a_second_saved_search_with_the_same_name_is_409(library, people):
    caller = Api(people["tax_member"])
    assert caller.post("/search/saved", {"name": "社保", "query": "社保"}).status_code == 201
    response = caller.post("/search/saved", {"name": "社保", "query": "社保卡"})
    assert response.status_code == 409 and "name" in error_of(response)["fields"]
    # Names are per person.
    assert Api(people["health_member"]).post("/search/saved", {"name": "社保", "query": "社保"}).status_code == 201


def test_openapi_documents_the_search_routes(people):
    schema = Api(people["health_member"]).client.get("/api/v1/openapi.json").json()
    for path, method in [
        ("/api/v1/search", "get"),
        ("/api/v1/search/suggest", "get"),
        ("/api/v1/search/saved", "get"),
        ("/api/v1/search/saved", "post"),
        ("/api/v1/search/saved/{saved_id}", "delete"),
        ("/api/v1/search/terms", "get"),
        ("/api/v1/search/terms", "post"),
        ("/api/v1/search/terms/{term_id}", "delete"),
    ]:
        assert schema["paths"][path][method]["summary"], (path, method)
    operation = schema["paths"]["/api/v1/search"]["get"]
    assert "page number" in operation["description"] and "relevance order" in operation["description"]
    parameters = {p["name"] for p in operation["parameters"]}
    assert parameters == {"q", "department", "kind", "tag", "sharing_type", "updated", "sort", "page", "page_size"}
