"""Field keys (sharehub.exchange.crypto) and `sharehub keys`: encryption at rest, the blind index, the key file."""

from __future__ import annotations

import base64
import io
import json
import multiprocessing
import os
import stat
import subprocess
import sys
import types

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given, settings
from hypothesis import strategies as st

from sharehub.exchange import crypto
from sharehub.exchange.crypto import DecryptionError, KeyringError, UnknownKeyError, aad_for
from tests.cli.conftest import console_script

AAD = aad_for(7, "R-001", "id_number")


def b64key(fill: int | None = None) -> str:
    raw = bytes([fill]) * 32 if fill is not None else os.urandom(32)
    return base64.b64encode(raw).decode()


@pytest.fixture(autouse=True)
def data_dir(monkeypatch, tmp_path):
    """Each test gets its own data directory, no keys in the environment and a keyring read afresh."""
    path = tmp_path / "data"
    monkeypatch.setenv("SHAREHUB_DATA_DIR", str(path))
    monkeypatch.delenv(crypto.FIELD_KEYS_ENV, raising=False)
    monkeypatch.delenv(crypto.BLIND_KEY_ENV, raising=False)
    crypto.reset_keyring()
    yield path
    crypto.reset_keyring()


@pytest.fixture
def env_keys(monkeypatch):
    keys = {"k2": b64key(2), "k1": b64key(1), "blind": b64key(9)}
    monkeypatch.setenv(crypto.FIELD_KEYS_ENV, f"k2:{keys['k2']}, k1:{keys['k1']}")
    monkeypatch.setenv(crypto.BLIND_KEY_ENV, keys["blind"])
    crypto.reset_keyring()
    return keys


def no_retire(kid: str) -> int:
    raise AssertionError("in_use must not be asked")


# Encryption ---------------------------------------------------------------------------------------------------


def test_round_trip_and_token_shape():
    ring = crypto.keyring()
    token = ring.encrypt("110101199003077777", aad=AAD)
    assert token.isascii() and token.startswith("ev1.k1.")
    assert ring.is_token(token) and ring.kid_of(token) == "k1"
    assert "110101199003077777" not in token
    assert ring.decrypt(token, aad=AAD) == "110101199003077777"


@settings(max_examples=60, deadline=None)
@given(text=st.text(), dataset=st.integers(min_value=0, max_value=2**63), record=st.text(), field=st.text())
def test_round_trip_any_text(text, dataset, record, field):
    ring = crypto.keyring()
    aad = aad_for(dataset, record, field)
    assert ring.decrypt(ring.encrypt(text, aad=aad), aad=aad) == text


def test_wrong_aad_fails():
    ring = crypto.keyring()
    token = ring.encrypt("张三", aad=AAD)
    for other in (aad_for(8, "R-001", "id_number"), aad_for(7, "R-002", "id_number"), aad_for(7, "R-001", "name")):
        with pytest.raises(DecryptionError) as caught:
            ring.decrypt(token, aad=other)
        assert "张三" not in str(caught.value)


def test_aad_does_not_confuse_cells():
    assert aad_for(1, "a", "b,c") != aad_for(1, "a,b", "c")
    assert aad_for(1, "a\x1fb", "c") != aad_for(1, "a", "b\x1fc")
    with pytest.raises(TypeError):
        aad_for("1", "a", "b")


def test_tampered_token_fails():
    ring = crypto.keyring()
    token = ring.encrypt("secret salary 12000", aad=AAD)
    version, kid, nonce, sealed = token.split(".")
    flipped = sealed[:5] + ("A" if sealed[5] != "A" else "B") + sealed[6:]
    other_nonce = ("A" if nonce[0] != "A" else "B") + nonce[1:]
    for bad in (
        f"{version}.{kid}.{nonce}.{flipped}",
        f"{version}.{kid}.{other_nonce}.{sealed}",
        f"{version}.{kid}.{nonce}.{sealed[:-4]}",
        token + "x",
        "ev2" + token[3:],
        "plain text",
        "",
    ):
        with pytest.raises(DecryptionError) as caught:
            ring.decrypt(bad, aad=AAD)
        assert "12000" not in str(caught.value)
    assert not ring.is_token("plain text") and not ring.is_token(None) and not ring.is_token(token + "!")


def test_nonces_never_repeat():
    ring = crypto.keyring()
    tokens = [ring.encrypt("same", aad=AAD) for _ in range(5000)]
    nonces = {token.split(".")[2] for token in tokens}
    assert len(nonces) == len(tokens)
    assert all(len(base64.urlsafe_b64decode(n + "==")) == 12 for n in list(nonces)[:10])


def test_unknown_kid_is_named():
    ring = crypto.keyring()
    token = ring.encrypt("x", aad=AAD).replace("ev1.k1.", "ev1.k7.")
    with pytest.raises(UnknownKeyError, match="k7"):
        ring.decrypt(token, aad=AAD)


# Blind index and hash -----------------------------------------------------------------------------------------


def test_blind_index_is_deterministic_and_kind_separated():
    ring = crypto.keyring()
    first = ring.blind_index("id_number", "110101199003077777")
    assert first == ring.blind_index("id_number", "110101199003077777")
    assert len(first) == 64 and int(first, 16) >= 0
    assert first != ring.blind_index("phone", "110101199003077777")
    assert first != ring.blind_index("id_number", "110101199003077778")
    assert ring.blind_index("a", "b:c") != ring.blind_index("a:b", "c")
    with pytest.raises(ValueError):
        ring.blind_index("", "x")
    crypto.reset_keyring()
    assert crypto.keyring().blind_index("id_number", "110101199003077777") == first


def test_hash_value_and_blind_index_survive_new_key():
    ring = crypto.keyring()
    shown, index = ring.hash_value("13800138000"), ring.blind_index("phone", "13800138000")
    assert len(shown) == 16 and int(shown, 16) >= 0
    assert shown != ring.hash_value("13800138001")
    assert shown not in index  # a separate key: the shown hash is not a piece of the stored index
    crypto.new_key()
    after = crypto.keyring()
    assert after.active_kid == "k2"
    assert after.hash_value("13800138000") == shown
    assert after.blind_index("phone", "13800138000") == index


# The key file -------------------------------------------------------------------------------------------------


def test_key_file_made_0600_on_first_use(data_dir):
    path = data_dir / "field-keys.json"
    assert not path.exists()
    ring = crypto.keyring()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["active"] == "k1" == ring.active_kid
    assert set(data) == {"active", "keys", "blind", "hash", "retired"}
    assert len({data["keys"]["k1"], data["blind"], data["hash"]}) == 3
    assert ring.source == str(path)
    assert "k1" in repr(ring) and data["keys"]["k1"] not in repr(ring) and data["blind"] not in repr(ring)


def test_loose_permissions_refused(data_dir):
    crypto.keyring()
    path = data_dir / "field-keys.json"
    for mode in (0o644, 0o640, 0o604, 0o660):
        path.chmod(mode)
        crypto.reset_keyring()
        with pytest.raises(KeyringError) as caught:
            crypto.keyring()
        assert str(path) in str(caught.value) and "chmod 600" in str(caught.value)
    path.chmod(0o600)
    crypto.reset_keyring()
    assert crypto.keyring().active_kid == "k1"


SHORT_KEY = base64.b64encode(b"S" * 20).decode()


def key_file_text(**changes) -> str:
    data = {"active": "k1", "keys": {"k1": b64key(1)}, "blind": b64key(3), "hash": b64key(4), "retired": []}
    data.update(changes)
    return json.dumps(data)


BROKEN_KEY_FILES = {
    "not json": "{not json",
    "not an object": "[]",
    "not utf-8": "\xff\xfe",
    "short key": key_file_text(keys={"k1": SHORT_KEY}),
    "active not a key": key_file_text(active="k5"),
    "short blind key": key_file_text(blind=SHORT_KEY),
    "no hash key": key_file_text(hash=None),
    "dot in kid": key_file_text(keys={"k.1": b64key(1)}, active="k.1"),
    "kept and retired": key_file_text(retired=["k1"]),
    "no keys": key_file_text(keys={}),
}


@pytest.mark.parametrize("content", BROKEN_KEY_FILES.values(), ids=BROKEN_KEY_FILES.keys())
def test_malformed_key_file_gives_a_sentence(data_dir, content):
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "field-keys.json"
    path.write_text(content, encoding="latin-1")
    path.chmod(0o600)
    with pytest.raises(KeyringError) as caught:
        crypto.keyring()
    message = str(caught.value)
    assert str(path) in message and "not valid" in message
    assert SHORT_KEY not in message and b64key(1) not in message and b64key(3) not in message


def test_unwritable_data_dir_gives_a_sentence(data_dir, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(crypto.tempfile, "mkstemp", refuse)  # as in a read-only folder (root would write anyway)
    with pytest.raises(KeyringError, match=r"field-keys.json cannot be written: Permission denied"):
        crypto.keyring()
    assert not (data_dir / "field-keys.json").exists()


def _load_in_child(data_dir: str, start, results) -> None:
    os.environ["SHAREHUB_DATA_DIR"] = data_dir
    start.wait(10)
    ring = crypto.keyring()
    results.put((ring.active_kid, ring.blind_index("id", "1"), ring.hash_value("1"), ring.encrypt("hi", aad=AAD)))


def test_processes_racing_to_make_the_key_file_end_with_one_keyring(data_dir):
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    children = [context.Process(target=_load_in_child, args=(str(data_dir), start, results)) for _ in range(6)]
    for child in children:
        child.start()
    start.set()
    answers = [results.get(timeout=60) for _ in children]
    for child in children:
        child.join(30)
        assert child.exitcode == 0
    assert len({answer[:3] for answer in answers}) == 1
    ring = crypto.keyring()
    assert all(ring.decrypt(answer[3], aad=AAD) == "hi" for answer in answers)
    assert sorted(p.name for p in data_dir.iterdir() if p.name.startswith((".field-keys", "field-keys"))) == [
        "field-keys.json",
        "field-keys.json.lock",
    ]


def _new_key_in_child(data_dir: str, start, results) -> None:
    os.environ["SHAREHUB_DATA_DIR"] = data_dir
    start.wait(10)
    results.put(crypto.new_key())


def test_concurrent_new_keys_lose_none(data_dir):
    crypto.keyring()
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    children = [context.Process(target=_new_key_in_child, args=(str(data_dir), start, results)) for _ in range(4)]
    for child in children:
        child.start()
    start.set()
    made = sorted(results.get(timeout=60) for _ in children)
    for child in children:
        child.join(30)
    assert made == ["k2", "k3", "k4", "k5"]
    state = crypto.status()  # this process picks up the replaced file by itself, no reset
    assert state.kids == ("k1", "k2", "k3", "k4", "k5") and state.active_kid == "k5"


# Rotation -----------------------------------------------------------------------------------------------------


def test_new_key_keeps_old_tokens_and_encrypts_with_the_new_one(data_dir):
    old = crypto.keyring().encrypt("old value", aad=AAD)
    assert crypto.new_key() == "k2"
    ring = crypto.keyring()
    assert ring.active_kid == "k2"
    new = ring.encrypt("new value", aad=AAD)
    assert ring.kid_of(new) == "k2" and ring.kid_of(old) == "k1"
    assert ring.decrypt(old, aad=AAD) == "old value" and ring.decrypt(new, aad=AAD) == "new value"
    assert stat.S_IMODE((data_dir / "field-keys.json").stat().st_mode) == 0o600


def test_retire_refused_while_in_use_and_for_the_active_key(data_dir):
    old = crypto.keyring().encrypt("old value", aad=AAD)
    crypto.new_key()
    with pytest.raises(KeyringError, match="k2 is the active key"):
        crypto.retire("k2", in_use=no_retire)
    with pytest.raises(KeyringError, match="There is no key k9"):
        crypto.retire("k9", in_use=no_retire)
    with pytest.raises(KeyringError, match=r"k1 still encrypts stored values \(3 of them\)"):
        crypto.retire("k1", in_use=lambda kid: 3)
    assert crypto.keyring().decrypt(old, aad=AAD) == "old value"

    asked = []
    assert crypto.retire("k1", in_use=lambda kid: asked.append(kid) or 0) is True
    assert asked == ["k1"]
    data = json.loads((data_dir / "field-keys.json").read_text())
    assert list(data["keys"]) == ["k2"] and data["retired"] == ["k1"]
    state = crypto.status()
    assert state.kids == ("k2",) and state.retired == ("k1",) and not state.from_env
    with pytest.raises(UnknownKeyError, match="k1, which was retired"):
        crypto.keyring().decrypt(old, aad=AAD)
    assert crypto.retire("k1", in_use=no_retire) is False
    assert crypto.new_key() == "k3"  # a retired id is never given again


# Keys from the environment ------------------------------------------------------------------------------------


def test_env_keys_are_used_and_no_file_is_made(data_dir, env_keys, monkeypatch):
    ring = crypto.keyring()
    assert ring.active_kid == "k2" and ring.kids == ("k1", "k2")
    assert not (data_dir / "field-keys.json").exists()
    state = crypto.status()
    assert state.from_env and state.source == crypto.FIELD_KEYS_ENV and state.retired == ()
    token = ring.encrypt("x", aad=AAD)
    assert ring.kid_of(token) == "k2"

    # An older installation that had only k1 wrote a value; the rotated environment still reads it.
    monkeypatch.setenv(crypto.FIELD_KEYS_ENV, f"k1:{env_keys['k1']}")
    crypto.reset_keyring()
    old = crypto.keyring().encrypt("from k1", aad=AAD)
    shown = crypto.keyring().hash_value("x")
    monkeypatch.setenv(crypto.FIELD_KEYS_ENV, f"k2:{env_keys['k2']},k1:{env_keys['k1']}")
    crypto.reset_keyring()
    assert crypto.keyring().decrypt(old, aad=AAD) == "from k1"
    assert crypto.keyring().hash_value("x") == shown
    assert crypto.keyring().hash_value("x") not in crypto.keyring().blind_index("hash", "x")

    with pytest.raises(KeyringError, match="SHAREHUB_FIELD_KEYS"):
        crypto.new_key()
    with pytest.raises(KeyringError, match="SHAREHUB_FIELD_KEYS"):
        crypto.retire("k1", in_use=no_retire)
    assert not (data_dir / "field-keys.json").exists()


@pytest.mark.parametrize(
    ("field_keys", "blind", "names"),
    [
        ("k1:SECRETSECRET", "BLIND", "SHAREHUB_FIELD_KEYS"),
        ("k1:" + base64.b64encode(b"SECRET" * 4).decode(), "BLIND", "SHAREHUB_FIELD_KEYS"),
        ("SECRET" + b64key(1), "BLIND", "SHAREHUB_FIELD_KEYS"),
        ("k.1:" + b64key(1), "BLIND", "SHAREHUB_FIELD_KEYS"),
        ("k1:" + b64key(1) + ",k1:" + b64key(2), "BLIND", "SHAREHUB_FIELD_KEYS"),
        ("k1:" + b64key(1), "SECRETBLIND", "SHAREHUB_BLIND_INDEX_KEY"),
        ("k1:" + b64key(1), "", "SHAREHUB_BLIND_INDEX_KEY"),
        ("", "BLIND", "SHAREHUB_FIELD_KEYS"),
    ],
)
def test_malformed_env_is_named_without_the_value(monkeypatch, field_keys, blind, names):
    monkeypatch.setenv(crypto.FIELD_KEYS_ENV, field_keys)
    monkeypatch.setenv(crypto.BLIND_KEY_ENV, b64key(9) if blind == "BLIND" else blind)
    with pytest.raises(KeyringError) as caught:
        crypto.keyring()
    message = str(caught.value)
    assert names in message
    assert "SECRET" not in message and b64key(1) not in message and b64key(9) not in message


def test_no_key_material_in_errors(data_dir):
    ring = crypto.keyring()
    data = json.loads((data_dir / "field-keys.json").read_text())
    material = [data["keys"]["k1"], data["blind"], data["hash"]]
    messages = []
    token = ring.encrypt("plain", aad=AAD)
    for bad in (token[:-2] + "AA", token.replace("k1", "k4"), "nonsense"):
        try:
            ring.decrypt(bad, aad=AAD)
        except DecryptionError as error:
            messages.append(str(error) + repr(error))
    try:
        crypto.retire("k1", in_use=no_retire)
    except KeyringError as error:
        messages.append(str(error))
    assert len(messages) == 4
    for message in messages:
        assert "plain" not in message
        assert not any(key in message or key[:12] in message for key in material)


# `sharehub keys` ----------------------------------------------------------------------------------------------


def run_keys(*args: str) -> str:
    out = io.StringIO()
    call_command("keys", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def values_using(monkeypatch):
    """Stands in for sharehub.exchange.rotation (written with the models): counts per kid."""
    counts: dict[str, int] = {}
    module = types.ModuleType("sharehub.exchange.rotation")
    module.values_using = lambda kid: counts.get(kid, 0)
    monkeypatch.setitem(sys.modules, "sharehub.exchange.rotation", module)
    return counts


@pytest.mark.django_db
def test_keys_command(data_dir, values_using):
    out = run_keys("status")
    assert str(data_dir / "field-keys.json") in out and "k1" in out and "active" in out
    assert run_keys("new").strip().splitlines()[-1] == "k2"
    out = run_keys("status")
    assert "decrypts only" in out and "k2" in out
    with pytest.raises(CommandError, match="k2 is the active key"):
        run_keys("retire", "k2")
    values_using["k1"] = 12
    with pytest.raises(CommandError, match=r"12 of them"):
        run_keys("retire", "k1")
    values_using["k1"] = 0
    assert "Retired key k1" in run_keys("retire", "k1")
    assert "retired already" in run_keys("retire", "k1")
    assert "retired" in run_keys("status")
    with pytest.raises(CommandError, match="There is no key k9"):
        run_keys("retire", "k9")


@pytest.mark.django_db  # `keys status` counts the values under each key
def test_keys_command_with_env_keys(env_keys):
    assert "environment (SHAREHUB_FIELD_KEYS)" in run_keys("status")
    with pytest.raises(CommandError, match="put a new kid:base64 key first"):
        run_keys("new")


@pytest.fixture
def sharehub(tmp_path, data_dir):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env["SHAREHUB_DATA_DIR"] = str(data_dir)
    script = console_script()

    def _run(*args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [script, *args],
            env={**env, "SHAREHUB_LANGUAGE": "en", **extra},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return _run


def test_keys_through_the_sharehub_command(sharehub, data_dir):
    status = sharehub("keys", "status")
    assert status.returncode == 0, status.stderr
    assert "k1" in status.stdout
    assert "The database cannot be read" in status.stdout  # not migrated yet: no counts, no traceback
    path = data_dir / "field-keys.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    new = sharehub("keys", "new")
    assert new.returncode == 0, new.stderr
    assert new.stdout.strip().splitlines()[-1] == "k2"

    for args, expected in ((("retire", "k2"), "k2 is the active key"), (("retire", "k7"), "There is no key k7")):
        refused = sharehub("keys", *args)
        assert refused.returncode == 1
        assert expected in refused.stderr and "Traceback" not in refused.stderr

    path.chmod(0o644)
    loose = sharehub("keys", "status")
    assert loose.returncode != 0
    assert f"chmod 600 {path}" in loose.stderr and "Traceback" not in loose.stderr
    assert json.loads(path.read_text())["keys"]["k1"] not in loose.stderr

    path.chmod(0o600)
    bad_env = sharehub("keys", "status", SHAREHUB_FIELD_KEYS="k1:nope", SHAREHUB_BLIND_INDEX_KEY=b64key())
    assert bad_env.returncode != 0
    assert "SHAREHUB_FIELD_KEYS" in bad_env.stderr and "nope" not in bad_env.stderr
    assert "Traceback" not in bad_env.stderr

    env_new = sharehub("keys", "new", SHAREHUB_FIELD_KEYS=f"k1:{b64key()}", SHAREHUB_BLIND_INDEX_KEY=b64key())
    assert env_new.returncode == 1 and "SHAREHUB_FIELD_KEYS" in env_new.stderr
