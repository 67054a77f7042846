"""Pages under the Content-Security-Policy (issue 10, 1.6), in a real browser: the behaviours that were
inline script now come from static files and still work, htmx still swaps, the API docs (Swagger UI)
still render, and nothing the policy blocks shows up in the console. page_errors collects CSP
violations (tests/browser/conftest.py); the last step proves it does by injecting an inline script.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from sharehub.catalog import services as catalog
from sharehub.org import services as org
from sharehub.org.models import Membership
from tests.browser.steps import check_accessibility, sign_in, third_party_page

PASSWORD = "csp-journey-3141"


@pytest.fixture
def world(transactional_db):
    """Made before the browser starts (see tests/browser/conftest.py)."""
    tax = org.create_department(None, name="税务局", code="SWJ")
    org.create_department(None, name="征收科", code="SWJ-ZS", parent=tax)
    steward = org.create_person(None, username="qian_steward", password=PASSWORD, check_password=False)
    org.set_membership(None, steward, tax, Membership.Role.STEWARD)
    catalog.create_resource(steward, owner_department=tax, kind="document", publish=True, title="征管数据说明")
    return {"tax": tax}


def _policy(response) -> dict[str, list[str]]:
    header = response.headers.get("content-security-policy", "")
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_pages_work_under_the_content_security_policy(world, live_server, new_page, page_errors, shot):
    base = live_server.url
    page = new_page()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, base, "qian_steward", PASSWORD)

    response = page.goto(f"{base}/")
    check_accessibility(page)
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"], policy

    # The catalog filters: htmx swaps the results and pushes an address without the empty fields.
    page.goto(f"{base}/resources/")
    check_accessibility(page)
    page.evaluate("window.__sameDocument = true")
    page.select_option("#filters select[name=kind]", "document")
    page.wait_for_url("**/resources/?*kind=document*")
    assert page.evaluate("window.__sameDocument === true"), "the filter reloaded the whole page"
    query = parse_qs(urlsplit(page.url).query, keep_blank_values=True)
    assert query["kind"] == ["document"] and "q" not in query, query
    assert all("" not in values for values in query.values()), query
    # The text box asks as it is typed in, and leaving it asks nothing more (that second answer could
    # replace the result being clicked); the other fields ask on change.
    asked = []
    page.on("request", lambda request: "/resources/?" in request.url and asked.append(request.url))
    page.fill("#filters input[name=q]", "budget")
    page.wait_for_url("**/resources/?*q=budget*")
    page.locator("#filters input[name=tag]").focus()
    page.wait_for_timeout(800)
    assert len(asked) == 1, asked
    page.fill("#filters input[name=tag]", "finance")
    page.locator("#filters input[name=include_sub]").uncheck()
    page.wait_for_url(lambda url: "tag=finance" in url and "include_sub" not in url)

    # The publish form shows the fields of the chosen kind (catalog/form.js).
    page.goto(f"{base}/resources/new/")
    check_accessibility(page)
    dataset_fields = page.locator("[data-kind-only=dataset]")
    link_field = page.locator("[data-kind-only=link]")
    page.select_option("#id_kind", "dataset")
    assert dataset_fields.is_visible() and link_field.is_hidden()
    page.select_option("#id_kind", "link")
    assert link_field.is_visible() and dataset_fields.is_hidden()
    shot(page, "form-link")

    # Tokens: copy the new secret, and revoking asks first (web/sharehub.js).
    page.goto(f"{base}/tokens/")
    check_accessibility(page)
    page.fill("#id_name", "ERP")
    with page.expect_navigation():
        page.click("form[action='/tokens/'] button[type=submit]")
    check_accessibility(page)
    copy = page.locator("[data-copy-from=token-secret]")
    copy.click()
    assert copy.inner_text() == copy.get_attribute("data-done")
    assert page.evaluate("navigator.clipboard.readText()") == page.input_value("#token-secret")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("form[data-confirm] button[type=submit]")
    assert page.locator("form[data-confirm]").count() == 1, "revoked although the question was dismissed"
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("form[data-confirm] button[type=submit]")
    assert page.locator("form[data-confirm]").count() == 0, "not revoked after the question was accepted"
    check_accessibility(page)

    # The department tree and the language switch (a select that submits its form).
    page.goto(f"{base}/departments/")
    check_accessibility(page)
    depths = page.locator(".sh-indent").evaluate_all("els => els.map(e => getComputedStyle(e).paddingLeft)")
    assert len(set(depths)) == 2, depths
    with page.expect_navigation():
        page.select_option(".sh-lang select", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    check_accessibility(page)
    shot(page, "departments-en")

    # The API docs: Swagger UI from our static files renders the operations.
    response = page.goto(f"{base}/api/v1/docs")
    assert _policy(response)["script-src"] == ["'self'"]
    page.locator(".swagger-ui .opblock").first.wait_for(state="visible")
    third_party_page(page)
    shot(page, "api-docs")

    assert page_errors == [], page_errors

    # The detector works: an inline script is refused, and the refusal is collected.
    page.goto(f"{base}/")
    check_accessibility(page)
    page.evaluate(
        """() => {
            const inline = document.createElement("script");
            inline.textContent = "window.__inlineRan = true";
            document.body.append(inline);
        }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.__inlineRan === undefined")
    assert len(page_errors) == 1 and "Content Security Policy" in page_errors[0], page_errors
