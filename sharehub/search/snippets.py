"""Highlighted titles and snippets, quoted from the original text (never from index terms).

Content (body, attachment text) is quoted only for people who may read it; the others get the
catalog text, as they would on the catalog page."""

from __future__ import annotations

import re
import unicodedata
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


# Letters and digits that continue a word: a Chinese character does not (ERP系统 and 2025年 hold the words
# erp and 2025, as segmentation reads them).
_CONTINUES = r"[^\W_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"


@lru_cache(maxsize=512)
def _pattern(words: tuple[str, ...], prefixes: frozenset[str]) -> re.Pattern | None:
    parts = []
    for word in sorted(set(words), key=len, reverse=True):
        escaped = re.escape(word)
        if word.isascii():
            escaped = f"(?<!{_CONTINUES})" + escaped + ("" if word in prefixes else f"(?!{_CONTINUES})")
        parts.append(escaped)
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


class _Folding(dict):
    """A str.translate table that folds each character as query words are (NFKC, then case-folded),
    worked out the first time a character is met."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = unicodedata.normalize("NFKC", chr(code)).casefold()
        return folded


_FOLDING = _Folding()


def _folded(text: str) -> tuple[str, list[int] | None]:
    """The text as query words are written (ＣＴ and Straße hold ct and strasse), and for each of its
    characters the index of the character of `text` it comes from (None: the same)."""
    if text.isascii():
        return text.lower(), None
    folded = text.translate(_FOLDING)
    if len(folded) == len(text):  # every character folded to one
        return folded, None
    return folded, [index for index, char in enumerate(text) for _ in _FOLDING[ord(char)]]


def _spans(text: str, pattern: re.Pattern | None) -> list[tuple[int, int]]:
    """Where the pattern matches `text`, in the characters of `text` (up to a little beyond a passage
    around the first match)."""
    if pattern is None or not text:
        return []
    folded, origin = _folded(text)
    spans: list[tuple[int, int]] = []
    for match in pattern.finditer(folded):
        if spans and match.start() > spans[0][0] + 2 * WINDOW:
            break  # beyond any passage around the first
        if match.end() > match.start():
            spans.append(match.span())
    if origin is None:
        return spans
    return [(origin[start], origin[end - 1] + 1) for start, end in spans]


def _pinyin_words(text: str, words: list[str]) -> list[str]:
    """Chinese words of `text` whose pinyin a query word spells (社保 for shebao or sb), or the
    shortest run of words side by side that it spells (社保缴费 for shebaojiaofei or sbjf)."""
    ascii_words = [w for w in words if w.isascii() and w.isalpha() and w.lower() not in text.lower()]
    if not ascii_words or not segment.has_han(text):
        return []

    def spelled(forms) -> bool:
        return any(form.startswith(w) for form in forms for w in ascii_words)

    tokens, runs = segment.segmenter().segment(text, keep_runs=True)
    found = {token for token in set(tokens) if spelled(segment.pinyin_forms(token))}
    for run in runs:
        for sequences in segment.pinyin_sequences(run):
            for phrase, forms in sequences:
                if spelled(forms):
                    found.add(phrase)
                    break
    return sorted(found)


def _marked(text: str, spans: list[tuple[int, int]], begin: int = 0, finish: int | None = None) -> SafeString:
    """text[begin:finish], escaped, with the spans marked."""
    finish = len(text) if finish is None else finish
    out, last = [], begin
    for start, end in spans:
        start, end = max(start, last), min(end, finish)
        if start >= end:
            continue
        out.append(escape(text[last:start]))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        last = end
    out.append(escape(text[last:finish]))
    return mark_safe("".join(out))


def highlight(text: str, words: list[str], prefixes: set[str] | None = None) -> SafeString:
    pattern = _pattern(tuple(words + _pinyin_words(text, words)), frozenset(prefixes or ()))
    return _marked(text, _spans(text, pattern))


def _window(text: str, start: int, end: int) -> tuple[int, int]:
    """The passage of at most WINDOW characters around text[start:end]."""
    half = max(0, (WINDOW - (end - start)) // 2)
    begin = max(0, start - half)
    finish = min(len(text), begin + WINDOW)
    return max(0, min(begin, finish - WINDOW)), finish


def _plain(text: str) -> str:
    return _SPACES.sub(" ", _MARKDOWN.sub(lambda m: m.group(1) or " ", text or "")).strip()


def _catalog_texts(resource: Resource, tag_names: list[str]) -> list[tuple[str, str]]:
    fields = []
    for item in resource.dataset_fields or []:
        if isinstance(item, dict):
            fields.append(
                " ".join(str(item.get(k) or "") for k in ("name", "label_zh", "label_en", "description")).strip()
            )
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
            spans = _spans(text, _pattern(tuple(words + extra), frozenset(prefixes)))
            if spans:
                begin, finish = _window(text, *spans[0])
                html = "…" * (begin > 0) + _marked(text, spans, begin, finish) + "…" * (finish < len(text))
                return Snippet(mark_safe(html), source)
        if include_content and attachments is None:
            return None
    summary = _SPACES.sub(" ", resource.summary or "").strip()
    if summary:
        _begin, finish = _window(summary, 0, 0)
        return Snippet(mark_safe(escape(summary[:finish]) + "…" * (finish < len(summary))), "summary")
    return Snippet(mark_safe(escape(_("No summary."))), "summary")
