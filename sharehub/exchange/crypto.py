"""Keys for dataset fields: AES-256-GCM encryption at rest, an HMAC blind index and the shown "hash" value.

Keys are never in the database (design invariant 6). They come from the environment
(SHAREHUB_FIELD_KEYS = "k2:<base64>,k1:<base64>", the first one active, and SHAREHUB_BLIND_INDEX_KEY), or
else from `<data dir>/field-keys.json`, a 0600 file made on first use:

    {"active": "k2", "keys": {"k1": b64, "k2": b64}, "blind": b64, "hash": b64, "retired": ["k0"]}

Encrypted values are tokens `ev1.<kid>.<nonce>.<ciphertext+tag>` (base64url, no padding); the additional
authenticated data, from aad_for(), binds each value to its dataset, record and field, so a value copied
into another cell does not decrypt. The blind and hash keys never rotate: blind indexes are stored and
hashes are joined on by consumers. In the environment the hash key is derived from the blind index key
(one variable per concept); in the key file it is a key of its own.

A process loads the keyring once and loads it again when the key file is replaced (`sharehub keys new` or
`retire` in another process), so every running process encrypts with the new active key soon after.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sharehub import config

FIELD_KEYS_ENV = "SHAREHUB_FIELD_KEYS"
BLIND_KEY_ENV = "SHAREHUB_BLIND_INDEX_KEY"
KEY_FILE_NAME = "field-keys.json"
TOKEN_VERSION = "ev1"
KEY_BYTES = 32
NONCE_BYTES = 12
KID = re.compile(r"[A-Za-z0-9_-]{1,16}")
_TOKEN = re.compile(r"ev1\.([A-Za-z0-9_-]{1,16})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22,})")
_KIND_SEPARATOR = b"\x1f"  # ASCII unit separator: never in a kind, so (kind, text) pairs cannot collide
_HASH_KEY_LABEL = b"sharehub exchange hash_value key v1"


def _(message: str, **params) -> str:
    """The message in the active language, or in English while Django's translations are not yet loaded."""
    try:
        from django.utils.translation import gettext

        message = gettext(message)
    except Exception:  # settings not configured or apps not ready: the English original
        pass
    return message % params if params else message


class KeyringError(config.ConfigError):
    """The keys cannot be loaded or changed; the message names the file or variable and never holds a key."""


class DecryptionError(Exception):
    """A stored value cannot be decrypted: it was changed, or it belongs to another record or field."""


class UnknownKeyError(DecryptionError):
    """A token names a key this keyring does not have (retired, or from another installation)."""


def key_file() -> Path:
    return config.data_dir() / KEY_FILE_NAME


def aad_for(dataset_id: int, record_key: str, field: str) -> bytes:
    """The additional authenticated data of one cell; JSON, so that no two cells give the same bytes."""
    if isinstance(dataset_id, bool) or not isinstance(dataset_id, int):
        raise TypeError("dataset_id must be an int")
    return json.dumps([TOKEN_VERSION, dataset_id, str(record_key), str(field)], ensure_ascii=False).encode()


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _b64url(data: bytes) -> str:
    """base64.urlsafe_b64encode without the padding, in one pass of C calls."""
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=").decode("ascii")


_URLSAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def _unb64url(text: str) -> bytes:
    """base64.urlsafe_b64decode without its layers of Python (a page of records decodes two per row)."""
    padded = (text + "=" * (-len(text) % 4)).encode("ascii").translate(_URLSAFE_TO_STANDARD)
    return binascii.a2b_base64(padded, strict_mode=True)


def _key_bytes(text: object) -> bytes | None:
    """32 bytes from standard or URL-safe base64, or None; never says what the text was."""
    if not isinstance(text, str):
        return None
    try:
        raw = base64.b64decode(text.strip().replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == KEY_BYTES else None


def _new_key_text() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


class Keyring:
    """The field keys of this process. Get it with keyring(); its repr shows key ids only."""

    def __init__(
        self,
        *,
        active_kid: str,
        keys: dict[str, bytes],
        blind_key: bytes,
        hash_key: bytes,
        retired: tuple[str, ...] = (),
        source: str,
        stamp: tuple[int, int] | None = None,
    ):
        self.active_kid = active_kid
        self.kids = tuple(sorted(keys, key=_kid_order))
        self.retired = tuple(retired)
        self.source = source
        self._ciphers = {kid: AESGCM(key) for kid, key in keys.items()}
        self._blind_key = blind_key
        self._hash_key = hash_key
        self._stamp = stamp

    def __repr__(self) -> str:
        return f"<Keyring active={self.active_kid} kids={list(self.kids)} source={self.source}>"

    def encrypt(self, plaintext: str, *, aad: bytes) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.active_kid].encrypt(nonce, plaintext.encode("utf-8"), aad)
        return f"{TOKEN_VERSION}.{self.active_kid}.{_b64url(nonce)}.{_b64url(sealed)}"

    def encryptor(self) -> Callable[[str, bytes], str]:
        """`encrypt` with the active key looked up once (an import encrypts a value per row): the same tokens."""
        seal = self._ciphers[self.active_kid].encrypt
        head = f"{TOKEN_VERSION}.{self.active_kid}."
        urandom = os.urandom

        def encrypt(plaintext: str, aad: bytes) -> str:
            nonce = urandom(NONCE_BYTES)
            return f"{head}{_b64url(nonce)}.{_b64url(seal(nonce, plaintext.encode('utf-8'), aad))}"

        return encrypt

    def decrypt(self, token: str, *, aad: bytes) -> str:
        kid, nonce, sealed = self._parse(token)
        cipher = self._ciphers.get(kid)
        if cipher is None:
            if kid in self.retired:
                raise UnknownKeyError(
                    _("This value is encrypted with key %(kid)s, which was retired; it cannot be decrypted.", kid=kid)
                )
            raise UnknownKeyError(
                _(
                    "This value is encrypted with key %(kid)s, which %(source)s does not have.",
                    kid=kid,
                    source=self.source,
                ),
            )
        try:
            return cipher.decrypt(nonce, sealed, aad).decode("utf-8")
        except (InvalidTag, UnicodeDecodeError):
            raise DecryptionError(
                _("A stored value could not be decrypted: it was changed, or it belongs to another record or field.")
            ) from None

    def kid_of(self, token: str) -> str:
        return self._parse(token)[0]

    @staticmethod
    def is_token(value: object) -> bool:
        return isinstance(value, str) and _TOKEN.fullmatch(value) is not None

    def blind_index(self, kind: str, text: str) -> str:
        """HMAC-SHA256 hex (64 chars) of kind and text; equal texts of one kind match, across datasets.

        The text is taken as given: callers normalize it first (strip, upper-case an ID number's check letter).
        """
        return self.indexer(kind)(text)

    def indexer(self, kind: str) -> Callable[[str], str]:
        """`blind_index` of one kind: a function of the text (an import digests a value of each kind per row)."""
        raw = self.raw_indexer(kind)

        def index(text: str) -> str:
            return raw(text).hex()

        return index

    def raw_indexer(self, kind: str) -> Callable[[str], bytes]:
        """`indexer` giving the 32 bytes of the HMAC, not their hex (half the memory for an import's rows)."""
        if not kind or _KIND_SEPARATOR.decode() in kind:
            raise ValueError("kind must be a non-empty name without control characters")
        head, key, digest = kind.encode("utf-8") + _KIND_SEPARATOR, self._blind_key, hmac.digest

        def index(text: str) -> bytes:
            return digest(key, head + text.encode("utf-8"), "sha256")

        return index

    def hash_value(self, text: str) -> str:
        """The value shown under the masking rule "hash": 16 hex chars, the same after every key rotation."""
        return hmac.new(self._hash_key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:16]

    def _parse(self, token: str) -> tuple[str, bytes, bytes]:
        if isinstance(token, str):  # the usual token, of a key this keyring has, without the regular expression
            parts = token.split(".")
            if len(parts) == 4 and parts[0] == TOKEN_VERSION and parts[1] in self._ciphers and len(parts[2]) == 16:
                try:
                    return parts[1], _unb64url(parts[2]), _unb64url(parts[3])
                except (binascii.Error, ValueError):
                    pass  # the checks below give the reason
        match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
        if match is None:
            raise DecryptionError(_("A stored value is not an encrypted value this version of Sharehub can read."))
        kid, nonce, sealed = match.groups()
        try:
            return kid, _unb64url(nonce), _unb64url(sealed)
        except (binascii.Error, ValueError):
            raise DecryptionError(
                _("A stored value is not an encrypted value this version of Sharehub can read.")
            ) from None

    def _stale(self) -> bool:
        """True when the key file was replaced since this keyring was read from it."""
        if self._stamp is None:
            return False
        try:
            status = os.stat(self.source)
        except OSError:
            return False  # gone: keep the keys in memory rather than make new ones that fit no stored value
        return (status.st_ino, status.st_mtime_ns) != self._stamp


def _kid_order(kid: str) -> tuple[int, str]:
    digits = re.fullmatch(r"k(\d+)", kid)
    return (int(digits.group(1)) if digits else -1, kid)


# Loading ---------------------------------------------------------------------------------------------------


def _from_env() -> Keyring | None:
    field_keys = os.environ.get(FIELD_KEYS_ENV, "").strip()
    blind = os.environ.get(BLIND_KEY_ENV, "").strip()
    if not field_keys and not blind:
        return None
    if not field_keys or not blind:
        missing, given = (FIELD_KEYS_ENV, BLIND_KEY_ENV) if not field_keys else (BLIND_KEY_ENV, FIELD_KEYS_ENV)
        raise KeyringError(
            _(
                "%(given)s is set but %(missing)s is not: set both, or neither to use the key file in the data "
                "directory.",
                given=given,
                missing=missing,
            )
        )
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for number, item in enumerate(field_keys.split(","), start=1):
        kid, sep, text = item.strip().partition(":")
        key = _key_bytes(text) if sep else None
        if not KID.fullmatch(kid) or key is None or kid in keys:
            raise KeyringError(
                _(
                    "%(name)s must list keys as kid:base64 separated by commas, the active key first, each kid once "
                    "(letters, digits, - or _) and each key 32 random bytes; item %(number)s is not like that.",
                    name=FIELD_KEYS_ENV,
                    number=number,
                )
            )
        keys[kid] = key
        order.append(kid)
    blind_key = _key_bytes(blind)
    if blind_key is None:
        raise KeyringError(_("%(name)s must be 32 random bytes in base64.", name=BLIND_KEY_ENV))
    hash_key = hmac.new(blind_key, _HASH_KEY_LABEL, hashlib.sha256).digest()
    return Keyring(active_kid=order[0], keys=keys, blind_key=blind_key, hash_key=hash_key, source=FIELD_KEYS_ENV)


def _invalid(path: Path, reason: str) -> KeyringError:
    return KeyringError(
        _("The key file %(path)s is not valid (%(reason)s); restore it from your backup.", path=path, reason=reason)
    )


def _read_file(path: Path) -> tuple[dict, tuple[int, int]]:
    """The key file's contents, checked; refuses a file that other users can read."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as error:
        raise KeyringError(
            _("The key file %(path)s cannot be opened: %(reason)s.", path=path, reason=error.strerror)
        ) from None
    with os.fdopen(fd, "rb") as handle:
        status = os.fstat(handle.fileno())
        if status.st_mode & 0o077:
            raise KeyringError(
                _(
                    "The key file %(path)s can be read by other users; run `chmod 600 %(path)s` and start again.",
                    path=path,
                )
            )
        raw = handle.read()
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _invalid(path, _("it is not UTF-8 text")) from None
    except json.JSONDecodeError as error:
        raise _invalid(path, _("not JSON at line %(line)s", line=error.lineno)) from None
    _check(path, data)
    return data, (status.st_ino, status.st_mtime_ns)


def _check(path: Path, data: object) -> None:
    if not isinstance(data, dict):
        raise _invalid(path, _("it must hold one JSON object"))
    keys, retired = data.get("keys"), data.get("retired", [])
    if not isinstance(keys, dict) or not keys:
        raise _invalid(path, _('"keys" must map key ids to keys'))
    for kid, text in keys.items():
        if not KID.fullmatch(kid):
            raise _invalid(path, _("key ids must be up to 16 letters, digits, - or _"))
        if _key_bytes(text) is None:
            raise _invalid(path, _("key %(kid)s must be 32 bytes in base64", kid=kid))
    if data.get("active") not in keys:
        raise _invalid(path, _('"active" must name one of the keys'))
    for name in ("blind", "hash"):
        if _key_bytes(data.get(name)) is None:
            raise _invalid(path, _('"%(name)s" must be 32 bytes in base64', name=name))
    if not isinstance(retired, list) or not all(isinstance(kid, str) for kid in retired):
        raise _invalid(path, _('"retired" must list key ids'))
    if set(retired) & set(keys):
        raise _invalid(path, _("a key is both kept and retired"))


def _keyring_from(path: Path, data: dict, stamp: tuple[int, int]) -> Keyring:
    return Keyring(
        active_kid=data["active"],
        keys={kid: _key_bytes(text) for kid, text in data["keys"].items()},
        blind_key=_key_bytes(data["blind"]),
        hash_key=_key_bytes(data["hash"]),
        retired=tuple(data.get("retired", [])),
        source=str(path),
        stamp=stamp,
    )


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock beside the key file, so that two writers change it one after the other."""
    try:
        fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise _unwritable(path, error) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _unwritable(path: Path, error: OSError) -> KeyringError:
    return KeyringError(
        _("The key file %(path)s cannot be written: %(reason)s.", path=path, reason=error.strerror or error)
    )


def _write(path: Path, data: dict, *, exclusive: bool) -> None:
    """Write the key file whole: a 0600 temporary file in the same folder, fsync, then rename or link.

    exclusive=True links the file into place, which fails if it exists, so a first-run race never
    replaces keys another process may already have used.
    """
    try:
        _write_file(path, data, exclusive=exclusive)
    except FileExistsError:
        raise
    except OSError as error:
        raise _unwritable(path, error) from None


def _write_file(path: Path, data: dict, *, exclusive: bool) -> None:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # O_EXCL, mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            os.link(temp, path)
        else:
            os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _create(path: Path) -> None:
    """Make the key file on first use; if another process makes it first, keep theirs."""
    with _locked(path):
        if path.exists():
            return
        data = {
            "active": "k1",
            "keys": {"k1": _new_key_text()},
            "blind": _new_key_text(),
            "hash": _new_key_text(),
            "retired": [],
        }
        with contextlib.suppress(FileExistsError):
            _write(path, data, exclusive=True)


def _from_file() -> Keyring:
    path = key_file()
    if not path.exists():
        _create(path)
    data, stamp = _read_file(path)
    return _keyring_from(path, data, stamp)


_keyring: Keyring | None = None
_loading = threading.Lock()


def keyring() -> Keyring:
    """This process's keyring: read once, and again after the key file was replaced."""
    global _keyring
    current = _keyring
    if current is not None and not current._stale():
        return current
    with _loading:
        if _keyring is None or _keyring._stale():
            _keyring = _from_env() or _from_file()
        return _keyring


def reset_keyring() -> None:
    """Forget the loaded keys; the next keyring() reads the environment or key file again (tests, key changes)."""
    global _keyring
    with _loading:
        _keyring = None


# Key management (`sharehub keys`) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyStatus:
    active_kid: str
    kids: tuple[str, ...]  # keys that decrypt, the active one among them
    retired: tuple[str, ...]
    source: str  # "SHAREHUB_FIELD_KEYS" or the key file's path
    from_env: bool


def status() -> KeyStatus:
    ring = keyring()
    return KeyStatus(
        active_kid=ring.active_kid,
        kids=ring.kids,
        retired=ring.retired,
        source=ring.source,
        from_env=ring.source == FIELD_KEYS_ENV,
    )


def _file_only(refusal: str) -> Path:
    if _from_env() is not None:
        raise KeyringError(refusal)
    path = key_file()
    if not path.exists():
        _create(path)
    return path


def new_key() -> str:
    """Add a random key and make it active; the older keys stay to decrypt what they encrypted. Returns its id."""
    path = _file_only(
        _(
            "The keys come from %(name)s, so Sharehub cannot add one; put a new kid:base64 key first in %(name)s "
            "(keep the others after it) and restart.",
            name=FIELD_KEYS_ENV,
        )
    )
    with _locked(path):
        data, _stamp = _read_file(path)
        used = [_kid_order(kid)[0] for kid in [*data["keys"], *data.get("retired", [])]]
        kid = f"k{max([0, *used]) + 1}"  # never an id used before, retired ones included
        data["keys"][kid] = _new_key_text()
        data["active"] = kid
        _write(path, data, exclusive=False)
    reset_keyring()
    return kid


def retire(kid: str, *, in_use: Callable[[str], int]) -> bool:
    """Remove a key's material once no stored value uses it; its id stays listed as retired.

    Returns False when the key was retired already. in_use(kid) counts the stored values encrypted with it.
    """
    path = _file_only(
        _(
            "The keys come from %(name)s, so Sharehub cannot retire one; remove it from %(name)s and restart.",
            name=FIELD_KEYS_ENV,
        )
    )
    with _locked(path):
        data, _stamp = _read_file(path)
        if kid in data.get("retired", []):
            return False
        if kid not in data["keys"]:
            raise KeyringError(_("There is no key %(kid)s; `sharehub keys status` lists them.", kid=kid[:40]))
        if kid == data["active"]:
            raise KeyringError(
                _(
                    "Key %(kid)s is the active key; make a new one with `sharehub keys new`, re-encrypt the stored "
                    "values, then retire %(kid)s.",
                    kid=kid,
                )
            )
        count = in_use(kid)
        if count > 0:
            raise KeyringError(
                _(
                    "Key %(kid)s still encrypts stored values (%(count)s of them); re-encrypt them with the active "
                    "key first.",
                    kid=kid,
                    count=count,
                )
            )
        del data["keys"][kid]
        data["retired"] = [*data.get("retired", []), kid]
        _write(path, data, exclusive=False)
    reset_keyring()
    return True
