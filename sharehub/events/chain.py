"""Hashing and verification of the event chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC

GENESIS_HASH = "0" * 64


def event_digest(
    *,
    seq: int,
    created_at,
    actor_id: int | None,
    actor_name: str,
    action: str,
    target_type: str,
    target_id: str,
    target_label: str,
    department_ids: Iterable[int],
    details: dict,
    prev_hash: str,
) -> str:
    payload = {
        "seq": seq,
        "created_at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor_name": actor_name,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "target_label": target_label,
        "departments": sorted(int(d) for d in department_ids),
        "details": details,
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""


def verify_chain(progress=None) -> VerifyResult:
    """Walk the whole log in order; report the first entry whose link or content does not hold."""
    from sharehub.events.models import ChainHead, Event

    expected_seq = 1
    prev_hash = GENESIS_HASH
    checked = 0
    events = Event.objects.order_by("seq").prefetch_related("departments")
    for event in events.iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return VerifyResult(
                False, checked, expected_seq, f"entry #{expected_seq} is missing (next found is #{event.seq})"
            )
        if event.prev_hash != prev_hash:
            return VerifyResult(False, checked, event.seq, f"entry #{event.seq} does not link to the entry before it")
        digest = event_digest(
            seq=event.seq,
            created_at=event.created_at,
            actor_id=event.actor_id,
            actor_name=event.actor_name,
            action=event.action,
            target_type=event.target_type,
            target_id=event.target_id,
            target_label=event.target_label,
            department_ids=[d.pk for d in event.departments.all()],
            details=event.details,
            prev_hash=event.prev_hash,
        )
        if digest != event.hash:
            return VerifyResult(False, checked, event.seq, f"entry #{event.seq} was changed after it was written")
        prev_hash = event.hash
        expected_seq += 1
        checked += 1
        if progress:
            progress(1)
    head = ChainHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    if head_seq != checked or head_hash != prev_hash:
        return VerifyResult(
            False, checked, checked + 1, f"entries after #{checked} are missing (the chain head records #{head_seq})"
        )
    return VerifyResult(True, checked)
