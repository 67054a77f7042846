"""The signed, verifiable export of a range of the event chain, and its offline check.

An export is a JSON Lines file (UTF-8, one JSON object a line, each line ending in "\\n"):

1. a header: ``{"format": "sharehub-audit-export", "version": 1, "first_seq", "last_seq", "count",
   "start_hash" (the hash of the entry before the first one: the first entry links to it), "end_hash" (the
   last entry's hash), "exported_at", "exported_by", "asked" (the range asked for), "signing_key"
   ({"algorithm": "Ed25519", "public_key": base64 of the raw 32-byte key, "fingerprint": "SHA256:..."})}``;
2. one line per entry, in sequence order, with every field its hash is computed from (see
   `chain.event_digest`): seq, created_at, actor_id, actor_name, action, target_type, target_id,
   target_label, departments, details, prev_hash, and its hash;
3. the signature: ``{"signature": base64 Ed25519 signature, "signed_sha256": hex}``, where the signed
   message is ``b"sharehub-audit-export-v1\\n"`` followed by the hex SHA-256 of the bytes of every line
   before it (header and entries, newlines included).

`verify_export` checks a file with nothing but this module, `chain.event_digest` and the `cryptography`
package: no database, no settings. It proves that the entries are unaltered and contiguous, that the first
links to the stated start hash and the last ends in the stated end hash, and that whoever holds the signing
key vouched for the file. Comparing the end hash (or the key's fingerprint) with the organization's live
chain (`sharehub audit verify`, the audit page) shows that it is the organization's chain.

This module imports nothing from Django, so that `python -m sharehub.events.exportfile FILE` works on a
machine without a Sharehub installation's settings or database.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sharehub.events.chain import GENESIS_HASH, event_digest

FORMAT = "sharehub-audit-export"
VERSION = 1
SIGNED_PREFIX = b"sharehub-audit-export-v1\n"
ENTRY_FIELDS = (
    "seq", "created_at", "actor_id", "actor_name", "action", "target_type", "target_id", "target_label",
    "departments", "details", "prev_hash", "hash",
)  # fmt: skip


def line(value: dict) -> bytes:
    """One line of an export: canonical JSON (sorted keys, no spaces, UTF-8) and a newline."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8") + b"\n"


def moment(value: datetime) -> str:
    """A time as the chain hashes it (UTC, microseconds)."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


# ---- keys --------------------------------------------------------------------------------------------------


def private_key_from_seed(seed: bytes):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"sharehub audit signing key\n" + seed).digest())


def public_key_bytes(private_key) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def fingerprint(public_key: bytes) -> str:
    """Like OpenSSH's: "SHA256:" and the unpadded base64 of the key's SHA-256."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(public_key).digest()).decode("ascii").rstrip("=")


def signing_key_info(private_key) -> dict:
    public = public_key_bytes(private_key)
    return {
        "algorithm": "Ed25519",
        "public_key": base64.b64encode(public).decode("ascii"),
        "fingerprint": fingerprint(public),
    }


def signed_message(sha256_hex: str) -> bytes:
    return SIGNED_PREFIX + sha256_hex.encode("ascii")


# ---- writing -----------------------------------------------------------------------------------------------


def write(header: dict, entries: Iterable[dict], private_key) -> Iterator[bytes]:
    """The lines of an export: the header, the entries, then the signature over all of them."""
    running = hashlib.sha256()
    header = {
        **header,
        "format": FORMAT,
        "version": VERSION,
        "signing_key": signing_key_info(private_key),
    }
    first = line(header)
    running.update(first)
    yield first
    for entry in entries:
        data = line({name: entry[name] for name in ENTRY_FIELDS})
        running.update(data)
        yield data
    digest = running.hexdigest()
    signature = private_key.sign(signed_message(digest))
    yield line({"signature": base64.b64encode(signature).decode("ascii"), "signed_sha256": digest})


# ---- checking ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportCheck:
    ok: bool
    checked: int = 0
    broken_seq: int | None = None  # the first entry that does not hold (None: the file as a whole)
    reason: str = ""
    first_seq: int | None = None
    last_seq: int | None = None
    start_hash: str = ""
    end_hash: str = ""
    fingerprint: str = ""


def _fail(reason: str, checked: int = 0, seq: int | None = None, header: dict | None = None) -> ExportCheck:
    header = header or {}
    return ExportCheck(
        False,
        checked,
        seq,
        reason,
        header.get("first_seq"),
        header.get("last_seq"),
        str(header.get("start_hash", "")),
        str(header.get("end_hash", "")),
        str((header.get("signing_key") or {}).get("fingerprint", "")),
    )


def _json(raw: bytes):
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _is_hash(value) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _digest_of(entry: dict) -> str:
    return event_digest(
        seq=entry["seq"],
        created_at=datetime.fromisoformat(entry["created_at"]),
        actor_id=entry["actor_id"],
        actor_name=entry["actor_name"],
        action=entry["action"],
        target_type=entry["target_type"],
        target_id=entry["target_id"],
        target_label=entry["target_label"],
        department_ids=entry["departments"],
        details=entry["details"],
        prev_hash=entry["prev_hash"],
    )


def _check_header(header) -> str:
    if header is None or header.get("format") != FORMAT:
        return "this is not a Sharehub audit export (its first line is not the export's header)"
    if header.get("version") != VERSION:
        return f"this export is of version {header.get('version')!r}; this check reads version {VERSION}"
    first, last, count = header.get("first_seq"), header.get("last_seq"), header.get("count")
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (first, last, count)) or first < 1:
        return "the header does not state the range (first_seq, last_seq, count)"
    if not _is_hash(header.get("start_hash")) or not _is_hash(header.get("end_hash")):
        return "the header does not state the start and end hashes"
    if first == 1 and header["start_hash"] != GENESIS_HASH:
        return "the header's start hash is not the chain's beginning, though the range starts at entry #1"
    key = header.get("signing_key")
    if not isinstance(key, dict) or key.get("algorithm") != "Ed25519" or not isinstance(key.get("public_key"), str):
        return "the header does not name an Ed25519 signing key"
    return ""


def _public_key(text: str):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        raw = base64.b64decode(text, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw), raw
    except ValueError:
        return None, b""


def verify_export(data: bytes, trusted_key: str | None = None) -> ExportCheck:
    """Check an export offline; the first entry that does not hold is named. `trusted_key`: the public key
    (base64) or its fingerprint ("SHA256:...") the file must be signed with; without it the file's own key
    is used and its fingerprint reported, to be compared with the organization's."""
    from cryptography.exceptions import InvalidSignature

    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    else:
        return _fail("the file does not end with a complete line: it was cut short")
    if len(lines) < 2:
        return _fail("the file is too short to be an export (a header, entries and a signature)")
    header = _json(lines[0])
    problem = _check_header(header)
    if problem:
        return _fail(problem, header=header if isinstance(header, dict) else None)
    expected_seq, prev_hash, checked = header["first_seq"], header["start_hash"], 0
    last_hash = None
    for number, raw in enumerate(lines[1:-1], start=2):
        entry = _json(raw)
        if entry is None or not all(name in entry for name in ENTRY_FIELDS):
            return _fail(
                f"line {number} is not a whole entry (entry #{expected_seq} was expected there)",
                checked,
                expected_seq,
                header,
            )
        seq = entry["seq"]
        if seq != expected_seq:
            if isinstance(seq, int) and seq > expected_seq:
                reason = f"entry #{expected_seq} is missing (entry #{seq} comes after #{expected_seq - 1})"
            else:
                reason = f"entry #{seq} is out of place (entry #{expected_seq} was expected there)"
            return _fail(reason, checked, expected_seq, header)
        if entry["prev_hash"] != prev_hash:
            where = "the start hash stated in the export" if checked == 0 else "the entry before it"
            return _fail(f"entry #{seq} does not link to {where}", checked, seq, header)
        try:
            digest = _digest_of(entry)
        except (TypeError, ValueError):
            digest = None
        if digest != entry["hash"]:
            return _fail(
                f"entry #{seq} was changed after it was written (its content does not give its hash)",
                checked,
                seq,
                header,
            )
        prev_hash = last_hash = entry["hash"]
        expected_seq += 1
        checked += 1
    stated = f"the export states #{header['first_seq']} to #{header['last_seq']}, {header['count']} entries"
    if expected_seq - 1 < header["last_seq"]:
        return _fail(f"entries after #{expected_seq - 1} are missing ({stated})", checked, expected_seq, header)
    if expected_seq - 1 > header["last_seq"]:
        seq = header["last_seq"] + 1
        return _fail(f"entry #{seq} is beyond the range the export states ({stated})", checked, seq, header)
    if checked != header["count"]:
        return _fail(f"the export holds {checked} entries ({stated})", checked, None, header)
    if last_hash != header["end_hash"]:
        return _fail(
            f"the end hash stated in the export is not the hash of its last entry #{header['last_seq']}",
            checked,
            header["last_seq"],
            header,
        )
    signature_line = _json(lines[-1])
    key, raw_key = _public_key(header["signing_key"]["public_key"])
    print_fingerprint = fingerprint(raw_key) if raw_key else ""
    span = f"entries #{header['first_seq']} to #{header['last_seq']}"
    if key is None:
        return _fail("the header's signing key is not an Ed25519 public key", checked, None, header)
    if trusted_key and trusted_key not in (header["signing_key"]["public_key"], print_fingerprint):
        return _fail(
            f"the export is signed with the key {print_fingerprint}, not with the key it should be signed with "
            f"({trusted_key}); {span} are not vouched for",
            checked,
            None,
            header,
        )
    if signature_line is None or not isinstance(signature_line.get("signature"), str):
        return _fail(f"the signature line is missing or unreadable; {span} are not vouched for", checked, None, header)
    digest = hashlib.sha256(b"".join(raw + b"\n" for raw in lines[:-1])).hexdigest()
    try:
        key.verify(base64.b64decode(signature_line["signature"], validate=True), signed_message(digest))
    except (InvalidSignature, ValueError):
        return _fail(
            f"the signature does not match the file: the export was changed after it was signed, or signed by "
            f"another key; {span} are not vouched for",
            checked,
            None,
            header,
        )
    return ExportCheck(
        True,
        checked,
        None,
        "",
        header["first_seq"],
        header["last_seq"],
        header["start_hash"],
        header["end_hash"],
        print_fingerprint,
    )


def summary(result: ExportCheck) -> str:
    """One sentence for a person (English, as the command line speaks)."""
    if result.ok:
        return (
            f"audit export intact: entries #{result.first_seq} to #{result.last_seq} ({result.checked} entries), "
            f"start hash {result.start_hash}, end hash {result.end_hash}, signed by key {result.fingerprint}"
        )
    where = f" at entry #{result.broken_seq}" if result.broken_seq is not None else ""
    return f"audit export broken{where}: {result.reason} ({result.checked} entries before it are intact)"


def main(argv: list[str] | None = None) -> int:
    """`python -m sharehub.events.exportfile FILE [TRUSTED_KEY]`: the offline check without Django."""
    args = sys.argv[1:] if argv is None else argv
    if not args or len(args) > 2:
        print("usage: python -m sharehub.events.exportfile EXPORT.jsonl [PUBLIC_KEY_OR_FINGERPRINT]", file=sys.stderr)
        return 2
    try:
        with open(args[0], "rb") as handle:
            data = handle.read()
    except OSError as error:
        print(f"cannot read {args[0]}: {error.strerror}", file=sys.stderr)
        return 2
    result = verify_export(data, args[1] if len(args) > 1 else None)
    print(summary(result), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
