"""Appending to the event log: the only way an event is written."""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from sharehub.events import bus
from sharehub.events.chain import event_digest
from sharehub.events.models import ChainHead, Event, EventDepartment


def _target_fields(target) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    if isinstance(target, models.Model):
        return target._meta.label_lower, str(target.pk), str(target)[:300]
    kind, ident, label = target
    return kind, str(ident), str(label)[:300]


def record(
    actor,
    action: str,
    target=None,
    *,
    departments: Iterable = (),
    details: dict | None = None,
) -> Event:
    """Append one event, chained to the previous one, inside the caller's transaction.

    `target` is a model instance or a (type, id, label) tuple; `departments` are Department
    instances or ids involved in the change.
    """
    clean_details = json.loads(json.dumps(details or {}, cls=DjangoJSONEncoder))
    department_ids = sorted({getattr(d, "pk", d) for d in departments if d is not None})
    target_type, target_id, target_label = _target_fields(target)
    actor_id = getattr(actor, "pk", None) if actor is not None and getattr(actor, "is_authenticated", False) else None
    actor_name = actor.get_username() if actor_id else ""
    with transaction.atomic():
        head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
        seq = head.seq + 1
        created_at = timezone.now()
        digest = event_digest(
            seq=seq,
            created_at=created_at,
            actor_id=actor_id,
            actor_name=actor_name,
            action=action,
            target_type=target_type,
            target_id=target_id,
            target_label=target_label,
            department_ids=department_ids,
            details=clean_details,
            prev_hash=head.hash,
        )
        event = Event(
            seq=seq,
            created_at=created_at,
            actor_id=actor_id,
            actor_name=actor_name,
            action=action,
            target_type=target_type,
            target_id=target_id,
            target_label=target_label,
            details=clean_details,
            prev_hash=head.hash,
            hash=digest,
        )
        event.save()
        if department_ids:  # a new event has no rows yet: insert them (`.set()` would read them first)
            EventDepartment.objects.bulk_create(
                [EventDepartment(event=event, department_id=department_id) for department_id in department_ids]
            )
        ChainHead.objects.filter(pk=1).update(seq=seq, hash=digest)
        transaction.on_commit(lambda: bus.publish(event))
    return event
