"""The API benchmark's pieces run on a small demo, on the suite's database, so they cannot rot.

Nothing here is about speed: the fixtures must authenticate on every measured route, the pycasbin
policy must give `can()`'s answers, and the writers' cycle must be accepted by the API. The live test
runs the whole quick mode against real servers."""

import json
import shutil
from dataclasses import asdict

import pytest
from django.test import Client

from bench.api import load, policy, run, setup
from sharehub.search.models import SavedSearch


@pytest.fixture
def demo(db):
    setup.load_demo(scale=0.1)
    return asdict(setup.prepare("demo"))


def _client(headers: dict[str, str]) -> Client:
    return Client(**{"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()})


def test_fixtures_reach_every_measured_route(demo):
    assert len(demo["writers"]) == setup.WRITERS
    assert len({w["department"] for w in demo["writers"]}) == min(setup.WRITERS, demo["departments"])
    for _key, label, path, auth, _target in run.ROUTES:
        response = _client(run._headers(auth, demo)).get(path.format(**demo))
        assert response.status_code == 200, (label, response.content[:300])
    resource = _client(run._headers("service", demo)).get(f"/api/v1/resources/{demo['resource_id']}").json()
    assert resource["sharing_type"] == "open" and resource["can_read"]


@pytest.mark.parametrize("who", ["member", "service"])
def test_the_casbin_policy_gives_the_answers_of_can(demo, monkeypatch, who):
    monkeypatch.setattr(policy, "MIN_SECONDS", 0)
    result = policy.measure(demo[who])  # raises when a decision differs
    assert 0 < result["allowed"] < result["resources"] == demo["resources"]
    assert result["can_per_s"] > 0 and result["casbin_per_s"] > 0


def _drive(demo, writer: dict, index: int, steps: int) -> list[str]:
    """Run `steps` requests of a writer's cycle through the API; each must be accepted. The ops done."""
    client = _client({"Authorization": f"Bearer {writer['token']}"})
    ops = load.sharehub_ops(writer, index, demo["search_words"])
    op, (method, path, body), ok = next(ops)
    done = []
    for _ in range(steps):
        data = json.dumps(body) if body is not None else None
        response = client.generic(method, path, data or "", content_type="application/json")
        assert response.status_code in ok, (op, response.content[:300])
        done.append(op)
        op, (method, path, body), ok = ops.send((response.status_code, response.content))
    return done


def test_the_writers_cycle_is_accepted_by_the_api(demo):
    for index, writer in enumerate(demo["writers"][:3]):
        assert _drive(demo, writer, index, 8) == ["create", "edit", "save_search", "search"] * 2


@pytest.mark.live
@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk (scripts/install-wrk.sh)")
def test_quick_mode_runs_end_to_end_on_sqlite(tmp_path, capsys):
    argv = ["--quick", "--db", "sqlite", "--seconds", "1", "--rounds", "1", "--write-seconds", "2"]
    run.main([*argv, "--data-dir", str(tmp_path), "--results", str(tmp_path / "results.md")])
    (result,) = json.loads((tmp_path / "results.json").read_text())
    for key, *_rest in run.ROUTES:
        (measured,) = result["rounds"][key]
        assert measured["requests"] > 0 and measured["errors"] == 0, key
    assert result["writes"]["ops"] > 0 and result["writes_bare"]["errors"] == 0
    assert len(result["rss"]["start"]["sharehub"]) == 2
    table = (tmp_path / "results.md").read_text()
    assert all(label in table for _key, label, *_rest in run.ROUTES)
    assert "pycasbin" in table and "concurrent writes" in table


def test_a_writer_deletes_its_oldest_saved_search_beyond_those_it_keeps(demo, monkeypatch):
    """Saved searches are capped per person (search.services): a long run must not reach the cap."""
    monkeypatch.setattr(load, "KEEP_SAVED", 2)
    writer = demo["writers"][0]
    done = _drive(demo, writer, 0, 20)
    assert done.count("delete_search") >= 2
    assert SavedSearch.objects.filter(owner__username=writer["username"]).count() <= 3
