"""Steps every browser journey takes: signing in and out through the real forms."""

from __future__ import annotations


def sign_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("form[action='/accounts/login/'] button[type=submit]")
    assert page.url == f"{base}/", f"sign-in of {username} did not reach the home page: {page.url}"
    assert page.locator("form[action='/accounts/logout/']").count() == 1


def sign_out(page, base: str) -> None:
    page.click("#mainnav .dropdown-toggle")
    button = page.locator("form[action='/accounts/logout/'] button[type=submit]")
    button.wait_for(state="visible")
    with page.expect_navigation():
        button.click()
    assert page.url.startswith(f"{base}/accounts/login/")
