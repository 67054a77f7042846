"""Writes to a dataset's records: upsert, delete by key, delete all. Each call checks its rows first
(outside any transaction), then writes in one short transaction that locks the dataset row, numbers
the changes and records one event; it commits whole or not at all."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sharehub.catalog.models import Resource
from sharehub.errors import Conflict, Forbidden, Invalid
from sharehub.events.services import record
from sharehub.exchange import bulk
from sharehub.exchange.models import BlindIndex, Change, Dataset, Record
from sharehub.exchange.rows import CheckedRows, RowError, check_rows
from sharehub.exchange.storage import Codec
from sharehub.policy.engine import Action, can

BATCH = 500  # rows per statement; SQLite allows 32,766 parameters
# Test hook: seconds to sleep after each batch written (inside the transaction), so a test can kill an import
# half-way through (tests/exchange/test_import_crash.py).
PAUSE_ENV = "SHAREHUB_TEST_IMPORT_PAUSE"
MAX_KEYS = 10_000
INSERT, UPDATE = Change.Op.INSERT.value, Change.Op.UPDATE.value


class Mode:
    ALL_OR_NOTHING = "all"
    KEEP_VALID = "valid"
    CHOICES = (ALL_OR_NOTHING, KEEP_VALID)


@dataclass
class UpsertResult:
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    deleted: int = 0
    not_found: int = 0
    would_delete: int | None = None  # a dry run's count of what replacing would delete
    errors: list[RowError] = field(default_factory=list)
    first_change: int | None = None
    last_change: int | None = None

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "deleted": self.deleted,
            "not_found": self.not_found,
        }


def _require(decision) -> None:
    if not decision:
        raise Forbidden(decision.message)


def codec_for(dataset: Dataset) -> Codec:
    return Codec(dataset, list(dataset.fields.all()))


def writable_dataset(actor, resource: Resource) -> Dataset:
    """The dataset of a resource the actor may edit (members of the owner department)."""
    if resource.kind != Resource.Kind.DATASET:
        raise Invalid(fields={"resource": _("Only a dataset holds records.")})
    _require(can(actor, Action.EDIT, resource))
    dataset, _created = Dataset.objects.get_or_create(resource=resource)
    if not dataset.key_fields:
        raise Invalid(
            fields={"key_fields": _("Set the dataset's record key (the fields that identify a record) first.")}
        )
    return dataset


def check(
    actor,
    resource: Resource,
    rows: Iterable[dict[str, Any]],
    *,
    keep_sensitive: bool = True,
    progress=None,
    prepare: bool = False,
):
    dataset = writable_dataset(actor, resource)
    codec = codec_for(dataset)
    return dataset, codec, check_rows(codec, rows, keep_sensitive=keep_sensitive, progress=progress, prepare=prepare)


def upsert(
    actor,
    resource: Resource,
    rows: Iterable[dict[str, Any]],
    *,
    mode: str = Mode.ALL_OR_NOTHING,
    via: str = "api",
    progress: Callable[[int], None] | None = None,
    keep_sensitive: bool = True,
    replace_expected: int | None = None,
    dry_run: bool = False,
) -> UpsertResult:
    """Insert new records and update changed ones, by record key. With `mode` all-or-nothing a single
    bad row writes nothing (Invalid, with the report); with keep-valid the good rows are written and
    the report lists the rest. A row equal to the stored one is left alone, so importing the same file
    twice changes nothing the second time."""
    if mode not in Mode.CHOICES:
        raise Invalid(fields={"mode": _("Choose %(choices)s.") % {"choices": " or ".join(Mode.CHOICES)}})
    dataset, codec, checked = check(
        actor, resource, rows, keep_sensitive=keep_sensitive, progress=progress, prepare=not dry_run
    )
    if checked.errors and mode == Mode.ALL_OR_NOTHING:
        raise RowsInvalid(checked)
    if dry_run:
        result = UpsertResult(rows=checked.rows, rejected=checked.rejected_rows, errors=checked.errors)
        result.would_delete = len(stale_keys(dataset, checked))
        return result
    return write_checked(
        actor, resource, dataset, codec, checked, via=via, progress=progress, replace_expected=replace_expected
    )


class RowsInvalid(Invalid):
    """Rows failed their checks and nothing was written; carries the whole report."""

    def __init__(self, checked: CheckedRows) -> None:
        self.checked = checked
        first = checked.errors[0]
        super().__init__(
            _("%(n)s of %(total)s rows have problems; nothing was written. First: row %(row)s, %(field)s: %(reason)s")
            % {
                "n": checked.rejected_rows,
                "total": checked.rows,
                "row": first.row,
                "field": first.field or "—",
                "reason": first.reason,
            },
            fields={f"rows.{e.row}.{e.field or '-'}": e.reason for e in checked.errors[:1000]},
        )


def write_checked(
    actor,
    resource: Resource,
    dataset: Dataset,
    codec: Codec,
    checked: CheckedRows,
    *,
    via: str,
    progress: Callable[[int], None] | None = None,
    replace_expected: int | None = None,
) -> UpsertResult:
    """Write checked rows. `replace_expected`: "replace all", so records whose key is not among the rows
    are deleted in the same transaction, when their number is the one the person was shown."""
    result = UpsertResult(rows=checked.rows, rejected=checked.rejected_rows, errors=checked.errors)
    pause = float(os.environ.get(PAUSE_ENV) or 0)
    width = len(codec.fields)
    with transaction.atomic():
        locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
        if locked.schema_version != dataset.schema_version or locked.key_fields != dataset.key_fields:
            raise Conflict(_("The dataset's schema changed while the rows were being checked; send them again."))
        stale = stale_keys(locked, checked) if replace_expected is not None else []
        if replace_expected is not None and len(stale) != replace_expected:
            raise Conflict(
                _("Replacing would delete %(n)s records, not the %(expected)s you were shown; check again.")
                % {"n": len(stale), "expected": replace_expected},
                fields={"replace": str(len(stale))},
            )
        now = timezone.now()
        seq = locked.last_change
        result.first_change = seq + 1
        writer = bulk.Writer(locked.pk, getattr(_person(actor), "pk", None), now)
        # A dataset without records needs no lookup of each batch's keys (the rows' keys are distinct).
        empty = not Record.objects.filter(dataset=locked).exists()
        with bulk.large_write(len(checked.valid)), connection.cursor() as cursor:
            for start in range(0, len(checked.valid), BATCH):
                batch = checked.valid[start : start + BATCH]
                partial = any(isinstance(row, dict) and len(row) < width for _n, _k, row in batch)
                existing = {} if empty else _existing(locked, [key for _n, key, _r in batch], with_values=partial)
                inserts, updates, changes = [], [], []
                for _n, key, row in batch:
                    current = existing.get(key)
                    if isinstance(row, dict):  # parsed values: not prepared while checking, or leaving fields out
                        if current is not None and len(row) < width:
                            row = _with_stored(codec, key, current[3], row)
                        if current is not None and current[1] == codec.fingerprint(row):
                            result.unchanged += 1
                            continue
                        row = codec.prepare(key, row)
                    elif current is not None and current[1] == row.fingerprint:
                        result.unchanged += 1
                        continue
                    seq += 1
                    if current is None:
                        inserts.append((key, row))
                        changes.append((seq, INSERT, key, row.text, row.subject, 1))
                    else:
                        pk, version = current[0], current[2] + 1
                        updates.append((pk, version, row))
                        changes.append((seq, UPDATE, key, row.text, row.subject, version))
                inserted = [
                    (pk, key, r) for pk, (key, r) in zip(writer.ids(cursor, len(inserts)), inserts, strict=True)
                ]
                writer.insert_records(cursor, inserted)
                writer.update_records(cursor, updates)
                writer.delete_digests(cursor, [pk for pk, _v, _r in updates])
                writer.insert_digests(cursor, [(pk, r) for pk, _k, r in inserted] + [(pk, r) for pk, _v, r in updates])
                writer.insert_changes(cursor, changes)
                result.inserted += len(inserts)
                result.updated += len(updates)
                if progress is not None:
                    progress(len(batch))
                if pause:
                    time.sleep(pause)
        seq = _delete_keys(locked, stale, seq, actor, result)
        result.last_change = seq if seq >= result.first_change else None
        if result.last_change is None:
            result.first_change = None
            return result
        locked.last_change = seq
        locked.record_count += result.inserted - result.deleted
        locked.records_updated_at = now
        locked.save(update_fields=["last_change", "record_count", "records_updated_at"])
        _announce(actor, resource, "dataset.records_changed", result.counts(), result, via)
    return result


def _existing(locked: Dataset, keys: list[str], *, with_values: bool) -> dict[str, tuple]:
    """The stored records with these keys: key → (pk, fingerprint, version[, values])."""
    columns = ("key", "pk", "fingerprint", "version", *(("values",) if with_values else ()))
    found = Record.objects.filter(dataset=locked, key__in=keys).values_list(*columns)
    return {row[0]: row[1:] for row in found}


MAX_RECIPIENTS = 500


def grant_holders(resource: Resource) -> list[int]:
    """People holding an active grant on the resource, themselves or through their department: they
    are told when its records change (the change feed gives systems the rows themselves)."""
    from django.db.models import Q

    from sharehub.access.models import Grant
    from sharehub.org.models import Membership

    now = timezone.now()
    active = Grant.objects.filter(resource=resource, revoked_at__isnull=True, valid_from__lte=now, valid_until__gt=now)
    people = set(active.exclude(grantee_user=None).values_list("grantee_user_id", flat=True))
    members = Membership.objects.filter(
        Q(department_id__in=active.exclude(grantee_department=None).values("grantee_department_id"))
    ).values_list("user_id", flat=True)
    people.update(members[:MAX_RECIPIENTS])
    return sorted(people)[:MAX_RECIPIENTS]


def _stage(
    actor, locked: Dataset, codec: Codec, current: Record | None, key: str, fingerprint: str, values, *, seq: int, now
) -> tuple[Record, Change]:
    """The record after one change (a new row, or `current` at its next version) and its numbered
    Change, not yet saved."""
    stored = codec.store(key, values)
    subject = codec.subject_of(values)
    if current is None:
        row = Record(dataset=locked, key=key, values=stored, fingerprint=fingerprint, subject=subject, version=1)
        op = Change.Op.INSERT
    else:
        row = current
        row.values, row.fingerprint, row.subject = stored, fingerprint, subject
        row.version += 1
        row.updated_at = now
        op = Change.Op.UPDATE
    change = Change(
        dataset=locked,
        seq=seq,
        op=op,
        key=key,
        values=stored,
        subject=subject,
        version=row.version,
        actor=_person(actor),
    )
    return row, change


def write_one(actor, locked: Dataset, codec: Codec, current: Record, values: dict[str, Any]) -> Change | None:
    """Update one record with its whole new (parsed) values, inside the caller's transaction, which holds
    the lock on `locked` (the dataset row): the record's next version, its digests, its Change and the
    dataset's last change. None when the values equal the stored ones. The caller records the event."""
    fingerprint = codec.fingerprint(values)
    if fingerprint == current.fingerprint:
        return None
    now = timezone.now()
    row, change = _stage(
        actor, locked, codec, current, current.key, fingerprint, values, seq=locked.last_change + 1, now=now
    )
    row.save(update_fields=["values", "fingerprint", "subject", "version", "updated_at"])
    BlindIndex.objects.filter(record=row).delete()
    BlindIndex.objects.bulk_create(
        [BlindIndex(record=row, dataset=locked, field=name, digest=digest) for name, digest in codec.digests(values)]
    )
    change.save()
    locked.last_change = change.seq
    locked.records_updated_at = now
    locked.save(update_fields=["last_change", "records_updated_at"])
    return change


def _with_stored(codec: Codec, key: str, stored: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The row's values, with the stored ones for the fields it leaves out."""
    kept = [f.name for f in codec.fields if f.name not in values]
    return {**codec.reveal(key, stored, kept), **values}


def _announce(actor, resource: Resource, action: str, counts: dict, result: UpsertResult, via: str) -> None:
    record(
        actor,
        action,
        resource,
        departments=[resource.owner_department_id],
        details={
            "code": resource.code,
            "title": resource.title,
            "via": via,
            **counts,
            "changes": [result.first_change, result.last_change],
            "recipients": grant_holders(resource),
        },
    )


def _person(actor):
    return actor if getattr(actor, "pk", None) else None


def delete_by_keys(actor, resource: Resource, keys: Sequence[Any], *, via: str = "api") -> UpsertResult:
    """Delete the records with these keys: each key is an object of the key fields' values, or (for a
    one-field key) the value itself. Unknown keys are reported, not an error."""
    dataset = writable_dataset(actor, resource)
    codec = codec_for(dataset)
    if not isinstance(keys, list | tuple) or not keys:
        raise Invalid(fields={"keys": _("Give a list of record keys.")})
    if len(keys) > MAX_KEYS:
        raise Invalid(fields={"keys": _("At most %(n)s keys at a time.") % {"n": MAX_KEYS}})
    one = codec.key_fields[0].name if len(codec.key_fields) == 1 else None
    as_rows = [k if isinstance(k, dict) else ({one: k} if one else k) for k in keys]
    key_rows = [{f.name: r.get(f.name) if isinstance(r, dict) else None for f in codec.key_fields} for r in as_rows]
    checked = check_rows(_KeyOnly(codec), key_rows)
    if checked.errors:
        raise RowsInvalid(checked)
    digests = [key for _row, key, _values in checked.valid]
    return _delete(actor, resource, dataset, digests, via=via, result=UpsertResult(rows=len(keys)))


class _KeyOnly(Codec):
    """The codec of a dataset narrowed to its key fields (to check the keys of a delete)."""

    def __init__(self, codec: Codec) -> None:
        self.__dict__.update(codec.__dict__)
        self.fields = list(codec.key_fields)
        self.by_name = {f.name: f for f in self.fields}


def delete_all(actor, resource: Resource, *, expected: int, via: str = "api") -> UpsertResult:
    """Replace-all's first half: delete every record, when `expected` is the count the person was shown."""
    dataset = writable_dataset(actor, resource)
    if dataset.record_count != expected:
        raise Conflict(
            _("The dataset holds %(n)s records, not %(expected)s; look again before deleting them all.")
            % {"n": dataset.record_count, "expected": expected},
            fields={"expected": str(dataset.record_count)},
        )
    digests = list(Record.objects.filter(dataset=dataset).values_list("key", flat=True))
    return _delete(
        actor, resource, dataset, digests, via=via, result=UpsertResult(rows=len(digests)), expected=expected
    )


def stale_keys(dataset: Dataset, checked: CheckedRows) -> list[str]:
    """Keys of the records that replacing the dataset with these rows would delete."""
    wanted = {key for _row, key, _values in checked.valid}
    return [k for k in Record.objects.filter(dataset=dataset).values_list("key", flat=True) if k not in wanted]


def _delete_keys(locked: Dataset, digests: Sequence[str], seq: int, actor, result: UpsertResult) -> int:
    """Delete the records with these key digests, one numbered change each; returns the last number."""
    for start in range(0, len(digests), BATCH):
        batch = digests[start : start + BATCH]
        found = list(
            Record.objects.filter(dataset=locked, key__in=batch).values_list("pk", "key", "version", "subject")
        )
        changes = []
        for _pk, key, version, subject in found:
            seq += 1
            changes.append(
                Change(
                    dataset=locked,
                    seq=seq,
                    op=Change.Op.DELETE,
                    key=key,
                    values={},
                    subject=subject,
                    version=version + 1,
                    actor=_person(actor),
                )
            )
        Record.objects.filter(pk__in=[pk for pk, *_rest in found]).delete()
        Change.objects.bulk_create(changes)
        result.deleted += len(found)
        result.not_found += len(batch) - len(found)
    return seq


def _delete(actor, resource, dataset, digests, *, via, result: UpsertResult, expected: int | None = None):
    with transaction.atomic():
        locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
        if expected is not None and locked.record_count != expected:
            raise Conflict(_("The records changed meanwhile; look again before deleting them all."))
        result.first_change = locked.last_change + 1
        seq = _delete_keys(locked, digests, locked.last_change, actor, result)
        if not result.deleted:
            result.first_change = None
            return result
        result.last_change = seq
        locked.last_change = seq
        locked.record_count -= result.deleted
        locked.records_updated_at = timezone.now()
        locked.save(update_fields=["last_change", "record_count", "records_updated_at"])
        _announce(actor, resource, "dataset.records_deleted", result.counts(), result, via)
    return result
