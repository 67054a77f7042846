"""Chat-group robots (飞书, 钉钉, 企业微信) against a local receiver that checks each app's documented message
format and signature the way the app does, and answers as it does (HTTP 200 with a JSON code)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from sharehub.catalog import services as catalog
from sharehub.errors import Invalid
from sharehub.events.consumers import run_pending
from sharehub.feeds import webhooks
from sharehub.feeds.models import WebhookDelivery
from tests import factories

SECRET = "SEC0123456789abcdef"


def feishu_check(path: str, body: dict) -> dict:
    timestamp = int(body["timestamp"])
    assert abs(time.time() - timestamp) < 3600, "timestamp not within an hour"
    key = f"{timestamp}\n{SECRET}".encode()
    if body["sign"] != base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode():
        return {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}
    assert body["msg_type"] == "post"
    (line,) = body["content"]["post"]["zh_cn"]["content"]
    assert line[0]["tag"] == "text" and line[1]["tag"] == "a"
    return {"code": 0, "msg": "success", "data": {}}


def dingtalk_check(path: str, body: dict) -> dict:
    query = parse_qs(urlsplit(path).query)
    timestamp, sign = query["timestamp"][0], query["sign"][0]  # parse_qs has undone the URL encoding
    assert abs(time.time() * 1000 - int(timestamp)) < 3_600_000
    digest = hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    if sign != base64.b64encode(digest).decode():
        return {"errcode": 310000, "errmsg": "sign not match"}
    assert body["msgtype"] == "markdown" and body["markdown"]["title"] and body["markdown"]["text"]
    return {"errcode": 0, "errmsg": "ok"}


def wecom_check(path: str, body: dict) -> dict:
    assert parse_qs(urlsplit(path).query)["key"] == ["robot-key"]
    assert body["msgtype"] == "markdown" and body["markdown"]["content"]
    return {"errcode": 0, "errmsg": "ok"}


class ChatApp:
    def __init__(self, check) -> None:
        self.received: list[tuple[str, dict]] = []
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.loads(raw)
                app.received.append((self.path, body))
                answer = json.dumps(check(self.path, body)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def notice(org_units, people):
    return factories.resource(org_units["tax"], by=people["tax_steward"], title="办税指南")


@pytest.mark.parametrize(
    ("kind", "check", "path", "secret"),
    [
        ("feishu", feishu_check, "/open-apis/bot/v2/hook/robot", SECRET),
        ("dingtalk", dingtalk_check, "/robot/send?access_token=robot", SECRET),
        ("wecom", wecom_check, "/cgi-bin/webhook/send?key=robot-key", ""),
    ],
)
def test_each_robot_gets_its_format_and_signature(kind, check, path, secret, people, notice, settings):
    settings.SITE_URL = "https://sharehub.example.org"
    app = ChatApp(check)
    try:
        webhooks.register(
            people["admin"], url=app.base + path, event_types=["resource.updated"], kind=kind, robot_secret=secret,
            allow_private=True,
        )  # fmt: skip
        catalog.update_resource(people["tax_steward"], notice, {"summary": "新版"})
        run_pending()
        assert webhooks.send_due() == 1, WebhookDelivery.objects.get().error
        ((_path, body),) = app.received
        assert "办税指南" in json.dumps(body, ensure_ascii=False)
        assert f"https://sharehub.example.org/resources/{notice.code}/" in json.dumps(body, ensure_ascii=False)
    finally:
        app.server.shutdown()


def test_a_robot_refusing_in_its_answer_is_retried(people, notice):
    app = ChatApp(dingtalk_check)
    try:
        webhooks.register(
            people["admin"], url=app.base + "/robot/send?access_token=robot", event_types=["resource.updated"],
            kind="dingtalk", robot_secret="SEC-not-the-robots", allow_private=True,
        )  # fmt: skip
        catalog.update_resource(people["tax_steward"], notice, {"summary": "新版"})
        run_pending()
        assert webhooks.send_due() == 0
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == "pending" and delivery.error == "refused: 310000 sign not match"
    finally:
        app.server.shutdown()


def test_a_wecom_robot_has_no_secret_and_robots_do_not_rotate(people):
    with pytest.raises(Invalid) as error:
        webhooks.register(
            people["admin"], url="http://127.0.0.1/x", event_types=["resource."], kind="wecom", robot_secret="s",
            allow_private=True,
        )  # fmt: skip
    assert "robot_secret" in error.value.fields
    robot, secret = webhooks.register(
        people["admin"], url="http://127.0.0.1/x", event_types=["resource."], kind="feishu", allow_private=True
    )
    assert secret is None
    with pytest.raises(Invalid):
        webhooks.rotate_secret(people["admin"], robot)
