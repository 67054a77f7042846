"""The two full-text index backends behind one interface.

SQLite: an FTS5 table whose rowid is the resource id, one column per kind of text; BM25 ranking.
PostgreSQL: two tsvector columns on `search_resourceentry` (everything, and the catalog part only)
with GIN indexes; `ts_rank` with weights. Both receive the same pre-segmented terms (see
`segment.py`), so a term matches the same documents on both.

Each backend turns a parsed query into SQL fragments: `driver` (the table that finds candidates and
the condition that uses its index), `score`, and conditions "matches everything" / "matches the
catalog part" for the permission rule in `queries.py`.

Both also keep each resource's access terms (`policy.engine.resource_access_terms_sql`) beside its
text, maintained by triggers in the transaction of every change to its owner, sharing, scope or
grants: a person's query then matches, inside the full-text index, only resources they could
possibly see, instead of every match being looked up and dropped by the policy filter. The terms
only prefilter; the policy filter in `queries.py` still decides.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection

from sharehub.policy.engine import ACCESS_TERM_COLUMNS, access_term_sources, resource_access_terms_sql
from sharehub.search.documents import INDEX_FORMAT, IndexDocument
from sharehub.search.syntax import AnyOf, Item

FTS_TABLE = "search_resource_fts"
ENTRY_TABLE = "search_resourceentry"
FACET_TABLE = "search_facet"  # SQLite only, see SqliteBackend.create_facets
FACET_COPIED = ("owner_department_id", "kind", "sharing_type")  # and updated_at, as updated_us
# title, catalog, content, catalog_extra, content_extra (the access column, last, weighs nothing)
FULL_WEIGHTS = (10.0, 4.0, 1.0, 1.5, 0.4)
CATALOG_WEIGHTS = (10.0, 4.0, 0.0, 1.5, 0.0)
PG_WEIGHTS = "{0.05, 0.2, 0.4, 1.0}"  # D (inner words, pinyin), C (content), B (catalog), A (title)


@dataclass(frozen=True)
class Match:
    """SQL pieces for one query, over the `search_resourceentry` table."""

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


MIRRORED = ("owner_department_id", "kind", "status", "sharing_type", "scope_all", "updated_at", "published_at")
# A private-use character starts every access term in the FTS5 table: segmentation never yields one
# (it keeps letters and digits), so no searched word or prefix can match an access term.
ACCESS_MARK = "\ue000"


def _upsert_entry_sql(row: str, columns: Sequence[str], extra: dict[str, str] | None = None) -> str:
    """Copy the mirrored `columns` of `row` (NEW in a trigger) into the resource's index entry, and
    set the `extra` columns to their SQL expressions."""
    extra = extra or {}
    names = [*columns, *extra]
    values = ", ".join([*(f"{row}.{c}" for c in columns), *extra.values()])
    updates = ", ".join(f"{c} = excluded.{c}" for c in names)
    return (
        f"INSERT INTO {ENTRY_TABLE} (resource_id, {', '.join(names)}, digest) VALUES ({row}.id, {values}, '') "
        f"ON CONFLICT (resource_id) DO UPDATE SET {updates}"
    )


def _backfill_sql(columns: Sequence[str]) -> str:
    """Give every resource an entry with its current mirrored columns (the triggers keep them from then on)."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
    return (
        f"INSERT INTO {ENTRY_TABLE} (resource_id, {', '.join(columns)}, digest) "
        f"SELECT id, {', '.join(columns)}, '' FROM catalog_resource WHERE true "
        f"ON CONFLICT (resource_id) DO UPDATE SET {updates}"
    )


def _micros_sql(stored: str) -> str:
    """Microseconds since 1970 of a datetime as Django stores it on SQLite (UTC text, the fraction only
    when there is one): the same order as the text, compared as integers."""
    return (
        f"(CAST(strftime('%s', {stored}) AS INTEGER) * 1000000 + CAST(substr({stored} || '.000000', 21, 6) AS INTEGER))"
    )


_FACET_UPSERT = (
    f"INSERT INTO {FACET_TABLE} (resource_id, {', '.join(FACET_COPIED)}, updated_us) {{rows}} "
    f"ON CONFLICT (resource_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in (*FACET_COPIED, "updated_us"))
)
_MATCHING_ROWIDS = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"


class SqliteBackend:
    vendor = "sqlite"
    # The tag links of the hits: CROSS JOIN keeps SQLite from scanning every tag link of the catalog
    # to probe the hits.
    hit_tag_links = "hits CROSS JOIN catalog_resource_tags rt WHERE rt.resource_id = hits.id"
    # The planner would look entries up through the primary key's own index and then the row; the
    # covering index answers the lookup alone (about half the cost per match).
    entry_source = f"{ENTRY_TABLE} INDEXED BY search_entry_policy_columns"

    TEXT_COLUMNS = ("title", "catalog", "content", "catalog_extra", "content_extra")
    FTS_OPTIONS = "tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3'"

    def create_schema(
        self, cursor, columns: Sequence[str] = MIRRORED, access: bool = True, facets: bool = True
    ) -> None:
        """Create or refresh the triggers that mirror `columns` (a migration passes the columns of its
        time) and the FTS5 table; with `access`, the table's access column (added to a table made
        without it, its rows kept) and the triggers that keep it; with `facets` too, the facet table
        (`create_facets`)."""
        for event in ("INSERT", "UPDATE"):
            cursor.execute(f"DROP TRIGGER IF EXISTS search_entry_after_resource_{event.lower()}")
            cursor.execute(
                f"CREATE TRIGGER search_entry_after_resource_{event.lower()} "
                f"AFTER {event} ON catalog_resource FOR EACH ROW BEGIN {_upsert_entry_sql('NEW', columns)}; END"
            )
        cursor.execute(_backfill_sql(columns))
        text = ", ".join(self.TEXT_COLUMNS)
        if not access:
            cursor.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5({text}, {self.FTS_OPTIONS})")
            return
        cursor.execute(f"SELECT name FROM pragma_table_info('{FTS_TABLE}')")
        existing = [row[0] for row in cursor.fetchall()]
        if existing and "access" not in existing:
            rebuilt = f"{FTS_TABLE}_rebuilt"
            cursor.execute(f"DROP TABLE IF EXISTS {rebuilt}")
            cursor.execute(f"CREATE VIRTUAL TABLE {rebuilt} USING fts5({text}, access, {self.FTS_OPTIONS})")
            cursor.execute(
                f"INSERT INTO {rebuilt} (rowid, {text}, access) SELECT rowid, {text}, "
                f"{self._access_sql(f'{FTS_TABLE}.rowid')} FROM {FTS_TABLE}"
            )
            cursor.execute(f"DROP TABLE {FTS_TABLE}")
            cursor.execute(f"ALTER TABLE {rebuilt} RENAME TO {FTS_TABLE}")
        cursor.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5({text}, access, {self.FTS_OPTIONS})")
        self._drop_access_triggers(cursor)
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in ACCESS_TERM_COLUMNS)
        cursor.execute(
            "CREATE TRIGGER search_access_after_resource_update AFTER UPDATE ON catalog_resource "
            f"FOR EACH ROW WHEN {changed} BEGIN {self._refresh_access_sql('NEW.id')}; END"
        )
        for table, column in access_term_sources():
            for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
                cursor.execute(
                    f"CREATE TRIGGER search_access_after_{table}_{event.lower()} AFTER {event} ON {table} "
                    f"FOR EACH ROW BEGIN {self._refresh_access_sql(f'{row}.{column}')}; END"
                )
        # The trigger on UPDATE of a grant or scope row refreshes the resource it names now; one that
        # named another before would keep a stale term, a wider one: the policy filter drops it.
        # Rows written while the triggers were away (or by code that did not write the column) are set.
        terms = self._access_sql(f"{FTS_TABLE}.rowid")
        cursor.execute(f"UPDATE {FTS_TABLE} SET access = {terms} WHERE access IS NOT {terms}")
        if facets:
            self.create_facets(cursor)

    def create_facets(self, cursor) -> None:
        """The facet table: per entry, its resource id as the rowid and the columns an unfiltered search
        groups and ranks by, the time in integer microseconds. An admin's search, which tests no policy,
        reads every match's facets here: a lookup in this narrow table costs about half of one in the
        entries' covering index, and comparing integers less than comparing the stored datetime text.
        Triggers on the entries keep it, in their transaction."""
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {FACET_TABLE} (resource_id INTEGER PRIMARY KEY, "
            "owner_department_id INTEGER NOT NULL, kind TEXT NOT NULL, sharing_type TEXT NOT NULL, "
            "updated_us INTEGER NOT NULL)"
        )
        self._drop_facet_triggers(cursor)
        values = ", ".join(f"NEW.{c}" for c in ("resource_id", *FACET_COPIED))
        copy = _FACET_UPSERT.format(rows=f"VALUES ({values}, {_micros_sql('NEW.updated_at')})")
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in (*FACET_COPIED, "updated_at"))
        for event, when, action in (
            ("INSERT", "", copy),
            ("UPDATE", f"WHEN {changed}", copy),
            ("DELETE", "", f"DELETE FROM {FACET_TABLE} WHERE resource_id = OLD.resource_id"),
        ):
            cursor.execute(
                f"CREATE TRIGGER search_facet_after_entry_{event.lower()} AFTER {event} ON {ENTRY_TABLE} "
                f"FOR EACH ROW {when} BEGIN {action}; END"
            )
        self.refresh_facets(cursor)

    def refresh_facets(self, cursor) -> None:
        """Copy every entry's facet columns again (what the triggers would have written)."""
        cursor.execute(f"DELETE FROM {FACET_TABLE} WHERE resource_id NOT IN (SELECT resource_id FROM {ENTRY_TABLE})")
        cursor.execute(
            _FACET_UPSERT.format(
                rows=f"SELECT resource_id, {', '.join(FACET_COPIED)}, {_micros_sql('updated_at')} "
                f"FROM {ENTRY_TABLE} WHERE true"
            )
        )

    def drop_facets(self, cursor) -> None:
        self._drop_facet_triggers(cursor)
        cursor.execute(f"DROP TABLE IF EXISTS {FACET_TABLE}")

    @staticmethod
    def _drop_facet_triggers(cursor) -> None:
        for event in ("insert", "update", "delete"):
            cursor.execute(f"DROP TRIGGER IF EXISTS search_facet_after_entry_{event}")

    def stale_facet_ids(self, cursor) -> set[int]:
        """Entries whose facet row is missing or differs (the triggers keep them; this checks)."""
        cursor.execute(
            f"SELECT e.resource_id FROM {ENTRY_TABLE} e LEFT JOIN {FACET_TABLE} f ON f.resource_id = e.resource_id "
            "WHERE f.resource_id IS NULL OR f.owner_department_id IS NOT e.owner_department_id "
            "OR f.kind IS NOT e.kind OR f.sharing_type IS NOT e.sharing_type "
            f"OR f.updated_us IS NOT {_micros_sql('e.updated_at')}"
        )
        return {row[0] for row in cursor.fetchall()}

    @staticmethod
    def _access_sql(resource_id: str) -> str:
        return resource_access_terms_sql(resource_id, "sqlite", mark=ACCESS_MARK)

    def _refresh_access_sql(self, resource_id: str) -> str:
        """Rewrite a resource's access terms (no row yet: nothing; the indexer writes them with the text)."""
        return f"UPDATE {FTS_TABLE} SET access = {self._access_sql(resource_id)} WHERE rowid = {resource_id}"

    def drop_access(self, cursor) -> None:
        """Stop keeping access terms (the column stays: FTS5 drops no column; nothing reads it then)."""
        self._drop_access_triggers(cursor)

    def _drop_access_triggers(self, cursor) -> None:
        cursor.execute("DROP TRIGGER IF EXISTS search_access_after_resource_update")
        for table, _column in access_term_sources():
            for event in ("insert", "update", "delete"):
                cursor.execute(f"DROP TRIGGER IF EXISTS search_access_after_{table}_{event}")

    def drop_schema(self, cursor) -> None:
        cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
        self.drop_facets(cursor)
        self._drop_access_triggers(cursor)
        for event in ("insert", "update"):
            cursor.execute(f"DROP TRIGGER IF EXISTS search_entry_after_resource_{event}")

    def write(self, cursor, documents: Sequence[IndexDocument], indexed_at) -> None:
        """Replace the documents' rows in the FTS5 table (with their current access terms) and note their
        digests on the entries (which exist)."""
        if not documents:
            return
        self.delete(cursor, [d.resource_id for d in documents])
        # One statement for the batch: SQLite tokenizes it without holding the interpreter lock, so
        # the indexer's segmenting thread runs meanwhile (a statement per row would hand the lock over
        # at every row).
        rows = json.dumps(
            [[d.resource_id, d.title, d.catalog, d.content, d.catalog_extra, d.content_extra] for d in documents],
            ensure_ascii=False,
        )
        fields = [f"json_extract(value, '$[{i}]')" for i in range(6)]  # rowid, then the text columns
        cursor.execute(
            f"INSERT INTO {FTS_TABLE} (rowid, {', '.join(self.TEXT_COLUMNS)}, access) "
            f"SELECT {', '.join(fields)}, {self._access_sql(fields[0])} FROM json_each(%s)",
            [rows],
        )
        cursor.executemany(
            f"UPDATE {ENTRY_TABLE} SET digest = %s, indexed_at = %s, index_format = %s WHERE resource_id = %s",
            [(d.digest, indexed_at, INDEX_FORMAT, d.resource_id) for d in documents],
        )

    def stale_access_ids(self, cursor) -> set[int]:
        """Rows whose access terms are not what the catalog says now (the triggers keep them; this checks)."""
        terms = self._access_sql(f"{FTS_TABLE}.rowid")
        cursor.execute(f"SELECT rowid FROM {FTS_TABLE} WHERE access IS NOT {terms}")
        return {row[0] for row in cursor.fetchall()}

    def delete(self, cursor, ids: Sequence[int]) -> None:
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid IN ({', '.join(['%s'] * len(chunk))})", chunk)

    def clear(self, cursor) -> None:
        """Empty the full-text table (a rebuild follows) and mend the facet table."""
        cursor.execute(f"DELETE FROM {FTS_TABLE}")
        self.refresh_facets(cursor)

    def indexed_ids(self, cursor) -> set[int]:
        cursor.execute(f"SELECT rowid FROM {FTS_TABLE}")
        return {row[0] for row in cursor.fetchall()}

    # -- queries --
    @classmethod
    def _item(cls, item: Item | AnyOf) -> str:
        if isinstance(item, AnyOf):
            return "(" + " OR ".join(cls._item(one) for one in item.items) + ")"
        quoted = ['"' + w.replace('"', '""') + '"' for w in item.words]
        if item.phrase:
            return "{title catalog content} : (" + " + ".join(quoted) + ")"
        if item.prefix:
            quoted[-1] += " *"
        return "(" + " AND ".join(quoted) + ")" if len(quoted) > 1 else quoted[0]

    def _expression(self, items: Sequence[Item | AnyOf], joiner: str) -> str:
        return f" {joiner} ".join(self._item(item) for item in items)

    def match(
        self,
        include: Sequence[Item | AnyOf],
        exclude: Sequence[Item],
        access: Sequence[str] | None = None,
        table: str = ENTRY_TABLE,
    ) -> Match:
        """`access`: the actor's access terms (`policy.engine.access_terms`), or None for no prefilter;
        `table`: the one the statement reads, keyed by `resource_id` (the entries or the facet table)."""
        resource_id = f"{table}.resource_id"
        positive = self._expression(include, "AND")
        catalog_positive = "{title catalog catalog_extra} : (" + positive + ")"
        if access is not None:
            terms = " OR ".join(f'"{ACCESS_MARK}{term}"' for term in access)
            positive = f"({positive}) AND access : ({terms})"
            catalog_positive = f"{catalog_positive} AND access : ({terms})"
        negative = self._expression(exclude, "OR") if exclude else ""
        catalog_negative = "{title catalog catalog_extra} : (" + negative + ")" if exclude else ""
        full = ", ".join(str(w) for w in (*FULL_WEIGHTS, 0.0))
        catalog = ", ".join(str(w) for w in (*CATALOG_WEIGHTS, 0.0))
        return Match(
            joins=f"JOIN {FTS_TABLE} ON {FTS_TABLE}.rowid = {resource_id}",
            condition=f"{FTS_TABLE} MATCH %s",
            params=[positive],
            full_score=f"-bm25({FTS_TABLE}, {full})",
            catalog_score=f"-bm25({FTS_TABLE}, {catalog})",
            score_params=[],
            catalog_condition=f"{resource_id} IN ({_MATCHING_ROWIDS})",
            catalog_params=[catalog_positive],
            exclude_full=f"{resource_id} NOT IN ({_MATCHING_ROWIDS})" if exclude else "1=1",
            exclude_full_params=[negative] if exclude else [],
            exclude_catalog=f"{resource_id} NOT IN ({_MATCHING_ROWIDS})" if exclude else "1=1",
            exclude_catalog_params=[catalog_negative] if exclude else [],
        )


class PostgresBackend:
    vendor = "postgresql"
    # A lateral lookup per hit (OFFSET 0 keeps it from being flattened): the planner, which cannot
    # guess how many rows a full-text match gives, would otherwise hash every tag link of the catalog.
    hit_tag_links = (
        "hits CROSS JOIN LATERAL (SELECT rt.tag_id FROM catalog_resource_tags rt WHERE rt.resource_id = hits.id "
        "OFFSET 0) rt"
    )
    entry_source = ENTRY_TABLE

    def create_schema(
        self, cursor, columns: Sequence[str] = MIRRORED, access: bool = True, facets: bool = True
    ) -> None:
        """The vectors and their indexes, and the trigger that mirrors `columns` into the entries; with
        `access`, also the entries' access terms (`access_vec`) and the triggers that keep them. (There
        is no facet table here, whatever `facets` says: a search reads the entries.)"""
        cursor.execute(
            f"ALTER TABLE {ENTRY_TABLE} ADD COLUMN IF NOT EXISTS full_vec tsvector NOT NULL DEFAULT '', "
            "ADD COLUMN IF NOT EXISTS catalog_vec tsvector NOT NULL DEFAULT ''"
        )
        cursor.execute(f"CREATE INDEX IF NOT EXISTS search_full_vec_gin ON {ENTRY_TABLE} USING gin (full_vec)")
        upsert = _upsert_entry_sql("NEW", columns)
        if not access:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS search_catalog_vec_gin ON {ENTRY_TABLE} USING gin (catalog_vec)"
            )
        else:
            # The catalog vector is only tested on candidates the full vector and the access terms found;
            # an index of it would cost every write and serve no query.
            cursor.execute("DROP INDEX IF EXISTS search_catalog_vec_gin")
            cursor.execute(
                f"ALTER TABLE {ENTRY_TABLE} ADD COLUMN IF NOT EXISTS access_vec tsvector NOT NULL DEFAULT ''"
            )
            cursor.execute(f"CREATE INDEX IF NOT EXISTS search_access_vec_gin ON {ENTRY_TABLE} USING gin (access_vec)")
            # Lock the entry first: the next statement then reads the grants and scope committed by a
            # transaction that held it (each statement of a function sees what committed before it).
            upsert = f"PERFORM 1 FROM {ENTRY_TABLE} WHERE resource_id = NEW.id FOR UPDATE; " + _upsert_entry_sql(
                "NEW", columns, {"access_vec": self._access_sql("NEW.id")}
            )
        cursor.execute(
            "CREATE OR REPLACE FUNCTION search_entry_from_resource() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {upsert}; RETURN NULL; END $$"
        )
        cursor.execute("DROP TRIGGER IF EXISTS search_entry_after_resource_change ON catalog_resource")
        cursor.execute(
            "CREATE TRIGGER search_entry_after_resource_change AFTER INSERT OR UPDATE ON catalog_resource "
            "FOR EACH ROW EXECUTE FUNCTION search_entry_from_resource()"
        )
        cursor.execute(_backfill_sql(columns))
        if not access:
            return
        cursor.execute(
            "CREATE OR REPLACE FUNCTION search_entry_access_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "DECLARE rid bigint; BEGIN "
            "IF TG_OP = 'DELETE' THEN rid := OLD.resource_id; ELSE rid := NEW.resource_id; END IF; "
            f"PERFORM 1 FROM {ENTRY_TABLE} WHERE resource_id = rid FOR UPDATE; "
            f"UPDATE {ENTRY_TABLE} SET access_vec = {self._access_sql('rid')} WHERE resource_id = rid; "
            "RETURN NULL; END $$"
        )
        for table, _column in access_term_sources():
            cursor.execute(f"DROP TRIGGER IF EXISTS search_access_after_change ON {table}")
            cursor.execute(
                f"CREATE TRIGGER search_access_after_change AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION search_entry_access_changed()"
            )
        terms = self._access_sql("e.resource_id")
        cursor.execute(f"UPDATE {ENTRY_TABLE} e SET access_vec = {terms} WHERE access_vec IS DISTINCT FROM {terms}")

    @staticmethod
    def _access_sql(resource_id: str) -> str:
        """No resource (deleted in the same transaction): no terms."""
        return f"coalesce(array_to_tsvector({resource_access_terms_sql(resource_id, 'postgresql')}), '')"

    def drop_access(self, cursor, columns: Sequence[str] = MIRRORED) -> None:
        """Stop keeping access terms: the entries' trigger mirrors `columns` alone again."""
        for table, _column in access_term_sources():
            cursor.execute(f"DROP TRIGGER IF EXISTS search_access_after_change ON {table}")
        cursor.execute("DROP FUNCTION IF EXISTS search_entry_access_changed()")
        self.create_schema(cursor, columns, access=False)
        cursor.execute(f"ALTER TABLE {ENTRY_TABLE} DROP COLUMN IF EXISTS access_vec")

    def drop_schema(self, cursor) -> None:
        for table, _column in access_term_sources():
            cursor.execute(f"DROP TRIGGER IF EXISTS search_access_after_change ON {table}")
        cursor.execute("DROP FUNCTION IF EXISTS search_entry_access_changed()")
        cursor.execute("DROP TRIGGER IF EXISTS search_entry_after_resource_change ON catalog_resource")
        cursor.execute("DROP FUNCTION IF EXISTS search_entry_from_resource()")
        cursor.execute(
            f"ALTER TABLE {ENTRY_TABLE} DROP COLUMN IF EXISTS full_vec, DROP COLUMN IF EXISTS catalog_vec, "
            "DROP COLUMN IF EXISTS access_vec"
        )

    # Rows per UPDATE: each entry gets one new row version (vectors, digest and time together), since
    # every version of a row costs its entries in both GIN indexes; the catalog vector is computed once.
    WRITE_ROWS = 100

    def write(self, cursor, documents: Sequence[IndexDocument], indexed_at) -> None:
        """Set the vectors, access terms, digests and index time of the documents' entries (which exist).

        The entries are locked first, so that the UPDATE, which takes its snapshot when it starts,
        reads the grants and scope of any transaction that held them (see `create_schema`)."""
        for start in range(0, len(documents), self.WRITE_ROWS):
            chunk = documents[start : start + self.WRITE_ROWS]
            ids = [d.resource_id for d in chunk]
            cursor.execute(
                f"SELECT 1 FROM {ENTRY_TABLE} WHERE resource_id IN ({', '.join(['%s'] * len(ids))}) FOR UPDATE", ids
            )
            rows = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            params: list = []
            for d in chunk:
                params += [d.resource_id, d.title, d.catalog, d.catalog_extra, d.content, d.content_extra, d.digest]
            cursor.execute(
                f"UPDATE {ENTRY_TABLE} e SET catalog_vec = v.catalog_vec, full_vec = v.catalog_vec"
                " || setweight(to_tsvector('simple', v.content), 'C')"
                " || setweight(to_tsvector('simple', v.content_extra), 'D'),"
                f" access_vec = {self._access_sql('e.resource_id')},"
                " digest = v.digest, indexed_at = %s, index_format = %s"
                " FROM (SELECT x.id, x.content, x.content_extra, x.digest,"
                " setweight(to_tsvector('simple', x.title), 'A') || setweight(to_tsvector('simple', x.catalog), 'B')"
                " || setweight(to_tsvector('simple', x.catalog_extra), 'D') AS catalog_vec"
                f" FROM (VALUES {rows}) AS x(id, title, catalog, catalog_extra, content, content_extra, digest)) v"
                " WHERE e.resource_id = v.id",
                [indexed_at, INDEX_FORMAT, *params],
            )

    def stale_access_ids(self, cursor) -> set[int]:
        """Entries whose access terms are not what the catalog says now (the triggers keep them; this checks)."""
        terms = self._access_sql("e.resource_id")
        cursor.execute(f"SELECT e.resource_id FROM {ENTRY_TABLE} e WHERE e.access_vec IS DISTINCT FROM {terms}")
        return {row[0] for row in cursor.fetchall()}

    def stale_facet_ids(self, cursor) -> set[int]:
        """No facet table here (a search reads the entries)."""
        return set()

    def delete(self, cursor, ids: Sequence[int]) -> None:
        """The vectors live on the entry rows, which the caller deletes."""

    def clear(self, cursor) -> None:
        cursor.execute(f"UPDATE {ENTRY_TABLE} SET full_vec = '', catalog_vec = ''")

    def indexed_ids(self, cursor) -> set[int]:
        cursor.execute(f"SELECT resource_id FROM {ENTRY_TABLE} WHERE indexed_at IS NOT NULL AND full_vec <> ''")
        return {row[0] for row in cursor.fetchall()}

    @classmethod
    def _item(cls, item: Item | AnyOf) -> str:
        if isinstance(item, AnyOf):
            return "(" + " | ".join(cls._item(one) for one in item.items) + ")"
        quoted = ["'" + w.replace("'", "''") + "'" for w in item.words]
        if item.prefix:
            quoted[-1] += ":*"
        joiner = " <-> " if item.phrase else " & "
        return "(" + joiner.join(quoted) + ")" if len(quoted) > 1 else quoted[0]

    def _expression(self, items: Sequence[Item | AnyOf], joiner: str) -> str:
        return f" {joiner} ".join(self._item(item) for item in items)

    def match(
        self,
        include: Sequence[Item | AnyOf],
        exclude: Sequence[Item],
        access: Sequence[str] | None = None,
        table: str = ENTRY_TABLE,
    ) -> Match:
        """`access`: the actor's access terms (`policy.engine.access_terms`), or None for no prefilter.
        The vectors live on the entries, the only `table` here."""
        positive = self._expression(include, "&")
        negative = self._expression(exclude, "|") if exclude else ""
        query = "to_tsquery('simple', %s)"
        condition, params = f"full_vec @@ {query}", [positive]
        if access is not None:
            condition += " AND access_vec @@ to_tsquery('simple', %s)"
            params.append(" | ".join(access) or "''")
        return Match(
            joins="",
            condition=condition,
            params=params,
            full_score=f"ts_rank('{PG_WEIGHTS}', full_vec, {query}, 1)",
            catalog_score=f"ts_rank('{PG_WEIGHTS}', catalog_vec, {query}, 1)",
            score_params=[positive],
            catalog_condition=f"catalog_vec @@ {query}",
            catalog_params=[positive],
            exclude_full=f"NOT (full_vec @@ {query})" if exclude else "1=1",
            exclude_full_params=[negative] if exclude else [],
            exclude_catalog=f"NOT (catalog_vec @@ {query})" if exclude else "1=1",
            exclude_catalog_params=[negative] if exclude else [],
        )


def backend_for(vendor: str | None = None):
    vendor = vendor or connection.vendor
    if vendor == "postgresql":
        return PostgresBackend()
    if vendor == "sqlite":
        return SqliteBackend()
    raise RuntimeError(f"search supports SQLite and PostgreSQL, not {vendor}")
