from __future__ import annotations

import pytest
from django.test import Client

from tests import factories
from tests.passwords import FAST_HASHERS


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory) -> None:
    """The SQLite test database is a file in WAL mode, as it is in use. Django's default, one in-memory
    database in a cache shared by the connections, locks tables: a thread reading a table another
    thread is writing fails at once with "database table is locked" instead of reading its snapshot,
    and tests with threads (the server's delivery thread, search's helper) failed by chance."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("database") / "test.sqlite3")


@pytest.fixture(autouse=True, scope="session")
def _fast_passwords():
    """Argon2 at the smallest cost for the whole run (tests/passwords.py): people are made everywhere."""
    from django.test.utils import override_settings

    with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        yield


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    """Each test writes files into its own folder, and no background worker thread runs."""
    settings.BLOB_DIR = tmp_path / "blobs"
    settings.SERVER_RUNS_WORKER = False


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """API rate-limit counters live in the cache; each test starts with none (ids repeat across tests)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def org_units(db):
    """A small organization: 税务局, 人社局 with a sub-unit 社保中心, and 卫健委."""
    tax = factories.department("税务局", "SWJ")
    hr = factories.department("人力资源和社会保障局", "RSJ")
    social = factories.department("社会保险中心", "SBZX", parent=hr)
    health = factories.department("卫生健康委员会", "WJW")
    return {"tax": tax, "hr": hr, "social": social, "health": health}


@pytest.fixture
def people(org_units):
    return {
        "tax_steward": factories.member(org_units["tax"], "steward", username="tax_steward"),
        "tax_member": factories.member(org_units["tax"], "member", username="tax_member"),
        "hr_head": factories.member(org_units["hr"], "head", username="hr_head"),
        "social_member": factories.member(org_units["social"], "member", username="social_member"),
        "health_member": factories.member(org_units["health"], "member", username="health_member"),
        "admin": factories.person("admin", admin=True),
        "auditor": factories.person("auditor", auditor=True),
    }


def login_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def client_for():
    return login_client


@pytest.fixture(autouse=True)
def _english_unless_asked(settings):
    """Tests read English messages; tests of the Chinese UI ask for zh-hans explicitly."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True, scope="session")
def _field_keys():
    """Field-encryption keys for the whole run from the environment, so no test writes a key file into
    the working directory (tests of the key file itself clear these)."""
    import base64
    import os

    from sharehub.exchange import crypto

    saved = {name: os.environ.get(name) for name in (crypto.FIELD_KEYS_ENV, crypto.BLIND_KEY_ENV)}
    os.environ[crypto.FIELD_KEYS_ENV] = "t1:" + base64.b64encode(b"k" * 32).decode()
    os.environ[crypto.BLIND_KEY_ENV] = base64.b64encode(b"b" * 32).decode()
    crypto.reset_keyring()
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    crypto.reset_keyring()
