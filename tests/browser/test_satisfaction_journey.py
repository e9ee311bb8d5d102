"""The satisfaction survey in a real browser on a phone-sized screen (360 x 740): open the link, answer without
typing more than a comment, see the thanks page; a second visit says it was already answered."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from portal.db import database

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 360, "height": 740}}


def _token(app, make_beneficiary) -> str:
    from portal.satisfaction import service

    ben = make_beneficiary(consent_contact=True)
    with app.app_context(), database.connection_context():
        survey = service.offer(beneficiary=ben, kind="call", source="browser:1", send=False, force=True)
        return service.token_for(survey)


def test_rate_the_service_on_a_phone(page: Page, app, live_server, make_beneficiary, screenshots):
    problems = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    token = _token(app, make_beneficiary)
    page.goto(live_server(f"/site/rate/{token}"))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("h1")).to_have_text("قيّم خدمتنا")
    # nothing wider than the screen
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    page.locator("#q-overall label.scale-option", has_text="4").click()
    page.locator("#q-recommend label.scale-option", has_text="9").click()
    page.locator("#q-speed label.scale-option", has_text="5").click()
    page.fill("#f-comment", "الموظفة كانت لطيفة والخدمة سريعة")
    page.screenshot(path=str(screenshots / "rate-form.png"), full_page=True)
    page.get_by_role("button", name="أرسل إجابتي").click()
    page.wait_for_url(f"**/site/rate/{token}/thanks")
    expect(page.locator("#thanks")).to_have_text("شكرًا لإجابتك")
    page.screenshot(path=str(screenshots / "rate-thanks.png"), full_page=True)
    page.goto(live_server(f"/site/rate/{token}"))
    expect(page.locator("#survey-state")).to_have_attribute("data-state", "answered")
    with app.app_context(), database.connection_context():
        from portal.satisfaction.models import SurveyAnswer

        answer = SurveyAnswer.get()
        assert (answer.overall, answer.recommend, answer.speed) == (4, 9, 5)
    assert problems == []


def test_rate_page_in_english_and_a_missing_score(page: Page, app, live_server, make_beneficiary):
    token = _token(app, make_beneficiary)
    page.goto(live_server(f"/site/rate/{token}"))
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    page.fill("#f-comment", "kept")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.locator("#e-overall")).to_be_visible()
    expect(page.locator("#f-comment")).to_have_value("kept")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
