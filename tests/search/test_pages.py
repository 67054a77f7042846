"""The search pages: results, facets, highlights, permission, htmx partials, errors, saved searches
and the header box's suggestions."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils.html import escape

from sharehub.catalog.models import Resource
from sharehub.errors import Invalid
from sharehub.events.models import Event
from sharehub.search import queries, services
from sharehub.search.models import SavedSearch
from tests import factories
from tests.catalog.helpers import grant

PAGE = reverse("search:page")
SUGGEST = reverse("search:suggest")
SAVE = reverse("search:saved_create")
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def corpus(org_units, people, indexed):
    tax, hr, social, health = (org_units[k] for k in ("tax", "hr", "social", "health"))
    steward = people["tax_steward"]
    made = {
        "open": factories.resource(
            tax, by=steward, title="社保缴费基数调整通知", summary="关于社保缴费基数的说明", tags=["社保", "缴费"]
        ),
        "dataset": factories.resource(
            social, title="社保参保人数月报", kind=Resource.Kind.DATASET, summary="每月参保人数", tags=["社保"]
        ),
        "conditional": factories.resource(
            tax,
            by=steward,
            title="社保欠费企业名单",
            summary="欠缴社保费的企业",
            body="机密正文 quarterlysecret 社保",
            sharing_type=Resource.SharingType.CONDITIONAL,
            tags=["社保"],
        ),
        "restricted": factories.resource(
            tax,
            by=steward,
            title="社保稽查线索",
            body="restrictedmarker",
            sharing_type=Resource.SharingType.RESTRICTED,
            tags=["稽查"],
        ),
        "scoped": factories.resource(tax, by=steward, title="社保只给人社", scope=[hr], tags=["人社专用"]),
        "health": factories.resource(health, title="医院床位统计 hospital beds", tags=["卫生"]),
    }
    indexed()
    return made


def html_of(response) -> str:
    return response.content.decode()


def hit_codes(response) -> list[str]:
    return re.findall(r'class="list-group-item sh-result sh-hit[^"]*" data-code="([^"]+)"', html_of(response))


def facet_section(html: str, name: str) -> str:
    match = re.search(rf'data-facet="{name}">(.*?)</div>', html, re.S)
    return match.group(1) if match else ""


def facet_links(html: str, name: str) -> dict[str, str]:
    """label -> href of the values of one facet."""
    section = facet_section(html, name)
    pairs = re.findall(r'href="([^"]+)"[^>]*>.*?class="sh-facet-label">([^<]+)</span>', section, re.S)
    return {label: href.replace("&amp;", "&") for href, label in pairs}


# --- results, highlights, facets -----------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client, corpus):
    response = client.get(PAGE, {"q": "社保"})
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_empty_page_explains_and_does_not_search(client_for, people, corpus):
    response = client_for(people["health_member"]).get(PAGE)
    assert response.status_code == 200
    assert response.context["result"] is None
    assert "sh-intro" in html_of(response)
    assert "dept:" in html_of(response)  # the syntax help


def test_results_with_highlights_counts_and_badges(client_for, people, corpus):
    response = client_for(people["health_member"]).get(PAGE, {"q": "社保"})
    assert response.status_code == 200
    html = html_of(response)
    expected = {corpus[k].code for k in ("open", "dataset", "conditional")}
    assert set(hit_codes(response)) == expected
    assert response.context["result"].total == 3
    assert '<strong class="sh-total">3 results</strong>' in html
    assert "<mark>社保</mark>缴费基数调整通知" in html
    assert "sh-badge-conditional" in html and "sh-badge-open" in html
    assert corpus["open"].owner_department.name in html
    assert 'datetime="' in html  # the updated time


def test_restricted_and_out_of_scope_never_appear_not_even_in_counts(client_for, people, corpus):
    response = client_for(people["health_member"]).get(PAGE, {"q": "社保"})
    html = html_of(response)
    for key in ("restricted", "scoped"):
        assert corpus[key].title not in html
        assert corpus[key].code not in html
    assert "稽查" not in html and "人社专用" not in html  # their tags are not facet values
    counts = {f.value: f.count for f in response.context["result"].facets["sharing_type"]}
    assert counts == {"open": 2, "conditional": 1}
    tax_count = {f.label: f.count for f in response.context["result"].facets["department"]}[
        corpus["open"].owner_department.name
    ]
    assert tax_count == 2
    # A word only the restricted resource holds finds nothing at all.
    response = client_for(people["health_member"]).get(PAGE, {"q": "restrictedmarker"})
    assert hit_codes(response) == [] and response.context["result"].total == 0
    assert "sh-facets" not in html_of(response)


def test_updated_time_is_shown_in_the_persons_zone(client_for, people, corpus):
    moment = datetime(2024, 3, 1, 23, 30, tzinfo=UTC)
    Resource.objects.filter(pk=corpus["health"].pk).update(updated_at=moment)
    user = people["health_member"]
    assert ">2024-03-02 07:30</time>" in html_of(client_for(user).get(PAGE, {"q": "hospital"}))  # Asia/Shanghai
    user.time_zone = "America/New_York"
    user.save(update_fields=["time_zone"])
    assert ">2024-03-01 18:30</time>" in html_of(client_for(user).get(PAGE, {"q": "hospital"}))


def test_owner_department_finds_its_restricted_resource(client_for, people, corpus):
    response = client_for(people["tax_member"]).get(PAGE, {"q": "restrictedmarker"})
    assert hit_codes(response) == [corpus["restricted"].code]


def test_conditional_entry_without_grant_shows_catalog_text_and_request_link(client_for, people, corpus):
    client = client_for(people["health_member"])
    response = client.get(PAGE, {"q": "社保 企业"})
    html = html_of(response)
    assert hit_codes(response) == [corpus["conditional"].code]
    assert "机密正文" not in html and "quarterlysecret" not in html
    assert "Catalog entry only" in html
    assert reverse("access:request", args=[corpus["conditional"].code]) in html
    # Its content does not match for this person, and no read was logged.
    assert client.get(PAGE, {"q": "quarterlysecret"}).context["result"].total == 0
    assert not Event.objects.filter(action="resource.read").exists()


def test_granted_reader_gets_a_content_snippet_and_the_read_is_logged(client_for, people, corpus):
    grant(corpus["conditional"], user=people["health_member"])
    response = client_for(people["health_member"]).get(PAGE, {"q": "quarterlysecret"})
    html = html_of(response)
    assert hit_codes(response) == [corpus["conditional"].code]
    assert "<mark>quarterlysecret</mark>" in html
    assert "Catalog entry only" not in html
    read = Event.objects.get(action="resource.read")
    assert read.details["via"] == "search" and read.details["resources"] == [corpus["conditional"].code]


def test_catalog_snippet_of_an_open_resource_is_not_a_logged_read(client_for, people, corpus):
    client_for(people["health_member"]).get(PAGE, {"q": "hospital"})
    assert not Event.objects.filter(action="resource.read").exists()


def test_facet_links_toggle_filters_and_chips_remove_them(client_for, people, corpus):
    client = client_for(people["health_member"])
    html = html_of(client.get(PAGE, {"q": "社保"}))
    kinds = facet_links(html, "kind")
    assert set(kinds) == {"document", "dataset"}
    on = client.get(kinds["dataset"])
    assert parse_qs(urlsplit(kinds["dataset"]).query) == {"q": ["社保"], "kind": ["dataset"]}
    assert hit_codes(on) == [corpus["dataset"].code]
    on_html = html_of(on)
    assert 'aria-checked="true"' in facet_section(on_html, "kind")
    chips = re.findall(
        r'class="badge rounded-pill text-bg-primary text-decoration-none sh-chip" href="([^"]+)"', on_html
    )
    assert len(chips) == 1 and "Kind: dataset" in on_html
    off = facet_links(on_html, "kind")["dataset"]
    assert parse_qs(urlsplit(off).query) == {"q": ["社保"]}
    assert client.get(chips[0].replace("&amp;", "&")).context["result"].total == 3

    # Department ids (sub-departments included), tags and updated work the same way.
    dept = facet_links(html, "department")[corpus["dataset"].owner_department.name]
    assert hit_codes(client.get(dept)) == [corpus["dataset"].code]
    tag = facet_links(html, "tag")["缴费"]
    assert hit_codes(client.get(tag)) == [corpus["open"].code]
    updated = facet_links(html, "updated")["past week"]
    assert client.get(updated).context["result"].total == 3
    hr = corpus["scoped"].scope_departments.first()
    assert set(hit_codes(client.get(PAGE, {"q": "社保", "department": hr.pk}))) == {corpus["dataset"].code}


def test_filters_without_words_and_query_syntax(client_for, people, corpus):
    client = client_for(people["health_member"])
    assert set(hit_codes(client.get(PAGE, {"tag": "社保"}))) == {
        corpus[k].code for k in ("open", "dataset", "conditional")
    }
    assert hit_codes(client.get(PAGE, {"q": "社保 kind:dataset"})) == [corpus["dataset"].code]
    assert hit_codes(client.get(PAGE, {"q": '"参保人数"'})) == [corpus["dataset"].code]
    assert corpus["open"].code not in hit_codes(client.get(PAGE, {"q": "社保 -缴费"}))
    assert corpus["open"].code in hit_codes(client.get(PAGE, {"q": "shebao"}))


def test_unknown_department_and_kind_are_reported_in_words(client_for, people, corpus):
    response = client_for(people["health_member"]).get(PAGE, {"q": "社保 dept:不存在局 kind:spreadsheet"})
    assert response.status_code == 200
    html = html_of(response)
    assert escape("No department is called “不存在局”.") in html
    assert escape("“spreadsheet” is not a kind of resource.") in html
    assert hit_codes(response) == []


def test_sort_by_date_and_paging(client_for, people, org_units, indexed):
    made = [factories.resource(org_units["health"], title=f"床位报告 第{i}号") for i in range(23)]
    indexed()
    client = client_for(people["health_member"])
    first = client.get(PAGE, {"q": "床位", "sort": "date"})
    assert first.context["result"].total == 23
    assert len(hit_codes(first)) == 20
    assert hit_codes(first)[0] == made[-1].code  # newest first
    html = html_of(first)
    assert 'aria-current="page">1</a>' in html
    next_url = re.search(r'href="([^"]+)"[^>]*rel="next"', html).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(next_url).query) == {"q": ["床位"], "sort": ["date"], "page": ["2"]}
    second = client.get(next_url)
    assert len(hit_codes(second)) == 3
    assert set(hit_codes(first)).isdisjoint(hit_codes(second))
    assert 'rel="prev"' in html_of(second) and 'rel="next"' not in html_of(second)
    # A page past the last is empty, with a way back.
    beyond = client.get(PAGE, {"q": "床位", "page": 9})
    assert beyond.status_code == 200 and hit_codes(beyond) == []
    assert "There are no results on this page." in html_of(beyond)


# --- htmx ------------------------------------------------------------------------------------------


def test_htmx_request_gets_only_the_results_and_facets(client_for, people, corpus):
    client = client_for(people["health_member"])
    full = client.get(PAGE, {"q": "社保"})
    assert 'id="search-results"' in html_of(full) and "<html" in html_of(full)
    assert 'hx-target="#search-results"' in html_of(full) and 'hx-push-url="true"' in html_of(full)
    partial = client.get(PAGE, {"q": "社保", "kind": "dataset"}, **HTMX)
    html = html_of(partial)
    assert partial.status_code == 200
    assert "<html" not in html and '<nav class="navbar' not in html and 'id="search-results"' not in html
    assert "sh-facets" in html and hit_codes(partial) == [corpus["dataset"].code]
    assert "HX-Request" in partial["Vary"]
    # Facet, sort and page links carry hx-get with the same address as href (plain links without JS).
    for href, hx in re.findall(r'<a class="sh-facet[^"]*" href="([^"]+)" hx-get="([^"]+)"', html):
        assert href == hx
    restore = client.get(PAGE, {"q": "社保"}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in html_of(restore)


# --- bad input: 422 with the field and the reason, never a 500 --------------------------------------


@pytest.mark.parametrize(
    ("params", "field", "reason"),
    [
        ({"q": "-社保"}, "Search words", "a search cannot only exclude words"),
        ({"q": "社保", "kind": "spreadsheet"}, "Kind", "Choose one of"),
        ({"q": "社保", "sharing_type": "secret"}, "Sharing type", "Choose one of"),
        ({"q": "社保", "updated": "yesterday"}, "Updated", "Choose one of"),
        ({"q": "社保", "sort": "popular"}, "Sort", "Choose one of"),
        ({"q": "社保", "page": "abc"}, "Page", "Choose a page"),
        ({"q": "社保", "page": "0"}, "Page", "Choose a page"),
        ({"q": "社保", "page": "99999999999999999999"}, "Page", "Choose a page"),
        ({"q": "社保", "department": "税务局"}, "Department", "by their number"),
        ({"q": "社保", "department": "99999999999999999999999"}, "Department", "by their number"),
    ],
)
def test_bad_parameters_are_422_next_to_the_box(client_for, people, corpus, params, field, reason):
    response = client_for(people["health_member"]).get(PAGE, params)
    assert response.status_code == 422
    html = html_of(response)
    error = re.search(r'<div id="search-error"[^>]*>(.*?)</div>', html, re.S).group(1)
    assert f"<strong>{field}</strong>" in error and reason in error
    assert hit_codes(response) == []
    partial = client_for(people["health_member"]).get(PAGE, params, **HTMX)
    assert partial.status_code == 422 and 'id="search-error"' in html_of(partial)


def test_very_long_query_is_not_an_error(client_for, people, corpus):
    response = client_for(people["health_member"]).get(PAGE, {"q": "社保 " * 400})
    assert response.status_code == 200


# --- saved searches --------------------------------------------------------------------------------


def test_save_a_search_then_reopen_and_delete_it(client_for, people, corpus):
    user = people["health_member"]
    client = client_for(user)
    response = client.post(SAVE, {"name": "社保数据集", "q": "社保", "kind": "dataset", "sort": "date", "page": "2"})
    assert response.status_code == 302
    saved = SavedSearch.objects.get(owner=user)
    assert (saved.name, saved.query, saved.filters) == ("社保数据集", "社保", {"kind": ["dataset"], "sort": ["date"]})
    assert parse_qs(urlsplit(response["Location"]).query) == {"q": ["社保"], "kind": ["dataset"], "sort": ["date"]}
    assert Event.objects.filter(action="search.saved").count() == 1

    page = client.get(response["Location"])
    html = html_of(page)
    assert "Saved the search “社保数据集”." in html
    assert f'data-saved="{saved.pk}"' in html
    open_url = reverse("search:saved_open", args=[saved.pk])
    assert open_url in html
    reopened = client.get(open_url)
    assert reopened.status_code == 302 and reopened["Location"] == response["Location"]
    reopened_page = client.get(reopened["Location"])
    assert hit_codes(reopened_page) == [corpus["dataset"].code]
    assert re.search(rf'sh-saved-current" data-saved="{saved.pk}"', html_of(reopened_page))

    deleted = client.post(reverse("search:saved_delete", args=[saved.pk]), {"next": reopened["Location"]})
    assert deleted.status_code == 302 and deleted["Location"] == reopened["Location"]
    assert not SavedSearch.objects.exists()
    assert Event.objects.filter(action="search.saved_deleted").count() == 1


def test_saved_search_errors_are_shown_by_field(client_for, people, corpus):
    user = people["health_member"]
    client = client_for(user)
    empty_name = client.post(SAVE, {"name": "  ", "q": "社保"})
    assert empty_name.status_code == 422
    html = html_of(empty_name)
    assert 'id="save-name-error">Give the search a name.</div>' in html
    assert "is-invalid" in html and hit_codes(empty_name)  # the results are still there
    assert "The search was not saved. Give the search a name." in html  # also above the results

    nothing = client.post(SAVE, {"name": "空的"})
    assert nothing.status_code == 422
    assert 'data-field="query">Enter words to search for or choose a filter.' in html_of(nothing)

    services.save_search(user, name="社保", query="社保")
    taken = client.post(SAVE, {"name": "社保", "q": "医院"})
    assert taken.status_code == 409
    assert "You already have a saved search with this name." in html_of(taken)
    assert 'value="社保"' in html_of(taken)
    assert SavedSearch.objects.filter(owner=user).count() == 1
    assert client.get(SAVE).status_code == 405


def test_another_persons_saved_search_is_404(client_for, people, corpus):
    theirs = services.save_search(people["tax_member"], name="税务的", query="社保")
    client = client_for(people["health_member"])
    assert client.get(reverse("search:saved_open", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("search:saved_delete", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("search:saved_delete", args=[2**63])).status_code == 404
    assert client.get(reverse("search:saved_delete", args=[theirs.pk])).status_code == 405
    assert SavedSearch.objects.filter(pk=theirs.pk).exists()
    assert "税务的" not in html_of(client.get(PAGE, {"q": "社保"}))


def test_delete_does_not_redirect_off_site(client_for, people, corpus):
    user = people["health_member"]
    saved = services.save_search(user, name="a", query="社保")
    response = client_for(user).post(reverse("search:saved_delete", args=[saved.pk]), {"next": "https://evil.example/"})
    assert response["Location"] == PAGE


# --- the header box and its suggestions -------------------------------------------------------------


def test_header_box_goes_to_the_search_page_with_suggestions(client_for, people, corpus):
    html = html_of(client_for(people["health_member"]).get(reverse("home")))
    form = re.search(r'<form[^>]*id="header-search"[^>]*>(.*?)</form>', html, re.S)
    assert form is not None and f'action="{PAGE}"' in form.group(0)
    box = form.group(1)
    assert f'hx-get="{SUGGEST}"' in box
    assert 'hx-trigger="input changed delay:200ms, search"' in box
    assert 'hx-target="#header-suggestions"' in box and 'name="q"' in box


def test_suggestions_list_visible_titles_and_tags(client_for, people, corpus):
    response = client_for(people["health_member"]).get(SUGGEST, {"q": "社保"}, **HTMX)
    assert response.status_code == 200
    html = html_of(response)
    for key in ("open", "dataset", "conditional"):
        assert reverse("catalog:detail", args=[corpus[key].code]) in html
    for key in ("restricted", "scoped"):
        assert corpus[key].title not in html and corpus[key].code not in html
    assert "<mark>社保</mark>" in html
    tag_link = f"{PAGE}?tag={'社保'}"
    assert any(unquote == tag_link for unquote in _hrefs(html))
    assert f"{PAGE}?q=" in html  # "search for …" as the last entry


def test_suggestions_for_pinyin_and_prefix(client_for, people, corpus):
    client = client_for(people["health_member"])
    assert corpus["open"].code in html_of(client.get(SUGGEST, {"q": "shebao"}))
    assert corpus["health"].code in html_of(client.get(SUGGEST, {"q": "hosp"}))


def test_suggestions_empty_for_nothing_typed_bad_syntax_and_anonymous(client, client_for, people, corpus):
    signed_in = client_for(people["health_member"])
    assert html_of(signed_in.get(SUGGEST, {"q": "  "})).strip() == ""
    assert html_of(signed_in.get(SUGGEST)).strip() == ""
    only_excluded = signed_in.get(SUGGEST, {"q": "-社保"})
    assert only_excluded.status_code == 200 and "sh-suggestion" in html_of(only_excluded)
    assert "/resources/" not in html_of(only_excluded)
    assert signed_in.get(SUGGEST, {"q": "社" * 5000}).status_code == 200
    assert client.get(SUGGEST, {"q": "社保"}).status_code == 204


def _hrefs(html: str) -> list[str]:
    from urllib.parse import unquote

    return [unquote(h.replace("&amp;", "&")) for h in re.findall(r'href="([^"]+)"', html)]


def test_search_page_renders_in_chinese(client_for, people, corpus, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client = client_for(people["health_member"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.get(PAGE, {"q": "社保"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html_of(response)
    assert "<mark>社保</mark>" in html_of(response)


# --- hostile input -------------------------------------------------------------------------------


def test_titles_and_tags_are_escaped_around_the_highlights(client_for, people, org_units, indexed):
    factories.resource(org_units["health"], title="<script>alert(1)</script>社保", tags=["<b>社保</b>"])
    indexed()
    client = client_for(people["health_member"])
    html = html_of(client.get(PAGE, {"q": "社保"}))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<mark>社保</mark>" in html
    suggestions = html_of(client.get(SUGGEST, {"q": "社保"}))
    assert "<script>" not in suggestions and "<b>" not in suggestions
    assert "&lt;b&gt;<mark>社保</mark>&lt;/b&gt;" in suggestions


@pytest.mark.parametrize(
    ("params", "label"),
    [
        ({"q": "社保\x00"}, "Search words"),
        ({"q": "社保", "tag": "\x00"}, "Tag"),
        ({"q": "tag:\x00"}, "Search words"),
        ({"q": "社保", "page": "²"}, "Page"),
        ({"q": "社保", "department": "١"}, "Department"),
    ],
)
def test_null_characters_and_odd_digits_are_422_not_500(client_for, people, corpus, params, label):
    response = client_for(people["health_member"]).get(PAGE, params)
    assert response.status_code == 422
    assert f"<strong>{label}</strong>" in html_of(response)


def test_null_characters_in_suggestions_and_saved_names(client_for, people, corpus):
    client = client_for(people["health_member"])
    response = client.get(SUGGEST, {"q": "社\x00"})
    assert response.status_code == 200 and html_of(response).strip() == ""
    saved = client.post(SAVE, {"name": "a\x00b", "q": "社保"})
    assert saved.status_code == 422 and 'id="save-name-error"' in html_of(saved)
    assert not SavedSearch.objects.exists()


# --- bugs found in the search core and fixed there (0b62ceb): kept as regression tests ----------------


def test_core_search_with_a_null_character_in_a_tag_filter(people, corpus):
    queries.search(people["health_member"], "社保", queries.SearchFilters(tag=["\x00"]))  # no DataError


def test_core_suggest_with_a_null_character(people, corpus):
    queries.suggest(people["health_member"], "社\x00")  # no DataError


def test_core_save_search_with_a_null_character_in_the_name(people, corpus):
    with pytest.raises(Invalid) as refused:
        services.save_search(people["health_member"], name="a\x00b", query="社保")
    assert set(refused.value.fields) == {"name"}


def test_core_past_month_includes_the_past_week(people, corpus):
    result = queries.search(people["health_member"], "社保", queries.SearchFilters(updated="30d"))
    assert result.total == 3


def test_core_snippet_leaves_out_markdown_table_rules(people, org_units, indexed):
    body = "| 字段 | 类型 |\n|---|---|\n| 参保人数 | 整数 |\n"
    factories.resource(org_units["health"], title="参保统计", body=body)
    indexed()
    (hit,) = queries.search(people["health_member"], "参保人数").hits
    assert "---" not in hit.snippet.html
