"""`sharehub worker`: run background work (log readers, deadlines, reminders, grant expiry)."""

from __future__ import annotations

import signal
import threading

from django.conf import settings

from sharehub import worker
from sharehub.console import SharehubCommand


class Command(SharehubCommand):
    help = "Run background work: notifications from the event log, request deadlines and reminders, grant expiry."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run one round and exit")
        parser.add_argument(
            "--interval", type=float, default=None, help="seconds between rounds (default SHAREHUB_WORKER_INTERVAL)"
        )

    def handle(self, *args, **options):
        if options["once"]:
            for name, result in worker.run_once().items():
                self.stdout.write(f"{name}: {result}")
            return
        interval = options["interval"] or settings.WORKER_INTERVAL_SECONDS
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: worker.stop(stop))
        self.stdout.write(f"Sharehub worker running every {interval:g} s (Ctrl+C to stop)")
        worker.run_forever(interval, stop)
