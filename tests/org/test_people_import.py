"""Importing people from CSV or XLSX (/manage/imports/ and `sharehub people import`): reading the file in
its encodings and formats, each kind of row error shown at its field, the limits, applying all or nothing
and once, discarding, who may see the pages, the CLI's exit codes, and the statement counts of the pages."""

from __future__ import annotations

import io
import re
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.test import Client
from django.utils import timezone

from sharehub.errors import Conflict, Invalid
from sharehub.events import describe
from sharehub.events.models import Event
from sharehub.org import people_import, services
from sharehub.org.models import Membership, PeopleImport, User
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/manage/imports/"
HEADER = "username,display_name,email,department,role,org_roles,active"


def _csv(*lines: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode(encoding)


def _xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _upload(client: Client, content: bytes, name: str = "people.csv"):
    return client.post(URL, {"file": SimpleUploadedFile(name, content)})


def _preview(client: Client, content: bytes, name: str = "people.csv") -> PeopleImport:
    response = _upload(client, content, name)
    assert response.status_code == 302, response.content.decode()[:2000]
    return PeopleImport.objects.get(pk=int(re.search(r"/(\d+)/$", response["Location"]).group(1)))


def _by_user(found: PeopleImport) -> dict[str, dict]:
    return {row["values"].get("username", f"line{row['line']}"): row for row in found.rows}


@pytest.fixture
def admin_client(people, client_for):
    return client_for(people["admin"])


# ---- reading files ---------------------------------------------------------------------------------------------


def test_a_utf8_csv_with_a_bom_becomes_a_preview_of_each_row(admin_client, org_units, people):
    content = b"\xef\xbb\xbf" + _csv(
        "zhang.san,张三,zhang@example.com,SWJ,steward,,",
        "tax_member,税务小王,,SWJ;卫生健康委员会,,,",  # known: a new name and a second department
        "hr_head,,,,,,",  # known, nothing to change
    )
    found = _preview(admin_client, content)
    assert found.status == PeopleImport.Status.PREVIEW and found.created_by == people["admin"]
    rows = _by_user(found)
    assert rows["zhang.san"]["action"] == "create"
    assert rows["zhang.san"]["memberships"] == [[org_units["tax"].pk, "steward"]]
    assert rows["tax_member"]["action"] == "update"
    assert set(rows["tax_member"]["changes"]) == {"display_name", "department"}
    assert rows["tax_member"]["memberships"] == [[org_units["tax"].pk, "member"], [org_units["health"].pk, "member"]]
    assert rows["hr_head"]["action"] == "unchanged"
    assert found.summary.items() >= {"create": 1, "update": 1, "unchanged": 1, "error": 0, "rows": 3}.items()
    assert not User.objects.filter(username="zhang.san").exists()  # a preview writes no person
    event = Event.objects.filter(action="org.people_import_checked").get()
    assert event.details["create"] == 1 and event.target_id == str(found.pk)


def test_a_gbk_csv_with_chinese_headers_and_semicolons(admin_client, org_units):
    content = _csv(
        "wang.wu;王五;wang@example.com;税务局；RSJ;负责人;审计员;是",
        header="用户名;姓名;邮箱;部门;角色;组织角色;启用",
        encoding="gbk",
    )
    found = _preview(admin_client, content, "人员.csv")
    row = found.rows[0]
    assert row["action"] == "create", row["errors"]
    assert row["values"]["display_name"] == "王五"
    assert row["memberships"] == [[org_units["tax"].pk, "head"], [org_units["hr"].pk, "head"]]
    assert (row["admin"], row["auditor"], row["active"]) == (False, True, True)
    assert found.file_name == "人员.csv"


def test_gb18030_text_reads_too(admin_client, org_units):
    found = _preview(admin_client, _csv("li.si,李四𠀀,,SWJ,,,", encoding="gb18030"))
    assert found.rows[0]["values"]["display_name"] == "李四𠀀"


def test_an_xlsx_workbook_with_numbers_as_usernames(admin_client, org_units):
    content = _xlsx(
        [["用户名", "姓名", "部门", "备注"], [10086, "工号用户", "SWJ", "ignored"], [None, None, None, None]]
    )
    found = _preview(admin_client, content, "people.xlsx")
    assert [row["values"]["username"] for row in found.rows] == ["10086"]
    assert found.rows[0]["action"] == "create"
    assert found.summary["ignored"] == ["备注"]


# ---- row errors ------------------------------------------------------------------------------------------------


def test_each_kind_of_row_error_is_named_at_its_field(admin_client, org_units, people, client_for):
    archived = factories.department("旧档案室", "DAS")
    archived.archived_at = timezone.now()
    archived.save(update_fields=["archived_at"])
    merged = factories.department("旧统计科", "TJK")
    merged.archived_at, merged.merged_into = timezone.now(), org_units["tax"]
    merged.save(update_fields=["archived_at", "merged_into"])
    services.create_service_account(None, department=org_units["tax"], username="tax-erp")
    content = _csv(
        "a1,,not-an-email,,,,",
        "a2,,,火星局,,,",
        "a3,,,DAS,,,",
        "a4,,,旧统计科,,,",
        "a5,,,SWJ,boss,,",
        "a6,,,,steward,,",
        "a7,,,,,root,",
        "a8,,,,,,maybe",
        "dup,,,,,,",
        "DUP,,,,,,",
        "tax-erp,,,,,,",
        "admin,,,,,none,",
        "bad name!,,,,,,",
        ",名字,,,,,",
        "a9," + "长" * 121 + ",,,,,",
    )
    found = _preview(admin_client, content)
    codes = {row["line"]: {name: problem[0] for name, problem in row["errors"].items()} for row in found.rows}
    assert codes == {
        2: {"email": "email"},
        3: {"department": "unknown_department"},
        4: {"department": "archived_department"},
        5: {"department": "merged_department"},
        6: {"role": "unknown_role"},
        7: {"role": "role_without_department"},
        8: {"org_roles": "unknown_org_role"},
        9: {"active": "active"},
        10: {"username": "duplicate"},
        11: {"username": "duplicate"},
        12: {"username": "service_account"},
        13: {"org_roles": "self"},
        14: {"username": "username_format"},
        15: {"username": "required"},
        16: {"display_name": "too_long"},
    }
    assert found.summary["error"] == 15
    html = admin_client.get(f"{URL}{found.pk}/").content.decode()
    for text in (
        "Enter a valid email address.",
        "No department has the code or name “火星局”.",
        "The department “DAS” is archived.",
        "was merged into “税务局”",
        "Unknown role “boss”",
        "A role needs a department in the same row.",
        "This username is also on line 11; a person may appear once.",
        "You cannot take away your own admin role",
    ):
        assert text in html, text
    apply = admin_client.post(f"{URL}{found.pk}/apply/")
    assert apply.status_code == 422  # nothing valid to apply
    assert "No row can be imported" in apply.content.decode()


def test_the_preview_lists_errors_first_and_pages_by_fifty(admin_client, org_units):
    lines = [f"p{n:03d},,,SWJ,,," for n in range(60)] + ["broken,,x@,,,,"]
    found = _preview(admin_client, _csv(*lines))
    first = admin_client.get(f"{URL}{found.pk}/")
    rows = first.context["rows"]
    assert len(rows) == 50 and rows[0]["action"] == "error" and rows[0]["line"] == 62
    second = admin_client.get(f"{URL}{found.pk}/?page=2")
    assert len(second.context["rows"]) == 11
    only = admin_client.get(f"{URL}{found.pk}/?show=error")
    assert [row["line"] for row in only.context["rows"]] == [62]


# ---- whole-file problems ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "words"),
    [
        (b"", "people.csv", "The file is empty."),
        (b"\r\n\r\n", "people.csv", "The file is empty."),
        (b"name,email\nx,y\n", "people.csv", "username (用户名) column"),
        (_csv(), "people.csv", "a header but no people"),
        (b"%PDF-1.7\n\x00\x01\x02binary", "people.pdf", "Upload a CSV or XLSX file"),
        (b"username\nab\x00cd\n", "people.csv", "binary data"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old", "people.xls", "old Excel (.xls)"),
        (b"PK\x03\x04not really a zip", "people.xlsx", "not an XLSX workbook"),
        (b"\xff\xfe\xfa\xfb" * 10, "people.csv", "neither UTF-8 nor GBK"),
    ],
)
def test_files_that_cannot_be_read_get_422_naming_why(admin_client, content, name, words):
    response = _upload(admin_client, content, name)
    assert response.status_code == 422
    assert words in response.context["errors"]["file"]
    assert words in response.content.decode()
    assert not PeopleImport.objects.exists()


def test_no_file_is_422(admin_client):
    response = admin_client.post(URL, {})
    assert response.status_code == 422 and "Choose a CSV or XLSX file." in response.content.decode()


def test_too_many_rows_is_422_and_too_many_bytes_413(admin_client, org_units, monkeypatch):
    monkeypatch.setattr(people_import, "MAX_ROWS", 2)
    response = _upload(admin_client, _csv("a,,,,,,", "b,,,,,,", "c,,,,,,"))
    assert response.status_code == 422 and "more than 2 people" in response.context["errors"]["file"]
    monkeypatch.setattr(people_import, "MAX_BYTES", 1024 * 1024)
    response = _upload(admin_client, _csv("a,,,,,,") + b"#" * (1024 * 1024))
    assert response.status_code == 413 and "larger than 1 MB" in response.context["errors"]["file"]
    assert not PeopleImport.objects.exists()


def test_an_xlsx_that_unpacks_too_large_is_refused(admin_client, settings):
    settings.EXTRACT_MAX_UNCOMPRESSED_BYTES = 1000
    response = _upload(admin_client, _xlsx([["username"], *[[f"user{n}"] for n in range(200)]]), "big.xlsx")
    assert response.status_code == 413


# ---- applying ----------------------------------------------------------------------------------------------------


def test_apply_writes_the_valid_rows_skips_the_errors_and_records_each_change(admin_client, org_units, people):
    content = _csv(
        "zhang.san,张三,zhang@example.com,SWJ,steward,auditor,",
        "tax_member,税务小王,,RSJ,head,,",
        "hr_head,,,,,,",
        "broken,,not-an-email,,,,",
    )
    found = _preview(admin_client, content)
    before = Event.objects.count()
    response = admin_client.post(f"{URL}{found.pk}/apply/", follow=True)
    assert response.status_code == 200
    found.refresh_from_db()
    assert found.status == PeopleImport.Status.APPLIED and found.applied_at is not None
    assert "Done: 1 added, 1 changed; rows with errors skipped: 1." in response.content.decode()
    zhang = User.objects.get(username="zhang.san")
    assert zhang.display_name == "张三" and zhang.is_auditor and not zhang.is_org_admin
    assert not zhang.has_usable_password()
    assert Membership.objects.get(user=zhang, department=org_units["tax"]).role == "steward"
    member = people["tax_member"]
    member.refresh_from_db()
    assert member.display_name == "税务小王"
    assert Membership.objects.get(user=member, department=org_units["hr"]).role == "head"
    assert Membership.objects.filter(user=member, department=org_units["tax"]).exists()  # never removed
    assert not User.objects.filter(username="broken").exists()
    actions = list(Event.objects.filter(seq__gt=before).order_by("seq").values_list("action", flat=True))
    assert actions == [
        "person.created",
        "membership.set",
        "person.updated",
        "membership.set",
        "org.people_imported",
    ]
    done = Event.objects.get(action="org.people_imported")
    assert done.details == {"file_name": "people.csv", "created": 1, "updated": 1, "unchanged": 1, "skipped": 1}
    assert done.actor_id == people["admin"].pk
    sentence = describe.describe(people["admin"], [done])[0]
    assert "people.csv" in sentence.sentence.text and "1 added" in sentence.sentence.text
    assert f"/manage/imports/{found.pk}/" in sentence.sentence.html  # linked for an admin


def test_an_error_mid_apply_leaves_no_person_written(admin_client, org_units, monkeypatch):
    found = _preview(admin_client, _csv("first.one,,,SWJ,,,", "second.one,,,SWJ,,,", "third.one,,,SWJ,,,"))
    calls = []
    real = services.set_membership

    def breaks_on_the_second(actor, user, department, role="member"):
        calls.append(user.username)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real(actor, user, department, role)

    monkeypatch.setattr(services, "set_membership", breaks_on_the_second)
    before = Event.objects.count()
    response = admin_client.post(f"{URL}{found.pk}/apply/", follow=True)
    assert response.status_code == 200
    found.refresh_from_db()
    assert found.status == PeopleImport.Status.FAILED
    assert "RuntimeError" in found.summary["reason"]
    assert not User.objects.filter(username__endswith=".one").exists()
    assert list(Event.objects.filter(seq__gt=before).values_list("action", flat=True)) == ["org.people_import_failed"]
    assert "Nothing was imported" in response.content.decode()


def test_a_username_taken_since_the_preview_fails_the_whole_import_with_the_line(admin_client, org_units):
    found = _preview(admin_client, _csv("early.bird,,,SWJ,,,", "late.comer,,,SWJ,,,"))
    factories.person("late.comer")
    response = admin_client.post(f"{URL}{found.pk}/apply/")
    assert response.status_code == 302
    found.refresh_from_db()
    assert found.status == PeopleImport.Status.FAILED
    assert found.summary["reason"].startswith("Line 3: username: This username is taken.")
    assert not User.objects.filter(username="early.bird").exists()
    assert admin_client.post(f"{URL}{found.pk}/apply/").status_code == 409  # a failed import stays failed


def test_an_import_applies_once_even_when_pressed_twice(admin_client, org_units, people):
    found = _preview(admin_client, _csv("only.once,,,SWJ,,,"))
    stale = PeopleImport.objects.get(pk=found.pk)  # a second admin's request, read before the first applied
    people_import.apply_import(people["admin"], found)
    assert stale.status == PeopleImport.Status.PREVIEW
    with pytest.raises(Conflict):
        people_import.apply_import(people["admin"], stale)  # the conditional update finds it applied
    assert admin_client.post(f"{URL}{found.pk}/apply/").status_code == 409
    assert User.objects.filter(username="only.once").count() == 1
    assert Event.objects.filter(action="org.people_imported").count() == 1
    assert Event.objects.filter(action="person.created", target_label="only.once").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_admins_pressing_apply_at_the_same_moment_apply_it_once(org_units, people):
    """Each in their own thread and connection: the second waits for the first's lock, then finds the
    import applied (PostgreSQL's row lock, SQLite's write lock) and is told so."""
    table = people_import.read_table(_csv("race.one,,,SWJ,,,", "race.two,,,SWJ,,,"), "race.csv")
    found = people_import.save_preview(people["admin"], "race.csv", people_import.check_table(people["admin"], table))
    second_admin = factories.person("second_admin", admin=True)
    barrier, outcomes = threading.Barrier(2), []

    def press(actor) -> None:
        try:
            mine = PeopleImport.objects.get(pk=found.pk)
            barrier.wait(timeout=10)
            outcomes.append(people_import.apply_import(actor, mine).status)
        except Conflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=press, args=(actor,)) for actor in (people["admin"], second_admin)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["applied", "conflict"]
    assert User.objects.filter(username__startswith="race.").count() == 2
    assert Event.objects.filter(action="org.people_imported").count() == 1


def test_discard(admin_client, org_units):
    found = _preview(admin_client, _csv("never.here,,,SWJ,,,"))
    response = admin_client.post(f"{URL}{found.pk}/discard/")
    assert response.status_code == 302 and response["Location"] == URL
    found.refresh_from_db()
    assert found.status == PeopleImport.Status.DISCARDED
    assert Event.objects.filter(action="org.people_import_discarded", target_id=str(found.pk)).exists()
    assert admin_client.post(f"{URL}{found.pk}/apply/").status_code == 409
    assert admin_client.post(f"{URL}{found.pk}/discard/").status_code == 409
    assert not User.objects.filter(username="never.here").exists()
    listing = admin_client.get(URL).content.decode()
    assert "people.csv" in listing and "discarded" in listing


# ---- the pages -------------------------------------------------------------------------------------------------


def test_the_list_shows_past_imports_with_who_uploaded_them(admin_client, org_units, people):
    _preview(admin_client, _csv("x.one,,,SWJ,,,"), "first.csv")
    second = _preview(client_as(people["admin"]), _csv("x.two,,,,,,", "x.three,,,,,,"), "second.csv")
    response = admin_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("second.csv") < html.index("first.csv")
    assert f'href="/manage/imports/{second.pk}/"' in html
    assert "admin" in html and "New people get no password" in html


def client_as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_templates_have_the_header_in_the_readers_language(admin_client):
    csv_file = admin_client.get(f"{URL}template.csv")
    assert csv_file.status_code == 200 and csv_file["Content-Type"].startswith("text/csv")
    assert csv_file.content == ("\ufeff" + HEADER + "\r\n").encode()
    xlsx = admin_client.get(f"{URL}template.xlsx")
    assert "attachment" in xlsx["Content-Disposition"]
    with pytest.raises(Invalid, match="a header but no people"):
        people_import.read_table(xlsx.content, "template.xlsx")  # a header and no people
    chinese = admin_client.get(f"{URL}template.csv", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.content.decode("utf-8-sig").startswith("用户名,姓名,邮箱,部门,角色,组织角色,启用")
    assert admin_client.get(f"{URL}template.pdf").status_code == 404


def test_the_page_reads_in_chinese(admin_client, org_units):
    found = _preview(admin_client, _csv("li.si,李四,bad,SWJ,,,"))
    response = admin_client.get(f"{URL}{found.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = response.content.decode()
    assert "导入人员" in html and "请输入有效的电子邮箱地址" in html
    assert "Import people" not in html


@pytest.mark.parametrize("who", ["tax_steward", "hr_head", "auditor"])
def test_anyone_but_an_organization_admin_gets_404(who, people, client_for, admin_client, org_units):
    found = _preview(admin_client, _csv("x.one,,,SWJ,,,"))
    client = client_for(people[who])
    for method, path in [
        ("get", URL),
        ("post", URL),
        ("get", f"{URL}template.csv"),
        ("get", f"{URL}{found.pk}/"),
        ("post", f"{URL}{found.pk}/apply/"),
        ("post", f"{URL}{found.pk}/discard/"),
    ]:
        assert getattr(client, method)(path).status_code == 404, (method, path)
    found.refresh_from_db()
    assert found.status == PeopleImport.Status.PREVIEW
    assert admin_client.get(f"{URL}999999/").status_code == 404
    assert Client().get(URL).status_code == 302  # anonymous: to the sign-in page


def test_the_pages_run_a_constant_number_of_statements(admin_client, org_units, django_assert_num_queries):
    small = _preview(admin_client, _csv("s.one,,,SWJ,,,"))
    big = _preview(admin_client, _csv(*[f"b{n:03d},名{n},b{n}@example.com,SWJ,,," for n in range(120)]))
    admin_client.get(f"{URL}{small.pk}/")  # warm the session and the policy's memory
    for found in (small, big):
        with django_assert_num_queries(PREVIEW_STATEMENTS):
            assert admin_client.get(f"{URL}{found.pk}/").status_code == 200
    with django_assert_num_queries(LIST_STATEMENTS):
        assert len(admin_client.get(URL).context["page_obj"].object_list) == 2
    for n in range(60):
        PeopleImport.objects.create(created_by=small.created_by, file_name=f"f{n}.csv", summary={"rows": 1})
    with django_assert_num_queries(LIST_STATEMENTS):
        assert len(admin_client.get(URL).context["page_obj"].object_list) == 50


PREVIEW_STATEMENTS = 7
LIST_STATEMENTS = 8


# ---- the command line ----------------------------------------------------------------------------------------


def _command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("people", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_cli_checks_then_applies(tmp_path, org_units, people):
    path = tmp_path / "people.csv"
    path.write_bytes(_csv("cli.one,命令行,,SWJ,head,,", "cli.bad,,nope,,,,", encoding="gbk"))
    with pytest.raises(CommandError, match="1 row\\(s\\) have errors; nothing was written") as caught:
        _command("import", str(path))
    assert caught.value.returncode == 1
    assert not User.objects.filter(username="cli.one").exists()
    assert not PeopleImport.objects.exists()
    out, err = _command("import", str(path), "--apply")
    assert "1 added" in out and "cli.one" in out and "命令行" in out
    assert "line 3, email: Enter a valid email address." in err
    user = User.objects.get(username="cli.one")
    assert Membership.objects.get(user=user).role == "head"
    found = PeopleImport.objects.get()
    assert found.status == PeopleImport.Status.APPLIED and found.created_by == people["admin"]
    assert Event.objects.get(action="org.people_imported").actor_id == people["admin"].pk


def test_cli_clean_file_exits_zero_and_writes_nothing_without_apply(tmp_path, org_units, people):
    path = tmp_path / "people.xlsx"
    path.write_bytes(_xlsx([["username", "department"], ["x.clean", "SWJ"]]))
    out, _err = _command("import", str(path), "--format", "xlsx")
    assert "1 new" in out and "add --apply" in out
    assert not User.objects.filter(username="x.clean").exists()


def test_cli_acts_as_the_admin_named_or_refuses(tmp_path, org_units, people):
    path = tmp_path / "people.csv"
    path.write_bytes(_csv("x.as,,,SWJ,,,"))
    with pytest.raises(CommandError, match="may not manage the organization"):
        _command("import", str(path), "--apply", "--as", "tax_steward")
    with pytest.raises(CommandError, match="no user named"):
        _command("import", str(path), "--apply", "--as", "nobody")
    other = factories.person("second_admin", admin=True)
    _command("import", str(path), "--apply", "--as", "second_admin")
    assert PeopleImport.objects.get().created_by == other
    with pytest.raises(CommandError, match="Cannot read"):
        _command("import", str(tmp_path / "missing.csv"))
    path.write_bytes(b"")
    with pytest.raises(CommandError, match="The file is empty"):
        _command("import", str(path))


def test_cli_needs_an_admin_to_apply(tmp_path, org_units):
    path = tmp_path / "people.csv"
    path.write_bytes(_csv("x.lonely,,,SWJ,,,"))
    with pytest.raises(CommandError, match="no organization admin"):
        _command("import", str(path), "--apply")
