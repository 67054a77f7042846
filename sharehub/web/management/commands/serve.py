"""`sharehub serve`: apply pending migrations, then run the ASGI app under uvicorn."""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys

from django.conf import settings
from uvicorn.supervisors.multiprocess import Multiprocess

from sharehub.console import SharehubCommand, apply_migrations
from sharehub.ops import logs, multiprocess

APP = "sharehub.asgi:application"
WORKER_IN_PROCESS = "SHAREHUB_WORKER_IN_PROCESS"
SERVER_PROCESS = "SHAREHUB_SERVER_PROCESS"  # the processes that load the application under `sharehub serve`


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

    if settings.SERVER_RUNS_WORKER:
        os.environ[WORKER_IN_PROCESS] = "1"  # each server process runs the background loop (sharehub.asgi)
    os.environ[SERVER_PROCESS] = "1"

    multiprocess.clean()  # the metric counts of processes gone (an earlier run) start again
    shown_host = f"[{host}]" if ":" in host else host
    command.stdout.write(f"Sharehub is running on http://{shown_host}:{port}/  (press Ctrl+C to stop)")
    command.stdout.flush()
    # uvicorn would believe X-Forwarded-For and X-Forwarded-Proto from 127.0.0.1 and rewrite the peer
    # address with them; sharehub.net decides, from SHAREHUB_TRUSTED_PROXIES only.
    options = {"proxy_headers": False, "log_level": "info" if command.verbosity > 1 else "warning"}
    if settings.LOG_FORMAT == "json":
        options["log_config"] = logs.uvicorn_config()
    if workers > 1 and hasattr(socket, "SO_REUSEPORT"):
        serve_spread(command, uvicorn.Config(APP, host=host, port=port, workers=workers, **options))
    else:
        uvicorn.run(APP, host=host, port=port, workers=workers, **options)


def serve_spread(command, config) -> None:
    """Several workers, each on its own socket (see ReusePortSupervisor)."""
    _refuse_taken_port(command, config.host, config.port)
    with contextlib.suppress(KeyboardInterrupt):
        ReusePortSupervisor(config).run()


def _refuse_taken_port(command, host: str, port: int) -> None:
    """With SO_REUSEPORT a second server on the same port would silently share its connections: refuse
    a port that anything holds, as a plain bind would."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a server just stopped leaves TIME_WAIT
        try:
            probe.bind((host, port))
        except OSError as error:
            command.stderr.write(f"Cannot listen on {host}:{port}: {error.strerror}.")
            sys.exit(3)


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


class ReusePortSupervisor(Multiprocess):
    """uvicorn's supervisor (restarts, signals), but each worker listens on a socket of its own bound
    with SO_REUSEPORT, so the kernel spreads new connections across the workers. With the one socket
    that uvicorn shares, whichever worker wakes first accepts every pending connection, and keep-alive
    clients then stay with it: under wrk with 8 connections one of two workers took all 8.

    uvicorn hands `self.sockets` to each worker it starts, so reading it makes a new socket; the
    parent's copy is closed once the worker has been started with it (the child inherited it)."""

    def __init__(self, config) -> None:
        self._handed_over: list[socket.socket] = []
        super().__init__(config, sockets=[])

    @property
    def sockets(self) -> list[socket.socket]:
        sock = _listening_socket(self.config.host, self.config.port)
        self._handed_over.append(sock)
        return [sock]

    @sockets.setter
    def sockets(self, value) -> None:
        pass

    def _close_handed_over(self) -> None:
        while self._handed_over:
            self._handed_over.pop().close()

    def init_processes(self) -> None:
        super().init_processes()
        self._close_handed_over()

    def keep_subprocess_alive(self) -> None:
        super().keep_subprocess_alive()
        self._close_handed_over()

    def handle_signals(self) -> None:
        super().handle_signals()
        self._close_handed_over()


class Command(SharehubCommand):
    help = "Apply pending database migrations, then serve Sharehub (web pages, API and static files)."

    def add_arguments(self, parser):
        add_server_arguments(parser)

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        if settings.LOG_FORMAT == "json":  # what it prints, as log lines of the same shape
            self.stdout = logs.JsonLines(self.stdout, "sharehub.serve")
        apply_migrations(self)
        run_server(self, host=options["host"], port=options["port"], workers=options["workers"])
