"""How a dataset's parsed values are stored and read back: encrypted fields as AES-GCM tokens bound
to (dataset, record key, field), the record key and identifier fields as HMAC digests, and a keyed
fingerprint of the whole row so that importing the same row again changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import cached_property
from json.encoder import encode_basestring
from typing import Any, NamedTuple

from sharehub.exchange import crypto
from sharehub.exchange.models import ENCRYPTED_LEVELS, Dataset
from sharehub.exchange.types import FieldType, index_text

# Types whose values identify a person or an organization: digested for one-source detection.
IDENTIFIER_TYPES = (FieldType.RESIDENT_ID, FieldType.CREDIT_CODE, FieldType.PHONE, FieldType.EMAIL)

# json.dumps(..., ensure_ascii=False[, separators=(",", ":")]) without building an encoder at each call.
_PLAIN_JSON = json.JSONEncoder(ensure_ascii=False).encode
_CANONICAL_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Prepared(NamedTuple):
    """A row as writing it stores it (`Codec.prepare`), made before the write transaction opens. Digests are
    kept as bytes, their hex made when written: a file's rows are all held until then."""

    raw_fingerprint: bytes
    text: str  # the stored values as the database's JSON text (Django's json.dumps), for the record and its change
    subject: str
    digested: tuple[str, ...]  # the digested fields that hold a value (one tuple shared by the rows alike)
    raw_digests: bytes  # their digests, 32 bytes each, in that order

    @property
    def fingerprint(self) -> str:
        return self.raw_fingerprint.hex()

    @property
    def digests(self) -> list[tuple[str, str]]:
        """(field name, digest) of the fields `Codec.digests` gives, in its order."""
        raw = self.raw_digests
        return [(name, raw[32 * i : 32 * i + 32].hex()) for i, name in enumerate(self.digested)]


class Codec:
    """The storage rules of one dataset's current schema."""

    def __init__(self, dataset: Dataset, fields: Sequence) -> None:
        self.dataset_id = dataset.pk
        self.fields = list(fields)
        self.by_name = {f.name: f for f in self.fields}
        self.key_fields = [self.by_name[name] for name in dataset.key_fields if name in self.by_name]
        self.encrypted = {f.name for f in self.fields if f.sensitivity in ENCRYPTED_LEVELS}
        self.digested = [f for f in self.fields if f.name in self.encrypted or f.type in IDENTIFIER_TYPES]
        subject = self.by_name.get(dataset.subject_field) if dataset.consent_required else None
        self.subject_field = subject
        self.keyring = crypto.keyring()
        # A cell's AAD is `crypto.aad_for(dataset, record key, field)`, JSON whose head is the same for the whole
        # dataset: built once here, so a cell encodes only its key and field name (a page of records decrypts a
        # value per row, and json.dumps of the whole list was a tenth of the page's time).
        self._aad_head = None
        if isinstance(self.dataset_id, int) and not isinstance(self.dataset_id, bool):
            self._aad_head = json.dumps([crypto.TOKEN_VERSION, self.dataset_id], ensure_ascii=False)[:-1] + ", "

    # The write side's keyed functions, made once per codec: an import calls each of them for every row.
    @cached_property
    def _key_index(self) -> Callable[[str], str]:
        return self.keyring.indexer(f"key:{self.dataset_id}")

    @cached_property
    def _row_index(self) -> Callable[[str], str]:
        return self.keyring.indexer(f"row:{self.dataset_id}")

    @cached_property
    def _raw_row_index(self) -> Callable[[str], bytes]:
        return self.keyring.raw_indexer(f"row:{self.dataset_id}")

    @cached_property
    def _value_indexes(self) -> dict[str, Callable[[str], str]]:
        return {}

    @cached_property
    def _raw_digesters(self) -> list[tuple[str, str, Callable[[str], bytes]]]:
        return [(f.name, f.type, self.keyring.raw_indexer(f"value:{f.type}")) for f in self.digested]

    @cached_property
    def _digested_names(self) -> dict[tuple[str, ...], tuple[str, ...]]:
        return {}

    @cached_property
    def _encrypt(self) -> Callable[[str, bytes], str]:
        return self.keyring.encryptor()

    def _value_indexer(self, field_type: str) -> Callable[[str], str]:
        index = self._value_indexes.get(field_type)
        if index is None:
            index = self._value_indexes[field_type] = self.keyring.indexer(f"value:{field_type}")
        return index

    def key_of(self, values: dict[str, Any]) -> str:
        """The record key's digest, bound to this dataset (keys of two datasets never compare equal)."""
        parts = [index_text(f.type, values.get(f.name)) for f in self.key_fields]
        return self._key_index("\x1f".join(parts))

    def digest(self, field, value) -> str:
        """A field value's digest: depends on the type and the value only, so it matches across datasets."""
        return self._value_indexer(field.type)(index_text(field.type, value))

    def digests(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        return [(f.name, self.digest(f, values[f.name])) for f in self.digested if values.get(f.name) is not None]

    def subject_of(self, values: dict[str, Any]) -> str:
        field = self.subject_field
        if field is None or values.get(field.name) is None:
            return ""
        return self.digest(field, values[field.name])

    def fingerprint(self, values: dict[str, Any]) -> str:
        return self._row_index(_CANONICAL_JSON([values.get(f.name) for f in self.fields]))

    def _raw_fingerprint(self, values: dict[str, Any]) -> bytes:
        return self._raw_row_index(_CANONICAL_JSON([values.get(f.name) for f in self.fields]))

    def aad(self, key: str, name: str) -> bytes:
        """The same bytes as `crypto.aad_for(self.dataset_id, key, name)` (json.dumps writes a str with
        `encode_basestring` when ensure_ascii is off; a test compares the two)."""
        if self._aad_head is None:
            return crypto.aad_for(self.dataset_id, key, name)
        return f"{self._aad_head}{encode_basestring(str(key))}, {encode_basestring(str(name))}]".encode()

    def store(self, key: str, values: dict[str, Any]) -> dict[str, Any]:
        stored = {}
        for field in self.fields:
            value = values.get(field.name)
            if value is None:
                continue
            if field.name in self.encrypted:
                value = self._encrypt(_PLAIN_JSON(value), self.aad(key, field.name))
            stored[field.name] = value
        return stored

    def prepare(self, key: str, values: dict[str, Any]) -> Prepared:
        """What writing a row stores: its fingerprint, its encrypted values as JSON text, subject and digests."""
        names, digests = [], []
        for name, field_type, index in self._raw_digesters:
            value = values.get(name)
            if value is not None:
                names.append(name)
                digests.append(index(index_text(field_type, value)))
        digested = tuple(names)
        digested = self._digested_names.setdefault(digested, digested)
        return Prepared(
            self._raw_fingerprint(values),
            json.dumps(self.store(key, values)),
            self.subject_of(values),
            digested,
            b"".join(digests),
        )

    def reveal(self, key: str, stored: dict[str, Any], names: Sequence[str] | None = None) -> dict[str, Any]:
        """Plain values of the named fields (all by default); encrypted ones are decrypted."""
        plain = {}
        for name in names if names is not None else self.by_name:
            value = stored.get(name)
            if value is not None and name in self.encrypted:
                value = json.loads(self.keyring.decrypt(value, aad=self.aad(key, name)))
            plain[name] = value
        return plain

    def hasher(self, text: str) -> str:
        return self.keyring.hash_value(text)
