"""`sharehub records import`: CSV (UTF-8 or GB18030) and XLSX, mapping by label, modes, dry run."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from sharehub.exchange.models import Change, Record

pytestmark = pytest.mark.django_db

HEADER = "统一社会信用代码,纳税人名称,legal_id,registered,ignored column\n"
GOOD = "91350100M000100Y43,福州示例科技有限公司,11010519491231002X,2015-03-02,x\n"
SECOND = "91310115798984123F,上海样例贸易有限公司,,2018/11/20,y\n"
BAD = "91350100M000100Y44,坏行,,2015-13-01,z\n"


def run(*args) -> str:
    out = io.StringIO()
    call_command("records", "import", *args, stdout=out, stderr=io.StringIO(), verbosity=0)
    return out.getvalue()


def test_csv_by_labels_then_again_unchanged(tax_dataset, tmp_path):
    path = tmp_path / "taxpayers.csv"
    path.write_text(HEADER + GOOD + SECOND, encoding="utf-8")
    assert "2 inserted" in run(tax_dataset.code, str(path))
    assert "2 unchanged" in run(tax_dataset.code, str(path))
    assert Record.objects.count() == 2 and Change.objects.count() == 2


def test_gbk_file_reads(tax_dataset, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes((HEADER + GOOD).encode("gb18030"))
    assert "1 inserted" in run(tax_dataset.code, str(path))


def test_a_bad_row_fails_the_whole_file_with_a_report(tax_dataset, tmp_path):
    path, report = tmp_path / "bad.csv", tmp_path / "errors.csv"
    path.write_text(HEADER + GOOD + BAD, encoding="utf-8")
    with pytest.raises(CommandError, match="nothing written"):
        run(tax_dataset.code, str(path), "--errors", str(report))
    assert Record.objects.count() == 0
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "row,field,value,reason" and {line.split(",")[1] for line in lines[1:]} >= {
        "credit_code",
        "registered",
    }
    assert "1 inserted" in run(tax_dataset.code, str(path), "--mode", "valid")
    assert Record.objects.count() == 1


def test_dry_run_writes_nothing(tax_dataset, tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text(HEADER + GOOD, encoding="utf-8")
    assert "nothing written" in run(tax_dataset.code, str(path), "--dry-run")
    assert Record.objects.count() == 0


def test_xlsx_with_explicit_mapping(tax_dataset, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["code", "公司", "when"])
    sheet.append(["91350100M000100Y43", "福州示例科技有限公司", "2015-03-02"])
    path = tmp_path / "t.xlsx"
    book.save(path)
    out = run(
        tax_dataset.code, str(path), "--map", "code=credit_code", "--map", "公司=name", "--map", "when=registered"
    )
    assert "1 inserted" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"PK\x03\x04garbage", "XLSX"), (b"\xff\xfe\x00\x00", "neither UTF-8 nor GB18030")],
)
def test_unreadable_files_get_a_sentence(tax_dataset, tmp_path, content, message):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        run(tax_dataset.code, str(path))


def test_unknown_dataset_and_outsider(tax_dataset, tmp_path, people):
    path = tmp_path / "ok.csv"
    path.write_text(HEADER + GOOD, encoding="utf-8")
    with pytest.raises(CommandError, match="no dataset"):
        run("NOPE-1", str(path))
    with pytest.raises(CommandError, match="not a member"):
        run(tax_dataset.code, str(path), "--as", people["social_member"].username)


def test_replace_needs_the_count(tax_dataset, tmp_path):
    both, one = tmp_path / "both.csv", tmp_path / "one.csv"
    both.write_text(HEADER + GOOD + SECOND, encoding="utf-8")
    one.write_text(HEADER + GOOD, encoding="utf-8")
    run(tax_dataset.code, str(both))
    with pytest.raises(CommandError, match="--expect-deletes 1"):
        run(tax_dataset.code, str(one), "--replace")
    with pytest.raises(CommandError, match="not 3"):
        run(tax_dataset.code, str(one), "--replace", "--expect-deletes", "3")
    assert "1 deleted" in run(tax_dataset.code, str(one), "--replace", "--expect-deletes", "1")
    assert Record.objects.count() == 1


def test_only_columns_left_out_by_surprise_are_named(tax_dataset, tmp_path):
    """An export's record ids (`_id`) are left out quietly; a column that matches no field is named."""
    path = tmp_path / "export.csv"
    path.write_text("_id," + HEADER + "abc," + GOOD, encoding="utf-8")
    errors = io.StringIO()
    call_command("records", "import", tax_dataset.code, str(path), stdout=io.StringIO(), stderr=errors, verbosity=1)
    said = errors.getvalue()
    assert "ignored column" in said and "_id" not in said
    assert Record.objects.count() == 1
