"""Re-encrypting stored values under the active field key, so that an old key can be retired.

Encrypted values live in three places: `Record.values` and `Change.values` (JSON dicts whose sensitive and
secret fields are tokens) and `Correction.proposed` (a whole token when the field is encrypted). A token
names its key (`ev1.<kid>.…`), so the rows that may hold a key's values are found with a LIKE on the JSON
text, portable between SQLite and PostgreSQL, and the values are then counted or rewritten in Python
(a LIKE alone could also match a plain value that merely contains such text).

`rotate()` works in batches, each one short transaction that rewrites up to `batch` rows and advances the
`KeyRotation` row of the target key, so a run stopped at any point (Ctrl-C, kill -9) resumes at the next
row. A batch locks the datasets of its rows first (`Dataset.select_for_update`, which every record writer
takes too) and only then reads the values it rewrites: a concurrent import either committed before, and
its values are the ones re-encrypted, or waits until the batch committed. Correction rows are rewritten
only if their proposed value is still the one read. Values keep their record's version and update time:
re-encryption changes no content.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from sharehub.exchange import crypto
from sharehub.exchange.crypto import Keyring
from sharehub.exchange.models import Change, Correction, Dataset, KeyRotation, Record

# Test hook: seconds to sleep after each committed batch, so a test can kill a run half-way.
PAUSE_ENV = "SHAREHUB_TEST_ROTATION_PAUSE"


@dataclass(frozen=True)
class RotationResult:
    target_key: str
    rewritten: int  # values re-encrypted by this run
    total_rewritten: int  # by every run towards this key, the stopped ones included
    finished: bool
    resumed: bool


# Counting ----------------------------------------------------------------------------------------------------


def _marker(kid: str) -> str:
    return f"{crypto.TOKEN_VERSION}.{kid}."


def _json_rows(model: type[models.Model], kids: Iterable[str]) -> models.QuerySet:
    """Rows of `model` whose JSON values may hold a token of one of `kids`."""
    condition = Q()
    for kid in kids:
        condition |= Q(values_text__contains=f'"{_marker(kid)}')
    return model.objects.annotate(values_text=Cast("values", models.TextField())).filter(condition)


def _correction_rows(kids: Iterable[str]) -> models.QuerySet:
    condition = Q()
    for kid in kids:
        condition |= Q(proposed__startswith=_marker(kid))
    return Correction.objects.filter(condition)


def _kid(value: object) -> str | None:
    return value.split(".", 2)[1] if Keyring.is_token(value) else None


def _kids_in(values: object) -> Iterator[str]:
    if isinstance(values, dict):
        for value in values.values():
            kid = _kid(value)
            if kid is not None:
                yield kid


def values_using(kid: str) -> int:
    """How many stored values (record values, change values, proposed corrections) key `kid` encrypts.

    Exact: it reads every row that may hold one, so it takes a while on a large database (it is asked before a
    key is retired, and by `keys status`)."""
    count = 0
    for model in (Record, Change):
        for values in _json_rows(model, [kid]).values_list("values", flat=True).iterator(chunk_size=2000):
            count += sum(1 for found in _kids_in(values) if found == kid)
    for proposed in _correction_rows([kid]).values_list("proposed", flat=True).iterator(chunk_size=2000):
        count += _kid(proposed) == kid
    return count


def _old_values(ring: Keyring, target: str) -> int:
    """How many stored values a key other than `target` that this keyring holds encrypts."""
    old = [kid for kid in ring.kids if kid != target]
    if not old:
        return 0
    count = 0
    for model in (Record, Change):
        for values in _json_rows(model, old).values_list("values", flat=True).iterator(chunk_size=2000):
            count += sum(1 for found in _kids_in(values) if found in old)
    for proposed in _correction_rows(old).values_list("proposed", flat=True).iterator(chunk_size=2000):
        count += _kid(proposed) in old
    return count


# Rewriting ---------------------------------------------------------------------------------------------------


class RotationError(crypto.KeyringError):
    """A stored value cannot be re-encrypted; the message says where, and the batch it was in is not written."""


def _reencrypt(ring: Keyring, token: str, dataset_id: int, key: str, field: str, where: str) -> str:
    aad = crypto.aad_for(dataset_id, key, field)
    try:
        return ring.encrypt(ring.decrypt(token, aad=aad), aad=aad)
    except crypto.DecryptionError as error:
        raise RotationError(
            _("Field %(field)s of %(where)s in dataset %(dataset)s: %(reason)s")
            % {"field": field, "where": where, "dataset": dataset_id, "reason": error}
        ) from None


def _rewrite_values(ring: Keyring, old: set[str], row: Record | Change) -> int:
    where = _("record %(pk)s") % {"pk": row.pk} if isinstance(row, Record) else _("change %(pk)s") % {"pk": row.pk}
    changed = dict(row.values)
    count = 0
    for field, value in row.values.items():
        if _kid(value) in old:
            changed[field] = _reencrypt(ring, value, row.dataset_id, row.key, field, where)
            count += 1
    row.values = changed
    return count


def _lock_datasets(ids: Iterable[int]) -> None:
    """Take the lock every record writer takes, in pk order (so two lockers of several never deadlock)."""
    list(Dataset.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk").values_list("pk", flat=True))


def _json_batch(
    model: type[Record] | type[Change], ring: Keyring, old: set[str], after: int, batch: int
) -> tuple[int, int] | None:
    """Rewrite the next `batch` candidate rows after pk `after`; (last pk visited, values rewritten), or None."""
    found = list(_json_rows(model, old).filter(pk__gt=after).order_by("pk").values_list("pk", "dataset_id")[:batch])
    if not found:
        return None
    _lock_datasets(dataset_id for _pk, dataset_id in found)
    fresh = model.objects.select_for_update().filter(pk__in=[pk for pk, _ in found]).order_by("pk")
    rows, count = [], 0
    for row in fresh.only("pk", "dataset_id", "key", "values"):
        if not isinstance(row.values, dict):
            continue
        rewritten = _rewrite_values(ring, old, row)
        if rewritten:
            rows.append(row)
            count += rewritten
    if rows:
        model.objects.bulk_update(rows, ["values"])
    return found[-1][0], count


def _correction_batch(ring: Keyring, old: set[str], after: int, batch: int) -> tuple[int, int] | None:
    found = list(
        _correction_rows(old)
        .filter(pk__gt=after)
        .order_by("pk")
        .values_list("pk", "dataset_id", "record_key", "field", "proposed")[:batch]
    )
    if not found:
        return None
    count = 0
    for pk, dataset_id, record_key, field, proposed in found:
        if _kid(proposed) not in old:
            continue
        where = _("correction %(pk)s") % {"pk": pk}
        fresh = _reencrypt(ring, proposed, dataset_id, record_key, field, where)
        # rewritten only if nobody changed the proposal since it was read
        count += Correction.objects.filter(pk=pk, proposed=proposed).update(proposed=fresh)
    return found[-1][0], count


def _batch(rotation_pk: int, ring: Keyring, batch: int) -> tuple[int, bool]:
    """One transaction: the next batch of the first table not yet done. Returns (values rewritten, finished)."""
    old = {kid for kid in ring.kids if kid != ring.active_kid}
    with transaction.atomic():
        rotation = KeyRotation.objects.select_for_update().get(pk=rotation_pk)
        if rotation.finished_at is not None:
            return 0, True
        steps = (
            ("last_record", lambda after: _json_batch(Record, ring, old, after, batch)),
            ("last_change", lambda after: _json_batch(Change, ring, old, after, batch)),
            ("last_correction", lambda after: _correction_batch(ring, old, after, batch)),
        )
        for cursor, step in steps:
            done = step(getattr(rotation, cursor)) if old else None
            if done is not None:
                last, count = done
                setattr(rotation, cursor, last)
                rotation.rewritten += count
                rotation.save(update_fields=[cursor, "rewritten"])
                return count, False
        rotation.finished_at = timezone.now()
        rotation.save(update_fields=["finished_at"])
        return 0, True


def _current(target: str) -> tuple[KeyRotation, bool]:
    """The unfinished rotation towards `target` to resume, or a new one."""
    rotation = KeyRotation.objects.filter(target_key=target, finished_at__isnull=True).order_by("-pk").first()
    if rotation is not None:
        return rotation, True
    return KeyRotation.objects.create(target_key=target), False


def queue() -> KeyRotation:
    """Ask the background worker to re-encrypt the stored values under the active key (`keys new --rotate`)."""
    return _current(crypto.keyring().active_kid)[0]


def pending() -> bool:
    """Whether a rotation towards the active key waits to be finished."""
    rows = KeyRotation.objects.filter(finished_at__isnull=True).values_list("target_key", flat=True)
    targets = set(rows)
    return bool(targets) and crypto.keyring().active_kid in targets


def rotate(
    progress: Callable[[int, int], None] | None = None, batch: int = 500, *, seconds: float | None = None
) -> RotationResult:
    """Re-encrypt every stored value that a key other than the active one encrypts, resuming a stopped run.

    progress(done, total) is called after each batch, in values; `seconds` ends the run after the batch that
    passes that time (the background worker works in slices), and an unfinished run resumes next time.
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    ring = crypto.keyring()
    target = ring.active_kid
    remaining = _old_values(ring, target)
    if not remaining and not KeyRotation.objects.filter(target_key=target, finished_at__isnull=True).exists():
        if progress:
            progress(0, 0)
        return RotationResult(target_key=target, rewritten=0, total_rewritten=0, finished=True, resumed=False)
    rotation, resumed = _current(target)
    done = rotation.rewritten
    total = done + remaining
    if progress:
        progress(done, total)
    pause = float(os.environ.get(PAUSE_ENV) or 0)
    started = time.monotonic()
    rewritten, finished = 0, False
    while True:
        if crypto.keyring().active_kid != target:
            raise crypto.KeyringError(
                _("The active key changed from %(old)s to %(new)s while re-encrypting; run the rotation again.")
                % {"old": target, "new": crypto.keyring().active_kid}
            )
        count, finished = _batch(rotation.pk, ring, batch)
        rewritten += count
        done += count
        if progress:
            progress(min(done, total), max(done, total))
        if finished:
            break
        if pause:
            time.sleep(pause)
        if seconds is not None and time.monotonic() - started >= seconds:
            break
    rotation.refresh_from_db(fields=["rewritten"])
    return RotationResult(
        target_key=target,
        rewritten=rewritten,
        total_rewritten=rotation.rewritten,
        finished=finished,
        resumed=resumed,
    )
