"""The Django side of the exchange benchmark, run in child processes configured for Sharehub's database.

`prepare` builds the organization through Sharehub's services: an owner department (民政局) with a
steward and a head, a grantee department (社保局) with a member, a conditional dataset with the
benchmark's schema, and a grant to the grantee department naming some fields, made the way people make
one (a request, then its approval). `bare_import` is the baseline of the import: the same CSV read with
the csv module and inserted with `executemany` into a plain table of the same database. `floor` is the
import's per-row work without the database: the CSV read, mapped, checked and prepared (parsed, encrypted,
blind-indexed, fingerprinted) by the functions `sharehub records import` calls, nothing written."""

from __future__ import annotations

import csv
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.exchange import data

PLAIN_TABLE = "bench_plain"
BARE_BATCH = 5000
PAGE_WORK_PAGES = 20
SQL_TYPES = {"integer": "integer", "boolean": "boolean"}  # everything else is text, as the CSV gives it


@dataclass
class Fixtures:
    resource_id: int
    code: str
    steward: str
    grantee: str
    owner_token: str
    grantee_token: str
    grant_fields: list[str]


def prepare() -> Fixtures:
    from sharehub.access import services as access
    from sharehub.access.models import AccessRequest
    from sharehub.catalog import services as catalog
    from sharehub.exchange import schema
    from sharehub.org import services as org
    from sharehub.org.models import Membership

    owner = org.create_department(None, name="民政局", code="MZJ")
    grantee_dept = org.create_department(None, name="社保局", code="SBJ")

    def person(username: str, department, role: str):
        user = org.create_person(None, username=username, display_name=username, password=None)
        org.set_membership(None, user, department, role)
        return user

    steward = person("mz-steward", owner, Membership.Role.STEWARD)
    head = person("mz-head", owner, Membership.Role.HEAD)
    grantee = person("sb-member", grantee_dept, Membership.Role.MEMBER)
    resource = catalog.create_resource(
        steward,
        owner_department=owner,
        kind="dataset",
        publish=True,
        sharing_type="conditional",
        title="低保对象登记信息（基准测试）",
        body="居民低保登记，基准测试数据。",
        conditions="仅用于社保核验",
    )
    schema.change_dataset(steward, resource, data.FIELDS, key_fields=data.KEY_FIELDS)
    request = access.create_request(
        grantee,
        resource,
        purpose="社保待遇资格核验",
        use_category=AccessRequest.UseCategory.VERIFICATION,
        period_days=30,
        accept_terms=True,
        for_department=grantee_dept,
        fields=data.GRANTED,
    )
    for decider in (steward, head):  # a request naming sensitive fields may need the head's approval too
        request = access.approve_request(decider, request)
        if request.status == AccessRequest.Status.APPROVED:
            break
    if request.status != AccessRequest.Status.APPROVED:
        raise RuntimeError(f"the grant request ended {request.status}")
    return Fixtures(
        resource_id=resource.pk,
        code=resource.code,
        steward=steward.username,
        grantee=grantee.username,
        owner_token=org.issue_token(None, steward, "bench exchange")[1],
        grantee_token=org.issue_token(None, grantee, "bench exchange")[1],
        grant_fields=list(data.GRANTED),
    )


def _create_plain(cursor, vendor: str) -> None:
    types = {f["name"]: SQL_TYPES.get(f["type"], "text") for f in data.FIELDS}
    pk = "integer primary key" if vendor == "sqlite" else "bigserial primary key"
    columns = ", ".join(f"{name} {kind}" for name, kind in types.items())
    cursor.execute(f"DROP TABLE IF EXISTS {PLAIN_TABLE}")
    cursor.execute(f"CREATE TABLE {PLAIN_TABLE} (id {pk}, {columns})")


def _plain_row(values: list[str]) -> list:
    """A CSV row as the plain table stores it: integers and booleans converted, the rest as text."""
    out = list(values)
    for i, item in enumerate(data.FIELDS):
        if item["type"] == "integer":
            out[i] = int(out[i])
        elif item["type"] == "boolean":
            out[i] = out[i] == "是"
    return out


def bare_import(path: Path) -> dict:
    """Read the CSV and insert its rows with executemany into a fresh plain table, in one transaction."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        _create_plain(cursor, connection.vendor)
    insert = f"INSERT INTO {PLAIN_TABLE} ({', '.join(data.COLUMNS)}) VALUES ({', '.join(['%s'] * len(data.COLUMNS))})"
    started, cpu = time.perf_counter(), time.process_time()
    count = 0
    with path.open(newline="", encoding="utf-8") as handle, transaction.atomic(), connection.cursor() as cursor:
        reader = csv.reader(handle)
        next(reader)
        batch = []
        for values in reader:
            batch.append(_plain_row(values))
            if len(batch) == BARE_BATCH:
                cursor.executemany(insert, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(insert, batch)
            count += len(batch)
    seconds = time.perf_counter() - started
    return {"rows": count, "seconds": seconds, "cpu_seconds": time.process_time() - cpu, "rows_per_s": count / seconds}


def page_work(fx: dict, pages: int) -> dict:
    """Where a records page's time goes without HTTP: CPU ms per 1,000-row page of `queries.read_records` for
    the grantee (fetch, decrypt, mask, shape; no read event), and of decrypting the granted encrypted field
    alone on the same rows, which neither baseline does (they serve plain tables)."""
    from django.contrib.auth import get_user_model

    from sharehub.exchange import queries
    from sharehub.exchange.models import Record

    reader = get_user_model().objects.get(username=fx["grantee"])
    view = queries.access_dataset(reader, fx["resource_id"])
    codec = view.codec
    cursors, query = [], queries.RecordQuery(limit=queries.MAX_LIMIT)
    read_cpu = time.process_time()
    for _ in range(pages):
        page = queries.read_records(reader, view, query, log=False)
        cursors.append(query.cursor)
        if page.next_cursor is None:
            break
        query = queries.RecordQuery(limit=queries.MAX_LIMIT, cursor=page.next_cursor)
    read_cpu = time.process_time() - read_cpu
    tokens = list(
        Record.objects.filter(dataset_id=fx["resource_id"])
        .order_by("pk")
        .values_list("key", f"values__{data.ENCRYPTED}")[: len(cursors) * queries.MAX_LIMIT]
    )
    decrypt_cpu = time.process_time()
    for key, token in tokens:
        codec.keyring.decrypt(token, aad=codec.aad(key, data.ENCRYPTED))
    decrypt_cpu = time.process_time() - decrypt_cpu
    return {
        "pages": len(cursors),
        "read_ms_per_page": read_cpu * 1000 / len(cursors),
        "decrypt_ms_per_page": decrypt_cpu * 1000 / len(cursors),
    }


def floor(path: Path, code: str) -> dict:
    """What `sharehub records import` does before it writes, for every row of the file: read, map, check,
    encrypt, blind-index and fingerprint it (`check_rows(..., prepare=True)`), then drop the result."""
    from sharehub.catalog.models import Resource
    from sharehub.exchange import files, services
    from sharehub.exchange.rows import check_rows
    from sharehub.org.models import User

    resource = Resource.objects.get(code=code)
    steward = User.objects.get(pk=resource.steward_id)
    codec = services.codec_for(services.writable_dataset(steward, resource))
    started, cpu = time.perf_counter(), time.process_time()
    table = files.open_table(path, path.name)
    mapping = files.check_mapping(files.guess_mapping(table.columns, codec.fields), table.columns, codec.fields)
    checked = check_rows(codec, files.mapped_rows(table, mapping), prepare=True)
    seconds = time.perf_counter() - started
    if checked.errors or len(checked.valid) != checked.rows:
        raise ValueError(f"the benchmark's rows must all pass: {checked.errors[:3]}")
    return {"rows": checked.rows, "seconds": seconds, "cpu_seconds": time.process_time() - cpu}


def datasette_db(csv_path: Path, db_path: Path) -> Path:
    """The plain SQLite file Datasette serves: the same rows and columns, one table `rows` (stdlib sqlite3)."""
    import sqlite3

    if db_path.exists():
        return db_path
    partial = db_path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    conn = sqlite3.connect(partial)
    try:
        types = {f["name"]: SQL_TYPES.get(f["type"], "text") for f in data.FIELDS}
        conn.execute(f"CREATE TABLE rows (id integer primary key, {', '.join(f'{n} {t}' for n, t in types.items())})")
        insert = f"INSERT INTO rows ({', '.join(data.COLUMNS)}) VALUES ({', '.join('?' * len(data.COLUMNS))})"
        with csv_path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            next(reader)
            conn.executemany(insert, (_plain_row(values) for values in reader))
        conn.commit()
    finally:
        conn.close()
    partial.rename(db_path)
    return db_path


def child(what: str, out: Path, csv_path: Path | None, code: str | None = None) -> None:
    import json

    import django

    django.setup()
    if what == "prepare":
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        out.write_text(json.dumps(asdict(prepare())))
    elif what == "bare-import":
        out.write_text(json.dumps(bare_import(csv_path)))
    elif what == "page-work":
        fixtures = json.loads((out.parent / "fixtures.json").read_text())
        out.write_text(json.dumps(page_work(fixtures, PAGE_WORK_PAGES)))
    elif what == "floor":
        out.write_text(json.dumps(floor(csv_path, code)))
    else:
        raise ValueError(what)
