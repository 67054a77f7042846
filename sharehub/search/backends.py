"""The two full-text index backends behind one interface.

SQLite: an FTS5 table whose rowid is the resource id, one column per kind of text; BM25 ranking.
PostgreSQL: two tsvector columns on `search_resourceentry` (everything, and the catalog part only)
with GIN indexes; `ts_rank` with weights. Both receive the same pre-segmented terms (see
`segment.py`), so a term matches the same documents on both.

Each backend turns a parsed query into SQL fragments: `driver` (the table that finds candidates and
the condition that uses its index), `score`, and conditions "matches everything" / "matches the
catalog part" for the permission rule in `queries.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection

from sharehub.search.documents import IndexDocument
from sharehub.search.syntax import Item

FTS_TABLE = "search_resource_fts"
ENTRY_TABLE = "search_resourceentry"
# title, catalog, content, catalog_extra, content_extra
FULL_WEIGHTS = (10.0, 4.0, 1.0, 1.5, 0.4)
CATALOG_WEIGHTS = (10.0, 4.0, 0.0, 1.5, 0.0)
PG_WEIGHTS = "{0.05, 0.2, 0.4, 1.0}"  # D (inner words, pinyin), C (content), B (catalog), A (title)


@dataclass(frozen=True)
class Match:
    """SQL pieces for one query; `r` is the catalog_resource alias."""

    joins: str
    condition: str
    params: list
    full_score: str
    catalog_score: str
    score_params: list
    catalog_condition: str
    catalog_params: list
    exclude_full: str
    exclude_full_params: list
    exclude_catalog: str
    exclude_catalog_params: list


class SqliteBackend:
    vendor = "sqlite"

    def create_schema(self, cursor) -> None:
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
            "title, catalog, content, catalog_extra, content_extra, "
            "tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3')"
        )

    def drop_schema(self, cursor) -> None:
        cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")

    def write(self, cursor, documents: Sequence[IndexDocument]) -> None:
        if not documents:
            return
        self.delete(cursor, [d.resource_id for d in documents])
        cursor.executemany(
            f"INSERT INTO {FTS_TABLE} (rowid, title, catalog, content, catalog_extra, content_extra) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [(d.resource_id, d.title, d.catalog, d.content, d.catalog_extra, d.content_extra) for d in documents],
        )

    def delete(self, cursor, ids: Sequence[int]) -> None:
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid IN ({', '.join(['%s'] * len(chunk))})", chunk)

    def clear(self, cursor) -> None:
        cursor.execute(f"DELETE FROM {FTS_TABLE}")

    def indexed_ids(self, cursor) -> set[int]:
        cursor.execute(f"SELECT rowid FROM {FTS_TABLE}")
        return {row[0] for row in cursor.fetchall()}

    # -- queries --
    @staticmethod
    def _item(item: Item) -> str:
        quoted = ['"' + w.replace('"', '""') + '"' for w in item.words]
        if item.phrase:
            return "{title catalog content} : (" + " + ".join(quoted) + ")"
        if item.prefix:
            quoted[-1] += " *"
        return "(" + " AND ".join(quoted) + ")" if len(quoted) > 1 else quoted[0]

    def _expression(self, items: Sequence[Item], joiner: str) -> str:
        return f" {joiner} ".join(self._item(item) for item in items)

    def _subquery(self, expression: str) -> str:
        return f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"

    def match(self, include: Sequence[Item], exclude: Sequence[Item]) -> Match:
        positive = self._expression(include, "AND")
        catalog_positive = "{title catalog catalog_extra} : (" + positive + ")"
        negative = self._expression(exclude, "OR") if exclude else ""
        catalog_negative = "{title catalog catalog_extra} : (" + negative + ")" if exclude else ""
        full = ", ".join(str(w) for w in FULL_WEIGHTS)
        catalog = ", ".join(str(w) for w in CATALOG_WEIGHTS)
        return Match(
            joins=f"JOIN {FTS_TABLE} ON {FTS_TABLE}.rowid = catalog_resource.id",
            condition=f"{FTS_TABLE} MATCH %s",
            params=[positive],
            full_score=f"-bm25({FTS_TABLE}, {full})",
            catalog_score=f"-bm25({FTS_TABLE}, {catalog})",
            score_params=[],
            catalog_condition=f"catalog_resource.id IN ({self._subquery(catalog_positive)})",
            catalog_params=[catalog_positive],
            exclude_full=f"catalog_resource.id NOT IN ({self._subquery(negative)})" if exclude else "1=1",
            exclude_full_params=[negative] if exclude else [],
            exclude_catalog=f"catalog_resource.id NOT IN ({self._subquery(catalog_negative)})" if exclude else "1=1",
            exclude_catalog_params=[catalog_negative] if exclude else [],
        )


class PostgresBackend:
    vendor = "postgresql"

    def create_schema(self, cursor) -> None:
        cursor.execute(
            f"ALTER TABLE {ENTRY_TABLE} ADD COLUMN IF NOT EXISTS full_vec tsvector NOT NULL DEFAULT '', "
            "ADD COLUMN IF NOT EXISTS catalog_vec tsvector NOT NULL DEFAULT ''"
        )
        cursor.execute(f"CREATE INDEX IF NOT EXISTS search_full_vec_gin ON {ENTRY_TABLE} USING gin (full_vec)")
        cursor.execute(f"CREATE INDEX IF NOT EXISTS search_catalog_vec_gin ON {ENTRY_TABLE} USING gin (catalog_vec)")

    def drop_schema(self, cursor) -> None:
        cursor.execute(f"ALTER TABLE {ENTRY_TABLE} DROP COLUMN IF EXISTS full_vec, DROP COLUMN IF EXISTS catalog_vec")

    def write(self, cursor, documents: Sequence[IndexDocument]) -> None:
        if not documents:
            return
        catalog_vec = (
            "setweight(to_tsvector('simple', %s), 'A') || setweight(to_tsvector('simple', %s), 'B')"
            " || setweight(to_tsvector('simple', %s), 'D')"
        )
        cursor.executemany(
            f"UPDATE {ENTRY_TABLE} SET catalog_vec = {catalog_vec}, full_vec = {catalog_vec}"
            " || setweight(to_tsvector('simple', %s), 'C') || setweight(to_tsvector('simple', %s), 'D')"
            " WHERE resource_id = %s",
            [
                (
                    d.title,
                    d.catalog,
                    d.catalog_extra,
                    d.title,
                    d.catalog,
                    d.catalog_extra,
                    d.content,
                    d.content_extra,
                    d.resource_id,
                )
                for d in documents
            ],
        )

    def delete(self, cursor, ids: Sequence[int]) -> None:
        """Entries are deleted with their rows; nothing else to do."""

    def clear(self, cursor) -> None:
        """The vectors live on the entry rows, which the caller deletes."""

    def indexed_ids(self, cursor) -> set[int]:
        cursor.execute(f"SELECT resource_id FROM {ENTRY_TABLE}")
        return {row[0] for row in cursor.fetchall()}

    @staticmethod
    def _item(item: Item) -> str:
        quoted = ["'" + w.replace("'", "''") + "'" for w in item.words]
        if item.prefix:
            quoted[-1] += ":*"
        joiner = " <-> " if item.phrase else " & "
        return "(" + joiner.join(quoted) + ")" if len(quoted) > 1 else quoted[0]

    def _expression(self, items: Sequence[Item], joiner: str) -> str:
        return f" {joiner} ".join(self._item(item) for item in items)

    def match(self, include: Sequence[Item], exclude: Sequence[Item]) -> Match:
        positive = self._expression(include, "&")
        negative = self._expression(exclude, "|") if exclude else ""
        query = "to_tsquery('simple', %s)"
        return Match(
            joins=f"JOIN {ENTRY_TABLE} e ON e.resource_id = catalog_resource.id",
            condition=f"e.full_vec @@ {query}",
            params=[positive],
            full_score=f"ts_rank('{PG_WEIGHTS}', e.full_vec, {query}, 1)",
            catalog_score=f"ts_rank('{PG_WEIGHTS}', e.catalog_vec, {query}, 1)",
            score_params=[positive],
            catalog_condition=f"e.catalog_vec @@ {query}",
            catalog_params=[positive],
            exclude_full=f"NOT (e.full_vec @@ {query})" if exclude else "1=1",
            exclude_full_params=[negative] if exclude else [],
            exclude_catalog=f"NOT (e.catalog_vec @@ {query})" if exclude else "1=1",
            exclude_catalog_params=[negative] if exclude else [],
        )


def backend_for(vendor: str | None = None):
    vendor = vendor or connection.vendor
    if vendor == "postgresql":
        return PostgresBackend()
    if vendor == "sqlite":
        return SqliteBackend()
    raise RuntimeError(f"search supports SQLite and PostgreSQL, not {vendor}")
