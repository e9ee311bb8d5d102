"""The reception desk in a real browser: a walk-in is checked in by national ID, waits (the waiting list
refreshes itself when another clerk checks someone in), is called, interviewed, and the interview with its
follow-up is on the beneficiary's timeline."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from browser.conftest import htmx_settled, sign_in
from playwright.sync_api import Page, expect

from portal.db import database

pytestmark = [pytest.mark.browser, pytest.mark.needs_plugins("interview")]


@pytest.fixture
def app_config(app_config):
    app_config["INTERVIEW_POLL_SECONDS"] = 2
    return app_config


def test_walk_in_from_check_in_to_the_timeline(page: Page, live_server, live_app, users, make_beneficiary, screenshots):
    from portal.dates import saudi_today

    ben = make_beneficiary(first_name="نوال", father_name="أحمد", grandfather_name="سعيد", family_name="القرشي",
                           national_id="1000000008", mobile="0551234567")
    sign_in(page, live_server)
    page.goto(live_server("/interview/desk"))
    expect(page.locator("#nobody-waiting")).to_be_visible()

    # a wrong check digit: refused, the text stays
    page.fill("#f-national_id", "1000000009")
    page.fill("#f-reason", "الاستفسار عن السلة")
    page.locator("#check-in-form button[type=submit]").click()
    expect(page.locator("#f-national_id")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-national_id")).to_have_value("1000000009")
    expect(page.locator("#f-reason")).to_have_value("الاستفسار عن السلة")

    # the file found by the search, then checked in
    page.fill("#desk-q", "١٠٠٠٠٠٠٠٠٨")
    page.locator("form[role=search] button[type=submit]").click()
    expect(page.locator(f"input[name=beneficiary][value='{ben}']")).to_be_checked()
    page.fill("#f-reason", "الاستفسار عن السلة")
    page.locator("#check-in-form button[type=submit]").click()
    row = page.locator("#waiting-list tr[data-ticket='1']")
    expect(row).to_contain_text("نوال")
    expect(row.locator(".visit-status")).to_contain_text("ينتظر")

    # another clerk checks a new visitor in: the list shows them without a reload
    with live_app.test_request_context(), database.connection_context():
        from plugins.interview import service as svc
        from portal.models import Branch, User

        desk_branch = Branch.select().order_by(Branch.code).first()  # the desk of a user without a branch
        svc.check_in(branch=desk_branch, form={"name": "زائرة جديدة", "mobile": "0557654321", "reason": "أول زيارة"},
                     actor=User.get_by_id(users["admin"]))
    expect(page.locator("#waiting-list tr[data-ticket='2']")).to_contain_text("زائرة جديدة", timeout=15_000)

    # call the next visitor: ticket 1
    htmx_settled(page)
    page.screenshot(path=str(screenshots / "desk.png"), full_page=True)
    page.get_by_role("button", name="استدعاء الزائر التالي").click()
    expect(page.locator(".flash-success")).to_contain_text("التذكرة 1")
    expect(page.locator("#waiting-list tr[data-ticket='1'] .visit-status")).to_contain_text("استُدعي")

    # start the interview: the form opens with the reason as its purpose
    page.locator("#waiting-list tr[data-ticket='1']").get_by_role("button", name="بدء المقابلة").click()
    expect(page.locator("#interview-form")).to_be_visible()
    expect(page.locator("#f-purpose")).to_have_value("الاستفسار عن السلة")
    page.fill("#f-present", "نوال وابنتها")
    page.fill("#q-1", "هل تغير دخل الأسرة؟")
    page.fill("#a-1", "لا")
    page.fill("#f-outcome", "شُرح موعد التوزيع القادم")
    due = saudi_today() + dt.timedelta(days=7)
    page.fill("#f-follow_up_due", due.isoformat())
    page.get_by_role("button", name="حفظ المقابلة").click()
    expect(page.locator(".flash-success")).to_contain_text("سُجّلت المقابلة")
    page.screenshot(path=str(screenshots / "record.png"), full_page=True)
    expect(page.get_by_role("link", name=re.compile("ملخص للتوقيع"))).to_be_visible()

    # on the timeline, with its follow-up
    page.get_by_role("link", name="العودة إلى الملف").click()
    entry = page.locator(".entry", has_text="شُرح موعد التوزيع القادم").first
    expect(entry).to_contain_text("هل تغير دخل الأسرة؟")
    expect(entry).to_contain_text("المقابلة الشخصية")
    entry.screenshot(path=str(screenshots / "entry.png"))

    # back at the desk: ticket 1 is served, with the time given
    page.goto(live_server("/interview/desk"))
    expect(page.locator("#waiting-list tr[data-ticket='1']")).to_have_count(0)
    expect(page.locator("#h-done").locator("xpath=..")).to_contain_text("نوال")
