"""Writing to a beneficiary from the file: the action, the live counter, the checks, the list."""
import pytest

from sms_helpers import app_config, ben, gateway  # noqa: F401  (fixtures)
from portal.db import database


def test_the_file_offers_a_text_message(client, auth, ben):
    auth.login()
    page = client.get(f"/beneficiaries/{ben}").get_data(as_text=True)
    assert f'href="/sms/to/{ben}">إرسال رسالة نصية</a>' in page


def test_the_action_says_why_it_is_not_possible(app, client, auth, make_beneficiary):
    no_consent = make_beneficiary(mobile="0551234567")
    auth.login()
    page = client.get(f"/beneficiaries/{no_consent}").get_data(as_text=True)
    assert "لم يوافق المستفيد على التواصل معه." in page and f'href="/sms/to/{no_consent}"' not in page


def test_officer_sends_and_sees_it_on_the_timeline(app, client, auth, ben, gateway):
    auth.login()
    r = client.post(f"/sms/to/{ben}", data={"text": "موعدك غداً الساعة \u20689:00\u2069"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/beneficiaries/{ben}")
    # direction controls typed (or pasted) by the officer are dropped like in every free-text field
    assert gateway.json()["text"] == "موعدك غداً الساعة 9:00"
    page = client.get(f"/beneficiaries/{ben}").get_data(as_text=True)
    assert "قبلت البوابة الرسالة النصية." in page and "رسالة نصية إلى المستفيد" in page and "delivery-state st-sent" in page
    listing = client.get("/sms/messages").get_data(as_text=True)
    assert "أُرسلت" in listing and "موعدك غداً" in listing


@pytest.mark.parametrize("text, message", [
    ("", "اكتب نص الرسالة النصية أولاً."),
    ("ب" * 671, "الحد الأقصى للإرسال"),
])
def test_bad_text_keeps_what_was_typed(client, auth, ben, gateway, text, message):
    auth.login()
    r = client.post(f"/sms/to/{ben}", data={"text": text})
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and message in page and gateway.requests == []
    if text:
        assert text in page


def test_gateway_refusal_is_said_not_hidden(client, auth, ben, gateway):
    gateway.answers.append((400, {"error": "blocked sender"}))
    auth.login()
    r = client.post(f"/sms/to/{ben}", data={"text": "مرحباً"}, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "رفضت البوابة الرسالة النصية" in page and "لم تصل" in page and "blocked sender" in page


def test_live_counter(client, auth, ben):
    auth.login()
    r = client.post("/sms/count", data={"text": "ب" * 71}, headers={"HX-Request": "true"})
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in body
    assert "جزءان" in body and "71 حرفاً" in body and "0.10 SAR" in body


def test_roles(client, auth, ben, users):
    auth.login("researcher")
    assert client.get(f"/sms/to/{ben}").status_code == 403
    assert client.post(f"/sms/to/{ben}", data={"text": "x"}).status_code == 403
    assert client.get("/sms/messages").status_code == 403


def test_english(client, auth, ben):
    auth.login()
    client.post("/language", data={"lang": "en", "next": f"/sms/to/{ben}"})
    page = client.get(f"/sms/to/{ben}").get_data(as_text=True)
    assert 'lang="en"' in page and "Send a text message" in page and "Arabic: 70 characters in one message" not in page
    assert "Latin: 160 characters in one message" in page  # an empty box counts as the 7-bit alphabet
