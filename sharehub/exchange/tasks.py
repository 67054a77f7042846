"""The exchange app's periodic job: a key rotation queued by `sharehub keys new --rotate`, in slices."""

from __future__ import annotations

from sharehub.exchange import rotation
from sharehub.worker import register_periodic

SLICE_SECONDS = 20  # one round of the worker re-encrypts this long, then lets the other jobs run


def rotate_queued() -> int:
    """Continue a queued rotation towards the active key; the number of values re-encrypted this round."""
    if not rotation.pending():
        return 0
    return rotation.rotate(seconds=SLICE_SECONDS).rewritten


register_periodic("key rotation", rotate_queued)
