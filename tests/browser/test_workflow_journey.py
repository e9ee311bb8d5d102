"""The seven steps in a real browser (Debian's Chromium through pytest-playwright, the live server of
``tests/browser/conftest.py`` with CSRF on), by four users: officer, researcher, committee member, chair."""
from __future__ import annotations

import datetime as dt

import pytest
from browser.conftest import htmx_settled
from conftest import PASSWORD

from portal.db import database

pytestmark = pytest.mark.browser


@pytest.fixture
def live(live_app, live_server, browser, users, make_beneficiary):
    from portal.auth import hash_password
    from portal.models import Beneficiary, Document, User
    from portal.workflow.defaults import ensure_default_request_types

    ben_id = make_beneficiary(first_name="لطيفة", family_name="الزهراني", branch="TAIF")
    with live_app.app_context(), database.connection_context():
        ensure_default_request_types()
        User.create(username="chair", full_name="رئيس لجنة البحث", roles="committee",
                    password_hash=hash_password(PASSWORD))
        User.create(username="member3", full_name="عضو لجنة البحث", roles="committee", password_hash="-")
        ben = Beneficiary.get_by_id(ben_id)
        Document.create(beneficiary=ben, kind="national_id", expiry_date=dt.date.today() + dt.timedelta(days=400))
        Document.create(beneficiary=ben, kind="family_card")
    return {"url": live_server.url, "browser": browser, "ben": ben, "app": live_app}


def sign_in(live, username):
    context = live["browser"].new_context(locale="ar-SA", timezone_id="Asia/Riyadh")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live["url"] + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main form button.primary")
    page.wait_for_url(live["url"] + "/")
    return page


def act(page, selector):
    """Click a form's button and wait for the success message of the page that answers it."""
    page.evaluate("document.querySelectorAll('.flashes').forEach(e => e.remove())")
    page.click(selector)
    page.wait_for_selector(".flash-success")


def test_seven_steps_by_four_users(live):
    url, ben = live["url"], live["ben"]

    # officer: open the request from an interview, submit it, record the declaration, refer it
    page = sign_in(live, "officer")
    page.goto(f"{url}/beneficiaries/{ben.id}")
    page.click(f"a[href='/beneficiaries/{ben.id}/cases/new']")
    page.wait_for_selector("#pick-type")
    page.wait_for_function("() => window.htmx !== undefined")
    htmx_settled(page)
    page.select_option("#pick-type", "food_basket")
    page.wait_for_selector("input[name=request_type][value=food_basket]", state="attached")
    page.select_option("#f-new-channel", "interview")
    page.fill("#f-new-summary", "سلة غذائية لأسرة من خمسة أفراد")
    page.fill("input[name^=answer_]", "٥")
    page.click("#new-request form button.primary")
    page.wait_for_url(f"{url}/cases/*")
    htmx_settled(page)
    ref = page.url.rsplit("/", 1)[-1]
    act(page, "form[action$='/submit'] button[value='0']")
    page.select_option("#f-decl-method", "read_out")
    page.select_option("#f-decl-channel", "phone")
    act(page, "form[action$='/declaration'] button")
    page.select_option("#f-refer-researcher", label="مستخدم researcher")
    page.fill("#f-refer-reason", "زيارة منزلية للتحقق من وضع الأسرة")
    act(page, "form[action$='/refer'] button")
    page.context.close()

    # researcher: the queue, the report, the committee
    page = sign_in(live, "researcher")
    page.goto(f"{url}/cases/research")
    page.click(f"a[href='/cases/{ref}']")
    page.fill("#f-rep-visit_date", dt.date.today().isoformat())
    page.fill("#f-rep-household_situation", "أم وأربعة أطفال")
    page.fill("#f-rep-needs", "سلة غذائية شهرية")
    page.select_option("#f-rep-recommendation", "approve")
    act(page, "form[action$='/report'] button")
    page.click("form[action$='/send-to-committee'] button")
    page.wait_for_selector("#committee-due")
    assert "1448" in page.inner_text("#committee-due") or "1449" in page.inner_text("#committee-due")
    page.context.close()

    # the chair opens a session; the committee member and the chair vote; the chair decides
    page = sign_in(live, "chair")
    page.goto(f"{url}/committee/")
    page.fill("#f-ses-quorum", "2")
    page.select_option("#f-ses-chair", label="رئيس لجنة البحث")
    for box in page.query_selector_all("input[name=members]"):
        box.check()
    page.click("form[action$='/committee/sessions'] button")
    page.wait_for_url(f"{url}/committee/sessions/*")
    htmx_settled(page)
    assert ref in page.inner_text("main")
    session_url = page.url
    page.select_option("form[action$='/vote'] select[name=vote]", "approve")
    act(page, "form[action$='/vote'] button")
    page.context.close()
    page = sign_in(live, "committee")
    page.goto(session_url)
    page.select_option("form[action$='/vote'] select[name=vote]", "approve")
    act(page, "form[action$='/vote'] button")
    page.context.close()
    page = sign_in(live, "chair")
    page.goto(session_url)
    page.click("details:has(form[action$='/decide']) summary")
    page.select_option("form[action$='/decide'] select[name=decision]", "approve")
    page.fill("form[action$='/decide'] input[name=quantity]", "3")
    act(page, "form[action$='/decide'] button")
    page.goto(session_url + "/minutes")
    assert ref in page.inner_text("main")
    page.context.close()

    # officer: registration, a delivery, closing; every step is on the timeline
    page = sign_in(live, "officer")
    page.goto(f"{url}/cases/{ref}")
    act(page, "form[action$='/register'] button")
    page.fill("#f-del-what", "سلة غذائية")
    page.fill("#f-del-quantity", "1")
    act(page, "form[action$='/deliveries'] button")
    act(page, "form[action$='/close'] button")
    timeline = page.inner_text("#h-case-timeline + ol")
    page.context.close()

    with live["app"].app_context(), database.connection_context():
        from portal.models import Case, TimelineEntry

        case = Case.get(Case.reference == ref)
        assert case.status == "closed"
        steps = [e.data["to"] for e in TimelineEntry.select().where(TimelineEntry.case == case)
                 .order_by(TimelineEntry.id) if (e.data or {}).get("kind") == "case_status"]
    assert steps == ["submitted", "in_research", "awaiting_committee", "approved", "registered", "served", "closed"]
    assert timeline.count(ref) >= 7
