"""The audit trail reads as sentences: actions by translated name, people by name and department, objects by
title and code (linked only where the policy lets the auditor follow), details as labelled values; the hash
shortened with a copy button; filters by translated action; a constant number of statements per page."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from sharehub.access import services as access
from sharehub.catalog import services as catalog
from sharehub.events import describe, views
from sharehub.events.models import Event
from sharehub.events.services import record
from sharehub.feeds import inbound
from sharehub.org import services as org
from sharehub.org.models import User
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def ma_chao(org_units):
    person = factories.member(org_units["hr"], username="machao")
    return org.update_person(None, person, display_name="马超")


@pytest.fixture
def tax_records(org_units, people):
    """A conditional resource of 税务局 (the auditor, in no department, sees its entry but not its content)."""
    return factories.resource(
        org_units["tax"], by=people["tax_steward"], title="纳税人登记信息", sharing_type="conditional"
    )


def _page(client, **params) -> str:
    response = client.get("/audit/", params)
    assert response.status_code == 200
    return response.content.decode()


def _row(html: str, seq: int) -> str:
    """The HTML of one entry's row."""
    match = re.search(rf'<tr id="event-{seq}">(.*?)</tr>', html, re.S)
    assert match, f"no row for #{seq}"
    return match.group(1)


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", fragment)).strip()


def _describe(viewer, event, language="en"):
    event = Event.objects.prefetch_related("departments").get(pk=event.pk)
    with translation.override(language):
        return describe.describe(viewer, [event])[0]


# ---- sentences ---------------------------------------------------------------------------------------------


def test_a_read_reads_as_a_sentence_in_both_languages(ma_chao, tax_records, people):
    catalog.note_content_read(ma_chao, [tax_records], via="search")
    event = Event.objects.get(action="resource.read")
    english = _describe(people["auditor"], event, "en")
    chinese = _describe(people["auditor"], event, "zh-hans")
    code = tax_records.code
    assert english.name == "Content read"
    assert english.sentence.text == f"马超 (人力资源和社会保障局) read 纳税人登记信息 ({code}) through search."
    assert chinese.name == "查看内容"
    assert chinese.sentence.text == f"马超（人力资源和社会保障局） 通过搜索查看了 纳税人登记信息（{code}）。"
    assert "machao" not in english.sentence.text  # people by display name, never the login name
    assert english.area == "Catalog" and chinese.area == "资源目录"


def test_representative_actions_read_in_both_languages(org_units, people, tax_records, ma_chao):
    request = access.create_request(
        people["health_member"],
        tax_records,
        purpose="核验纳税状态",
        use_category="verification",
        period_days=30,
        accept_terms=True,
    )
    access.approve_request(people["tax_steward"], request)
    org.set_membership(people["admin"], ma_chao, org_units["tax"], "steward")
    Client().post("/accounts/login/", {"username": "nobody-here", "password": "wrong"})
    code, number = tax_records.code, request.pk
    expected = {
        "access.requested": (
            f"health_member (卫生健康委员会) requested access to 纳税人登记信息 ({code}) (request #{number}).",
            f"health_member（卫生健康委员会） 申请访问 纳税人登记信息（{code}）（共享申请 #{number}）。",
        ),
        "grant.created": (
            f"tax_steward (税务局) granted health_member access to 纳税人登记信息 ({tax_records.code}) until ",
            f"tax_steward（税务局） 授权 health_member 访问 纳税人登记信息（{tax_records.code}），有效期至 ",
        ),
        "membership.set": (
            "admin added 马超 (税务局, 人力资源和社会保障局) to 税务局 as steward.",
            "admin 将 马超（税务局、人力资源和社会保障局） 加入 税务局，角色为资源管理员。",
        ),
        "auth.login_failed": (
            "Someone failed to sign in as nobody-here from ",
            "有人以 nobody-here 的身份登录失败（来自 ",
        ),
    }
    for action, (english, chinese) in expected.items():
        event = Event.objects.filter(action=action).latest("seq")
        assert _describe(people["auditor"], event, "en").sentence.text.startswith(english), action
        assert _describe(people["auditor"], event, "zh-hans").sentence.text.startswith(chinese), action


def test_an_action_nobody_registered_still_reads(people, org_units):
    event = record(people["admin"], "calendar.week_moved", ("access.calendar", "2026", "2026"), details={"weeks": 2})
    english = _describe(people["auditor"], event)
    assert english.name == "Working-day calendar: week moved"
    assert english.sentence.text == "admin · Working-day calendar: week moved · 2026"
    assert english.details[0][0] == "Weeks" and english.details[0][1].text == "2"
    unknown_area = record(None, "robot.woke_up", None)
    described = _describe(people["auditor"], unknown_area)
    assert described.name == "Robot: woke up"
    assert described.area == "Robot"
    assert "Robot: woke up" in described.sentence.text
    chinese = _describe(people["auditor"], event, "zh-hans")
    assert chinese.name.startswith("工作日历")


# ---- people, objects and links -----------------------------------------------------------------------------


def test_people_by_name_and_department_and_a_service_account_marked(org_units, people):
    account = org.create_service_account(people["admin"], department=org_units["tax"], username="erp-sync")
    org.update_person(people["admin"], account, display_name="ERP 数据同步")
    org.issue_token(people["admin"], account, "nightly")
    event = Event.objects.filter(action="token.issued").latest("seq")
    described = _describe(people["auditor"], event)
    assert "ERP 数据同步 (税务局) [service account]" in described.sentence.text
    assert 'class="badge sh-service"' in described.sentence.html
    assert "erp-sync" not in described.sentence.text


def test_objects_are_linked_only_where_the_policy_lets_the_auditor_follow(org_units, people, tax_records):
    open_notice = factories.resource(org_units["health"], title="卫健通知")
    restricted = factories.resource(org_units["tax"], title="内部台账", sharing_type="restricted")
    request = access.create_request(
        people["health_member"],
        tax_records,
        purpose="核验",
        use_category="verification",
        period_days=10,
        accept_terms=True,
    )
    plain = people["auditor"]  # in no department
    steward = factories.person("audit_steward", auditor=True, departments={org_units["tax"]: "steward"})
    html = {who.username: _page(factories_client(who), action="resource.created") for who in (plain, steward)}
    requests = {who.username: _page(factories_client(who), action="access.requested") for who in (plain, steward)}
    for username in html:
        assert "内部台账" in html[username] and "卫健通知" in html[username]  # every auditor reads every label
    assert f'href="/resources/{open_notice.code}/"' in html["auditor"]
    assert f'href="/resources/{restricted.code}/"' not in html["auditor"]  # may not even see it: no link
    assert f'href="/resources/{restricted.code}/"' in html["audit_steward"]  # a steward of its department may
    assert f'href="/requests/{request.pk}/"' not in requests["auditor"]  # not a party to the request
    assert f'href="/requests/{request.pk}/"' in requests["audit_steward"]  # steward of the owner: a party
    assert f'href="/departments/{org_units["tax"].pk}/"' in html["auditor"]  # departments are public structure


def factories_client(user):
    from tests.conftest import login_client

    return login_client(user)


def test_a_deleted_object_shows_its_recorded_label_unlinked(org_units, people):
    tool = org.create_service_account(None, department=org_units["tax"], username="pm-tool")
    hook, _token = inbound.create_hook(
        people["tax_steward"],
        account=tool,
        name="GitLab 进度",
        action="resource",
        mapping={"key": "{id}", "title": "{title}"},
    )
    steward = factories.person("audit_steward", auditor=True, departments={org_units["tax"]: "steward"})
    created = Event.objects.get(action="inbound.created")
    live = _describe(steward, created)
    assert f'href="/webhooks/inbound/{hook.pk}/"' in live.sentence.html  # may connect systems to 税务局
    assert f'href="/webhooks/inbound/{hook.pk}/"' not in _describe(people["auditor"], created).sentence.html
    inbound.delete_hook(people["tax_steward"], hook)
    gone = _describe(steward, created)
    assert "GitLab 进度" in gone.sentence.text and "no longer exists" in gone.sentence.text
    assert "href=" not in gone.sentence.html.split("GitLab 进度")[0].rsplit("<span", 1)[-1]
    assert f"/webhooks/inbound/{hook.pk}/" not in gone.sentence.html


def test_stored_ids_in_details_are_shown_as_names(org_units, people, tax_records):
    request = access.create_request(
        people["health_member"], tax_records, purpose="核验", use_category="verification", period_days=10,
        accept_terms=True, for_department=org_units["health"],
    )  # fmt: skip
    event = Event.objects.get(action="access.requested")
    described = _describe(people["auditor"], event)
    details = {label: piece.text for label, piece in described.details}
    assert details["Notified"] == "tax_steward (税务局)"  # recipients: user ids become names
    assert details["For the department"] == "卫生健康委员会"  # a department id becomes its name
    assert details["Use"] == "business verification"  # a code becomes its label
    assert details["Period (days)"] == "10"
    assert str(request.pk) not in details.values()
    assert str(people["tax_steward"].pk) not in details["Notified"]


def test_long_values_are_folded_and_lists_readable(org_units, people):
    resource = factories.resource(org_units["tax"], by=people["tax_steward"], title="长说明")
    catalog.update_resource(people["tax_steward"], resource, {"summary": "新摘要", "body": "新正文"}, note="说" * 200)
    event = Event.objects.filter(action="resource.updated").latest("seq")
    html = _row(_page(factories_client(people["auditor"]), action="resource.updated"), event.seq)
    assert '<details class="sh-fold">' in html and "说" * 200 in html  # the whole note, one click away
    assert re.search(r"Changed fields.*summary, (body|text)|Changed fields.*(body|text), summary", _text(html))
    assert "{&quot;" not in html and '{"' not in _text(html)  # no raw JSON


# ---- the page ------------------------------------------------------------------------------------------------


def test_the_hash_is_shortened_with_a_copy_button(people, tax_records):
    html = _page(factories_client(people["auditor"]))
    event = Event.objects.latest("seq")
    row = _row(html, event.seq)
    assert f'data-copy-text="{event.hash}"' in row
    assert f"{event.hash[:10]}…" in row
    assert f'title="{event.hash}"' in row  # the full hash on hover, too
    assert 'aria-label="Copy the full hash of entry #' in row
    from django.contrib.staticfiles import finders

    script = open(finders.find("web/sharehub.js"), encoding="utf-8").read()  # noqa: SIM115
    assert "[data-copy-text]" in script and "execCommand" in script  # works on plain http too
    assert "<script>" not in html.split("</head>")[1]  # no inline script under the CSP


def test_the_table_stacks_on_a_phone(people, tax_records):
    html = _page(factories_client(people["auditor"]))
    assert 'class="table table-sm align-middle mb-0 sh-audit sh-stack"' in html
    assert 'data-label="Departments"' in html and 'data-label="Hash"' in html
    assert '<dl class="sh-kv">' in html  # details label themselves: no "Details:" before them on a phone
    assert "style=" not in html.split("<main")[1]


def test_filter_by_translated_action_grouped_by_area(people, tax_records, org_units):
    client = factories_client(people["auditor"])
    html = _page(client)
    assert '<optgroup label="Catalog">' in html
    assert '<option value="resource.">All: Catalog</option>' in html
    assert '<option value="resource.created">Resource created</option>' in html
    prefix = client.get("/audit/", {"action": "resource."})
    actions = {e.event.action for e in prefix.context["rows"]}
    assert actions and all(a.startswith("resource.") for a in actions)
    exact = client.get("/audit/", {"action": "resource.created"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="audit-table")
    assert {r.event.action for r in exact.context["rows"]} == {"resource.created"}
    assert "<html" not in exact.content.decode()
    chinese = client.get("/audit/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    zh = chinese.content.decode()
    assert '<optgroup label="资源目录">' in zh and ">新建资源</option>" in zh


def test_both_languages_render(people, tax_records, ma_chao):
    catalog.note_content_read(ma_chao, [tax_records], via="search")
    client = factories_client(people["auditor"])
    english = _page(client)
    chinese = client.get("/audit/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "read" in _text(english) and "through search" in _text(english)
    assert "通过搜索查看了" in _text(chinese) and "审计日志" in chinese
    assert "What happened" in english and "事件" in chinese


def test_statements_do_not_grow_with_the_page(org_units, people, monkeypatch):
    """Ten rows and fifty rows of the same mix of actions cost the same number of statements."""
    for n in range(7):  # each round: a department, a person, a membership, a resource, a read, a request, a grant
        department = factories.department(f"科室{n}", f"KS{n}")
        person = org.create_person(people["admin"], username=f"reader{n}", check_password=False)
        org.set_membership(people["admin"], person, department, "member")
        resource = catalog.create_resource(
            people["tax_steward"], owner_department=org_units["tax"], kind="document", title=f"台账{n}",
            sharing_type="conditional", conditions="核验", publish=True,
        )  # fmt: skip
        catalog.note_content_read(people["tax_steward"], [resource], via="page")
        request = access.create_request(
            people["health_member"], resource, purpose="核验", use_category="verification", period_days=5,
            accept_terms=True,
        )  # fmt: skip
        access.approve_request(people["tax_steward"], request)
    client = factories_client(people["auditor"])
    counts = {}
    for size in (10, 50):
        monkeypatch.setattr(views, "PAGE_SIZE", size)
        client.get("/audit/")  # warm: the session, the policy's statements
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/audit/")
        assert len(response.context["rows"]) == size
        counts[size] = len(queries.captured_queries)
    assert counts[10] == counts[50], counts
    kinds = {r.event.target_type for r in response.context["rows"]}
    assert {"org.department", "org.user", "catalog.resource", "access.accessrequest", "access.grant"} <= kinds


def test_actor_filter_takes_the_display_name(ma_chao, tax_records, people):
    catalog.note_content_read(ma_chao, [tax_records], via="search")
    client = factories_client(people["auditor"])
    by_name = client.get("/audit/", {"actor": "马超"})
    assert {r.event.action for r in by_name.context["rows"]} >= {"resource.read"}
    assert all(r.event.actor_id == ma_chao.pk for r in by_name.context["rows"])
    one = Event.objects.filter(action="resource.read").get()
    by_number = client.get("/audit/", {"seq": one.seq})
    assert [r.event.seq for r in by_number.context["rows"]] == [one.seq]
    assert client.get("/audit/", {"seq": "2" * 40}).status_code == 200  # out of range: shown as an error


@pytest.mark.parametrize("who", ["tax_member", "tax_steward", "admin"])
def test_non_auditors_get_404_on_every_audit_route(people, who):
    client = factories_client(people[who])
    for path in ("/audit/", "/audit/export.csv", "/audit/export.jsonl", "/audit/export.jsonl?export-from_seq=1"):
        assert client.get(path).status_code == 404, path
    assert client.post("/audit/verify/").status_code == 404


def test_a_deactivated_person_still_reads_by_name(people, org_units):
    person = factories.member(org_units["tax"], username="leaver")
    org.update_person(people["admin"], person, display_name="离职者", is_active=False)
    event = Event.objects.filter(action="person.updated").latest("seq")
    described = _describe(people["auditor"], event)
    assert described.sentence.text == "admin deactivated 离职者 (税务局)."
    assert User.objects.get(pk=person.pk).is_active is False


# ---- the CSV export and the API read the same way ------------------------------------------------------------


def test_the_csv_export_carries_the_readable_name_sentence_and_details(ma_chao, tax_records, people):
    catalog.note_content_read(ma_chao, [tax_records], via="search")
    client = factories_client(people["auditor"])
    client.cookies["django_language"] = "zh-hans"
    response = client.get("/audit/export.csv", {"action": "resource.read"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header, row = rows[0], rows[1]
    assert header[-3:] == ["action_name", "description", "readable_details"]
    assert row[3] == "resource.read"  # the raw code stays for programs
    assert row[-3] == "查看内容"
    assert row[-2] == f"马超（人力资源和社会保障局） 通过搜索查看了 纳税人登记信息（{tax_records.code}）。"


def test_the_csv_export_describes_more_events_than_one_chunk(org_units, people, monkeypatch):
    monkeypatch.setattr(views, "CSV_CHUNK", 3)
    for n in range(7):
        factories.department(f"科室{n}", f"KS{n}")
    response = factories_client(people["auditor"]).get("/audit/export.csv", {"action": "department.created"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))[1:]
    assert len(rows) >= 7
    assert all(row[-3] == "Department created" and row[-2] for row in rows)


def test_the_api_gives_the_readable_name_sentence_and_details(ma_chao, tax_records, people):
    catalog.note_content_read(ma_chao, [tax_records], via="search")
    _token, secret = org.issue_token(people["auditor"], people["auditor"], "audit", scopes=["audit:read"])
    response = Client().get(
        "/api/v1/audit/events",
        {"action": "resource.read"},
        HTTP_AUTHORIZATION=f"Bearer {secret}",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200, response.content
    item = response.json()["items"][0]
    assert item["action"] == "resource.read"
    assert item["action_name"] == "Content read"
    code = tax_records.code
    assert item["description"] == f"马超 (人力资源和社会保障局) read 纳税人登记信息 ({code}) through search."
    assert isinstance(item["readable_details"], list)
