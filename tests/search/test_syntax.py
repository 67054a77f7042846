"""The query language of the search box (`syntax.parse`): words, "phrases", -exclusions, dept:/kind:/tag:
filters and the prefix on the word still being typed. No database: a segmenter with a few organization
words stands in for the organization's dictionary."""

from __future__ import annotations

import pytest

from sharehub.search.segment import MAX_TERM_LENGTH, Segmenter
from sharehub.search.syntax import MAX_ITEMS, MAX_QUERY_LENGTH, AnyOf, Item, parse


@pytest.fixture(scope="module")
def seg() -> Segmenter:
    return Segmenter(["人力资源和社会保障局", "人社局", "营业执照"])


def words(items: list[Item]) -> list[tuple[str, ...]]:
    return [item.words for item in items]


def test_words_are_case_folded_and_split_on_punctuation(seg):
    parsed = parse("Quarterly REPORT, covid-19!", seg)
    assert words(parsed.include) == [("quarterly",), ("report",), ("covid", "19")]
    assert parsed.exclude == [] and parsed.filters == {}
    assert parsed.has_terms


def test_chinese_without_spaces_is_segmented_into_one_item(seg):
    parsed = parse("社会保险缴费基数调整", seg)
    assert words(parsed.include) == [("社会保险", "缴费", "基数", "调整")]
    assert not parsed.include[0].phrase


def test_two_chinese_terms_are_two_items(seg):
    assert words(parse("社保 营业执照", seg).include) == [("社保",), ("营业执照",)]


def test_organization_words_stay_whole(seg):
    assert words(parse("人社局社保", seg).include) == [("人社局", "社保")]
    assert words(parse("人力资源和社会保障局", seg).include) == [("人力资源和社会保障局",)]


def test_without_the_organization_dictionary_the_abbreviation_is_split():
    assert parse("人社局", Segmenter()).include[0].words != ("人社局",)


def test_quoted_phrase_of_several_words():
    parsed = parse('"quarterly report" tax', Segmenter())
    assert parsed.include[0] == Item(words=("quarterly", "report"), phrase=True, prefix=False)
    assert parsed.include[1] == Item(words=("tax",), phrase=False, prefix=True)


def test_quoted_single_word_is_a_plain_word(seg):
    assert parse('"社保"', seg).include == [Item(words=("社保",), phrase=False, prefix=False)]


def test_a_quote_that_does_not_close_runs_to_the_end(seg):
    parsed = parse('tax "annual report', seg)
    assert parsed.include == [
        Item(words=("tax",)),
        Item(words=("annual", "report"), phrase=True, prefix=False),
    ]


@pytest.mark.parametrize("text", ['""', '" "', "!!!", "  ", "", "。，、？", "*^:()", "-", "--"])
def test_text_without_words_gives_an_empty_query(seg, text):
    parsed = parse(text, seg)
    assert parsed.include == [] and parsed.exclude == [] and parsed.filters == {}
    assert not parsed.has_terms


def test_none_is_an_empty_query(seg):
    assert not parse(None, seg).has_terms  # type: ignore[arg-type]


def test_exclusions(seg):
    parsed = parse('营业执照 -草稿 -"draft copy"', seg)
    assert words(parsed.include) == [("营业执照",)]
    assert parsed.exclude == [Item(words=("草稿",)), Item(words=("draft", "copy"), phrase=True)]


def test_only_exclusions_parse_without_terms(seg):
    parsed = parse("-草稿 -draft", seg)
    assert parsed.include == [] and words(parsed.exclude) == [("草稿",), ("draft",)]
    assert not parsed.has_terms


def test_a_hyphen_inside_a_word_is_not_an_exclusion(seg):
    parsed = parse("covid-19 e-mail", seg)
    assert parsed.exclude == []
    assert words(parsed.include) == [("covid", "19"), ("e", "mail")]


def test_filters_are_taken_out_of_the_words(seg):
    parsed = parse('dept:税务局 kind:dataset tag:"年度 报告" 社保', seg)
    assert parsed.filters == {"dept": ["税务局"], "kind": ["dataset"], "tag": ["年度 报告"]}
    assert words(parsed.include) == [("社保",)]


def test_filter_keys_ignore_case_and_repeat(seg):
    parsed = parse("DEPT:税务局 Dept:卫健委 TAG:a tag:b Kind:Dataset", seg)
    assert parsed.filters == {"dept": ["税务局", "卫健委"], "tag": ["a", "b"], "kind": ["Dataset"]}
    assert parsed.include == []


def test_quoted_filter_value_keeps_its_spaces(seg):
    parsed = parse('dept:"Human Resources" payroll', seg)
    assert parsed.filters == {"dept": ["Human Resources"]}
    assert words(parsed.include) == [("payroll",)]


@pytest.mark.parametrize("text", ['kind:""', 'tag:" "'])
def test_empty_filter_values_are_dropped(seg, text):
    parsed = parse(text, seg)
    assert parsed.filters == {} and parsed.include == []


def test_a_key_without_a_value_is_a_word(seg):
    assert words(parse("tag:", seg).include) == [("tag",)]


def test_unknown_keys_are_words(seg):
    parsed = parse("title:budget owner:x", seg)
    assert parsed.filters == {}
    assert words(parsed.include) == [("title", "budget"), ("owner", "x")]


def test_a_negated_filter_excludes_its_words(seg):
    parsed = parse("社保 -dept:税务局", seg)
    assert parsed.filters == {}
    assert words(parsed.exclude) == [("dept", "税务局")]


def test_the_last_word_is_a_prefix_while_it_is_being_typed(seg):
    typing = parse("quarterly rep", seg)
    assert [i.prefix for i in typing.include] == [False, True]
    assert typing.prefix_words() == {"rep"}
    done = parse("quarterly rep ", seg)
    assert [i.prefix for i in done.include] == [False, False]
    assert done.prefix_words() == set()


def test_the_prefix_is_the_last_word_of_a_segmented_item(seg):
    parsed = parse("社保缴费", seg)
    assert parsed.include == [Item(words=("社保", "缴费"), prefix=True)]
    assert parsed.prefix_words() == {"缴费"}


@pytest.mark.parametrize("text", ['"quarterly report"', "report -draft", "report dept:税务局", "report\n", "report\t"])
def test_no_prefix_after_a_quote_an_exclusion_a_filter_or_a_space(seg, text):
    assert parse(text, seg).prefix_words() == set()


def test_words_lists_every_included_word_for_highlighting(seg):
    parsed = parse('"annual report" 社保 -草稿', seg)
    assert parsed.words() == ["annual", "report", "社保"]


def test_query_length_is_capped(seg):
    text = "税 " * MAX_QUERY_LENGTH
    parsed = parse(text + "tail", seg)
    assert all(item.words != ("tail",) for item in parsed.include)
    assert len(parsed.include) == MAX_ITEMS


def test_at_most_max_items_includes_and_excludes(seg):
    parsed = parse(" ".join(f"w{i} -x{i}" for i in range(MAX_ITEMS + 5)), seg)
    assert len(parsed.include) == MAX_ITEMS and len(parsed.exclude) == MAX_ITEMS
    assert parsed.include[0].words == ("w0",) and parsed.exclude[-1].words == (f"x{MAX_ITEMS - 1}",)


def test_words_longer_than_an_index_term_are_cut_to_its_length(seg):
    long_word = "a" * (MAX_TERM_LENGTH + 1)
    assert words(parse(f"{long_word} tax", seg).include) == [("a" * MAX_TERM_LENGTH,), ("tax",)]
    assert words(parse("a" * MAX_TERM_LENGTH, seg).include) == [("a" * MAX_TERM_LENGTH,)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("' or 1=1 --", [("or",), ("1", "1")]),
        ("' OR 1=1 --", [("1", "1")]),  # OR joins nothing here: dropped
        ('"; DROP TABLE catalog_resource; --', [("drop", "table", "catalog", "resource")]),
        ("NEAR(tax report)", [("near", "tax"), ("report",)]),
        ("tax AND report", [("tax",), ("and",), ("report",)]),
        ("tax* ^report col:x", [("tax",), ("report",), ("col", "x")]),
        ("a' & b | !c <-> d:*", [("a",), ("b",), ("c",), ("d",)]),
    ],
)
def test_operators_of_the_backends_are_plain_words(seg, text, expected):
    assert words(parse(text, seg).include) == expected


# Chinese input methods type full-width punctuation by default: “” for quotes, － for the minus and ：
# for the colon; and full-width Latin letters come from the same keyboards. The UI is zh-Hans first.


def test_full_width_quotes_make_a_phrase(seg):
    assert parse("“社保 缴费”", seg).include == [Item(words=("社保", "缴费"), phrase=True)]


def test_full_width_colon_makes_a_filter(seg):
    assert parse("dept：税务局", seg).filters == {"dept": ["税务局"]}


def test_full_width_letters_are_folded(seg):
    assert words(parse("ＥＲＰ系统", seg).include) == [("erp", "系统")]


def test_accented_latin_words_stay_whole(seg):
    assert words(parse("Zürich café", seg).include) == [("zürich",), ("café",)]


# -- OR -----------------------------------------------------------------------------------------------


def test_or_joins_the_items_beside_it(seg):
    parsed = parse("社保 OR 医保 缴费", seg)
    assert parsed.include == [AnyOf((Item(words=("社保",)), Item(words=("医保",)))), Item(words=("缴费",), prefix=True)]
    assert parsed.words() == ["社保", "医保", "缴费"]


def test_or_chains_and_takes_phrases(seg):
    parsed = parse('"annual report" OR budget OR 社保缴费 ', seg)
    assert parsed.include == [
        AnyOf(
            (
                Item(words=("annual", "report"), phrase=True),
                Item(words=("budget",)),
                Item(words=("社保", "缴费")),
            )
        )
    ]


def test_the_last_alternative_may_be_a_prefix(seg):
    parsed = parse("社保 OR yib", seg)
    assert parsed.include == [AnyOf((Item(words=("社保",)), Item(words=("yib",), prefix=True)))]
    assert parsed.prefix_words() == {"yib"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("OR 社保", [("社保",)]),
        ("社保 OR", [("社保",)]),
        ("社保 OR ", [("社保",)]),
        ("社保 OR -草稿 医保", [("社保",), ("医保",)]),
        ("社保 OR dept:税务局 医保", [("社保",), ("医保",)]),
        ("社保 or 医保", [("社保",), ("or",), ("医保",)]),
        ('社保 "OR" 医保', [("社保",), ("or",), ("医保",)]),
    ],
)
def test_or_in_capitals_between_two_items_only(seg, text, expected):
    parsed = parse(text, seg)
    assert all(isinstance(entry, Item) for entry in parsed.include)
    assert words(parsed.include) == expected


def test_alternatives_count_toward_the_item_limit(seg):
    parsed = parse(" OR ".join(f"w{i}" for i in range(MAX_ITEMS + 5)), seg)
    assert len(parsed.include) == 1 and len(parsed.include[0].items) == MAX_ITEMS
