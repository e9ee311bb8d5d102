"""Apply online: the whole flow without JavaScript, drafts and resume codes, duplicates, double
submission, validation with accessible errors."""
from __future__ import annotations

import re

from conftest import PASSWORD, text_of
from website_helpers import (  # noqa: F401  (fixtures)
    APPLICANT, PDF, app_config, start_application, apply_fully, apply_until_documents, error_ids, outbox, png_bytes, types, upload,
)

from portal.db import database


def _case(app, national_id="1000000008"):
    from portal.models import Beneficiary, Case

    with app.app_context(), database.connection_context():
        return Case.select(Case, Beneficiary).join(Beneficiary).where(Beneficiary.national_id == national_id).first()


def test_apply_with_two_documents_is_submitted(app, client, types, outbox):
    r = apply_fully(client, app)
    assert r.status_code == 302 and r.headers["Location"].endswith("/site/apply/done")
    case = _case(app)
    assert case.status == "submitted" and case.channel == "website" and case.request_type == "food_basket"
    done = client.get("/site/apply/done")
    page = text_of(done)
    assert case.reference in page
    assert "الرد المتوقع بحلول" in page
    assert re.search(r"هـ", page) and "م" in page  # Hijri beside Gregorian
    # the reference went out through send_message, in Arabic
    sent = outbox.by_purpose("case_reference")
    assert len(sent) == 1 and case.reference in sent[0]["text"]
    ack = client.get("/site/apply/acknowledgement")
    assert ack.status_code == 200 and case.reference in text_of(ack)
    # the file, the documents, the declaration, the timeline
    from portal.models import Beneficiary, Document, HouseholdMember, TimelineEntry
    from portal.workflow.models import Declaration

    with app.app_context(), database.connection_context():
        ben = Beneficiary.get(Beneficiary.national_id == "1000000008")
        assert ben.status == "applicant" and ben.mobile == "+966551234567" and ben.category == "widow"
        assert HouseholdMember.select().where(HouseholdMember.beneficiary == ben).count() == 1
        kinds = {d.kind for d in Document.select().where(Document.case == case.id)}
        assert kinds == {"national_id", "family_card"}
        decl = Declaration.get(Declaration.case == case.id)
        assert decl.method == "self_tick" and decl.channel == "website" and decl.witness_id is None
        website = [e for e in TimelineEntry.select().where(TimelineEntry.beneficiary == ben)
                   if e.channel == "website"]
        assert any((e.data or {}).get("kind") == "website_application" for e in website)
    # tracking is open for this browser right away
    status = client.get("/site/track/status")
    assert status.status_code == 200 and case.reference in text_of(status)


def test_missing_documents_make_the_request_incomplete(app, client, types, outbox):
    r = apply_fully(client, app, documents=("national_id",))
    assert r.status_code == 302
    case = _case(app)
    assert case.status == "incomplete"
    assert [m["kind"] for m in case.missing_documents] == ["family_card"]
    page = text_of(client.get("/site/apply/done"))
    assert "سجل الأسرة" in page
    assert outbox.by_purpose("missing_documents")


def test_double_submit_creates_one_request(app, client, types, outbox):
    apply_fully(client, app)
    from portal.models import Case

    # the same form posted again (a double click or a second tab)
    again = client.post("/site/apply/review", data={"action": "submit"})
    assert again.status_code == 302
    with app.app_context(), database.connection_context():
        assert Case.select().count() == 1


def test_submitting_the_same_draft_twice_in_the_service_returns_the_first_request(app, client, types, outbox):
    from plugins.website import workflow_bridge
    from plugins.website.models import ApplicationDraft
    from portal.models import Case

    apply_until_documents(client, app)
    client.post("/site/apply/documents", data={}, content_type="multipart/form-data")
    client.post("/site/apply/declaration", data={"accepted": "1", "consent": "1"})
    with app.test_request_context(), database.connection_context():
        draft = ApplicationDraft.select().get()
        first = workflow_bridge.submit_application(draft)
        second = workflow_bridge.submit_application(ApplicationDraft.get_by_id(draft.id))
        assert first.case.id == second.case.id
        assert Case.select().count() == 1


def test_an_open_request_is_not_revealed_to_a_second_applicant(app, client, types, outbox):
    """The ID of someone with an open request: the first step goes on as for anybody; at the end the
    application waits for an officer and the reference goes only to the registered mobile."""
    apply_fully(client, app)
    case = _case(app)
    first_step = start_application(app.test_client())
    assert first_step.status_code == 302 and first_step.headers["Location"].endswith("/site/apply/household")
    assert case.reference not in first_step.get_data(as_text=True)
    other = app.test_client()
    r = apply_fully(other, app)
    assert r.status_code == 302 and r.headers["Location"].endswith("/site/apply/done")
    done = other.get("/site/apply/done")
    assert case.reference not in done.get_data(as_text=True)
    assert "سنتواصل معك على الجوال المسجل" in text_of(done)
    from plugins.website.models import PendingApplication
    from portal.models import Case

    with app.app_context(), database.connection_context():
        assert Case.select().count() == 1  # nothing joined the file yet
        assert PendingApplication.select().where(PendingApplication.status == "pending").count() == 1
    told = outbox.by_purpose("website_application_pending")
    assert len(told) == 1 and case.reference in told[0]["text"] and told[0]["beneficiary"] == case.beneficiary_id


def test_wrong_check_digit_keeps_the_form_and_ties_the_error(app, client, types):
    r = start_application(client, {"national_id": "1000000009", "first_name": "<script>alert(1)</script>"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert error_ids(html) == ["national_id"]
    field = re.search(r'<input id="f-national_id"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in field and 'aria-describedby="e-national_id' in field and "autofocus" in field
    assert 'value="1000000009"' in field
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html


def test_honeypot_and_minimum_time(app, app_config, client, types):
    r = start_application(client, {"website_url": "http://spam.example"})
    assert r.status_code == 422
    r = client.post("/site/apply/applicant", data=APPLICANT)  # no stamp: not from our form
    assert r.status_code == 422
    app.config["WEBSITE_MIN_FILL_SECONDS"] = 60
    r = start_application(client)  # sent within a second of getting the form
    assert r.status_code == 422 and ("too quickly" in text_of(r) or "بسرعة" in text_of(r))
    from plugins.website.models import ApplicationDraft

    with app.app_context(), database.connection_context():
        assert ApplicationDraft.select().count() == 0


def test_resume_with_code_from_another_device(app, client, types):
    from plugins.website.drafts import CODE_LENGTH

    start_application(client)
    client.post("/site/apply/household", data={"category": "widow", "housing": "owned"})
    page = client.get("/site/apply/request").get_data(as_text=True)
    code = re.search(r'class="code-box">([A-Z0-9-]+)<', page).group(1)
    assert len(code.replace("-", "")) == CODE_LENGTH
    phone = app.test_client()
    wrong = phone.post("/site/apply/resume", data={"code": code, "national_id": "1234567897"})
    assert wrong.status_code == 422
    bad = phone.post("/site/apply/resume", data={"code": "AAAAA-BBBBB", "national_id": APPLICANT["national_id"]})
    assert bad.status_code == 422
    ok = phone.post("/site/apply/resume", data={"code": code.lower(), "national_id": APPLICANT["national_id"]})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/site/apply/request")
    back = phone.get("/site/apply/household")
    assert 'value="owned" selected' in back.get_data(as_text=True).replace("\n", "")


def test_expired_draft_cannot_be_resumed(app, client, types):
    import datetime as dt

    from plugins.website.models import ApplicationDraft

    start_application(client)
    code = re.search(r'class="code-box">([A-Z0-9-]+)<', client.get("/site/apply/household").get_data(as_text=True)).group(1)
    with app.app_context(), database.connection_context():
        ApplicationDraft.update(expires_at=dt.datetime(2000, 1, 1)).execute()
    r = app.test_client().post("/site/apply/resume", data={"code": code, "national_id": APPLICANT["national_id"]})
    assert r.status_code == 422


def test_autosave_keeps_typing_without_validation(app, client, types):
    start_application(client)
    r = client.post("/site/apply/household", data={"action": "save", "monthly_income": "abc", "category": "widow"},
                    headers={"HX-Request": "true"})
    assert r.status_code == 204
    page = client.get("/site/apply/household").get_data(as_text=True)
    assert 'value="abc"' in page


def test_household_rows_are_added_and_removed_without_javascript(app, client, types):
    start_application(client)
    r = client.post("/site/apply/household", data={"action": "add_member", "m0_name": "علي", "m0_relation": "son"})
    html = r.get_data(as_text=True)
    assert 'name="m1_name"' in html and 'value="علي"' in html
    r = client.post("/site/apply/household", data={"action": "remove_0", "m0_name": "علي", "m1_name": "منى"})
    html = r.get_data(as_text=True)
    assert 'value="منى"' in html and 'value="علي"' not in html


def test_choosing_a_type_shows_its_questions_as_an_htmx_fragment(app, client, types):
    start_application(client)
    client.post("/site/apply/household", data={"category": "widow", "housing": "owned"})
    r = client.post("/site/apply/request", data={"action": "choose", "request_type": "rent"},
                    headers={"HX-Request": "true"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and html.lstrip().startswith('<section class="panel" id="wizard">')
    assert "إنذار بالإخلاء" in html  # the rent type's question


def test_bad_uploads_are_refused_with_a_message(app, client, types):
    apply_until_documents(client, app)
    big = b"\xff\xd8\xff\xe0" + b"0" * (20 * 1024 * 1024)
    r = client.post("/site/apply/documents", data={"doc_national_id": upload(big, "photo.jpg")},
                    content_type="multipart/form-data")
    assert r.status_code == 422 and 'id="e-doc_national_id"' in r.get_data(as_text=True)
    r = client.post("/site/apply/documents", data={"doc_national_id": upload(png_bytes(), "id.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 422 and 'id="e-doc_national_id"' in r.get_data(as_text=True) and ".pdf" in text_of(r)
    r = client.post("/site/apply/documents", data={"doc_national_id": upload(b"MZ\x90\x00 not a document", "id.png")},
                    content_type="multipart/form-data")
    assert r.status_code == 422
    ok = client.post("/site/apply/documents", data={"doc_family_card": upload(PDF, "card.pdf")},
                     content_type="multipart/form-data")
    assert ok.status_code == 302


def test_declaration_and_consent_are_required(app, client, types):
    apply_until_documents(client, app)
    client.post("/site/apply/documents", data={}, content_type="multipart/form-data")
    r = client.post("/site/apply/declaration", data={"consent": "1"})
    assert r.status_code == 422 and error_ids(r.get_data(as_text=True)) == ["accepted"]
    page = client.get("/site/apply/declaration").get_data(as_text=True)
    assert "مسؤول مسؤولية مباشرة" in page  # the workflow's current declaration text


def test_skipping_ahead_is_sent_back(app, client, types):
    r = client.get("/site/apply/review")
    assert r.status_code == 302 and r.headers["Location"].endswith("/site/apply")
    start_application(client)
    r = client.post("/site/apply/review", data={"action": "submit"})
    assert r.status_code == 302 and "/site/apply/household" in r.headers["Location"]


def test_an_existing_file_is_used_not_changed_once_an_officer_confirms(app, client, auth, types, outbox,
                                                                        make_beneficiary):
    ben_id = make_beneficiary(national_id="1000000008", mobile="0509999999")
    apply_fully(client, app)
    from plugins.website.models import PendingApplication
    from portal.models import Beneficiary, Case

    assert _case(app) is None  # waits for an officer
    with app.app_context(), database.connection_context():
        pending = PendingApplication.get()
    officer = app.test_client()
    officer.post("/login", data={"username": "officer", "password": PASSWORD})
    r = officer.post(f"/website/applications/{pending.id}", data={"action": "confirm"})
    assert r.status_code == 302
    case = _case(app)
    with app.app_context(), database.connection_context():
        assert case.beneficiary_id == ben_id and case.channel == "website"
        assert Beneficiary.get_by_id(ben_id).mobile == "+966509999999"
        assert Case.select().count() == 1


def test_english_and_arabic(app, client, types):
    ar = client.get("/site/apply")
    assert '<html lang="ar" dir="rtl">' in ar.get_data(as_text=True)
    en = client.get("/site/apply?lang=en")
    html = en.get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in html and "Apply for support" in html


def test_the_officer_sees_the_application_on_the_timeline(app, client, auth, types, outbox):
    apply_fully(client, app, applicant={"first_name": "<b>فاطمة</b>", "family_name": "\u202eالزهراني",
                                        "district": "<script>x</script>\u202e"})
    case = _case(app)
    from portal.models import Beneficiary

    with app.app_context(), database.connection_context():
        ben = Beneficiary.get_by_id(case.beneficiary_id)
        assert "\u202e" not in ben.family_name + ben.district
    auth.login("officer")
    html = client.get(f"/beneficiaries/{case.beneficiary_id}").get_data(as_text=True)
    assert "طلب مستلم عبر الموقع الإلكتروني" in html
    assert "سارة" in html and "&lt;b&gt;فاطمة&lt;/b&gt;" in html and "<b>فاطمة</b>" not in html
    assert "\u202e" not in html and "<script>x" not in html
    assert case.reference in html


def test_expired_drafts_are_purged_by_the_daily_job(app, client, types):
    import datetime as dt

    from plugins.website.models import ApplicationDraft
    from plugins.website.tasks import purge_expired_drafts

    start_application(client)
    start_application(app.test_client(), {"national_id": "1234567897"})
    with app.app_context(), database.connection_context():
        ApplicationDraft.update(expires_at=dt.datetime(2000, 1, 1)).where(ApplicationDraft.id == 1).execute()
        assert purge_expired_drafts.call_local() == 1
        assert [d.national_id for d in ApplicationDraft.select()] == ["1234567897"]


def test_without_contact_consent_only_the_reference_is_sent(app, client, types, outbox):
    """The applicant did not tick "send me messages": the reference (an answer to their own application) is
    sent, the list of missing documents is not (it stays on the page and the timeline)."""
    from portal.models import TimelineEntry

    apply_fully(client, app, documents=("national_id",), contact=False)
    case = _case(app)
    assert case.status == "incomplete" and case.beneficiary.consent_contact is False
    assert outbox.by_purpose("missing_documents") == []
    with app.app_context(), database.connection_context():
        entry = (TimelineEntry.select().where((TimelineEntry.case == case.id) & (TimelineEntry.direction == "out"))
                 .order_by(TimelineEntry.id.desc()).first())
        assert entry.data["no_consent"] is True and entry.data["purpose"] == "missing_documents"
    page = text_of(client.get("/site/apply/done"))
    assert "سجل الأسرة" in page
