"""`sharehub backup` and `sharehub restore` (README "Backup and restore"), as an operator runs them.

Every command is the real `sharehub` console script in a subprocess, each installation in a data directory
of its own and, when the tests run with DATABASE_URL (PostgreSQL), a database of its own named after the
test run's (`<name>_backup`, `<name>_restore`, ...), created here and dropped at the end. Writes under load
come from a second process, tests/ops/load.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.cli.conftest import console_script

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL", "")
POSTGRES = DATABASE_URL.startswith(("postgres://", "postgresql://"))
KEYS_ENV = ("SHAREHUB_FIELD_KEYS", "SHAREHUB_BLIND_INDEX_KEY", "SECRET_KEY")
TIMEOUT = 300


def _admin(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def _recreate(name: str, *, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(_admin(DATABASE_URL), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


@dataclass
class Site:
    """One installation: a data directory and, on PostgreSQL, a database."""

    data_dir: Path
    env: dict[str, str]
    database: str = ""

    def run(self, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [console_script(), *args],
            env={**self.env, **(env or {})},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        if check:
            assert result.returncode == 0, f"sharehub {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result

    def load(self, *args: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "-m", "tests.ops.load", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result

    def dump(self, out: Path) -> dict:
        self.load("dump", str(out))
        return json.loads(out.read_text())

    def blobs(self) -> dict[str, Path]:
        return {path.name: path for path in (self.data_dir / "blobs").glob("??/??/*")}

    def is_empty(self) -> bool:
        """No database tables, no blob, no field-key file: what a refused restore must leave."""
        if self.blobs() or (self.data_dir / "field-keys.json").exists():
            return False
        if POSTGRES:
            import psycopg

            url = urlunsplit(urlsplit(DATABASE_URL)._replace(path=f"/{self.database}"))
            with psycopg.connect(url) as conn:
                count = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0]
            return count == 0
        database = self.data_dir / "sharehub.sqlite3"
        return not database.exists() or database.stat().st_size == 0


@pytest.fixture(scope="module")
def new_site(tmp_path_factory):
    """new_site(name, postgres=POSTGRES): a fresh installation; its database is dropped at the end."""
    made: list[str] = []
    base = urlsplit(DATABASE_URL).path.lstrip("/") or "sharehub" if POSTGRES else ""

    def make(name: str, *, postgres: bool = POSTGRES) -> Site:
        env = {k: v for k, v in os.environ.items() if k not in (*KEYS_ENV, "DJANGO_SETTINGS_MODULE")}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        data_dir = tmp_path_factory.mktemp(name) / "data"
        env.update(SHAREHUB_DATA_DIR=str(data_dir), SHAREHUB_LANGUAGE="en", PYTHONPATH=str(ROOT))
        env.pop("DATABASE_URL", None)
        database = ""
        if postgres:
            database = f"{base}_{name}"
            _recreate(database)
            made.append(database)
            env["DATABASE_URL"] = urlunsplit(urlsplit(DATABASE_URL)._replace(path=f"/{database}"))
        return Site(data_dir, env, database)

    yield make
    for database in made:
        _recreate(database, drop_only=True)


@pytest.fixture(scope="module")
def seeded(new_site):
    """An installation with people, resources with files, and a dataset with encrypted fields (not changed by
    the tests that use it)."""
    site = new_site("backup")
    site.run("migrate", "--verbosity", "0")
    site.load("seed")
    site.run("audit", "key")  # makes the audit signing key, as the first signed export would
    return site


@pytest.fixture(scope="module")
def good_backup(seeded, tmp_path_factory) -> Path:
    """A backup of `seeded`, copied (not hard-linked), so that tests may change its files."""
    path = tmp_path_factory.mktemp("good") / "backup"
    seeded.run("backup", str(path), "--copy")
    return path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _states(path: Path) -> tuple[int, list[tuple[int, dict]]]:
    """The writer's states, each rebuilt whole from the changes it recorded."""
    recorded = json.loads(path.read_text())
    state: dict = {}
    states = []
    for item in recorded["states"]:
        state = {**state, **item["changed"]}
        states.append((item["seq"], state))
    return recorded["writes"], states


def _differences(expected: dict, found: dict) -> list[str]:
    lines = []
    for table in sorted(set(expected) | set(found)):
        want, got = expected.get(table, {}), found.get(table, {})
        for pk in sorted(set(want) | set(got)):
            if want.get(pk) != got.get(pk):
                what = "missing" if pk not in got else "unexpected" if pk not in want else "different"
                lines.append(f"{table} pk={pk}: {what}")
    return lines


def test_backup_under_write_load_restores_every_row_of_its_snapshot(new_site, tmp_path):
    source = new_site("loaded")
    source.run("migrate", "--verbosity", "0")
    source.load("seed")
    signing_key = source.run("audit", "key").stdout
    states_file, stop, ready = tmp_path / "states.json", tmp_path / "stop", tmp_path / "ready"
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.ops.load", "write", str(states_file), str(stop), str(ready)],
        env=source.env,
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not ready.exists():
            assert writer.poll() is None, writer.stderr.read()
            assert time.monotonic() < deadline, "the writer did not start"
            time.sleep(0.05)
        time.sleep(1.0)  # some writes before the backup starts
        backup = source.run("backup", str(tmp_path / "backup"), "--copy")
        time.sleep(1.0)  # and some after it ends
    finally:
        stop.touch()
        _out, errors = writer.communicate(timeout=TIMEOUT)
    assert writer.returncode == 0, errors
    assert backup.stdout.startswith("Backup written to "), backup.stdout

    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    snapshot = manifest["snapshot"]["event_seq"]
    writes, states = _states(states_file)
    assert states[0][0] < snapshot < states[-1][0], "the writer wrote before and after the backup's snapshot"
    assert writes >= 4

    target = new_site("restore")
    restore = target.run("restore", str(tmp_path / "backup"))
    assert f"audit chain intact: {snapshot} events" in restore.stdout
    assert "Restored " in restore.stdout
    verify = target.run("audit", "verify")
    assert verify.stdout.strip() == f"audit chain intact: {snapshot} events"

    # Every row of every table, exactly as committed at the snapshot: no later write, no half of one.
    restored = target.dump(tmp_path / "restored.json")
    assert restored["seq"] == snapshot
    candidates = [state for seq, state in states if seq == snapshot]
    assert candidates, f"the writer saw no state with the chain at #{snapshot}"
    if not any(state == restored["tables"] for state in candidates):
        differences = min((_differences(state, restored["tables"]) for state in candidates), key=len)
        pytest.fail("the restored rows differ from the snapshot's:\n" + "\n".join(differences[:20]))
    assert len(restored["tables"]["exchange_record"]) >= 300
    assert restored["decrypted"] == len(restored["tables"]["exchange_record"]), "restored keys decrypt every record"

    # Every file a restored row names is there, with the content of the source's file of that name.
    restored_blobs, source_blobs = target.blobs(), source.blobs()
    assert restored["blobs"] and set(restored["blobs"]) <= set(restored_blobs)
    for name, path in restored_blobs.items():
        assert _sha256(path) == name == _sha256(source_blobs[name])
    secret = Path("keys") / "django-secret-key"
    assert (target.data_dir / secret).read_bytes() == (source.data_dir / secret).read_bytes()
    assert (target.data_dir / "field-keys.json").read_bytes() == (source.data_dir / "field-keys.json").read_bytes()
    assert stat.S_IMODE((target.data_dir / "field-keys.json").stat().st_mode) == 0o600
    assert target.run("audit", "key").stdout == signing_key  # exports signed before and after match


def test_the_manifest_lists_every_file_with_its_checksum(seeded, good_backup):
    manifest = json.loads((good_backup / "manifest.json").read_text())
    assert manifest["format"] == 1
    assert manifest["sharehub_version"]
    assert manifest["database"]["vendor"] == ("postgresql" if POSTGRES else "sqlite")
    assert manifest["created_at"].endswith("+00:00")
    assert "events.0001_initial" in manifest["migrations"]
    assert manifest["missing_files"] == []
    listed = {item["path"]: item for item in manifest["files"]}
    on_disk = {str(path.relative_to(good_backup)) for path in good_backup.rglob("*") if path.is_file()} - {
        "manifest.json"
    }
    assert set(listed) == on_disk
    for name, item in listed.items():
        assert (good_backup / name).stat().st_size == item["size"]
        assert _sha256(good_backup / name) == item["sha256"]
    assert {"keys/django-secret-key", "keys/field-keys.json", "keys/audit-signing-key"} <= set(listed)
    assert {name.rsplit("/", 1)[1] for name in listed if name.startswith("blobs/")} == set(seeded.blobs())
    for key in (good_backup / "keys").iterdir():
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(good_backup.stat().st_mode) == 0o700


@pytest.mark.parametrize("change", ["database", "blob", "key", "missing"])
def test_a_changed_backup_is_refused_naming_the_file(new_site, good_backup, tmp_path, change):
    backup = tmp_path / "backup"
    shutil.copytree(good_backup, backup)
    manifest = json.loads((backup / "manifest.json").read_text())
    names = [item["path"] for item in manifest["files"]]
    name = {
        "database": manifest["database"]["file"],
        "blob": next(n for n in names if n.startswith("blobs/")),
        "key": "keys/field-keys.json",
        "missing": next(n for n in reversed(names) if n.startswith("blobs/")),
    }[change]
    if change == "missing":
        (backup / name).unlink()
    else:
        data = bytearray((backup / name).read_bytes())
        data[len(data) // 2] ^= 0x01
        (backup / name).write_bytes(bytes(data))
    target = new_site(f"restore_{change}")
    result = target.run("restore", str(backup), check=False)
    assert result.returncode != 0
    assert name in result.stderr and "nothing was restored" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert target.is_empty()


def test_restore_refuses_a_data_directory_or_database_that_holds_data(seeded, new_site, good_backup):
    before = seeded.run("audit", "verify").stdout
    refused = seeded.run("restore", str(good_backup), check=False)
    assert refused.returncode != 0
    assert "Restore only into an empty data directory" in refused.stderr
    assert str(seeded.data_dir / "blobs") in refused.stderr
    assert seeded.run("audit", "verify").stdout == before

    one_blob = new_site("restore_occupied")
    some = next(iter(seeded.blobs().values()))
    (one_blob.data_dir / "blobs" / "ab" / "cd").mkdir(parents=True)
    shutil.copy(some, one_blob.data_dir / "blobs" / "ab" / "cd" / some.name)
    refused = one_blob.run("restore", str(good_backup), check=False)
    assert refused.returncode != 0 and str(one_blob.data_dir / "blobs") in refused.stderr
    assert not (one_blob.data_dir / "field-keys.json").exists()

    if POSTGRES:  # a new data directory, but the database has tables
        fresh = new_site("restore_tables")
        env = {"DATABASE_URL": seeded.env["DATABASE_URL"]}
        refused = fresh.run("restore", str(good_backup), check=False, env=env)
        assert refused.returncode != 0
        assert f"the PostgreSQL database {seeded.database} (" in refused.stderr
        assert fresh.is_empty()


def test_restore_refuses_a_backup_of_the_other_kind_of_database(new_site, good_backup):
    target = new_site("restore_other_kind")
    if POSTGRES:
        env = {**target.env}
        env.pop("DATABASE_URL")
        result = subprocess.run(
            [console_script(), "restore", str(good_backup)], env=env, capture_output=True, text=True, check=False
        )
        assert "holds a PostgreSQL database but this Sharehub is set up for SQLite" in result.stderr
    else:  # refused before any connection: the address need not answer
        result = target.run(
            "restore", str(good_backup), check=False, env={"DATABASE_URL": "postgres://nobody@127.0.0.1:1/sh_helper_x"}
        )
        assert "holds a SQLite database but this Sharehub is set up for PostgreSQL" in result.stderr
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert not (target.data_dir / "field-keys.json").exists()


def test_backup_refuses_a_folder_that_is_not_empty_or_inside_the_data_directory(seeded, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "something").write_text("x")
    result = seeded.run("backup", str(tmp_path / "full"), check=False)
    assert result.returncode != 0 and "is not empty" in result.stderr
    result = seeded.run("backup", str(seeded.data_dir / "backups" / "today"), check=False)
    assert result.returncode != 0 and "inside the data directory" in result.stderr
    assert not (seeded.data_dir / "backups").exists()
    (tmp_path / "empty").mkdir()
    done = seeded.run("backup", str(tmp_path / "empty"))
    assert (tmp_path / "empty" / "manifest.json").exists()
    # On the same filesystem the files are hard links to the stored ones (never changed in place).
    assert f"({len(seeded.blobs())} hard-linked)" in done.stdout
    for name, path in seeded.blobs().items():
        linked = tmp_path / "empty" / "blobs" / name[:2] / name[2:4] / name
        assert linked.stat().st_ino == path.stat().st_ino


def _bulky(new_site, name: str) -> Site:
    """A migrated installation with 40 MB of stored files, so that a backup takes a while."""
    site = new_site(name)
    site.run("migrate", "--verbosity", "0")
    for _ in range(20):
        content = os.urandom(2 * 1024 * 1024)
        digest = hashlib.sha256(content).hexdigest()
        folder = site.data_dir / "blobs" / digest[:2] / digest[2:4]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / digest).write_bytes(content)
    return site


def _stop_midway(site: Site, target: Path, sig: int) -> subprocess.Popen:
    """Start a backup, wait until its hidden work folder has files, then send `sig`; PATH must still be absent
    at that moment (the process is frozen with SIGSTOP first, so it cannot finish meanwhile)."""
    for _attempt in range(5):
        process = subprocess.Popen(
            [console_script(), "backup", str(target), "--copy"],
            env=site.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        while process.poll() is None:
            partial = list(target.parent.glob(f".{target.name}.partial-*/blobs"))
            if partial:
                process.send_signal(signal.SIGSTOP)
                break
            time.sleep(0.001)
        if process.poll() is None and not (target / "manifest.json").exists():
            process.send_signal(sig)
            process.send_signal(signal.SIGCONT)
            process.communicate(timeout=TIMEOUT)
            return process
        process.send_signal(signal.SIGCONT)
        process.communicate(timeout=TIMEOUT)
        shutil.rmtree(target, ignore_errors=True)  # it finished before it could be stopped: try again
    pytest.fail("the backup always finished before it could be stopped halfway")


def test_a_killed_backup_leaves_nothing_at_path(new_site, tmp_path):
    site = _bulky(new_site, "killed")
    target = tmp_path / "backup"
    killed = _stop_midway(site, target, signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL
    assert not target.exists()
    assert list(tmp_path.glob(".backup.partial-*")), "the half-written backup is in the hidden folder"

    target.mkdir()  # an empty folder given as PATH stays empty too
    killed = _stop_midway(site, target, signal.SIGKILL)
    assert target.is_dir() and not any(target.iterdir())

    stopped = _stop_midway(site, tmp_path / "stopped", signal.SIGTERM)  # SIGTERM: cleans up on the way out
    assert stopped.returncode != 0
    assert not (tmp_path / "stopped").exists() and not list(tmp_path.glob(".stopped.partial-*"))

    done = site.run("backup", str(target))
    assert done.returncode == 0 and (target / "manifest.json").exists()


def test_restore_applies_the_migrations_the_backup_is_older_than(new_site, tmp_path):
    old = new_site("older")
    old.run("migrate", "--verbosity", "0")
    assert "The database is up to date: no migrations to apply." in old.run("migrate", "--check").stdout
    old.run("migrate", "org", "0003_idempotency_keys", "--verbosity", "0")  # as an older Sharehub left it
    check = old.run("migrate", "--check", check=False)
    assert check.returncode == 1
    assert "org.0004_person_language" in check.stdout and "to apply" in check.stdout
    old.run("backup", str(tmp_path / "backup"))
    assert (
        "org.0004_person_language" not in json.loads((tmp_path / "backup" / "manifest.json").read_text())["migrations"]
    )

    target = new_site("restore_newer")
    restored = target.run("restore", str(tmp_path / "backup"))
    assert "database migration(s): this Sharehub is newer than the backup" in restored.stdout
    assert "audit chain intact: " in restored.stdout
    check = target.run("migrate", "--check")
    assert check.stdout.strip() == "The database is up to date: no migrations to apply."


@pytest.mark.skipif(not POSTGRES, reason="pg_dump is used with PostgreSQL only")
def test_backup_on_postgresql_says_when_pg_dump_is_missing_or_too_old(seeded, tmp_path):
    missing = seeded.run("backup", str(tmp_path / "a"), check=False, env={"PATH": str(tmp_path / "nowhere")})
    assert missing.returncode != 0 and "pg_dump is not installed or not on PATH" in missing.stderr, missing.stderr
    old = tmp_path / "old-bin"
    old.mkdir()
    (old / "pg_dump").write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 12.22'\n")
    (old / "pg_dump").chmod(0o755)
    too_old = seeded.run("backup", str(tmp_path / "b"), check=False, env={"PATH": str(old)})
    assert too_old.returncode != 0, too_old.stdout
    assert "is version 12 but the PostgreSQL server is version" in too_old.stderr, too_old.stderr
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
