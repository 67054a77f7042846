"""The group robots of Chinese chat apps, where many organizations already live: each one's message format,
signing scheme and answer, for a webhook endpoint of that kind (the robot's address and, where the chat app
gives one, its signing secret).

- Feishu (飞书) custom bot: JSON `{"msg_type": "post", ...}`; signed with `timestamp` (seconds) and
  `sign` = base64(HMAC-SHA256 keyed with "timestamp\\nsecret" over an empty message) in the body.
- DingTalk (钉钉) custom robot: JSON `{"msgtype": "markdown", ...}`; signed with `timestamp` (ms) and
  `sign` = urlencode(base64(HMAC-SHA256 keyed with the secret over "timestamp\\nsecret")) in the address.
- WeCom (企业微信) group robot: JSON `{"msgtype": "markdown", ...}`; the address's key authenticates.

Each answers HTTP 200 even when it refuses a message: the JSON code (`code`/`StatusCode` for Feishu,
`errcode` for the others) says whether it was taken."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import quote_plus

from sharehub.feeds.models import WebhookEndpoint

Kind = WebhookEndpoint.Kind
MAX_TEXT = 2000


def message(kind: str, title: str, text: str, link: str) -> dict:
    """The robot's message body (unsigned) for one event."""
    text = text[:MAX_TEXT]
    if kind == Kind.FEISHU:
        line = [{"tag": "text", "text": text}]
        if link:
            line.append({"tag": "a", "text": " ↗", "href": link})
        return {"msg_type": "post", "content": {"post": {"zh_cn": {"title": title, "content": [line]}}}}
    markdown = f"**{title}**\n\n{text}" + (f"\n\n[{link}]({link})" if link else "")
    if kind == Kind.DINGTALK:
        return {"msgtype": "markdown", "markdown": {"title": title, "text": markdown}}
    return {"msgtype": "markdown", "markdown": {"content": markdown}}


def feishu_sign(secret: str, timestamp: int) -> str:
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def request(kind: str, url: str, body: dict, secret: str, now_seconds: float) -> tuple[str, bytes]:
    """(address, body bytes) to POST, signed when there is a secret."""
    if kind == Kind.FEISHU and secret:
        timestamp = int(now_seconds)
        body = {"timestamp": str(timestamp), "sign": feishu_sign(secret, timestamp), **body}
    elif kind == Kind.DINGTALK and secret:
        timestamp_ms = int(now_seconds * 1000)
        joiner = "&" if "?" in url else "?"
        url = f"{url}{joiner}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"
    return url, json.dumps(body, ensure_ascii=False).encode()


def refused(kind: str, status: int, answer: str) -> str:
    """Why the robot did not take the message ("" when it did)."""
    if not 200 <= status < 300:
        return f"HTTP {status}"
    try:
        parsed = json.loads(answer)
    except ValueError:
        return "the answer is not JSON"
    if not isinstance(parsed, dict):
        return "the answer is not a JSON object"
    code = parsed.get("code", parsed.get("StatusCode", 0)) if kind == Kind.FEISHU else parsed.get("errcode", 0)
    if code not in (0, "0"):
        message_text = parsed.get("msg") or parsed.get("errmsg") or ""
        return f"refused: {code} {message_text}"[:300]
    return ""
