"""The signed, verifiable export of a range of the chain: what the page and `sharehub audit export` write,
`sharehub audit verify --export FILE` checks offline (no database), and every kind of tampering is named."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sharehub.events import export, exportfile
from sharehub.events.models import Event
from tests import factories

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def history(org_units, people):
    """A dozen entries or more, with departments and details in Chinese."""
    for n in range(4):
        factories.resource(org_units["tax"], by=people["tax_steward"], title=f"纳税人登记信息 {n}")
    return Event.objects.count()


def _export(client, **params) -> bytes:
    response = client.get("/audit/export.jsonl", {f"export-{k}": v for k, v in params.items()})
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/jsonl")
    assert "attachment" in response["Content-Disposition"]
    return b"".join(response.streaming_content)


def _lines(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


def _join(lines: list[dict]) -> bytes:
    return b"".join(exportfile.line(value) for value in lines)


def _verify_offline(run_path: Path, *extra) -> str:
    """`sharehub audit verify --export` in this process, with the database blocked: it must not open it."""
    out, err = io.StringIO(), io.StringIO()
    call_command("audit", "verify", "--export", str(run_path), *extra, stdout=out, stderr=err)
    return out.getvalue()


# ---- the round trip --------------------------------------------------------------------------------------


def test_a_range_exported_from_the_page_verifies_offline(history, people, client_for, tmp_path, django_db_blocker):
    data = _export(client_for(people["auditor"]), from_seq=3, to_seq=history - 1)
    lines = _lines(data)
    header, entries, signature = lines[0], lines[1:-1], lines[-1]
    assert header["format"] == "sharehub-audit-export" and header["first_seq"] == 3
    assert header["last_seq"] == history - 1 and header["count"] == len(entries) == history - 3
    assert header["start_hash"] == Event.objects.get(seq=2).hash  # the hash of the entry before the first
    assert header["end_hash"] == Event.objects.get(seq=history - 1).hash
    assert header["exported_by"] == "auditor"
    assert [e["seq"] for e in entries] == list(range(3, history))
    assert set(entries[0]) == set(exportfile.ENTRY_FIELDS)
    assert "signature" in signature
    assert header["signing_key"]["fingerprint"] == export.key_info()["fingerprint"]
    path = tmp_path / "range.jsonl"
    path.write_bytes(data)
    with django_db_blocker.block():  # offline: any query would raise
        result = exportfile.verify_export(path.read_bytes())
        out = _verify_offline(path, "--key", header["signing_key"]["fingerprint"])
    assert result.ok and result.checked == history - 3
    assert out.startswith(f"audit export intact: entries #3 to #{history - 1}")
    assert header["end_hash"] in out


def test_the_whole_chain_starts_at_the_genesis_hash(history, people, client_for):
    client = client_for(people["auditor"])  # signing in is an entry too
    data = _export(client)
    header = _lines(data)[0]
    assert header["first_seq"] == 1 and header["last_seq"] == Event.objects.count()
    assert header["start_hash"] == "0" * 64
    assert exportfile.verify_export(data).ok


def test_a_date_range_is_exported_whole(history, people, client_for):
    from django.utils import timezone

    today = timezone.localdate().isoformat()
    client = client_for(people["auditor"])
    data = _export(client, since=today, until=today)
    header = _lines(data)[0]
    assert (header["first_seq"], header["last_seq"]) == (1, Event.objects.count())
    assert header["asked"]["since"] and header["asked"]["until"]
    assert exportfile.verify_export(data).ok


def test_the_command_line_exports_and_checks(history, tmp_path, django_db_blocker):
    path = tmp_path / "cli.jsonl"
    err = io.StringIO()
    call_command("audit", "export", "--from-seq", "2", "--to-seq", "5", "-o", str(path), stderr=err)
    assert "entries #2 to #5" in err.getvalue()
    with django_db_blocker.block():
        assert "entries #2 to #5 (4 entries)" in _verify_offline(path)
    out = io.StringIO()
    call_command("audit", "export", "--from-seq", "2", "--to-seq", "5", stdout=out)  # to standard output
    assert exportfile.verify_export(out.getvalue().encode("utf-8")).ok
    key = io.StringIO()
    call_command("audit", "key", stdout=key)
    assert export.key_info()["fingerprint"] in key.getvalue()


# ---- tampering -------------------------------------------------------------------------------------------


@pytest.fixture
def exported(history, people, client_for) -> list[dict]:
    return _lines(_export(client_for(people["auditor"]), from_seq=2, to_seq=history))


def _check_fails(lines_or_data, tmp_path, expected_seq, *words):
    data = lines_or_data if isinstance(lines_or_data, bytes) else _join(lines_or_data)
    result = exportfile.verify_export(data)
    assert not result.ok
    assert result.broken_seq == expected_seq, result
    for word in words:
        assert word in result.reason, result.reason
    path = tmp_path / "tampered.jsonl"
    path.write_bytes(data)
    with pytest.raises(CommandError) as failure:
        call_command("audit", "verify", "--export", str(path), stdout=io.StringIO())
    if expected_seq is not None:
        assert f"#{expected_seq}" in str(failure.value)
    return str(failure.value)


def test_a_changed_detail_is_named(exported, tmp_path):
    victim = exported[3]
    victim["details"]["code"] = "FORGED"
    _check_fails(exported, tmp_path, victim["seq"], "changed after it was written")


def test_a_changed_label_with_a_recomputed_hash_breaks_the_next_link(exported, tmp_path):
    victim = exported[3]
    victim["target_label"] = "forged"
    victim["hash"] = exportfile._digest_of(victim)
    _check_fails(exported, tmp_path, victim["seq"] + 1, "does not link to the entry before it")


def test_a_removed_middle_entry_is_named(exported, tmp_path):
    removed = exported.pop(4)
    message = _check_fails(exported, tmp_path, removed["seq"], "is missing")
    assert f"#{removed['seq']}" in message


def test_reordered_entries_are_named(exported, tmp_path):
    exported[3], exported[4] = exported[4], exported[3]
    expected = exported[4]["seq"]  # the entry that should have come first
    _check_fails(exported, tmp_path, expected, "is missing")


def test_a_changed_end_hash_is_named(exported, tmp_path):
    exported[0]["end_hash"] = "f" * 64
    _check_fails(exported, tmp_path, exported[0]["last_seq"], "end hash")


def test_a_changed_start_hash_is_named(exported, tmp_path):
    exported[0]["start_hash"] = "e" * 64
    _check_fails(exported, tmp_path, exported[0]["first_seq"], "start hash")


def test_entries_cut_off_at_the_end_are_named(exported, tmp_path):
    last = exported.pop(-2)
    _check_fails(exported, tmp_path, last["seq"], "missing")


def test_a_bad_signature_fails_naming_the_range(exported, tmp_path):
    signature = base64.b64decode(exported[-1]["signature"])
    exported[-1]["signature"] = base64.b64encode(bytes([signature[0] ^ 1]) + signature[1:]).decode()
    message = _check_fails(exported, tmp_path, None, "signature does not match")
    assert f"entries #{exported[0]['first_seq']} to #{exported[0]['last_seq']}" in message


def test_a_changed_header_fails_the_signature(exported, tmp_path):
    exported[0]["exported_by"] = "someone else"
    _check_fails(exported, tmp_path, None, "signature does not match")


def test_a_forgery_signed_with_another_key_fails_against_the_organizations_key(exported, tmp_path):
    """Someone rewrites an entry, rehashes the rest and signs with their own key: the file is consistent in
    itself, so the check against the organization's key (its fingerprint) is what catches it."""
    exported[2]["details"]["code"] = "FORGED"
    previous = exported[1]["hash"]
    for entry in exported[2:-1]:
        entry["prev_hash"] = previous
        entry["hash"] = previous = exportfile._digest_of(entry)
    header = {k: v for k, v in exported[0].items() if k not in ("format", "version", "signing_key")}
    header["end_hash"] = previous
    forger = exportfile.private_key_from_seed(b"not the organization")
    data = b"".join(exportfile.write(header, exported[1:-1], forger))
    assert exportfile.verify_export(data).ok  # consistent in itself, but signed by another key
    organization = export.key_info()["fingerprint"]
    result = exportfile.verify_export(data, organization)
    assert not result.ok and "signed with the key" in result.reason and organization in result.reason
    path = tmp_path / "forged.jsonl"
    path.write_bytes(data)
    with pytest.raises(CommandError, match="signed with the key"):
        call_command("audit", "verify", "--export", str(path), "--key", organization, stdout=io.StringIO())


def test_a_file_that_is_not_an_export_is_refused(tmp_path):
    for data, words in (
        (b"", "too short"),
        (b'{"a": 1}\n{"b": 2}\n', "not a Sharehub audit export"),
        (b'{"format": "sharehub-audit-export"', "cut short"),
    ):
        result = exportfile.verify_export(data)
        assert not result.ok and words in result.reason, (data, result.reason)
    with pytest.raises(CommandError, match="cannot read"):
        call_command("audit", "verify", "--export", str(tmp_path / "nothing.jsonl"))


# ---- bad ranges get a clear answer -----------------------------------------------------------------------


def test_a_bad_range_is_refused_naming_the_field(history, people, client_for):
    client = client_for(people["auditor"])
    response = client.get("/audit/export.jsonl", {"export-from_seq": 5, "export-to_seq": 3})
    assert response.status_code == 422
    assert response.context["export_form"].errors["to_seq"]
    beyond = client.get("/audit/export.jsonl", {"export-from_seq": history + 10})
    assert beyond.status_code == 422 and beyond.context["export_form"].errors["from_seq"]
    words = client.get("/audit/export.jsonl", {"export-from_seq": "abc"})
    assert words.status_code == 422 and words.context["export_form"].errors["from_seq"]
    nothing = client.get("/audit/export.jsonl", {"export-since": "2001-01-01", "export-until": "2001-01-02"})
    assert nothing.status_code == 422 and nothing.context["export_form"].errors["since"]
    with pytest.raises(CommandError, match="to_seq"):
        call_command("audit", "export", "--from-seq", "5", "--to-seq", "3", stdout=io.StringIO())
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("audit", "export", "--since", "yesterday", stdout=io.StringIO())


def test_the_page_shows_the_signing_key_fingerprint(history, people, client_for):
    html = client_for(people["auditor"]).get("/audit/").content.decode()
    assert export.key_info()["fingerprint"] in html
    assert 'action="/audit/export.jsonl"' in html


# ---- the key ---------------------------------------------------------------------------------------------


def test_the_signing_key_is_made_once_in_the_data_directory(monkeypatch, tmp_path):
    monkeypatch.delenv(export.KEY_ENV)
    monkeypatch.setenv("SHAREHUB_DATA_DIR", str(tmp_path))
    first = export.key_info()
    key_file = tmp_path / "keys" / export.KEY_NAME
    assert key_file.is_file() and (key_file.stat().st_mode & 0o777) == 0o600
    assert export.key_info() == first  # the same key the next time
    assert first["fingerprint"].startswith("SHA256:")


def test_the_check_runs_without_django_at_all(history, people, client_for, tmp_path):
    """`python -m sharehub.events.exportfile` needs no settings and no database: an auditor's own machine."""
    path = tmp_path / "export.jsonl"
    path.write_bytes(_export(client_for(people["auditor"])))
    environment = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    environment["PYTHONPATH"] = str(ROOT)
    ok = subprocess.run(
        [sys.executable, "-m", "sharehub.events.exportfile", str(path)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert "audit export intact" in ok.stdout
    lines = _lines(path.read_bytes())
    lines[2]["actor_name"] = "someone"
    path.write_bytes(_join(lines))
    broken = subprocess.run(
        [sys.executable, "-m", "sharehub.events.exportfile", str(path)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=60,
    )
    assert broken.returncode == 1
    assert f"entry #{lines[2]['seq']}" in broken.stderr
