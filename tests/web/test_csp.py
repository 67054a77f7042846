"""Content-Security-Policy (issue 10, 1.6): every page sends it, it allows no inline script, and no
template needs any. The browser side is tests/browser/test_csp.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

import sharehub

pytestmark = pytest.mark.django_db

TEMPLATES = sorted(Path(sharehub.__file__).parent.glob("*/templates/**/*.html"))

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]*\s(on[a-z]+|hx-on(?::[\w:-]*)?)\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"""(?:href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.I)
INLINE_STYLE = re.compile(r"<style\b|<[^>]*\sstyle\s*=", re.I)


def _policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_the_templates_are_found():
    assert len(TEMPLATES) > 30
    assert any(path.name == "base.html" for path in TEMPLATES)


@pytest.mark.parametrize("pattern", [INLINE_SCRIPT, EVENT_HANDLER, JAVASCRIPT_URL, INLINE_STYLE])
def test_the_checks_see_what_they_look_for(pattern):
    samples = {
        INLINE_SCRIPT: '<script>alert(1)</script> <script defer src="/x.js"></script>',
        EVENT_HANDLER: '<select class="x"\n onchange="this.form.submit()">',
        JAVASCRIPT_URL: '<a href="javascript:void(0)">',
        INLINE_STYLE: '<div class="a" style="color: red">',
    }
    assert pattern.search(samples[pattern])
    assert not pattern.search('<script src="/x.js" defer></script><div data-only="x" class="on">')


@pytest.mark.parametrize("pattern", [INLINE_SCRIPT, EVENT_HANDLER, JAVASCRIPT_URL, INLINE_STYLE])
def test_no_template_needs_inline_script_or_style(pattern):
    """Behaviour goes into static files keyed on data attributes (web/static/web/sharehub.js);
    styles into the stylesheets. The policy would block them in the browser. Email (templates under
    `mail/`) is no page: mail clients drop stylesheets, so its styles are inline; it has no script either."""
    found = [
        f"{path.relative_to(path.parents[2])}:{text[: match.start()].count(chr(10)) + 1}"
        for path in TEMPLATES
        if not (pattern is INLINE_STYLE and "mail" in path.parts)
        for text in [path.read_text()]
        for match in pattern.finditer(text)
    ]
    assert found == []


PAGES = ["/", "/resources/", "/resources/new/", "/search/?q=社保", "/departments/", "/tokens/", "/requests/"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_a_policy_without_inline_script(people, client_for, path):
    response = client_for(people["tax_steward"]).get(path)
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in source for sources in policy.values() for source in sources)
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html) and not EVENT_HANDLER.search(html) and not INLINE_STYLE.search(html)


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/v1/docs", "/admin/", "/no-such-page/"])
def test_login_docs_admin_and_error_pages_send_it_too(people, client_for, path):
    client = Client() if path == "/accounts/login/" else client_for(people["admin"])
    response = client.get(path)
    assert _policy(response)["script-src"] == ["'self'"]


def test_htmx_is_told_not_to_inject_its_indicator_style(people, client_for):
    html = client_for(people["tax_member"]).get("/").content.decode()
    assert """<meta name="htmx-config" content='{"includeIndicatorStyles": false""" in html
