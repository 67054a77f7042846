"""The exchange benchmark's pieces at a tiny size, so they cannot rot. Nothing here is about speed.

The generated rows must pass the benchmark's schema, the grant must leave the grantee one encrypted
field in full and two masked, both imports must load the same rows, each walker must follow its
server's own cursor to the end (Sharehub through the test client, the bare Starlette endpoint through
its test client, Datasette through its internal client), the lookups and the change-feed consumer
must be answered, and the table must render. The live test runs the whole command on real servers."""

from __future__ import annotations

import asyncio
import csv
import json
from dataclasses import asdict

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from bench.exchange import data, load, run, setup
from sharehub.exchange.models import Change, Record
from sharehub.exchange.queries import access_dataset
from sharehub.exchange.rows import check_rows
from sharehub.exchange.services import codec_for
from sharehub.org.models import User
from sharehub.policy.fields import FieldView

ROWS = 250


@pytest.fixture
def fx(db) -> dict:
    return asdict(setup.prepare())


@pytest.fixture
def rows_csv(tmp_path):
    return data.write_csv(tmp_path / "rows.csv", ROWS)


class DjangoJSON:
    """The load clients' interface (get, json, close) over Django's test client."""

    def __init__(self, token: str) -> None:
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def get(self, path: str) -> tuple[int, bytes]:
        response = self.client.get(path)
        return response.status_code, response.content

    def json(self, path: str) -> dict:
        status, body = self.get(path)
        assert status == 200, (path, body[:300])
        return json.loads(body)

    def close(self) -> None:
        pass


def test_the_rows_are_deterministic_and_pass_the_schema(fx):
    assert data.row(7) == data.row(7) and data.row(7) != data.row(8)
    dataset = access_dataset(User.objects.get(username=fx["steward"]), fx["resource_id"]).dataset
    codec = codec_for(dataset)
    checked = check_rows(codec, (dict(zip(data.COLUMNS, r, strict=True)) for r in data.rows(ROWS)))
    assert checked.errors == [] and len(checked.valid) == ROWS
    assert len({key for _n, key, _v in checked.valid}) == ROWS
    assert sum(r[3] == data.FILTER_DISTRICT for r in data.rows(ROWS)) == ROWS // 10
    assert codec.encrypted == {data.ENCRYPTED}


def test_the_grantee_sees_the_encrypted_field_in_full_and_two_masked(fx):
    grantee = User.objects.get(username="sb-member")
    views = access_dataset(grantee, fx["resource_id"]).access.views
    assert views[data.ENCRYPTED] == FieldView.FULL and views["district"] == FieldView.FULL
    assert [n for n, v in views.items() if v == FieldView.MASKED] == list(data.MASKED)
    assert all(v != FieldView.HIDDEN for v in views.values())


def _imported(fx, rows_csv) -> None:
    call_command("records", "import", fx["code"], str(rows_csv), "--as", fx["steward"], verbosity=0)


def test_the_floor_checks_and_prepares_every_row_and_writes_nothing(fx, rows_csv):
    least = setup.floor(rows_csv, fx["code"])
    assert least["rows"] == ROWS and least["seconds"] > 0
    assert not Record.objects.filter(dataset_id=fx["resource_id"]).exists() and not Change.objects.exists()


def test_the_cli_import_and_the_bare_import_load_the_same_rows(fx, rows_csv):
    _imported(fx, rows_csv)
    assert Record.objects.filter(dataset_id=fx["resource_id"]).count() == ROWS
    bare = setup.bare_import(rows_csv)
    assert bare["rows"] == ROWS and bare["rows_per_s"] > 0
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), count(DISTINCT id_no) FROM {setup.PLAIN_TABLE}")
        assert cursor.fetchone() == (ROWS, ROWS)


def test_sharehub_walks_lookups_and_the_change_feed_are_answered(fx, rows_csv):
    _imported(fx, rows_csv)
    client = DjangoJSON(fx["grantee_token"])
    walk = load.walk_sharehub(client, fx["resource_id"], {}, 10**9)
    assert (walk.rows, walk.pages) == (ROWS, 1)
    walk = load.walk_sharehub(client, fx["resource_id"], run.FILTER, 10**9)
    assert walk.rows == ROWS // 10
    page = client.json(f"/api/v1/datasets/{fx['resource_id']}/records?limit=3")
    assert page["masked"] == list(data.MASKED) and "*" in page["items"][0]["name"]
    assert page["items"][0][data.ENCRYPTED] == data.row(0)[0]

    values = data.lookup_values(ROWS, 20)
    assert len(set(values)) == 20
    base = f"/api/v1/datasets/{fx['resource_id']}"
    for paths in (
        [f"{base}/records?{data.ENCRYPTED}={v}&limit=10" for v in values],
        [f"{base}/record?{data.ENCRYPTED}={v}" for v in values],
    ):
        measured = load.lookups(lambda: DjangoJSON(fx["grantee_token"]), paths, threads=1)
        assert measured["requests"] == 20 and measured["errors"] == 0, measured["error_samples"]
    missing = load.lookups(lambda: DjangoJSON(fx["grantee_token"]), [f"{base}/records?{data.ENCRYPTED}=x"], 1)
    assert missing["errors"] == 1  # a lookup that finds nothing is not counted as answered

    assert Change.objects.filter(dataset_id=fx["resource_id"]).count() == ROWS
    caught = load.catch_up(client, fx["resource_id"], 200)
    assert (caught["changes"], caught["pages"]) == (ROWS, 1)  # one page of 1000 holds them all


def test_the_page_work_reads_and_decrypts_every_page(fx, rows_csv):
    _imported(fx, rows_csv)
    work = setup.page_work(fx, pages=5)
    assert work["pages"] == 1  # ROWS rows make one page of 1000
    assert work["read_ms_per_page"] > 0 and work["decrypt_ms_per_page"] > 0


@pytest.fixture
def plain_db(tmp_path, rows_csv):
    return setup.datasette_db(rows_csv, tmp_path / "plain.db")


def test_the_plain_table_holds_the_csv(plain_db, rows_csv):
    import sqlite3

    with rows_csv.open(encoding="utf-8") as handle:
        first = next(iter(list(csv.reader(handle))[1:]))
    conn = sqlite3.connect(plain_db)
    assert conn.execute("SELECT count(*) FROM rows").fetchone() == (ROWS,)
    assert conn.execute("SELECT id_no, name FROM rows WHERE id = 1").fetchone() == tuple(first[:2])
    conn.close()


class StarletteJSON:
    def __init__(self, client) -> None:
        self.client = client

    def json(self, path: str) -> dict:
        response = self.client.get(path)
        assert response.status_code == 200, response.text[:300]
        return response.json()


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_the_bare_endpoint_walks_its_cursor(plain_db, monkeypatch):
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    monkeypatch.setenv("BENCH_BARE_DB", str(plain_db))
    from bench.exchange import bare

    monkeypatch.setattr(bare, "TABLE", "rows")
    monkeypatch.setattr(load, "PAGE", 100)
    with TestClient(bare.app) as client:
        walk = load.walk_bare(StarletteJSON(client), {}, 10**9)
        assert (walk.rows, walk.pages) == (ROWS, 3)
        assert load.walk_bare(StarletteJSON(client), run.FILTER, 10**9).rows == ROWS // 10
        first = client.get("/rows?limit=1").json()["items"][0]
        assert first["id_no"] == data.row(0)[0] and first["household"] == data.row(0)[7]


class DatasetteJSON:
    def __init__(self, datasette) -> None:
        self.datasette = datasette

    def json(self, path: str) -> dict:
        response = asyncio.run(self.datasette.client.get(path))
        assert response.status_code == 200, response.text[:300]
        return response.json()


def test_datasette_walks_its_next_token(plain_db, monkeypatch):
    pytest.importorskip("datasette")
    from datasette.app import Datasette

    monkeypatch.setattr(load, "PAGE", 100)
    datasette = Datasette([str(plain_db)], immutables=[])
    walk = load.walk_datasette(DatasetteJSON(datasette), {}, 10**9)
    assert (walk.rows, walk.pages) == (ROWS, 3)
    assert load.walk_datasette(DatasetteJSON(datasette), run.FILTER, 10**9).rows == ROWS // 10


def _walks(rows_per_s: float) -> list[dict]:
    return [{"rows": 100, "pages": 1, "seconds": 1.0, "rows_per_s": rows_per_s, "page_p50_ms": 10.0}]


def test_the_table_renders_every_target():
    lookups = {"requests": 5, "threads": 2, "per_s": 50.0, "p50_ms": 5.0, "p95_ms": 9.0, "p99_ms": 12.0,
               "max_ms": 14.0, "errors": 0, "error_samples": []}  # fmt: skip
    result = {
        "db": "postgres",
        "rows": 1000,
        "load_average": [1.0, 2.0],
        "import": {
            "bare": {"rows": 1000, "seconds": 0.1, "rows_per_s": 10_000.0},
            "floor": {"seconds": 0.4, "cpu_seconds": 0.3, "rows_per_s": 2500.0},
            "sharehub": {"seconds": 1.0, "rows_per_s": 1000.0, "output": []},
        },
        "walks": {w: {"sharehub": _walks(300.0), "datasette": _walks(100.0), "bare": _walks(500.0)}
                  for w in ("all", "filtered")},
        "lookups": {"filter": lookups, "by_key": lookups},
        "changes": {"changes": 1000, "pages": 1, "seconds": 0.5, "per_s": 2000.0},
        "page_work": {"pages": 3, "read_ms_per_page": 4.0, "decrypt_ms_per_page": 1.5},
        "rss": {"start": {s: [50.0] for s in run.SERVERS}, "end": {s: [60.0] for s in run.SERVERS}},
    }  # fmt: skip
    table = run.render(result)
    assert "10.0% | ≥ 50%: **FAIL**" in table
    assert "| 2,500 | 0.4 (0.3) | 25.0% | the most any import doing this work reaches |" in table
    assert "3.00× | 60% | ≥ 2× Datasette: **pass**; ≥ 50% of bare: **pass**" in table
    assert "Datasette serves only SQLite" in table and "p95 ≤ 20 ms: **pass**" in table
    assert "| of which: decrypting `id_no` of 1,000 rows alone, CPU (the baselines decrypt nothing) | 1.5 |" in table


@pytest.mark.live
def test_the_whole_command_runs_on_sqlite_at_a_tiny_size(tmp_path):
    pytest.importorskip("datasette")
    argv = ["--db", "sqlite", "--rows", "1500", "--walk-rows", "1500", "--rounds", "1", "--lookups", "20"]
    run.main([*argv, "--data-dir", str(tmp_path), "--results", str(tmp_path / "results.md")])
    (result,) = json.loads((tmp_path / "results.json").read_text())
    assert result["import"]["bare"]["rows"] == 1500 and result["import"]["floor"]["inside"]["rows"] == 1500
    assert all(r[0]["rows"] > 0 for walk in result["walks"].values() for r in walk.values())
    assert result["lookups"]["filter"]["errors"] == 0 and result["lookups"]["by_key"]["errors"] == 0
    assert result["changes"]["changes"] == 1500
    assert result["page_work"]["pages"] == 2 and result["page_work"]["decrypt_ms_per_page"] > 0
    assert "Datasette" in (tmp_path / "results.md").read_text()
