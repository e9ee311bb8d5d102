"""A volunteer's journey in a real browser: an officer assigns them to a basket delivery, they confirm on
their own page, log their hours after the task, an officer approves the hours and issues the certificate,
and the volunteer downloads the certificate PDF from their page."""
from __future__ import annotations

import datetime as dt

import pytest
from browser.conftest import sign_in
from playwright.sync_api import Page, expect

from portal.db import database

pytestmark = [pytest.mark.browser, pytest.mark.needs_plugins("volunteering")]


def test_volunteer_assigned_confirms_logs_hours_and_gets_the_certificate(page: Page, live_server, live_app, users):
    from plugins.volunteering import service as svc
    from plugins.volunteering.models import Assignment, Opportunity
    from portal.dates import from_saudi, saudi_today
    from portal.models import User

    with live_app.test_request_context(), database.connection_context():
        officer = User.get_by_id(users["officer"])
        values, errors = svc.clean_volunteer({"name": "سعد المتطوع", "mobile": "0551234567", "skills": ["delivery"],
                                              "weekdays": [str(d) for d in range(7)], "time_from": "08:00",
                                              "time_to": "22:00"})
        volunteer = svc.save_volunteer(values, actor=officer)
        svc.set_state(volunteer, "approved", actor=officer)
        starts = from_saudi(dt.datetime.combine(saudi_today() + dt.timedelta(days=1), dt.time(16)))
        opp = Opportunity.create(title="توصيل السلال الغذائية", kind="delivery", place="مستودع الجمعية",
                                 starts_at=starts, ends_at=starts + dt.timedelta(hours=3), skills=["delivery"],
                                 places=3)

    # the officer assigns the suggested volunteer
    sign_in(page, live_server)
    page.goto(live_server(f"/volunteering/opportunities/{opp.id}"))
    page.locator("#suggestions li", has_text="سعد المتطوع").get_by_role("button", name="تكليف").click()
    expect(page.locator("#assignments")).to_contain_text("بانتظار التأكيد")
    with live_app.app_context(), database.connection_context():
        token = Assignment.get().token

    # the volunteer confirms on their own page (no account)
    volunteer_page = page.context.browser.new_page()
    volunteer_page.goto(live_server(f"/site/volunteering/{token}"))
    volunteer_page.get_by_role("button", name="سأحضر").click()
    expect(volunteer_page.locator("#assignment-state")).to_contain_text("مؤكد")

    # the day of the task comes: they log their hours
    with live_app.app_context(), database.connection_context():
        Opportunity.update(starts_at=svc.utcnow() - dt.timedelta(hours=3),
                           ends_at=svc.utcnow()).where(Opportunity.id == opp.id).execute()
    volunteer_page.reload()
    volunteer_page.fill("#f-hours", "3")
    volunteer_page.get_by_role("button", name="إرسال ساعاتي").click()
    expect(volunteer_page.locator("#hours-state")).to_contain_text("بانتظار الاعتماد")

    # the officer approves the hours and issues the certificate
    page.goto(live_server("/volunteering/hours"))
    page.locator("#pending-hours").get_by_role("button", name="اعتماد الساعات").click()
    expect(page.locator("main")).to_contain_text("لا توجد ساعات بانتظار الاعتماد")
    page.goto(live_server(f"/volunteering/volunteers/{volunteer.id}"))
    page.get_by_role("button", name="إصدار شهادة عن الساعات المحددة").click()
    expect(page.locator("#certificates li")).to_have_count(1)

    # the volunteer downloads it from their page
    volunteer_page.reload()
    link = volunteer_page.locator("#public-certificates a")
    expect(link).to_be_visible()
    with volunteer_page.expect_download() as download:
        link.click()
    with open(download.value.path(), "rb") as fh:
        assert fh.read(5) == b"%PDF-"
