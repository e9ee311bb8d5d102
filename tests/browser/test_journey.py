"""A new officer's first session, in a real browser: sign in, find a beneficiary whatever the hamza,
open the file, read a timeline that mixes channels, log a contact without leaving the page, switch
to English and back. Then the same screens on a 360 px wide phone."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from browser.conftest import sign_in
from flask_babel import force_locale
from flask_babel import gettext as _
from playwright.sync_api import Page, expect

from portal.db import database, utcnow
from portal.models import Beneficiary, TimelineEntry, User
from portal.timeline import log_entry

pytestmark = pytest.mark.browser

AHMAD_HAMZA_ABOVE = "أحمد"
AHMAD_HAMZA_BELOW = "إحمد"
# Channels the seeded timeline uses; log_entry refuses a channel no enabled plugin declares.
SEEDED = [
    ("interview", "in", "مقابلة في مكتب العزيزية لتحديث بيانات الأسرة"),
    ("phone", "out", "اتصال للتذكير بموعد استلام السلة الغذائية"),
    ("social", "in", "رسالة واتساب تسأل عن موعد صرف الإعانة"),
    ("letters", "out", "خطاب إفادة بقبول طلب الإعانة الموسمية"),
    ("website", "in", "طلب مساعدة إيجار من الموقع الإلكتروني"),
]
NEW_SUMMARY = "اتصال متابعة: أكدت الأسرة استلام السلة الغذائية"
NEW_BODY = "تم التواصل مع الأم، وطلبت تحديث رقم الجوال."


@pytest.fixture
def journey_data(live_app, users, make_beneficiary):
    """Three files (two spellings of Ahmad, one unrelated) and a five-channel timeline on the first."""
    ahmad = make_beneficiary(first_name=AHMAD_HAMZA_ABOVE, father_name="محمد", grandfather_name="علي",
                             family_name="الغامدي")
    ihmad = make_beneficiary(first_name=AHMAD_HAMZA_BELOW, father_name="سالم", grandfather_name="حسن",
                             family_name="الزهراني")
    other = make_beneficiary(first_name="سارة", father_name="عبدالله", grandfather_name="سعد",
                             family_name="الحربي")
    with live_app.app_context(), database.connection_context():
        ben = Beneficiary.get_by_id(ahmad)
        officer = User.get_by_id(users["officer"])
        start = utcnow() - dt.timedelta(days=len(SEEDED))
        for n, (channel, direction, summary) in enumerate(SEEDED):
            log_entry(channel=channel, direction=direction, summary=summary, beneficiary=ben, actor=officer,
                      occurred_at=start + dt.timedelta(days=n))
    return {"ahmad": ahmad, "ihmad": ihmad, "other": other}


def translated(app, message: str, lang: str) -> str:
    with app.test_request_context(), force_locale(lang):
        return _(message)


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        " && document.body.scrollWidth <= document.documentElement.clientWidth"
    )




def channels_on_timeline(page: Page) -> list[str]:
    return page.eval_on_selector_all(
        "#timeline-rows > li.entry",
        "rows => rows.map(r => [...r.classList].find(c => c.startsWith('ch-')).slice(3))",
    )


def test_officer_journey(page: Page, live_server, live_app, journey_data, screenshots):
    problems, responses = [], {}
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("response", lambda r: responses.setdefault(r.url.split("?")[0].removeprefix(live_server.url), r.status))

    # Sign in: the shell is Arabic and right-to-left, styled with the app's own CSS and fonts.
    sign_in(page, live_server)
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "ar")
    expect(html).to_have_attribute("dir", "rtl")
    page.evaluate("() => document.fonts.ready")
    style = page.evaluate(
        """() => ({direction: getComputedStyle(document.body).direction,
                   font: getComputedStyle(document.body).fontFamily,
                   plex: document.fonts.check('16px "Plex Arabic"', 'أحمد'),
                   loaded: [...document.fonts].filter(f => f.status === 'loaded').map(f => f.family),
                   htmx: typeof window.htmx, version: window.htmx && window.htmx.version})"""
    )
    assert style["direction"] == "rtl"
    assert style["font"].startswith('"Plex Arabic"')
    assert '"Plex Arabic"' in style["loaded"] or "Plex Arabic" in style["loaded"], style
    assert style["htmx"] == "object" and style["version"].startswith("2."), style
    assert responses.get("/static/css/app.css") == 200
    assert responses.get("/static/vendor/htmx.min.js") == 200
    assert any(url.startswith("/fonts/") and status == 200 for url, status in responses.items()), responses

    # The beneficiary list, from the menu; live search as the officer types, without a page load.
    page.locator("nav.menu a[href='/beneficiaries/']").click()
    expect(page.locator("#q")).to_be_visible()
    page.evaluate("() => { window.journeyMarker = 'search' }")
    page.locator("#q").press_sequentially("احمد", delay=40)
    results = page.locator("#results table.results tbody tr")
    expect(results).to_have_count(2)
    names = page.locator("#results tbody td a").all_inner_texts()
    assert any(name.startswith(AHMAD_HAMZA_ABOVE + " ") for name in names), names
    assert any(name.startswith(AHMAD_HAMZA_BELOW + " ") for name in names), names
    assert not any("سارة" in name for name in names)
    assert page.evaluate("() => window.journeyMarker") == "search", "the live search reloaded the page"
    # the live search keeps the (empty) list filters in the address, so the back button restores the list
    expect(page).to_have_url(re.compile(r"/beneficiaries/\?q=%D8%A7%D8%AD%D9%85%D8%AF(&category=&branch=)?$"))
    page.screenshot(path=screenshots / "search.png", full_page=True)

    # The profile: household, documents, requests, and a timeline mixing five channels, newest first.
    page.locator("#results tbody td a", has_text=AHMAD_HAMZA_ABOVE + " محمد").click()
    expect(page).to_have_url(live_server(f"/beneficiaries/{journey_data['ahmad']}"))
    expect(page.locator("h1")).to_have_text(f"{AHMAD_HAMZA_ABOVE} محمد علي الغامدي")
    seen = channels_on_timeline(page)
    assert len(set(seen)) >= 4, seen
    assert seen == [channel for channel, _d, _s in reversed(SEEDED)]
    expect(page.locator("#timeline-rows > li.entry").first).to_contain_text(SEEDED[-1][2])

    # Log a contact with the htmx form: it lands on top of the timeline and the page is not reloaded.
    page.evaluate("() => { window.journeyMarker = 'profile' }")
    form = page.locator("#contact-form form")
    form.locator("select[name=channel]").select_option("email")
    form.locator("select[name=direction]").select_option("out")
    form.locator("input[name=summary]").fill(NEW_SUMMARY)
    form.locator("textarea[name=body]").fill(NEW_BODY)
    with page.expect_response(lambda r: r.url.endswith("/contacts") and r.request.method == "POST") as posted:
        form.locator("button[type=submit]").click()
    response = posted.value
    assert response.status == 200
    assert response.request.headers.get("hx-request") == "true"
    assert response.request.headers.get("x-csrftoken")
    top = page.locator("#timeline-rows > li.entry").first
    expect(top).to_contain_text(NEW_SUMMARY)
    expect(top).to_have_class(re.compile(r"\bch-email\b"))
    expect(page.locator("#contact-form [role=status]")).to_be_visible()
    expect(page.locator("#contact-form input[name=summary]")).to_have_value("")
    assert page.evaluate("() => window.journeyMarker") == "profile", "logging a contact reloaded the page"
    assert channels_on_timeline(page)[:2] == ["email", SEEDED[-1][0]]
    with live_app.app_context(), database.connection_context():
        saved = TimelineEntry.select().where(TimelineEntry.summary == NEW_SUMMARY).get()
        assert (saved.channel, saved.direction, saved.beneficiary_id) == ("email", "out", journey_data["ahmad"])
        assert saved.actor.username == "officer"
    page.screenshot(path=screenshots / "profile-ar.png", full_page=True)

    # English: the whole shell turns left-to-right and English; then back to Arabic.
    arabic_heading = page.locator("#h-timeline").inner_text()
    assert arabic_heading == translated(live_app, "Timeline", "ar")
    page.locator("form[action='/language'] button").click()
    expect(html).to_have_attribute("lang", "en")
    expect(html).to_have_attribute("dir", "ltr")
    assert page.evaluate("() => getComputedStyle(document.body).direction") == "ltr"
    expect(page.locator("#h-timeline")).to_have_text("Timeline")
    expect(page.locator("#h-log")).to_have_text("Log a contact")
    expect(page.locator("nav.menu a[href='/beneficiaries/']")).to_have_text("Beneficiaries")
    expect(page.locator("#timeline-rows > li.entry").first).to_contain_text(NEW_SUMMARY)
    # Arabic typed text keeps its own direction inside the English page (punctuation stays at its end).
    typed = page.locator("#timeline-rows > li.entry").first.get_by_text(NEW_BODY)
    assert typed.evaluate("el => getComputedStyle(el).direction") == "rtl"
    page.screenshot(path=screenshots / "profile-en.png", full_page=True)

    page.locator("form[action='/language'] button").click()
    expect(html).to_have_attribute("lang", "ar")
    expect(html).to_have_attribute("dir", "rtl")
    expect(page.locator("#h-timeline")).to_have_text(arabic_heading)
    expect(page).to_have_url(live_server(f"/beneficiaries/{journey_data['ahmad']}"))

    assert not problems, problems


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_phone_width_has_no_horizontal_scrolling(page: Page, live_server, journey_data, screenshots, lang):
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, live_server)
    pages = {
        "list": f"/beneficiaries/?q=احمد&lang={lang}",
        "profile": f"/beneficiaries/{journey_data['ahmad']}?lang={lang}",
    }
    for name, path in pages.items():
        page.goto(live_server(path))
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.locator("main h1")).to_be_visible()
        page.evaluate("() => document.fonts.ready")
        page.screenshot(path=screenshots / f"{name}-360-{lang}.png", full_page=True)
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.body.scrollWidth,"
            " document.documentElement.clientWidth]"
        )
        assert no_horizontal_scroll(page), f"{name} ({lang}) scrolls sideways at 360 px: {widths}"
