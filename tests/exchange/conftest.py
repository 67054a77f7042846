from __future__ import annotations

import pytest

from sharehub.exchange import crypto


@pytest.fixture(autouse=True)
def data_dir(monkeypatch, tmp_path):
    """Each test gets its own data directory (so its own key file), no keys in the environment and a keyring
    read afresh."""
    path = tmp_path / "data"
    monkeypatch.setenv("SHAREHUB_DATA_DIR", str(path))
    monkeypatch.delenv(crypto.FIELD_KEYS_ENV, raising=False)
    monkeypatch.delenv(crypto.BLIND_KEY_ENV, raising=False)
    crypto.reset_keyring()
    yield path
    crypto.reset_keyring()
