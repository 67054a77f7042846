"""`sharehub audit`: check the hash-chained event log, export a signed range of it, and check such an export.

sharehub audit verify                      walk the whole chain in the database; name the first broken entry
sharehub audit export [--from-seq N] [--to-seq N] [--since DAY] [--until DAY] [-o FILE]
                                           a signed, verifiable export of a range (JSON Lines)
sharehub audit verify --export FILE [--key KEY]
                                           check an export offline: no database is opened
sharehub audit key                         the public key exports are signed with, and its fingerprint
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.core.management.base import CommandError
from django.utils import timezone

from sharehub.console import SharehubCommand, apply_migrations, progress
from sharehub.events import exportfile


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a day; write it as YYYY-MM-DD") from None


class Command(SharehubCommand):
    requires_system_checks = []  # `verify --export` reads a file and nothing else: no check that opens the database
    help = (
        "Check the audit trail. `audit verify` exits 0 when the chain is intact and 1 at the first broken entry; "
        "`audit export` writes a signed range that `audit verify --export FILE` checks offline."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{verify,export,key}")
        verify = actions.add_parser("verify", help="walk the whole event chain (or an export) and check every link")
        verify.add_argument("--export", metavar="FILE", help="check this export offline instead of the database")
        verify.add_argument(
            "--key",
            metavar="KEY",
            help="the public key (base64) or fingerprint (SHA256:...) the export must be signed with",
        )
        export = actions.add_parser("export", help="write a signed, verifiable export of a range of the chain")
        export.add_argument("--from-seq", type=int, metavar="N", help="first entry (default: #1)")
        export.add_argument("--to-seq", type=int, metavar="N", help="last entry (default: the newest)")
        export.add_argument("--since", metavar="YYYY-MM-DD", help="from the first entry written on this day")
        export.add_argument("--until", metavar="YYYY-MM-DD", help="to the last entry written on this day")
        export.add_argument("-o", "--output", metavar="FILE", help="the file to write (default: standard output)")
        actions.add_parser("key", help="print the public key exports are signed with, and its fingerprint")

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        action = options["action"]
        if action == "verify" and options.get("export"):
            return self._verify_export(options["export"], options.get("key"))
        if action == "verify" and options.get("key"):
            raise CommandError("--key goes with --export FILE")
        apply_migrations(self)
        if action == "verify":
            return self._verify_chain()
        if action == "export":
            return self._export(options)
        return self._key()

    def _verify_chain(self):
        from sharehub.events.chain import verify_chain
        from sharehub.events.models import Event

        with progress(self, Event.objects.count(), "Verifying audit chain", unit="event") as bar:
            result = verify_chain(progress=bar.update)
        if not result.ok:
            raise CommandError(
                f"audit chain broken at entry #{result.broken_seq}: {result.reason} "
                f"({result.checked} entries before it are intact)"
            )
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {result.checked} events"))

    def _verify_export(self, path: str, key: str | None):
        """Offline: reads the file and nothing else (no database, no data directory)."""
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from None
        result = exportfile.verify_export(data, key)
        if not result.ok:
            raise CommandError(exportfile.summary(result))
        self.stdout.write(self.style.SUCCESS(exportfile.summary(result)))
        if not key and self.verbosity:
            self.stdout.write(
                "Compare the key's fingerprint with `sharehub audit key` (or the audit page) of the organization, "
                "and the end hash with its live chain, or pass --key to require the key."
            )

    def _export(self, options):
        from sharehub.events import export

        zone = timezone.get_current_timezone()
        since = until = None
        if options.get("since"):
            since = timezone.make_aware(datetime.combine(_day(options["since"]), time.min), zone)
        if options.get("until"):
            until = timezone.make_aware(datetime.combine(_day(options["until"]) + timedelta(days=1), time.min), zone)
        span = export.resolve_range(
            from_seq=options.get("from_seq"), to_seq=options.get("to_seq"), since=since, until=until
        )
        output = options.get("output")
        try:
            sink = open(output, "wb") if output else getattr(self.stdout._out, "buffer", None)  # noqa: SIM115
        except OSError as error:
            raise CommandError(f"cannot write {output}: {error.strerror}") from None
        try:
            with progress(self, span.count, "Exporting audit entries", unit="event") as bar:
                for number, line in enumerate(export.export_lines(span, "command line")):
                    if sink is None:  # a text stream (a caller in the same process): the same characters
                        self.stdout.write(line.decode("utf-8"), ending="")
                    else:  # the exact bytes that were signed
                        sink.write(line)
                    if 0 < number <= span.count:
                        bar.update(1)
        finally:
            if output:
                sink.close()
            elif sink is not None:
                sink.flush()
        if output and self.verbosity:
            self.stderr.write(
                f"exported entries #{span.first_seq} to #{span.last_seq} ({span.count} entries) to {output}; "
                f"end hash {span.end_hash}"
            )

    def _key(self):
        from sharehub.events import export

        info = export.key_info()
        self.stdout.write(f"Ed25519 public key: {info['public_key']}")
        self.stdout.write(f"fingerprint: {info['fingerprint']}")
