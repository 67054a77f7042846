import io
import os
import warnings
from contextvars import ContextVar

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler

from sharehub import heap
from sharehub.bodies import PLAINTEXT_BODY_LIMIT, carries_plaintext
from sharehub.feeds import live

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharehub.settings")
# WhiteNoise serves static files as a synchronous file iterator; under ASGI Django wraps it and warns
# on every file. The wrapping is correct for files of this size, so the warning is noise in the log.
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous iterators")


_in_memory_body: ContextVar[bool] = ContextVar("in_memory_body", default=False)
_body_refused: ContextVar[bool] = ContextVar("body_refused", default=False)


class SyncRequestASGIHandler(ASGIHandler):
    """Django's ASGI handler for an application whose middleware and views are all synchronous: each
    request enters its synchronous part once, on a thread reused from a pool.

    Measured with py-spy under wrk (issue 11), Django's own handler cost a resource GET of about 11 ms:
    - about 1.5 ms because it starts a new thread for every request, and Django keeps database
      connections per thread, so every request opened a connection and closed it again (on SQLite the
      first statement of a connection also parses the whole schema). On a reused thread the connection
      lives for CONN_MAX_AGE.
    - the wait of two more hops: with any synchronous middleware Django builds an asynchronous chain
      that goes thread -> event loop -> thread around the view. Here the chain is built synchronous and
      entered with one hop.

    A request still has one thread to itself from start to end, as Django requires; the pool only
    grows when every kept thread is busy, and keeps at most `KEEP_IDLE` threads (with their connections)
    when the load falls: four keep a worker's core busy (the GIL runs one at a time), and each kept thread
    with its SQLite connection holds about 1.5 MB (worker RSS after the benchmark's reads: 101-109 MB
    keeping 4, 111-115 MB keeping 8). An asynchronous view would still work (Django runs it with async_to_sync), but
    a streaming one would hold its thread: give it a handler of its own before adding one."""

    KEEP_IDLE = 4

    def __init__(self, *, readers_in_background: bool = False) -> None:
        super().__init__()
        self._idle = []
        self._readers_in_background = readers_in_background

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)
        self._middleware_chain = sync_to_async(self._middleware_chain, thread_sensitive=True)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        if scope["path"] == live.STREAM_PATH:  # a held connection: served on the event loop, not a thread
            return await live.stream(scope, receive, send)
        if self._readers_in_background:
            from sharehub.events import consumers

            consumers.deliver_in_background()
        _in_memory_body.set(carries_plaintext(scope.get("method", ""), scope["path"]))
        _body_refused.set(False)
        executor = self._idle.pop() if self._idle else _request_thread()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            self._give_back(executor)

    async def read_body(self, receive):
        """Django's, except that a body carrying plaintext (`sharehub.bodies`) stays in memory."""
        if not _in_memory_body.get():
            return await super().read_body(receive)
        body = io.BytesIO()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise RequestAborted()
            if not _body_refused.get():
                body.write(message.get("body", b""))
                if body.tell() > PLAINTEXT_BODY_LIMIT:
                    _body_refused.set(True)  # the rest is read and dropped; create_request answers 413
                    body = io.BytesIO()
            if not message.get("more_body", False):
                break
        body.seek(0)
        return body

    def create_request(self, scope, body_file):
        if _body_refused.get():
            return None, _too_large(scope["path"])
        return super().create_request(scope, body_file)

    def _give_back(self, executor) -> None:
        if len(self._idle) < self.KEEP_IDLE:
            self._idle.append(executor)
            return
        from django.db import connections

        executor.submit(connections.close_all)
        executor.shutdown(wait=False)


def _too_large(path: str):
    from django.http import HttpResponse, JsonResponse
    from django.utils.translation import gettext as _

    from sharehub.api import error_body

    message = _("The request is too large: at most %(n)s MB.") % {"n": PLAINTEXT_BODY_LIMIT // 1024 // 1024}
    if path.startswith("/api/"):
        return JsonResponse(error_body("too_large", message), status=413)
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


def _request_thread():
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="sharehub-request")


def _application() -> SyncRequestASGIHandler:
    django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application does
    if os.environ.get("SHAREHUB_WORKER_IN_PROCESS") == "1":
        _start_background_work()
    handler = SyncRequestASGIHandler(readers_in_background=True)
    heap.settle_once("application")
    if os.environ.get("SHAREHUB_SERVER_PROCESS") == "1":  # not in a process that imports this (the tests)
        heap.fewer_full_collections()
    return handler


def _start_background_work() -> None:
    """Under `sharehub serve`, each server process runs the background loop (sharehub.worker) in a thread of
    its own: a wake-up (a webhook delivery or an upload waiting) is heard in the process that made it. With
    `--workers N` the loop ran in the supervising parent alone, which no worker's wake-up reaches, so a
    webhook waited for the loop's next round, up to SHAREHUB_WORKER_INTERVAL (30 s; bench/fanout)."""
    from django.conf import settings

    from sharehub import worker

    worker.start_in_thread(settings.WORKER_INTERVAL_SECONDS)


# jieba's dictionary is not loaded here: a worker loads it on its first search (sharehub.search.segment),
# so one that serves only pages and the API never holds it.
application = _application()
