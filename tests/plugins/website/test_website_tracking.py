"""Tracking without an account: plain status, steps with dates, expected reply, enumeration
resistance, rate limit, missing-document uploads (with a one-time code when a sender exists)."""
from __future__ import annotations

import pytest
from conftest import text_of
from website_helpers import PDF, app_config, outbox, png_bytes, types, upload  # noqa: F401

from portal.db import database

NOT_FOUND = "لم نجد طلباً بهذه البيانات"


@pytest.fixture
def case_factory(app, users, make_beneficiary, types):
    """Cases moved through the workflow's real services."""
    from portal.models import Beneficiary, Document, User
    from portal.workflow import intake

    def make(status="submitted", national_id="1000000008", mobile="0551234567", with_docs=True):
        ben_id = make_beneficiary(national_id=national_id, mobile=mobile)
        with app.app_context(), database.connection_context():
            ben = Beneficiary.get_by_id(ben_id)
            officer = User.get_by_id(users["officer"])
            if with_docs:
                Document.create(beneficiary=ben, kind="national_id")
                Document.create(beneficiary=ben, kind="family_card")
            answers = {str(q.id): "3" for q in intake.questions(intake.get_request_type("food_basket"))}
            case = intake.open_request(ben, "food_basket", channel="website", actor=officer, summary="طلب",
                                       answers=answers)
            if status == "submitted":
                case = intake.submit(case, actor=officer).case
            elif status == "incomplete":
                case = intake.submit(case, actor=officer, incomplete_if_missing=True).case
            from portal.timeline import log_entry

            log_entry(channel="website", direction="internal", beneficiary=ben, case=case, actor=officer,
                      summary="ملاحظة داخلية سرية", body="تقرير الباحث: لا يظهر للمستفيد")
            return case.reference

    return make


def track(client, reference, national_id, **kw):
    return client.post("/site/track", data={"reference": reference, "national_id": national_id}, **kw)


def test_track_with_national_id_shows_plain_status_and_dates(app, client, case_factory):
    ref = case_factory()
    r = track(client, ref, "1000000008")
    assert r.status_code == 302 and r.headers["Location"].endswith("/site/track/status")
    page = client.get("/site/track/status")
    text = text_of(page)
    assert ref in text
    assert "يقوم موظف علاقات المستفيدين بمراجعته" in text
    assert "هـ" in text  # Hijri dates beside Gregorian
    assert 'class="expected"' in page.get_data(as_text=True)
    assert "سرية" not in text and "تقرير الباحث" not in text  # never internal notes


def test_track_with_eastern_digits(app, client, case_factory):
    ref = case_factory()
    eastern = ref.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert track(client, eastern, "١٠٠٠٠٠٠٠٠٨").status_code == 302


def test_the_last_four_digits_of_the_mobile_are_no_proof(app, client, case_factory):
    ref = case_factory()
    r = track(client, ref, "4567")
    assert r.status_code == 422 and "10" in text_of(r)
    assert 'aria-describedby="e-national_id' in r.get_data(as_text=True)
    assert client.get("/site/track/status").status_code == 302


def test_wrong_pair_is_as_neutral_as_an_unknown_reference(app, client, case_factory):
    ref = case_factory()
    case_factory(national_id="1234567897", mobile="0557654321")
    other_person = track(client, ref, "1234567897")
    wrong_id = track(client, ref, "2000000007")
    unknown = track(client, "1448-999999", "1000000008")
    assert other_person.status_code == wrong_id.status_code == unknown.status_code == 404
    assert NOT_FOUND in text_of(other_person)
    assert text_of(other_person) == text_of(unknown) == text_of(wrong_id)
    assert client.get("/site/track/status").status_code == 302  # nothing unlocked


@pytest.mark.parametrize("reference", ["1448-12", "abc", "<script>", "14481-000001", "1448_000001"])
def test_reference_of_the_wrong_format(app, client, reference):
    r = track(client, reference, "1000000008")
    assert r.status_code == 422 and "1448-000123" in text_of(r)
    assert 'aria-describedby="e-reference' in r.get_data(as_text=True)


@pytest.fixture
def limited(app_config):
    app_config["RATELIMIT_ENABLED"] = True
    return app_config


def test_tracking_attempts_are_rate_limited(limited, app, client, case_factory):
    from portal.limiter import limiter

    ref = case_factory()
    limiter.reset()
    # different references (each one below its own lockout): the per-address rate limit answers first
    codes = [track(client, f"1448-{n:06d}", "2000000007").status_code for n in range(500, 530)]
    assert codes[:10] == [404] * 10
    assert set(codes[10:]) == {429}
    # even the right pair is refused once the limit is reached, with a message in the user's language
    refused = track(client, ref, "1000000008")
    assert refused.status_code == 429
    assert "محاولات كثيرة" in text_of(refused)
    assert 'class="site"' in refused.get_data(as_text=True)  # the public layout, not the staff shell
    # another address is not affected
    other = track(client, ref, "1000000008", environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert other.status_code == 302
    limiter.reset()


def test_incomplete_request_lists_what_is_missing_and_takes_the_upload(app, client, case_factory):
    from portal.models import Case, Document

    ref = case_factory(status="incomplete", with_docs=False)
    track(client, ref, "1000000008")
    page = text_of(client.get("/site/track/status"))
    assert "سجل الأسرة" in page
    # no sender configured: the reference and the full ID were the proof; the upload form is open
    r = client.post("/site/track/upload", data={"kind": "national_id", "file": upload(png_bytes(), "id.png")},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    r = client.post("/site/track/upload", data={"kind": "family_card", "file": upload(PDF, "card.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    with app.app_context(), database.connection_context():
        case = Case.get(Case.reference == ref)
        assert Document.select().where(Document.case == case.id).count() == 2
        assert case.status == "submitted"  # complete now: submitted again


def test_bad_uploads_on_the_tracking_page(app, client, case_factory):
    ref = case_factory(status="incomplete", with_docs=False)
    track(client, ref, "1000000008")
    # without the tracking proof nothing is accepted
    stranger = app.test_client()
    r = stranger.post("/site/track/upload", data={"kind": "family_card", "file": upload(PDF, "a.pdf")},
                      content_type="multipart/form-data")
    assert r.status_code == 302 and r.headers["Location"].endswith("/site/track")
    big = b"\x89PNG\r\n\x1a\n" + b"0" * (20 * 1024 * 1024)
    r = client.post("/site/track/upload", data={"kind": "family_card", "file": upload(big, "big.png")},
                    content_type="multipart/form-data")
    assert r.status_code == 422 and 'id="e-file"' in r.get_data(as_text=True)
    r = client.post("/site/track/upload", data={"kind": "family_card", "file": upload(b"GIF89a....", "card.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 422
    r = client.post("/site/track/upload", data={"kind": "passport", "file": upload(PDF, "card.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 422


def test_leaving_hides_the_request(app, client, case_factory):
    ref = case_factory()
    track(client, ref, "1000000008")
    client.post("/site/track/leave")
    assert client.get("/site/track/status").status_code == 302


def test_a_request_with_the_committee_shows_its_due_date_and_no_research_report(app, client, case_factory, users):
    import datetime as dt

    from portal.models import Case, User
    from portal.workflow import intake, research

    ref = case_factory()
    with app.app_context(), database.connection_context():
        officer, researcher = User.get_by_id(users["officer"]), User.get_by_id(users["researcher"])
        case = Case.get(Case.reference == ref)
        intake.record_declaration(case, method="self_tick", channel="website", actor=officer)
        case = research.refer(case, researcher=researcher, reason="دراسة ميدانية", actor=officer).case
        research.record_report(case, actor=researcher, data={
            "visit_date": dt.date.today().isoformat(), "household_situation": "وضع سري للغاية",
            "monthly_income": "900", "housing": "غرفة مستأجرة", "needs": "احتياج خاص بالباحث",
            "recommendation": "approve"})
        case = research.send_to_committee(case, actor=researcher).case
        due = case.committee_due_at
    track(client, ref, "1000000008")
    page = client.get("/site/track/status")
    text = text_of(page)
    assert "الرفع إلى لجنة البحث" in text and "الإحالة إلى البحث الاجتماعي" in text
    assert "طلبك لدى لجنة البحث لاتخاذ القرار" in text
    saudi_day = (due + dt.timedelta(hours=3)).date()
    assert f'datetime="{saudi_day.isoformat()}"' in page.get_data(as_text=True).split('class="expected"')[1][:200]
    for secret in ("وضع سري للغاية", "احتياج خاص بالباحث", "دراسة ميدانية", "غرفة مستأجرة"):
        assert secret not in text
