from __future__ import annotations

import pytest
from django.core.management.base import CommandError

from sharehub.catalog.models import Resource
from sharehub.events.models import Event
from tests import factories

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

    assert "2 imported" in result.stdout and "0 failed" in result.stdout
    notes = Resource.objects.get(title="会议纪要")
    assert notes.body.startswith("# 会议纪要")
    assert notes.kind == "document" and notes.status == "published"
    assert notes.owner_department == department and notes.created_by == steward
    assert notes.attachments.get().filename == "会议纪要.md"
    scan = Resource.objects.get(title="scan")
    assert scan.body == ""
    assert scan.attachments.get().blob.size == len(b"%PDF-1.4 not really")
    assert Event.objects.filter(action="resource.attachment_added").count() == 2


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
    assert "3 imported" in text and "2 failed" in text
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
