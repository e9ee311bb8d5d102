"""An application whose national ID matches a file already held: the applicant learns no reference and
no name (in any body, header or PDF), the registered mobile is told, and an officer confirms or rejects
before anything joins the file. Concurrent applications with one new ID do not fail."""
from __future__ import annotations

import pytest
from conftest import PASSWORD, text_of
from website_helpers import (  # noqa: F401  (fixtures)
    APPLICANT, app_config, apply_fully, outbox, start_application, types,
)

from portal.db import database

REGISTERED = {"first_name": "منيرة", "family_name": "القحطاني", "national_id": APPLICANT["national_id"],
              "mobile": "0509999999"}


@pytest.fixture
def registered(app, users, make_beneficiary, types):
    """A registered file with an open request (made by an officer at an interview)."""
    from portal.models import Beneficiary, Document, User
    from portal.workflow import intake

    ben_id = make_beneficiary(**REGISTERED)
    with app.app_context(), database.connection_context():
        ben, officer = Beneficiary.get_by_id(ben_id), User.get_by_id(users["officer"])
        Document.create(beneficiary=ben, kind="national_id")
        Document.create(beneficiary=ben, kind="family_card")
        answers = {str(q.id): "3" for q in intake.questions(intake.get_request_type("food_basket"))}
        case = intake.open_request(ben, "food_basket", channel="website", actor=officer, summary="طلب",
                                   answers=answers)
        case = intake.submit(case, actor=officer).case
        return {"ben": ben_id, "reference": case.reference, "case": case.id}


def _staff(app, role="officer"):
    client = app.test_client()
    client.post("/login", data={"username": role, "password": PASSWORD})
    return client


def _pending(app):
    from plugins.website.models import PendingApplication

    with app.app_context(), database.connection_context():
        return PendingApplication.select().order_by(PendingApplication.id.desc()).first()


def _leaks(response, registered_ref):
    raw = response.get_data()
    headers = " ".join(f"{k}: {v}" for k, v in response.headers.items())
    for secret in (registered_ref, REGISTERED["first_name"], REGISTERED["family_name"], "0509999999",
                   "509999999"):
        assert secret.encode() not in raw, secret
        assert secret not in headers, secret


def test_knowing_only_an_id_gives_nothing(app, client, types, outbox, registered):
    """Every response of a whole application with someone else's ID: no reference, no registered name."""
    ref = registered["reference"]
    responses = [start_application(app.test_client())]
    assert responses[0].status_code == 302
    responses.append(apply_fully(client, app))
    for url in ("/site/apply/done", "/site/apply/acknowledgement", "/site/apply/acknowledgement.pdf",
                "/site/track/status", "/site/track/acknowledgement.pdf", "/site/apply"):
        responses.append(client.get(url))
    for r in responses:
        _leaks(r, ref)
    done = client.get("/site/apply/done")
    assert "سنتواصل معك على الجوال المسجل" in text_of(done)
    assert "أرسلنا رسالة إلى ذلك الجوال المسجل" in text_of(done)  # a sender accepted it
    pdf = client.get("/site/apply/acknowledgement.pdf")
    assert pdf.status_code == 302 and pdf.headers["Location"].endswith("/site/apply/acknowledgement")
    ack = client.get("/site/apply/acknowledgement")
    assert "فاطمة سعيد حسن الزهراني" in text_of(ack)  # only what was typed
    assert client.get("/site/track/status").status_code == 302  # no tracking opened
    # the reference went to the registered file's mobile only
    told = outbox.by_purpose("website_application_pending")
    assert len(told) == 1 and told[0]["beneficiary"] == registered["ben"]
    assert f"\u2068{ref}\u2069" in told[0]["text"]
    # and English says the same
    en = client.get("/site/apply/done?lang=en")
    assert "We will contact you on the mobile registered in that file" in text_of(en)
    _leaks(en, ref)


def test_without_a_sender_the_page_says_nothing_was_sent(app, client, types, registered):
    from portal.models import TimelineEntry

    apply_fully(client, app)
    page = text_of(client.get("/site/apply/done"))
    assert "لم يمكن إرسال رسالة" in page and "أرسلنا رسالة" not in page
    with app.app_context(), database.connection_context():
        entries = [e for e in TimelineEntry.select().where(TimelineEntry.beneficiary == registered["ben"])
                   if (e.data or {}).get("purpose") == "website_application_pending"]
        assert len(entries) == 1 and entries[0].data["sent"] is False


def test_an_id_without_open_request_also_waits(app, client, types, outbox, make_beneficiary):
    ben_id = make_beneficiary(**REGISTERED)
    r = apply_fully(client, app)
    assert r.status_code == 302
    _leaks(client.get("/site/apply/done"), "no-reference")
    pending = _pending(app)
    assert pending.status == "pending" and pending.beneficiary_id == ben_id
    told = outbox.by_purpose("website_application_pending")
    assert len(told) == 1 and told[0]["beneficiary"] == ben_id


def test_officer_sees_and_confirms_it_joins_the_open_request(app, client, types, outbox, registered):
    from portal.models import Case, Document, TimelineEntry
    from portal.models import AuditEvent

    apply_fully(client, app)
    pending = _pending(app)
    officer = _staff(app)
    dashboard = text_of(officer.get("/"))
    assert "طلبات الموقع بانتظار تأكيد الموظف" in dashboard
    listing = officer.get("/website/applications")
    assert "فاطمة" in text_of(listing)
    detail = officer.get(f"/website/applications/{pending.id}")
    assert detail.status_code == 200 and registered["reference"] in text_of(detail)  # staff may see both sides
    r = officer.post(f"/website/applications/{pending.id}", data={"action": "confirm"})
    assert r.status_code == 302
    with app.app_context(), database.connection_context():
        assert Case.select().count() == 1  # joined the open request, no second one
        kinds = [d.kind for d in Document.select().where(Document.case == registered["case"])]
        assert sorted(kinds) == ["family_card", "national_id"]  # the uploaded documents joined it
        entries = list(TimelineEntry.select().where(TimelineEntry.case == registered["case"]))
        assert any((e.data or {}).get("confirmed_by") for e in entries)
        assert AuditEvent.select().where(AuditEvent.action == "confirm",
                                         AuditEvent.object_type == "website_application").count() == 1
    assert _pending(app).status == "confirmed"
    sent = outbox.by_purpose("case_reference")
    assert sent and sent[-1]["beneficiary"] == registered["ben"] and registered["reference"] in sent[-1]["text"]
    # deciding twice is refused with a message
    again = officer.post(f"/website/applications/{pending.id}", data={"action": "reject", "reason": "x"})
    assert again.status_code == 422 and "قرر موظف آخر" in text_of(again)


def test_confirm_opens_a_new_request_on_a_file_without_one(app, client, users, types, outbox, make_beneficiary):
    from portal.models import Beneficiary, Case

    ben_id = make_beneficiary(**REGISTERED)
    apply_fully(client, app)
    pending = _pending(app)
    r = _staff(app, "admin").post(f"/website/applications/{pending.id}", data={"action": "confirm"})
    assert r.status_code == 302
    with app.app_context(), database.connection_context():
        case = Case.get()
        assert case.beneficiary_id == ben_id and case.channel == "website"
        assert Beneficiary.get_by_id(ben_id).first_name == "منيرة"  # the file was not changed
    assert outbox.by_purpose("case_reference")[-1]["beneficiary"] == ben_id


def test_officer_rejects_with_a_reason(app, client, types, outbox, registered):
    from portal.models import Case, TimelineEntry

    apply_fully(client, app)
    pending = _pending(app)
    officer = _staff(app)
    missing = officer.post(f"/website/applications/{pending.id}", data={"action": "reject"})
    assert missing.status_code == 422 and 'id="e-reason"' in missing.get_data(as_text=True)
    en = officer.post(f"/website/applications/{pending.id}?lang=en", data={"action": "reject"})
    assert "Write why the application does not belong to this file." in text_of(en)
    assert _pending(app).status == "pending"  # nothing half-written
    r = officer.post(f"/website/applications/{pending.id}", data={"action": "reject", "reason": "ليس صاحب الملف"})
    assert r.status_code == 302
    assert _pending(app).status == "rejected"
    with app.app_context(), database.connection_context():
        assert Case.select().count() == 1
        assert any((e.data or {}).get("kind") == "website_application_rejected"
                   for e in TimelineEntry.select().where(TimelineEntry.beneficiary == registered["ben"]))


@pytest.mark.parametrize("role", ["manager", "researcher", "committee", "delegate"])
def test_only_officers_and_admins_decide(app, client, types, outbox, registered, role):
    apply_fully(client, app)
    pending = _pending(app)
    r = _staff(app, role).post(f"/website/applications/{pending.id}", data={"action": "confirm"})
    assert r.status_code == 403
    assert _pending(app).status == "pending"


@pytest.fixture
def no_duplicate_check(monkeypatch):
    """The service's own duplicate check (a look-up before the insert) sees nothing, as when two
    applications pass it at the same moment: the database's unique ID is what stops the second."""
    from portal import beneficiaries_service

    real = beneficiaries_service.validate

    def validate(data, *args, **kwargs):
        result = real(data, *args, **kwargs)
        result.errors.pop("national_id", None)
        return result

    monkeypatch.setattr(beneficiaries_service, "validate", validate)


def _racing_find_file(monkeypatch, misses):
    from plugins.website import workflow_bridge

    real = workflow_bridge.find_file
    calls = {"n": 0}

    def racing(national_id):
        calls["n"] += 1
        return None if calls["n"] <= misses else real(national_id)  # the look-up missed the winner's file

    monkeypatch.setattr(workflow_bridge, "find_file", racing)


@pytest.mark.parametrize("unique_only", [True, False], ids=["integrity-error", "service-check"])
def test_two_applications_with_one_new_id_at_the_same_moment(app, client, types, outbox, monkeypatch, request,
                                                             unique_only):
    """The loser of the unique ID (IntegrityError on PostgreSQL and SQLite, or the service's duplicate
    check) is not a 500 and never sees the winner's file number: it is tried again, now matches the
    winner's file and waits for an officer."""
    from portal.models import Beneficiary, Case

    apply_fully(client, app)  # the winner
    if unique_only:
        request.getfixturevalue("no_duplicate_check")
    _racing_find_file(monkeypatch, misses=2)
    other = app.test_client()
    r = apply_fully(other, app, applicant={"first_name": "نورة"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/site/apply/done")
    done = other.get("/site/apply/done")
    assert "سنتواصل معك" in text_of(done)
    with app.app_context(), database.connection_context():
        ben = Beneficiary.get()
        assert Beneficiary.select().count() == 1 and Case.select().count() == 1
    assert ben.file_number not in done.get_data(as_text=True)
    assert _pending(app).status == "pending"


def test_when_the_race_repeats_the_applicant_gets_a_clear_message(app, client, types, outbox, monkeypatch,
                                                                  no_duplicate_check):
    from plugins.website.models import ApplicationDraft

    apply_fully(client, app)
    _racing_find_file(monkeypatch, misses=10**6)
    other = app.test_client()
    r = apply_fully(other, app)
    assert r.status_code == 409 and "في اللحظة نفسها" in text_of(r)
    r = other.post("/site/apply/review?lang=en", data={"action": "submit"})
    assert r.status_code == 409 and "at the same moment" in text_of(r)
    with app.app_context(), database.connection_context():
        assert ApplicationDraft.select().where(ApplicationDraft.submitted_at.is_null()).count() == 1  # kept


def test_double_submit_of_a_pending_application_gives_one(app, client, types, outbox, registered):
    from plugins.website import workflow_bridge
    from plugins.website.models import ApplicationDraft, PendingApplication

    apply_fully(client, app)
    with app.test_request_context(), database.connection_context():
        draft = ApplicationDraft.get()
        again = workflow_bridge.submit_application(draft)
        assert again.case is None and again.pending is not None
        assert PendingApplication.select().count() == 1
    assert len(outbox.by_purpose("website_application_pending")) == 1
