"""`sharehub directory sync [--dry-run]`: read the whole LDAP directory and bring people, departments and roles
in line with it (README "Directory sign-in"). The periodic job does the same every SHAREHUB_DIRECTORY_SYNC_MINUTES."""

from __future__ import annotations

from django.core.management.base import CommandError

from sharehub.console import SharehubCommand, apply_migrations
from sharehub.directory import ldap, services

SHOWN = (
    "people",
    "created",
    "linked",
    "updated",
    "memberships_set",
    "memberships_removed",
    "deactivated",
    "reactivated",
    "grants_ended",
    "refused",
)


class Command(SharehubCommand):
    help = "Directory sign-in: `directory sync` reads the LDAP directory and applies the mapping rules."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{sync}")
        sync = actions.add_parser("sync", help="read every person in the directory and apply the changes")
        sync.add_argument("--dry-run", action="store_true", help="print what would change and change nothing")

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        apply_migrations(self)
        dry_run = options["dry_run"]
        try:
            report = services.sync(dry_run=dry_run)
        except services.NotConfigured as error:
            raise CommandError(f"Cannot sync: {error}.") from None
        except ldap.DirectoryUnavailable as error:
            raise CommandError(f"The sync stopped and changed nothing: {error}.") from None
        heading = "Would change (dry run, nothing written):" if dry_run else "Changed:"
        if report.changes:
            self.stdout.write(heading)
            for line in report.changes:
                self.stdout.write(f"  {line}")
        else:
            self.stdout.write("Nothing to change: Sharehub matches the directory.")
        for line in report.refused:
            self.stderr.write(f"  refused {line}")
        summary = ", ".join(f"{key.replace('_', ' ')} {report.counts.get(key, 0)}" for key in SHOWN)
        self.stdout.write(("Dry run: " if dry_run else "Done: ") + summary)
