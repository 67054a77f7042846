"""The bare baseline of the records API: one Starlette endpoint returning pages of the plain table
(`setup.PLAIN_TABLE`, the same rows the import baseline wrote into the same database) as JSON, with
keyset pagination and the same equality filter. No authentication, no policy, no masking.

    BENCH_BARE_DB=/path/sharehub.sqlite3 uvicorn bench.exchange.bare:app
    BENCH_BARE_DB=postgres://... uvicorn bench.exchange.bare:app
    (BENCH_BARE_TABLE names another table of the same columns, such as Datasette's `rows`)

GET /rows?limit=1000[&cursor=<last id>][&district=...] → {"items": [...], "next_cursor": ...}"""

from __future__ import annotations

import os
import threading

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.exchange import data
from bench.exchange.setup import PLAIN_TABLE

FILTERABLE = set(data.COLUMNS)
TABLE = os.environ.get("BENCH_BARE_TABLE", PLAIN_TABLE)
if not TABLE.isidentifier():
    raise ValueError("BENCH_BARE_TABLE: a table name")
_local = threading.local()


def _connection():
    target = os.environ["BENCH_BARE_DB"]
    conns = _local.__dict__.setdefault("conns", {})
    conn = conns.get(target)
    if conn is None:
        if target.startswith("postgres"):
            import psycopg

            conn = psycopg.connect(target, autocommit=True)
        else:
            import sqlite3

            conn = sqlite3.connect(target, check_same_thread=False)
        conns[target] = conn
    return conn


def rows(request: Request) -> JSONResponse:
    conn = _connection()
    postgres = not hasattr(conn, "create_function")
    mark = "%s" if postgres else "?"
    limit = min(max(int(request.query_params.get("limit", "100")), 1), 1000)
    where, params = [f"id > {mark}"], [int(request.query_params.get("cursor", "0"))]
    for name, value in request.query_params.items():
        if name in FILTERABLE:
            where.append(f"{name} = {mark}")
            params.append(value)
    sql = f"SELECT id, {', '.join(data.COLUMNS)} FROM {TABLE} WHERE {' AND '.join(where)} ORDER BY id LIMIT {limit + 1}"
    found = conn.execute(sql, params).fetchall()
    names = ["id", *data.COLUMNS]
    items = [dict(zip(names, r, strict=True)) for r in found[:limit]]
    return JSONResponse({"items": items, "next_cursor": items[-1]["id"] if len(found) > limit else None})


app = Starlette(routes=[Route("/rows", rows)])
