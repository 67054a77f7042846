"""Steps every browser journey takes: signing in and out through the real forms, and checking each
page with axe-core."""

from __future__ import annotations

import weakref
from pathlib import Path

# axe-core comes from the npm registry with the other front-end packages (package.json), for the tests
# only: it is injected from node_modules into the page under test and never served to users.
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_RUN = """() => axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
    resultTypes: ['violations'],
})"""
BLOCKING = ("serious", "critical")

# page -> the documents it loaded, in order (recorded by the `new_page` fixture), and which were checked
_visits: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _visits_of(page) -> dict:
    return _visits.setdefault(page, {"loaded": [], "checked": set()})


def track_visits(page) -> None:
    """Record every document `page` loads, so `unchecked_visits` can name those axe never saw."""
    loaded = _visits_of(page)["loaded"]
    page.on("load", lambda document: loaded.append(document.url))


def unchecked_visits(page) -> list[str]:
    visits = _visits_of(page)
    return [url for n, url in enumerate(visits["loaded"]) if n not in visits["checked"] and url != "about:blank"]


def axe_violations(page) -> list[dict]:
    """axe-core's WCAG 2.1 A and AA violations on the page as it is now, of every impact."""
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        if not AXE.is_file():
            raise AssertionError(f"axe-core is missing at {AXE}: run `npm ci` (make setup does)")
        # Evaluated through the DevTools protocol, which the pages' Content-Security-Policy does not govern
        # (a <script> tag added to the page would be refused, as it should be).
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;void 0")
    return page.evaluate(AXE_RUN)["violations"]


def describe(violations: list[dict]) -> str:
    """One line per failing element: rule, impact, CSS target and axe's summary of what fails."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            summary = " ".join(line.strip() for line in node["failureSummary"].splitlines()[1:])
            lines.append(f"    {' '.join(map(str, node['target']))}: {summary}")
    return "\n".join(lines)


def third_party_page(page) -> None:
    """Mark the current document as checked without axe: for pages whose markup is not ours, such as the
    Swagger UI that django-ninja bundles for /api/v1/docs (its method badges fail colour contrast)."""
    visits = _visits_of(page)
    page.wait_for_load_state("load")
    visits["checked"].add(len(visits["loaded"]) - 1)


def check_accessibility(page) -> None:
    """Fail with a readable list when axe finds a serious or critical WCAG 2.1 AA violation on the
    page as it is now (call it after each navigation, and after a swap that changes the page)."""
    violations = axe_violations(page)
    visits = _visits_of(page)
    # the current document is the last one loaded: its load event came before axe's answer
    visits["checked"].add(len(visits["loaded"]) - 1)
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"axe: serious or critical WCAG 2.1 AA violations on {page.url}:\n{describe(blocking)}"


def sign_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    check_accessibility(page)
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("form[action='/accounts/login/'] button[type=submit]")
    assert page.url == f"{base}/", f"sign-in of {username} did not reach the home page: {page.url}"
    assert page.locator("form[action='/accounts/logout/']").count() == 1
    check_accessibility(page)


def sign_out(page, base: str) -> None:
    page.click("#sh-user-menu")
    button = page.locator("form[action='/accounts/logout/'] button[type=submit]")
    button.wait_for(state="visible")
    with page.expect_navigation():
        button.click()
    assert page.url.startswith(f"{base}/accounts/login/")
    check_accessibility(page)
