"""`sharehub reindex`: rebuild the search index from the catalog, or `--check` it against the catalog."""

from __future__ import annotations

import time

from django.core.management.base import CommandError

from sharehub.catalog.models import Resource
from sharehub.console import SharehubCommand, apply_migrations, progress
from sharehub.search import services

SHOWN = 5


def _codes(ids: list[int]) -> str:
    """The first few resources by code, and how many more."""
    codes = dict(Resource.objects.filter(pk__in=ids[:SHOWN]).values_list("pk", "code"))
    shown = [codes.get(pk, f"#{pk}") for pk in ids[:SHOWN]]
    more = len(ids) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


class Command(SharehubCommand):
    help = (
        "Rebuild the search index: every resource is segmented and indexed again, in one transaction "
        "(searches keep answering from the old index until it commits). With --check, change nothing: "
        "report resources missing from the index, stale in it (changed since they were indexed), indexed "
        "in an older format (after an upgrade that changed what is indexed) and entries "
        "left for resources that no longer exist; exit 0 when the index is healthy and 1 when it is not."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="compare the index with the catalog and change nothing"
        )

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        apply_migrations(self)
        if options["check"]:
            self._check()
        else:
            self._rebuild()

    def _rebuild(self) -> None:
        started = time.monotonic()
        with progress(self, Resource.objects.count(), "Indexing", unit="resource") as bar:
            count = services.rebuild_index(progress=bar.update)
        seconds = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(f"{count} resource{'' if count == 1 else 's'} indexed in {seconds:.1f} s.")
        )

    def _check(self) -> None:
        with progress(self, Resource.objects.count(), "Checking the index", unit="resource") as bar:
            report = services.check_index(progress=bar.update)
        if report.healthy:
            self.stdout.write(
                self.style.SUCCESS(
                    f"The search index is healthy: {report.indexed} of {report.resources} resources indexed, "
                    "all up to date."
                )
            )
            return
        problems = [
            ("missing from the index", report.missing),
            ("stale (changed since they were indexed)", report.stale),
            ("indexed by an older version of Sharehub (a new index format)", report.outdated),
            ("orphaned entries (their resource no longer exists)", report.orphaned),
        ]
        for label, ids in problems:
            line = f"{label}: {len(ids)}" + (f" ({_codes(ids)})" if ids else "")
            self.stdout.write(line)
        found = sum(len(ids) for _label, ids in problems)
        raise CommandError(
            f"The search index is out of step with the catalog ({found} problem{'' if found == 1 else 's'} "
            "listed above); run `sharehub reindex` to rebuild it."
        )
