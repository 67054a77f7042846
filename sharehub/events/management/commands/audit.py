"""`sharehub audit verify`: walk the hash-chained event log and name the first broken entry."""

from __future__ import annotations

from django.core.management.base import CommandError

from sharehub.console import SharehubCommand, apply_migrations, progress
from sharehub.events.chain import verify_chain
from sharehub.events.models import Event


class Command(SharehubCommand):
    help = "Check the audit trail. `audit verify` exits 0 when the chain is intact and 1 at the first broken entry."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{verify}")
        actions.add_parser("verify", help="walk the whole event chain and check every link and hash")

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        apply_migrations(self)
        with progress(self, Event.objects.count(), "Verifying audit chain", unit="event") as bar:
            result = verify_chain(progress=bar.update)
        if not result.ok:
            raise CommandError(
                f"audit chain broken at entry #{result.broken_seq}: {result.reason} "
                f"({result.checked} entries before it are intact)"
            )
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {result.checked} events"))
