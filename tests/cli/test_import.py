from __future__ import annotations

import io
import os
import re
import signal
import sqlite3
import subprocess
import time
from contextlib import closing
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.utils import timezone

from sharehub.catalog import services as catalog
from sharehub.catalog.models import Attachment, ImportKey, Resource, ResourceVersion
from sharehub.events.models import Event
from tests import factories
from tests.cli.conftest import console_script

pytestmark = pytest.mark.django_db

CSV = """title,kind,summary,body,tags,sharing_type,conditions,restriction_basis,update_frequency,link_url
纳税人登记信息核验说明,document,如何核验,"# 核验\n\n步骤","纳税、社保",open,,,monthly,
,document,没有标题的行,,,,,,,
电子税务局,link,入口,,纳税,conditional,仅限办税人员,,,https://etax.example.cn/
个税明细,dataset,,,"纳税,个人信息",restricted,,《个人信息保护法》,daily,
坏链接,link,,,,,,,,not-a-url
"""


@pytest.fixture
def tax():
    department = factories.department("税务局", "SWJ")
    steward = factories.member(department, "steward", username="yangfan")
    factories.member(department, "member", username="huanglei")
    return department, steward


def test_import_a_folder(run, tax, tmp_path):
    department, steward = tax
    factories.member(department, "head", username="chenzhiqiang")  # the steward, not the head, is chosen
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "会议纪要.md").write_text("# 会议纪要\n\n税务与社保数据对接。", encoding="utf-8")
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4 not really")
    (folder / ".DS_Store").write_bytes(b"\x00")

    result = run("import", str(folder), "--department", "swj", "--publish")

    assert "2 created, 0 updated, 0 unchanged, 0 failed" in result.stdout
    notes = Resource.objects.get(title="会议纪要")
    assert notes.body.startswith("# 会议纪要")
    assert notes.kind == "document" and notes.status == "published"
    assert notes.owner_department == department and notes.created_by == steward
    assert notes.attachments.get().filename == "会议纪要.md"
    scan = Resource.objects.get(title="scan")
    assert scan.body == ""
    assert scan.attachments.get().blob.size == len(b"%PDF-1.4 not really")
    assert Event.objects.filter(action="resource.attachment_added").count() == 2
    assert notes.attachments.get().blob.text_status == "done"  # read for search before the command ended
    assert scan.attachments.get().blob.text_status == "failed"  # a damaged PDF: attached, not indexed


def test_import_a_csv_with_a_bad_row(run, tax, tmp_path):
    path = tmp_path / "resources.csv"
    path.write_bytes("\ufeff".encode() + CSV.encode("utf-8"))

    with pytest.raises(CommandError, match="2 of 5 items were not imported"):
        run("import", str(path), "--department", "SWJ", "--steward", "yangfan")

    titles = set(Resource.objects.values_list("title", flat=True))
    assert titles == {"纳税人登记信息核验说明", "电子税务局", "个税明细"}
    first = Resource.objects.get(title="纳税人登记信息核验说明")
    assert first.body == "# 核验\n\n步骤"  # a quoted field over several lines
    assert sorted(first.tags.values_list("name", flat=True)) == ["社保", "纳税"]
    assert first.update_frequency == "monthly" and first.status == "draft"
    link = Resource.objects.get(title="电子税务局")
    assert (link.kind, link.sharing_type, link.conditions) == ("link", "conditional", "仅限办税人员")
    assert Resource.objects.get(title="个税明细").restriction_basis == "《个人信息保护法》"
    assert not Resource.objects.filter(title="坏链接").exists()


def test_import_summary_names_each_failure(tax, tmp_path, capsys):
    from io import StringIO

    from django.core.management import call_command

    path = tmp_path / "resources.csv"
    path.write_text(CSV, encoding="utf-8")
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("import", str(path), "--department", "SWJ", stdout=out)
    text = out.getvalue()
    assert "3 created, 0 updated, 0 unchanged, 2 failed" in text
    assert "row 3: title:" in text
    assert "row 6: link_url:" in text


def test_import_csv_defaults_from_the_options(run, tax, tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("title,summary\n登记表,说明\n", encoding="utf-8")
    run("import", str(path), "--department", "SWJ", "--sharing", "conditional", "--conditions", "仅限核验", "--publish")
    resource = Resource.objects.get(title="登记表")
    assert (resource.sharing_type, resource.conditions, resource.status) == ("conditional", "仅限核验", "published")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,kind\nx,document\n", "unknown column"),
        ("summary\nx\n", "no title column"),
        ("", "empty"),
        ("title\n", "no rows"),
    ],
)
def test_import_refuses_unusable_csv(run, tax, tmp_path, content, message):
    path = tmp_path / "r.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        run("import", str(path), "--department", "SWJ")


def test_import_refuses_non_utf8(run, tax, tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes("title\n登记表\n".encode("gbk"))
    with pytest.raises(CommandError, match="not UTF-8"):
        run("import", str(path), "--department", "SWJ")


def test_import_checks_department_and_steward(run, tax, tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("title\n登记表\n", encoding="utf-8")
    with pytest.raises(CommandError, match="no department with code 'XYZ'"):
        run("import", str(path), "--department", "XYZ")
    with pytest.raises(CommandError, match="not a steward or head"):
        run("import", str(path), "--department", "SWJ", "--steward", "huanglei")
    with pytest.raises(CommandError, match="does not exist"):
        run("import", str(tmp_path / "missing"), "--department", "SWJ")
    with pytest.raises(CommandError, match="needs --conditions"):
        run("import", str(path), "--department", "SWJ", "--sharing", "conditional")
    empty = factories.department("空部门", "KONG")
    with pytest.raises(CommandError, match="no steward or head"):
        run("import", str(path), "--department", empty.code)
    assert not Resource.objects.exists()


# Running the same import again (issue 10, 1.7): it updates what it created, keyed by the source.


def _folder(tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "会议纪要.md").write_text("# 会议纪要\n\n税务与社保数据对接。", encoding="utf-8")
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4 first scan")
    return folder


def _state():
    return (
        Resource.objects.count(),
        ResourceVersion.objects.count(),
        Attachment.objects.count(),
        Event.objects.count(),
    )


def test_import_a_folder_twice_creates_nothing_the_second_time(run, tax, tmp_path):
    folder = _folder(tmp_path)
    run("import", str(folder), "--department", "SWJ", "--publish")
    before = _state()

    again = run("import", str(folder), "--department", "SWJ", "--publish")

    assert "0 created, 0 updated, 2 unchanged, 0 failed" in again.stdout
    assert _state() == before  # no resource, version, attachment or event
    assert ImportKey.objects.count() == 2


def test_import_again_lists_the_files_no_longer_in_the_folder_and_leaves_their_resources(run, tax, tmp_path):
    folder = _folder(tmp_path)
    sub = folder / "归档"
    sub.mkdir()
    (sub / "旧通知.txt").write_text("旧通知", encoding="utf-8")
    run("import", str(folder), "--department", "SWJ")
    run("import", str(sub), "--department", "SWJ")
    scan = Resource.objects.get(title="scan")
    (folder / "scan.pdf").unlink()
    before = _state()

    again = run("import", str(folder), "--department", "SWJ")

    assert "0 created, 0 updated, 1 unchanged, 0 failed" in again.stdout
    assert f"1 imported earlier from {folder} no longer there (files are gone)" in again.stdout
    assert f"  gone:     {scan.code}  scan  (scan.pdf)" in again.stdout
    assert "旧通知" not in again.stdout  # the subfolder was imported on its own, and its file is still there
    assert _state() == before  # reported only
    assert "no longer there" not in run("import", str(sub), "--department", "SWJ").stdout


def test_import_csv_again_lists_the_removed_rows(run, tax, tmp_path):
    path = tmp_path / "keyed.csv"
    path.write_text("key,title\nA-1,纳税指南\nA-2,社保指南\n", encoding="utf-8")
    run("import", str(path), "--department", "SWJ")
    path.write_text("key,title\nA-1,纳税指南\n", encoding="utf-8")
    (tmp_path / "keyed.csv 2.csv").write_text("key,title\nB-1,副本\n", encoding="utf-8")
    run("import", str(tmp_path / "keyed.csv 2.csv"), "--department", "SWJ")
    other = tmp_path / "other.csv"
    other.write_text("key,title\nA-2,别的文件\n", encoding="utf-8")
    run("import", str(other), "--department", "SWJ")

    again = run("import", str(path), "--department", "SWJ")

    gone = Resource.objects.get(title="社保指南")
    assert f"1 imported earlier from {path} no longer there (rows are gone)" in again.stdout
    assert f"  gone:     {gone.code}  社保指南  (key A-2)" in again.stdout
    assert "副本" not in again.stdout
    assert Resource.objects.filter(pk=gone.pk, status=gone.status).exists()


def test_import_again_updates_the_changed_file_only(run, tax, tmp_path):
    folder = _folder(tmp_path)
    run("import", str(folder), "--department", "SWJ")
    scan = Resource.objects.get(title="scan")
    scan_state = (scan.version, list(scan.attachments.values_list("pk", "removed_at")))
    (folder / "会议纪要.md").write_text("# 会议纪要\n\n改期到周五。", encoding="utf-8")

    result = run("import", str(folder), "--department", "SWJ")

    assert "0 created, 1 updated, 1 unchanged, 0 failed" in result.stdout
    notes = Resource.objects.get(title="会议纪要")
    assert notes.body == "# 会议纪要\n\n改期到周五。"
    assert notes.version == 2 and notes.versions.count() == 2
    old, new = notes.attachments.order_by("pk")
    assert old.removed_at is not None and new.removed_at is None
    assert new.blob.size == len("# 会议纪要\n\n改期到周五。".encode())
    assert Event.objects.filter(target_id=str(notes.pk), action="resource.updated").count() == 1
    scan.refresh_from_db()
    assert (scan.version, list(scan.attachments.values_list("pk", "removed_at"))) == scan_state


def test_import_again_replaces_an_attachment_whose_content_changed(run, tax, tmp_path):
    folder = _folder(tmp_path)
    run("import", str(folder), "--department", "SWJ")
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4 second scan, one more page")
    (folder / "new.txt").write_text("新文件", encoding="utf-8")

    result = run("import", str(folder), "--department", "SWJ")

    assert "1 created, 1 updated, 1 unchanged, 0 failed" in result.stdout
    scan = Resource.objects.get(title="scan")
    assert scan.version == 1  # the values did not change, only the file
    shown = scan.attachments.filter(removed_at__isnull=True).get()
    assert shown.blob.size == len(b"%PDF-1.4 second scan, one more page")
    assert Event.objects.filter(target_id=str(scan.pk), action="resource.attachment_removed").count() == 1
    assert Resource.objects.count() == 3


def test_import_again_keeps_edits_made_in_the_pages_when_the_source_did_not_change(run, tax, tmp_path):
    _department, steward = tax
    folder = _folder(tmp_path)
    run("import", str(folder), "--department", "SWJ")
    notes = Resource.objects.get(title="会议纪要")
    catalog.update_resource(steward, notes, {"title": "2024 会议纪要", "summary": "全年"})

    result = run("import", str(folder), "--department", "SWJ")

    assert "2 unchanged" in result.stdout
    notes.refresh_from_db()
    assert (notes.title, notes.summary, notes.version) == ("2024 会议纪要", "全年", 2)


def test_import_again_with_publish_publishes_the_drafts(run, tax, tmp_path):
    folder = _folder(tmp_path)
    run("import", str(folder), "--department", "SWJ")
    assert set(Resource.objects.values_list("status", flat=True)) == {"draft"}

    result = run("import", str(folder), "--department", "SWJ", "--publish")

    assert "0 created, 2 updated, 0 unchanged" in result.stdout
    assert set(Resource.objects.values_list("status", flat=True)) == {"published"}
    assert "0 updated, 2 unchanged" in run("import", str(folder), "--department", "SWJ", "--publish").stdout


def test_import_the_same_folder_into_another_department_makes_its_own_resources(run, tax, tmp_path):
    other = factories.department("人社局", "RSJ")
    factories.member(other, "steward", username="zhoumin")
    folder = _folder(tmp_path)
    run("import", str(folder), "--department", "SWJ")
    result = run("import", str(folder), "--department", "RSJ")
    assert "2 created" in result.stdout
    assert Resource.objects.filter(owner_department=other).count() == 2


def test_import_a_csv_twice_and_change_one_row(run, tax, tmp_path):
    path = tmp_path / "resources.csv"
    path.write_text(CSV, encoding="utf-8")
    with pytest.raises(CommandError):
        run("import", str(path), "--department", "SWJ")
    before = _state()

    out = io.StringIO()
    with pytest.raises(CommandError, match="2 of 5 items were not imported"):
        call_command("import", str(path), "--department", "SWJ", stdout=out)
    assert "0 created, 0 updated, 3 unchanged, 2 failed" in out.getvalue()
    assert _state() == before

    path.write_text(CSV.replace("如何核验", "如何核验（2024 版）"), encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import", str(path), "--department", "SWJ", stdout=out)
    assert "0 created, 1 updated, 2 unchanged, 2 failed" in out.getvalue()
    changed = Resource.objects.get(title="纳税人登记信息核验说明")
    assert (changed.summary, changed.version) == ("如何核验（2024 版）", 2)
    assert Resource.objects.count() == 3


def test_import_csv_an_emptied_cell_clears_the_value(run, tax, tmp_path):
    path = tmp_path / "r.csv"
    path.write_text('title,summary,tags,update_frequency\n登记表,说明,"纳税,社保",monthly\n', encoding="utf-8")
    run("import", str(path), "--department", "SWJ")
    path.write_text("title,summary,tags,update_frequency\n登记表,,,\n", encoding="utf-8")

    assert "1 updated" in run("import", str(path), "--department", "SWJ").stdout

    resource = Resource.objects.get()
    assert (resource.summary, resource.update_frequency, resource.tags.count()) == ("", "irregular", 0)


def test_import_csv_with_a_key_column_follows_a_renamed_row(run, tax, tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("key,title\nA-1,登记表\nA-2,核验表\n", encoding="utf-8")
    run("import", str(path), "--department", "SWJ")
    first = Resource.objects.get(title="登记表")
    path.write_text("key,title\nA-2,核验表\nA-1,纳税人登记表\n", encoding="utf-8")  # reordered and renamed

    result = run("import", str(path), "--department", "SWJ")

    assert "0 created, 1 updated, 1 unchanged, 0 failed" in result.stdout
    first.refresh_from_db()
    assert first.title == "纳税人登记表"
    assert Resource.objects.count() == 2


def test_import_csv_rows_that_cannot_be_told_apart_fail(run, tax, tmp_path):
    untitled = tmp_path / "titles.csv"
    untitled.write_text("title,summary\n登记表,一\n登记表,二\n", encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 of 2 items"):
        call_command("import", str(untitled), "--department", "SWJ", stdout=out)
    assert "row 3: title: the same title as row 2; add a key column" in out.getvalue()

    keyed = tmp_path / "keys.csv"
    keyed.write_text("key,title\n7,甲\n7,乙\n,丙\n", encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 of 3 items"):
        call_command("import", str(keyed), "--department", "SWJ", stdout=out)
    assert "row 3: key: the same key as row 2" in out.getvalue()
    assert "row 4: key: empty" in out.getvalue()
    assert sorted(Resource.objects.values_list("title", flat=True)) == ["甲", "登记表"]


def test_import_csv_a_row_cannot_change_its_kind(run, tax, tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("key,title,kind\n1,登记表,document\n", encoding="utf-8")
    run("import", str(path), "--department", "SWJ")
    path.write_text("key,title,kind\n1,登记表,dataset\n", encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import", str(path), "--department", "SWJ", stdout=out)
    assert "row 2: kind: It was imported as a document" in out.getvalue()
    assert Resource.objects.get().kind == "document"


def test_import_keys_are_unique_per_department(tax):
    department, steward = tax
    first = factories.resource(department, by=steward)
    second = factories.resource(department, by=steward)
    ImportKey.objects.create(
        department=department, key="k", source="s", resource=first, fingerprint="f", imported_at=timezone.now()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        ImportKey.objects.create(
            department=department, key="k", source="s", resource=second, fingerprint="f", imported_at=timezone.now()
        )


def test_import_that_loses_the_race_updates_what_the_other_run_created(run, tax, tmp_path, monkeypatch):
    """Two runs at once: both look the key up before either commits; the unique key stops the second
    from creating a duplicate, and it goes on as a re-run."""
    folder = _folder(tmp_path)
    run("import", str(folder), "--department", "SWJ")
    before = _state()
    lookups = []
    real = ImportKey.objects.select_for_update

    def not_yet_committed(*args, **kwargs):
        lookups.append(1)
        queryset = real(*args, **kwargs)
        return queryset.none() if len(lookups) % 2 else queryset  # each item's first attempt sees no key

    monkeypatch.setattr(ImportKey.objects, "select_for_update", not_yet_committed)
    result = run("import", str(folder), "--department", "SWJ")

    assert "0 created, 0 updated, 2 unchanged, 0 failed" in result.stdout
    assert len(lookups) == 4
    assert _state() == before  # the losing attempts left nothing, not even an event
    assert run("audit", "verify").stdout.startswith("audit chain intact")


# Real processes: two runs at once, and a run killed half-way, against a database of their own
# (a SQLite file, or a scratch PostgreSQL database when the suite runs on PostgreSQL).

SETUP = (
    "from sharehub.org import services as org; "
    "d = org.create_department(None, name='税务局', code='SWJ'); "
    "u = org.create_person(None, username='yangfan', password='long-enough-password', check_password=False); "
    "org.set_membership(None, u, d, 'steward')"
)
SUMMARY = re.compile(r"(\d+) created, (\d+) updated, (\d+) unchanged, (\d+) failed")


@pytest.fixture
def processes(tmp_path):
    """Runs the real `sharehub` script against a migrated database holding 税务局 and its steward."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["SHAREHUB_DATA_DIR"] = str(tmp_path / "data")
    scratch = None
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        import psycopg

        base = urlsplit(os.environ["DATABASE_URL"])
        scratch = f"{base.path.lstrip('/')}_cli_import_{os.getpid()}"
        admin_url = urlunsplit(base._replace(path="/postgres"))
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
            connection.execute(f'CREATE DATABASE "{scratch}"')
        env["DATABASE_URL"] = urlunsplit(base._replace(path=f"/{scratch}"))
    else:
        env.pop("DATABASE_URL", None)
    script = console_script()

    class Processes:
        def start(self, *args: str) -> subprocess.Popen:
            return subprocess.Popen(
                [script, *args], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )

        def run(self, *args: str) -> str:
            done = subprocess.run([script, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr
            return done.stdout

        def count(self, table: str) -> int:
            if scratch:
                with psycopg.connect(env["DATABASE_URL"]) as connection:
                    return connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            with closing(sqlite3.connect(tmp_path / "data" / "sharehub.sqlite3", timeout=20)) as connection:
                return connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

    runner = Processes()
    runner.run("migrate", "--verbosity", "0")
    runner.run("shell", "-c", SETUP)
    yield runner
    if scratch:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def _many_files(folder, count: int):
    folder.mkdir()
    for n in range(count):
        (folder / f"记录{n:03d}.txt").write_text(f"第 {n} 号记录", encoding="utf-8")
    return folder


def _summary(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in SUMMARY.search(text).groups())


def test_two_imports_at_once_create_each_resource_once(processes, tmp_path):
    folder = _many_files(tmp_path / "files", 20)
    runs = [processes.start("import", str(folder), "--department", "SWJ") for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]

    assert [run.returncode for run in runs] == [0, 0], [err for _out, err in outputs]
    (created1, updated1, unchanged1, failed1), (created2, updated2, unchanged2, failed2) = (
        _summary(out) for out, _err in outputs
    )
    assert created1 + created2 == 20
    assert (updated1, updated2, failed1, failed2) == (0, 0, 0, 0)
    assert created1 + unchanged1 == created2 + unchanged2 == 20
    assert processes.count("catalog_resource") == processes.count("catalog_importkey") == 20


def test_an_import_killed_half_way_is_finished_by_the_next_run(processes, tmp_path):
    folder = _many_files(tmp_path / "files", 80)
    run = processes.start("import", str(folder), "--department", "SWJ")
    deadline = time.monotonic() + 120
    while processes.count("catalog_importkey") < 5:
        assert run.poll() is None, "the import finished before it could be killed; give it more files"
        assert time.monotonic() < deadline
        time.sleep(0.2)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    assert run.returncode == -signal.SIGKILL
    imported = processes.count("catalog_importkey")
    assert processes.count("catalog_resource") == imported < 80  # nothing half-written

    created, updated, unchanged, failed = _summary(processes.run("import", str(folder), "--department", "SWJ"))

    assert (created, updated, unchanged, failed) == (80 - imported, 0, imported, 0)
    assert processes.count("catalog_resource") == 80
    assert processes.run("audit", "verify").startswith("audit chain intact")
