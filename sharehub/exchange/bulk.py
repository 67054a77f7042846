"""Writing many records at once: one statement per table and batch (`executemany`, or COPY on PostgreSQL with
psycopg 3) instead of model instances, whose preparation by the ORM was most of an import's time.

The rows are the ones the ORM would write, column for column: the same JSON text of `values` (Django's
`json.dumps` with its defaults), the same timestamps, ids from the table's own sequence. The caller holds the
transaction and the lock on the dataset's row; nothing here commits."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence

from django.db import connection

from sharehub.exchange.models import BlindIndex, Change, Record
from sharehub.exchange.storage import Prepared


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _columns(model, names: Sequence[str]) -> str:
    return ", ".join(connection.ops.quote_name(model._meta.get_field(n).column) for n in names)


# SQLite's page cache while a large import writes: ~1 KiB a row, up to 256 MiB. The indexes of record keys and
# digests take rows in random order; with the default 2 MiB cache each insert evicted a page that the next ones
# needed again, spilled into the WAL (1.5 GB for a million rows) and read back: 200,000 rows wrote in 16 CPU
# seconds with the default cache, 9 with 256 MiB.
CACHE_KIB_PER_ROW = 1
MAX_CACHE_KIB = 256 * 1024
LARGE = 5_000  # rows from which the cache is raised


@contextlib.contextmanager
def large_write(rows: int) -> Iterator[None]:
    """A larger SQLite page cache for the connection while `rows` rows are written, the previous one after."""
    if connection.vendor != "sqlite" or rows < LARGE:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = cursor.fetchone()[0]
        wanted = min(MAX_CACHE_KIB, rows * CACHE_KIB_PER_ROW)
        if previous >= 0 or -previous < wanted:  # positive: a number of pages; negative: KiB
            cursor.execute(f"PRAGMA cache_size = {-int(wanted)}")
        try:
            yield
        finally:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


RECORD_COLUMNS = ("id", "dataset", "key", "values", "fingerprint", "subject", "version", "created_at", "updated_at")
DIGEST_COLUMNS = ("record", "dataset", "field", "digest")
CHANGE_COLUMNS = ("dataset", "seq", "op", "key", "values", "subject", "version", "actor", "created_at")


class Writer:
    """Inserts, updates and digests of one dataset's records and its numbered changes, within the caller's
    transaction. `now` is the time of every row written (created_at, updated_at)."""

    def __init__(self, dataset_id: int, actor_id: int | None, now: dt.datetime) -> None:
        self.dataset_id = dataset_id
        self.actor_id = actor_id
        self.vendor = connection.vendor
        self.now = connection.ops.adapt_datetimefield_value(now)
        self._sequence: str | None = None
        json = "%s::jsonb" if self.vendor == "postgresql" else "%s"
        qn = connection.ops.quote_name
        self._insert_record = (
            f"INSERT INTO {_table(Record)} ({_columns(Record, RECORD_COLUMNS)}) "
            f"VALUES (%s, %s, %s, {json}, %s, %s, %s, %s, %s)"
        )
        self._update_record = (
            f"UPDATE {_table(Record)} SET {qn('values')} = {json}, "
            + ", ".join(f"{qn(c)} = %s" for c in ("fingerprint", "subject", "version", "updated_at"))
            + f" WHERE {qn('id')} = %s"
        )
        self._delete_digests = f"DELETE FROM {_table(BlindIndex)} WHERE {qn('record_id')} IN "
        self._insert_digest = (
            f"INSERT INTO {_table(BlindIndex)} ({_columns(BlindIndex, DIGEST_COLUMNS)}) VALUES (%s, %s, %s, %s)"
        )
        self._insert_change = (
            f"INSERT INTO {_table(Change)} ({_columns(Change, CHANGE_COLUMNS)}) "
            f"VALUES (%s, %s, %s, %s, {json}, %s, %s, %s, %s)"
        )
        self._copy = {
            model: f"COPY {_table(model)} ({_columns(model, names)}) FROM STDIN"
            for model, names in ((Record, RECORD_COLUMNS), (BlindIndex, DIGEST_COLUMNS), (Change, CHANGE_COLUMNS))
        }

    def _copies(self, cursor) -> bool:
        """COPY FROM STDIN through psycopg 3's cursor (PostgreSQL's fastest way in)."""
        return self.vendor == "postgresql" and hasattr(cursor.cursor, "copy")

    def _rows(self, cursor, model, sql: str, rows: list[tuple]) -> None:
        if not rows:
            return
        if self._copies(cursor):
            with cursor.cursor.copy(self._copy[model]) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(sql, rows)

    def ids(self, cursor, count: int) -> list[int]:
        """`count` new primary keys of records, in ascending order, as the table would number them."""
        if not count:
            return []
        if self.vendor == "postgresql":
            if self._sequence is None:
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Record._meta.db_table])
                self._sequence = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [self._sequence, count])
            return sorted(row[0] for row in cursor.fetchall())
        # SQLite, AUTOINCREMENT: the next rowid is above both the largest ever used and the largest present; the
        # write transaction (BEGIN IMMEDIATE) keeps any other writer out until the commit.
        table = Record._meta.db_table
        cursor.execute(
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
            f"coalesce((SELECT max(id) FROM {_table(Record)}), 0))",
            [table],
        )
        last = cursor.fetchone()[0]
        return list(range(last + 1, last + 1 + count))

    def insert_records(self, cursor, rows: list[tuple[int, str, Prepared]]) -> None:
        """Rows of (id, key, prepared values), version 1."""
        ds, now = self.dataset_id, self.now
        self._rows(
            cursor,
            Record,
            self._insert_record,
            [(pk, ds, key, r.text, r.fingerprint, r.subject, 1, now, now) for pk, key, r in rows],
        )

    def update_records(self, cursor, rows: list[tuple[int, int, Prepared]]) -> None:
        """Rows of (id, new version, prepared values)."""
        if rows:
            now = self.now
            cursor.executemany(
                self._update_record, [(r.text, r.fingerprint, r.subject, v, now, pk) for pk, v, r in rows]
            )

    def delete_digests(self, cursor, record_ids: list[int]) -> None:
        if record_ids:
            cursor.execute(self._delete_digests + f"({', '.join(['%s'] * len(record_ids))})", record_ids)

    def insert_digests(self, cursor, rows: list[tuple[int, Prepared]]) -> None:
        """The digests of each (record id, prepared values)."""
        ds = self.dataset_id
        digests = [(pk, ds, name, digest) for pk, r in rows for name, digest in r.digests]
        self._rows(cursor, BlindIndex, self._insert_digest, digests)

    def insert_changes(self, cursor, rows: list[tuple[int, str, str, str, str, int]]) -> None:
        """Rows of (seq, op, key, values as JSON text, subject, version)."""
        ds, actor, now = self.dataset_id, self.actor_id, self.now
        self._rows(
            cursor,
            Change,
            self._insert_change,
            [(ds, seq, op, key, values, subject, v, actor, now) for seq, op, key, values, subject, v in rows],
        )
