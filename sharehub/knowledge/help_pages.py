"""Help and onboarding: the help pages (Markdown files in the repository, in Chinese and English), their search,
and the first-run tour's state.

A page is `help/<language>/<topic>.md`; its first line is `# Title`. It is rendered with the catalog's
`render_markdown` (markdown-it, then nh3), and its second- and third-level headings get anchors for the table of
contents. A page missing in the reader's language is shown in the other one, with a note.

The search reads only these files (never the organization's data): each page is segmented as the catalog search
segments text (`sharehub.search.segment`: jieba words, the shorter words inside long ones, pinyin), and the
query is read with the search box's own syntax (`sharehub.search.syntax`): words, "phrases", -exclusions and OR.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from html import unescape
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from sharehub.catalog.markdown import render_markdown
from sharehub.errors import Invalid
from sharehub.search import segment, snippets, syntax

HELP_DIR = Path(__file__).resolve().parent / "help"
LANGUAGES = ("zh-hans", "en")
TOPIC_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_RESULTS = 20
SNIPPET_WINDOW = 160

# The pages in the order the help index lists them, by group.
GROUPS: tuple[tuple[str, object, tuple[str, ...]], ...] = (
    ("start", _("Start here"), ("index", "getting-started", "markdown")),
    ("sharing", _("Sharing and access"), ("publishing", "sharing-types", "requesting", "deciding")),
    ("finding", _("Finding and following"), ("search-syntax", "following")),
    ("knowledge", _("Knowledge sharing"), ("articles", "questions", "sessions", "comments", "ratings", "recognition")),
    ("data", _("Data and systems"), ("datasets", "api")),
    ("oversight", _("Oversight and administration"), ("audit", "administration")),
)
TOPICS: tuple[str, ...] = tuple(topic for _key, _label, topics in GROUPS for topic in topics)


# --- pages ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    level: int
    text: str  # the section's plain text (heading included), for search and snippets


@dataclass(frozen=True)
class Page:
    topic: str
    language: str  # the language of the text shown
    title: str
    html: SafeString
    summary: str  # the first paragraph, plain
    toc: tuple[Section, ...]
    sections: tuple[Section, ...] = field(repr=False, default=())
    fallback: bool = False  # shown in the other language: there is no page in the reader's


def language_of(code: str | None = None) -> str:
    """The help language for a Django language code: zh-hans for any Chinese, en otherwise."""
    code = (code or get_language() or "en").lower()
    return "zh-hans" if code.startswith("zh") else "en"


def path_of(topic: str, language: str) -> Path:
    return HELP_DIR / language / f"{topic}.md"


def exists(topic: str) -> bool:
    """A help topic of the list, with a page in at least one language."""
    return topic in TOPICS and any(path_of(topic, language).is_file() for language in LANGUAGES)


_HEADING = re.compile(r"<h([23])>(.*?)</h\1>", re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
_MARKUP = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|`|\*\*|__|^\s{0,3}[#>]+\s*|^\s*(?:[-*+]|\d+\.)\s+|\|", re.MULTILINE)
_SPACES = re.compile(r"\s+")


def _plain(markdown: str) -> str:
    return _SPACES.sub(" ", _MARKUP.sub(lambda m: m.group(1) or " ", markdown)).strip()


def _split_sections(body: str) -> list[tuple[int, str, str]]:
    """(level, heading, Markdown) of the text before the first heading (level 1, no heading) and of each
    second- or third-level heading's section; fenced code is not read for headings."""
    parts: list[tuple[int, str, list[str]]] = [(1, "", [])]
    fenced = False
    for line in body.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        heading = re.match(r"(#{2,3})\s+(.+?)\s*#*\s*$", line) if not fenced else None
        if heading:
            parts.append((len(heading.group(1)), heading.group(2), []))
        parts[-1][2].append(line)
    return [(level, title, "\n".join(lines)) for level, title, lines in parts]


@lru_cache(maxsize=128)
def _load(topic: str, language: str) -> Page | None:
    path = path_of(topic, language)
    if topic not in TOPICS or not path.is_file():
        return None
    source = path.read_text(encoding="utf-8")
    first, _newline, body = source.partition("\n")
    title = first.lstrip("#").strip() if first.startswith("# ") else topic
    if not first.startswith("# "):
        body = source
    parts = _split_sections(body)
    anchors: list[str] = []

    def anchor_for(heading: str) -> str:
        base = slugify(heading, allow_unicode=True) or f"section-{len(anchors) + 1}"
        anchor, number = base, 2
        while anchor in anchors:
            anchor, number = f"{base}-{number}", number + 1
        anchors.append(anchor)
        return anchor

    sections = []
    for level, heading, markdown in parts:
        text = _plain(markdown)
        if heading:
            sections.append(Section(anchor_for(_plain(heading)), _plain(heading), level, text))
        elif text:
            sections.append(Section("", title, 1, f"{title} {text}"))
    html = render_markdown(body)
    headings = iter([s for s in sections if s.level > 1])

    def with_anchor(match: re.Match) -> str:
        section = next(headings, None)
        if section is None:
            return match.group(0)
        level, inner = match.group(1), match.group(2)
        return f'<h{level} id="{escape(section.anchor)}">{inner}</h{level}>'

    html = _HEADING.sub(with_anchor, html)
    paragraph = re.search(r"<p>(.*?)</p>", html, re.DOTALL)
    summary = _SPACES.sub(" ", unescape(_TAGS.sub("", paragraph.group(1)))).strip() if paragraph else ""
    return Page(
        topic=topic,
        language=language,
        title=title,
        html=mark_safe(html),  # the repository's own text, cleaned by render_markdown
        summary=summary,
        toc=tuple(s for s in sections if s.level > 1),
        sections=tuple(sections),
    )


def page(topic: str, language: str | None = None) -> Page | None:
    """The page of `topic` in `language` (the reader's by default), or in the other language marked as a
    fallback; None for a topic that is not a help page."""
    language = language_of(language)
    found = _load(topic, language)
    if found is not None:
        return found
    for other in LANGUAGES:
        if other != language:
            found = _load(topic, other)
            if found is not None:
                return Page(**{**found.__dict__, "fallback": True})
    return None


def pages(language: str | None = None) -> list[Page]:
    return [p for p in (page(topic, language) for topic in TOPICS) if p is not None]


def grouped(language: str | None = None) -> list[tuple[str, object, list[Page]]]:
    """The pages as the index lists them: (key, group label, pages)."""
    out = []
    for key, label, topics in GROUPS:
        found = [p for p in (page(topic, language) for topic in topics) if p is not None]
        if found:
            out.append((key, label, found))
    return out


# --- search --------------------------------------------------------------------------------------------------


@dataclass
class _Indexed:
    section: Section
    words: list[str]  # precise words in order, for phrases
    terms: frozenset[str]  # words, the words inside long ones, pinyin


@dataclass
class _IndexedPage:
    page: Page
    sections: list[_Indexed]
    terms: frozenset[str]
    words: list[list[str]]


@dataclass(frozen=True)
class Hit:
    topic: str
    title: SafeString
    section: str  # the heading of the best matching section ("" for the top of the page)
    anchor: str
    snippet: SafeString
    score: float


_index_lock = threading.Lock()
_indexes: dict[str, tuple[object, list[_IndexedPage]]] = {}


def _index(language: str) -> list[_IndexedPage]:
    """Each page of `language` (fallbacks included) segmented; rebuilt when the segmenter is."""
    segmenter = segment.segmenter()
    with _index_lock:
        cached = _indexes.get(language)
        if cached is not None and cached[0] is segmenter:
            return cached[1]
        built = []
        for help_page in pages(language):
            indexed = []
            for section in help_page.sections:
                words, extra = segmenter.index_terms(section.text, pinyin=True)
                indexed.append(_Indexed(section, words, frozenset(words) | frozenset(extra)))
            built.append(
                _IndexedPage(
                    help_page,
                    indexed,
                    frozenset().union(*(s.terms for s in indexed)) if indexed else frozenset(),
                    [s.words for s in indexed],
                )
            )
        _indexes[language] = (segmenter, built)
        return built


def forget() -> None:
    """Drop the loaded pages and search indexes (tests; after editing a page in a running process)."""
    _load.cache_clear()
    with _index_lock:
        _indexes.clear()


def _has_phrase(sequences: list[list[str]], words: tuple[str, ...]) -> bool:
    size = len(words)
    return any(seq[start : start + size] == list(words) for seq in sequences for start in range(len(seq) - size + 1))


def _matches(item: syntax.Item, terms: frozenset[str], sequences: list[list[str]]) -> bool:
    *whole, last = item.words
    if not all(word in terms for word in whole):
        return False
    if item.prefix:
        if last not in terms and not any(term.startswith(last) for term in terms):
            return False
    elif last not in terms:
        return False
    return not item.phrase or _has_phrase(sequences, item.words)


def _entry_matches(entry, terms: frozenset[str], sequences: list[list[str]]) -> bool:
    items = entry.items if isinstance(entry, syntax.AnyOf) else (entry,)
    return any(_matches(item, terms, sequences) for item in items)


def _cuts_word(text: str, index: int) -> bool:
    return text[index - 1 : index + 1].isascii() and text[index - 1 : index + 1].isalnum()


def _snippet(text: str, words: list[str], prefixes: set[str]) -> SafeString:
    """A passage of the section around the first query word, the words marked."""
    folded = text.casefold()
    found = [index for index in (folded.find(word) for word in words) if index >= 0]
    start = min(found) if found else 0
    begin = max(0, start - SNIPPET_WINDOW // 3)
    finish = min(len(text), begin + SNIPPET_WINDOW)
    begin = max(0, min(begin, finish - SNIPPET_WINDOW))
    if begin and _cuts_word(text, begin):  # start and end the passage between words, not inside one
        space = text.find(" ", begin, start)
        begin = space + 1 if space != -1 else begin
    if finish < len(text) and _cuts_word(text, finish):
        space = text.rfind(" ", max(start + 1, begin), finish)
        finish = space if space != -1 else finish
    passage = snippets.highlight(text[begin:finish], words, prefixes)
    return mark_safe(("…" if begin else "") + passage + ("…" if finish < len(text) else ""))


def search(query: str, language: str | None = None) -> list[Hit]:
    """The help pages of the reader's language that match `query`, best first, each with the section that
    matches best and a highlighted passage of it."""
    if not query or not query.strip():
        return []
    if "\x00" in query:
        raise Invalid(fields={"q": _("Null characters are not allowed.")})
    language = language_of(language)
    segmenter = segment.segmenter()
    parsed = syntax.parse(query, segmenter)
    if not parsed.has_terms:
        return []
    words, prefixes = parsed.words(), parsed.prefix_words()
    hits = []
    for indexed in _index(language):
        if not all(_entry_matches(entry, indexed.terms, indexed.words) for entry in parsed.include):
            continue
        if any(_matches(item, indexed.terms, indexed.words) for item in parsed.exclude):
            continue
        best, best_score = indexed.sections[0], -1.0
        total = 0.0
        for section in indexed.sections:
            matched = sum(_entry_matches(entry, section.terms, [section.words]) for entry in parsed.include)
            score = matched + (0.5 if section.section.level > 1 and matched else 0)
            total += matched
            if score > best_score:
                best, best_score = section, score
        title_terms = frozenset(segmenter.words(indexed.page.title))
        in_title = sum(_entry_matches(entry, title_terms, []) for entry in parsed.include)
        hits.append(
            Hit(
                topic=indexed.page.topic,
                title=snippets.highlight(indexed.page.title, words, prefixes),
                section=best.section.title if best.section.level > 1 else "",
                anchor=best.section.anchor,
                snippet=_snippet(best.section.text, words, prefixes),
                score=total + 3 * in_title,
            )
        )
    hits.sort(key=lambda hit: (-hit.score, TOPICS.index(hit.topic)))
    return hits[:MAX_RESULTS]


# --- the first-run tour --------------------------------------------------------------------------------------

# Highest first: a person with several roles is shown the tour of the first they hold, and may pick another.
TOUR_ROLES = ("admin", "auditor", "head", "steward", "member")
TOUR_ROLE_LABELS = {
    "admin": _("organization admin"),
    "auditor": _("auditor"),
    "head": _("head"),
    "steward": _("steward"),
    "member": _("member"),
}


def tour_roles(user) -> list[str]:
    """The tours that fit a person, highest role first (everyone signed in has the member's)."""
    from sharehub.policy.engine import context_for

    ctx = context_for(user)
    held = {"member"}
    if ctx.is_admin:
        held.add("admin")
    if ctx.is_auditor:
        held.add("auditor")
    held.update(role for role in ctx.roles.values() if role in TOUR_ROLES)
    return [role for role in TOUR_ROLES if role in held]


def tour_seen(user, role: str) -> bool:
    from sharehub.knowledge.models import TourSeen

    return TourSeen.objects.filter(user_id=user.pk, role=role).exists()


def mark_tour_seen(user, role: str) -> bool:
    """Remember that `user` finished or dismissed the tour of `role`; True if it was not remembered yet.

    No audit event: like the reading language (org.services.set_language) this is a person's own display
    preference, not a change to anything shared."""
    from sharehub.knowledge.models import TourSeen

    if role not in TOUR_ROLES:
        raise Invalid(fields={"role": _("Choose one of: %(choices)s.") % {"choices": ", ".join(TOUR_ROLES)}})
    if TourSeen.objects.filter(user_id=user.pk, role=role).exists():
        return False
    try:
        with transaction.atomic():
            TourSeen.objects.create(user_id=user.pk, role=role)
    except IntegrityError:  # the same dismissal from two tabs at once
        return False
    return True


def register() -> None:
    """Called once from KnowledgeConfig.ready: nothing to register (help records no events)."""
