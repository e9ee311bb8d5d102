"""Bidirectional text: references, phone numbers, IDs and dates are isolated on the main staff pages
in Arabic; the plain-text helpers; references typed in any form are found."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from bidi_check import bare_tokens
from conftest import PASSWORD, luhn_id, registered, text_of

from portal.db import database
from portal.text import FSI, PDI, isolate, isolate_tokens, normalize_reference

REF = "1448-000107"


# ---------------------------------------------------------------- the checker itself

def test_the_checker_catches_a_planted_bare_token():
    page = ("<html><head><title>\u2068" + REF + "\u2069 — صلة</title></head><body>"
            "<p>الطلب <bdi>" + REF + "</bdi> للمستفيد <span dir=\"ltr\">+966 55 123 4567</span>"
            "<input value=\"" + REF + "\"> بتاريخ <time><bdi>1448-09-01</bdi></time></p></body></html>")
    assert bare_tokens(page) == []
    for planted, kind in ((REF, "reference"), ("000107-1448", "reference"), ("+966551234567", "phone"),
                          ("055 123 4567", "phone"), ("1044556677", "id"), ("1448-09-01", "date"),
                          ("YYYY-MM-DD", "date")):
        found = bare_tokens(page.replace("</body>", f"<p>رقم {planted} هنا</p></body>"))
        assert len(found) == 1 and found[0].startswith(kind), (planted, found)
    # An isolate that was closed does not cover what follows it.
    assert bare_tokens("<p><bdi>x</bdi> " + REF + "</p>")
    assert bare_tokens("<title>" + REF + "</title>")


# ---------------------------------------------------------------- plain-text helpers

def test_isolate_wraps_once():
    assert isolate(REF) == FSI + REF + PDI
    assert isolate(isolate(REF)) == FSI + REF + PDI
    assert isolate("") == "" and isolate(None) == ""


def test_isolate_tokens_wraps_every_token_once():
    text = f"طلبك {REF} بتاريخ 1448-09-01، اتصل على +966551234567 أو 0551234567، رابط https://x.sa/t/ab12."
    once = isolate_tokens(text)
    for token in (REF, "1448-09-01", "+966551234567", "0551234567", "https://x.sa/t/ab12"):
        assert FSI + token + PDI in once
    assert isolate_tokens(once) == once
    assert once.endswith(PDI + ".")  # the sentence's full stop stays outside the link


@pytest.mark.parametrize("typed, expected", [
    (REF, REF), ("000107-1448", REF), ("١٤٤٨-٠٠٠١٠٧", REF), ("۰۰۰۱۰۷-۱۴۴۸", REF), (" 1448 - 000107 ", REF),
    ("\u200f000107-1448\u200f", REF), ("\u2068" + REF + "\u2069", REF), ("1448–000107", REF), ("1448\u2212000107", REF),
    ("1448 000107", REF), ("q1448-000012", "Q1448-000012"), ("Q-1448-000012", "Q1448-000012"),
    ("000012-1448Q", "Q1448-000012"),
])
def test_a_reference_is_understood_in_any_typed_form(typed, expected):
    assert normalize_reference(typed) == expected


@pytest.mark.parametrize("typed", ["", "abc", "1448-12", "14481-000001", "1448000107", "1448_000107", "<script>",
                                   "1448-000107-1", "QQ1448-000012"])
def test_anything_else_is_not_a_reference(typed):
    assert normalize_reference(typed) == ""


# ---------------------------------------------------------------- the pages

@pytest.fixture
def bidi_world(app, users):
    """A file with a request, calls, an outreach task and a letter whose texts hold references, phone
    numbers, IDs and dates, as staff type them."""
    from plugins.letters.models import Letter
    from plugins.phone.models import PhoneCall
    from portal import beneficiaries_service as service
    from portal.models import Case, User
    from portal.timeline import log_entry
    from portal.workflow.models import OutreachTask

    today = dt.date.today()
    with app.test_request_context(), database.connection_context():
        officer = User.get_by_id(users["officer"])
        res = service.validate({
            "first_name": "نورة", "father_name": "سعد", "family_name": "القحطاني", "national_id": luhn_id("104455667"),
            "gender": "f", "mobile": "0551234567", "city": "الطائف", "branch": "TAIF", "consent_data": "1",
            "id_expiry": (today + dt.timedelta(days=20)).isoformat(), "category": "widow",
            "notes": f"تتابع الطلب {REF} وتتصل من +966501112233 وهويتها 1044556677 تنتهي 1448-09-01",
        })
        assert res.ok, res.errors
        ben = service.create(res.values, actor=officer)
        case = Case.create(reference=REF, beneficiary=ben, request_type="food_basket", status="submitted",
                           created_by=officer, summary=f"سلة غذائية، سبق الطلب 1447-000099 بتاريخ 1447-05-01")
        entry = log_entry(channel="phone", beneficiary=ben, case=case, actor=officer, direction="in",
                          summary=f"اتصلت تسأل عن الطلب {REF} من 0501112233",
                          body=f"رقم الهوية 1044556677، موعد الزيارة 1448-09-01، الجوال +966501112233")
        # the phone plugin records a call logged this way in its log; give it the number and the duration
        PhoneCall.update(number="+966501112233", duration=65).where(PhoneCall.entry == entry.id).execute()
        PhoneCall.create(source="cti", direction="in", number="+966509998877", state="ended", missed=True)
        OutreachTask.create(beneficiary=ben, case=case, kind="id_expiry", due=today, key="bidi-1",
                            reason=f"تجديد الهوية 1044556677 قبل 1448-09-01 للطلب {REF}")
        Letter.create(number="ص-1448-000003", hijri_year=1448, sequence=3, beneficiary=ben, case=case,
                      recipient="نورة سعد القحطاني", subject=f"تعريف بالطلب {REF}", pdf_sha256="0" * 64,
                      pdf_size=1000, verify_code="ABCD1234", issued_by=officer)
    return {"ben": ben.id}


STAFF_PAGES = [
    ("dashboard", "officer", "/"),
    ("beneficiary list", "officer", "/beneficiaries/"),
    ("search by reference", "officer", f"/beneficiaries/?q={REF}"),
    ("search by reversed reference", "officer", "/beneficiaries/?q=000107-1448"),
    ("search by mobile", "officer", "/beneficiaries/?q=%2B966551234567"),
    ("profile with timeline", "officer", "/beneficiaries/{ben}"),
    ("timeline page", "officer", "/beneficiaries/{ben}/timeline"),
    ("request page", "officer", f"/cases/{REF}"),
    ("printable request form", "officer", f"/cases/{REF}/request-form"),
    ("cases list", "officer", "/cases/"),
    ("outreach queue", "officer", "/outreach/"),
    ("calls log", "officer", "/phone/"),
    ("letters registry", "officer", "/letters/"),
    ("new contact form", "officer", "/beneficiaries/new"),
]


@pytest.mark.parametrize("name, role, url", STAFF_PAGES, ids=[p[0] for p in STAFF_PAGES])
def test_staff_pages_in_arabic_isolate_every_token(client, bidi_world, name, role, url):
    assert client.post("/login", data={"username": role, "password": PASSWORD}).status_code == 302
    response = client.get(url.format(ben=bidi_world["ben"]))
    assert response.status_code == 200, (name, response.status_code)
    html = response.get_data(as_text=True)
    assert 'dir="rtl"' in html
    assert bare_tokens(html) == [], name


def test_a_search_by_reference_in_any_form_finds_the_file(client, bidi_world):
    assert client.post("/login", data={"username": "officer", "password": PASSWORD}).status_code == 302
    for typed in (REF, "000107-1448", "١٤٤٨-٠٠٠١٠٧", "\u200f000107 - 1448"):
        assert "نورة سعد القحطاني" in text_of(client.get("/beneficiaries/", query_string={"q": typed})), typed


def test_flash_messages_isolate_references(client, users, make_beneficiary, app):
    from portal.models import Case, User

    ben_id = make_beneficiary()
    with app.app_context(), database.connection_context():
        Case.create(reference=REF, beneficiary=ben_id, request_type="food_basket", status="submitted",
                    created_by=User.get_by_id(users["officer"]))
    assert client.post("/login", data={"username": "officer", "password": PASSWORD}).status_code == 302
    with client.session_transaction() as sess:
        sess["_flashes"] = [("success", f"تم فتح الطلب {REF} للمستفيد 0551234567.")]
    html = client.get("/").get_data(as_text=True)
    assert f'<bdi dir="ltr">{REF}</bdi>' in html and bare_tokens(html) == []


def test_messages_to_beneficiaries_isolate_references(app, users, make_beneficiary):
    from portal import hookimpl
    from portal.models import Beneficiary, Case, TimelineEntry
    from portal.workflow.notify import notify

    sent = []

    class Outbox:
        @hookimpl
        def send_message(self, beneficiary, text, purpose, channel, context):
            sent.append(text)
            return {"channel": "phone", "id": "1"}

    with registered(app, Outbox(), "bidi-outbox"):
        ben_id = make_beneficiary(consent_contact=True)  # a notice goes only with contact consent
        with app.test_request_context(), database.connection_context():
            ben = Beneficiary.get_by_id(ben_id)
            case = Case.create(reference=REF, beneficiary=ben, request_type="food_basket", status="submitted")
            notify(ben, f"وصل طلبك رقم {REF} ونرد قبل 1448-09-01.", "test", case=case)
            body = TimelineEntry.select().order_by(TimelineEntry.id.desc()).first().body
    assert sent == [f"وصل طلبك رقم {FSI}{REF}{PDI} ونرد قبل {FSI}1448-09-01{PDI}."]
    assert body == sent[0]


def test_free_text_reads_in_its_own_direction(app, client, bidi_world, users):
    from portal.models import Beneficiary, User
    from portal.timeline import log_entry

    with app.test_request_context(), database.connection_context():
        log_entry(channel="phone", beneficiary=Beneficiary.get_by_id(bidi_world["ben"]), direction="in",
                  actor=User.get_by_id(users["officer"]), summary="Asked about the food basket (English speaker)")
    assert client.post("/login", data={"username": "officer", "password": PASSWORD}).status_code == 302
    html = client.get(f"/beneficiaries/{bidi_world['ben']}").get_data(as_text=True)
    assert '<bdi dir="auto">Asked about the food basket (English speaker)</bdi>' in html
    form = client.get("/beneficiaries/new").get_data(as_text=True)
    first_name = re.search(r'<input id="f-first_name"[^>]*>', form).group(0)
    mobile = re.search(r'<input id="f-mobile"[^>]*>', form).group(0)
    assert 'dir="auto"' in first_name and 'dir="ltr"' in mobile and 'dir="auto"' not in mobile


def test_status_change_arrows_follow_the_reading_direction(app):
    from flask import render_template_string

    with app.test_request_context("/"):
        assert render_template_string("{{ arrow }}") == "←"
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        assert render_template_string("{{ arrow }}") == "→"


def test_the_letters_lookup_accepts_the_reference_in_any_form(app, bidi_world):
    from plugins.letters.views import find_subject

    with app.test_request_context(), database.connection_context():
        for typed in (REF, "٠٠٠١٠٧-١٤٤٨", "\u200f000107 – 1448"):
            ben, case = find_subject(typed)
            assert case is not None and case.reference == REF and ben.id == bidi_world["ben"], typed
