"""The OpenID Connect provider process for the tests (tests/directory/oidc_provider.mjs, npm's oidc-provider),
and a small browser-less user agent that signs in through its pages."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import requests

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
CLIENT_ID = "sharehub"
CLIENT_SECRET = "sharehub-client-secret"
ACCOUNTS = {
    "wang.fang": {
        "preferred_username": "wang.fang",
        "name": "王芳",
        "email": "wang.fang@example.org",
        "groups": ["tax-stewards", "staff"],
        "department": "税务局",
    },
    "li.lei": {
        "preferred_username": "li.lei",
        "name": "李雷",
        "email": "li.lei@example.org",
        "groups": ["staff"],
        "department": "卫生健康委员会",
    },
}


def available() -> str:
    """Why the provider cannot run here, or "" when it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (ROOT / "node_modules" / "oidc-provider").is_dir():
        return "npm's oidc-provider is missing from node_modules: run `npm ci` (make setup does)"
    return ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Provider:
    folder: Path
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    port: int = 0
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Provider:
        self.port = _free_port()
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "provider.json"
        config.write_text(
            json.dumps(
                {
                    "port": self.port,
                    "issuer": self.issuer,
                    "clients": [
                        {
                            "client_id": CLIENT_ID,
                            "client_secret": CLIENT_SECRET,
                            "redirect_uris": self.redirect_uris,
                            "post_logout_redirect_uris": self.post_logout_redirect_uris,
                            "grant_types": ["authorization_code"],
                            "response_types": ["code"],
                        }
                    ],
                    "accounts": ACCOUNTS,
                }
            )
        )
        self.process = subprocess.Popen(
            ["node", str(SCRIPT), str(config)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        said = []  # it may warn first (e.g. of the Node.js version) before it listens
        while len(said) < 50:
            line = self.process.stdout.readline()
            if not line:
                break
            if line.strip() == "ready":
                return self
            said.append(line)
        self.stop()
        raise RuntimeError(f"the OpenID Connect provider did not start: {''.join(said)}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action", ""), "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value", "")


def first_form(html: str) -> dict:
    parser = _Forms()
    parser.feed(html)
    assert parser.forms, f"no form on the page:\n{html[:2000]}"
    return parser.forms[0]


def sign_in_at_provider(authorize_url: str, login: str, password: str = "any") -> str:
    """Follow the authorization redirect at the provider as a person would: its login form, then its consent
    form. Returns the address the provider sends the browser back to (Sharehub's callback with the code)."""
    agent = requests.Session()
    agent.trust_env = False
    page = agent.get(authorize_url, timeout=10)
    page.raise_for_status()
    form = first_form(page.text)
    assert "login" in form["fields"], page.text[:2000]
    form["fields"].update(login=login, password=password)
    answer = agent.post(urljoin(page.url, form["action"]), data=form["fields"], timeout=10, allow_redirects=False)
    for _ in range(10):
        if answer.status_code in (301, 302, 303, 307, 308):
            target = urljoin(answer.url, answer.headers["Location"])
            if not target.startswith(authorize_url.split("/auth")[0]):
                return target  # back to the relying party
            answer = agent.get(target, timeout=10, allow_redirects=False)
        elif answer.status_code == 200:
            form = first_form(answer.text)  # the consent form
            answer = agent.post(
                urljoin(answer.url, form["action"]), data=form["fields"], timeout=10, allow_redirects=False
            )
        else:
            raise AssertionError(f"the provider answered {answer.status_code}: {answer.text[:2000]}")
    raise AssertionError("the provider never sent the browser back")
