from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _audit_signing_key(monkeypatch):
    """The export signing key from the environment, so that no test writes a key file into the working
    directory (the test of the key file points the data directory at a temporary folder instead)."""
    from sharehub.events import export

    monkeypatch.setenv(export.KEY_ENV, "test-audit-signing-secret")
