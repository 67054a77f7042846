"""The search benchmark: a generated 200,000-resource organization, indexing throughput against raw
jieba, and permission-aware query latency against the bare full-text query and tantivy."""
