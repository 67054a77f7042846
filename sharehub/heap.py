"""Long-lived objects out of the garbage collector's way."""

import gc
import threading

_settled: set[str] = set()
_lock = threading.Lock()


def settle_once(what: str) -> None:
    """Move every object alive now to the collector's permanent generation, which no collection scans, the
    first time `what` (Django's apps, jieba's dictionary) has been loaded in this process.

    A server process keeps those for its lifetime, and a full collection otherwise walks all of them again:
    bench/fanout measured such collections at 200-260 ms every two or three seconds under 1,000 live streams,
    each one holding up every stream. Once per `what`, because a frozen object is never collected: garbage
    frozen with them stays, so freezing again and again (tests reload the dictionary often) would grow."""
    with _lock:
        if what in _settled:
            return
        _settled.add(what)
    gc.freeze()
