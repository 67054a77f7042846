"""Pinyin of several words typed together (`shebaojiaofei`, `sbjf` for 社保缴费): which terms the
indexer writes, and that they find only words written side by side, on whichever database runs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sharehub.search import queries
from sharehub.search.segment import MAX_PINYIN_WORDS, MAX_TERM_LENGTH, Segmenter, pinyin_forms, pinyin_terms
from tests import factories


@pytest.fixture(scope="module")
def seg() -> Segmenter:
    return Segmenter(["营业执照"])


def test_words_side_by_side_get_the_pinyin_of_the_run(seg):
    _words, extra = seg.index_terms("社保缴费基数", pinyin=True)
    for term in ("shebao", "sb", "shebaojiaofei", "sbjf", "jiaofeijishu", "jfjs", "shebaojiaofeijishu", "sbjfjs"):
        assert term in extra


def test_punctuation_a_letter_or_a_one_character_word_ends_a_run(seg):
    for text in ("社保，缴费", "社保 缴费", "社保A缴费", "社保的缴费"):
        _words, extra = seg.index_terms(text, pinyin=True)
        assert "sbjf" not in extra and "shebaojiaofei" not in extra, text
        assert {"sb", "jf"} <= set(extra), text


def test_at_most_max_words_make_one_term(seg):
    _words, extra = seg.index_terms("社保缴费基数调整通知", pinyin=True)
    assert "sbjfjs" in extra and "sbjfjstz" not in extra
    assert MAX_PINYIN_WORDS == 3


def test_no_pinyin_without_asking_and_none_for_content(seg):
    assert seg.index_terms("社保缴费")[1] == []


def test_long_runs_are_cut_to_the_term_length(seg):
    terms = pinyin_terms([], [["中华人民共和国", "营业执照", "管理条例"]])
    assert terms and all(len(t) <= MAX_TERM_LENGTH for t in terms)


CHINESE_WORDS = st.sampled_from(["社保", "缴费", "基数", "营业执照", "人", "的", "办理", "医保", "年", "高校"])


@given(st.lists(CHINESE_WORDS, min_size=1, max_size=8))
def test_a_run_adds_no_initials_shorter_than_two_words(seg, words):
    """Short initials find what they found before: every initials term of a run is at least four letters
    and starts with the initials of a word of its own, which the index already holds."""
    segmented, runs = seg.segment("".join(words), keep_runs=True)
    single = set(pinyin_terms(segmented))
    for term in set(pinyin_terms(segmented, runs)) - single:
        assert len(term) >= 4
        assert any(term.startswith(form) for form in single)


@pytest.mark.django_db
def test_only_words_side_by_side_are_found(people, org_units, indexed):
    together = factories.resource(org_units["tax"], title="社保缴费说明", summary="", body="")
    apart = factories.resource(org_units["tax"], title="社保与缴费", summary="社保，缴费", body="")
    body_only = factories.resource(org_units["tax"], title="说明", summary="", body="社保缴费")
    indexed()
    reader = people["health_member"]
    for query in ("sbjf ", "shebaojiaofei", "sbj", "shebaojiaof"):
        assert [h.resource.pk for h in queries.search(reader, query).hits] == [together.pk], query
    assert {h.resource.pk for h in queries.search(reader, "sb jf ").hits} == {together.pk, apart.pk}
    assert {h.resource.pk for h in queries.search(reader, "sb").hits} == {together.pk, apart.pk}
    assert body_only.pk not in {h.resource.pk for h in queries.search(reader, "sb").hits}


def test_single_words_keep_their_forms():
    assert pinyin_forms("社保") == ("shebao", "sb")
    assert pinyin_forms("社") == ()
