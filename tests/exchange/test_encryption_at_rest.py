"""Sensitive and secret values are never stored in plaintext: not in the database (SQLite file and WAL, or a
pg_dump of PostgreSQL), not in the data directory (an upload is kept encrypted until applied), not in the event
log's details, not in an import's error report."""

from __future__ import annotations

import io
import os
import secrets
import subprocess

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from sharehub.errors import Conflict
from sharehub.events.models import Event
from sharehub.exchange import schema
from sharehub.exchange.models import Change, ImportJob, Record
from sharehub.exchange.types import resident_id_check
from tests import factories
from tests.exchange.world import found_in

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump sees only committed rows

FIELDS = [
    {"name": "code", "type": "text", "sensitivity": "public", "required": True},
    {"name": "name", "type": "text", "sensitivity": "internal"},
    {"name": "holder", "type": "text", "sensitivity": "sensitive", "masking": "partial"},
    {"name": "resident", "type": "resident_id", "sensitivity": "sensitive", "masking": "partial"},
    {"name": "phone", "type": "phone", "sensitivity": "sensitive", "masking": "hash"},
    {"name": "mail", "type": "email", "sensitivity": "secret"},
    {"name": "note", "type": "text", "sensitivity": "secret"},
]


def _digits(n: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(n))


def _resident(birth: str, *, valid: bool = True) -> str:
    first17 = "110105" + birth + _digits(3)
    check = resident_id_check(first17)
    return first17 + (check if valid else "0123456789X"[("0123456789X".index(check) + 1) % 11])


# Values unique to this run: the SQLite test database is a file whose free pages and WAL still hold what earlier
# tests wrote and deleted, and other tests store the same sample values in the clear where they are not secret.
RUN = secrets.token_hex(4)
API_ROWS = [
    {"code": "A1", "name": "公开名称一", "holder": f"欧阳明月{RUN}", "resident": _resident("19491231"),
     "phone": "138" + _digits(8), "mail": f"ouyang.{RUN}@example.com", "note": f"绝密备注内容甲{RUN}"},
    {"code": "A2", "name": "公开名称二", "holder": f"Zhang Sanfeng {RUN}", "resident": _resident("19800101"),
     "phone": "139" + _digits(8), "mail": f"zsf.{RUN}@example.org", "note": f"secret note number two {RUN}"},
]  # fmt: skip
UPLOADED = [
    f"司马相如{RUN}",
    _resident("19900101"),
    "137" + _digits(8),
    f"sima.{RUN}@example.net",
    f"上传的机密备注{RUN}",
]
BAD_ROW = [
    f"诸葛孔明{RUN}",
    _resident("19900101", valid=False),  # a wrong check digit
    "137" + _digits(8),
    f"zhuge.{RUN}@example.net",
    f"坏行的机密备注{RUN}",
]
UPLOAD = "code,name,holder,resident,phone,mail,note\n" + "".join(
    f"{code},{name},{','.join(values)}\n"
    for code, name, values in (("U1", "上传名称", UPLOADED), ("U2", "坏行", BAD_ROW))
)
ENCRYPTED = [f["name"] for f in FIELDS if f["sensitivity"] in ("sensitive", "secret")]


def plaintexts() -> list[str]:
    return [row[name] for row in API_ROWS for name in ENCRYPTED] + UPLOADED + BAD_ROW


def database_bytes() -> bytes:
    """The raw database: the SQLite file and its WAL (or its in-memory image), or a pg_dump on PostgreSQL."""
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        name = str(connection.settings_dict["NAME"])
        if os.path.exists(name):
            return b"".join(open(p, "rb").read() for p in (name, name + "-wal") if os.path.exists(p))
        return connection.connection.serialize()
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    dumped = subprocess.run(
        ["pg_dump", "-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"],
         connection.settings_dict["NAME"]],
        env=env, capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    return dumped.stdout


@pytest.fixture
def loaded(org_units, people):
    tax = org_units["tax"]
    resource = factories.resource(tax, by=people["tax_steward"], kind="dataset", sharing_type="conditional")
    schema.change_dataset(people["tax_steward"], resource, FIELDS, key_fields=["code"])
    client = Client()
    client.force_login(people["tax_member"])
    response = client.post(
        f"/api/v1/datasets/{resource.pk}/records", {"rows": API_ROWS}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["inserted"] == 2, response.content
    return resource, client


def test_the_database_holds_no_plaintext(loaded):
    resource, client = loaded
    # the owner reads them back in full: the values are there, just not in the clear
    items = client.get(f"/api/v1/datasets/{resource.pk}/records").json()["items"]
    assert sorted(r["note"] for r in items) == sorted(r["note"] for r in API_ROWS)
    blob = database_bytes()
    assert (b"A1" in blob and "公开名称一".encode() in blob) or b"\\u516c" in blob  # the dump is searchable
    assert found_in(blob, plaintexts()) == []


def test_an_upload_is_kept_encrypted_and_its_report_holds_no_sensitive_value(loaded, data_dir):
    resource, client = loaded
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("people.csv", UPLOAD.encode("utf-8"), content_type="text/csv")
    response = client.post(f"/resources/{resource.code}/data/import/", {"file": upload})
    assert response.status_code == 302, response.content[:500]
    job = ImportJob.objects.get()
    stored = b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())
    assert (data_dir / "imports" / f"{job.upload}.enc").exists()
    assert found_in(stored, UPLOADED + BAD_ROW) == []

    checked = client.get(response["Location"])  # checks the rows: row 2's resident ID is wrong
    assert checked.status_code == 200
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CHECKED and job.errors
    assert {e["field"] for e in job.errors} == {"resident"}
    report = client.get(f"/resources/{resource.code}/data/import/{job.pk}/errors.csv").content
    assert found_in(report + repr(job.errors).encode(), BAD_ROW) == []
    assert found_in(database_bytes(), UPLOADED + BAD_ROW) == []

    applied = client.post(response["Location"], {"action": "apply", "mode": "valid", **mapping_of(job)})
    assert applied.status_code == 302, applied.content[:500]
    job.refresh_from_db()
    assert Record.objects.count() == 3, (applied["Location"], job.status, job.counts, job.mapping, job.errors)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.APPLIED and job.upload == ""
    assert not any((data_dir / "imports").iterdir())  # dropped once applied
    assert found_in(database_bytes(), plaintexts()) == []


def mapping_of(job: ImportJob) -> dict:
    columns = ["code", "name", "holder", "resident", "phone", "mail", "note"]
    return {f"map-{i}": job.mapping.get(c, c) for i, c in enumerate(columns)}


def test_events_and_changes_hold_no_plaintext(loaded):
    resource, client = loaded
    client.post(f"/api/v1/datasets/{resource.pk}/records/delete", {"keys": ["A2"]}, content_type="application/json")
    details = io.StringIO()
    for event in Event.objects.order_by("seq"):
        details.write(repr(event.details) + event.target_label + event.actor_name)
    assert found_in(details.getvalue().encode(), plaintexts()) == []
    for values in Change.objects.values_list("values", flat=True):
        assert found_in(repr(values).encode(), plaintexts()) == []


def test_a_field_made_sensitive_after_delete_all_is_refused_while_the_feed_holds_its_values(loaded, people):
    """Whether a field is encrypted cannot change while records are stored; once they are all deleted, the
    change feed still holds the field's values as they were written (it gave a 500 and kept them in the clear)."""
    resource, client = loaded
    client.post(f"/api/v1/datasets/{resource.pk}/records/delete-all", {"expected": 2}, content_type="application/json")
    fields = [f | {"sensitivity": "sensitive", "masking": "partial"} if f["name"] == "name" else f for f in FIELDS]
    with pytest.raises(Conflict, match="Add a field with a new name"):
        schema.change_dataset(people["tax_steward"], resource, fields, key_fields=["code"])
    renamed = [f | {"name": "name2"} if f["name"] == "name" else f for f in fields]
    schema.change_dataset(people["tax_steward"], resource, renamed, key_fields=["code"])  # a new name is fine
    feed = client.get(f"/api/v1/datasets/{resource.pk}/changes")
    assert feed.status_code == 200, feed.content[:300]
    assert [c["op"] for c in feed.json()["changes"]] == ["insert", "insert", "delete", "delete"]


def test_a_field_removed_and_added_again_keeps_its_encryption(loaded, people):
    """Records keep the values of a removed field; adding it back with the other encryption would read them
    wrongly (plaintext taken for a token: a 500; a token shown as the value)."""
    resource, client = loaded
    without = [f for f in FIELDS if f["name"] not in ("name", "note")]
    schema.change_dataset(people["tax_steward"], resource, without, key_fields=["code"])
    name_secret = {"name": "name", "type": "text", "sensitivity": "secret"}
    back = [*without, name_secret, {"name": "note", "type": "text", "sensitivity": "internal"}]
    with pytest.raises(Conflict, match=r"whether name is encrypted.*whether note is encrypted"):
        schema.change_dataset(people["tax_steward"], resource, back, key_fields=["code"])
    schema.change_dataset(people["tax_steward"], resource, FIELDS, key_fields=["code"])  # as they were: fine
    items = client.get(f"/api/v1/datasets/{resource.pk}/records").json()["items"]
    assert sorted((r["name"], r["note"]) for r in items) == sorted((r["name"], r["note"]) for r in API_ROWS)


def test_a_large_upload_never_lands_in_a_temporary_file(loaded, monkeypatch):
    """Over FILE_UPLOAD_MAX_MEMORY_SIZE Django would write the upload to a temporary file in plaintext."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.files.uploadhandler import TemporaryFileUploadHandler

    def no_temporary_file(*args, **kwargs):
        raise AssertionError("an import upload went to a temporary file")

    monkeypatch.setattr(TemporaryFileUploadHandler, "new_file", no_temporary_file)
    resource, client = loaded
    padding = "".join(f"B{n},填充行{n},,,,,\n" for n in range((settings.FILE_UPLOAD_MAX_MEMORY_SIZE // 24) + 1))
    content = (UPLOAD + padding).encode("utf-8")
    assert len(content) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    upload = SimpleUploadedFile("people.csv", content, content_type="text/csv")
    response = client.post(f"/resources/{resource.code}/data/import/", {"file": upload})
    assert response.status_code == 302, response.content[:500]
    assert ImportJob.objects.get().filename == "people.csv"


def test_past_the_limit_an_upload_is_refused_with_413(loaded, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from sharehub import bodies

    monkeypatch.setattr(bodies, "PLAINTEXT_BODY_LIMIT", 1000)
    resource, client = loaded
    upload = SimpleUploadedFile("people.csv", (UPLOAD * 20).encode("utf-8"), content_type="text/csv")
    response = client.post(f"/resources/{resource.code}/data/import/", {"file": upload})
    assert response.status_code == 413
    assert not ImportJob.objects.exists()
