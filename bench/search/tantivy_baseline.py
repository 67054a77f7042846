"""tantivy (a Rust search library, bench-only dependency) over the same segmented text, as the speed limit.

It receives exactly the space-separated terms the FTS5 columns receive (`IndexDocument`), splits them
on whitespace, and answers the same parsed query: every query word must match in some column (the
column weights of the FTS5 ranking become boosts), the last word as a prefix while it is typed,
top 20 by BM25, no count. No permission filter, facets or snippets: a lower bound, not a rival.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path

from sharehub.search.backends import FULL_WEIGHTS
from sharehub.search.documents import IndexDocument
from sharehub.search.syntax import ParsedQuery

COLUMNS = ("title", "catalog", "content", "catalog_extra", "content_extra")
WRITER_HEAP = 256 * 1024 * 1024


def available() -> bool:
    try:
        import tantivy  # noqa: F401
    except ImportError:
        return False
    return True


def _schema():
    import tantivy

    builder = tantivy.SchemaBuilder()
    for column in COLUMNS:
        builder.add_text_field(column, tokenizer_name="whitespace", index_option="position")
    builder.add_unsigned_field("rid", stored=True)
    return builder.build()


class TantivyIndex:
    @staticmethod
    def built(path: Path, signature: dict) -> bool:
        marker = path / "corpus.json"
        return marker.exists() and json.loads(marker.read_text()) == signature

    def __init__(self, path: Path, signature: dict) -> None:
        """Open the index at `path` if it was built for the same corpus (`signature`), else start a new one."""
        import tantivy

        self.path = path
        self.signature = signature
        self.reused = self.built(path, signature)
        if not self.reused and path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True, exist_ok=True)
        self.schema = _schema()
        self.index = tantivy.Index(self.schema, path=str(path), reuse=self.reused)
        self.writer = None if self.reused else self.index.writer(WRITER_HEAP, num_threads=1)
        self.documents = 0

    def add(self, documents: Iterable[IndexDocument]) -> None:
        import tantivy

        for d in documents:
            fields = {column: getattr(d, column) for column in COLUMNS}
            self.writer.add_document(tantivy.Document(rid=d.resource_id, **fields))
            self.documents += 1

    def finish(self) -> None:
        if self.writer is not None:
            self.writer.commit()
            self.writer.wait_merging_threads()
            self.writer = None
            (self.path / "corpus.json").write_text(json.dumps(self.signature))
        self.index.reload()
        self.searcher = self.index.searcher()

    def query(self, parsed: ParsedQuery):
        import tantivy

        schema = self.schema

        def word_query(word: str, prefix: bool):
            alternatives = []
            for column, weight in zip(COLUMNS, FULL_WEIGHTS, strict=True):
                if prefix:  # a one-word phrase prefix is a prefix query (a regex costs ~0.6 ms to compile)
                    inner = tantivy.Query.phrase_prefix_query(schema, column, [word])
                else:
                    inner = tantivy.Query.term_query(schema, column, word)
                alternatives.append((tantivy.Occur.Should, tantivy.Query.boost_query(inner, weight)))
            return tantivy.Query.boolean_query(alternatives)

        def item_query(item):
            if item.phrase:
                return tantivy.Query.boolean_query(
                    [
                        (tantivy.Occur.Should, tantivy.Query.phrase_query(schema, column, list(item.words)))
                        for column in COLUMNS[:3]
                    ]
                )
            last = len(item.words) - 1
            words = [word_query(w, item.prefix and i == last) for i, w in enumerate(item.words)]
            return (
                words[0] if len(words) == 1 else tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in words])
            )

        clauses = [(tantivy.Occur.Must, item_query(item)) for item in parsed.include]
        clauses += [(tantivy.Occur.MustNot, item_query(item)) for item in parsed.exclude]
        return tantivy.Query.boolean_query(clauses)

    def top(self, query, limit: int = 20) -> list[tuple[float, object]]:
        return self.searcher.search(query, limit=limit, count=False).hits

    def count(self, query) -> int:
        return self.searcher.search(query, limit=1, count=True).count
