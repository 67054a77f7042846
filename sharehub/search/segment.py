"""Turning text into index terms: jieba for Chinese (precise words, plus the shorter words inside
long ones, as jieba's search mode does), case-folded words for other scripts, and pinyin (full and
initials) for the Chinese words of catalog fields and for up to three of them side by side, so that
`shebao` or `sb` find 社保 and `shebaojiaofei` or `sbjf` find 社保缴费.

The organization's own vocabulary (department names and the terms admins add) is loaded into a
private jieba tokenizer, so that 人社局 or 营业执照 stay whole words. Both index backends receive the
same space-separated terms, which keeps SQLite and PostgreSQL results the same.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

from django.core.cache import cache

from sharehub import heap

if TYPE_CHECKING:
    import jieba

logger = logging.getLogger(__name__)

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HAN_RUN = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")
_VERSION_KEY = "search:dictionary-version"
_CHECK_EVERY = 5.0
ORG_WORD_FREQUENCY = 200_000
MAX_TERM_LENGTH = 40
MAX_PINYIN_WORDS = 3  # the longest sequence of words whose pinyin is indexed as one term


def has_han(text: str) -> bool:
    return _HAN.search(text) is not None


def _normalize(token: str) -> list[str]:
    """Case-folded words of letters or digits; a word longer than any index term is cut to that length
    (on both sides, so a very long word still finds itself)."""
    if token.isalnum():  # the common case: one word of letters or digits, any script
        return [token.casefold()[:MAX_TERM_LENGTH]]
    if token.isspace():
        return []
    return [part.casefold()[:MAX_TERM_LENGTH] for part in _WORD.findall(token)]


@lru_cache(maxsize=1)
def _base_tokenizer() -> jieba.Tokenizer:
    """jieba and its dictionary (tens of MB) are loaded on the first segmentation in a process, so a
    worker that only serves pages and the API never holds them."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


class Segmenter:
    """A jieba tokenizer with the organization's words; rebuilt when the dictionary changes."""

    def __init__(self, words: Iterable[str] = ()) -> None:
        import jieba

        base = _base_tokenizer()
        self.tokenizer = jieba.Tokenizer()
        self.tokenizer.FREQ = dict(base.FREQ)
        self.tokenizer.total = base.total
        self.tokenizer.initialized = True
        self.freq = self.tokenizer.FREQ
        self.org_words: set[str] = set()
        self.add_words(words)

    def add_words(self, words: Iterable[str]) -> None:
        for word in words:
            word = word.strip()
            if word and " " not in word and word not in self.org_words:
                self.tokenizer.add_word(word, freq=ORG_WORD_FREQUENCY)
                self.org_words.add(word)

    def words(self, text: str) -> list[str]:
        """Precise-mode words, normalized; what a query is made of and what phrases match."""
        return self.segment(text)[0]

    def segment(self, text: str, keep_runs: bool = False) -> tuple[list[str], list[list[str]]]:
        """The words, and (with `keep_runs`) the Chinese words written with nothing between them, run
        by run (runs of two or more words): the words whose pinyin may be typed in one go."""
        if text.isascii():
            return [word.casefold()[:MAX_TERM_LENGTH] for word in _WORD.findall(text)], []
        out: list[str] = []
        runs: list[list[str]] = []
        # jieba only sees the runs of Chinese characters: it would cut other words at any letter
        # outside ASCII (Zürich -> z ü rich).
        for index, run in enumerate(_HAN_RUN.split(unicodedata.normalize("NFKC", text))):
            if index % 2:
                start = len(out)
                for token in self.tokenizer.cut(run):
                    out.extend(_normalize(token))
                if keep_runs and len(out) - start > 1:
                    runs.append(out[start:])
            elif run:
                out.extend(word.casefold()[:MAX_TERM_LENGTH] for word in _WORD.findall(run))
        return out, runs

    def index_terms(self, text: str, pinyin: bool = False) -> tuple[list[str], list[str]]:
        """(precise words in order, extra terms): the dictionary words of two to four characters found
        inside the longer Chinese ones (社会保障 inside 人力资源和社会保障局), and with `pinyin` the
        pinyin of the Chinese words and of their runs (`pinyin_terms`)."""
        words, runs = self.segment(text, keep_runs=pinyin)
        inner: list[str] = []
        freq = self.freq
        for word in words:
            size = len(word)
            if size > 2 and has_han(word):
                for length in (2, 3, 4):
                    if size > length:
                        for start in range(size - length + 1):
                            gram = word[start : start + length]
                            if freq.get(gram):
                                inner.append(gram)
        if pinyin:
            inner += pinyin_terms(words, runs)
        return words, inner


@lru_cache(maxsize=200_000)
def pinyin_of(word: str) -> tuple[str, str] | None:
    """(full pinyin, initials) of a Chinese word of two or more characters, None for anything else."""
    if len(word) < 2 or not has_han(word):
        return None
    from pypinyin import Style, lazy_pinyin  # its dictionaries are large: loaded on first use

    syllables = [s for s in lazy_pinyin(word, errors="ignore") if s.isascii() and s.isalpha()]
    if len(syllables) < 2:
        return None
    initials = "".join(lazy_pinyin(word, style=Style.FIRST_LETTER, errors="ignore"))
    if not (initials.isascii() and initials.isalpha()):
        return None
    return "".join(syllables), initials


def pinyin_forms(word: str) -> tuple[str, ...]:
    """Full pinyin and initials of a Chinese word of two or more characters: 社保 -> (shebao, sb)."""
    forms = pinyin_of(word)
    return tuple(dict.fromkeys(forms)) if forms else ()


def pinyin_sequences(run: list[str]) -> Iterator[list[tuple[str, tuple[str, str]]]]:
    """For each word of a run that has pinyin: (Chinese text, (full pinyin, initials)) of the word and
    of the sequences of up to MAX_PINYIN_WORDS words side by side that it starts, shortest first
    (社保, then 社保缴费 -> shebaojiaofei, sbjf). A word of one character has no pinyin of its own (its
    initial alone would match far too much) and ends a sequence."""
    forms = [pinyin_of(word) for word in run]
    for start, first in enumerate(forms):
        if first is None:
            continue
        sequences = [(run[start], first)]
        full, initials = first
        for end in range(start + 1, min(len(run), start + MAX_PINYIN_WORDS)):
            following = forms[end]
            if following is None:
                break
            full, initials = full + following[0], initials + following[1]
            sequences.append(("".join(run[start : end + 1]), (full[:MAX_TERM_LENGTH], initials[:MAX_TERM_LENGTH])))
        yield sequences


def pinyin_terms(words: Iterable[str], runs: Iterable[list[str]] = ()) -> list[str]:
    """The pinyin index terms: full pinyin and initials of each Chinese word of `words`, and of the
    sequences of words side by side in `runs`, so that `shebaojiaofei` and `sbjf` find 社保缴费 as
    `shebao` and `sb` find 社保."""
    out: list[str] = []
    for word in words:
        out.extend(pinyin_forms(word))
    for run in runs:
        forms = [pinyin_of(word) for word in run]
        size = len(forms)
        for start in range(size - 1):
            if forms[start] is None:
                continue
            full, initials = forms[start]
            for end in range(start + 1, min(size, start + MAX_PINYIN_WORDS)):
                following = forms[end]
                if following is None:
                    break
                full, initials = full + following[0], initials + following[1]
                out.append(full[:MAX_TERM_LENGTH])
                out.append(initials[:MAX_TERM_LENGTH])
    return out


_lock = threading.Lock()
_current: Segmenter | None = None
_current_version: str | None = None
_checked_at = 0.0


def dictionary_words() -> list[str]:
    from sharehub.org.models import Department
    from sharehub.search.models import SearchTerm

    return list(Department.objects.values_list("name", flat=True)) + list(
        SearchTerm.objects.values_list("text", flat=True)
    )


def dictionary_changed() -> None:
    """Tell every process (through the shared cache) to reload the organization's words."""
    cache.set(_VERSION_KEY, str(time.time_ns()), None)


def segmenter() -> Segmenter:
    """The process's segmenter, rebuilt at most every few seconds if the dictionary changed."""
    global _current, _current_version, _checked_at
    now = time.monotonic()
    if _current is not None and now - _checked_at < _CHECK_EVERY:
        return _current
    with _lock:
        version = cache.get(_VERSION_KEY) or "0"
        if _current is None or version != _current_version:
            words = set(dictionary_words())
            if _current is not None and words >= _current.org_words:
                _current.add_words(words - _current.org_words)
            else:
                _current = Segmenter(words)
                heap.settle_once("dictionary")
            _current_version = version
        _checked_at = now
        return _current


def reset() -> None:
    """Forget the loaded dictionary at once (tests, and after the dictionary changes here)."""
    global _current, _checked_at
    with _lock:
        _current = None
        _checked_at = 0.0
