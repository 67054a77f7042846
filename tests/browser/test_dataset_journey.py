"""The data-exchange journey in a real browser: a member of 税务局 makes a conditional dataset through the
catalog form, defines its schema on the Schema tab, imports a CSV (maps a column by hand, sees the bad
row in the preview, uploads the corrected file, imports) and submits it; a steward publishes it. A
member of 社会保险中心 is refused on the Data tab, requests two fields, the steward approves, and the
Data tab (and its CSV download) then shows those two fields in full, the others masked and the secret
one not at all.

Elements are picked by name, id, URL and CSS class, not by visible text (see test_journey_conditional).
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from sharehub.org import services as org
from sharehub.org.models import Membership
from tests.browser.steps import check_accessibility, sign_in, sign_out

PASSWORD = "journey-pass-1414"
TITLE = "纳税人登记信息（数据集）"
CONDITIONS = "仅用于社保参保登记核验，不得对外提供"
PURPOSE = "核对参保企业的统一社会信用代码与名称。"

# name, Chinese label, type, sensitivity, masking ("" = by sensitivity)
FIELDS = [
    ("credit_code", "统一社会信用代码", "credit_code", "internal", "partial"),
    ("company_name", "企业名称", "text", "internal", "partial"),
    ("legal_id", "法定代表人身份证号", "resident_id", "sensitive", ""),
    ("phone", "联系电话", "phone", "internal", "partial"),
    ("risk_note", "内部备注", "text", "secret", ""),
]
# "电话号码" names no field nor label: the member maps it to phone by hand.
HEADER = "统一社会信用代码,企业名称,法定代表人身份证号,电话号码,内部备注"
GOOD_ROWS = [
    "91350100M000100Y43,福州示例科技有限公司,11010519491231002X,13812345678,重点关注",
    "91310115798984123F,上海样例贸易有限公司,110105198001011238,021-61234567,",
]
BAD_ID, FIXED_ID = "320102198506153013", "320102198506153012"  # the first fails its check character
THIRD = "91110108MA01ABCD2H,北京样本咨询有限公司,{id},13900001111,核查中"


def _csv(resident_id: str) -> bytes:
    return ("\n".join([HEADER, *GOOD_ROWS, THIRD.format(id=resident_id)]) + "\n").encode("utf-8")


@pytest.fixture
def world(transactional_db):
    """Made before the browser starts (see tests/browser/conftest.py)."""
    tax = org.create_department(None, name="税务局", code="SWJ")
    social = org.create_department(None, name="社会保险中心", code="SBZX")

    def person(username, display, department, role):
        user = org.create_person(None, username=username, password=PASSWORD, display_name=display, check_password=False)
        org.set_membership(None, user, department, role)
        return user

    person("zhou_member", "周丽", tax, Membership.Role.MEMBER)
    person("li_steward", "李青", tax, Membership.Role.STEWARD)
    person("zhao_member", "赵敏", social, Membership.Role.MEMBER)
    return {"tax": tax, "social": social}


def _fill_field(page, row: int, name: str, label: str, kind: str, sensitivity: str, masking: str) -> None:
    page.fill(f"#f{row}-name", name)
    page.fill(f"#f{row}-label_zh", label)
    page.select_option(f"#f{row}-type", kind)
    page.select_option(f"#f{row}-sensitivity", sensitivity)
    page.select_option(f"#f{row}-masking", masking)


def _upload(page, base: str, code: str, content: bytes, name: str) -> str:
    """Upload a file on the Import tab; returns the import job page's address."""
    page.goto(f"{base}/resources/{code}/data/import/")
    check_accessibility(page)
    page.set_input_files("#file", files=[{"name": name, "mimeType": "text/csv", "buffer": content}])
    with page.expect_navigation():
        page.click("main form[enctype='multipart/form-data'] button[type=submit]")
    assert re.fullmatch(rf"{re.escape(base)}/resources/{code}/data/import/\d+/", page.url), page.url
    return page.url


def _map_phone_and_check(page) -> None:
    phone = page.locator("#map-3")
    assert phone.input_value() == "", "电话号码 matched a field by itself"
    assert "电话号码" in page.locator(".sh-unmapped").inner_text(), "the unmapped column is not pointed out"
    for i, (name, *_rest) in enumerate(FIELDS):
        if name != "phone":
            assert page.locator(f"#map-{i}").input_value() == name, f"column {i} did not map itself to {name}"
    phone.select_option("phone")
    with page.expect_navigation():
        page.click(".sh-import-form button[name=action][value=check]")
    assert page.locator("#map-3").input_value() == "phone", "the chosen mapping was not kept"
    assert page.locator(".sh-unmapped").count() == 0, "every column is mapped, yet one is said not to be"


# a cell's own text: the value, without the icon and the screen-reader note of a masked value
OWN_TEXT = "el => Array.from(el.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim()"


def _records(page) -> list[dict[str, tuple[str, bool]]]:
    """The Data tab's table: one dict per row, field name -> (value shown, masked)."""
    table = page.locator("table.sh-records")
    names = [th.locator("span.font-monospace").inner_text().strip() for th in table.locator("thead th").all()]
    rows = []
    for tr in table.locator("tbody tr").all():
        cells = tr.locator("td").all()
        rows.append(
            {
                name: (cell.evaluate(OWN_TEXT), "sh-masked" in (cell.get_attribute("class") or ""))
                for name, cell in zip(names, cells, strict=True)
            }
        )
    return rows


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_dataset_exchange_journey(world, live_server, new_page, page_errors, shot):
    base = live_server.url
    page = new_page()

    # 1. A member of 税务局 makes a conditional dataset through the catalog form (a draft).
    sign_in(page, base, "zhou_member", PASSWORD)
    page.goto(f"{base}/resources/new/")
    assert page.locator("select[name=owner_department]").input_value() == str(world["tax"].pk)
    page.select_option("select[name=kind]", "dataset")
    page.fill("input[name=title]", TITLE)
    page.check("input[name=sharing_type][value=conditional]")
    page.locator("textarea[name=conditions]").wait_for(state="visible")
    page.fill("textarea[name=conditions]", CONDITIONS)
    check_accessibility(page)
    shot(page, "member-new-dataset")
    with page.expect_navigation():
        page.click("#resource-form button[name=action][value=draft]")
    match = re.fullmatch(rf"{re.escape(base)}/resources/([^/]+)/", page.url)
    assert match, f"saving the draft did not open the entry: {page.url}"
    code = match.group(1)
    assert page.locator(".sh-dataset-tabs").is_visible(), "a dataset has no tabs"
    check_accessibility(page)

    # 2. The Schema tab: three fields, save, then two more in the new empty rows, and the record key.
    with page.expect_navigation():
        page.click(f".sh-dataset-tabs a[href='/resources/{code}/data/schema/']")
    check_accessibility(page)
    shot(page, "member-schema-empty")
    for row, field in enumerate(FIELDS[:3]):
        _fill_field(page, row, *field)
    with page.expect_navigation():
        page.click(".sh-schema-form button[type=submit]")
    assert page.url == f"{base}/resources/{code}/data/", f"saving the schema went to {page.url}"
    check_accessibility(page)
    page.goto(f"{base}/resources/{code}/data/schema/")
    assert page.locator("#f0-name").input_value() == "credit_code"
    for row, field in enumerate(FIELDS[3:], start=3):
        _fill_field(page, row, *field)
    page.check("#key-0")
    check_accessibility(page)
    shot(page, "member-schema-filled")
    with page.expect_navigation():
        page.click(".sh-schema-form button[type=submit]")
    assert page.url == f"{base}/resources/{code}/data/"
    check_accessibility(page)
    page.goto(f"{base}/resources/{code}/data/schema/")
    assert [page.locator(f"#f{i}-name").input_value() for i in range(5)] == [f[0] for f in FIELDS]
    assert page.locator("#key-0").is_checked()
    assert page.locator("#f2-masking").input_value() == "partial", "a sensitive field is partly masked by default"
    assert page.locator("#f4-masking").input_value() == "hidden", "a secret field is hidden by default"
    check_accessibility(page)

    # 3. The Import tab: a CSV with one bad row; the phone column is mapped by hand; the preview shows the row.
    _upload(page, base, code, _csv(BAD_ID), "纳税人登记.csv")
    check_accessibility(page)
    shot(page, "member-import-unmapped")
    _map_phone_and_check(page)
    counts = page.locator(".sh-import-counts")
    assert counts.locator("a[href$='/errors.csv']").count() == 1, "no error report for the bad row"
    bad = page.locator(".sh-import-preview tbody tr.table-danger")
    assert bad.count() == 1, "the preview does not mark exactly one row"
    assert BAD_ID in bad.inner_text() and "legal_id" in bad.inner_text()
    assert page.locator(".sh-import-errors tbody tr").count() == 1
    check_accessibility(page)
    shot(page, "member-import-problem")
    with page.expect_navigation():
        page.click(".sh-import-form button.sh-apply")  # all or nothing: refused, nothing written
    assert page.locator(".sh-form-error").is_visible(), "importing a file with a bad row said nothing"
    check_accessibility(page)

    # 4. The member fixes the file and uploads it again; everything is ready; import.
    with page.expect_navigation():
        page.click(".sh-import-form a[href$='/data/import/']")
    check_accessibility(page)
    _upload(page, base, code, _csv(FIXED_ID), "纳税人登记-更正.csv")
    check_accessibility(page)
    _map_phone_and_check(page)
    assert page.locator(".sh-import-preview tbody tr.table-danger").count() == 0
    assert page.locator(".sh-import-counts a[href$='/errors.csv']").count() == 0
    check_accessibility(page)
    shot(page, "member-import-ready")
    with page.expect_navigation():
        page.click(".sh-import-form button.sh-apply")
    assert page.url == f"{base}/resources/{code}/data/"
    assert page.locator(".alert-success").count() >= 1, "no confirmation after importing"
    owner_rows = _records(page)
    assert len(owner_rows) == 3
    assert {r["legal_id"][0] for r in owner_rows} == {"11010519491231002X", "110105198001011238", FIXED_ID}
    assert not any(masked for r in owner_rows for _text, masked in r.values()), "the owner sees masked values"
    check_accessibility(page)
    shot(page, "member-data")

    # 5. The member submits the draft for review; the steward publishes it.
    page.goto(f"{base}/resources/{code}/")
    check_accessibility(page)
    with page.expect_navigation():
        page.click(".sh-review-submit button[type=submit]")
    assert page.locator(".sh-review-pending").is_visible(), "the draft is not awaiting review"
    check_accessibility(page)
    sign_out(page, base)
    sign_in(page, base, "li_steward", PASSWORD)
    page.goto(f"{base}/resources/{code}/")
    check_accessibility(page)
    with page.expect_navigation():
        page.click(f".sh-review-actions form[action='/resources/{code}/review/publish/'] button")
    assert page.locator("main .badge.sh-badge-conditional").first.is_visible()
    assert page.locator(".sh-review-pending").count() == 0, "the dataset is still awaiting review"
    check_accessibility(page)
    shot(page, "steward-published")
    sign_out(page, base)

    # 6. A member of 社会保险中心 is refused on the Data tab and requests two fields.
    sign_in(page, base, "zhao_member", PASSWORD)
    page.goto(f"{base}/resources/{code}/data/")
    assert page.locator("table.sh-records").count() == 0
    assert "福州示例" not in page.content() and "11010519491231002X" not in page.content()
    request_button = page.locator(f"a.sh-request-access[href='/resources/{code}/request/']")
    assert request_button.is_visible(), "no request-access button on a refused Data tab"
    check_accessibility(page)
    shot(page, "requester-refused")
    with page.expect_navigation():
        request_button.click()
    page.fill("#request-form textarea[name=purpose]", PURPOSE)
    page.check("#request-form input[name=fields_wanted][value=credit_code]")
    page.check("#request-form input[name=fields_wanted][value=company_name]")
    page.check("#request-form input[name=accept_terms]")
    check_accessibility(page)
    shot(page, "requester-request")
    with page.expect_navigation():
        page.click("#request-form button[type=submit]")
    match = re.fullmatch(rf"{re.escape(base)}/requests/(\d+)/", page.url)
    assert match, f"sending the request did not open it: {page.url}"
    rid = match.group(1)
    check_accessibility(page)
    sign_out(page, base)

    # 7. The steward approves it in the inbox, with the two fields asked for.
    sign_in(page, base, "li_steward", PASSWORD)
    page.goto(f"{base}/requests/inbox/")
    check_accessibility(page)
    with page.expect_navigation():
        page.click(f".sh-inbox a[href='/requests/{rid}/']")
    granted = page.locator("#approve-form input[name=fields_granted]")
    assert sorted(box.get_attribute("value") for box in granted.all() if box.is_checked()) == [
        "company_name",
        "credit_code",
    ]
    check_accessibility(page)
    with page.expect_navigation():
        page.click("#approve-form button[type=submit]")
    assert page.locator(".sh-request-status").first.get_attribute("data-status") == "approved"
    check_accessibility(page)
    sign_out(page, base)

    # 8. The requester's Data tab: the two fields in full, the others masked, the secret one not at all.
    sign_in(page, base, "zhao_member", PASSWORD)
    page.goto(f"{base}/resources/{code}/data/")
    rows = {r["company_name"][0]: r for r in _records(page)}
    assert set(rows) == {"福州示例科技有限公司", "上海样例贸易有限公司", "北京样本咨询有限公司"}
    fuzhou = rows["福州示例科技有限公司"]
    assert set(fuzhou) == {"credit_code", "company_name", "legal_id", "phone"}, "the secret field is shown"
    assert fuzhou["credit_code"] == ("91350100M000100Y43", False)
    assert fuzhou["company_name"] == ("福州示例科技有限公司", False)
    assert fuzhou["legal_id"] == ("110105********002X", True)
    assert fuzhou["phone"] == ("138****5678", True)
    assert rows["上海样例贸易有限公司"]["phone"] == ("021-******67", True)
    html = page.content()
    assert "11010519491231002X" not in html and "13812345678" not in html and "重点关注" not in html
    check_accessibility(page)
    shot(page, "requester-data")

    # 9. The CSV download gives the same masking.
    href = page.locator("a[href*='format=csv']").get_attribute("href")
    response = page.request.get(f"{base}{href}")
    assert response.status == 200, response.status
    text = response.body().decode("utf-8-sig")
    table = {row["company_name"]: row for row in csv.DictReader(io.StringIO(text))}
    assert "risk_note" not in next(iter(table.values())), "the CSV has the secret column"
    assert table["福州示例科技有限公司"]["credit_code"] == "91350100M000100Y43"
    assert table["福州示例科技有限公司"]["legal_id"] == "110105********002X"
    assert table["福州示例科技有限公司"]["phone"] == "138****5678"
    assert "11010519491231002X" not in text and "13812345678" not in text and "重点关注" not in text
    assert page_errors == [], "scripts failed on the way"
