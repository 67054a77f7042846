"""Snippets quote the summary, with the query's words marked, whenever the summary holds them: a word
of letters or digits written against Chinese characters (预约CT, 2025年), in full-width letters, or
spelled in pinyin across several words (shebaojiaofei for 社保缴费); never a bare tag instead."""

from __future__ import annotations

import pytest

from sharehub.search import queries
from sharehub.search.snippets import highlight
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def booking(org_units, indexed):
    resource = factories.resource(
        org_units["health"],
        title="大型设备共享预约系统",
        summary="院外单位预约CT、MRI等设备闲置时段，2025年起对外开放，ＭＲＩ夜间也可预约。",
        body="",
        tags=["CT", "2025"],
    )
    indexed()
    return resource


@pytest.mark.parametrize(
    ("query", "marked"),
    [
        ("CT ", "<mark>CT</mark>"),
        ("ct", "<mark>CT</mark>"),  # typed, a prefix
        ("2025 ", "<mark>2025</mark>"),
        ("mri ", "<mark>ＭＲＩ</mark>"),
        ("CT 2025", "<mark>2025</mark>"),
    ],
)
def test_summary_words_beside_chinese_characters_are_quoted_from_the_summary(people, booking, query, marked):
    (hit,) = queries.search(people["health_member"], query).hits
    assert hit.snippet.source == "summary", hit.snippet.html
    assert marked in hit.snippet.html


def test_a_word_inside_a_longer_one_is_not_marked(people, booking):
    assert highlight("CTO 与 CT", ["ct"]) == "CTO 与 <mark>CT</mark>"
    assert highlight("CTO与CT", ["ct"]) == "CTO与<mark>CT</mark>"


def test_full_width_and_case_folded_text_keeps_its_own_characters(db):
    assert highlight("Ｓｔｒａßｅ und STRASSE", ["strasse"]) == "<mark>Ｓｔｒａßｅ</mark> und <mark>STRASSE</mark>"


def test_a_tag_is_the_snippet_only_when_the_summary_lacks_the_word(people, org_units, indexed):
    factories.resource(org_units["health"], title="设备清单", summary="闲置时段一览。", body="", tags=["CT"])
    indexed()
    (hit,) = queries.search(people["health_member"], "CT ").hits
    assert (hit.snippet.source, str(hit.snippet.html)) == ("catalog", "<mark>CT</mark>")


@pytest.mark.parametrize("query", ["shebaojiaofei", "sbjf ", "shebaojiaof"])
def test_pinyin_of_several_words_marks_them_together(people, org_units, indexed, query):
    factories.resource(
        org_units["tax"], title="基数核定", summary="规定社保缴费基数的核定结果。", body="", tags=["社保"]
    )
    indexed()
    (hit,) = queries.search(people["health_member"], query).hits
    assert hit.snippet.source == "summary"
    assert "<mark>社保缴费</mark>" in hit.snippet.html


def test_pinyin_of_one_word_marks_that_word_alone(people, org_units, indexed):
    factories.resource(org_units["tax"], title="基数核定", summary="规定社保缴费基数的核定结果。", body="")
    indexed()
    (hit,) = queries.search(people["health_member"], "sb ").hits
    assert "<mark>社保</mark>缴费" in hit.snippet.html


def test_either_side_of_an_or_is_marked(people, org_units, indexed):
    factories.resource(org_units["tax"], title="基数", summary="社保和医保的缴费基数。", body="")
    indexed()
    (hit,) = queries.search(people["health_member"], "社保 OR 医保").hits
    assert "<mark>社保</mark>和<mark>医保</mark>" in hit.snippet.html
