"""Relevance on a small labelled corpus (tests/search/corpus.py): for each query, what must come first or
in the top 3, what the whole hit list is when it is clear-cut, and what must not appear. The searcher
is a member of 办公室: they see every open and conditional entry and read only open content."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sharehub.catalog.models import Resource
from sharehub.errors import Invalid
from sharehub.events import consumers
from sharehub.search.queries import SearchFilters, search
from tests import factories

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Case:
    query: str
    first: str | None = None
    top3: tuple[str, ...] = ()
    hits: tuple[str, ...] | None = None  # the whole result set, in any order
    within: tuple[str, ...] = ()  # among the hits, anywhere
    absent: tuple[str, ...] = ()
    why: str = ""


CASES = [
    Case("社保 缴费", first="shebao_base", top3=("shebao_transfer",), absent=("vat_guide", "medical_insurance")),
    Case("社保缴费基数", first="shebao_base", hits=("shebao_base",), why="Chinese without spaces, segmented"),
    Case("营业执照 办理", first="licence_howto", absent=("licence_data", "licence_draft", "tax_audit")),
    Case(
        "营业执照",
        top3=("licence_howto", "licence_check", "licence_data"),
        hits=("licence_howto", "licence_check", "licence_data", "one_stop"),
        why="an org word; the draft and the restricted resource never",
    ),
    Case("人力资源和社会保障局", hits=("shebao_base", "rsj_plan"), why="department name, a dictionary word"),
    Case("人社局", first="rsj_plan", hits=("rsj_plan",), why="a term the admin added"),
    Case("shebao", top3=("shebao_base", "shebao_transfer"), hits=("shebao_base", "shebao_transfer")),
    Case("sb", within=("shebao_base", "shebao_transfer"), absent=("licence_howto",), why="initials"),
    Case("sb jf", first="shebao_base", hits=("shebao_base",), why="initials of 社保 缴费"),
    Case("shebaojiaofei", first="shebao_base", hits=("shebao_base",), why="full pinyin of 社保 缴费 run together"),
    Case("sbjf", hits=("shebao_base",), why="initials of 社保 缴费 run together"),
    Case("sbjf ", hits=("shebao_base",), why="finished: the whole term, not a prefix"),
    Case("shebaojiaof", hits=("shebao_base",), why="the pinyin of two words half typed"),
    Case("shebaojiaofeijishu", hits=("shebao_base",), why="three words: 社保 缴费 基数"),
    Case("yingyezhizhaobanli", hits=("licence_howto",), why="营业执照 办理"),
    Case("yyzzbl", hits=("licence_howto",)),
    Case("jiaofeishebao ", hits=(), why="the words in another order are not side by side"),
    Case("sbzy ", hits=("shebao_transfer",), why="社保 转移, not 社保 and any word starting with z"),
    Case("yyzz", hits=("licence_howto", "licence_check", "licence_data")),
    Case("yingyezhizhao", hits=("licence_howto", "licence_check", "licence_data")),
    Case("quarterly rep", first="en_quarterly", hits=("en_quarterly",), why="prefix on the word being typed"),
    Case("营业执", top3=("licence_howto", "licence_check", "licence_data"), why="a Chinese word half typed"),
    Case("sheba", hits=("shebao_base", "shebao_transfer"), why="pinyin half typed"),
    Case("yingye", hits=("licence_howto", "licence_check", "licence_data")),
    Case("gaox", hits=("graduates", "admissions")),
    Case("quarterly rep ", hits=(), why="a finished word is not a prefix"),
    Case("QUARTERLY REPORT", hits=("en_quarterly",)),
    Case("Quarterly", hits=("en_quarterly", "en_minutes")),
    Case("hosp", first="en_hospital", hits=("en_hospital", "hospital_beds"), why="prefix; a dataset field name"),
    Case('"annual report"', hits=("en_annual",), absent=("en_budget",), why="phrase"),
    Case("annual report", top3=("en_annual", "en_budget")),
    Case("营业执照 -数据集", within=("licence_howto", "licence_check"), absent=("licence_data",)),
    Case("dept:税务局 营业执照", hits=("licence_check",)),
    Case("dept:人力资源和社会保障局 社保", hits=("shebao_base", "shebao_transfer"), why="sub-departments too"),
    Case("dept:SWJ 营业执照", hits=("licence_check",), why="a department's code, as its name"),
    Case("dept:swj 营业执照", hits=("licence_check",), why="the code in any case"),
    Case("dept:RSJ 社保", hits=("shebao_base", "shebao_transfer"), why="by code, sub-departments too"),
    Case("社保 OR 医保", hits=("shebao_base", "shebao_transfer", "medical_insurance"), why="either word"),
    Case("疫苗 OR 投影仪 OR 稽查", hits=("flu_vaccine", "projector"), why="never what the person may not see"),
    Case("社保 OR 医保 -转移", hits=("shebao_base", "medical_insurance")),
    Case("(社保 OR 医保) 报销", hits=("medical_insurance",), why="an OR group and a word that must match"),
    Case('"annual report" OR budget', hits=("en_annual", "en_budget")),
    Case("shebao OR yib", hits=("shebao_base", "shebao_transfer", "medical_insurance"), why="pinyin, half typed"),
    Case("kind:dataset 医院", hits=("hospital_beds",)),
    Case("tag:高校", first="admissions", hits=("admissions", "graduates"), why="browse by tag, newest first"),
    Case("医院 床位", first="hospital_beds", absent=("hospital_list",)),
    Case("高校 就业", first="graduates", absent=("admissions",)),
    Case("equipment sharing", first="en_equipment", hits=("en_equipment",)),
    Case("投影仪", hits=("projector",)),
    Case("设备", top3=("projector", "asset_list")),
    Case("统一社会信用代码", hits=("licence_check", "licence_data"), why="a summary and a dataset field"),
    Case("registered capital", hits=("licence_data",), why="a dataset field name"),
    Case("增值税 发票", first="vat_guide"),
    Case("疫苗", hits=("flu_vaccine",)),
    Case("licence", hits=("en_licence",)),
    Case("稽查", hits=(), why="only in a restricted resource"),
    Case("调用明细", hits=(), why="only in the content of a conditional resource"),
]


def _check(corpus, case: Case, user=None) -> None:
    result = search(user or corpus.searcher, case.query, page_size=50)
    keys = corpus.keys(result.hits)
    where = f"{case.query!r} gave {keys}"
    assert result.total == len(keys), where
    assert result.unknown == {}, where
    if case.first:
        assert keys[:1] == [case.first], where
    if case.top3:
        assert set(case.top3) <= set(keys[:3]), where
    if case.hits is not None:
        assert sorted(keys) == sorted(case.hits), where
    assert set(case.within) <= set(keys), where
    assert not set(case.absent) & set(keys), where


@pytest.mark.parametrize("case", CASES, ids=[c.query.strip() or "empty" for c in CASES])
def test_labelled_queries(db, corpus, case):
    _check(corpus, case)


def test_four_character_word_inside_a_department_name(db, corpus):
    _check(corpus, Case("社会保障", within=("shebao_base", "rsj_plan")))


def test_title_matches_outrank_body_matches(db, corpus):
    keys = corpus.keys(search(corpus.searcher, "营业执照").hits)
    assert keys[-1] == "one_stop"  # 营业执照 only in its body
    keys = corpus.keys(search(corpus.searcher, "发票").hits)
    assert keys[0] == "vat_guide" and "one_stop" in keys  # title and tag against body


def test_people_who_may_read_find_content_words(db, corpus):
    _check(corpus, Case("调用明细", hits=("licence_check",)), user=corpus.admin)
    _check(corpus, Case("稽查", hits=("tax_audit",)), user=corpus.admin)
    _check(corpus, Case("营业执照", within=("licence_draft", "tax_audit", "one_stop")), user=corpus.admin)


def test_sort_by_date_lists_newest_first(db, corpus):
    by_date = search(corpus.searcher, "营业执照", sort="date")
    resources = [h.resource for h in by_date.hits]
    assert [r.updated_at for r in resources] == sorted((r.updated_at for r in resources), reverse=True)
    assert corpus.keys(by_date.hits) == ["one_stop", "licence_check", "licence_data", "licence_howto"]
    assert by_date.total == search(corpus.searcher, "营业执照").total


def test_paging_walks_every_hit_once(db, corpus):
    everything = search(corpus.searcher, "", SearchFilters(), sort="date", page_size=100)
    seen = []
    for page in range(1, everything.total // 7 + 2):
        result = search(corpus.searcher, "", sort="date", page=page, page_size=7)
        assert result.total == everything.total and result.pages == -(-everything.total // 7)
        seen += corpus.keys(result.hits)
    assert seen == corpus.keys(everything.hits)
    assert len(seen) == len(set(seen)) == everything.total
    assert "licence_draft" not in seen and "tax_audit" not in seen
    beyond = search(corpus.searcher, "", sort="date", page=everything.total // 7 + 2, page_size=7)
    assert beyond.hits == [] and beyond.total == everything.total


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"page": 0}, "page"),
        ({"page": 501}, "page"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 101}, "page_size"),
    ],
)
def test_pages_out_of_range_are_refused(db, corpus, kwargs, field):
    with pytest.raises(Invalid) as caught:
        search(corpus.searcher, "营业执照", **kwargs)
    assert list(caught.value.fields) == [field]


def test_paging_a_ranked_query(db, corpus):
    whole = corpus.keys(search(corpus.searcher, "营业执照", page_size=10).hits)
    pages = [corpus.keys(search(corpus.searcher, "营业执照", page=p, page_size=3).hits) for p in (1, 2)]
    assert pages[0] + pages[1] == whole


def _twins(corpus, title: str, ages: dict[str, int], now):
    made = {}
    for key, days in ages.items():
        resource = factories.resource(corpus.departments["office"], title=title, summary="", body="", tags=[])
        Resource.objects.filter(pk=resource.pk).update(updated_at=now - timedelta(days=days))
        made[key] = resource.pk
    return made


def test_freshness_breaks_ties(db, corpus, indexed):
    now = timezone.now()
    made = _twins(corpus, "档案数字化扫描服务", {"old": 400, "recent": 90, "fresh": 3}, now)
    indexed()
    result = search(corpus.searcher, "档案数字化", now=now)
    order = {pk: key for key, pk in made.items()}
    assert [order[h.resource.pk] for h in result.hits] == ["fresh", "recent", "old"]
    scores = {order[h.resource.pk]: h.score for h in result.hits}
    assert scores["fresh"] / scores["old"] == pytest.approx(1.25)
    assert scores["recent"] / scores["old"] == pytest.approx(1.1)


def test_freshness_is_measured_from_now(db, corpus, indexed):
    now = timezone.now()
    made = _twins(corpus, "Archive digitisation service", {"a": 400, "b": 3}, now)
    indexed()
    later = now + timedelta(days=365)  # both are now old: a tie on score, the newer still first
    result = search(corpus.searcher, "archive digitisation", now=later)
    assert [h.resource.pk for h in result.hits] == [made["b"], made["a"]]
    assert result.hits[0].score == pytest.approx(result.hits[1].score)


# -- every title finds itself -------------------------------------------------------------------------------

TITLE_PIECES = st.sampled_from(
    [
        *"社保缴费基数营业执照人力资源和社会保障局医院高校设备税务季度报告〇々",
        "社保",
        "营业执照",
        "人社局",
        "一网通办",
        "Quarterly",
        "report",
        "ERP",
        "Ｅｒｐ",  # full width
        "２０２５",
        "Zürich",
        "café",
        "naïve",
        "x86_64",
        "C++",
        "e\u0301",  # a combining accent
        "2025年",
        "第3季度",
        "🙂",
        "٣",
        "𠮷",  # outside the basic CJK block
    ]
)
SEPARATORS = st.sampled_from(["", " ", "，", "、", "/", "·", "\u3000", "（", "）", "《", "》", ".", "_"])


@st.composite
def titles(draw) -> str:
    pieces = draw(st.lists(st.tuples(TITLE_PIECES, SEPARATORS), min_size=1, max_size=8))
    return "".join(p + s for p, s in pieces).strip()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=titles())
def test_every_title_finds_itself(db, title):
    """Whatever the title, typing it (or quoting it) finds the resource, for a reader and for someone who
    sees only the catalog entry: the index and the query cut text into the same words."""
    with transaction.atomic():
        owner = factories.department("档案馆", "DAG")
        steward, outsider = factories.member(owner, "steward"), factories.member(factories.department("信访局", "XFJ"))
        resource = factories.resource(
            owner, by=steward, title=title, body="", sharing_type=Resource.SharingType.CONDITIONAL
        )
        consumers.run_pending()
        for query in (title, f'"{title}"'):
            if not search(steward, query).parsed.has_terms:
                continue  # nothing but punctuation
            for person in (steward, outsider):
                assert resource.pk in [h.resource.pk for h in search(person, query, page_size=100).hits], query
        transaction.set_rollback(True)


def test_a_partial_department_name_filters_on_every_department_it_names(db, indexed):
    city = factories.department("地方税务总局", "DFSW")
    for n in range(1, 23):
        office = factories.department(f"第{n}税务所", f"SWS{n}", parent=city)
        factories.resource(office, title=f"第{n}税务所办税指南", body="")
    indexed()
    outsider = factories.member(factories.department("审计局", "SJ"))
    assert search(outsider, "dept:税务所", page_size=100).total == 22
