"""`sharehub migrate`: Django's, except that `--check` says what it found instead of exiting silently.

    $ sharehub migrate --check
    The database is up to date: no migrations to apply.                         (exit 0)
    2 migration(s) to apply (back up first, then run `sharehub migrate`):     (exit 1)
      catalog.0012_...
      exchange.0009_...

A database with migrations this version does not know (a newer Sharehub used it) exits 1 too, naming them.
"""

from __future__ import annotations

import sys

from django.core.management.commands import migrate
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.utils.translation import gettext as _


class Command(migrate.Command):
    def handle(self, *args, **options):
        if not options["check_unapplied"] or options["plan"] or options["app_label"]:
            return super().handle(*args, **options)
        connection = connections[options["database"]]
        executor = MigrationExecutor(connection)
        executor.loader.check_consistent_history(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        applied = MigrationRecorder(connection).applied_migrations()
        known = set(executor.loader.graph.nodes)
        for migration in executor.loader.disk_migrations.values():
            known.update(migration.replaces)
        unknown = sorted(f"{app}.{name}" for app, name in applied if (app, name) not in known)
        if unknown:
            self.stdout.write(
                _("The database has %(count)s migration(s) this Sharehub does not know; a newer version used it:")
                % {"count": len(unknown)}
            )
            for name in unknown:
                self.stdout.write(f"  {name}")
        if plan:
            self.stdout.write(
                _("%(count)s migration(s) to apply (back up first, then run `sharehub migrate`):")
                % {"count": len(plan)}
            )
            for migration, _backwards in plan:
                self.stdout.write(f"  {migration.app_label}.{migration.name}")
        if unknown or plan:
            sys.exit(1)
        self.stdout.write(_("The database is up to date: no migrations to apply."))
