"""kill -9 of `sharehub worker` mid-delivery (issue 13): every event is delivered, none twice.

A real `sharehub serve` with SHAREHUB_SERVER_RUNS_WORKER=false (its log readers make the notifications,
mails and webhook deliveries; it sends nothing) takes EDITS edits of followed resources over the API.
`sharehub worker` processes send them to a slow SMTP server and a slow Standard Webhooks receiver run
here: the first worker is killed with SIGKILL while a mail is going out, the second while a webhook is,
and a third finishes. On the database the suite runs on: SQLite, or PostgreSQL (and Redis) from DATABASE_URL.

At least once, not exactly once: a worker killed after a receiver took a message but before the outbox
noted it sends that message again; the receivers here hold one message each unanswered while the test
kills its sender, so that this happens every time. Both outboxes claim one message at a time (status
`sending`) just before sending it, so a kill leaves one message in flight per channel, and its repeat
carries the same id (`webhook-id` for webhooks, the Message-ID for mail), by which receivers drop
repeats. A claim left by a dead worker is taken back once it is older than the outbox's STUCK (10 and 15
minutes): the test moves those claims back by that much instead of waiting.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.live.server import free_port, running_server

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[2]
EDITS = 50
RESOURCES = 3
EDITORS = 4  # API clients editing at once
# who follows which of the resources (by index), and how
FOLLOWS = {
    "li": {0: "email", 1: "email"},
    "wang": {0: "in_app", 2: "email"},
    "zhao": {0: "in_app", 1: "in_app", 2: "in_app"},
}
HOOK_DELAY = 0.1  # seconds the webhook receiver takes per request, after it has taken the message
MAIL_DELAY = 0.05  # seconds the SMTP server takes before its 250, after it has taken the message
WAIT = 180.0  # the longest any one step may take on a slow, loaded machine

SETUP = """
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharehub.settings")
import django
django.setup()
from sharehub.events.models import Event
from sharehub.feeds import follows, webhooks
from sharehub.org.services import issue_token
from tests import factories

hook_url, count, plan = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
tax = factories.department("税务局", "SWJ")
hr = factories.department("人力资源和社会保障局", "RSJ")
steward = factories.member(tax, "steward", username="steward")
resources = [factories.resource(tax, by=steward, title=f"办税指南 {n}") for n in range(count)]
people = {}
for name, wanted in plan.items():
    person = factories.member(hr, "member", username=name)
    person.email = f"{name}@example.org"
    person.save(update_fields=["email"])
    for index, how in wanted.items():
        follows.follow(person, "resource", resources[int(index)].pk, delivery=how)
    people[name] = person.pk
admin = factories.person("hookadmin", admin=True)
_endpoint, secret = webhooks.register(admin, url=hook_url, event_types=["resource.updated"], allow_private=True)
print(json.dumps({
    "token": issue_token(None, steward, "edits")[1],
    "codes": [r.code for r in resources],
    "ids": [r.pk for r in resources],
    "people": people,
    "secret": secret,
    "head": Event.objects.order_by("-seq").values_list("seq", flat=True).first(),
}))
"""

# What the outboxes hold after the setup's last event; with "age", claims left `sending` (by a killed
# worker) are then moved back by STUCK, as if that much time had passed.
STATE = """
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharehub.settings")
import django
django.setup()
from datetime import timedelta
from django.db.models import F
from sharehub.events.models import Event
from sharehub.feeds import mail as outbox, webhooks
from sharehub.feeds.messages import named_resource
from sharehub.feeds.models import Mail, Notification, WebhookDelivery

head, age = int(sys.argv[1]), sys.argv[2:] == ["age"]
events = Event.objects.filter(seq__gt=head, action="resource.updated").order_by("seq")
notifications = Notification.objects.filter(event__seq__gt=head, event__action="resource.updated")
seq_of = dict(notifications.values_list("pk", "event__seq"))
mails = Mail.objects.select_related("recipient").order_by("pk")
deliveries = WebhookDelivery.objects.filter(event__seq__gt=head).order_by("pk")
state = {
    "events": [[e.seq, named_resource(e)] for e in events],
    "notifications": [[r, s, m, done is not None] for r, s, m, done in notifications.values_list(
        "recipient_id", "event__seq", "mail", "mailed_at")],
    "mails": [{"id": outbox.message_id(m), "to": m.recipient.email, "kind": m.kind, "status": m.status,
               "attempts": m.attempts, "seqs": [seq_of.get(pk) for pk in m.notifications]} for m in mails],
    "deliveries": [{"id": d.message_id, "seq": d.event.seq, "status": d.status, "attempts": d.attempts,
                    "error": d.error} for d in deliveries.select_related("event")],
}
if age:
    back = timedelta(seconds=1)
    Mail.objects.filter(status="sending").update(next_attempt_at=F("next_attempt_at") - outbox.STUCK - back)
    claimed = WebhookDelivery.objects.filter(status="sending")
    claimed.update(last_attempt_at=F("last_attempt_at") - webhooks.STUCK - back)
print(json.dumps(state))
"""


class Tally:
    """What a receiver took, message by message, and the one message it holds: once armed with `hold_at`,
    the receiver keeps the hold_at-th distinct message it has taken unanswered until `release` is set, so
    that the test kills the sender at the worst moment (the message went; the sender does not know)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: list[tuple[str, object]] = []  # (message id, what it was about), one per request, as they came
        self.hold_at = 0
        self.held = ""
        self.holding, self.release = threading.Event(), threading.Event()

    def take(self, message_id: str, about) -> bool:
        """Note a message; True if this is the one to hold."""
        with self.lock:
            self.seen.append((message_id, about))
            hold = not self.held and 0 < self.hold_at <= len({message for message, _about in self.seen})
            if hold:
                self.held = message_id
        if hold:
            self.holding.set()
        return hold

    def arm(self, after: int) -> None:
        """Hold the `after`-th distinct message from now."""
        with self.lock:
            self.hold_at = len({message for message, _about in self.seen}) + after

    def distinct(self) -> int:
        with self.lock:
            return len({message for message, _about in self.seen})


class HookReceiver(ThreadingHTTPServer):
    """A Standard Webhooks receiver: verifies each request's signature with the specification's library,
    notes its `webhook-id` and event, and answers 200 after HOOK_DELAY (or once released, if held)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _HookHandler)
        self.secret = ""
        self.tally = Tally()
        self.refused: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class _HookHandler(BaseHTTPRequestHandler):
    server: HookReceiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            payload = Webhook(self.server.secret).verify(body, headers)
        except WebhookVerificationError as refusal:
            self.server.refused.append(f"{headers.get('webhook-id')}: {refusal}")
            self._answer(400)
            return
        tally = self.server.tally
        if tally.take(headers["webhook-id"], payload["data"]["event"]):
            tally.release.wait(WAIT)
        else:
            time.sleep(HOOK_DELAY)
        self._answer(200)

    def _answer(self, status: int) -> None:
        with suppress(OSError):  # the sender was killed meanwhile
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

    def log_message(self, *args) -> None:
        pass


class Inbox:
    """An SMTP server's handler: takes each message (notes its Message-ID and recipients), then answers 250
    after MAIL_DELAY (or once released, if held)."""

    def __init__(self) -> None:
        self.tally = Tally()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        if self.tally.take(str(message["Message-ID"]).strip(), ",".join(envelope.rcpt_tos)):
            deadline = time.monotonic() + WAIT
            while not self.tally.release.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        else:
            await asyncio.sleep(MAIL_DELAY)
        return "250 OK"


def _python(server, code: str, *args: str) -> dict:
    """Run `code` in a fresh interpreter on the server's data directory and database; its last line, read as JSON."""
    result = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=server.env, capture_output=True, text=True, timeout=WAIT
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _start_worker(server, started: list) -> subprocess.Popen:
    log = (server.data_dir / f"worker{len(started) + 1}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "sharehub", "worker", "--interval", "1"],
        cwd=ROOT,
        env=server.env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    started.append(process)
    return process


def _worker_log(server, number: int) -> str:
    return (server.data_dir / f"worker{number}.log").read_text(errors="replace")


def _wait_for(condition, what: str, worker: subprocess.Popen | None = None, log=lambda: "") -> None:
    """Poll `condition` until it holds; fail if `worker` exits meanwhile or after WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while not condition():
        if worker is not None and worker.poll() is not None:
            raise AssertionError(f"the worker exited ({worker.returncode}) while waiting for {what}:\n{log()[-4000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {WAIT:.0f} s:\n{log()[-4000:]}")
        time.sleep(0.02)


def _kill(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGKILL)
    worker.wait(WAIT)


def _edit(server, given: dict, editors: ThreadPoolExecutor) -> list[Future]:
    """EDITS edits over the API, EDITORS at a time, as the resources' steward."""
    headers = {"Authorization": f"Bearer {given['token']}"}

    def edit(first: int) -> None:
        with httpx.Client(base_url=server.base_url + "/api/v1", headers=headers, timeout=60) as api:
            for number in range(first, EDITS, EDITORS):
                code = given["codes"][number % RESOURCES]
                for _attempt in range(10):  # a write that cannot get the database in time answers 503
                    edited = api.patch(f"/resources/{code}", json={"summary": f"第 {number} 次修订"})
                    if edited.status_code != 503:
                        break
                    time.sleep(float(edited.headers.get("retry-after") or 1))
                assert edited.status_code == 200, edited.text

    return [editors.submit(edit, first) for first in range(EDITORS)]


def _repeats(seen: list) -> dict[str, int]:
    return {message: n - 1 for message, n in Counter(message for message, _about in seen).items() if n > 1}


def test_kill_9_of_the_worker_mid_delivery_loses_nothing_and_repeats_only_what_was_in_flight():
    started_at = time.monotonic()
    hooks, inbox = HookReceiver(), Inbox()
    threading.Thread(target=hooks.serve_forever, name="webhook receiver", daemon=True).start()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    env = {
        "SHAREHUB_SERVER_RUNS_WORKER": "false",
        "SHAREHUB_EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}?timeout=30",
        "SHAREHUB_SITE_URL": "https://sharehub.example.org",
    }
    mails, webhooks = inbox.tally, hooks.tally
    wanted_mails = sum(1 for n in range(EDITS) for plan in FOLLOWS.values() if plan.get(n % RESOURCES) == "email")
    workers: list[subprocess.Popen] = []
    try:
        with running_server(env=env) as server, ThreadPoolExecutor(EDITORS) as editors:
            try:
                given = _python(server, SETUP, hooks.url, str(RESOURCES), json.dumps(FOLLOWS))
                hooks.secret = given["secret"]
                # the first worker runs while the edits come in, and is killed while a mail is going out
                mails.arm(wanted_mails // 4)
                first = _start_worker(server, workers)
                edits = _edit(server, given, editors)
                _wait_for(mails.holding.is_set, "mail held", first, lambda: _worker_log(server, 1))
                _kill(first)
                mails.release.set()

                # the second is killed while a webhook is going out
                webhooks.arm(EDITS // 3)
                second = _start_worker(server, workers)
                _wait_for(webhooks.holding.is_set, "webhook held", second, lambda: _worker_log(server, 2))
                _kill(second)
                webhooks.release.set()
                for edit in edits:
                    edit.result()

                # what the killed workers were sending is still claimed (until the claim is STUCK old), and
                # nothing else is; the claims are moved back by STUCK, as if that much time had passed
                state = _python(server, STATE, str(given["head"]), "age")
                assert [m["id"] for m in state["mails"] if m["status"] == "sending"] == [mails.held]
                assert [d["id"] for d in state["deliveries"] if d["status"] == "sending"] == [webhooks.held]
                assert not _repeats(mails.seen) and not _repeats(webhooks.seen)

                # the third finishes, sending those two again
                third = _start_worker(server, workers)

                def received() -> bool:
                    return webhooks.distinct() >= EDITS and mails.distinct() >= wanted_mails

                def settled() -> bool:
                    nonlocal state
                    state = _python(server, STATE, str(given["head"]))
                    return all(d["status"] == "delivered" for d in state["deliveries"]) and all(
                        m["status"] == "sent" for m in state["mails"]
                    )

                _wait_for(received, "receivers having every message", third, lambda: _worker_log(server, 3))
                _wait_for(settled, "outboxes noting every message as sent", third, lambda: _worker_log(server, 3))
                third.send_signal(signal.SIGTERM)
                third.wait(WAIT)
                assert third.returncode == 0, _worker_log(server, 3)[-4000:]
                for number in (1, 2, 3):
                    assert "Traceback" not in _worker_log(server, number), _worker_log(server, number)[-4000:]
                assert "Traceback" not in server.log(), server.log()[-4000:]
                resource_of = {pk: index for index, pk in enumerate(given["ids"])}
                person = {pk: name for name, pk in given["people"].items()}
            finally:
                for worker in workers:
                    if worker.poll() is None:
                        worker.kill()
                        worker.wait(WAIT)
                mails.release.set()
                webhooks.release.set()
    finally:
        hooks.shutdown()
        hooks.server_close()
        smtp.stop()

    # every edit is an event, and each follower has exactly one notification of each edit they follow
    events = {seq: resource_of[resource] for seq, resource in state["events"]}
    assert len(events) == EDITS
    expected = {
        (name, seq, how)
        for seq, index in events.items()
        for name, plan in FOLLOWS.items()
        if (how := plan.get(index)) is not None
    }
    made = Counter((person[r], seq) for r, seq, _mail, _mailed in state["notifications"])
    assert set(made.values()) == {1}, [key for key, n in made.items() if n > 1]
    assert set(made) == {(name, seq) for name, seq, _how in expected}
    wanted = {(name, seq) for name, seq, how in expected if how == "email"}
    assert len(wanted) == wanted_mails
    assert {(person[r], seq) for r, seq, mail, mailed in state["notifications"] if mail and mailed} == wanted

    # webhooks: every edit reached the receiver, signed; after de-duplication by webhook-id none is missing,
    # and only the delivery in flight at the kill came twice, with its webhook-id
    assert hooks.refused == []
    seq_of_hook = dict(webhooks.seen)
    assert len(set(webhooks.seen)) == len(seq_of_hook), "a webhook-id came with two different events"
    assert sorted(seq_of_hook.values()) == sorted(events), "an edit came under two webhook-ids, or none"
    assert set(seq_of_hook) == {d["id"] for d in state["deliveries"]}
    assert _repeats(webhooks.seen) == {webhooks.held: 1}

    # mail: one mail per followed edit wanted at once (each notification claimed into one mail), each
    # received; after de-duplication by Message-ID none is missing, and only the mail in flight at the
    # kill came twice, with its Message-ID
    claimed = Counter((m["to"].split("@")[0], seq) for m in state["mails"] for seq in m["seqs"])
    assert set(claimed.values()) == {1} and set(claimed) == wanted
    assert {m["kind"] for m in state["mails"]} == {"email"}
    assert dict(mails.seen) == {m["id"]: m["to"] for m in state["mails"]}
    assert _repeats(mails.seen) == {mails.held: 1}

    print(
        f"\nkill -9 twice: {EDITS} edits, {len(made)} notifications; {len(seq_of_hook)} webhooks in "
        f"{len(webhooks.seen)} requests ({sum(_repeats(webhooks.seen).values())} repeated), {len(state['mails'])} "
        f"mails in {len(mails.seen)} sendings ({sum(_repeats(mails.seen).values())} repeated); "
        f"{time.monotonic() - started_at:.1f} s"
    )
