"""Directory sign-in in a browser: the sign-in page offers the organization's OpenID Connect provider; a
person signs in on the provider's own login page (npm's oidc-provider, tests/directory/oidc_provider.mjs) and
lands in Sharehub signed in, in the department the mapping rules gave them. Then signs out, here and at the
provider. In Chinese at phone width and in English at desktop width."""

from __future__ import annotations

import copy
import os

import pytest

from sharehub.directory import services
from sharehub.directory.conf import OidcSettings
from sharehub.org import services as org
from tests.browser.steps import check_accessibility, third_party_page
from tests.directory import provider as oidc_provider

LABEL = "统一身份认证"


@pytest.fixture
def world(transactional_db, settings, live_server, tmp_path):
    why = oidc_provider.available()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"the OpenID Connect journey cannot run: {why}", pytrace=False)
        pytest.skip(why)
    base = live_server.url
    process = oidc_provider.Provider(
        tmp_path / "oidc", [f"{base}/accounts/oidc/callback/"], [f"{base}/accounts/login/"]
    ).start()
    settings.DIRECTORY_OIDC = OidcSettings(
        issuer=process.issuer,
        client_id=oidc_provider.CLIENT_ID,
        client_secret=oidc_provider.CLIENT_SECRET,
        scopes="openid profile email groups",
        label=LABEL,
    )
    csp = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)  # as sharehub.settings does for a configured provider
    csp["DIRECTIVES"]["form-action"].append(settings.DIRECTORY_OIDC.origin)
    settings.CONTENT_SECURITY_POLICY = csp
    tax = org.create_department(None, name="税务局", code="SWJ")
    health = org.create_department(None, name="卫生健康委员会", code="WJW")
    services.create_rule(None, kind="group", value="tax-stewards", department=tax, role="steward")
    services.create_rule(None, kind="attribute", attribute="department", value="卫生健康委员会", department=health)
    yield {"base": base, "issuer": process.issuer}
    process.stop()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_sign_in_through_the_provider_lands_signed_in_with_the_rules_department(world, new_page, page_errors, shot):
    base = world["base"]
    for locale, width, login, department, words in [
        ("zh-CN", 390, "wang.fang", "税务局", {"button": f"使用{LABEL}登录"}),
        ("en-US", 1366, "li.lei", "卫生健康委员会", {"button": f"Sign in with {LABEL}"}),
    ]:
        page = new_page(locale=locale, width=width)
        page.goto(f"{base}/accounts/login/")
        check_accessibility(page)
        button = page.get_by_role("link", name=words["button"])
        assert button.is_visible()
        shot(page, f"{locale}-{width}-sign-in")
        with page.expect_navigation():
            button.click()
        assert page.url.startswith(world["issuer"])  # the provider's own login page
        third_party_page(page)
        page.fill("input[name=login]", login)
        page.fill("input[name=password]", "any-password")
        with page.expect_navigation():
            page.click("button[type=submit]")
        third_party_page(page)  # its consent page
        with page.expect_navigation(url=f"{base}/"):
            page.click("button[type=submit]")
        assert page.locator("form[action='/accounts/logout/']").count() == 1  # signed in
        assert department in page.locator("main").inner_text()
        check_accessibility(page)
        shot(page, f"{locale}-{width}-home")

        if width < 1200:  # the menu is folded behind the toggler
            page.click(".navbar-toggler")
            page.locator("#mainnav.collapse.show").wait_for()
        page.click("#sh-user-menu")
        sign_out = page.locator("form[action='/accounts/logout/'] button[type=submit]")
        sign_out.wait_for(state="visible")
        with page.expect_navigation(url=f"{world['issuer']}/session/end**"):
            sign_out.click()  # signed out here, then on to the provider's end-session page
        third_party_page(page)
        with page.expect_navigation(url=f"{base}/accounts/login/**"):
            page.click("button[name=logout]")  # "Yes, sign me out", and back to Sharehub
        check_accessibility(page)
        assert page.locator("#id_username").count() == 1
    assert not page_errors, page_errors
