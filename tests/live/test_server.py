"""The live-server helper itself: it serves, its CLI reaches the same database, and it cleans up."""

from __future__ import annotations

import json
import os
import urllib.request

import pytest

from tests.live.server import running_server

pytestmark = pytest.mark.live


def _live_database_exists(url: str) -> bool:
    import psycopg

    from tests.live.server import _postgres_admin_url

    name = url.rsplit("/", 1)[-1]
    with psycopg.connect(_postgres_admin_url(url), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def test_running_server_serves_and_shares_its_database():
    with running_server() as server:
        server.run_cli("demo", "--no-serve", "--scale", "0.05")
        raw = server.run_cli("token", "create", "admin").stdout.strip().splitlines()[-1]
        request = urllib.request.Request(server.base_url + "/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.load(response)["username"] == "admin"
        data_dir, process, live_url = server.data_dir, server.process, server.env.get("DATABASE_URL")
        if os.environ.get("DATABASE_URL"):
            assert live_url.endswith("_live") and live_url != os.environ["DATABASE_URL"]
            assert _live_database_exists(live_url)
    assert process.poll() is not None
    assert not data_dir.exists()
    if live_url:
        assert not _live_database_exists(live_url)
