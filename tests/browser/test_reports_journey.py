"""The manager's reports in a real browser: choose last month in the Hijri calendar, read a chart beside its
table, download a table as XLSX, make the monthly report and download its PDF."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from playwright.sync_api import Page, expect

from browser.conftest import open_menu, sign_in
from portal.db import database

pytestmark = pytest.mark.browser


def test_a_manager_reads_downloads_and_makes_the_monthly_report(page: Page, app, users, live_server,
                                                                make_beneficiary):
    from openpyxl import load_workbook

    from portal.dates import saudi_today
    from portal.models import Case
    from portal.reports import month_of

    problems = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    ben = make_beneficiary()
    last_hijri_month = month_of(month_of(saudi_today(), "hijri")[0] - dt.timedelta(days=1), "hijri")
    opened = dt.datetime.combine(last_hijri_month[0], dt.time(9))
    with app.app_context(), database.connection_context():
        for n, status in enumerate(("submitted", "submitted", "approved")):
            Case.create(reference=f"1448-70000{n}", beneficiary=ben, status=status, request_type="rent",
                        channel="phone", created_at=opened, status_changed_at=opened)
    sign_in(page, live_server, "manager")
    open_menu(page)
    page.locator("nav.menu a", has_text="التقارير").click()
    expect(page.locator("h1")).to_have_text("التقارير")
    page.locator("input[name=period][value=last_month]").check()
    page.locator("input[name=calendar][value=hijri]").check()
    page.locator("#report-form button[type=submit]").click()
    expect(page.locator("#report-period")).to_contain_text(str(last_hijri_month[2].split()[-1]))
    table = page.locator("#table-requests_by_state")
    expect(table.locator("svg.chart")).to_be_visible()
    expect(table.locator("table tbody tr")).to_have_count(2)  # submitted 2, approved 1
    expect(page.locator("#fig-requests-opened strong")).to_have_text("3")
    with page.expect_download() as download:
        table.get_by_role("link", name="Excel (XLSX)").click()
    sheet = load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active
    assert sheet.sheet_view.rightToLeft and sheet.max_row == 3
    page.fill("#m-month", saudi_today().strftime("%Y-%m"))
    page.get_by_role("button", name="إعداد التقرير الشهري").click()
    expect(page.locator("#monthly table")).to_be_visible()
    with page.expect_download() as pdf:
        page.locator("#monthly").get_by_role("link", name="تنزيل PDF").first.click()
    assert open(pdf.value.path(), "rb").read(4) == b"%PDF"
    assert not problems, problems
