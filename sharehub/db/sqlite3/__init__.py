"""Django's SQLite backend with the write transactions of one process queued (see base.DatabaseWrapper)."""
