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


# Appending is the one write of many reads (a read of records by another department), and it holds the
# chain head, so every append in the organization waits for it: written as three fixed statements (on
# PostgreSQL one, in a single round trip) rather than through the ORM, whose compiling of the statements
# was most of the append's time. The rows are the ones Event.save and the through model would write.
_EVENT_COLUMNS = (
    "seq", "created_at", "actor_id", "actor_name", "action", "target_type", "target_id", "target_label", "details",
    "prev_hash", "hash",
)  # fmt: skip


def _lock_head(connection) -> tuple[int, str]:
    """The chain head's (seq, hash), locked until the transaction ends (SQLite: its IMMEDIATE transaction
    already holds the database's write lock)."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    table = connection.ops.quote_name(ChainHead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, hash FROM {table} WHERE id = 1{lock}")
        row = cursor.fetchone()
    if row is None:  # a new database: the first append creates the head
        head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
        return head.seq, head.hash
    return row[0], row[1]


def _append(connection, event: Event, department_ids: list[int]) -> None:
    """Insert the event and its department rows and move the head to it; sets `event.pk`."""
    ops = connection.ops
    values = [getattr(event, column) for column in _EVENT_COLUMNS]
    values[1] = ops.adapt_datetimefield_value(event.created_at)
    values[8] = json.dumps(event.details)  # as JSONField stores it
    quote = ops.quote_name
    events, links, heads = (quote(m._meta.db_table) for m in (Event, EventDepartment, ChainHead))
    columns = ", ".join(quote(Event._meta.get_field(name).column) for name in _EVENT_COLUMNS)
    postgresql = connection.vendor == "postgresql"
    marks = ", ".join("%s::jsonb" if postgresql and name == "details" else "%s" for name in _EVENT_COLUMNS)
    with connection.cursor() as cursor:
        if postgresql:
            cursor.execute(
                f"WITH e AS (INSERT INTO {events} ({columns}) VALUES ({marks}) RETURNING id), "
                f"d AS (INSERT INTO {links} (event_id, department_id) SELECT e.id, unnest(%s::bigint[]) FROM e), "
                f"h AS (UPDATE {heads} SET seq = %s, hash = %s WHERE id = 1) SELECT id FROM e",
                [*values, department_ids, event.seq, event.hash],
            )
            event.pk = cursor.fetchone()[0]
        else:
            cursor.execute(f"INSERT INTO {events} ({columns}) VALUES ({marks}) RETURNING id", values)
            event.pk = cursor.fetchone()[0]
            if department_ids:
                cursor.executemany(
                    f"INSERT INTO {links} (event_id, department_id) VALUES (%s, %s)",
                    [(event.pk, department_id) for department_id in department_ids],
                )
            cursor.execute(f"UPDATE {heads} SET seq = %s, hash = %s WHERE id = 1", [event.seq, event.hash])
    event._state.adding = False
    event._state.db = connection.alias


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
        connection = transaction.get_connection()
        prev_seq, prev_hash = _lock_head(connection)
        seq = prev_seq + 1
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
            prev_hash=prev_hash,
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
            prev_hash=prev_hash,
            hash=digest,
        )
        _append(connection, event, department_ids)
        transaction.on_commit(lambda: bus.publish(event))
    return event
