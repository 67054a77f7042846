"""Datasets with records for the exchange tests: 税务局's taxpayer registrations (conditional)."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.utils import timezone

from sharehub.access.models import Grant
from sharehub.exchange import crypto, schema, services
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


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


TAX_FIELDS = [
    {"name": "credit_code", "type": "credit_code", "sensitivity": "public", "label_zh": "统一社会信用代码",
     "required": True},
    {"name": "name", "type": "text", "sensitivity": "internal", "label_zh": "纳税人名称"},
    {"name": "legal_person", "type": "text", "sensitivity": "sensitive", "masking": "partial",
     "label_zh": "法定代表人"},
    {"name": "legal_id", "type": "resident_id", "sensitivity": "sensitive", "masking": "partial"},
    {"name": "phone", "type": "phone", "sensitivity": "internal", "masking": "partial"},
    {"name": "revenue", "type": "decimal", "sensitivity": "internal", "masking": "hidden"},
    {"name": "registered", "type": "date", "sensitivity": "public"},
    {"name": "risk_note", "type": "text", "sensitivity": "secret"},
]  # fmt: skip

ROWS = [
    {"credit_code": "91350100M000100Y43", "name": "福州示例科技有限公司", "legal_person": "张三",
     "legal_id": "11010519491231002X", "phone": "13812345678", "revenue": "1200000.50",
     "registered": "2015-03-02", "risk_note": "重点关注"},
    {"credit_code": "91310115798984123F", "name": "上海样例贸易有限公司", "legal_person": "李四光",
     "legal_id": "110105198001011238", "phone": "021-61234567", "revenue": "880000",
     "registered": "2018-11-20", "risk_note": ""},
]  # fmt: skip


@pytest.fixture
def tax_dataset(org_units, people):
    resource = factories.resource(
        org_units["tax"], by=people["tax_steward"], kind="dataset", sharing_type="conditional", title="纳税人登记信息"
    )
    schema.change_dataset(people["tax_steward"], resource, TAX_FIELDS, key_fields=["credit_code"])
    return resource


@pytest.fixture
def loaded(tax_dataset, people):
    services.upsert(people["tax_member"], tax_dataset, ROWS)
    return tax_dataset


def grant(resource, *, department=None, user=None, fields=(), days: int = 30) -> Grant:
    now = timezone.now()
    return Grant.objects.create(
        resource=resource,
        grantee_department=department,
        grantee_user=user,
        purpose="社保稽核",
        fields=list(fields),
        valid_from=now - timedelta(minutes=1),
        valid_until=now + timedelta(days=days),
    )


@pytest.fixture
def scratch(tmp_path, data_dir):
    """The real `sharehub` script against its own database: a file in the data directory on SQLite, a
    scratch database on PostgreSQL (the test database's rows live in a transaction no other process sees)."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(SHAREHUB_DATA_DIR=str(data_dir), SHAREHUB_LANGUAGE="en", PYTHONPATH=str(ROOT))
    name = None
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        import psycopg

        base = urlsplit(os.environ["DATABASE_URL"])
        name = f"{base.path.lstrip('/')}_scratch_{os.getpid()}"
        admin_url = urlunsplit(base._replace(path="/postgres"))
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = urlunsplit(base._replace(path=f"/{name}"))
    else:
        env.pop("DATABASE_URL", None)

    class Scratch:
        environ = env

        def query(self, sql: str) -> list[tuple]:
            if name:
                with psycopg.connect(env["DATABASE_URL"]) as db:
                    return db.execute(sql).fetchall()
            with closing(sqlite3.connect(data_dir / "sharehub.sqlite3", timeout=20)) as db:
                return db.execute(sql).fetchall()

    yield Scratch()
    if name:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
