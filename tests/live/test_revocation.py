"""A grant revoked in one request is honoured on the very next request, whichever worker serves it.

The real server runs with two workers on the database the suite runs on (SQLite, or PostgreSQL with
DATABASE_URL; with REDIS_URL too, the cache and wake-ups go through Redis). The policy keeps nothing
about an actor between requests, so no worker can answer from a grant that another one revoked.
"""

from __future__ import annotations

import pytest

from tests.live.server import running_server
from tests.live.test_load import Api, _home_department, _tokens

pytestmark = pytest.mark.live

READS = 12  # new connections each, so that both workers serve some
ASK = {"purpose": "核验参保人员信息", "use_category": "verification", "period_days": 30, "accept_terms": True}


def test_a_revoked_grant_is_honoured_on_the_next_request_by_every_worker():
    with running_server(workers=2) as server:
        server.run_cli("demo", "--no-serve", "--scale", "0.1")
        tokens = _tokens(server, ["yangfan", "machao"])
        steward, grantee = Api(server, tokens["yangfan"]), Api(server, tokens["machao"])  # 税务局, 人社局
        status, resource = steward.call(
            "POST",
            "/resources",
            {
                "owner_department": _home_department(steward),
                "kind": "document",
                "title": "纳税人参保核验名单",
                "body": "有条件共享的正文",
                "sharing_type": "conditional",
                "conditions": "仅用于参保核验",
                "publish": True,
            },
        )
        assert status == 201, resource
        code = resource["code"]
        assert grantee.call("GET", f"/resources/{code}/versions")[0] == 403

        status, asked = grantee.call("POST", f"/resources/{code}/requests", ASK)
        assert status == 201, asked
        status, decided = steward.call("POST", f"/requests/{asked['id']}/approve", {"note": "同意"})
        assert status == 200 and decided["status"] == "approved", decided
        grant_id = decided["grant"]["id"]
        for _ in range(READS):
            status, versions = grantee.call("GET", f"/resources/{code}/versions")
            assert status == 200 and versions, versions
            status, body = grantee.call("GET", f"/resources/{code}")
            assert status == 200 and body["body"] == "有条件共享的正文", body

        status, revoked = steward.call("POST", f"/grants/{grant_id}/revoke", {"reason": "核验已完成"})
        assert status == 200 and revoked["revoked_at"], revoked
        for _ in range(READS):
            status, answer = grantee.call("GET", f"/resources/{code}/versions")
            assert status == 403, (status, answer)
            status, body = grantee.call("GET", f"/resources/{code}")
            assert status == 200 and not body["body"], body  # the entry stays visible, the content does not
        assert "Traceback" not in server.log(), server.log()[-4000:]
