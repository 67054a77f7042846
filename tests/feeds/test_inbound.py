"""Inbound webhooks: a project tool that can only send its own JSON feeds Sharehub through an address
per service account, its fields mapped by templates; retries by delivery id are written once."""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from sharehub.catalog.models import Project, Resource
from sharehub.errors import Forbidden, Invalid
from sharehub.feeds import inbound
from sharehub.feeds.models import InboundDelivery, InboundHook
from sharehub.org import services as org
from sharehub.org.models import Department
from sharehub.policy.engine import can, connectable_departments
from tests import factories

GITLAB_ISSUE = {
    "object_kind": "issue",
    "project": {"name": "一期"},
    "object_attributes": {"iid": 42, "title": "接口联调完成", "state": "closed", "description": "联调 **通过**"},
    "labels": [{"title": "里程碑"}],
}
PROGRESS_MAPPING = {
    "title": "#{object_attributes.iid} {object_attributes.title}",
    "summary": "{object_attributes.state} · {labels.0.title}",
    "body": "{object_attributes.description}",
}


@pytest.fixture
def tool(org_units):
    return org.create_service_account(None, department=org_units["tax"], username="pm-tool")


@pytest.fixture
def project(org_units):
    return Project.objects.create(department=org_units["tax"], name="一期")


@pytest.fixture
def progress_hook(people, tool, project):
    return inbound.create_hook(
        people["tax_steward"],
        account=tool,
        name="GitLab",
        action="progress",
        project=project.pk,
        mapping=PROGRESS_MAPPING,
    )


def post(token: str, body, **headers):
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False)
    return Client().post(f"/hooks/in/{token}/", data, content_type="application/json", **headers)


def test_a_post_becomes_a_progress_entry_of_the_project(progress_hook, project):
    hook, token = progress_hook
    answer = post(token, GITLAB_ISSUE)
    assert answer.status_code == 201, answer.content
    entry = Resource.objects.get(code=answer.json()["resource"])
    assert (entry.kind, entry.project, entry.title) == ("progress", project, "#42 接口联调完成")
    assert entry.summary == "closed · 里程碑" and entry.body == "联调 **通过**"
    # a service account is a member: its entry goes to the department's review, as a member's would
    assert answer.json()["status"] == entry.status == "draft"
    assert entry.created_by.username == "pm-tool"
    logged = InboundDelivery.objects.get(hook=hook)
    assert (logged.status, logged.resource) == (201, entry)


def test_a_retry_with_the_same_delivery_id_is_written_once(progress_hook):
    _hook, token = progress_hook
    first = post(token, GITLAB_ISSUE, HTTP_X_GITLAB_EVENT_UUID="e1d2")
    again = post(token, GITLAB_ISSUE, HTTP_X_GITLAB_EVENT_UUID="e1d2")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Resource.objects.filter(kind="progress").count() == 1
    other = post(token, GITLAB_ISSUE, HTTP_X_GITLAB_EVENT_UUID="e1d3")
    assert other.status_code == 201 and Resource.objects.filter(kind="progress").count() == 2


def test_a_key_creates_a_resource_once_and_later_posts_update_it(people, tool):
    mapping = {"key": "{ticket.id}", "title": "客户工单 {ticket.id}: {ticket.subject}", "body": "{ticket.body}"}
    _hook, token = inbound.create_hook(
        people["tax_steward"], account=tool, name="CRM", action="resource", mapping=mapping
    )
    first = post(token, {"ticket": {"id": "T-7", "subject": "发票抬头", "body": "首次"}})
    second = post(token, {"ticket": {"id": "T-7", "subject": "发票抬头（更正）", "body": "第二次"}})
    third = post(token, {"ticket": {"id": "T-8", "subject": "退税", "body": "另一件"}})
    assert (first.status_code, second.status_code, third.status_code) == (201, 200, 201)
    assert first.json()["resource"] == second.json()["resource"] != third.json()["resource"]
    updated = Resource.objects.get(code=first.json()["resource"])
    assert updated.title == "客户工单 T-7: 发票抬头（更正）" and updated.body == "第二次"
    assert updated.kind == "notice" and updated.owner_department == tool.service_owner


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"object_attributes": {"iid": 1}}, 422, "title"),  # no title in what was sent
        (b"{not json", 422, "body"),
        ("\udcff".encode("utf-8", "surrogatepass"), 422, "body"),
        (
            {"object_attributes": {"iid": 1, "title": "", "state": "", "description": ""}, "labels": [{}]},
            422,
            "summary",
        ),
        (b"[" * 100_000, 422, "body"),  # nested deeper than a parser goes
        (b'{"object_attributes": {"iid": 1, "title": "a\\u0000b"}, "labels": [{"title": "x"}]}', 422, "title"),
        (b'{"object_attributes": {"iid": 1, "title": "\\udcff"}, "labels": [{"title": "x"}]}', 422, "title"),
    ],
)
def test_what_cannot_be_written_is_refused_naming_the_field(progress_hook, body, status, field):
    hook, token = progress_hook
    answer = post(token, body)
    assert answer.status_code == status, answer.content
    assert field in answer.json()["error"]["fields"]
    assert not Resource.objects.filter(kind="progress").exists()
    assert InboundDelivery.objects.get(hook=hook).status == status  # logged for whoever set it up


def test_addresses_that_answer_no(progress_hook, people, tool):
    hook, token = progress_hook
    assert post("shin_unknown", GITLAB_ISSUE).status_code == 404
    assert Client().get(f"/hooks/in/{token}/").status_code == 405
    assert post(token, b"{" + b" " * inbound.MAX_BODY_BYTES + b"}").status_code == 413
    inbound.set_active(people["tax_steward"], hook, False)
    assert post(token, GITLAB_ISSUE).status_code == 404
    inbound.set_active(people["tax_steward"], hook, True)
    tool.is_active = False
    tool.save(update_fields=["is_active"])
    refused = post(token, GITLAB_ISSUE)
    assert refused.status_code == 403 and "deactivated" in refused.json()["error"]["message"]
    assert not Resource.objects.filter(kind="progress").exists()


def test_only_managers_of_the_accounts_department_connect_it(org_units, people, tool, project):
    for someone in (people["tax_member"], people["health_member"]):
        with pytest.raises(Forbidden):
            inbound.create_hook(
                someone, account=tool, name="x", action="progress", project=project.pk, mapping=PROGRESS_MAPPING
            )
    with pytest.raises(Invalid) as person:
        inbound.create_hook(
            people["tax_steward"], account=people["tax_member"], name="x", action="progress", mapping=PROGRESS_MAPPING
        )
    assert "account" in person.value.fields
    elsewhere = Project.objects.create(department=org_units["health"], name="他处")
    with pytest.raises(Invalid) as wrong:
        inbound.create_hook(
            people["tax_steward"],
            account=tool,
            name="x",
            action="progress",
            project=elsewhere.pk,
            mapping=PROGRESS_MAPPING,
        )
    assert "project" in wrong.value.fields


@pytest.mark.parametrize(
    ("mapping", "field"),
    [
        ({"title": "{issue.title"}, "title"),
        ({"title": "{issue..title}"}, "title"),
        ({"summary": "{issue.state}"}, "title"),
        ({"title": "{a}", "colour": "{b}"}, "colour"),
        ({"title": "x" * 2001}, "title"),
    ],
)
def test_templates_are_checked_when_the_hook_is_made(people, tool, project, mapping, field):
    with pytest.raises(Invalid) as refused:
        inbound.create_hook(
            people["tax_steward"], account=tool, name="x", action="progress", project=project.pk, mapping=mapping
        )
    assert field in refused.value.fields
    assert not InboundHook.objects.exists()


def test_braces_and_values_that_are_not_text():
    document = {"n": 3, "ok": True, "none": None, "items": [{"a": 1}], "deep": {"list": ["x", "y"]}}
    assert inbound.fill("{{literal}} {n} {ok} [{none}] {items} {deep.list.1}", document) == (
        '{literal} 3 true [] [{"a": 1}] y'
    )
    with pytest.raises(inbound.MissingValue):
        inbound.fill("{deep.list.2}", document)


def test_the_pages(client_for, people, tool, project):
    steward = client_for(people["tax_steward"])
    listing = steward.get(reverse("feeds:inbound"))
    assert listing.status_code == 200 and "pm-tool" in listing.content.decode()
    form = {
        "name": "禅道",
        "account": tool.pk,
        "action": "progress",
        "project": project.pk,
        "map_title": "{story.title}",
    }
    made = steward.post(reverse("feeds:inbound"), form)
    page = made.content.decode()
    assert made.status_code == 200 and "sh-inbound-address" in page
    address = page.split('sh-inbound-address">', 1)[1].split("<", 1)[0]
    token = address.rstrip("/").rsplit("/", 1)[-1]
    assert post(token, {"story": {"title": "需求评审"}}).status_code == 201
    hook = InboundHook.objects.get(name="禅道")
    detail = steward.get(reverse("feeds:inbound_hook", args=[hook.pk])).content.decode()
    assert "HTTP 201" in detail and "需求评审" in detail and token not in detail
    bad = steward.post(reverse("feeds:inbound"), {**form, "map_title": "{story.title"})
    assert bad.status_code == 422 and "lone brace" in bad.content.decode()
    assert client_for(people["health_member"]).get(reverse("feeds:inbound_hook", args=[hook.pk])).status_code == 404
    steward.post(reverse("feeds:inbound_hook", args=[hook.pk]), {"action": "delete"})
    assert post(token, {"story": {"title": "再来"}}).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_posts_at_the_same_moment_write_each_key_once(org_units, people, tool):
    mapping = {"key": "{id}", "title": "工单 {id} 第 {n} 次"}
    _hook, token = inbound.create_hook(
        people["tax_steward"], account=tool, name="CRM", action="resource", mapping=mapping
    )
    answers: list = []
    busy: list = []

    def send(n: int, delivery: str) -> None:
        """As a sender does: a 503 (the database busy, with Retry-After) is posted again."""
        try:
            for _attempt in range(5):
                response = post(token, {"id": "T-1", "n": n}, HTTP_WEBHOOK_ID=delivery)
                if response.status_code != 503:
                    break
                busy.append((response["Retry-After"], response.json()["error"]["code"]))
                time.sleep(0.2)
            answers.append((delivery, response))
        finally:
            connection.close()

    # four posts of one new key, two of them retries of one delivery
    threads = [threading.Thread(target=send, args=(n, d)) for n, d in ((1, "a"), (1, "a"), (2, "b"), (3, "c"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # whichever came first created it (201), the others updated it (200); the retry got its first answer
    assert len(answers) == 4
    first, retry = [a for d, a in answers if d == "a"]
    assert (first.status_code, first.json()) == (retry.status_code, retry.json())
    assert sorted(a.status_code for d, a in answers if d != "a" or a is first) == [200, 200, 201]
    assert len({a.json()["resource"] for _d, a in answers}) == 1
    assert Resource.objects.filter(title__startswith="工单 T-1").count() == 1
    assert InboundDelivery.objects.filter(delivery_id="a", status__lt=300).count() == 1
    assert all(after.isdigit() and code == "busy" for after, code in busy)  # in JSON, saying when to come back


def test_the_connectable_departments_are_those_the_policy_allows(org_units, people):
    admin = factories.person("org_admin", admin=True)
    for person in [*people.values(), admin]:
        allowed = {d.pk for d in Department.objects.all() if can(person, "connect", d).allowed}
        assert set(connectable_departments(person).values_list("pk", flat=True)) == allowed, person


def test_a_busy_database_answers_503_in_json_with_retry_after(org_units, people, tool, monkeypatch):
    _hook, token = inbound.create_hook(people["tax_steward"], account=tool, name="CRM", action="resource",
                                       mapping={"key": "{id}", "title": "{id}"})  # fmt: skip

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(inbound, "receive", locked)
    response = post(token, {"id": "T-9"})
    assert response.status_code == 503 and response["Retry-After"].isdigit()
    assert response.json()["error"]["code"] == "busy"
