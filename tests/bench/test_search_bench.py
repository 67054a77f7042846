"""The search benchmark's harness runs end to end on a tiny corpus, on the suite's database, so it
cannot rot. Benchmarks assert nothing about speed: this checks only that every path ran and that
the paths agree on what matches."""

import json

import pytest

from bench.search import pipeline, report, run, tantivy_baseline
from bench.search.corpus import Sizes
from sharehub.search import segment

QUERIES = {"zh": ("社保 缴费", "财政 预算", "项目进度 验收"), "en": ("budget rev", "procure")}


@pytest.fixture
def fresh_dictionary():
    """The corpus's departments and terms load into the process's segmenter; leave none behind."""
    segment.reset()
    yield
    segment.reset()


@pytest.mark.django_db
def test_benchmark_runs_on_a_tiny_corpus(tmp_path, fresh_dictionary):
    with_tantivy = tantivy_baseline.available()
    config = pipeline.Config(
        sizes=Sizes.scaled(300, people=20),
        data_dir=tmp_path,
        repeat=1,
        tantivy=with_tantivy,
        profile=True,
        groups=QUERIES,
    )
    result = pipeline.run(config, progress=lambda message: None)

    corpus = result["corpus"]
    assert (corpus["docs"], corpus["people"], corpus["departments"], corpus["grants"]) == (300, 20, 12, 75)
    assert 0 < corpus["person"]["visible"] < 300
    indexing = result["indexing"]
    assert indexing["docs"] == 300 and indexing["source_bytes"] > 300 * 300
    assert min(indexing["ours_s"], indexing["raw_jieba_s"], indexing["segment_s"]) > 0

    paths = {"search_person", "search_admin", "statement_person", "statement_admin", "api_person", "api_admin"}
    paths |= {"bare"} | ({"tantivy"} if with_tantivy else set())
    for name, queries in QUERIES.items():
        group = result["groups"][name]
        assert set(group["latency"]) == paths
        assert all(group["latency"][path]["n"] == len(queries) for path in paths)
        hits = group["hits"]
        assert hits["bare"] > 0, "the vocabulary's queries must match the generated text"
        assert hits["admin"] == hits["bare"], "an admin sees everything the bare full-text query matches"
        assert hits["person"] <= hits["admin"]
        if with_tantivy:
            assert hits["tantivy"] == hits["bare"], "tantivy indexes the same terms as the full-text backend"

    assert "Slowest case" in result["profile"]
    table = report.render({result["backend"]: result})
    assert "`search()` · person who sees ≈5%" in table and "ours / raw jieba" in table

    saved, written = tmp_path / "result.json", tmp_path / "results.md"
    saved.write_text(json.dumps(result))
    run.main(["--combine", str(saved), "--results", str(written)])
    assert table in written.read_text() and "Profile of the slowest case" in written.read_text()
