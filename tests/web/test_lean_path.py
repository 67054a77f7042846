"""What a request does not pay for (issue 11, parts 3 and 4): a server worker that serves the API and
the pages never loads the segmentation dictionaries, and a bearer-token call never reads the session
table. Both are facts about imports and statements, not about time."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests import factories
from tests.api.conftest import Api

ROOT = Path(__file__).resolve().parents[2]

PREPARE = """
import json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharehub.settings")
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from sharehub import worker
from sharehub.org.services import issue_token
from tests import factories
tax = factories.department("税务局", "SWJ")
reader = factories.member(tax, "member", username="reader")
found = factories.resource(tax, title="社保缴费明细", body="按月汇总的社会保险缴费记录")
factories.resource(tax, title="营业执照登记", body="市场主体登记信息")
worker.run_once()  # the background worker indexes what was published
print(json.dumps({"token": issue_token(reader, reader, "t")[1], "id": found.pk}))
"""

SERVE = """
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharehub.settings")
import sharehub.asgi  # as a server worker starts
from django.test import Client
from sharehub.org.models import User
given = json.loads(sys.argv[1])
api = Client(HTTP_AUTHORIZATION="Bearer " + given["token"])
browser = Client()
browser.force_login(User.objects.get(username="reader"))
answers = [
    api.get(f"/api/v1/resources/{given['id']}").status_code,
    api.get("/api/v1/resources?limit=50").status_code,
    browser.get("/").status_code,
    browser.get("/resources/").status_code,
]
loaded = sorted(name for name in ("jieba", "pypinyin") if name in sys.modules)
search = api.get("/api/v1/search", {"q": "社保"})
hits = [item["id"] for item in search.json()["results"]]
pinyin = [item["id"] for item in api.get("/api/v1/search", {"q": "shebao"}).json()["results"]]
print(json.dumps({"answers": answers, "loaded_before_search": loaded, "search": search.status_code,
                  "hits": hits, "pinyin_hits": pinyin,
                  "loaded_after_search": sorted(n for n in ("jieba", "pypinyin") if n in sys.modules)}))
"""


def _python(tmp_path, code: str, *args: str) -> dict:
    """A fresh interpreter on its own SQLite data directory, as a server worker would be."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHAREHUB_") and k not in ("DATABASE_URL",)}
    env.update(SHAREHUB_DATA_DIR=str(tmp_path), SECRET_KEY=secrets.token_urlsafe(50), SHAREHUB_LANGUAGE="en")
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_worker_serving_api_and_pages_never_loads_the_dictionaries_and_its_first_search_answers(tmp_path):
    given = _python(tmp_path, PREPARE)
    seen = _python(tmp_path, SERVE, json.dumps(given))
    assert seen["answers"] == [200, 200, 200, 200]
    assert seen["loaded_before_search"] == []
    assert seen["search"] == 200
    assert seen["hits"] == [given["id"]]
    assert seen["pinyin_hits"] == [given["id"]]
    assert "jieba" in seen["loaded_after_search"]


@pytest.mark.django_db
def test_bearer_token_calls_never_touch_the_session_table(org_units):
    reader = factories.member(org_units["tax"], "member")
    resource = factories.resource(org_units["tax"])
    from sharehub.org.services import issue_token

    api = Api(token=issue_token(reader, reader, "t")[1])
    # a leftover session cookie (a browser tool, a shared client) must not make a token call read it
    api.client.cookies["sessionid"] = "x" * 32
    statements: list[str] = []

    def note(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(note):
        assert api.get(f"/resources/{resource.pk}").status_code == 200
        assert api.get("/resources", {"limit": 50}).status_code == 200
        assert api.get("/notifications").status_code == 200
    assert statements, "the calls ran no SQL at all, so this test would see nothing"
    touching = [sql for sql in statements if "django_session" in sql]
    assert touching == []
