"""Browser journey on a phone-sized screen (360 x 740): apply with two documents, get the reference
and the acknowledgement, track the request. Headless Debian chromium against a live server."""
from __future__ import annotations

import os

import pytest
from website_helpers import PDF, app_config, png_bytes, types  # noqa: F401

from portal.db import database

# The shared browser fixtures (Debian Chromium through pytest-playwright, a live server with CSRF on).
from browser.conftest import (  # noqa: E402,F401
    base_url, browser_context_args, browser_type_launch_args, chromium_path, live_app, live_server,
)
from browser.conftest import htmx_settled, wait_for_page  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(browser, live_server, types):
    """A phone-sized page (360 x 740) on the live server; collects script errors."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="ar-SA", timezone_id="Asia/Riyadh")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page, live_server.url, errors
    context.close()


def pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def no_horizontal_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} is {width}px wide"


def test_apply_track_on_a_phone(phone, tmp_path, app):
    page, base, errors = phone
    id_photo = tmp_path / "id.png"
    id_photo.write_bytes(png_bytes(40, 30))
    card = tmp_path / "family-card.pdf"
    card.write_bytes(PDF)

    page.goto(base + "/site/")
    no_horizontal_scroll(page)
    page.get_by_role("link", name="تقديم طلب دعم").first.click()
    page.get_by_role("link", name="ابدأ").click()
    wait_for_page(page, "**/site/apply/applicant")
    no_horizontal_scroll(page)

    # a wrong check digit: the error is tied to the field and the field has the focus
    page.get_by_label("الاسم الأول").fill("فاطمة")
    page.get_by_label("اسم الأب").fill("سعيد")
    page.get_by_label("اسم العائلة").fill("الزهراني")
    page.get_by_label("رقم الهوية الوطنية أو الإقامة").fill("1000000009")
    page.get_by_label("الجوال").fill("0551234567")
    page.get_by_label("الجنس").select_option("f")
    page.get_by_label("تاريخ الميلاد").fill("1405-03-14")
    page.get_by_label("المدينة").fill("مكة المكرمة")
    page.get_by_role("button", name="حفظ ومتابعة").click()
    page.wait_for_selector("#e-national_id")
    htmx_settled(page)
    page.wait_for_function("document.activeElement && document.activeElement.id === 'f-national_id'")
    assert page.get_attribute("#f-national_id", "aria-describedby").startswith("e-national_id")
    assert page.input_value("#f-first_name") == "فاطمة"  # what was typed is kept
    no_horizontal_scroll(page)

    page.get_by_label("رقم الهوية الوطنية أو الإقامة").fill("1000000008")
    page.get_by_role("button", name="حفظ ومتابعة").click()
    wait_for_page(page, "**/site/apply/household")
    code = page.inner_text(".code-box")
    assert len(code.replace("-", "")) == 10
    no_horizontal_scroll(page)
    page.get_by_label("ما الذي يصف حالتك أكثر؟").select_option("widow")
    page.get_by_label("السكن").select_option("rented")
    page.get_by_label("الاسم", exact=True).fill("سارة")
    page.get_by_label("صلة القرابة").select_option("daughter")
    page.get_by_role("button", name="حفظ ومتابعة").click()
    wait_for_page(page, "**/site/apply/request")
    if os.environ.get("WEBSITE_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["WEBSITE_SCREENSHOTS"], "request.png"), full_page=True)

    page.get_by_label("نوع الطلب").select_option("food_basket")
    page.wait_for_selector("text=عدد أفراد الأسرة")  # the type's question arrived (htmx swap)
    htmx_settled(page)
    page.get_by_label("صف حاجتك باختصار").fill("نحتاج سلة غذائية شهرية")
    page.get_by_label("عدد أفراد الأسرة").fill("4")
    no_horizontal_scroll(page)
    page.get_by_role("button", name="حفظ ومتابعة").click()
    wait_for_page(page, "**/site/apply/documents")

    page.set_input_files("#f-doc_national_id", str(id_photo))
    page.set_input_files("#f-doc_family_card", str(card))
    no_horizontal_scroll(page)
    page.get_by_role("button", name="حفظ ومتابعة").click()
    wait_for_page(page, "**/site/apply/declaration")
    assert "مسؤول مسؤولية مباشرة" in page.inner_text("#declaration-text")
    page.get_by_label("قرأت الإقرار").check()
    page.get_by_label("أوافق على معالجة بياناتي").check()
    page.get_by_role("button", name="حفظ ومتابعة").click()
    wait_for_page(page, "**/site/apply/review")
    assert "family-card.pdf" in page.content() and "id.png" in page.content()
    page.get_by_role("button", name="إرسال طلبي").click()
    wait_for_page(page, "**/site/apply/done")
    reference = page.inner_text("#reference").strip()
    assert reference.count("-") == 1 and len(reference) == 11
    assert "الرد المتوقع بحلول" in page.inner_text("main")
    no_horizontal_scroll(page)

    # the acknowledgement as a PDF letter when the letters plugin is enabled (none offered without it), then printable
    pdf_link = page.get_by_role("link", name="تحميل إشعار الاستلام (PDF)")
    if app.extensions["portal_pm"].has_plugin("letters"):
        with page.expect_download() as download_info:
            pdf_link.click()
        download = download_info.value
        saved = tmp_path / "ack.pdf"
        download.save_as(saved)
        assert download.suggested_filename.endswith(".pdf") and saved.read_bytes().startswith(b"%PDF-")
        assert reference in pdf_text(saved.read_bytes())
    else:
        assert pdf_link.count() == 0
    page.get_by_role("link", name="إشعار الاستلام للطباعة").click()
    wait_for_page(page, "**/site/apply/acknowledgement")
    assert reference in page.inner_text("main") and "إشعار استلام" in page.inner_text("h1")
    no_horizontal_scroll(page)

    # track it from a fresh visit with the reference and the full ID number (no sender in the live app,
    # so no one-time code)
    # ... by keyboard alone: the skip link first, then the fields in order, Enter sends
    page.context.clear_cookies()
    page.goto(base + "/site/track")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.focus("#f-reference")
    page.keyboard.type(reference)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-national_id"
    page.keyboard.type("1000000008")
    page.keyboard.press("Enter")
    wait_for_page(page, "**/site/track/status")
    main = page.inner_text("main")
    assert reference in main and "الرد المتوقع بحلول" in main and "هـ" in main
    no_horizontal_scroll(page)
    # 404 (favicon) and 422 (the deliberate mistake above) are responses, not script errors
    # (full-page screenshots make Playwright apply an inline style, which the CSP reports)
    shots = bool(os.environ.get("WEBSITE_SCREENSHOTS"))
    assert not [e for e in errors if not e.startswith("Failed to load resource")
                and not (shots and "inline style" in e)], errors
    if os.environ.get("WEBSITE_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["WEBSITE_SCREENSHOTS"], "track.png"), full_page=True)

    from portal.models import Case, TimelineEntry

    with app.app_context(), database.connection_context():
        case = Case.get(Case.reference == reference)
        assert case.status == "submitted"
        channels = {e.channel for e in TimelineEntry.select().where(TimelineEntry.case == case.id)}
        assert "website" in channels
