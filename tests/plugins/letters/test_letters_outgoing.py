"""Outgoing letters: built-in templates, PDF text in logical order, numbering, timeline, verification."""
from __future__ import annotations

import io
import re

import pytest
from letters_helpers import make_case, pdf_text, text_of  # noqa: F401  (make_case is a fixture)

from portal.db import database



def _letters():
    from plugins.letters.models import Letter

    return Letter


def issue(client, **form):
    return client.post("/letters/issue", data=form)


def issue_decision_letter(app, client, auth, make_case):
    """An officer issues the approval letter of a new request; the stored letter."""
    make_case()
    auth.login("officer")
    assert issue(client, template="decision_approved", ref="1448-000001").status_code == 303
    with app.app_context(), database.connection_context():
        return _letters().get()


def test_officer_issues_decision_letter_from_a_case(app, client, auth, make_case):
    from portal.models import TimelineEntry

    case_id = make_case(status="approved", reasons="استيفاء الشروط")
    auth.login("officer")
    response = issue(client, template="decision_approved", ref="1448-000001")
    assert response.status_code == 303, text_of(response)
    Letter = _letters()
    with app.app_context(), database.connection_context():
        letter = Letter.get()
        assert re.fullmatch(r"ص-\d{4}-000001", letter.number)
        assert letter.case_id == case_id and letter.status == "valid"
        entry = TimelineEntry.get(TimelineEntry.channel == "letters")
        assert entry.direction == "out" and entry.data["number"] == letter.number
        hijri_year = letter.hijri_year
    pdf = client.get(f"/letters/out/{letter.id}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    text = pdf_text(pdf.data)
    for words in ("قرار لجنة البحث", "الموافقة على طلبكم", "السيدة", "المحترمة", "سارة عبدالله سعد الحربي",
                  "1,500.00", "ريال", "صفحة", "جمعية مراكز الأحياء"):
        assert words in text, words
    assert re.search(rf"{hijri_year}/\d\d/\d\d", text), "numeric Hijri date"
    assert "هـ" in text
    assert "1448-000001" in text


@pytest.mark.parametrize("key,extra,expected", [
    ("acknowledgement", {}, ["استلمت طلبكم", "الموعد المتوقع للرد"]),
    ("missing_documents", {"missing_documents": "صك الإعالة\nتعريف بالراتب", "deadline": "1448-07-01"},
     ["صك الإعالة", "تعريف بالراتب", "المستندات"]),
    ("research_referral", {}, ["الباحث الاجتماعي", "مستخدم"]),
    ("decision_approved", {}, ["الموافقة"]),
    ("decision_rejected", {}, ["الاعتذار", "دخل الأسرة يتجاوز الحد"]),
    ("service_delivery", {"service": "سلة غذائية", "delivery_date": "2026-12-01"}, ["سلة غذائية", "الهوية الوطنية"]),
    ("general", {"subject_text": "دعوة لحضور لقاء", "body_text": "ندعوكم لحضور لقاء المستفيدين."},
     ["دعوة لحضور لقاء", "لقاء المستفيدين"]),
])
def test_each_builtin_letter_renders_arabic_in_logical_order(app, client, auth, make_case, key, extra, expected):
    make_case(status="rejected", reasons="دخل الأسرة يتجاوز الحد")
    auth.login("officer")
    response = issue(client, template=key, ref="1448-000001", **extra)
    assert response.status_code == 303, text_of(response)
    with app.app_context(), database.connection_context():
        letter = _letters().get()
    text = pdf_text(client.get(f"/letters/out/{letter.id}/pdf").data)
    for words in expected + ["السلام عليكم ورحمة الله وبركاته", "وتقبلوا خالص التحية والتقدير"]:
        assert words in text, (key, words)
    assert re.search(r"\d{4}/\d\d/\d\d", text)


def test_missing_merge_field_blocks_issue_and_names_the_field(app, client, auth, make_case):
    make_case(status="rejected", reasons="")  # a rejection letter needs the reasons
    auth.login("officer")
    response = issue(client, template="decision_rejected", ref="1448-000001", recipient="")
    assert response.status_code == 422
    assert "decision_reasons" in text_of(response)
    with app.app_context(), database.connection_context():
        from portal.models import Counter

        assert _letters().select().count() == 0
        assert Counter.get_or_none(Counter.name.startswith("letters_out_")) is None


def test_required_extra_fields_and_form_keeps_input(client, auth, make_case):
    make_case()
    auth.login("officer")
    response = issue(client, template="service_delivery", ref="1448-000001", service="سلة", delivery_date="1448-13-01")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "سلة" in page and "1448-13-01" in page
    assert 'aria-invalid="true"' in page


def test_unknown_reference_is_refused(client, auth, users):
    auth.login("officer")
    response = issue(client, template="general", ref="1448-999999", subject_text="x", body_text="y")
    assert response.status_code == 422


def test_letter_to_another_recipient(app, client, auth, make_case):
    make_case()
    auth.login("officer")
    response = issue(client, template="general", ref="1448-000001", recipient="مدير مدرسة الفلاح",
                     subject_text="إفادة", body_text="نفيد بأن الطالبة من المستفيدين.")
    assert response.status_code == 303
    with app.app_context(), database.connection_context():
        letter = _letters().get()
        assert letter.recipient == "مدير مدرسة الفلاح" and letter.recipient_initials == "م. ف."
    assert "مدير مدرسة الفلاح" in pdf_text(client.get(f"/letters/out/{letter.id}/pdf").data)


def test_verification_page_public_valid_revoked_and_not_found(app, client, auth, make_case):
    letter = issue_decision_letter(app, client, auth, make_case)
    client.get("/letters/")  # shows (and clears) the flash message
    auth.logout()
    url = f"/letters/verify/{letter.number}?c={letter.verify_code}"
    page = client.get(url)
    assert page.status_code == 200
    text = text_of(page)
    assert letter.number in text and "س. ح." in text
    assert "سارة" not in text and "الحربي" not in text  # no personal data: initials only
    assert client.get(f"/letters/verify/{letter.number}?c=wrong").status_code == 404
    altered = letter.number[:-1] + ("2" if letter.number[-1] != "2" else "3")
    assert client.get(f"/letters/verify/{altered}?c={letter.verify_code}").status_code == 404
    assert client.get(f"/letters/verify?number={letter.number}&c={letter.verify_code}").status_code == 302
    # the QR code in the PDF carries the same address
    auth.login("manager")
    assert client.post(f"/letters/out/{letter.id}/revoke", data={"reason": "خطأ في المبلغ"}).status_code == 303
    auth.logout()
    revoked = client.get(url)
    assert revoked.status_code == 200 and ("ملغى" in text_of(revoked) or "Revoked" in text_of(revoked))


def test_reissue_gets_new_number_pointing_to_old_and_old_pdf_unchanged(app, client, auth, make_case):
    make_case()
    auth.login("officer")
    issue(client, template="decision_approved", ref="1448-000001")
    Letter = _letters()
    with app.app_context(), database.connection_context():
        old = Letter.get()
    old_pdf = client.get(f"/letters/out/{old.id}/pdf").data
    response = client.post(f"/letters/out/{old.id}/reissue")
    assert response.status_code == 303
    with app.app_context(), database.connection_context():
        new = Letter.get(Letter.id != old.id)
        assert new.replaces_id == old.id and new.number != old.number and new.sequence == old.sequence + 1
        assert Letter.get_by_id(old.id).status == "revoked"
    assert client.get(f"/letters/out/{old.id}/pdf").data == old_pdf
    assert client.post(f"/letters/out/{old.id}/reissue").status_code == 303  # refused with a message
    with app.app_context(), database.connection_context():
        assert Letter.select().count() == 2


def test_decision_letter_issued_on_case_status_change(app, make_case, users):
    from portal.models import Case, TimelineEntry, User
    from portal.plugins import get_pm

    ok_id = make_case(status="awaiting_committee")
    bad_id = make_case(status="awaiting_committee", reasons="")
    with app.test_request_context(), database.connection_context():
        actor = User.get_by_id(users["committee"])
        for case_id, new in ((ok_id, "approved"), (bad_id, "rejected")):
            with database.atomic():
                case = Case.get_by_id(case_id)
                Case.update(status=new).where(Case.id == case_id).execute()
                get_pm().hook.case_status_changed(case=Case.get_by_id(case_id), old="awaiting_committee", new=new,
                                                   actor=actor)
        Letter = _letters()
        assert [letter.case_id for letter in Letter.select()] == [ok_id]
        note = TimelineEntry.get((TimelineEntry.case == bad_id) & (TimelineEntry.channel == "letters"))
        assert note.direction == "internal" and "decision_reasons" in note.summary
        assert Case.get_by_id(bad_id).status == "rejected"  # the transition itself went through


def test_timeline_shows_letter_entries(app, client, auth, make_case):
    letter = issue_decision_letter(app, client, auth, make_case)
    page = client.get(f"/beneficiaries/{letter.beneficiary_id}")
    assert letter.number in page.get_data(as_text=True)
    assert f"/letters/out/{letter.id}/pdf" in page.get_data(as_text=True)


def test_registry_filters_and_csv(app, client, auth, make_case, make_beneficiary):
    make_case()
    auth.login("officer")
    issue(client, template="decision_approved", ref="1448-000001")
    issue(client, template="general", recipient="مستشفى الملك فيصل", subject_text="طلب تقرير", body_text="نأمل تزويدنا.")
    page = client.get("/letters/")
    assert page.status_code == 200 and "طلب تقرير" in text_of(page)
    assert "طلب تقرير" not in text_of(client.get("/letters/?beneficiary=الحربي"))
    assert client.get("/letters/?from=1448-13-01").status_code == 422
    csv = client.get("/letters/outgoing.csv?status=valid")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    body = csv.get_data(as_text=True)
    assert body.count("\n") == 3 and "مستشفى الملك فيصل" in body
    from openpyxl import load_workbook

    xlsx = client.get("/letters/outgoing.xlsx?status=valid")
    ws = load_workbook(io.BytesIO(xlsx.get_data())).active
    rows = list(ws.values)
    assert ws.sheet_view.rightToLeft and len(rows) == 3 and any("مستشفى الملك فيصل" in str(c) for c in rows[1] + rows[2])
    assert rows[0][1] == "تاريخ الإصدار (ميلادي)" and rows[0][2] == "تاريخ الإصدار (هجري)"


def test_api_issue_and_download(app, client, users, make_case):
    from portal.api import create_token
    from portal.models import User

    make_case()
    with app.app_context(), database.connection_context():
        token = create_token(User.get_by_id(users["officer"]))
    headers = {"Authorization": f"Bearer {token}"}
    bad = client.post("/api/v1/letters", json={"template": "nope", "case": "1448-000001", "x": 1}, headers=headers)
    assert bad.status_code == 422 and set(bad.json["fields"]) == {"x"}
    bad = client.post("/api/v1/letters", json={"template": "nope", "case": "1448-000001"}, headers=headers)
    assert bad.status_code == 422 and "template" in bad.json["fields"]
    bad = client.post("/api/v1/letters", json={"template": "service_delivery", "case": "1448-000001"}, headers=headers)
    assert bad.status_code == 422 and "fields.service" in bad.json["fields"]
    ok = client.post("/api/v1/letters", json={"template": "decision_approved", "case": "1448-000001"}, headers=headers)
    assert ok.status_code == 201, ok.json
    number = ok.json["number"]
    pdf = client.get(f"/api/v1/letters/{number}.pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get(f"/api/v1/letters/{number}.pdf").status_code == 401
    assert client.get("/api/v1/letters/ص-1400-000001.pdf", headers=headers).status_code == 404
    spec = client.get("/api/v1/openapi.json").json
    assert "/letters" in spec["paths"] and "/letters/{number}.pdf" in spec["paths"]


def test_arabic_catalog_is_complete_and_used(client, auth, repo_root):
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    plugin = repo_root / "plugins" / "letters"
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.do"}}
    keywords = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None}
    wanted = {msg[2] for msg in extract_from_dir(str(plugin), method_map, options, keywords=keywords)
              if isinstance(msg[2], str) and msg[2]}
    with open(plugin / "translations" / "ar" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        catalog = read_po(fh)
    translated = {m.id for m in catalog if m.id and m.string}
    assert not sorted(wanted - translated), "untranslated letters strings"
    auth.login("officer")
    assert "سجل الصادر" in text_of(client.get("/letters/"))
    assert "Outgoing registry" in text_of(client.get("/letters/?lang=en"))


def test_strings_shared_with_the_core_keep_the_core_wording(repo_root):
    """Catalogs are merged: a different translation here would change the core's screens."""
    from babel.messages.pofile import read_po

    with open(repo_root / "portal" / "translations" / "ar" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        core = read_po(fh)
    with open(repo_root / "plugins" / "letters" / "translations" / "ar" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        mine = read_po(fh)
    differing = [m.id for m in mine if m.id and core.get(m.id) and core.get(m.id).string
                 and core.get(m.id).string != m.string]
    assert not differing
