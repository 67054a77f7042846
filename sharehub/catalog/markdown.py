"""Markdown to safe HTML: markdown-it renders, nh3 (ammonia) removes anything that could run."""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")

_ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "td": {"style"}, "th": {"style"}}


_CACHED_UP_TO = 8_000  # characters; longer texts are rendered each time rather than kept


def render_markdown(text: str) -> str:
    """The same text renders the same HTML, so a process keeps the last few hundred it rendered: a
    resource read again and again (an API poll, a page reload) is not parsed and cleaned each time."""
    text = text or ""
    return _render_cached(text) if len(text) <= _CACHED_UP_TO else _render(text)


@lru_cache(maxsize=256)
def _render_cached(text: str) -> str:
    return _render(text)


def _render(text: str) -> str:
    html = _renderer.render(text)
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        filter_style_properties={"text-align"},
        # a wide table scrolls sideways inside the page (sharehub.css); focusable, a keyboard can scroll it
        set_tag_attribute_values={"table": {"tabindex": "0"}},
    )
