"""A second process for tests/ops/test_backup.py: writes while `sharehub backup` runs, and dumps every row.

    python -m tests.ops.load seed                        a department, a steward, resources with files, a dataset
    python -m tests.ops.load write STATES STOP READY     write until the file STOP exists; STATES gets every state
    python -m tests.ops.load dump OUT                    every row of every model's table, the files the rows name,
                                                         and every dataset record decrypted with the keys in place

It runs against SHAREHUB_DATA_DIR and DATABASE_URL, as `sharehub` does.

`write` records the database after *every* commit of its own connection (the services' transactions and the
log readers' that run after them), so the restored copy can be compared with the state the backup's snapshot
saw: a state is every model's table as {primary key: digest of the row}, read through a second connection.
This process is the only writer, so that read is the state between one commit and the next. States are
stored as changes from the state before (a table is listed only when it changed).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharehub.settings")

import django

django.setup()

from django.apps import apps  # noqa: E402
from django.db import connection  # noqa: E402

from sharehub.access.models import RequestAttachment  # noqa: E402
from sharehub.catalog import services as catalog  # noqa: E402
from sharehub.catalog.models import Attachment, Blob, Resource  # noqa: E402
from sharehub.events.models import ChainHead  # noqa: E402
from sharehub.exchange import schema  # noqa: E402
from sharehub.exchange import services as exchange  # noqa: E402
from sharehub.exchange.models import Dataset, Record  # noqa: E402
from sharehub.org.models import Department, User  # noqa: E402
from tests import factories  # noqa: E402

FIELDS = [
    {"name": "credit_code", "type": "text", "sensitivity": "public", "required": True},
    {"name": "name", "type": "text", "sensitivity": "internal"},
    {"name": "legal_person", "type": "text", "sensitivity": "sensitive", "masking": "partial"},
    {"name": "risk_note", "type": "text", "sensitivity": "secret"},
]
DATASET_TITLE = "纳税人登记信息"


def tables() -> dict[str, str]:
    """Every model's table (many-to-many tables too) and its primary key column."""
    found = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.managed and not model._meta.proxy:
            found[model._meta.db_table] = model._meta.pk.column
    return dict(sorted(found.items()))


def raw_connection():
    """A second connection in autocommit mode: it reads what is committed, nothing else."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return sqlite3.connect(settings["NAME"], isolation_level=None, timeout=60)
    import psycopg

    return psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        autocommit=True,
    )


def read_state(raw) -> tuple[int, dict[str, dict[str, str]]]:
    """(chain head seq, {table: {pk: digest of the row}})."""
    cursor = raw.cursor()
    state = {}
    for table, pk in tables().items():
        cursor.execute(f'SELECT * FROM "{table}"')
        names = [column[0] for column in cursor.description]
        at = names.index(pk)
        state[table] = {str(row[at]): hashlib.sha1(repr(tuple(row)).encode()).hexdigest() for row in cursor.fetchall()}
    cursor.execute(f'SELECT seq FROM "{ChainHead._meta.db_table}" WHERE id = 1')
    head = cursor.fetchone()
    return (head[0] if head else 0), state


def seed() -> None:
    rng = random.Random(1)
    tax = factories.department("税务局", "SWJ")
    steward = factories.member(tax, "steward", username="tax_steward")
    for n in range(12):
        resource = factories.resource(tax, by=steward, title=f"资源 {n}", body="正文 " * 200)
        catalog.add_attachment(steward, resource, f"file-{n}.bin", [rng.randbytes(rng.randint(20_000, 120_000))])
    dataset = factories.resource(tax, by=steward, kind="dataset", sharing_type="conditional", title=DATASET_TITLE)
    schema.change_dataset(steward, dataset, FIELDS, key_fields=["credit_code"])
    rows = [
        {"credit_code": f"C{n:06d}", "name": f"公司 {n}", "legal_person": f"张{n}", "risk_note": f"备注 {n}"}
        for n in range(300)
    ]
    exchange.upsert(steward, dataset, rows)
    print(json.dumps({"resources": Resource.objects.count(), "records": Record.objects.count()}))


class Writer:
    def __init__(self) -> None:
        self.rng = random.Random(os.getpid())
        self.steward = User.objects.get(username="tax_steward")
        self.tax = Department.objects.get(code="SWJ")
        self.dataset = Resource.objects.get(title=DATASET_TITLE)
        self.raw = raw_connection()
        self.states: list[dict] = []
        self.last: dict[str, dict[str, str]] = {}
        self.count = 0
        self.changes = -1

    def record(self) -> None:
        seq, state = read_state(self.raw)
        changed = {table: rows for table, rows in state.items() if self.last.get(table) != rows}
        self.states.append({"seq": seq, "changed": changed})
        self.last = state

    def wrote(self) -> bool:
        """Whether the open transaction changed anything (the log readers often commit having read nothing)."""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")
                return cursor.fetchone()[0]
        total = connection.connection.total_changes  # rows SQLite changed on this connection so far
        changed, self.changes = total != self.changes, total
        return changed

    def watch(self) -> None:
        """Record after every commit, and after every write made outside a transaction (autocommit)."""
        connection.ensure_connection()
        commit = connection._commit

        def commit_and_record():
            wrote = self.wrote()
            commit()
            if wrote:
                self.record()

        connection._commit = commit_and_record

        def after_autocommit_write(execute, sql, params, many, context):
            result = execute(sql, params, many, context)
            writes = ("INSERT", "UPDATE", "DELETE", "REPLACE")
            if not connection.in_atomic_block and sql.lstrip().upper().startswith(writes):
                self.record()
            return result

        connection.execute_wrappers.append(after_autocommit_write)

    def step(self) -> None:
        rng, steward = self.rng, self.steward
        choice = rng.random()
        resources = list(
            Resource.objects.filter(kind=Resource.Kind.DOCUMENT).order_by("pk").values_list("pk", flat=True)
        )
        if choice < 0.35:
            resource = factories.resource(self.tax, by=steward, title=f"新资源 {self.count}", body="内容 " * 50)
            catalog.add_attachment(steward, resource, "new.bin", [rng.randbytes(rng.randint(10_000, 80_000))])
        elif choice < 0.55:
            resource = Resource.objects.get(pk=rng.choice(resources))
            catalog.update_resource(steward, resource, {"body": f"改过的正文 {self.count} " * 30}, note="edit")
        elif choice < 0.7:
            resource = Resource.objects.get(pk=rng.choice(resources))
            catalog.add_attachment(steward, resource, "more.bin", [rng.randbytes(rng.randint(10_000, 80_000))])
        elif choice < 0.8:
            attachment = Attachment.objects.filter(removed_at__isnull=True).order_by("?").first()
            catalog.remove_attachment(steward, attachment)
        else:
            n = rng.randint(0, 400)
            row = {"credit_code": f"C{n:06d}", "name": f"公司 {n} v{self.count}", "legal_person": f"李{self.count}"}
            exchange.upsert(steward, self.dataset, [{**row, "risk_note": f"备注 {self.count}"}])
        self.count += 1


def write(states_file: str, stop_file: str, ready_file: str) -> None:
    writer = Writer()
    writer.record()  # the state before the first write
    writer.watch()
    Path(ready_file).touch()
    while not Path(stop_file).exists():
        writer.step()
    Path(states_file).write_text(json.dumps({"writes": writer.count, "states": writer.states}))


def dump(out_file: str) -> None:
    seq, state = read_state(raw_connection())
    named = set(Blob.objects.values_list("sha256", flat=True)) | set(
        RequestAttachment.objects.values_list("sha256", flat=True)
    )
    decrypted = 0
    for dataset in Dataset.objects.all():
        codec = exchange.codec_for(dataset)
        for record in Record.objects.filter(dataset=dataset):
            values = codec.reveal(record.key, record.values)
            decrypted += bool(values.get("legal_person"))
    result = {"seq": seq, "tables": state, "blobs": sorted(named), "decrypted": decrypted}
    Path(out_file).write_text(json.dumps(result))


if __name__ == "__main__":
    action, *args = sys.argv[1:]
    {"seed": seed, "write": write, "dump": dump}[action](*args)
