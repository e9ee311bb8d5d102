"""Data protection (PDPL): export, consent history, correction requests, erasure with retention."""
from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from decimal import Decimal

import pytest

from conftest import text_of
from portal.db import database

from pdf_samples import MINIMAL_PDF as PDF  # noqa: E402  (a valid one-page PDF)


def _models():
    from portal import models

    return models


def upload_document(client, ben, name="هوية.pdf", data=PDF, **fields):
    form = {"kind": "national_id", "number": "1000000008", **fields, "file": (io.BytesIO(data), name)}
    response = client.post(f"/beneficiaries/{ben}/documents", content_type="multipart/form-data", data=form)
    assert response.status_code == 302, response.status_code


def decided_case(app, ben, decided_at=None, **extra):
    m = _models()
    with app.app_context(), database.connection_context():
        return m.Case.create(
            reference=f"1448-{ben:06d}", beneficiary=ben, request_type="financial_aid", status="approved",
            decision="approved", decision_reasons="دخل منخفض", amount=Decimal("2500"), summary="يحتاج إيجار الشقة",
            decided_at=decided_at or dt.datetime.now(dt.UTC).replace(tzinfo=None), **extra,
        ).id


@pytest.fixture
def rich_file(app, client, auth, make_beneficiary):
    """A beneficiary with household, a contact, a document and a consent change, made through the screens."""
    ben = make_beneficiary(notes="يسكن قرب المسجد", district="العزيزية", national_address="RRRD2929")
    auth.login("officer")
    client.post(f"/beneficiaries/{ben}/household", data={"name": "محمد سعد الحربي", "relation": "son",
                                                          "national_id": "1000000008"})
    client.post(f"/beneficiaries/{ben}/contacts", data={"channel": "interview", "direction": "in",
                                                         "summary": "اتصل يسأل عن الطلب", "body": "رقمه الآخر 0509999999"})
    upload_document(client, ben)
    client.post(f"/beneficiaries/{ben}/consent", data={"kind": "contact", "granted": "yes", "channel": "phone",
                                                        "note": "موافقة هاتفية"})
    auth.logout()
    return ben


# ---------------------------------------------------------------- export

def test_export_holds_everything(app, client, auth, rich_file):
    auth.login("manager")
    response = client.get(f"/beneficiaries/{rich_file}/export.zip")
    assert response.status_code == 200
    assert response.mimetype == "application/zip" and "no-store" in response.headers["Cache-Control"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    doc = json.loads(archive.read("beneficiary.json"))
    assert doc["beneficiary"]["first_name"] == "سارة" and doc["beneficiary"]["notes"] == "يسكن قرب المسجد"
    assert [m["name"] for m in doc["household"]] == ["محمد سعد الحربي"]
    assert any(e["summary"] == "اتصل يسأل عن الطلب" for e in doc["timeline"])
    assert [(c["kind"], c["granted"], c["channel"]) for c in doc["consent_changes"]] == [("contact", True, "phone")]
    assert len(doc["documents"]) == 1
    scans = [n for n in names if n.startswith("files/documents/")]
    assert len(scans) == 1 and archive.read(scans[0]) == PDF
    pdf = archive.read("timeline.pdf")
    assert pdf.startswith(b"%PDF")
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "هـ" in text  # the Hijri date beside the Gregorian one
    with app.app_context(), database.connection_context():
        event = _models().AuditEvent.get(_models().AuditEvent.action == "export")
        assert event.object_id == str(rich_file) and event.actor.username == "manager"


@pytest.mark.parametrize("role", ["officer", "researcher", "committee", "delegate"])
def test_export_refused_to_roles_without_the_right(app, client, auth, rich_file, role):
    auth.login(role)
    assert client.get(f"/beneficiaries/{rich_file}/export.zip").status_code == 403
    with app.app_context(), database.connection_context():
        assert not _models().AuditEvent.select().where(_models().AuditEvent.action == "export").exists()


def test_export_of_unknown_file_is_404(client, auth, users):
    auth.login("admin")
    assert client.get("/beneficiaries/999999/export.zip").status_code == 404


# ---------------------------------------------------------------- consent

def test_consent_change_recorded_with_time_and_channel(app, client, auth, make_beneficiary):
    ben = make_beneficiary()
    auth.login("officer")
    response = client.post(f"/beneficiaries/{ben}/consent", data={"kind": "data", "granted": "yes",
                                                                   "channel": "paper"})
    assert response.status_code == 302
    client.post(f"/beneficiaries/{ben}/consent", data={"kind": "data", "granted": "no", "channel": "whatsapp"})
    m = _models()
    with app.app_context(), database.connection_context():
        rows = list(m.ConsentChange.select().order_by(m.ConsentChange.id))
        assert [(r.granted, r.channel, r.recorded_by.username) for r in rows] == [
            (True, "paper", "officer"), (False, "whatsapp", "officer")]
        assert all(r.at for r in rows)
        assert m.Beneficiary.get_by_id(ben).consent_data is False
        assert m.AuditEvent.select().where(m.AuditEvent.action == "consent").count() == 2
    page = text_of(client.get(f"/beneficiaries/{ben}/privacy?lang=en"))
    assert "Signed paper" in page and "WhatsApp" in page


@pytest.mark.parametrize("data", [
    {"kind": "marketing", "granted": "yes", "channel": "phone"},
    {"kind": "data", "granted": "maybe", "channel": "phone"},
    {"kind": "data", "granted": "yes", "channel": "pigeon"},
    {"kind": "data", "granted": "yes", "channel": "phone", "note": "x" * 301},
])
def test_bad_consent_changes_write_nothing(app, client, auth, make_beneficiary, data):
    ben = make_beneficiary()
    auth.login("officer")
    response = client.post(f"/beneficiaries/{ben}/consent?lang=en", data=data)
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        assert not _models().ConsentChange.select().exists()


def test_consent_changed_on_the_file_form_is_recorded(app, client, auth, make_beneficiary):
    ben = make_beneficiary()
    from portal.beneficiaries_service import update

    m = _models()
    with app.app_context(), database.connection_context():
        b = m.Beneficiary.get_by_id(ben)
        update(b, {"consent_contact": True}, b.version)
        change = m.ConsentChange.get()
        assert (change.kind, change.granted, change.channel) == ("contact", True, "record")


# ---------------------------------------------------------------- corrections

def test_correction_requested_reviewed_and_applied(app, client, auth, make_beneficiary):
    ben = make_beneficiary()
    auth.login("officer")
    response = client.post(f"/beneficiaries/{ben}/corrections", data={
        "field": "family_name", "requested_value": "الحارثي", "reason": "خطأ في الكتابة", "channel": "in_person"})
    assert response.status_code == 302
    m = _models()
    with app.app_context(), database.connection_context():
        req = m.CorrectionRequest.get()
        assert (req.status, req.current_value, req.requested_value) == ("pending", "الحربي", "الحارثي")
        assert m.Beneficiary.get_by_id(ben).family_name == "الحربي"  # not before review
    auth.logout()
    auth.login("manager")
    response = client.post(f"/corrections/{req.id}/review", data={"decision": "apply"})
    assert response.status_code == 302
    with app.app_context(), database.connection_context():
        ben_row = m.Beneficiary.get_by_id(ben)
        assert ben_row.family_name == "الحارثي" and ben_row.version == 2
        assert m.CorrectionRequest.get_by_id(req.id).status == "applied"
        actions = [e.action for e in m.AuditEvent.select().where(m.AuditEvent.object_id == str(ben))
                   .order_by(m.AuditEvent.id)]
        assert actions[-3:] == ["correction_request", "update", "correction_applied"]
    # Reviewing twice is refused, nothing changes.
    again = client.post(f"/corrections/{req.id}/review", data={"decision": "reject", "review_note": "لا"})
    assert again.status_code == 409
    with app.app_context(), database.connection_context():
        assert m.CorrectionRequest.get_by_id(req.id).status == "applied"


def test_correction_rejected_needs_a_reason_and_changes_nothing(app, client, auth, make_beneficiary):
    ben = make_beneficiary()
    auth.login("officer")
    client.post(f"/beneficiaries/{ben}/corrections", data={"field": "mobile", "requested_value": "0551112222",
                                                            "channel": "phone"})
    m = _models()
    with app.app_context(), database.connection_context():
        req = m.CorrectionRequest.get()
    response = client.post(f"/corrections/{req.id}/review?lang=en", data={"decision": "reject"})
    assert response.status_code == 422 and "Say why" in text_of(response)
    response = client.post(f"/corrections/{req.id}/review", data={"decision": "reject",
                                                                    "review_note": "الرقم لا يخص المستفيد"})
    assert response.status_code == 302
    with app.app_context(), database.connection_context():
        assert m.CorrectionRequest.get_by_id(req.id).status == "rejected"
        assert m.Beneficiary.get_by_id(ben).mobile == "+966550000001"
        assert m.AuditEvent.select().where(m.AuditEvent.action == "correction_rejected").count() == 1


@pytest.mark.parametrize(("data", "field"), [
    ({"field": "status", "requested_value": "active", "channel": "phone"}, "field"),
    ({"field": "national_id", "requested_value": "1234567890", "channel": "phone"}, "requested_value"),
    ({"field": "birth_date", "requested_value": "1447-02-30", "channel": "phone"}, "requested_value"),
    ({"field": "first_name", "requested_value": "", "channel": "phone"}, "requested_value"),
    ({"field": "first_name", "requested_value": "سارة", "channel": "phone"}, "requested_value"),
    ({"field": "first_name", "requested_value": "هند", "channel": ""}, "channel"),
    ({"field": "first_name", "requested_value": "هند" * 1001, "channel": "phone"}, "requested_value"),
])
def test_bad_correction_requests_are_refused(app, client, auth, make_beneficiary, data, field):
    ben = make_beneficiary()
    auth.login("officer")
    response = client.post(f"/beneficiaries/{ben}/corrections?lang=en", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="e-{field}"' in html
    if data["requested_value"] and len(data["requested_value"]) < 100:
        assert data["requested_value"] in html  # the form keeps what was typed
    with app.app_context(), database.connection_context():
        assert not _models().CorrectionRequest.select().exists()


def test_review_refused_to_roles_without_the_right(app, client, auth, make_beneficiary):
    ben = make_beneficiary()
    auth.login("officer")
    client.post(f"/beneficiaries/{ben}/corrections", data={"field": "city", "requested_value": "جدة",
                                                            "channel": "phone"})
    auth.logout()
    with app.app_context(), database.connection_context():
        req = _models().CorrectionRequest.get()
    for role in ("delegate", "researcher", "committee"):
        auth.login(role)
        assert client.post(f"/corrections/{req.id}/review", data={"decision": "apply"}).status_code == 403
        auth.logout()
    auth.login("admin")
    assert client.post("/corrections/99999/review", data={"decision": "apply"}).status_code == 404


# ---------------------------------------------------------------- erasure

def test_erasure_anonymises_and_keeps_what_the_law_requires(app, client, auth, rich_file):
    ben = rich_file
    case_id = decided_case(app, ben)
    auth.login("admin")
    assert client.post(f"/beneficiaries/{ben}/erase", data={"confirm": "wrong"}).status_code == 422
    m = _models()
    with app.app_context(), database.connection_context():
        assert m.Beneficiary.get_by_id(ben).erased_at is None  # a wrong confirmation writes nothing
        number = m.Beneficiary.get_by_id(ben).file_number
        sha = m.Document.get().file_sha256
    response = client.post(f"/beneficiaries/{ben}/erase", data={"confirm": number})
    assert response.status_code == 302
    with app.app_context(), database.connection_context():
        row = m.Beneficiary.get_by_id(ben)
        assert row.erased_at is not None and row.file_number == number
        assert (row.first_name, row.father_name, row.family_name, row.mobile, row.notes, row.district,
                row.national_address) == (number, "", "", "", "", "", "")
        assert row.national_id.startswith("X") and row.birth_date is None
        assert [(h.name, h.national_id) for h in m.HouseholdMember.select()] == [("", "")]
        assert all(e.summary == "" and e.body == "" and e.data is None for e in m.TimelineEntry.select()
                   .where(m.TimelineEntry.beneficiary == ben))
        case = m.Case.get_by_id(case_id)
        assert (case.decision, case.amount, case.reference, case.summary) == (
            "approved", Decimal("2500.00"), f"1448-{ben:06d}", "")
        # The document is not tied to the decided request: deleted with its file.
        assert not m.Document.select().exists()
        from portal.uploads import path_for

        assert not path_for(sha).exists()
        erasure = m.Erasure.get()
        assert erasure.actor.username == "admin" and erasure.retain_until is not None
        assert m.AuditEvent.select().where(m.AuditEvent.action == "erase").count() == 1
        consent = m.ConsentChange.get()
        assert consent.channel == "phone" and consent.note == ""  # history kept, free text removed
    page = text_of(client.get(f"/beneficiaries/{ben}?lang=en"))
    assert "This file was erased" in page and "سارة" not in page
    # Erasing twice is refused and changes nothing.
    again = client.post(f"/beneficiaries/{ben}/erase", data={"confirm": number})
    assert again.status_code == 409
    with app.app_context(), database.connection_context():
        assert m.Erasure.select().count() == 1
        assert m.AuditEvent.select().where(m.AuditEvent.action == "erase").count() == 1


def test_erase_then_export_shows_anonymised_data(app, client, auth, rich_file):
    auth.login("manager")
    m = _models()
    with app.app_context(), database.connection_context():
        number = m.Beneficiary.get_by_id(rich_file).file_number
    assert client.post(f"/beneficiaries/{rich_file}/erase", data={"confirm": number}).status_code == 302
    response = client.get(f"/beneficiaries/{rich_file}/export.zip")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    raw = archive.read("beneficiary.json").decode()
    doc = json.loads(raw)
    for typed in ("سارة", "الحربي", "0509999999", "يسكن قرب المسجد", "محمد سعد الحربي", "RRRD2929", "موافقة هاتفية"):
        assert typed not in raw, typed
    assert doc["erasure"]["beneficiary"] == rich_file
    assert not [n for n in archive.namelist() if n.startswith("files/")]


def erase_with_a_decided_document(app, client, auth, ben, case_id) -> str:
    """An officer uploads a document that joins the decided request ``case_id``; an admin erases the file.
    Returns the document's file hash."""
    auth.login("officer")
    upload_document(client, ben)
    m = _models()
    with app.app_context(), database.connection_context():
        m.Document.update(case=case_id).execute()
        number = m.Beneficiary.get_by_id(ben).file_number
        sha = m.Document.get().file_sha256
    auth.logout()
    auth.login("admin")
    assert client.post(f"/beneficiaries/{ben}/erase", data={"confirm": number}).status_code == 302
    return sha


def test_retained_uploads_stay_until_the_retention_ends(app, client, auth, make_beneficiary):
    ben = make_beneficiary()
    case_id = decided_case(app, ben)
    sha = erase_with_a_decided_document(app, client, auth, ben, case_id)
    m = _models()
    from portal.uploads import path_for

    with app.app_context(), database.connection_context():
        doc = m.Document.get()
        assert doc.number == "" and path_for(sha).exists()  # the decision's evidence is kept
        erasure = m.Erasure.get()
        assert erasure.retain_until.year == dt.date.today().year + app.config["PRIVACY_RETENTION_YEARS"]


def test_decision_older_than_retention_keeps_no_upload(app, client, auth, make_beneficiary):
    ben = make_beneficiary()
    case_id = decided_case(app, ben, decided_at=dt.datetime(2010, 1, 5))
    erase_with_a_decided_document(app, client, auth, ben, case_id)
    m = _models()
    with app.app_context(), database.connection_context():
        assert not m.Document.select().exists()
        assert m.Erasure.get().retain_until is None
        assert m.Case.get_by_id(case_id).amount == Decimal("2500.00")


@pytest.mark.parametrize("role", ["officer", "researcher", "committee", "delegate"])
def test_erasure_refused_to_roles_without_the_right(app, client, auth, make_beneficiary, role):
    ben = make_beneficiary(branch="TAIF")
    m = _models()
    with app.app_context(), database.connection_context():
        number = m.Beneficiary.get_by_id(ben).file_number
    auth.login(role)
    assert client.post(f"/beneficiaries/{ben}/erase", data={"confirm": number}).status_code == 403
    with app.app_context(), database.connection_context():
        assert m.Beneficiary.get_by_id(ben).erased_at is None


def test_erased_file_refuses_corrections_consents_and_edits(app, client, auth, make_beneficiary):
    ben = make_beneficiary()
    m = _models()
    with app.app_context(), database.connection_context():
        number = m.Beneficiary.get_by_id(ben).file_number
    auth.login("admin")
    client.post(f"/beneficiaries/{ben}/erase", data={"confirm": number})
    response = client.post(f"/beneficiaries/{ben}/consent", data={"kind": "data", "granted": "yes",
                                                                   "channel": "phone"})
    assert response.status_code == 409
    response = client.post(f"/beneficiaries/{ben}/corrections", data={"field": "city", "requested_value": "جدة",
                                                                       "channel": "phone"})
    assert response.status_code == 409
    response = client.post(f"/beneficiaries/{ben}/edit?lang=en", data={"first_name": "هند", "version": "2"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/beneficiaries/{ben}")
    assert "can no longer be changed" in text_of(client.get(f"/beneficiaries/{ben}?lang=en"))
    from portal import beneficiaries_service as service

    with app.app_context(), database.connection_context():
        row = m.Beneficiary.get_by_id(ben)
        assert row.first_name == row.file_number
        with pytest.raises(service.Conflict):
            service.update(row, {"first_name": "هند"}, row.version)
        assert not m.ConsentChange.select().exists() and not m.CorrectionRequest.select().exists()


def test_a_failing_plugin_aborts_the_whole_erasure(app_config, users, make_beneficiary):
    from portal import create_app, hookimpl

    class Broken:
        @hookimpl
        def anonymise_beneficiary(self, beneficiary, retain_until, actor):
            raise RuntimeError("disk full")

    app = create_app(dict(app_config, EXTRA_PLUGINS=(Broken(),)))
    ben = make_beneficiary()
    from portal import privacy

    m = _models()
    with app.test_request_context(), database.connection_context():
        row = m.Beneficiary.get_by_id(ben)
        with pytest.raises(RuntimeError):
            privacy.erase(row, m.User.get_by_id(users["admin"]))
        row = m.Beneficiary.get_by_id(ben)
        assert row.erased_at is None and row.first_name == "سارة"
        assert not m.Erasure.select().exists()


def test_privacy_page_in_both_languages_and_links_by_role(client, auth, rich_file):
    auth.login("manager")
    page = client.get(f"/beneficiaries/{rich_file}/privacy?lang=en")
    assert page.status_code == 200
    text = text_of(page)
    assert "Export everything held" in text and "Erase this file" in text
    assert "حماية البيانات" in text_of(client.get(f"/beneficiaries/{rich_file}/privacy?lang=ar"))
    profile = client.get(f"/beneficiaries/{rich_file}?lang=en").get_data(as_text=True)
    assert f"/beneficiaries/{rich_file}/export.zip" in profile
    auth.logout()
    auth.login("officer")
    profile = client.get(f"/beneficiaries/{rich_file}?lang=en").get_data(as_text=True)
    assert f"/beneficiaries/{rich_file}/privacy" in profile and "export.zip" not in profile
    text = text_of(client.get(f"/beneficiaries/{rich_file}/privacy?lang=en"))
    assert "Erase this file" not in text and "Record a correction request" in text


@pytest.mark.parametrize(("field", "value"), [("preferred_channel", "pigeon"), ("preferred_channel", "x" * 40),
                                              ("nationality", "x" * 61)])
def test_correction_values_are_checked_against_the_column(app, client, auth, make_beneficiary, field, value):
    ben = make_beneficiary()
    auth.login("officer")
    response = client.post(f"/beneficiaries/{ben}/corrections?lang=en", data={
        "field": field, "requested_value": value, "channel": "phone"})
    assert response.status_code == 422 and 'id="e-requested_value"' in response.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        assert not _models().CorrectionRequest.select().exists()


def test_delegate_sees_only_files_of_their_branch(app, client, auth, make_beneficiary):
    other = make_beneficiary(branch="MKK")
    auth.login("delegate")
    assert client.get(f"/beneficiaries/{other}/privacy").status_code == 403
    response = client.post(f"/beneficiaries/{other}/corrections", data={
        "field": "city", "requested_value": "جدة", "channel": "phone"})
    assert response.status_code == 403
    response = client.post(f"/beneficiaries/{other}/consent", data={"kind": "data", "granted": "yes",
                                                                     "channel": "phone"})
    assert response.status_code == 403
    with app.app_context(), database.connection_context():
        assert not _models().CorrectionRequest.select().exists() and not _models().ConsentChange.select().exists()


def test_privacy_forms_need_the_csrf_token(app_config, users, make_beneficiary):
    from portal import create_app

    app = create_app(dict(app_config, WTF_CSRF_ENABLED=True))
    ben = make_beneficiary()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": "admin", "password": "correct-horse-battery", "csrf_token": token})
    with app.app_context(), database.connection_context():
        number = _models().Beneficiary.get_by_id(ben).file_number
    assert client.post(f"/beneficiaries/{ben}/erase", data={"confirm": number}).status_code == 400
    assert client.post(f"/beneficiaries/{ben}/consent", data={"kind": "data", "granted": "yes",
                                                               "channel": "phone"}).status_code == 400
    html = client.get(f"/beneficiaries/{ben}/privacy").get_data(as_text=True)
    assert html.count('name="csrf_token"') >= 3
    with app.app_context(), database.connection_context():
        assert _models().Beneficiary.get_by_id(ben).erased_at is None


def test_erasure_keeps_a_file_another_beneficiary_shares(app, client, auth, make_beneficiary):
    """Uploads are content-addressed: the same scan on another file must survive the erasure."""
    first, second = make_beneficiary(), make_beneficiary()
    auth.login("officer")
    upload_document(client, first)
    upload_document(client, second)
    m = _models()
    with app.app_context(), database.connection_context():
        shas = {d.file_sha256 for d in m.Document.select()}
        number = m.Beneficiary.get_by_id(first).file_number
    assert len(shas) == 1
    auth.logout()
    auth.login("admin")
    assert client.post(f"/beneficiaries/{first}/erase", data={"confirm": number}).status_code == 302
    from portal.uploads import path_for

    with app.app_context(), database.connection_context():
        assert path_for(shas.pop()).exists()
        assert m.Document.select().where(m.Document.beneficiary == second).count() == 1
    doc_id = m.Document.select().where(m.Document.beneficiary == second)
    with app.app_context(), database.connection_context():
        doc_id = doc_id.get().id
    assert client.get(f"/beneficiaries/{second}/documents/{doc_id}/file").data == PDF
