"""Importing people in a real browser: an organization admin downloads the template from /manage/imports/,
fills it in with three people, one of them with an unknown department, uploads it, sees the preview with that
row's error at its field, applies the import, and finds the two good people on their department's page. In
Chinese at desktop width and in English at phone width.

Elements are picked by name, id, URL and CSS class, not by visible text (see test_journey_conditional)."""

from __future__ import annotations

import pytest

from sharehub.org import services as org
from tests.browser.steps import check_accessibility, sign_in

PASSWORD = "journey-pass-1414"


@pytest.fixture
def world(transactional_db):
    """Made before the browser starts (see tests/browser/conftest.py)."""
    tax = org.create_department(None, name="税务局", code="SWJ")
    org.create_person(None, username="admin_zhao", password=PASSWORD, display_name="赵管理", is_org_admin=True,
                      check_password=False)  # fmt: skip
    return {"tax": tax}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_imports_people_from_the_template(world, live_server, new_page, page_errors, shot):
    base = live_server.url
    for locale, width, prefix, heading in [
        ("zh-CN", 1366, "zh", "用户名,姓名,邮箱,部门,角色,组织角色,启用"),
        ("en-US", 390, "en", "username,display_name,email,department,role,org_roles,active"),
    ]:
        page = new_page(locale=locale, width=width)
        page.on("dialog", lambda dialog: dialog.accept())  # "Import these people now?"
        sign_in(page, base, "admin_zhao", PASSWORD)
        page.goto(f"{base}/manage/imports/")
        check_accessibility(page)
        shot(page, f"{locale}-{width}-imports")

        with page.expect_download() as waiting:
            page.click(".sh-template-csv")
        template = waiting.value.path().read_bytes().decode("utf-8-sig")
        assert template.strip() == heading
        rows = [
            f"{prefix}.wang,王芳{prefix},wang.{prefix}@example.com,SWJ,steward,,",
            f"{prefix}.li,李雷{prefix},,税务局,,,",
            f"{prefix}.bad,错行,,火星局,,,",
        ]
        content = (template + "\r\n".join(rows) + "\r\n").encode("utf-8")
        page.set_input_files("#id_file", files=[{"name": f"{prefix}-people.csv", "mimeType": "text/csv",
                                                 "buffer": content}])  # fmt: skip
        with page.expect_navigation():
            page.click(".sh-import-upload button[type=submit]")
        check_accessibility(page)
        assert "/manage/imports/" in page.url and page.locator(".sh-import-apply").is_enabled()
        bad = page.locator("tr.sh-import-error")
        assert bad.count() == 1
        assert "火星局" in bad.locator(".sh-cell-error").inner_text()
        assert page.locator("tr.sh-import-create").count() == 2
        shot(page, f"{locale}-{width}-preview")

        with page.expect_navigation():
            page.click(".sh-import-apply")
        check_accessibility(page)
        assert page.locator(".sh-import-applied").count() == 1
        assert page.locator(".sh-import-status.text-bg-success").count() == 1
        shot(page, f"{locale}-{width}-applied")

        page.goto(f"{base}/departments/{world['tax'].pk}/")
        check_accessibility(page)
        text = page.locator("main").inner_text()
        assert f"王芳{prefix}" in text and f"李雷{prefix}" in text and "错行" not in text
        shot(page, f"{locale}-{width}-department")
    assert not page_errors, page_errors
