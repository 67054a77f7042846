"""Re-encrypting stored values under the active key (sharehub.exchange.rotation) and `sharehub keys rotate`."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from sharehub.exchange import crypto, rotation, tasks
from sharehub.exchange.models import Change, Correction, Dataset, KeyRotation, Record
from tests.cli.conftest import console_script
from tests.exchange.helpers import SEED, add_correction, add_record, make_dataset, plain_row, seal, unseal

ROOT = Path(__file__).resolve().parents[2]


def kids_of(values: dict) -> set[str]:
    return {crypto.keyring().kid_of(v) for v in values.values() if crypto.Keyring.is_token(v)}


def stored_kids() -> set[str]:
    kids: set[str] = set()
    for model in (Record, Change):
        for values in model.objects.values_list("values", flat=True):
            kids |= kids_of(values)
    for proposed in Correction.objects.values_list("proposed", flat=True):
        if crypto.Keyring.is_token(proposed):
            kids.add(crypto.keyring().kid_of(proposed))
    return kids


def plaintexts() -> dict:
    """Every stored value decrypted, by table, row and field."""
    out = {}
    for model in (Record, Change):
        for row in model.objects.order_by("pk"):
            out[(model.__name__, row.pk)] = unseal(row.dataset_id, row.key, row.values)
    ring = crypto.keyring()
    for row in Correction.objects.order_by("pk"):
        value = row.proposed
        if ring.is_token(value):
            value = ring.decrypt(value, aad=crypto.aad_for(row.dataset_id, row.record_key, row.field))
        out[("Correction", row.pk)] = value
    return out


@pytest.fixture
def stored(db):
    """Two datasets, 23 records with their insert changes and three corrections, all under k1: 95 values."""
    first, second = make_dataset(), make_dataset()
    for i in range(23):
        add_record(first if i % 3 else second, f"R{i:03d}", plain_row(i))
    add_correction(first, "R001", "id_number", "110101199003070019")
    add_correction(first, "R001", "phone", "13900000000")
    add_correction(first, "R002", "name", 'plain "ev1.k1. lookalike')  # a public field: not a token
    return 23 * 2 * 2 + 2


def test_rotation_to_completion(stored):
    before = plaintexts()
    versions = dict(Record.objects.values_list("pk", "updated_at"))
    assert crypto.new_key() == "k2"
    assert rotation.values_using("k1") == stored and rotation.values_using("k2") == 0
    with pytest.raises(crypto.KeyringError, match=f"{stored} of them"):
        crypto.retire("k1", in_use=rotation.values_using)

    calls: list[tuple[int, int]] = []
    result = rotation.rotate(lambda done, total: calls.append((done, total)), batch=7)

    assert result.finished and not result.resumed and result.target_key == "k2"
    assert result.rewritten == result.total_rewritten == stored
    assert calls[0] == (0, stored) and calls[-1] == (stored, stored)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert stored_kids() == {"k2"}
    assert plaintexts() == before
    assert dict(Record.objects.values_list("pk", "updated_at")) == versions  # no content changed
    assert rotation.values_using("k1") == 0 and rotation.values_using("k2") == stored
    assert KeyRotation.objects.get().finished_at is not None

    assert crypto.retire("k1", in_use=rotation.values_using)
    assert plaintexts() == before  # readable without k1
    again = rotation.rotate(batch=7)
    assert again.finished and again.rewritten == 0
    assert KeyRotation.objects.count() == 1  # nothing to do leaves no trace


def test_values_using_counts_tokens_not_lookalikes(stored):
    dataset = Dataset.objects.first()
    Record.objects.create(dataset=dataset, key="odd", values={"name": '"ev1.k1.x.y" is text'}, fingerprint="-")
    assert rotation.values_using("k1") == stored
    assert rotation.values_using("k9") == 0


def test_a_stopped_run_resumes_where_it_stopped(stored):
    before = plaintexts()
    crypto.new_key()
    batches = []

    def stop_after_three(done: int, total: int) -> None:
        batches.append(done)
        if len(batches) == 4:  # the first call reports the start, then one per committed batch
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rotation.rotate(stop_after_three, batch=5)
    half = KeyRotation.objects.get()
    assert half.finished_at is None and half.last_record > 0 and 0 < half.rewritten < stored
    assert rotation.values_using("k1") == stored - half.rewritten

    result = rotation.rotate(batch=5)
    assert result.resumed and result.finished
    assert result.rewritten == stored - half.rewritten and result.total_rewritten == stored
    assert KeyRotation.objects.count() == 1
    assert stored_kids() == {"k2"} and plaintexts() == before


def test_a_new_active_key_starts_a_new_rotation(stored):
    before = plaintexts()
    crypto.new_key()
    rotation.rotate(batch=50)
    crypto.new_key()
    result = rotation.rotate(batch=50)
    assert result.target_key == "k3" and not result.resumed and result.rewritten == stored
    assert list(KeyRotation.objects.order_by("pk").values_list("target_key", flat=True)) == ["k2", "k3"]
    assert stored_kids() == {"k3"} and plaintexts() == before


def test_an_undecryptable_value_stops_the_batch_and_says_where(stored):
    crypto.new_key()
    record = Record.objects.order_by("pk").first()
    other = Record.objects.exclude(dataset=record.dataset_id).first()
    record.values = {**record.values, "phone": other.values["phone"]}  # a token copied from another record
    record.save()
    with pytest.raises(rotation.RotationError, match=f"phone of record {record.pk}"):
        rotation.rotate(batch=100)
    assert KeyRotation.objects.get().rewritten == 0  # the batch with the bad value was not written


def test_a_write_between_finding_and_rewriting_a_row_is_kept(stored, monkeypatch):
    """A writer that commits after the batch found its rows but before it locked them: the batch re-reads them
    under the lock, so the written value is what ends up re-encrypted (here the writer used the old key)."""
    target = Record.objects.order_by("pk").first()
    fresh_plain = {"name": "李四", "id_number": "110101198001010011", "phone": "13700000000"}
    stale_writer_values = seal(target.dataset_id, target.key, fresh_plain)  # under k1, still active here
    crypto.new_key()
    real_lock = rotation._lock_datasets
    written = []

    def writer_then_lock(ids):
        if not written:
            Record.objects.filter(pk=target.pk).update(values=stale_writer_values, version=2)
            written.append(True)
        return real_lock(ids)

    monkeypatch.setattr(rotation, "_lock_datasets", writer_then_lock)
    rotation.rotate(batch=100)
    target.refresh_from_db()
    assert kids_of(target.values) == {"k2"}
    assert unseal(target.dataset_id, target.key, target.values) == fresh_plain


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="on SQLite a batch takes the write lock at BEGIN (IMMEDIATE), so a writer cannot interleave; the "
    "deterministic test above covers the re-read",
)
def test_a_concurrent_import_holding_the_dataset_is_not_overwritten():
    dataset = make_dataset()
    for i in range(5):
        add_record(dataset, f"R{i}", plain_row(i))
    crypto.new_key()
    target = Record.objects.order_by("pk").first()
    fresh_plain = {"name": "王五", "id_number": "110101198001010022", "phone": "13600000000"}
    locked, release, errors = threading.Event(), threading.Event(), []

    def importer():
        try:
            with transaction.atomic():
                Dataset.objects.select_for_update().get(pk=dataset.pk)  # what record writers lock
                locked.set()
                release.wait(5)
                Record.objects.filter(pk=target.pk).update(values=seal(dataset.pk, target.key, fresh_plain))
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    results = []

    def rotator():
        try:
            results.append(rotation.rotate(batch=100))
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    first = threading.Thread(target=importer)
    first.start()
    assert locked.wait(5)
    second = threading.Thread(target=rotator)
    second.start()
    time.sleep(0.5)  # the rotation found its rows and now waits for the dataset
    assert second.is_alive()
    release.set()
    first.join(10)
    second.join(10)
    assert not errors
    target.refresh_from_db()
    assert unseal(dataset.pk, target.key, target.values) == fresh_plain
    assert rotation.values_using("k1") == 0 and results[0].finished


# `sharehub keys rotate`, `keys status` and the worker -----------------------------------------------------


def run_keys(*args: str) -> str:
    out = io.StringIO()
    call_command("keys", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_keys_rotate_command(stored):
    crypto.new_key()
    status = run_keys("status")
    assert "stored values" in status
    assert any(line.split()[:1] == ["k1"] and line.split()[-1] == str(stored) for line in status.splitlines())
    out = run_keys("rotate", "--batch", "4")
    assert f"Re-encrypted {stored} values with key k2." in out
    assert "k1 is no longer used; `sharehub keys retire k1` removes it" in out
    assert "Retired key k1" in run_keys("retire", "k1")
    status = run_keys("status")
    assert any(line.split()[:1] == ["k2"] and line.split()[-1] == str(stored) for line in status.splitlines())


def test_keys_new_rotate_queues_the_rotation_for_the_worker(stored):
    from sharehub import worker

    assert worker._periodic["key rotation"] is tasks.rotate_queued
    before = plaintexts()
    assert not rotation.pending()
    out = run_keys("new", "--rotate")
    assert "Queued" in out and out.strip().splitlines()[-1] == "k2"
    assert rotation.pending()
    assert tasks.rotate_queued() == stored
    assert not rotation.pending() and tasks.rotate_queued() == 0
    assert stored_kids() == {"k2"} and plaintexts() == before


# A run killed with kill -9 ---------------------------------------------------------------------------------


def test_kill_9_mid_rotation_then_rerun_completes(scratch, tmp_path):
    import json

    count = 300
    seeded = subprocess.run(
        [sys.executable, "-c", SEED, str(count)],
        env={**scratch.environ, "DJANGO_SETTINGS_MODULE": "sharehub.settings"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert seeded.returncode == 0, seeded.stderr
    total = count * 2 * 2  # two encrypted fields in each record and in its change
    crypto.reset_keyring()
    assert crypto.new_key() == "k2"

    script = console_script()
    slow = {**scratch.environ, rotation.PAUSE_ENV: "0.1"}
    running = subprocess.Popen(
        [script, "keys", "rotate", "--batch", "10"], env=slow, cwd=tmp_path, stdout=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    done = 0
    while time.monotonic() < deadline and running.poll() is None:
        rows = scratch.query("SELECT rewritten FROM exchange_keyrotation")
        done = rows[0][0] if rows else 0
        if done >= total // 4:
            break
        time.sleep(0.05)
    assert running.poll() is None, "the rotation ended before it could be killed"
    os.kill(running.pid, signal.SIGKILL)
    running.wait(10)
    assert running.returncode == -signal.SIGKILL
    (stopped,) = scratch.query("SELECT rewritten, finished_at FROM exchange_keyrotation")
    assert 0 < stopped[0] < total and stopped[1] is None

    rerun = subprocess.run(
        [script, "keys", "rotate", "--batch", "10"],
        env=scratch.environ,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"Re-encrypted {total - stopped[0]} values with key k2." in rerun.stdout
    assert "k1 is no longer used" in rerun.stdout
    (finished,) = scratch.query("SELECT rewritten, finished_at FROM exchange_keyrotation")
    assert finished[0] == total and finished[1] is not None  # every value once: none lost, none twice

    ring = crypto.keyring()
    for table in ("exchange_record", "exchange_change"):
        rows = scratch.query(f'SELECT dataset_id, key, "values" FROM {table}')
        assert len(rows) == count
        for dataset_id, key, values in rows:
            values = json.loads(values) if isinstance(values, str) else values
            assert {ring.kid_of(values[f]) for f in ("id_number", "phone")} == {"k2"}
            decrypted = unseal(dataset_id, key, values)
            assert decrypted == plain_row(int(key[1:]))
