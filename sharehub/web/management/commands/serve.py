"""`sharehub serve`: apply pending migrations, then run the ASGI app under uvicorn."""

from __future__ import annotations

import argparse

from sharehub.console import SharehubCommand, apply_migrations

APP = "sharehub.asgi:application"


def _port(raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the port must be a number, not {raw!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"the port must be between 1 and 65535, not {port}")
    return port


def _workers(raw: str) -> int:
    try:
        workers = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the number of workers must be a whole number, not {raw!r}") from None
    if workers < 1:
        raise argparse.ArgumentTypeError("at least one worker is needed")
    return workers


def add_server_arguments(parser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8000, help="port to listen on (default 8000)")
    parser.add_argument(
        "--workers", type=_workers, default=1, help="number of worker processes (default 1; more need PostgreSQL)"
    )


def collect_static(command) -> None:
    """Copy the static files into the data directory once, so the server serves a fixed set that an
    upgrade in place cannot change under it."""
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


def run_server(command, *, host: str, port: int, workers: int) -> None:
    import uvicorn

    collect_static(command)
    from django.conf import settings

    from sharehub import worker

    if settings.SERVER_RUNS_WORKER:
        worker.start_in_thread(settings.WORKER_INTERVAL_SECONDS)

    shown_host = f"[{host}]" if ":" in host else host
    command.stdout.write(f"Sharehub is running on http://{shown_host}:{port}/  (press Ctrl+C to stop)")
    command.stdout.flush()
    # uvicorn would believe X-Forwarded-For and X-Forwarded-Proto from 127.0.0.1 and rewrite the peer
    # address with them; sharehub.net decides, from SHAREHUB_TRUSTED_PROXIES only.
    uvicorn.run(
        APP,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
        log_level="info" if command.verbosity > 1 else "warning",
    )


class Command(SharehubCommand):
    help = "Apply pending database migrations, then serve Sharehub (web pages, API and static files)."

    def add_arguments(self, parser):
        add_server_arguments(parser)

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        apply_migrations(self)
        run_server(self, host=options["host"], port=options["port"], workers=options["workers"])
