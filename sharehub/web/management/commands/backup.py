"""`sharehub backup PATH`: a consistent copy of the database, files and keys while Sharehub runs (sharehub.backup)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from sharehub import backup
from sharehub.console import SharehubCommand, progress


class Command(SharehubCommand):
    help = (
        "Back up the database, the attachment files and the key files into a new folder, while Sharehub runs. "
        "`sharehub restore PATH` brings it back."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="a folder that does not exist yet, or an empty one")
        parser.add_argument(
            "--copy",
            action="store_true",
            help="copy the attachment files even where they could be hard-linked (same filesystem)",
        )

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        try:
            with backup.stopping_on_sigterm():
                summary = backup.backup(Path(options["path"]), self.bar, link=not options["copy"])
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        except KeyboardInterrupt:
            raise CommandError(
                _("The backup was stopped; nothing was written to %(path)s.") % {"path": options["path"]}
            ) from None
        for warning in summary.warnings:
            self.stderr.write(self.style.WARNING(warning))
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Backup written to %(path)s: %(vendor)s database %(size)s (events up to #%(seq)s), %(files)s "
                    "files %(file_size)s (%(linked)s hard-linked), %(keys)s key files, in %(seconds).1f s."
                )
                % {
                    "path": summary.path,
                    "vendor": backup.vendor_name(summary.vendor),
                    "size": backup.human_size(summary.database_bytes),
                    "seq": summary.event_seq,
                    "files": summary.files,
                    "file_size": backup.human_size(summary.file_bytes),
                    "linked": summary.linked,
                    "keys": len(summary.keys),
                    "seconds": summary.seconds,
                }
            )
        )

    def bar(self, total: int, description: str, unit: str):
        return progress(self, total, description, unit=unit)
