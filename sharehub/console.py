"""What every `sharehub` command shares: one-sentence errors, pending migrations, progress bars on stderr
and plain-text tables.

Each command lives in the app whose rules it serves (`<app>/management/commands/`); this module is the
one place they all import from.
"""

from __future__ import annotations

import sys
import unicodedata

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from tqdm import tqdm

from sharehub.errors import ServiceError


class SharehubCommand(BaseCommand):
    """Base of every command: a ServiceError prints one sentence and exits non-zero, no traceback."""

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except ServiceError as error:
            details = "; ".join(f"{field}: {reason}" for field, reason in error.fields.items())
            raise CommandError(f"{error.message}{' (' + details + ')' if details else ''}") from None


def pending_migrations() -> int:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def apply_migrations(command) -> None:
    """Bring the database up to date so that every command works on a fresh data directory."""
    pending = pending_migrations()
    if not pending:
        return
    if command.verbosity:
        command.stdout.write(f"Applying {pending} pending database migration(s)…")
    call_command("migrate", interactive=False, verbosity=0, stdout=command.stdout, stderr=command.stderr)


def progress(command, total: int, description: str, unit: str = "it") -> tqdm:
    """A progress bar on stderr; shown on a terminal, silent when stderr is a file or verbosity is 0."""
    return tqdm(
        total=total,
        desc=description,
        unit=unit,
        file=sys.stderr,
        disable=True if command.verbosity == 0 else None,
        leave=False,
        dynamic_ncols=True,
    )


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(headers: list[str], rows: list[list]) -> str:
    """Columns padded by display width, so Chinese names line up in a terminal."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])
