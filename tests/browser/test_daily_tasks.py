"""Three everyday tasks in a real browser, on a desk (1366 x 900) and on a phone (360 x 740): log a call for an
existing beneficiary and find it in the Calls log; register a walk-in and log an interview contact; find a
beneficiary by mobile typed in any format. On the phone: the menu opens from its disclosure button, no page
scrolls sideways, and tables read as cards."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from browser.conftest import htmx_settled, open_menu, sign_in, wait_for_page
from playwright.sync_api import Page, expect

from portal.db import database

pytestmark = pytest.mark.browser

VIEWPORTS = {"desk": {"width": 1366, "height": 900}, "phone": {"width": 360, "height": 740}}
MOBILE = "0501234567"
NAME = "هيفاء"


def fits(page: Page) -> None:
    """No sideways scrolling: the page is not wider than the window."""
    widths = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} scrolls sideways: {widths}"


@pytest.fixture
def errors(page: Page):
    found = []
    page.on("pageerror", lambda exc: found.append(f"page error: {exc}"))
    page.on("console", lambda msg: found.append(f"console: {msg.text}") if msg.type == "error" else None)
    return found


@pytest.fixture
def known(live_app, users, make_beneficiary):
    """A beneficiary already on file (the caller)."""
    return make_beneficiary(first_name=NAME, father_name="سالم", grandfather_name="حسن", family_name="العتيبي",
                            mobile=MOBILE)


def go_menu(page: Page, href: str) -> None:
    open_menu(page)
    page.locator(f"nav.menu a[href='{href}']").click()
    wait_for_page(page, f"**{href}*")


@pytest.mark.parametrize("size", VIEWPORTS, ids=list(VIEWPORTS))
def test_log_a_call_for_an_existing_beneficiary(page: Page, live_server, known, errors, size):
    page.set_viewport_size(VIEWPORTS[size])
    sign_in(page, live_server)
    toggle = page.locator("details[data-nav]")
    if size == "phone":
        expect(page.locator("nav.menu")).to_be_hidden()  # collapsed behind its button
    else:
        expect(page.locator("nav.menu")).to_be_visible()
        expect(toggle.locator("summary")).to_be_hidden()
    go_menu(page, "/beneficiaries/")
    page.locator("#q").fill(NAME)
    expect(page).to_have_url(re.compile(r"q=%D9%87"))
    htmx_settled(page)
    row = page.locator("#results tbody tr").first
    expect(row).to_contain_text(NAME)
    fits(page)
    row.locator("a", has_text=NAME).click()
    wait_for_page(page, f"**/beneficiaries/{known}")
    # The number is a call link and a WhatsApp link.
    expect(page.locator(f"a[href='tel:+966{MOBILE[1:]}']").first).to_be_visible()
    expect(page.locator(f"a[href='https://wa.me/966{MOBILE[1:]}']").first).to_be_visible()
    fits(page)
    form = page.locator("#contact-form form")
    form.locator("select[name=channel]").select_option("phone")
    form.locator("select[name=direction]").select_option("in")
    form.locator("input[name=summary]").fill("سألت عن موعد صرف السلة")
    form.locator("button[type=submit]").click()
    expect(page.locator("#timeline-rows > li.entry").first).to_contain_text("سألت عن موعد صرف السلة")
    htmx_settled(page)
    go_menu(page, "/phone/")
    log = page.locator("#call-log tbody tr").first
    expect(log).to_contain_text(NAME)
    expect(log.locator(f"a[href='tel:+966{MOBILE[1:]}']")).to_be_visible()
    fits(page)
    if size == "phone":  # a card: each cell says what it is
        label = log.locator("td").first.evaluate("td => getComputedStyle(td, '::before').content")
        assert label.strip('"'), label
    assert not errors, errors


@pytest.mark.parametrize("size", VIEWPORTS, ids=list(VIEWPORTS))
def test_register_a_walk_in_and_log_an_interview(page: Page, live_server, live_app, users, errors, size):
    from conftest import luhn_id

    page.set_viewport_size(VIEWPORTS[size])
    sign_in(page, live_server)
    go_menu(page, "/beneficiaries/")
    page.locator("a[href='/beneficiaries/new']").click()
    wait_for_page(page, "**/beneficiaries/new")
    fits(page)
    page.fill("#f-first_name", "منيرة")
    page.fill("#f-father_name", "عبدالله")
    page.fill("#f-family_name", "الشهري")
    page.fill("#f-national_id", luhn_id("109876543"))
    page.fill("#f-mobile", "055 123 4567")
    gender = page.locator("select[name=gender]")
    if gender.count():
        gender.select_option("f")
    else:
        page.locator("input[name=gender][value=f]").check()
    category = page.locator("select[name=category]")
    if category.count():
        category.select_option(index=1)
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator("main h1")).to_contain_text("منيرة عبدالله")
    expect(page).to_have_url(re.compile(r"/beneficiaries/\d+$"))
    fits(page)
    form = page.locator("#contact-form form")
    form.locator("select[name=channel]").select_option("interview")
    form.locator("input[name=summary]").fill("مقابلة أولى في المكتب")
    form.locator("button[type=submit]").click()
    top = page.locator("#timeline-rows > li.entry").first
    expect(top).to_contain_text("مقابلة أولى في المكتب")
    expect(top).to_have_class(re.compile(r"\bch-interview\b"))
    fits(page)
    assert not errors, errors


MOBILE_FORMATS = ["0501234567", "501234567", "+966501234567", "00966501234567", "050 123 4567", "050-123-4567",
                  "٠٥٠١٢٣٤٥٦٧", "+966 50 123 4567"]


@pytest.mark.parametrize("size", VIEWPORTS, ids=list(VIEWPORTS))
def test_find_a_beneficiary_by_mobile_in_any_format(page: Page, live_server, known, make_beneficiary, errors,
                                                    size):
    make_beneficiary(first_name="ريم", mobile="0559876543")
    page.set_viewport_size(VIEWPORTS[size])
    sign_in(page, live_server)
    go_menu(page, "/beneficiaries/")
    for typed in MOBILE_FORMATS:
        page.locator("#q").fill(typed)
        rows = page.locator("#results tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(NAME)
        htmx_settled(page)
    fits(page)
    # Without JavaScript's help too: the search is a GET form.
    page.goto(live_server("/beneficiaries/?q=%2B966501234567"))
    expect(page.locator("#results tbody tr")).to_have_count(1)
    assert not errors, errors


@pytest.fixture
def busy_world(live_app, users, known):
    """A request, an outreach task and a call, so the lists have rows to lay out."""
    from portal.models import Beneficiary, User
    from portal.timeline import log_entry
    from portal.workflow import intake
    from portal.workflow.defaults import ensure_default_request_types
    from portal.workflow.outreach import create_task

    with live_app.app_context(), database.connection_context():
        ensure_default_request_types()
        ben = Beneficiary.get_by_id(known)
        officer = User.get_by_id(users["officer"])
        answers = {str(q.id): "3" for q in intake.questions(intake.get_request_type("food_basket"))}
        case = intake.open_request(ben, "food_basket", channel="interview", actor=officer, answers=answers)
        create_task(beneficiary=ben, kind="follow_up", reason="متابعة بعد الزيارة", due=dt.date.today(),
                    key="browser-task")
        log_entry(channel="phone", direction="in", summary="استفسار", beneficiary=ben, actor=officer)
    return {"ben": known, "case": case.reference}


STAFF_PAGES = ["/", "/beneficiaries/", "/beneficiaries/{ben}", "/beneficiaries/new", "/cases/", "/cases/{case}",
               "/outreach/", "/phone/", "/phone/calls/new", "/letters/", "/letters/incoming", "/website/inbox"]
PUBLIC_PAGES = ["/login", "/site/", "/site/ask", "/site/track", "/letters/verify", "/letters/verify/X-1?c=0"]


@pytest.mark.parametrize("role", ["officer", "admin"])
def test_main_pages_fit_a_phone(page: Page, live_server, busy_world, role):
    page.set_viewport_size(VIEWPORTS["phone"])
    for path in PUBLIC_PAGES if role == "officer" else []:
        page.goto(live_server(path))
        expect(page.locator("main")).to_be_visible()
        fits(page)
    sign_in(page, live_server, role)
    pages = STAFF_PAGES if role == "officer" else ["/admin/users", "/library/", "/committee/", "/website/pages"]
    for path in pages:
        response = page.goto(live_server(path.format(**busy_world)))
        assert response.status == 200, path
        expect(page.locator("main")).to_be_visible()
        page.evaluate("() => document.fonts.ready")
        fits(page)
