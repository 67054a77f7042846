"""The console through the API (issue 14): people imports, service accounts, sign-in attempts and settings
(sharehub.org.api_console)."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sharehub.access.models import AccessSettings, ApprovalRule
from sharehub.events.models import Event
from sharehub.org import people_import
from sharehub.org import services as org
from sharehub.org.models import Department, PeopleImport, User
from tests import factories
from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db

GOOD_CSV = "username,display_name,department,role\nnewbie,新人,SWJ,member\n,无名,,\ntax_member,税务成员改,,\n"


def _upload(client, content: str | bytes = GOOD_CSV, name: str = "people.csv"):
    return client.upload("/people/imports", name, content.encode("utf-8") if isinstance(content, str) else content)


def _count(client, path: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params)
        assert response.status_code == 200, response.content
    return len(captured)


def _actions() -> list[str]:
    return list(Event.objects.order_by("seq").values_list("action", flat=True))


@pytest.fixture
def admin(api_as, people):
    return api_as(people["admin"])


@pytest.fixture
def account(people, org_units):
    return org.create_service_account(people["admin"], department=org_units["tax"], username="erp", display_name="ERP")


def _attempt(username: str, failures: int = 5, address: str = "10.0.0.1") -> AccessAttempt:
    return AccessAttempt.objects.create(
        username=username,
        ip_address=address,
        user_agent="curl",
        failures_since_start=failures,
        get_data="",
        post_data="",
        http_accept="*/*",
        path_info="/accounts/login/",
    )


# --- who may: admins only, 404 for everyone else; token scopes


def _routes(import_id: int, account_id: int, department_id: int) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", "/people/imports", None),
        ("get", f"/people/imports/{import_id}", None),
        ("get", "/people/imports/template.csv", None),
        ("get", "/people/imports/template.xlsx", None),
        ("post", f"/people/imports/{import_id}/apply", None),
        ("post", f"/people/imports/{import_id}/discard", None),
        ("get", "/service-accounts", None),
        ("post", "/service-accounts", {"username": "x1", "department": department_id}),
        ("patch", f"/service-accounts/{account_id}", {"is_active": False}),
        ("get", f"/service-accounts/{account_id}/tokens", None),
        ("post", f"/service-accounts/{account_id}/tokens", {"name": "t"}),
        ("get", "/sign-in-attempts", None),
        ("post", "/sign-in-attempts/unlock", {"username": "tax_member"}),
        ("get", "/settings/access", None),
        ("put", "/settings/access", {"decision_working_days": 9, "reminder_working_days": 1, "expiry_notice_days": 3}),
        ("get", "/approval-rules", None),
        ("put", f"/departments/{department_id}/approval-rule", {"head_for_outsiders": True}),
    ]


def _send(client, method: str, path: str, data):
    if method in ("get",):
        return client.get(path)
    if method == "put":
        import json

        return client.client.put(
            "/api/v1" + path, json.dumps(data or {}), content_type="application/json", **client.headers
        )
    return getattr(client, method)(path, data or {})


@pytest.mark.parametrize("who", ["tax_steward", "hr_head", "auditor"])
def test_everyone_but_admins_gets_404_and_nothing_changes(api_as, people, org_units, account, who):
    assert _upload(api_as(people["admin"])).status_code == 201
    found = PeopleImport.objects.get()
    client = api_as(people[who])
    before = Event.objects.count()
    assert _upload(client).status_code == 404
    for method, path, data in _routes(found.pk, account.pk, org_units["tax"].pk):
        response = _send(client, method, path, data)
        assert response.status_code == 404, (method, path, response.content)
        assert error_of(response)["code"] == "not_found"
    assert Event.objects.count() == before
    found.refresh_from_db()
    assert found.status == PeopleImport.Status.PREVIEW
    assert User.objects.get(pk=account.pk).is_active


def test_a_read_token_reads_but_cannot_write(api_as, people, org_units, account):
    _token, raw = org.issue_token(people["admin"], people["admin"], "read", scopes=["organization:read"])
    reader = api_as(token=raw)
    assert reader.get("/service-accounts").status_code == 200
    assert reader.get("/settings/access").status_code == 200
    for method, path, data in _routes(1, account.pk, org_units["tax"].pk):
        if method != "get":
            response = _send(reader, method, path, data)
            assert response.status_code == 403, (method, path)
            assert error_of(response)["fields"]["scopes"] == "organization:read"
    assert _upload(reader).status_code == 403
    _token, raw = org.issue_token(people["admin"], people["admin"], "write", scopes=["organization:write"])
    assert _upload(api_as(token=raw)).status_code == 201


# --- people imports


def test_upload_preview_apply_and_apply_again_is_409(admin, people):
    response = _upload(admin)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "preview" and body["rows"] == 3
    assert body["counts"] == {"error": 1, "create": 1, "update": 1, "unchanged": 0}
    assert body["created_by"]["username"] == "admin" and body["file_name"] == "people.csv"
    import_id = body["id"]

    listed = admin.get("/people/imports").json()
    assert [item["id"] for item in listed["items"]] == [import_id] and listed["next_cursor"] is None

    detail = admin.get(f"/people/imports/{import_id}").json()
    assert [row["action"] for row in detail["items"]] == ["error", "create", "update"]  # errors first
    assert detail["items"][0]["errors"] == {"username": "A username is required."}
    assert detail["items"][2]["changes"] == ["display_name"]
    only = admin.get(f"/people/imports/{import_id}", {"show": "create"}).json()
    assert [row["values"]["username"] for row in only["items"]] == ["newbie"]
    paged = admin.get(f"/people/imports/{import_id}", {"limit": 2}).json()
    assert len(paged["items"]) == 2 and paged["next_cursor"] == "2"
    rest = admin.get(f"/people/imports/{import_id}", {"limit": 2, "cursor": paged["next_cursor"]}).json()
    assert [row["line"] for row in rest["items"]] == [4] and rest["next_cursor"] is None

    response = admin.post(f"/people/imports/{import_id}/apply")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "applied" and response.json()["applied_at"]
    assert User.objects.get(username="newbie").display_name == "新人"
    assert User.objects.get(username="tax_member").display_name == "税务成员改"
    assert "org.people_import_checked" in _actions() and "org.people_imported" in _actions()

    again = admin.post(f"/people/imports/{import_id}/apply")
    assert again.status_code == 409
    assert error_of(again)["code"] == "conflict"
    assert _actions().count("org.people_imported") == 1


def test_discard_then_discard_or_apply_again_is_409(admin):
    import_id = _upload(admin).json()["id"]
    response = admin.post(f"/people/imports/{import_id}/discard")
    assert response.status_code == 200 and response.json()["status"] == "discarded"
    assert "org.people_import_discarded" in _actions()
    assert admin.post(f"/people/imports/{import_id}/discard").status_code == 409
    assert admin.post(f"/people/imports/{import_id}/apply").status_code == 409
    assert not User.objects.filter(username="newbie").exists()


def test_a_failed_apply_answers_why_and_keeps_it_recorded(admin, org_units):
    import_id = _upload(admin).json()["id"]
    Department.objects.filter(pk=org_units["tax"].pk).update(archived_at=timezone.now())
    response = admin.post(f"/people/imports/{import_id}/apply")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "failed" and "Line 2" in response.json()["reason"]
    assert not User.objects.filter(username="newbie").exists()
    assert "org.people_import_failed" in _actions()


@pytest.mark.parametrize(
    ("content", "name"),
    [("", "people.csv"), ("hello,world\n1,2\n", "people.csv"), ("username\n", "people.csv"), ("x", "people.doc")],
)
def test_a_bad_file_is_422_naming_file(admin, content, name):
    response = _upload(admin, content, name)
    assert response.status_code == 422
    assert "file" in error_of(response)["fields"]
    assert not PeopleImport.objects.exists()


def test_no_file_is_422_and_too_large_413(admin, monkeypatch):
    response = admin.post("/people/imports", {})
    assert response.status_code in (400, 422)
    monkeypatch.setattr(people_import, "MAX_BYTES", 10)
    response = _upload(admin)
    assert response.status_code == 413
    assert "file" in error_of(response)["fields"]


def test_no_file_in_a_multipart_post_is_422_on_file(admin):
    response = admin.client.post("/api/v1/people/imports", {"other": "x"})
    assert response.status_code == 422
    assert "file" in error_of(response)["fields"]


def test_templates_in_the_readers_language(admin):
    response = admin.get("/people/imports/template.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.content.decode("utf-8-sig").startswith("username,display_name")
    chinese = admin.client.get("/api/v1/people/imports/template.csv", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.content.decode("utf-8-sig").startswith("用户名,姓名")
    xlsx = admin.get("/people/imports/template.xlsx")
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")


def test_unknown_import_is_404_and_bad_filter_422(admin):
    assert admin.get("/people/imports/999999").status_code == 404
    assert admin.post("/people/imports/999999/apply").status_code == 404
    import_id = _upload(admin).json()["id"]
    response = admin.get(f"/people/imports/{import_id}", {"show": "nonsense"})
    assert response.status_code == 422 and "show" in error_of(response)["fields"]


def test_import_lists_keep_their_statement_count(admin):
    import_id = _upload(admin).json()["id"]
    few = _count(admin, "/people/imports")
    rows = _count(admin, f"/people/imports/{import_id}")
    for _ in range(4):
        _upload(admin, GOOD_CSV + "".join(f"more{i},,SWJ,\n" for i in range(20)))
    assert _count(admin, "/people/imports") == few
    assert _count(admin, f"/people/imports/{PeopleImport.objects.order_by('-pk').first().pk}") == rows
    page = admin.get("/people/imports", {"limit": 2}).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    nxt = admin.get("/people/imports", {"limit": 2, "cursor": page["next_cursor"]}).json()
    assert len(nxt["items"]) == 2 and {i["id"] for i in nxt["items"]}.isdisjoint({i["id"] for i in page["items"]})


# --- service accounts


def test_create_list_patch_a_service_account(admin, org_units):
    response = admin.post(
        "/service-accounts", {"username": "crm", "display_name": " CRM ", "department": org_units["hr"].pk}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["username"] == "crm" and body["display_name"] == "CRM" and body["is_active"]
    assert body["department"]["code"] == "RSJ" and body["active_tokens"] == 0
    assert "service_account.created" in _actions()

    response = admin.patch(
        f"/service-accounts/{body['id']}",
        {"display_name": "客户系统", "department": org_units["tax"].pk, "is_active": False},
    )
    assert response.status_code == 200, response.content
    changed = response.json()
    assert changed["display_name"] == "客户系统" and changed["department"]["code"] == "SWJ"
    assert changed["is_active"] is False
    assert {"person.updated", "service_account.moved"} <= set(_actions())

    assert [a["username"] for a in admin.get("/service-accounts", {"state": "inactive"}).json()["items"]] == ["crm"]
    assert admin.get("/service-accounts", {"state": "active"}).json()["items"] == []
    assert admin.get("/service-accounts", {"department": org_units["hr"].pk}).json()["items"] == []
    response = admin.get("/service-accounts", {"state": "other"})
    assert response.status_code == 422 and "state" in error_of(response)["fields"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"username": "tax_member", "department": "tax"}, "username"),  # taken
        ({"username": "bad name!", "department": "tax"}, "username"),
        ({"username": "x2", "department": 999999}, "department"),
        ({"username": "x2", "department": "archived"}, "department"),
        ({"username": "x2"}, "department"),
        ({"username": "x2", "department": "tax", "extra": 1}, "extra"),
    ],
)
def test_bad_service_account_is_422_naming_the_field(admin, org_units, data, field):
    archived = factories.department("旧部门", "OLD")
    Department.objects.filter(pk=archived.pk).update(archived_at=timezone.now())
    ids = {"tax": org_units["tax"].pk, "archived": archived.pk}
    data = {k: ids.get(v, v) if k == "department" else v for k, v in data.items()}
    response = admin.post("/service-accounts", data)
    assert response.status_code == 422, response.content
    assert field in error_of(response)["fields"]
    assert not Event.objects.filter(action="service_account.created").exists()


def test_patch_bad_department_changes_nothing(admin, account):
    response = admin.patch(f"/service-accounts/{account.pk}", {"display_name": "新名", "department": 999999})
    assert response.status_code == 422 and "department" in error_of(response)["fields"]
    account.refresh_from_db()
    assert account.display_name == "ERP"
    assert admin.patch("/service-accounts/999999", {"is_active": False}).status_code == 404


def test_a_person_is_not_a_service_account(admin, people):
    assert admin.get(f"/service-accounts/{people['tax_member'].pk}/tokens").status_code == 404
    assert admin.patch(f"/service-accounts/{people['tax_member'].pk}", {"is_active": False}).status_code == 404


def test_token_is_shown_once_and_works_within_its_scopes(admin, api_as, account):
    response = admin.post(f"/service-accounts/{account.pk}/tokens", {"name": "sync", "scopes": ["read"], "days": 30})
    assert response.status_code == 201, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["secret"].startswith("shr_") and body["scopes"] == ["read"] and body["state"] == "active"
    assert "token.issued" in _actions()
    robot = api_as(token=body["secret"])
    assert robot.get("/me").json()["username"] == "erp"
    listed = admin.get(f"/service-accounts/{account.pk}/tokens").json()
    assert [t["name"] for t in listed["items"]] == ["sync"] and "secret" not in listed["items"][0]
    assert admin.get("/service-accounts").json()["items"][0]["active_tokens"] == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "t", "scopes": ["everything"]}, "scopes"),
        ({"name": "t", "scopes": []}, "scopes"),
        ({"name": "t", "days": 0}, "days"),
        ({"name": "t", "days": 10**6}, "days"),
        ({"name": "t", "days": "7"}, "days"),
    ],
)
def test_bad_token_is_422_naming_the_field(admin, account, data, field):
    response = admin.post(f"/service-accounts/{account.pk}/tokens", data)
    assert response.status_code == 422, response.content
    assert field in error_of(response)["fields"]
    assert not Event.objects.filter(action="token.issued").exists()


def test_no_token_for_a_deactivated_account(admin, account):
    admin.patch(f"/service-accounts/{account.pk}", {"is_active": False})
    response = admin.post(f"/service-accounts/{account.pk}/tokens", {"name": "t"})
    assert response.status_code == 422 and "user" in error_of(response)["fields"]


def test_service_account_lists_keep_their_statement_count(admin, people, org_units, account):
    org.issue_token(people["admin"], account, "one")
    few = _count(admin, "/service-accounts")
    tokens = _count(admin, f"/service-accounts/{account.pk}/tokens")
    for i in range(5):
        other = org.create_service_account(people["admin"], department=org_units["hr"], username=f"sys{i}")
        org.issue_token(people["admin"], other, "t")
        org.issue_token(people["admin"], account, f"t{i}")
    assert _count(admin, "/service-accounts") == few
    assert _count(admin, f"/service-accounts/{account.pk}/tokens") == tokens
    first = admin.get(f"/service-accounts/{account.pk}/tokens", {"limit": 4}).json()
    second = admin.get(f"/service-accounts/{account.pk}/tokens", {"limit": 4, "cursor": first["next_cursor"]}).json()
    assert len(first["items"]) == 4 and len(second["items"]) == 2 and second["next_cursor"] is None
    page = admin.get("/service-accounts", {"limit": 4}).json()
    rest = admin.get("/service-accounts", {"limit": 4, "cursor": page["next_cursor"]}).json()
    assert len(page["items"]) + len(rest["items"]) == 6


# --- sign-in attempts


def test_attempts_filters_and_unlock(admin, people):
    _attempt("tax_member", 5)
    _attempt("tax_steward", 1, address="10.0.0.2")
    body = admin.get("/sign-in-attempts").json()
    rows = {row["username"]: row for row in body["items"]}
    assert rows["tax_member"]["locked"] and rows["tax_member"]["until"]
    assert rows["tax_member"]["person"]["username"] == "tax_member"
    assert not rows["tax_steward"]["locked"] and body["failure_limit"] == 5 and body["cool_off_minutes"] == 15
    assert [r["username"] for r in admin.get("/sign-in-attempts", {"locked": "true"}).json()["items"]] == ["tax_member"]
    assert [r["username"] for r in admin.get("/sign-in-attempts", {"username": "stew"}).json()["items"]] == [
        "tax_steward"
    ]

    response = admin.post("/sign-in-attempts/unlock", {"username": "tax_member"})
    assert response.status_code == 200 and response.json() == {"username": "tax_member", "cleared": 1}
    assert not AccessAttempt.objects.filter(username="tax_member").exists()
    event = Event.objects.get(action="auth.unlocked")
    assert event.actor == people["admin"] and event.details == {"username": "tax_member"}
    assert admin.post("/sign-in-attempts/unlock", {"username": "nobody"}).json()["cleared"] == 0
    assert Event.objects.filter(action="auth.unlocked").count() == 1


@pytest.mark.parametrize("data", [{}, {"username": ""}, {"username": "  "}, {"username": "x" * 300}, {"username": 5}])
def test_bad_unlock_is_422_naming_username(admin, data):
    _attempt("tax_member")
    response = admin.post("/sign-in-attempts/unlock", data)
    assert response.status_code == 422
    assert "username" in error_of(response)["fields"]
    assert AccessAttempt.objects.filter(username="tax_member").exists()


def test_attempts_page_by_cursor_with_a_constant_statement_count(admin):
    _attempt("a0")
    few = _count(admin, "/sign-in-attempts")
    for i in range(1, 6):
        _attempt(f"a{i}", address=f"10.0.1.{i}")
    assert _count(admin, "/sign-in-attempts") == few
    seen, cursor = [], None
    while True:
        page = admin.get("/sign-in-attempts", {"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [row["username"] for row in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == [f"a{i}" for i in range(6)] and len(seen) == 6
    for bad in ("x", "1.2.3", "99999999999999999999.1"):
        response = admin.get("/sign-in-attempts", {"cursor": bad})
        assert response.status_code == 422 and "cursor" in error_of(response)["fields"]


# --- settings


def _put(client, path: str, data):
    return _send(client, "put", path, data)


def test_access_settings_read_and_change(admin):
    body = admin.get("/settings/access").json()
    assert body["decision_working_days"] == 10 and body["limits"]["decision_working_days"] == [1, 60]
    data = {"decision_working_days": 8, "reminder_working_days": 3, "expiry_notice_days": 5}
    response = _put(admin, "/settings/access", data)
    assert response.status_code == 200, response.content
    assert response.json()["decision_working_days"] == 8
    current = AccessSettings.current()
    assert (current.decision_working_days, current.reminder_working_days, current.expiry_notice_days) == (8, 3, 5)
    event = Event.objects.get(action="access.settings_changed")
    assert event.details == {"decision_working_days": 8, "reminder_working_days": 3, "expiry_notice_days": 5}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"decision_working_days": 5, "reminder_working_days": 5, "expiry_notice_days": 1}, "reminder_working_days"),
        ({"decision_working_days": 0, "reminder_working_days": 0, "expiry_notice_days": 1}, "decision_working_days"),
        ({"decision_working_days": 5, "reminder_working_days": 1, "expiry_notice_days": 999}, "expiry_notice_days"),
        ({"decision_working_days": 5, "reminder_working_days": 1}, "expiry_notice_days"),
        ({"decision_working_days": True, "reminder_working_days": 1, "expiry_notice_days": 1}, "decision_working_days"),
    ],
)
def test_bad_access_settings_are_422_naming_the_field(admin, data, field):
    response = _put(admin, "/settings/access", data)
    assert response.status_code == 422, response.content
    assert field in error_of(response)["fields"]
    assert not Event.objects.filter(action="access.settings_changed").exists()


def test_approval_rules_list_and_set(admin, org_units):
    tax, hr = org_units["tax"], org_units["hr"]
    response = _put(
        admin,
        f"/departments/{tax.pk}/approval-rule",
        {"head_for_outsiders": True, "trusted_departments": [hr.pk, tax.pk]},
    )
    assert response.status_code == 200, response.content
    assert response.json()["head_for_outsiders"] is True
    assert [d["code"] for d in response.json()["trusted_departments"]] == ["RSJ"]  # itself is left out
    event = Event.objects.get(action="access.approval_rule_set")
    assert event.details == {"head_for_outsiders": True, "trusted_departments": [hr.pk]}
    rules = {row["department"]["code"]: row for row in admin.get("/approval-rules").json()["items"]}
    assert rules["SWJ"]["head_for_outsiders"] and not rules["WJW"]["head_for_outsiders"]
    assert ApprovalRule.objects.get(department=tax).head_for_outsiders


def test_bad_approval_rule(admin, org_units):
    tax = org_units["tax"]
    response = _put(
        admin, f"/departments/{tax.pk}/approval-rule", {"head_for_outsiders": True, "trusted_departments": [999999]}
    )
    assert response.status_code == 422 and "trusted_departments" in error_of(response)["fields"]
    response = _put(admin, f"/departments/{tax.pk}/approval-rule", {"trusted_departments": []})
    assert response.status_code == 422 and "head_for_outsiders" in error_of(response)["fields"]
    assert _put(admin, "/departments/999999/approval-rule", {"head_for_outsiders": True}).status_code == 404
    assert not Event.objects.filter(action="access.approval_rule_set").exists()


def test_approval_rules_page_by_cursor_with_a_constant_statement_count(admin, org_units):
    org_units_list = list(org_units.values())
    _put(
        admin,
        f"/departments/{org_units_list[0].pk}/approval-rule",
        {"head_for_outsiders": True, "trusted_departments": [org_units_list[1].pk]},
    )
    few = _count(admin, "/approval-rules")
    for i in range(4):
        department = factories.department(f"新{i}", f"N{i}")
        _put(
            admin,
            f"/departments/{department.pk}/approval-rule",
            {"head_for_outsiders": True, "trusted_departments": [org_units_list[2].pk, org_units_list[3].pk]},
        )
    assert _count(admin, "/approval-rules") == few
    seen, cursor = [], None
    while True:
        page = admin.get("/approval-rules", {"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        seen += [row["department"]["id"] for row in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 8
    response = admin.get("/approval-rules", {"cursor": "../x"})
    assert response.status_code == 422 and "cursor" in error_of(response)["fields"]


def test_writes_take_an_idempotency_key(admin, org_units):
    data = {"username": "crm", "department": org_units["hr"].pk}
    headers = {"HTTP_IDEMPOTENCY_KEY": "crm-1", **admin.headers}
    first = admin.client.post("/api/v1/service-accounts", data, content_type="application/json", **headers)
    again = admin.client.post("/api/v1/service-accounts", data, content_type="application/json", **headers)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert User.objects.filter(username="crm").count() == 1
    assert Event.objects.filter(action="service_account.created").count() == 1


def test_booleans_are_json_booleans(admin, account, org_units):
    response = admin.patch(f"/service-accounts/{account.pk}", {"is_active": 0})
    assert response.status_code == 422 and "is_active" in error_of(response)["fields"]
    response = _put(admin, f"/departments/{org_units['tax'].pk}/approval-rule", {"head_for_outsiders": "yes"})
    assert response.status_code == 422 and "head_for_outsiders" in error_of(response)["fields"]
