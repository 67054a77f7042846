"""Help pages: every page in both languages, its table of contents and links; the help index's search; the "?"
links of every template; the API."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from sharehub.knowledge import help_pages

ROOT = Path(__file__).resolve().parents[2] / "sharehub"
HELP_LINK = re.compile(r"""\{%\s*help_link\s+["']([^"']+)["']""")
MARKDOWN_LINK = re.compile(r"\]\(\.\./([a-z0-9-]+)/(?:#([^)]+))?\)")
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_help():
    help_pages.forget()
    yield
    help_pages.forget()


def _get(client: Client, url: str, language: str):
    client.cookies["django_language"] = language
    return client.get(url, HTTP_ACCEPT_LANGUAGE=language)


# --- the pages -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", help_pages.LANGUAGES)
def test_every_topic_has_a_page_in_both_languages_with_a_title(language):
    for topic in help_pages.TOPICS:
        path = help_pages.path_of(topic, language)
        assert path.is_file(), f"missing help page {path}"
        first_line = path.read_text(encoding="utf-8").splitlines()[0]
        assert first_line.startswith("# "), f"{path} must start with '# Title'"


def test_no_stray_page_files():
    for language in help_pages.LANGUAGES:
        names = {p.stem for p in (help_pages.HELP_DIR / language).glob("*.md")}
        assert names == set(help_pages.TOPICS), names ^ set(help_pages.TOPICS)


@pytest.mark.parametrize("topic", help_pages.TOPICS)
def test_every_page_renders_in_both_languages_for_a_signed_in_person(topic, people, client_for):
    client = client_for(people["tax_member"])
    url = reverse("knowledge:help") if topic == "index" else reverse("knowledge:help-page", args=[topic])
    chinese = _get(client, url, "zh-hans")
    english = _get(client, url, "en")
    assert chinese.status_code == 200 and english.status_code == 200
    zh_page, en_page = help_pages.page(topic, "zh-hans"), help_pages.page(topic, "en")
    zh_html, en_html = chinese.content.decode(), english.content.decode()
    assert escape(zh_page.title) in zh_html and escape(en_page.title) in en_html
    # the page's own text, not the fallback note
    assert "sh-help-page" in zh_html and "not written in your language" not in en_html
    # the UI around the text is translated: the chrome's words are Chinese on the Chinese page
    for english_word in ("Help topics", "On this page", "Search the help", "All help pages", "Start here"):
        assert english_word not in zh_html, f"untranslated {english_word!r} on the Chinese {topic} page"
    assert "帮助主题" in zh_html and "Help topics" in en_html
    for section in zh_page.toc:
        assert f'id="{section.anchor}"' in zh_html
        assert f'href="#{section.anchor}"' in zh_html or topic == "index"


def test_a_help_page_is_open_without_signing_in(client):
    answer = _get(client, reverse("knowledge:help-page", args=["getting-started"]), "en")
    assert answer.status_code == 200
    assert "Getting started" in answer.content.decode()


@pytest.mark.parametrize("topic", ["nope", "INDEX", "help-page", "a" * 80, "getting_started"])
def test_an_unknown_topic_is_404(topic, people, client_for):
    client = client_for(people["tax_member"])
    assert client.get(f"/help/{topic}/").status_code == 404


def test_a_topic_with_odd_characters_is_404_not_500(people, client_for):
    client = client_for(people["tax_member"])
    for path in ("/help/..%2F..%2Fsettings/", "/help/%00/", "/help/中文/", "/help/index.md/"):
        assert client.get(path).status_code == 404, path


def test_links_between_help_pages_name_existing_topics_and_sections():
    for language in help_pages.LANGUAGES:
        anchors = {topic: {s.anchor for s in help_pages.page(topic, language).toc} for topic in help_pages.TOPICS}
        for topic in help_pages.TOPICS:
            text = help_pages.path_of(topic, language).read_text(encoding="utf-8")
            for target, anchor in MARKDOWN_LINK.findall(text):
                assert target in help_pages.TOPICS, f"{language}/{topic}.md links to unknown topic {target}"
                if anchor:
                    assert anchor in anchors[target], f"{language}/{topic}.md links to a missing #{anchor} of {target}"


def test_rendered_pages_are_cleaned_by_render_markdown():
    """The help goes through the same sanitizer as users' text: no raw HTML survives."""
    allowed = {"a", "blockquote", "br", "code", "del", "em", "h2", "h3", "h4", "hr", "li", "ol", "p", "pre", "s"}
    allowed |= {"strong", "table", "tbody", "td", "th", "thead", "tr", "ul", "img"}
    for language in help_pages.LANGUAGES:
        for page in help_pages.pages(language):
            tags = set(re.findall(r"</?([a-z0-9]+)", page.html))
            assert tags <= allowed, (page.topic, language, tags - allowed)
            assert "<script" not in page.html and "onerror" not in page.html


def test_a_page_missing_in_one_language_falls_back_with_a_note(monkeypatch, tmp_path, people, client_for):
    for language in help_pages.LANGUAGES:
        (tmp_path / language).mkdir()
    (tmp_path / "en" / "api.md").write_text("# The API\n\nOnly English.\n\n## Tokens\n\nA token.\n", encoding="utf-8")
    monkeypatch.setattr(help_pages, "HELP_DIR", tmp_path)
    help_pages.forget()
    page = help_pages.page("api", "zh-hans")
    assert page.fallback and page.language == "en" and page.title == "The API"
    answer = _get(client_for(people["tax_member"]), "/help/api/", "zh-hans")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "Only English." in html and 'lang="en"' in html
    assert "这一页还没有你所用语言的版本" in html
    assert _get(client_for(people["tax_member"]), "/help/audit/", "zh-hans").status_code == 404


# --- "?" links ------------------------------------------------------------------------------------------------


def _help_links() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for template in ROOT.rglob("templates/**/*.html"):
        for topic in HELP_LINK.findall(template.read_text(encoding="utf-8")):
            found.setdefault(topic, []).append(str(template.relative_to(ROOT)))
    return found


def test_every_help_link_in_the_templates_names_a_page_in_both_languages():
    """Keeps every part honest: a `{% help_link "x" %}` anywhere needs help/zh-hans/x.md and help/en/x.md."""
    links = _help_links()
    assert links, "no help links found"
    for topic, templates in sorted(links.items()):
        for language in help_pages.LANGUAGES:
            assert help_pages.path_of(topic, language).is_file(), (
                f"{{% help_link {topic!r} %}} in {templates[0]} has no help page {language}/{topic}.md"
            )
        assert topic in help_pages.TOPICS, f"{topic} is not in help_pages.TOPICS"


FORM = re.compile(r"<form\b", re.IGNORECASE)
# Templates whose forms are a single button or a switch that needs no help: signing out, the language switch,
# follow/unfollow and mark-as-read buttons, and the fragments included into pages that carry the link.
NO_HELP_NEEDED = {
    "web/templates/web/base.html",
    "feeds/templates/feeds/_follow.html",
    "feeds/templates/feeds/_latest.html",
    "feeds/templates/feeds/unsubscribe.html",
    "catalog/templates/catalog/_review_actions.html",
    "search/templates/search/_results.html",
    "search/templates/search/_saved.html",
    "knowledge/templates/knowledge/help/_search.html",
    # the knowledge parts' fragments and publish/review buttons, inside pages that carry their own "?" links
    "knowledge/templates/knowledge/articles/detail.html",
    "knowledge/templates/knowledge/qa/_votes.html",
    "knowledge/templates/knowledge/social/_comment.html",
}


INCLUDE = re.compile(r"""\{%\s*include\s+["']([^"']+)["']""")


def test_every_page_with_a_form_has_a_help_link():
    """Each template with a form shows a "?" itself or through a template it includes (a page's header)."""
    templates = {
        str(path.relative_to(path.parents[1])): path.read_text(encoding="utf-8")
        for path in ROOT.rglob("templates/**/*.html")
    }
    missing = []
    for template in sorted(ROOT.rglob("templates/**/*.html")):
        name = str(template.relative_to(ROOT))
        text = template.read_text(encoding="utf-8")
        included = [templates.get(child, "") for child in INCLUDE.findall(text)]
        if FORM.search(text) and not any("help_link" in t for t in [text, *included]) and name not in NO_HELP_NEEDED:
            missing.append(name)
    assert not missing, "forms without a contextual help link: " + ", ".join(missing)


def test_a_help_link_opens_its_page(people, client_for):
    from sharehub.knowledge.templatetags.help import help_link

    with translation.override("en"):
        html = help_link("requesting")
    href = re.search(r'href="([^"]+)"', html).group(1)
    assert href == "/help/requesting/"
    assert client_for(people["tax_member"]).get(href).status_code == 200


# --- search ---------------------------------------------------------------------------------------------------


def _hits(client, query: str, language: str) -> list[str]:
    html = _get(client, f"/help/?q={query}", language).content.decode()
    return re.findall(r'class="fw-semibold" href="/help/([a-z0-9-]+)/', html)


def test_help_search_finds_chinese_words(people, client_for):
    client = client_for(people["tax_member"])
    hits = _hits(client, "工作日 期限", "zh-hans")
    assert "deciding" in hits and "requesting" in hits
    assert _hits(client, "脱敏", "zh-hans")[0] == "datasets"
    assert "api" in _hits(client, "游标 分页", "zh-hans")


def test_help_search_finds_english_words_and_marks_them(people, client_for):
    client = client_for(people["tax_member"])
    answer = _get(client, "/help/?q=idempotency", "en")
    html = answer.content.decode()
    assert answer.status_code == 200
    assert re.findall(r'href="/help/([a-z0-9-]+)/', html.split("sh-help-results")[1])[0] == "api"
    assert "<mark>" in html.split("sh-help-results")[1].lower()
    assert "api" in _hits(client, "webhook-signature", "en")


def test_help_search_reads_the_search_syntax(people, client_for):
    client = client_for(people["tax_member"])
    assert "search-syntax" in _hits(client, '"cursor"', "en") or "api" in _hits(client, '"cursor"', "en")
    with_grants = set(_hits(client, "grant", "en"))
    without = set(_hits(client, "grant -deadline", "en"))
    assert without and without < with_grants
    assert "deciding" not in without
    assert set(_hits(client, "masking OR pinyin", "en")) >= {"datasets", "search-syntax"}


def test_help_search_finds_by_pinyin(people, client_for):
    assert "datasets" in _hits(client_for(people["tax_member"]), "tuomin", "zh-hans")


def test_help_search_searches_the_readers_language_only(people, client_for):
    client = client_for(people["tax_member"])
    assert _hits(client, "脱敏", "en") == []
    assert _hits(client, "masking", "zh-hans") == []


def test_help_search_links_to_the_section_that_matched(people, client_for):
    html = _get(client_for(people["tax_member"]), "/help/?q=Idempotency keys", "en").content.decode()
    assert 'href="/help/api/#idempotency-keys"' in html


@pytest.mark.parametrize(
    "query", ["", "   ", "-", '"', "OR", "dept:", "x" * 5000, "%00abc", "<script>alert(1)</script>"]
)
def test_odd_help_queries_never_fail(query, people, client_for):
    answer = _get(client_for(people["tax_member"]), f"/help/?q={query}", "en")
    assert answer.status_code in (200, 422)
    assert "<script>alert" not in answer.content.decode()


def test_a_null_character_in_the_query_is_422_with_the_reason(people, client_for):
    answer = _get(client_for(people["tax_member"]), "/help/?q=a%00b", "en")
    assert answer.status_code == 422
    assert "Null characters are not allowed." in answer.content.decode()


def test_help_search_runs_no_statement_per_page(people, client_for, django_assert_max_num_queries):
    client = client_for(people["tax_member"])
    _get(client, "/help/?q=grant", "en")  # the segmenter and index are built once per process
    with django_assert_max_num_queries(8):
        _get(client, "/help/?q=grant deadline", "en")


# --- the API --------------------------------------------------------------------------------------------------


def test_api_lists_the_topics_in_the_callers_language(people, client_for):
    client = client_for(people["tax_member"])
    answer = client.get("/api/v1/help/topics", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert answer.status_code == 200
    topics = answer.json()
    assert [t["topic"] for t in topics] == list(help_pages.TOPICS)
    assert topics[0]["language"] == "zh-hans" and topics[0]["url"] == "/help/"
    assert next(t for t in topics if t["topic"] == "api")["url"] == "/help/api/"


def test_api_searches_the_help(people, client_for):
    client = client_for(people["tax_member"])
    answer = client.get("/api/v1/help/search", {"q": "脱敏"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert answer.status_code == 200
    assert answer.json()[0]["topic"] == "datasets"
    assert answer.json()[0]["url"].startswith("/help/datasets/")
    too_long = client.get("/api/v1/help/search", {"q": "x" * 201})
    assert too_long.status_code == 422 and "q" in too_long.json()["error"]["fields"]


def test_api_needs_a_signed_in_caller(client):
    assert client.get("/api/v1/help/topics").status_code == 401
