"""Highlighted titles and snippets, quoted from the original text (never from index terms).

Content (body, attachment text) is quoted only for people who may read it; the others get the
catalog text, as they would on the catalog page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from django.db.models.functions import Substr
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from sharehub.catalog.models import Attachment, Resource
from sharehub.search import segment

WINDOW = 160
SNIPPET_TEXT_LIMIT = 20_000  # of each attachment's text, where a snippet is looked for
_MARKDOWN = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|:?-{3,}:?|[#>*_`~|]+")
_SPACES = re.compile(r"\s+")


CATALOG_SOURCES = ("summary", "catalog")


@dataclass(frozen=True)
class Snippet:
    html: SafeString
    source: str  # what was quoted: "summary", "catalog", "body" or an attachment's file name

    @property
    def quotes_content(self) -> bool:
        return self.source not in CATALOG_SOURCES


@lru_cache(maxsize=512)
def _pattern(words: tuple[str, ...], prefixes: frozenset[str]) -> re.Pattern | None:
    parts = []
    for word in sorted(set(words), key=len, reverse=True):
        escaped = re.escape(word)
        if word.isascii():
            escaped = r"(?<![^\W_])" + escaped + ("" if word in prefixes else r"(?![^\W_])")
        parts.append(escaped)
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def _pinyin_words(text: str, words: list[str]) -> list[str]:
    """Chinese words of `text` whose pinyin a query word spells (社保 for shebao or sb)."""
    ascii_words = [w for w in words if w.isascii() and w.isalpha() and w.lower() not in text.lower()]
    if not ascii_words or not segment.has_han(text):
        return []
    found = []
    for token in set(segment.segmenter().words(text)):
        forms = segment.pinyin_forms(token)
        if any(form.startswith(w) for form in forms for w in ascii_words):
            found.append(token)
    return found


def _marked(text: str, pattern: re.Pattern | None) -> SafeString:
    if pattern is None:
        return mark_safe(escape(text))
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(escape(text[last : match.start()]))
        out.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))


def highlight(text: str, words: list[str], prefixes: set[str] | None = None) -> SafeString:
    pattern = _pattern(tuple(words + _pinyin_words(text, words)), frozenset(prefixes or ()))
    return _marked(text, pattern)


def _window(text: str, start: int, end: int) -> tuple[str, bool, bool]:
    half = max(0, (WINDOW - (end - start)) // 2)
    begin = max(0, start - half)
    finish = min(len(text), begin + WINDOW)
    begin = max(0, min(begin, finish - WINDOW))
    return text[begin:finish], begin > 0, finish < len(text)


def _plain(text: str) -> str:
    return _SPACES.sub(" ", _MARKDOWN.sub(lambda m: m.group(1) or " ", text or "")).strip()


def _catalog_texts(resource: Resource, tag_names: list[str]) -> list[tuple[str, str]]:
    fields = []
    for item in resource.dataset_fields or []:
        if isinstance(item, dict):
            fields.append(" ".join(str(item.get(k) or "") for k in ("name", "label", "description")).strip())
    tags = " ".join(tag_names)
    return [("summary", resource.summary), ("catalog", " · ".join(p for p in [tags, *fields] if p))]


def _content_texts(resource: Resource, attachments: list[tuple[str, str]]):
    yield "body", _plain(resource.body)
    yield from attachments


def attachment_texts(resource_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """(file name, beginning of its text) of the live attachments of these resources, in one query."""
    if not resource_ids:
        return {}
    rows = (
        Attachment.objects.filter(resource_id__in=resource_ids, removed_at__isnull=True)
        .annotate(head=Substr("blob__text", 1, SNIPPET_TEXT_LIMIT))
        .order_by("created_at", "id")
        .values_list("resource_id", "filename", "head")
    )
    texts: dict[int, list[tuple[str, str]]] = {}
    for resource_id, filename, head in rows:
        texts.setdefault(resource_id, []).append((filename, head or ""))
    return texts


def snippet_for(
    resource: Resource,
    words: list[str],
    prefixes: set[str],
    *,
    tag_names: list[str],
    include_content: bool,
    attachments: list[tuple[str, str]] | None = (),
) -> Snippet | None:
    """The first passage that contains a query word: catalog text first, then (for readers) content,
    with `attachments` as given by `attachment_texts`. With `attachments=None` the attachments are
    not looked at yet: None is returned when nothing else matched, so that they are read only for
    the hits that need them."""
    texts = _catalog_texts(resource, tag_names)
    sources = iter(texts)
    if include_content:
        sources = (s for group in (texts, _content_texts(resource, list(attachments or ()))) for s in group)
    if words:
        for source, raw in sources:
            text = _SPACES.sub(" ", raw or "").strip()
            if not text:
                continue
            extra = _pinyin_words(text, words) if source in ("summary", "catalog") else []
            pattern = _pattern(tuple(words + extra), frozenset(prefixes))
            match = pattern.search(text) if pattern else None
            if match:
                passage, cut_before, cut_after = _window(text, match.start(), match.end())
                html = ("…" if cut_before else "") + _marked(passage, pattern) + ("…" if cut_after else "")
                return Snippet(mark_safe(html), source)
        if include_content and attachments is None:
            return None
    summary = _SPACES.sub(" ", resource.summary or "").strip()
    if summary:
        passage, _before, after = _window(summary, 0, 0)
        return Snippet(mark_safe(escape(passage) + ("…" if after else "")), "summary")
    return Snippet(mark_safe(escape(_("No summary."))), "summary")
