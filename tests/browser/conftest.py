"""Headless Chromium through Playwright's sync API, against pytest-django's live server.

Debian's Chromium is used (never a downloaded browser); `make test` installs it through
scripts/install-browser.sh. When it is missing the browser tests fail with a clear message: a
silently skipped journey would look like a passing one.

Make test data in fixtures, before the first new_page(), not after it: Playwright's sync API
runs the test inside a greenlet, and a database connection opened there is out of reach of Django's
teardown (on PostgreSQL the test database then cannot be dropped).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.browser.steps import track_visits, unchecked_visits

CHROMIUM = Path(os.environ.get("SHAREHUB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
# SHAREHUB_TEST_ARTIFACTS gives another folder, so that two runs side by side (CI) do not clear each other's.
ARTIFACTS = Path(os.environ.get("SHAREHUB_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts")
VIEWPORT = {"width": 1366, "height": 900}


@pytest.fixture(autouse=True)
def _async_unsafe_allowed(monkeypatch):
    """Playwright's sync API runs an event loop in the test's thread, which trips Django's
    async-unsafe check on every ORM call made here; allow it for the browser tests only."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _no_first_run_tour(request, monkeypatch):
    """The first-run tour's popover would cover what the other journeys click on the home page of a person who
    has not seen it; its own journey (test_tour_journey.py, marked `tour`) and the axe check of it keep it."""
    if request.node.get_closest_marker("tour") is None:
        from sharehub.knowledge import tour

        monkeypatch.setattr(tour, "tour_for", lambda request, create_url="": None)


def _require_chromium() -> None:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: the browser tests need Debian's chromium package. "
            "Run scripts/install-browser.sh (make test does), or point SHAREHUB_CHROMIUM at a Chromium binary.",
            pytrace=False,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep the outcome of the test's call on the item, so fixtures can tell a passing test at teardown."""
    report = yield
    if report.when == "call":
        item.sh_call_passed = report.passed
    return report


@pytest.fixture
def page_errors() -> list[str]:
    """Uncaught JavaScript errors and Content-Security-Policy violations of the pages opened through
    `new_page`, in order."""
    return []


def _csp_violation(message) -> bool:
    """Chromium reports what the Content-Security-Policy blocked as a console error naming the policy."""
    return message.type == "error" and "Content Security Policy" in message.text


@pytest.fixture
def new_page(request, page_errors):
    """new_page() opens a fresh browser context and page, zh-CN and 1366x900 unless told otherwise
    (new_page(locale="en-US", width=390)); uncaught script errors and CSP violations go to page_errors.
    Chromium starts on the first call, inside the test, so a missing browser makes the test fail (not
    error, not skip). The pages' loaded documents are tracked: each must have been checked with axe by
    the end."""
    state: dict = {"pages": []}

    def open_page(locale: str = "zh-CN", width: int = VIEWPORT["width"], height: int = VIEWPORT["height"]):
        if "browser" not in state:
            _require_chromium()
            from playwright.sync_api import sync_playwright

            state["playwright"] = sync_playwright().start()
            state["browser"] = state["playwright"].chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        viewport = {"width": width, "height": height}
        context = state["browser"].new_context(locale=locale, viewport=viewport, timezone_id="Asia/Shanghai")
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.on("pageerror", lambda error: page_errors.append(f"{page.url}: {error}"))
        page.on("console", lambda msg: _csp_violation(msg) and page_errors.append(f"{page.url}: {msg.text}"))
        track_visits(page)
        state["pages"].append(page)
        return page

    yield open_page
    unchecked = [url for page in state["pages"] for url in unchecked_visits(page)]
    if "browser" in state:
        state["browser"].close()
    if "playwright" in state:
        state["playwright"].stop()
    if unchecked and getattr(request.node, "sh_call_passed", False):
        pytest.fail(
            "pages loaded but never checked with axe (call check_accessibility after each navigation):\n  "
            + "\n  ".join(unchecked),
            pytrace=False,
        )


@pytest.fixture
def shot(request):
    """shot(page, "name") saves a full-page screenshot to test-artifacts/<test>/NN-name.png (or under
    $SHAREHUB_TEST_ARTIFACTS)."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    counter = iter(range(1, 100))

    def take(page, name: str) -> Path:
        path = folder / f"{next(counter):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
