"""The bare Django baseline: a "hello" view and a view that inserts one row, with no Sharehub middleware."""
