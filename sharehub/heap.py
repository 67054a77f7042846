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


# (gen0 allocations, gen0 collections per gen1, gen1 collections per full collection); Python's are (700, 10, 10).
SERVER_THRESHOLDS = (700, 10, 100)


def fewer_full_collections() -> None:
    """In a server process, a full collection once per hundred middle ones rather than ten.

    Everything that survives a middle collection counts towards the next full one, even what reference
    counting frees a moment later, such as a live push's thousand messages: with 1,000 streams open, full
    collections came every two seconds and took 31-34 ms (bench/fanout), each one holding up every stream
    and request. Garbage in reference cycles that reaches the oldest generation waits longer to be freed."""
    gc.set_threshold(*SERVER_THRESHOLDS)
