"""`sharehub backup PATH` and `sharehub restore PATH`: a consistent copy of a running installation, and
bringing it back into an empty data directory.

A backup is a folder:

    manifest.json          version, database vendor, applied migrations, snapshot, every file's size and SHA-256
    database.sqlite3       SQLite: a copy made with SQLite's online backup API
    database.dump          PostgreSQL: `pg_dump --format=custom`
    blobs/ab/cd/<sha256>   the attachment files (content-addressed, as under the data directory)
    imports/<name>.enc     uploads of dataset imports that wait to be applied (encrypted with the field keys)
    keys/django-secret-key, keys/field-keys.json, keys/audit-signing-key
                           the key files (0600), when the keys are not in the environment

Consistency while people write: the database is copied from one snapshot (a read transaction held for the
whole SQLite copy; on PostgreSQL `pg_export_snapshot()` handed to `pg_dump --snapshot`), and the files are
copied after that snapshot. Every file is written to its final place *before* the transaction that names
it commits (catalog.services.add_attachment, access.services.store_file, exchange.views._store_upload:
`files.store_upload` + `files.commit_blob`, then `transaction.atomic()`), and no code deletes a blob file,
so every file a row in the snapshot names already existed when the snapshot was taken and is still there
when the files are copied (an import's upload is deleted once the import is applied: one applied between the
snapshot and the copy is missing from the backup, and the backup says so). Files of rows committed after the
snapshot may be copied too; they are harmless.
The field-key file is copied while holding its lock (the one `sharehub keys new|retire` takes), and the
snapshot is taken under the same lock, so the copied keys are exactly those the copied rows were written with.

The backup is written into a hidden folder beside PATH and renamed to PATH at the end: a killed backup
leaves nothing at PATH.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

import sharehub
from sharehub import config

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
POSTGRES_FILE = "database.dump"
SECRET_KEY_FILE = "django-secret-key"  # settings.SECRET_KEY = config.secret("django-secret-key", "SECRET_KEY")
SECRET_KEY_ENV = "SECRET_KEY"
CHUNK = 1024 * 1024
SQLITE_PAGES_PER_STEP = 256
_SHA256 = re.compile(r"[0-9a-f]{64}")
_IMPORT_NAME = re.compile(r"[0-9a-f]{32}\.enc")

# A progress bar: bar(total, description, unit) gives a context manager with update(n) (sharehub.console.progress).
Bar = Callable[[int, str, str], contextlib.AbstractContextManager]


class BackupError(Exception):
    """The backup or restore cannot go on; the message is one sentence that says why and what to do."""


@dataclass
class Summary:
    path: Path
    vendor: str
    database_bytes: int = 0
    event_seq: int = 0
    files: int = 0
    file_bytes: int = 0
    linked: int = 0
    keys: list[str] = field(default_factory=list)
    migrations_applied: int = 0
    audit_checked: int = 0
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"  # pragma: no cover


def _vendor() -> str:
    vendor = connections[DEFAULT_DB_ALIAS].vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(_("Backups work with SQLite and PostgreSQL, not with %(vendor)s.") % {"vendor": vendor})
    return vendor


def _connected():
    """The default connection, opened; a database that cannot be reached is one sentence, not a traceback."""
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        connection.ensure_connection()
    except DatabaseError as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise BackupError(
            _("The database %(name)s cannot be reached: %(reason)s")
            % {"name": connection.settings_dict["NAME"], "reason": reason}
        ) from None
    return connection


def vendor_name(vendor: str) -> str:
    return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(vendor, vendor)


@contextlib.contextmanager
def stopping_on_sigterm() -> Iterator[None]:
    """SIGTERM stops the work like Ctrl+C does, so the half-written backup or restore is removed on the way out."""

    def stop(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# Where things live --------------------------------------------------------------------------------------------


def _blob_dir() -> Path:
    return Path(settings.BLOB_DIR)


def _imports_dir() -> Path:
    return config.data_dir() / "imports"  # sharehub.exchange.views._imports_dir


def _key_files() -> dict[str, Path]:
    """The key files in the data directory, by their name in a backup."""
    from sharehub.events import export
    from sharehub.exchange import crypto

    keys = config.data_dir() / "keys"
    return {
        SECRET_KEY_FILE: keys / SECRET_KEY_FILE,
        crypto.KEY_FILE_NAME: crypto.key_file(),
        export.KEY_NAME: keys / export.KEY_NAME,
    }


def _keys_in_environment() -> list[str]:
    from sharehub.events import export
    from sharehub.exchange import crypto

    names = [SECRET_KEY_ENV, crypto.FIELD_KEYS_ENV, crypto.BLIND_KEY_ENV, export.KEY_ENV]
    return [name for name in names if os.environ.get(name, "").strip()]


def _blob_files(root: Path) -> Iterator[tuple[Path, str]]:
    """(path, name in a backup) of every stored blob: `ab/cd/<sha256>`; upload temporaries are left out."""
    if not root.is_dir():
        return
    for first in sorted(root.iterdir()):
        if not (first.is_dir() and len(first.name) == 2):
            continue
        for second in sorted(first.iterdir()):
            if not (second.is_dir() and len(second.name) == 2):
                continue
            for item in sorted(second.iterdir()):
                if item.is_file() and _SHA256.fullmatch(item.name):
                    yield item, f"blobs/{first.name}/{second.name}/{item.name}"


def _import_files(root: Path) -> Iterator[tuple[Path, str]]:
    if not root.is_dir():
        return
    for item in sorted(root.iterdir()):
        if item.is_file() and _IMPORT_NAME.fullmatch(item.name):
            yield item, f"imports/{item.name}"


# Files --------------------------------------------------------------------------------------------------------


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path, bar=None) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if bar is not None:
                bar.update(len(chunk))
    return digest.hexdigest(), size


def _copy(source: Path, target: Path, bar=None, mode: int = 0o600) -> tuple[str, int]:
    """Copy a file, hashing as it streams, and fsync it; the copy gets `mode`. Returns (sha256, size)."""
    digest, size = hashlib.sha256(), 0
    handle = source.open("rb")  # first: a source that is gone leaves no empty copy behind
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with handle, os.fdopen(fd, "wb") as out:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
            if bar is not None:
                bar.update(len(chunk))
        out.flush()
        os.fsync(out.fileno())
    os.chmod(target, mode)  # O_CREAT's mode passes through the umask
    return digest.hexdigest(), size


# Snapshots ----------------------------------------------------------------------------------------------------


@dataclass
class Snapshot:
    """What the copied database holds, read inside the snapshot it is copied from."""

    event_seq: int
    event_hash: str
    migrations: list[str]  # "app.name", in the order they were applied
    blobs: set[str]
    imports: set[str]
    tables: int


def _read_snapshot(cursor, tables: int) -> Snapshot:
    """The chain head, applied migrations and every file name the rows hold, through a DB-API cursor that is
    inside the snapshot's transaction (no parameters: the SQL is the same for SQLite and PostgreSQL)."""
    from sharehub.access.models import RequestAttachment
    from sharehub.catalog.models import Blob
    from sharehub.events.models import ChainHead
    from sharehub.exchange.models import ImportJob

    cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
    migrations = [f"{app}.{name}" for app, name in cursor.fetchall()]
    cursor.execute(f"SELECT seq, hash FROM {ChainHead._meta.db_table} WHERE id = 1")
    head = cursor.fetchone()
    blobs: set[str] = set()
    for model in (Blob, RequestAttachment):
        cursor.execute(f"SELECT DISTINCT sha256 FROM {model._meta.db_table}")
        blobs.update(row[0] for row in cursor.fetchall())
    cursor.execute(f"SELECT upload FROM {ImportJob._meta.db_table} WHERE upload <> ''")
    imports = {f"{row[0]}.enc" for row in cursor.fetchall()}
    seq, digest = (int(head[0]), head[1]) if head else (0, "0" * 64)
    return Snapshot(seq, digest, migrations, blobs, imports, tables)


class _SqliteSource:
    """A read transaction on the live SQLite file (WAL: writers go on meanwhile), copied with the online
    backup API step by step. Holding the transaction keeps the copy at one snapshot: the backup never restarts
    and never mixes pages from before and after a commit."""

    file_name = SQLITE_FILE

    def __init__(self) -> None:
        self.path = Path(connections[DEFAULT_DB_ALIAS].settings_dict["NAME"])
        if not self.path.is_file() or self.path.stat().st_size == 0:
            raise BackupError(_("There is no database at %(path)s yet: nothing to back up.") % {"path": self.path})
        self.connection = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)

    def begin(self) -> Snapshot:
        cursor = self.connection.cursor()
        cursor.execute("BEGIN")
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'")  # the snapshot starts here
        tables = cursor.fetchone()[0]
        try:
            return _read_snapshot(cursor, tables)
        except sqlite3.OperationalError:
            raise BackupError(
                _("The database at %(path)s has no Sharehub tables yet: nothing to back up.") % {"path": self.path}
            ) from None

    def copy(self, target: Path, bar: Bar) -> None:
        pages = self.connection.execute("PRAGMA page_count").fetchone()[0]
        with bar(pages, _("Copying the database"), pgettext("progress", "page")) as progress:
            done = [0]

            def step(status, remaining, total):
                progress.update(max(0, total - remaining - done[0]))
                done[0] = total - remaining

            with contextlib.closing(sqlite3.connect(target)) as copy:
                self.connection.backup(copy, pages=SQLITE_PAGES_PER_STEP, progress=step)
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, not a WAL database
                check = copy.execute("PRAGMA quick_check").fetchone()[0]
                if check != "ok":
                    raise BackupError(_("The copied database fails SQLite's check: %(reason)s.") % {"reason": check})
        with target.open("rb+") as handle:
            os.fsync(handle.fileno())
        target.chmod(0o600)

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.connection.execute("ROLLBACK")
        self.connection.close()  # a second close does nothing


def _libpq_environment() -> dict[str, str]:
    """libpq's variables for the configured database, so the password is not on a command line."""
    settings_dict = connections[DEFAULT_DB_ALIAS].settings_dict
    env = dict(os.environ)  # libpq's own variables (PGSSLMODE, ...) apply as they do to Sharehub's connections
    plain = {"PGDATABASE": "NAME", "PGUSER": "USER", "PGPASSWORD": "PASSWORD", "PGHOST": "HOST", "PGPORT": "PORT"}
    for variable, key in plain.items():
        if settings_dict.get(key):
            env[variable] = str(settings_dict[key])
    options = settings_dict.get("OPTIONS") or {}
    for option in ("sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "service", "passfile"):
        if options.get(option):
            env["PG" + option.upper()] = str(options[option])
    return env


def _client(name: str, *, at_least: int) -> str:
    """The path of pg_dump or pg_restore, whose major version is at least the server's."""
    found = shutil.which(name)
    if not found:
        raise BackupError(
            _(
                "%(program)s is not installed or not on PATH; install the PostgreSQL %(major)s client tools "
                "(e.g. the postgresql-client-%(major)s package) and try again."
            )
            % {"program": name, "major": at_least}
        )
    result = subprocess.run([found, "--version"], capture_output=True, text=True, check=False, timeout=60)
    match = re.search(r"(\d+)(?:\.\d+)?", result.stdout)
    major = int(match.group(1)) if match else 0
    if major < at_least:
        raise BackupError(
            _(
                "%(program)s is version %(found)s but the PostgreSQL server is version %(major)s; install the "
                "PostgreSQL %(major)s client tools (or newer) and try again."
            )
            % {"program": found, "found": major or "?", "major": at_least}
        )
    return found


def _run_pg(command: list[str], progress, marker: str) -> None:
    """Run pg_dump or pg_restore with --verbose, moving the bar at each table it reports; raises with its error."""
    process = subprocess.Popen(
        command, env=_libpq_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    tail: list[str] = []
    try:
        for line in process.stderr:
            if marker in line:
                progress.update(1)
            elif line.strip():
                tail = [*tail[-20:], line.rstrip()]
        code = process.wait()
    finally:
        if process.poll() is None:  # interrupted: do not leave it running
            process.kill()
            process.wait()
    if code != 0:
        errors = [line for line in tail if "error" in line.lower()] or tail
        raise BackupError(
            _("%(program)s failed: %(error)s")
            % {"program": Path(command[0]).name, "error": " ".join(errors[-3:]) or code}
        )


class _PostgresSource:
    """A REPEATABLE READ transaction whose snapshot pg_dump takes over (`--snapshot`), so the dump and what the
    manifest says about it come from the same moment."""

    file_name = POSTGRES_FILE

    def __init__(self) -> None:
        self.connection = _connected()
        self.server_major = self.connection.pg_version // 10000
        self.pg_dump = _client("pg_dump", at_least=self.server_major)
        self.atomic = None
        self.snapshot_id = ""

    def begin(self) -> Snapshot:
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        cursor = self.connection.cursor()
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        self.snapshot_id = cursor.fetchone()[0]
        tables = self.connection.introspection.table_names(cursor)
        if "django_migrations" not in tables:
            raise BackupError(
                _("The database %(name)s has no Sharehub tables yet: nothing to back up.")
                % {"name": self.connection.settings_dict["NAME"]}
            )
        return _read_snapshot(cursor, len(tables))

    def copy(self, target: Path, bar: Bar, tables: int) -> None:
        command = [self.pg_dump, "--format=custom", "--no-password", "--verbose"]
        command += [f"--snapshot={self.snapshot_id}", f"--file={target}"]
        with bar(tables, _("Dumping the database"), pgettext("progress", "table")) as progress:
            _run_pg(command, progress, "dumping contents of table")
        with target.open("rb+") as handle:
            os.fsync(handle.fileno())
        target.chmod(0o600)

    def close(self) -> None:
        atomic, self.atomic = self.atomic, None
        if atomic is not None:
            with contextlib.suppress(Exception):
                atomic.__exit__(None, None, None)


@contextlib.contextmanager
def _key_file_held() -> Iterator[None]:
    """The field-key file's lock (crypto._locked, which `sharehub keys new|retire` take), when the file exists."""
    from sharehub.exchange import crypto

    path = crypto.key_file()
    if not path.exists():
        yield
        return
    with crypto._locked(path):
        yield


# Backup -------------------------------------------------------------------------------------------------------


def _check_target(target: Path) -> None:
    data_dir, resolved = config.data_dir(), target.resolve()
    if resolved == data_dir or data_dir in resolved.parents or _blob_dir().resolve() in resolved.parents:
        raise BackupError(
            _("%(path)s is inside the data directory %(data)s; put the backup somewhere else (another disk is best).")
            % {"path": target, "data": data_dir}
        )
    if target.exists() and not target.is_dir():
        raise BackupError(
            _("%(path)s exists and is not a folder; give a new folder for the backup.") % {"path": target}
        )
    if target.is_dir() and any(target.iterdir()):
        raise BackupError(
            _("%(path)s is not empty; give a new folder or an empty one for the backup.") % {"path": target}
        )
    if not target.parent.is_dir():
        raise BackupError(_("The folder %(path)s does not exist; create it first.") % {"path": target.parent})


def backup(target: Path, bar: Bar, *, link: bool = True) -> Summary:
    """Write a backup to `target` (absent or an empty folder). Blobs are hard-linked when `link` and the
    target is on the same filesystem (blob files are never changed in place), copied otherwise."""
    started = time.monotonic()
    target = Path(os.path.abspath(target))
    _check_target(target)
    vendor = _vendor()
    source = _SqliteSource() if vendor == "sqlite" else _PostgresSource()
    try:
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))  # mode 0700
    except BaseException:
        source.close()
        raise
    summary = Summary(path=target, vendor=vendor)
    files: dict[str, dict] = {}
    try:
        (work / "keys").mkdir(mode=0o700)
        # The keys and the snapshot under the key file's lock: no key is added or retired in between.
        with _key_file_held():
            for name, path in _key_files().items():
                if path.is_file():
                    digest, size = _copy(path, work / "keys" / name)
                    files[f"keys/{name}"] = {"size": size, "sha256": digest}
                    summary.keys.append(name)
            snapshot = source.begin()
        database = work / source.file_name
        try:
            if vendor == "sqlite":
                source.copy(database, bar)
            else:
                source.copy(database, bar, snapshot.tables)
        finally:
            source.close()
        digest, size = _sha256(database)
        files[source.file_name] = {"size": size, "sha256": digest}
        summary.database_bytes, summary.event_seq = size, snapshot.event_seq

        # The files, after the snapshot: every one its rows name exists already (see the module's docstring).
        found = [*_blob_files(_blob_dir()), *_import_files(_imports_dir())]
        with bar(sum(_size_of(path) for path, _name in found), _("Copying files"), "B") as progress:
            for path, name in found:
                copy = work / name
                copy.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                try:
                    if link and name.startswith("blobs/") and _hard_link(path, copy):
                        digest, size = _sha256(copy, progress)
                        summary.linked += 1
                    else:
                        digest, size = _copy(path, copy, progress)
                except FileNotFoundError:
                    continue  # an import's upload, dropped once applied since the listing: see `missing` below
                if name.startswith("blobs/") and digest != copy.name:
                    summary.warnings.append(
                        _("The file %(path)s does not match its checksum: it was damaged on disk.") % {"path": path}
                    )
                files[name] = {"size": size, "sha256": digest}
                summary.files += 1
                summary.file_bytes += size
        copied = {name.rsplit("/", 1)[-1] for name in files}
        missing = sorted((snapshot.blobs | snapshot.imports) - copied)
        if missing:
            summary.warnings.append(
                _(
                    "The database names %(count)s file(s) that were not in the data directory when it was copied "
                    "(the first is %(name)s); the backup lacks them too."
                )
                % {"count": len(missing), "name": missing[0]}
            )

        in_env = _keys_in_environment()
        if in_env:
            summary.warnings.append(
                _("%(names)s come from the environment and are not in the backup; keep them safe yourself.")
                % {"names": ", ".join(in_env)}
            )
        manifest = {
            "format": FORMAT,
            "sharehub_version": sharehub.__version__,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": {"vendor": vendor, "file": source.file_name, "tables": snapshot.tables},
            "snapshot": {"event_seq": snapshot.event_seq, "event_hash": snapshot.event_hash},
            "migrations": snapshot.migrations,
            "keys_in_environment": in_env,
            "missing_files": missing,
            "files": [{"path": name, **files[name]} for name in sorted(files)],
        }
        with (work / MANIFEST).open("w", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=1, ensure_ascii=False)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        for folder, _dirs, _files in os.walk(work, topdown=False):
            _fsync_dir(Path(folder))
        try:
            os.rename(work, target)  # atomic; replaces an empty folder
        except OSError as error:
            raise BackupError(
                _("The backup could not be moved to %(path)s: %(reason)s.")
                % {"path": target, "reason": error.strerror or error}
            ) from None
        _fsync_dir(target.parent)
    except BaseException:
        source.close()
        shutil.rmtree(work, ignore_errors=True)
        raise
    summary.seconds = time.monotonic() - started
    return summary


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _hard_link(source: Path, target: Path) -> bool:
    try:
        os.link(source, target)
    except OSError:  # another filesystem, or links not allowed there
        return False
    return True


# Restore ------------------------------------------------------------------------------------------------------


def _read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not folder.is_dir():
        raise BackupError(_("%(path)s is not a folder; give the folder `sharehub backup` wrote.") % {"path": folder})
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(
            _("%(path)s has no manifest.json: it is not a Sharehub backup, or an unfinished one.") % {"path": folder}
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BackupError(
            _("The manifest %(path)s cannot be read: %(reason)s.") % {"path": path, "reason": error}
        ) from None
    if not _well_formed(manifest):
        raise BackupError(_("The manifest %(path)s is not one this version of Sharehub can read.") % {"path": path})
    return manifest


def _well_formed(manifest: object) -> bool:
    """The manifest has the shape this version writes (checked without assert, which `python -O` drops)."""
    try:
        database, files = manifest["database"], manifest["files"]
        return (
            manifest["format"] == FORMAT
            and database["vendor"] in ("sqlite", "postgresql")
            and database["file"] == (SQLITE_FILE if database["vendor"] == "sqlite" else POSTGRES_FILE)
            and isinstance(database["tables"], int)
            and isinstance(manifest["snapshot"]["event_seq"], int)
            and isinstance(files, list)
            and database["file"] in {item["path"] for item in files}
            and all(
                _allowed_name(item["path"])
                and isinstance(item["size"], int)
                and isinstance(item["sha256"], str)
                and _SHA256.fullmatch(item["sha256"])
                for item in files
            )
            and all(isinstance(name, str) and "." in name for name in manifest["migrations"])
        )
    except (KeyError, TypeError, ValueError):
        return False


def _allowed_name(name: object) -> bool:
    """Only the names a backup holds: never an absolute path or `..` from a changed manifest."""
    if not isinstance(name, str):
        return False
    parts = PurePosixPath(name).parts
    if name in (SQLITE_FILE, POSTGRES_FILE) or (len(parts) == 2 and parts[0] == "keys" and parts[1] in _key_names()):
        return True
    if len(parts) == 2 and parts[0] == "imports":
        return bool(_IMPORT_NAME.fullmatch(parts[1]))
    return (
        len(parts) == 4
        and parts[0] == "blobs"
        and bool(_SHA256.fullmatch(parts[3]))
        and parts[1] == parts[3][:2]
        and parts[2] == parts[3][2:4]
    )


def _key_names() -> tuple[str, ...]:
    return tuple(_key_files())


def verify(folder: Path, bar: Bar) -> dict:
    """Check every file of the manifest against its size and SHA-256; raise naming the first that differs."""
    manifest = _read_manifest(folder)
    total = sum(item["size"] for item in manifest["files"])
    with bar(total, _("Checking the backup"), "B") as progress:
        for item in manifest["files"]:
            path = folder / item["path"]
            if not path.is_file():
                raise BackupError(
                    _("The backup is incomplete: %(name)s is missing; nothing was restored.") % {"name": item["path"]}
                )
            if path.stat().st_size != item["size"]:
                raise BackupError(_changed(item["path"]))
            digest, _size = _sha256(path, progress)
            if digest != item["sha256"]:
                raise BackupError(_changed(item["path"]))
    return manifest


def _changed(name: str) -> str:
    return _("The backup was changed: %(name)s does not match its checksum in manifest.json; nothing was restored.") % {
        "name": name
    }


def _check_migrations(manifest: dict) -> None:
    """Refuse a backup made by a newer Sharehub: its database has migrations this code does not know."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.graph.nodes)
    for migration in loader.disk_migrations.values():
        known.update(migration.replaces)
    unknown = [name for name in manifest["migrations"] if tuple(name.split(".", 1)) not in known]
    if unknown:
        raise BackupError(
            _(
                "The backup was made by a newer Sharehub (%(version)s): its database has migrations this version "
                "does not know (%(names)s); install that version or a newer one, then restore."
            )
            % {"version": manifest.get("sharehub_version", "?"), "names": ", ".join(unknown[:3])}
        )


def _occupied(vendor: str) -> list[str]:
    """What in the data directory or database makes it not empty (the secret key file made at start is fine)."""
    from sharehub.exchange import crypto

    found = []
    if vendor == "sqlite":
        path = Path(connections[DEFAULT_DB_ALIAS].settings_dict["NAME"])
        if path.is_file() and path.stat().st_size > 0 and _sqlite_tables(path):
            found.append(str(path))
    else:
        connection = _connected()
        tables = connection.introspection.table_names()
        if tables:
            found.append(
                _("the PostgreSQL database %(name)s (%(count)s tables)")
                % {"name": connection.settings_dict["NAME"], "count": len(tables)}
            )
    if next(_blob_files(_blob_dir()), None):
        found.append(str(_blob_dir()))
    if crypto.key_file().exists():
        found.append(str(crypto.key_file()))
    if next(_import_files(_imports_dir()), None):
        found.append(str(_imports_dir()))
    return found


def _sqlite_tables(path: Path) -> int:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as probe:
            return probe.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    except sqlite3.DatabaseError:
        return 1  # not a database we can read: not ours to overwrite


def restore(folder: Path, bar: Bar) -> Summary:
    """Bring a backup back into an empty data directory (and, on PostgreSQL, an empty database)."""
    from sharehub.exchange import crypto

    started = time.monotonic()
    folder = Path(os.path.abspath(folder))
    manifest = _read_manifest(folder)
    vendor = _vendor()
    made_with = manifest["database"]["vendor"]
    if made_with != vendor:
        raise BackupError(
            _(
                "The backup holds a %(backup)s database but this Sharehub is set up for %(here)s; a backup restores "
                "only into the same kind of database (%(hint)s)."
            )
            % {
                "backup": vendor_name(made_with),
                "here": vendor_name(vendor),
                "hint": _("unset DATABASE_URL")
                if made_with == "sqlite"
                else _("set DATABASE_URL to an empty database"),
            }
        )
    _check_migrations(manifest)
    occupied = _occupied(vendor)
    if occupied:
        raise BackupError(
            _(
                "Restore only into an empty data directory and database; these already hold data: %(what)s. Point "
                "SHAREHUB_DATA_DIR (and DATABASE_URL) at new ones."
            )
            % {"what": ", ".join(occupied)}
        )
    pg_restore = None
    if vendor == "postgresql":
        connection = _connected()
        pg_restore = _client("pg_restore", at_least=connection.pg_version // 10000)
    manifest = verify(folder, bar)

    summary = Summary(path=folder, vendor=vendor, event_seq=manifest["snapshot"]["event_seq"])
    written: list[Path] = []
    try:
        key_targets = _key_files()
        items = manifest["files"]
        total = sum(item["size"] for item in items if item["path"] != manifest["database"]["file"])
        with bar(total, _("Restoring files"), "B") as progress:
            for item in items:
                name = item["path"]
                parts = PurePosixPath(name).parts
                if parts[0] == "keys":
                    final = key_targets[parts[1]]
                    summary.keys.append(parts[1])
                elif parts[0] == "blobs":
                    final = _blob_dir().joinpath(*parts[1:])
                    summary.files += 1
                elif parts[0] == "imports":
                    final = _imports_dir() / parts[1]
                    summary.files += 1
                else:
                    continue
                final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                _place(folder / name, final, written, progress)
                summary.file_bytes += item["size"] if parts[0] != "keys" else 0
        crypto.reset_keyring()

        database = folder / manifest["database"]["file"]
        summary.database_bytes = database.stat().st_size
        if vendor == "sqlite":
            _restore_sqlite(database, written, bar)
        else:
            _restore_postgres(pg_restore, database, manifest["database"]["tables"], bar)
    except BaseException:
        for path in reversed(written):
            path.unlink(missing_ok=True)
        raise

    try:
        result = _finish(manifest, summary, bar)
    except KeyboardInterrupt:
        raise BackupError(
            _(
                "The restore was stopped after the data was put back; run `sharehub migrate` and `sharehub audit "
                "verify` before using it."
            )
        ) from None
    summary.audit_checked = result.checked
    summary.seconds = time.monotonic() - started
    if not result.ok:
        raise BackupError(
            _("The backup was restored, but its audit chain is broken at entry #%(seq)s: %(reason)s.")
            % {"seq": result.broken_seq, "reason": result.reason}
        )
    return summary


def _finish(manifest: dict, summary: Summary, bar: Bar):
    """After the data is back: the migrations this Sharehub is newer by, then the audit chain check."""
    from sharehub.console import pending_migrations
    from sharehub.events.chain import verify_chain

    connections.close_all()
    summary.migrations_applied = pending_migrations()
    if summary.migrations_applied:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
    for name in manifest.get("keys_in_environment", []):
        if name not in _keys_in_environment():
            summary.warnings.append(
                _("%(name)s was set in the environment when the backup was made; set it to the same value again.")
                % {"name": name}
            )
    with bar(manifest["snapshot"]["event_seq"], _("Verifying audit chain"), pgettext("progress", "event")) as progress:
        return verify_chain(progress=progress.update)


def _place(source: Path, final: Path, written: list[Path], progress) -> None:
    """Copy into a temporary name beside `final`, then rename: a file is either whole or not there."""
    temporary = final.with_name(f".{final.name}.restoring-{os.getpid()}")
    temporary.unlink(missing_ok=True)
    try:
        _copy(source, temporary, progress)
        os.replace(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)
    written.append(final)
    _fsync_dir(final.parent)


def _restore_sqlite(database: Path, written: list[Path], bar: Bar) -> None:
    target = Path(connections[DEFAULT_DB_ALIAS].settings_dict["NAME"])
    connections.close_all()
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm", "-journal"):  # of the empty database that may be there
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    size = database.stat().st_size
    with bar(size, _("Restoring the database"), "B") as progress:
        _place(database, target, written, progress)


def _restore_postgres(pg_restore: str, database: Path, tables: int, bar: Bar) -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    command = [pg_restore, "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
    command += ["--no-password", "--verbose", "--dbname", str(connection.settings_dict["NAME"]), str(database)]
    connections.close_all()
    with bar(tables, _("Restoring the database"), pgettext("progress", "table")) as progress:
        _run_pg(command, progress, "processing data for table")
    if hasattr(connection, "close_pool"):
        connection.close_pool()  # pooled connections opened before the tables existed
