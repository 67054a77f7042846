"""`sharehub restore PATH`: bring a backup of `sharehub backup` back into an empty data directory (sharehub.backup)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from sharehub import backup
from sharehub.console import SharehubCommand, progress


class Command(SharehubCommand):
    help = (
        "Restore a backup into an empty data directory (and an empty PostgreSQL database with DATABASE_URL): "
        "checks every checksum first, applies newer migrations, then verifies the audit chain."
    )
    # Nothing may open the SQLite database before the restored file is in place.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("path", help="the folder `sharehub backup` wrote")

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        try:
            with backup.stopping_on_sigterm():
                summary = backup.restore(Path(options["path"]), self.bar)
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        except KeyboardInterrupt:
            raise CommandError(_("The restore was stopped; the files it had restored were removed.")) from None
        for warning in summary.warnings:
            self.stderr.write(self.style.WARNING(warning))
        if summary.migrations_applied:
            self.stdout.write(
                _("Applied %(count)s database migration(s): this Sharehub is newer than the backup.")
                % {"count": summary.migrations_applied}
            )
        self.stdout.write(
            self.style.SUCCESS(_("audit chain intact: %(count)s events") % {"count": summary.audit_checked})
        )
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Restored %(path)s: %(vendor)s database %(size)s (events up to #%(seq)s), %(files)s files "
                    "%(file_size)s, %(keys)s key files, in %(seconds).1f s."
                )
                % {
                    "path": summary.path,
                    "vendor": backup.vendor_name(summary.vendor),
                    "size": backup.human_size(summary.database_bytes),
                    "seq": summary.event_seq,
                    "files": summary.files,
                    "file_size": backup.human_size(summary.file_bytes),
                    "keys": len(summary.keys),
                    "seconds": summary.seconds,
                }
            )
        )

    def bar(self, total: int, description: str, unit: str):
        return progress(self, total, description, unit=unit)
