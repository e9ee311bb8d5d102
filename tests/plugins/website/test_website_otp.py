"""Tracking proof: the reference (or a tracking link's token) plus the full national ID, then a
one-time code to the registered mobile when a sender answers ``send_message``. Codes are hashed at
rest, expire, allow few tries and work once; failures are counted per reference and per address in the
database and lock tracking out, the same whether the reference exists or not."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from conftest import text_of
from website_helpers import PDF, app_config, apply_fully, outbox, upload, types  # noqa: F401

from portal.db import database

ID = "1000000008"


@pytest.fixture
def case_ref(app, users, make_beneficiary, types):
    from portal.models import Beneficiary, User
    from portal.workflow import intake

    ben_id = make_beneficiary(national_id=ID, mobile="0551234567", first_name="منيرة")
    with app.app_context(), database.connection_context():
        ben, officer = Beneficiary.get_by_id(ben_id), User.get_by_id(users["officer"])
        answers = {str(q.id): "3" for q in intake.questions(intake.get_request_type("food_basket"))}
        case = intake.open_request(ben, "food_basket", channel="website", actor=officer, summary="طلب",
                                   answers=answers)
        return intake.submit(case, actor=officer, incomplete_if_missing=True).case.reference


def track(client, reference, national_id, ip="10.1.1.1", **extra):
    return client.post("/site/track", data={"reference": reference, "national_id": national_id, **extra},
                       environ_base={"REMOTE_ADDR": ip})


def last_code(outbox):
    return outbox.by_purpose("one_time_code")[-1]["context"]["code"]


def test_full_id_then_code_opens_the_request(app, client, case_ref, outbox):
    from plugins.website.models import TrackingChallenge
    from portal.models import AuditEvent

    r = track(client, case_ref, ID)
    assert r.status_code == 302 and r.headers["Location"].endswith("/site/track/code")
    assert client.get("/site/track/status").status_code == 302  # not yet
    sent = outbox.by_purpose("one_time_code")
    assert len(sent) == 1
    code = sent[0]["context"]["code"]
    assert re.fullmatch(r"\d{6}", code) and f"\u2068{code}\u2069" in sent[0]["text"]
    assert "رمز صلة" in sent[0]["text"]  # messages to beneficiaries are in Arabic
    with app.app_context(), database.connection_context():
        stored = TrackingChallenge.get()
        assert code not in stored.code_hash and len(stored.code_hash) == 64  # hashed at rest
        assert AuditEvent.select().where(AuditEvent.action == "send_code").count() == 1
        assert not any(code in str(e.details) for e in AuditEvent.select())
    page = client.get("/site/track/code")
    assert "أرسلنا رمزاً لمرة واحدة" in text_of(page)
    ok = client.post("/site/track/code", data={"code": code})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/site/track/status")
    status = client.get("/site/track/status")
    assert status.status_code == 200 and case_ref in text_of(status)
    # the upload and the acknowledgement go through the same proof: this browser has it now
    r = client.post("/site/track/upload", data={"kind": "family_card", "file": upload(PDF, "c.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 302


def test_wrong_reused_and_expired_codes(app, client, case_ref, outbox):
    from plugins.website.models import TrackingChallenge

    track(client, case_ref, ID)
    code = last_code(outbox)
    wrong = "000000" if code != "000000" else "111111"
    r = client.post("/site/track/code", data={"code": wrong})
    assert r.status_code == 422 and "الرمز غير صحيح" in text_of(r)
    r = client.post("/site/track/code?lang=en", data={"code": wrong})
    assert r.status_code == 422 and "The code is not right." in text_of(r)
    r = client.post("/site/track/code", data={"code": ""})
    assert r.status_code == 422 and 'id="e-code"' in r.get_data(as_text=True)
    assert client.post("/site/track/code", data={"code": code}).status_code == 302
    # the same code again (another tab, or after leaving): refused
    client.post("/site/track/leave")
    thief = app.test_client()
    r = thief.post("/site/track/code", data={"code": code})
    assert r.status_code == 302 and r.headers["Location"].endswith("/site/track")
    assert thief.get("/site/track/status").status_code == 302
    # a used challenge cannot be replayed by its own browser either
    other = app.test_client()
    with app.app_context(), database.connection_context():
        TrackingChallenge.update(created_at=dt.datetime(2000, 1, 1)).execute()  # past the resend pause
    track(other, case_ref, ID, ip="10.1.1.2")
    code2 = last_code(outbox)
    with other.session_transaction() as s:
        nonce = s["website_challenge"]
    assert other.post("/site/track/code", data={"code": code2}).status_code == 302
    with other.session_transaction() as s:
        s["website_challenge"] = nonce
    r = other.post("/site/track/code", data={"code": code2}, follow_redirects=True)
    assert "انتهت صلاحية الرمز أو استُخدم" in text_of(r)
    # an expired code is refused even when right
    late = app.test_client()
    with app.app_context(), database.connection_context():
        TrackingChallenge.update(created_at=dt.datetime(2000, 1, 1)).execute()
    track(late, case_ref, ID, ip="10.1.1.3")
    code3 = last_code(outbox)
    with app.app_context(), database.connection_context():
        TrackingChallenge.update(expires_at=dt.datetime(2000, 1, 1)).execute()
    r = late.post("/site/track/code?lang=en", data={"code": code3}, follow_redirects=True)
    assert "The code expired or was already used" in text_of(r)
    assert late.get("/site/track/status").status_code == 302


def test_a_code_allows_few_tries(app, client, case_ref, outbox):
    track(client, case_ref, ID)
    code = last_code(outbox)
    wrong = "000000" if code != "000000" else "111111"
    tries = app.config["WEBSITE_OTP_TRIES"]
    for _ in range(tries - 1):
        assert client.post("/site/track/code", data={"code": wrong}).status_code == 422
    r = client.post("/site/track/code", data={"code": wrong})
    assert r.status_code == 302  # out of tries: back to the start
    assert client.post("/site/track/code", data={"code": code}).status_code == 302
    assert client.get("/site/track/status").status_code == 302  # the right code came too late


def test_asking_again_at_once_sends_no_second_code(app, client, case_ref, outbox):
    track(client, case_ref, ID)
    r = track(app.test_client(), case_ref, ID)
    assert r.status_code == 429
    assert len(outbox.by_purpose("one_time_code")) == 1


def test_lockout_per_reference_across_addresses(app, client, case_ref, outbox):
    """Five wrong IDs from five addresses lock the reference for everybody, the right ID included; an
    unknown reference locks the same way and shows the same page."""
    limit = app.config["WEBSITE_TRACK_MAX_FAILURES"]
    wrong_ids = ["1234567897", "2000000007", "1111111119", "2222222228", "1010101014"]
    for n in range(limit - 1):
        r = track(app.test_client(), case_ref, wrong_ids[n], ip=f"10.0.0.{n + 1}")
        assert r.status_code == 404
    locked = track(app.test_client(), case_ref, wrong_ids[0], ip="10.0.0.99")
    assert locked.status_code == 429 and "مقفلة" in text_of(locked) and "30" in text_of(locked)
    right = track(app.test_client(), case_ref, ID, ip="10.0.0.100")
    assert right.status_code == 429
    assert outbox.by_purpose("one_time_code") == []
    en = app.test_client().post("/site/track?lang=en", data={"reference": case_ref, "national_id": ID},
                                environ_base={"REMOTE_ADDR": "10.0.0.102"})
    assert en.status_code == 429 and "Tracking is locked" in text_of(en) and "30 minutes" in text_of(en)
    # an unknown reference: the same answers, the same lockout page
    unknown = "1448-999999"
    for n in range(limit - 1):
        track(app.test_client(), unknown, wrong_ids[n], ip=f"10.0.1.{n + 1}")
    locked_unknown = track(app.test_client(), unknown, wrong_ids[0], ip="10.0.1.99")
    assert locked_unknown.status_code == 429
    assert text_of(locked_unknown).replace(unknown, "R") == text_of(locked).replace(case_ref, "R")
    # once the lockout has passed, the right ID works again
    from plugins.website.models import TrackingLock

    with app.app_context(), database.connection_context():
        TrackingLock.update(locked_until=dt.datetime(2000, 1, 1)).execute()
    assert track(app.test_client(), case_ref, ID, ip="10.0.0.103").status_code == 302


def test_lockout_per_address(app, client, case_ref, app_config):
    app.config["WEBSITE_TRACK_ADDRESS_MAX_FAILURES"] = 3
    for n in range(2):
        assert track(client, f"1448-00010{n}", "2000000007", ip="10.9.9.9").status_code == 404
    assert track(client, "1448-000200", "2000000007", ip="10.9.9.9").status_code == 429
    assert track(client, case_ref, ID, ip="10.9.9.9").status_code == 429
    assert track(app.test_client(), case_ref, ID, ip="10.9.9.8").status_code == 302


def test_wrong_codes_count_towards_the_reference_lockout(app, client, case_ref, outbox):
    from plugins.website.models import TrackingChallenge

    app.config["WEBSITE_TRACK_MAX_FAILURES"] = 2
    track(client, case_ref, ID)
    code = last_code(outbox)
    wrong = "000000" if code != "000000" else "111111"
    assert client.post("/site/track/code", data={"code": wrong}).status_code == 422
    r = client.post("/site/track/code", data={"code": wrong})
    assert r.status_code == 429
    with app.app_context(), database.connection_context():
        TrackingChallenge.update(created_at=dt.datetime(2000, 1, 1)).execute()
    assert track(app.test_client(), case_ref, ID, ip="10.2.2.2").status_code == 429


def test_tracking_link_carries_a_token_not_the_reference(app, client, types, outbox):
    from plugins.website.models import TrackingToken

    apply_fully(client, app)
    sent = outbox.by_purpose("case_reference")[-1]
    link = sent["context"]["tracking_link"]
    reference = sent["context"]["reference"]
    assert "/site/track/t/" in link and reference not in link and link in sent["text"]
    token = link.rsplit("/", 1)[1]
    assert len(token) >= 32
    with app.app_context(), database.connection_context():
        assert TrackingToken.select().where(TrackingToken.token_hash == token).count() == 0  # hashed
    visitor = app.test_client()
    page = visitor.get(f"/site/track/t/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and reference not in html and 'name="token"' in html
    assert 'name="reference"' not in html and page.headers["Referrer-Policy"] == "no-referrer"
    # the link still needs the ID number, then the code
    wrong = visitor.post("/site/track", data={"token": token, "national_id": "1234567897"})
    assert wrong.status_code == 404
    r = visitor.post("/site/track", data={"token": token, "national_id": ID})
    assert r.status_code == 302 and r.headers["Location"].endswith("/site/track/code")
    assert visitor.post("/site/track/code", data={"code": last_code(outbox)}).status_code == 302
    assert reference in text_of(visitor.get("/site/track/status"))
    # a made-up token: the plain form, a neutral message
    bad = app.test_client().get("/site/track/t/" + "A" * 32)
    assert bad.status_code == 200 and 'id="bad-link"' in bad.get_data(as_text=True)
    forged = app.test_client().post("/site/track", data={"token": "A" * 32, "national_id": ID})
    assert forged.status_code == 404 and 'name="reference"' in forged.get_data(as_text=True)


def test_without_a_sender_the_full_id_is_the_proof(app, client, case_ref):
    from portal.models import AuditEvent

    r = track(client, case_ref, ID)
    assert r.status_code == 302 and r.headers["Location"].endswith("/site/track/status")
    with app.app_context(), database.connection_context():
        event = AuditEvent.get(AuditEvent.action == "send_code")
        assert event.details["sent"] is False


def test_inquiry_is_tracked_with_the_full_mobile_not_four_digits(app, client, types):
    from website_helpers import stamp

    r = client.post("/site/ask", data={"kind": "inquiry", "name": "سائل", "mobile": "0501234567",
                                       "subject": "سؤال", "body": "نص", **stamp(client, "/site/ask")})
    assert r.status_code == 302
    from plugins.website.models import Inquiry

    with app.app_context(), database.connection_context():
        ref = Inquiry.get().reference
    assert track(app.test_client(), ref, "4567").status_code == 422
    assert track(app.test_client(), ref, "0501234568").status_code == 404
    visitor = app.test_client()
    assert track(visitor, ref, "0501234567").status_code == 302
    assert ref in text_of(visitor.get("/site/track/status"))


def test_bad_ids_are_answered_in_both_languages(app, client, case_ref):
    short = track(client, case_ref, "12345")
    assert short.status_code == 422 and "رقم الهوية من 10 أرقام" in text_of(short)
    assert 'value="12345"' in short.get_data(as_text=True)  # the form keeps what was typed
    en = client.post("/site/track?lang=en", data={"reference": case_ref, "national_id": "12345"})
    assert en.status_code == 422 and "The ID number has 10 digits." in text_of(en)
    wrong = track(client, case_ref, "1234567897")
    assert wrong.status_code == 404 and "لم نجد طلباً بهذه البيانات" in text_of(wrong)
    wrong_en = client.post("/site/track?lang=en", data={"reference": case_ref, "national_id": "1234567897"})
    assert wrong_en.status_code == 404 and "We could not find a request with these details" in text_of(wrong_en)
    empty = client.post("/site/track?lang=en", data={"reference": case_ref, "national_id": ""})
    assert empty.status_code == 422 and "Enter your ID number." in text_of(empty)
