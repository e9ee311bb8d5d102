"""Browser tests: Debian's Chromium driven by pytest-playwright against a live server.

The app is built from the same settings as every other test (``app_config``: a copy of the migrated
temp-file SQLite database, or PostgreSQL when ``PORTAL_TEST_DATABASE_URL`` is set), but with CSRF
protection on, as in production. It is served by werkzeug on 127.0.0.1 with a free port, in a background
thread, for the length of one test.

Playwright's own browser downloads are never used (no ``playwright install``): Chromium comes from the
Debian package. Without ``/usr/bin/chromium`` these tests are skipped with a message, except in CI
(``CI=true``), where a missing Chromium is a failure.
"""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from conftest import IN_CI
from werkzeug.serving import make_server

from portal import create_app
from portal.db import database

# Every expect() waits for its state for up to 15 s (Playwright's default is 5 s): a page answered by a live
# server on a machine that also runs the PostgreSQL leg or other suites can take longer than 5 s, and a test
# must fail on a wrong state, never on a slow one.
try:
    from playwright.sync_api import expect as _expect

    _expect.set_options(timeout=15_000)
except ImportError:  # pragma: no cover - Playwright is a test dependency; without it these tests are skipped
    pass

CHROMIUM = Path(os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return str(CHROMIUM)
    message = (
        f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium); "
        "Playwright's downloaded browsers are not used"
    )
    if IN_CI:
        pytest.fail(message + " — CI=true, so a missing Chromium is a failure", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, chromium_path):
    """pytest-playwright's launch options, pointed at the system Chromium."""
    args = CHROMIUM_ARGS
    if browser_type_launch_args.get("headless") is False:  # pytest --headed
        args = [a for a in args if a != "--headless"]
    return {**browser_type_launch_args, "executable_path": chromium_path, "args": args}


@pytest.fixture(scope="session")
def base_url():
    """Pages are opened with the live server's own URL. This also replaces pytest-playwright's fallback
    ``base_url`` fixture, an instance method that pytest >= 9.1 warns about (warnings are errors here)."""
    return None


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "ar-SA", "timezone_id": "Asia/Riyadh"}


# htmx (hx-boost) pushes the new address before it swaps the page in, and wires the new elements
# (hx-post, hx-trigger) only when the swap settles, about 20 ms later. A test that acts as soon as the
# address changes can fire an event htmx does not listen to yet; a person cannot, but a test must wait.
HTMX_BUSY = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"


def htmx_settled(page, timeout: float = 10_000) -> None:
    """Wait until htmx has no request in flight and every swapped-in element is wired."""
    page.wait_for_function(f"() => !document.querySelector({HTMX_BUSY!r})", timeout=timeout)


def wait_for_page(page, url_glob: str) -> None:
    """``page.wait_for_url`` for a boosted navigation, then wait for htmx to settle."""
    page.wait_for_url(url_glob)
    htmx_settled(page)


def sign_in(page, live_server, username="officer"):
    """Sign in through the login form and wait for the staff menu."""
    from conftest import PASSWORD
    from playwright.sync_api import expect

    page.goto(live_server("/login"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    # The menu is behind a disclosure button on a narrow screen: attached, not necessarily shown.
    expect(page.locator("nav.menu")).to_be_attached()


def open_menu(page) -> None:
    """Open the main menu when it is collapsed (a narrow screen). The markup has it open (it works without
    JS) and nav.js closes it on a narrow screen, then marks it fitted: read its state only after that."""
    from playwright.sync_api import expect

    expect(page.locator("details[data-nav][data-fitted]")).to_be_attached()
    toggle = page.locator("details[data-nav]")
    if toggle.get_attribute("open") is None:
        toggle.locator("summary").click()


class LiveServer:
    """A werkzeug server running ``app`` on 127.0.0.1 in a background thread."""

    def __init__(self, app):
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="live-server", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture
def live_app(app, app_config):
    """The test app's twin with CSRF protection on, as in production.

    It shares the test's database with ``app``, so fixtures built on ``app`` (``users``,
    ``make_beneficiary``) prepare the data the browser sees.
    """
    application = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    yield application
    if not database.is_closed():
        database.close()


@pytest.fixture
def live_server(live_app):
    server = LiveServer(live_app)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def screenshots(request, tmp_path_factory) -> Path:
    """Where browser tests write screenshots: ``PORTAL_TEST_SCREENSHOTS`` if set (kept), else a temp dir."""
    chosen = os.environ.get("PORTAL_TEST_SCREENSHOTS")
    if chosen:
        path = Path(chosen) / re.sub(r"[^\w.-]+", "_", request.node.name)
        path.mkdir(parents=True, exist_ok=True)
    else:
        path = tmp_path_factory.mktemp("screenshots")
    return path
