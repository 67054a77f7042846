"""The query language of the search box: words, "quoted phrases", -exclusions, `OR` in capitals
between two words or phrases (either will do) and the filters dept:, kind: and tag: (a filter's value
may be quoted: dept:"Human Resources")."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from sharehub.search.segment import Segmenter

MAX_QUERY_LENGTH = 500
MAX_ITEMS = 20
FILTER_KEYS = ("dept", "kind", "tag")
OR = "OR"  # in capitals, as in most search engines: "or" is a word
_IME_QUOTES = str.maketrans({"“": '"', "”": '"', "「": '"', "」": '"', "『": '"', "』": '"'})
_PIECE = re.compile(r'(-?)(?:(\w+):)?(?:"([^"]*)"?|(\S+))', re.UNICODE)


@dataclass(frozen=True)
class Item:
    """A query word or phrase, already segmented into index terms."""

    words: tuple[str, ...]
    phrase: bool = False
    prefix: bool = False  # the last word is still being typed


@dataclass(frozen=True)
class AnyOf:
    """Items joined by OR: a resource matches if it matches any of them."""

    items: tuple[Item, ...]


def _items(entry: Item | AnyOf) -> tuple[Item, ...]:
    return entry.items if isinstance(entry, AnyOf) else (entry,)


@dataclass
class ParsedQuery:
    include: list[Item | AnyOf] = field(default_factory=list)  # every one must match
    exclude: list[Item] = field(default_factory=list)
    filters: dict[str, list[str]] = field(default_factory=dict)

    @property
    def has_terms(self) -> bool:
        return bool(self.include)

    def words(self) -> list[str]:
        """Every word to highlight in snippets."""
        return [w for entry in self.include for item in _items(entry) for w in item.words]

    def prefix_words(self) -> set[str]:
        return {item.words[-1] for entry in self.include for item in _items(entry) if item.prefix}


def parse(text: str, segmenter: Segmenter) -> ParsedQuery:
    """Split a query into items and filters. Characters with no meaning are dropped, never an error;
    so is an OR that does not stand between two included items. At most MAX_ITEMS items are included
    (each alternative of an OR counts) and MAX_ITEMS excluded."""
    text = unicodedata.normalize("NFKC", (text or "")[:MAX_QUERY_LENGTH]).translate(_IME_QUOTES)
    parsed = ParsedQuery()
    typing_last = bool(text) and not text[-1].isspace() and not text.rstrip().endswith('"')
    pieces = list(_PIECE.finditer(text))
    included = 0
    after_include = joining = False
    for index, match in enumerate(pieces):
        negated, key, quoted, bare = match.group(1) == "-", match.group(2), match.group(3), match.group(4)
        if bare == OR and not negated and not key:
            joining = after_include
            continue
        value = quoted if quoted is not None else bare
        if key and key.lower() in FILTER_KEYS and not negated:
            if value.strip():
                parsed.filters.setdefault(key.lower(), []).append(value.strip())
            after_include = joining = False
            continue
        if key:
            value = f"{key}:{value}"
        words = tuple(segmenter.words(value))
        if not words:
            continue
        is_last = index == len(pieces) - 1
        item = Item(
            words=words,
            phrase=quoted is not None and len(words) > 1,
            prefix=quoted is None and is_last and typing_last and not negated,
        )
        if negated:
            if len(parsed.exclude) < MAX_ITEMS:
                parsed.exclude.append(item)
            after_include = joining = False
            continue
        if included < MAX_ITEMS:
            if joining:
                parsed.include[-1] = AnyOf((*_items(parsed.include[-1]), item))
            else:
                parsed.include.append(item)
            included += 1
        after_include, joining = True, False
    return parsed
