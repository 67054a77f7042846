"""`sharehub records import` killed with kill -9 while it writes: the dataset holds exactly the records it held
before (none of the file's), the change numbers have no gaps, and running the import again completes it.
Runs the real script against its own database (a file on SQLite, a scratch database on PostgreSQL)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import random
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

from sharehub.exchange import crypto, services
from sharehub.exchange.types import FieldType, make_resident_id, parse
from tests.cli.conftest import console_script
from tests.exchange.conftest import ROOT
from tests.exchange.world import found_in

FIELDS = [
    {"name": "code", "type": "text", "sensitivity": "public", "required": True},
    {"name": "name", "type": "text", "sensitivity": "internal"},
    {"name": "resident", "type": "resident_id", "sensitivity": "sensitive", "masking": "partial"},
    {"name": "note", "type": "text", "sensitivity": "secret"},
]
# Run by `python -c`: migrates, makes a department, its steward and a dataset with FIELDS; prints its code.
SETUP = f"""
import django; django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from sharehub.exchange import schema
from tests import factories
tax = factories.department("税务局", "SWJ")
steward = factories.member(tax, "steward", username="steward")
resource = factories.resource(tax, by=steward, kind="dataset", sharing_type="conditional", title="导入")
schema.change_dataset(steward, resource, {FIELDS!r}, key_fields=["code"])
print(resource.code)
"""
ROWS = 6000  # 12 batches
BEFORE = 40  # records already there, which the big file updates


def resident(i: int) -> str:
    return make_resident_id(random.Random(i))


def write_csv(path, count: int, tag: str) -> None:
    lines = ["code,name,resident,note"]
    lines += [f"C{i:06d},{tag}名称{i},{resident(i)},{tag}备注{i}" for i in range(count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def snapshot(scratch) -> dict:
    """What the database holds: records (decrypted), the change numbers and the dataset's counters."""
    (dataset_id, last_change, record_count), *_ = scratch.query(
        "SELECT resource_id, last_change, record_count FROM exchange_dataset"
    )
    ring = crypto.keyring()
    records = {}
    for key, values in scratch.query('SELECT key, "values" FROM exchange_record'):
        values = json.loads(values) if isinstance(values, str) else values
        records[key] = {
            name: json.loads(ring.decrypt(v, aad=crypto.aad_for(dataset_id, key, name))) if ring.is_token(v) else v
            for name, v in values.items()
        }
    seqs = [row[0] for row in scratch.query("SELECT seq FROM exchange_change ORDER BY seq")]
    return {"records": records, "seqs": seqs, "last_change": last_change, "record_count": record_count}


def assert_consistent(state: dict) -> None:
    assert state["seqs"] == list(range(1, state["last_change"] + 1))  # no gaps, none twice
    assert state["record_count"] == len(state["records"])


def run_until_writing(script, code, path, env) -> tuple[subprocess.Popen, str]:
    """Start an import on a terminal (so it shows its progress bar) and return once it has written a batch."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a bar needs a width
    running = subprocess.Popen(
        [script, "records", "import", code, str(path)], env=env, cwd=ROOT, stdout=follower, stderr=follower
    )
    os.close(follower)
    seen, deadline = "", time.monotonic() + 120
    written = 0
    while time.monotonic() < deadline and running.poll() is None:
        ready, _w, _x = select.select([leader], [], [], 0.2)
        if ready:
            try:
                seen += os.read(leader, 65536).decode("utf-8", errors="replace")
            except OSError:
                break
        counts = [int(n) for n in re.findall(r"[Ww]riting:.*?(\d+)/\d+", seen)]
        written = max(counts, default=0)
        if services.BATCH <= written < ROWS:
            break
    os.close(leader)
    return running, f"written {written}; output: {seen[-500:]!r}"


def test_kill_9_while_importing_leaves_the_records_as_they_were(scratch, tmp_path, data_dir):
    env = {**scratch.environ, "DJANGO_SETTINGS_MODULE": "sharehub.settings"}
    made = subprocess.run([sys.executable, "-c", SETUP], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    code = made.stdout.strip().splitlines()[-1]
    crypto.reset_keyring()  # the key file the setup wrote into the data directory
    script = console_script()

    first = tmp_path / "first.csv"
    write_csv(first, BEFORE, "旧")
    done = subprocess.run(
        [script, "records", "import", code, str(first)], env=scratch.environ, cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    before = snapshot(scratch)
    assert len(before["records"]) == BEFORE and before["last_change"] == BEFORE
    assert_consistent(before)

    big = tmp_path / "big.csv"
    write_csv(big, ROWS, "新")
    slow = {**scratch.environ, services.PAUSE_ENV: "0.3"}
    running, where = run_until_writing(script, code, big, slow)
    assert running.poll() is None, f"the import ended before it could be killed ({where})"
    os.kill(running.pid, signal.SIGKILL)
    running.wait(10)
    assert running.returncode == -signal.SIGKILL, where

    after = snapshot(scratch)
    assert after == before, where  # the old records, unchanged; not one of the file's
    assert_consistent(after)

    rerun = subprocess.run(
        [script, "records", "import", code, str(big)], env=scratch.environ, cwd=ROOT, capture_output=True, text=True
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"{ROWS - BEFORE} inserted, {BEFORE} updated, 0 unchanged" in rerun.stdout
    final = snapshot(scratch)
    assert_consistent(final)
    assert final["last_change"] == BEFORE + ROWS
    assert len(final["records"]) == ROWS
    assert {r["code"]: r["note"] for r in final["records"].values()} == {f"C{i:06d}": f"新备注{i}" for i in range(ROWS)}
    assert {r["resident"] for r in final["records"].values()} == {resident(i) for i in range(ROWS)}

    # the database file (and its WAL) or a pg_dump of it holds none of the sensitive or secret plaintexts
    if scratch.environ.get("DATABASE_URL"):
        dumped = subprocess.run(["pg_dump", scratch.environ["DATABASE_URL"]], capture_output=True, timeout=120)
        assert dumped.returncode == 0, dumped.stderr
        raw = dumped.stdout
    else:
        files = [data_dir / "sharehub.sqlite3", data_dir / "sharehub.sqlite3-wal"]
        raw = b"".join(f.read_bytes() for f in files if f.exists())
    assert b"C000123" in raw  # a public value: the bytes are searchable
    plain = [resident(i) for i in range(0, ROWS, 7)] + [f"新备注{i}" for i in range(0, ROWS, 7)]
    assert found_in(raw, plain) == []


def test_the_files_resident_ids_are_valid():
    assert all(parse(FieldType.RESIDENT_ID, resident(i)) == resident(i) for i in range(0, ROWS, 97))
