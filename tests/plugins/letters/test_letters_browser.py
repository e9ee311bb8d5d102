"""Browser journey: an officer issues a letter from a request and opens its PDF, at 1366 x 900 and at
360 x 740 (Debian's Chromium against a live server with CSRF on). Every step waits for a state."""
from __future__ import annotations

import re

import pytest
from letters_helpers import make_case, pdf_text  # noqa: F401  (make_case is a fixture)

from portal.db import database

# The shared browser fixtures (Debian Chromium through pytest-playwright, a live server with CSRF on).
from browser.conftest import (  # noqa: E402,F401
    base_url, browser_context_args, browser_type_launch_args, chromium_path, live_app, live_server,
)
from browser.conftest import htmx_settled, sign_in  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("size", [(1366, 900), (360, 740)], ids=["desktop", "phone"])
def test_issue_a_letter_from_a_request_and_open_its_pdf(browser, live_server, app, users, make_case, size):
    from playwright.sync_api import expect

    from plugins.letters.models import Letter
    from portal.models import Counter

    make_case(status="approved", reasons="استيفاء شروط الاستحقاق")
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, locale="ar-SA",
                                  timezone_id="Asia/Riyadh", is_mobile=width < 600, has_touch=width < 600)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)
    try:
        sign_in(page, live_server, "officer")
        page.goto(live_server("/cases/1448-000001"))
        htmx_settled(page)

        # The request's "issue a letter" opens the form with the request filled in.
        page.get_by_role("link", name="إصدار خطاب").first.click()
        page.wait_for_url(re.compile(r"/letters/issue\?ref=1448-000001$"))
        htmx_settled(page)
        expect(page.locator("#f-ref")).to_have_value("1448-000001")
        expect(page.locator("#issue-subject")).to_contain_text("سارة عبدالله سعد الحربي")

        # Choosing a template swaps the form in place (htmx), keeping the reference.
        page.locator("#f-template").select_option("service_delivery")
        expect(page.locator("#f-service")).to_be_visible()
        htmx_settled(page)
        expect(page.locator("#f-ref")).to_have_value("1448-000001")
        page.locator("#f-template").select_option("decision_approved")
        expect(page.locator("#f-service")).to_have_count(0)
        htmx_settled(page)
        expect(page.locator("#f-template")).to_have_value("decision_approved")

        # The preview draws the letter without a number.
        page.get_by_role("button", name="معاينة", exact=True).click()
        expect(page.locator("img.letter-preview").first).to_be_visible(timeout=30_000)  # a PDF rendered and drawn
        htmx_settled(page)
        with app.app_context(), database.connection_context():
            assert Letter.select().count() == 0
            assert Counter.select().where(Counter.name.startswith("letters_out")).count() == 0

        # Issue (a double click still gives one letter), then open the PDF.
        page.get_by_role("button", name="إصدار الخطاب").dblclick()
        page.wait_for_url(re.compile(r"/letters/out/\d+$"), timeout=30_000)
        heading = page.locator("h1")
        expect(heading).to_contain_text(re.compile(r"ص-\d{4}-000001"))
        number = re.search(r"ص-\d{4}-000001", heading.inner_text()).group(0)
        link = page.get_by_role("link", name="فتح ملف PDF")
        expect(link).to_be_visible()
        response = page.request.get(live_server(link.get_attribute("href")))
        assert response.status == 200
        assert response.headers["content-type"] == "application/pdf"
        body = response.body()
        assert body.startswith(b"%PDF")
        text = pdf_text(body)
        assert "1448-000001" in text and "الموافقة" in text
        # the printed verification address carries the letter's number (without its Arabic prefix)
        assert f"/letters/verify/{number.split('-', 1)[1]}?c=" in text
        with app.app_context(), database.connection_context():
            assert Letter.select().count() == 1
        assert problems == []
    finally:
        context.close()


def test_template_editor_merge_buttons_and_paragraph_buttons(page, live_server, app, users):
    """The structured editor in a browser: a merge-field button inserts its placeholder at the cursor, a
    paragraph button redraws the paragraphs (htmx) without saving, and the script breaks no CSP rule."""
    from playwright.sync_api import expect

    from plugins.letters import service

    with app.app_context(), database.connection_context():
        template_id = service.template_by_key("general").id
    problems = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)
    sign_in(page, live_server, "manager")
    page.goto(live_server(f"/letters/templates/{template_id}"))
    htmx_settled(page)
    buttons = page.locator("[data-merge-buttons]")
    expect(buttons).to_be_visible()
    first = page.locator("#f-p0")
    first.click()
    first.press("End")
    buttons.locator("button[data-insert='org_name']").click()
    expect(first).to_have_value(re.compile(r"\{\{ org_name \}\}$"))
    second_text = page.locator("#f-p1").input_value()
    page.locator("#f-p1 ~ .paragraph-tools button[value='up:1']").click()
    expect(page.locator("#f-p0")).to_have_value(second_text)
    htmx_settled(page)
    expect(page.locator("#f-p1")).to_have_value(re.compile(r"\{\{ org_name \}\}$"))
    expect(page.locator("[data-merge-buttons]")).to_be_visible()
    assert problems == []
