"""axe-core on the twenty main staff and public pages, in Arabic: no serious or critical violation.

axe-core is fetched from the npm registry at install time (tools/vendor.py, pinned with its integrity, into
tests/browser/vendor/, never committed); without it the test is skipped, except in CI where it fails."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from browser.conftest import sign_in
from conftest import IN_CI
from playwright.sync_api import Page, expect

from browser.test_daily_tasks import busy_world, known  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PUBLIC = ["/login", "/site/", "/site/ask", "/site/track", "/letters/verify"]
STAFF = {
    "officer": ["/", "/beneficiaries/", "/beneficiaries/{ben}", "/beneficiaries/new", "/cases/", "/cases/{case}",
                "/outreach/", "/phone/", "/phone/calls/new", "/letters/", "/letters/incoming", "/website/inbox"],
    "admin": ["/admin/users", "/library/", "/committee/"],
    "manager": ["/reports/?period=custom&from=2025-01-01&to=2027-12-31"],
}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """axe is injected as a script; the pages' content security policy (script-src 'self') would refuse it."""
    return {**browser_context_args, "bypass_csp": True}


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        message = f"axe-core is fetched by tools/vendor.py into {AXE.parent} (npm needed once)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


def serious(page: Page, axe_source: str) -> list[str]:
    page.evaluate("() => document.fonts.ready")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=axe_source)
    result = page.evaluate("async () => JSON.stringify(await axe.run(document, {resultTypes: ['violations']}))")
    found, result = [], json.loads(result)
    assert len(result["passes"]) > 10, "axe checked almost nothing"
    for violation in result["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = [" ".join(map(str, n["target"])) for n in violation["nodes"][:5]]
            found.append(f"{page.url}: {violation['id']} ({violation['impact']}) {targets}")
    return found


def test_twenty_main_pages_in_arabic_have_no_serious_violations(page: Page, live_server, busy_world, axe_source):
    problems, checked = [], 0
    # axe finds what it should: a button without a name is a critical violation.
    page.goto(live_server("/login"))
    page.evaluate("() => document.querySelector('main').append(document.createElement('button'))")
    assert any("button-name (critical)" in p for p in serious(page, axe_source))
    for path in PUBLIC:
        page.goto(live_server(path))
        expect(page.locator("html")).to_have_attribute("lang", "ar")
        problems += serious(page, axe_source)
        checked += 1
    for role, paths in STAFF.items():
        page.context.clear_cookies()
        sign_in(page, live_server, role)
        for path in paths:
            response = page.goto(live_server(path.format(**busy_world)))
            assert response.status == 200, path
            expect(page.locator("html")).to_have_attribute("dir", "rtl")
            problems += serious(page, axe_source)
            checked += 1
    assert checked == 21
    assert not problems, "\n".join(problems)
