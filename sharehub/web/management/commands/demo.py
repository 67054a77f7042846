"""`sharehub demo`: load a realistic demo organization into an empty database, then serve it."""

from __future__ import annotations

import argparse
import time

from django.utils import timezone

from sharehub.catalog import tasks as catalog_tasks
from sharehub.console import SharehubCommand, apply_migrations, progress, table
from sharehub.demo import data, generator, sandbox
from sharehub.events import consumers
from sharehub.org.models import Department
from sharehub.web.management.commands.serve import add_server_arguments, run_server


def _minutes(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the interval must be a whole number of minutes, not {raw!r}") from None
    if not 1 <= value <= sandbox.MAX_EVERY:
        raise argparse.ArgumentTypeError(f"the interval must be between 1 and {sandbox.MAX_EVERY} minutes")
    return value


def _scale(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the scale must be a number, not {raw!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError("the scale must be above 0 and at most 1")
    return value


class Command(SharehubCommand):
    help = (
        "Load a demo city (about 10 departments, 50 people, 300 resources, and the year of requests, "
        "decisions, edits and reads that led up to the day of loading) into an empty database, "
        "print the demo sign-ins, and serve it. An existing organization is kept as it is."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=42, help="the same seed loads the same demo (default 42)")
        parser.add_argument("--no-serve", action="store_true", help="load and print the sign-ins, then exit")
        parser.add_argument("--scale", type=_scale, default=1.0, help=argparse.SUPPRESS)  # smaller demos for tests
        parser.add_argument(
            "--sandbox",
            action="store_true",
            help="a sandbox: keep a copy of the freshly loaded demo and put everything back to it every "
            "--reset-every minutes while serving (SQLite only); every page says when",
        )
        parser.add_argument(
            "--reset-every",
            type=_minutes,
            default=sandbox.DEFAULT_EVERY,
            metavar="MINUTES",
            help=f"with --sandbox: minutes between two resets (default {sandbox.DEFAULT_EVERY})",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="put a sandbox demo back to its freshly loaded state now (the server may be running), then exit",
        )
        add_server_arguments(parser)

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        if options["reset"]:
            self._reset()
            return
        if options["sandbox"]:
            sandbox.check_supported()  # before loading anything: PostgreSQL is refused with the reason
        apply_migrations(self)
        if generator.is_loaded():
            self.stdout.write("The demo organization is loaded already; keeping it as it is.")
        elif Department.objects.exists():
            self.stdout.write(
                "This database already holds an organization, so the demo was not loaded "
                "(it loads only into an empty database; point SHAREHUB_DATA_DIR at a new folder to try it)."
            )
        else:
            self._load(options["seed"], options["scale"])
        if generator.is_loaded():
            self._print_logins()
        if options["sandbox"]:
            self._prepare_sandbox(options["reset_every"])
        else:
            sandbox.clear_state()  # a sandbox run earlier in this data directory: no banner now
        if not options["no_serve"]:
            stop = None
            if options["sandbox"]:
                _thread, stop = sandbox.schedule(on_reset=self._said_reset)
            try:
                run_server(self, host=options["host"], port=options["port"], workers=options["workers"])
            finally:
                if stop is not None:
                    stop.set()
                    sandbox.clear_state()

    def _prepare_sandbox(self, every: int) -> None:
        if not generator.is_loaded():
            raise sandbox.SandboxError("The sandbox needs the demo organization, and this database holds another one.")
        if not sandbox.has_snapshot():
            sandbox.take_snapshot()
            self.stdout.write(f"Sandbox: kept a copy of the demo in {sandbox.snapshot_path()}.")
        next_reset = sandbox.start(every)
        self.stdout.write(
            self.style.WARNING(
                f"Sandbox: everything goes back to that copy every {every} minutes "
                f"(next at {timezone.localtime(next_reset):%H:%M}) and with `sharehub demo --reset`."
            )
        )

    def _said_reset(self, seconds, next_reset) -> None:
        when = f"{timezone.localtime(next_reset):%H:%M}"
        if seconds is None:
            self.stderr.write(f"Sandbox: the reset failed (see the log); trying again at {when}.")
        else:
            self.stdout.write(f"Sandbox: back to the demo's first state in {seconds:.1f} s; next reset at {when}.")
        self.stdout.flush()

    def _reset(self) -> None:
        seconds, next_reset = sandbox.reset_now()
        self.stdout.write(self.style.SUCCESS(f"The sandbox is back to the demo's first state ({seconds:.1f} s)."))
        if next_reset is not None:
            self.stdout.write(f"Next scheduled reset at {timezone.localtime(next_reset):%H:%M}.")

    def _load(self, seed: int, scale: float) -> None:
        total = len(generator.plan(seed, scale))
        started = time.monotonic()
        with progress(self, total, "Loading demo", unit="resource") as bar:
            summary = generator.load(seed=seed, scale=scale, progress=bar.update)
        catalog_tasks.extract_pending(max_seconds=float("inf"))  # the attachments' text, for search at once
        consumers.run_pending()
        elapsed = time.monotonic() - started

        def counts(mapping: dict) -> str:
            return ", ".join(f"{key} {value}" for key, value in sorted(mapping.items()))

        self.stdout.write(self.style.SUCCESS(f"Loaded the demo organization (seed {seed}) in {elapsed:.1f} s:"))
        self.stdout.write(
            f"  {summary.departments} departments, {summary.people} people, "
            f"{summary.service_accounts} service account(s)\n"
            f"  {summary.resources} resources: {counts(summary.by_kind)}\n"
            f"  sharing: {counts(summary.by_sharing)}\n"
            f"  status: {counts(summary.by_status)}\n"
            f"  {summary.versions} versions, {summary.attachments} attachments, {summary.projects} projects, "
            f"{summary.grants} grants, {summary.events} audit events\n"
            f"  history from {summary.history_from} to {summary.history_to}: "
            f"requests {counts(summary.requests)}; grants {counts(summary.grant_states)}\n"
            f"  dataset records: {counts(summary.records) or 'none'}"
        )
        for year, days in sorted(summary.calendar.items()):
            # Official holidays and 调休 days, loaded as `sharehub calendar load` does, so deadlines skip them.
            self.stdout.write(
                f"  calendar {year}: {days} official days" if isinstance(days, int) else f"  calendar {days}"
            )

    def _print_logins(self) -> None:
        rows = [list(row) for row in generator.logins()]
        self.stdout.write("")
        self.stdout.write(f"Demo sign-ins (every demo person's password is: {data.PASSWORD})")
        self.stdout.write(table(["username", "name", "role", "department"], rows))
        self.stdout.write(
            f"All {len(data.PEOPLE)} department people use the same password; the service account signs in "
            "only with API tokens (sharehub token create erp-sync)."
        )
