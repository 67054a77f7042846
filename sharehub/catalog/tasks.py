"""Background work of the catalog: reading attachments' text for search, after their upload committed.

Each pending blob is claimed for a while (so several workers never read the same file at once), read by a
child process with hard memory, CPU and wall-clock limits (`sharehub.catalog.extract`), and its text stored
in one short transaction. No file is parsed while a write transaction is open. A claim that outlives its
worker (a crash, a kill -9) expires and the blob is read again, at most MAX_ATTEMPTS times.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from sharehub.catalog import extract, files
from sharehub.catalog.models import Blob
from sharehub.worker import register_periodic

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
ROUND_SECONDS = 20


def limits() -> extract.Limits:
    return extract.Limits(
        max_chars=extract.MAX_CHARS,
        max_cells=settings.EXTRACT_MAX_CELLS,
        max_uncompressed_bytes=settings.EXTRACT_MAX_UNCOMPRESSED_BYTES,
    )


def read_in_child(path, mime_type: str) -> extract.Result:
    """Run the extractor in a child process under the configured caps; a child that dies or overruns says so."""
    timeout = settings.EXTRACT_TIMEOUT_SECONDS
    command = [
        sys.executable,
        "-m",
        "sharehub.catalog.extract",
        str(path),
        mime_type,
        str(settings.EXTRACT_MEMORY_BYTES),
        str(timeout),
        json.dumps(asdict(limits())),
    ]
    try:
        finished = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return extract.Result(extract.FAILED, extract.TIMED_OUT)
    if finished.returncode != 0:
        # SIGXCPU (CPU cap) or SIGKILL; a MemoryError the child could not even report ends here too.
        reason = extract.TIMED_OUT if finished.returncode in (-24, -9) else extract.OUT_OF_MEMORY
        logger.warning("text extraction of %s stopped (exit %s): %s", path, finished.returncode, finished.stderr[-500:])
        return extract.Result(extract.FAILED, reason)
    try:
        return extract.Result(**json.loads(finished.stdout))
    except (ValueError, TypeError):
        logger.warning("text extraction of %s printed no result: %s", path, finished.stderr[-500:])
        return extract.Result(extract.FAILED, extract.DAMAGED)


def _claim_one() -> Blob | None:
    """Take the oldest pending blob that nobody holds, for longer than one extraction may take."""
    now = timezone.now()
    with transaction.atomic():
        candidates = (
            Blob.objects.select_for_update(skip_locked=True)
            .filter(text_status=Blob.TextStatus.PENDING)
            .filter(Q(text_claimed_until__isnull=True) | Q(text_claimed_until__lt=now))
            .order_by("pk")
        )
        blob = candidates.first()
        if blob is None:
            return None
        hold = timedelta(seconds=settings.EXTRACT_TIMEOUT_SECONDS * 2 + 30)
        Blob.objects.filter(pk=blob.pk).update(text_claimed_until=now + hold, text_attempts=F("text_attempts") + 1)
        blob.text_attempts += 1
    return blob


def extract_pending(max_seconds: float = ROUND_SECONDS) -> int:
    """Read the text of pending attachments until none is left or the round's time is used; returns how many."""
    from sharehub.catalog import services

    started = time.monotonic()
    done = 0
    while time.monotonic() - started < max_seconds:
        blob = _claim_one()
        if blob is None:
            break
        if blob.text_attempts > MAX_ATTEMPTS:
            result = extract.Result(extract.FAILED, extract.STOPPED_REPEATEDLY)
        else:
            path = files.blob_path(blob.sha256)
            if not path.exists():
                result = extract.Result(extract.FAILED, extract.MISSING_FILE)
            elif blob.mime_type.startswith("text/"):
                result = extract.extract(str(path), blob.mime_type, limits())  # a bounded read; nothing to parse
            else:
                result = read_in_child(path, blob.mime_type)
        services.store_extracted_text(blob.pk, result)
        done += 1
    return done


register_periodic("attachment text", extract_pending)
