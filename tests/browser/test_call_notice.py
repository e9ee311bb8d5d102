"""The incoming-call notice in a real browser: a call posted by the PBX appears in the corner of the page the
officer is on, polling survives boosted navigation, a hung-up call leaves, a hidden tab does not poll,
the dismiss button works with htmx, and nothing breaks the Content-Security-Policy."""
from __future__ import annotations

import pytest
from browser.conftest import htmx_settled, sign_in, wait_for_page
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

TOKEN = "browser-cti-token-0123456789"
CARD = "#call-notice .notice-card"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PHONE_CTI_TOKEN": TOKEN}




def set_visibility(page: Page, state: str):
    """What the browser does when the officer switches tabs (headless Chromium is always "visible")."""
    page.evaluate("""state => {
        Object.defineProperty(document, 'visibilityState', {value: state, configurable: true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""", state)


def pbx(page: Page, live_server, event: str, call_id: str, number: str, **extra):
    """Post one CTI event as the PBX would (the webhook needs no session and no CSRF token)."""
    response = page.request.post(live_server(f"/api/v1/cti/{TOKEN}"), data={
        "event": event, "from": number, "to": "0125550000", "direction": "in", "callId": call_id, **extra})
    assert response.status == 200 and response.json() == {}


def test_incoming_call_notice_follows_the_officer(page: Page, live_server, users, make_beneficiary, screenshots):
    problems = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    polls = []
    page.on("request", lambda r: polls.append(r.url) if "/phone/notice?" in r.url else None)
    ben = make_beneficiary(first_name="هند", family_name="الزهراني", mobile="0501234567")

    sign_in(page, live_server)
    page.goto(live_server(f"/beneficiaries/{ben}"))
    htmx_settled(page)
    expect(page.locator("#call-notice")).to_have_count(1)
    expect(page.locator(CARD)).to_have_count(0)

    # The phone rings: within a poll the card shows who is calling, over the profile page.
    pbx(page, live_server, "newCall", "b-1", "0501234567")
    card = page.locator(CARD)
    expect(card).to_have_count(1, timeout=8_000)
    expect(card).to_contain_text("هند")
    expect(card).to_contain_text("050 123 4567")
    expect(card.locator(f"a[href='/beneficiaries/{ben}']")).to_be_visible()
    page.screenshot(path=str(screenshots / "call-notice-profile.png"), caret="initial")  # no injected style

    # Boosted navigation to another plugin's screen: the notice is drawn with the page and keeps polling.
    page.evaluate("() => { window.noticeMarker = 'kept' }")
    page.locator("nav.menu a[href='/letters/']").click()
    wait_for_page(page, "**/letters/")
    assert page.evaluate("() => window.noticeMarker") == "kept", "the navigation reloaded the page"
    expect(page.locator(CARD)).to_have_count(1)
    pbx(page, live_server, "hangup", "b-1", "0501234567", cause="cancel")
    pbx(page, live_server, "newCall", "b-2", "0559998887")
    expect(page.locator(CARD)).to_contain_text("055 999 8887", timeout=8_000)
    expect(page.locator(CARD)).to_have_count(1)
    expect(page.locator(CARD)).not_to_contain_text("050 123 4567")

    # A hidden tab does not poll; shown again, it polls at once.
    set_visibility(page, "hidden")
    before = len(polls)
    page.wait_for_timeout(4_000)  # longer than one polling interval
    assert len(polls) == before, polls[before:]
    with page.expect_request(lambda r: "/phone/notice?" in r.url, timeout=1_500):
        set_visibility(page, "visible")

    # Dismiss (htmx): the card goes, the page stays, and the next polls do not bring it back.
    page.locator(CARD).get_by_role("button").click()
    expect(page.locator(CARD)).to_have_count(0)
    assert page.url.endswith("/letters/") and page.evaluate("() => window.noticeMarker") == "kept"
    page.wait_for_timeout(3_500)
    expect(page.locator(CARD)).to_have_count(0)
    assert not problems, "\n".join(problems)
