"""The Zammad-compatible CTI webhook: event sequences, repeats, reordering, bodies, bad input."""
import datetime as dt

import pytest

from plugins.phone import calls
from plugins.phone.models import PhoneCall
from portal.models import TimelineEntry
from phone_fixtures import app_config, in_db, officer_phone, outreach  # noqa: F401

TOKEN = "cti-secret-token-0123456789"

URL = f"/api/v1/cti/{TOKEN}"


@pytest.fixture
def clock(monkeypatch):
    """Control the time the webhook sees: ``clock.at(seconds)``."""
    class Clock:
        base = dt.datetime(2026, 11, 27, 8, 0, 0)
        now = base

        def at(self, seconds):
            self.now = self.base + dt.timedelta(seconds=seconds)

    c = Clock()
    monkeypatch.setattr(calls, "utcnow", lambda: c.now)
    return c


def post(client, as_form=False, **values):
    if as_form:
        return client.post(URL, data=values)
    return client.post(URL, json=values)


def new_call(call_id="c-1", frm="+966501234567", **extra):
    return {"event": "newCall", "from": frm, "to": "0125550000", "direction": "in", "callId": call_id,
            "user": ["officer"], **extra}


def answer(call_id="c-1", **extra):
    return {"event": "answer", "from": "+966501234567", "to": "0125550000", "direction": "in",
            "callId": call_id, "answeringNumber": "201", **extra}


def hangup(call_id="c-1", cause="normalClearing", **extra):
    return {"event": "hangup", "from": "+966501234567", "to": "0125550000", "direction": "in", "callId": call_id,
            "cause": cause, "answeringNumber": "201", **extra}


def only_call(in_db):
    with in_db():
        assert PhoneCall.select().count() == 1
        assert TimelineEntry.select().where(TimelineEntry.channel == "phone").count() == 1
        call = PhoneCall.get()
        entry = TimelineEntry.get_by_id(call.entry_id)
        return call, entry


def test_sequence_makes_one_entry_with_duration_and_answering_officer(client, make_beneficiary, officer_phone,
                                                                      in_db, clock, users):
    ben = make_beneficiary(mobile="0501234567")
    clock.at(0)
    response = post(client, **new_call())
    assert response.status_code == 200 and response.get_json() == {}
    call, entry = only_call(in_db)
    assert (call.state, entry.beneficiary_id, entry.direction) == ("ringing", ben, "in")
    assert entry.data["state"] == "ringing"
    clock.at(12)
    assert post(client, **answer()).status_code == 200
    clock.at(12 + 205)
    assert post(client, **hangup()).status_code == 200
    call, entry = only_call(in_db)
    assert call.state == "ended" and call.duration == 205 and call.answered_by_id == users["officer"]
    assert entry.actor_id == users["officer"]
    assert entry.data["duration"] == 205 and entry.data["answered_by"] == "نورة القحطاني"
    assert entry.data["cause"] == "normalClearing" and entry.data["missed"] is False
    assert entry.occurred_at == clock.base
    assert entry.summary == "مكالمة واردة من 0501234567"


def test_form_body_with_user_array(client, make_beneficiary, officer_phone, in_db, clock):
    ben = make_beneficiary(mobile="0501234567")
    form = new_call()
    form.pop("user")
    form["user[]"] = ["officer", "admin"]
    assert post(client, as_form=True, **form).status_code == 200
    clock.at(3)
    assert post(client, as_form=True, **answer(answeringNumber="", **{"user[]": ["officer"]})).status_code == 200
    clock.at(63)
    assert post(client, as_form=True, **hangup()).status_code == 200
    call, entry = only_call(in_db)
    assert call.notify_users.split("\n") == ["officer", "admin"]
    assert call.answered_by.username == "officer" and call.duration == 60 and entry.beneficiary_id == ben


@pytest.mark.parametrize("order", [
    ["newCall", "newCall", "answer", "answer", "hangup", "hangup"],
    ["answer", "newCall", "hangup"],
    ["hangup", "answer", "newCall"],
    ["newCall", "hangup", "answer", "newCall", "hangup"],
])
def test_repeated_and_reordered_events_still_make_one_entry(client, make_beneficiary, officer_phone, in_db,
                                                            clock, users, order):
    ben = make_beneficiary(mobile="0501234567")
    events = {"newCall": new_call(), "answer": answer(), "hangup": hangup()}
    for i, name in enumerate(order):
        clock.at(i * 10)
        assert post(client, **events[name]).status_code == 200
    call, entry = only_call(in_db)
    assert call.state == "ended" and entry.data["state"] == "ended"
    assert call.answered_by_id == users["officer"] and entry.beneficiary_id == ben
    assert call.duration is not None and call.duration >= 0 and entry.data["duration"] == call.duration
    assert call.started_at == clock.base  # the earliest event
    assert call.cause == "normalClearing"


def test_two_calls_two_entries(client, in_db):
    assert post(client, **new_call("a")).status_code == 200
    assert post(client, **new_call("b")).status_code == 200
    with in_db():
        assert TimelineEntry.select().count() == 2


@pytest.mark.parametrize("token", ["wrong", TOKEN[:-1], TOKEN + "x", "x" * 200])
def test_wrong_token_is_refused_and_stores_nothing(client, in_db, token):
    response = client.post(f"/api/v1/cti/{token}", json=new_call())
    assert response.status_code == 403 and "error" in response.get_json()
    with in_db():
        assert PhoneCall.select().count() == 0 and TimelineEntry.select().count() == 0


def test_no_token_configured_refuses_everything(app_config, in_db):
    from portal import create_app

    app = create_app(dict(app_config, PHONE_CTI_TOKEN=""))
    assert app.test_client().post("/api/v1/cti/", json=new_call()).status_code in (404, 405)
    assert app.test_client().post("/api/v1/cti/anything", json=new_call()).status_code == 403


@pytest.mark.parametrize("body, message", [
    ({"event": "newCall", "from": "0501234567", "direction": "in"}, "callId"),
    ({"event": "ring", "callId": "x"}, "unknown event"),
    ({"callId": "x"}, "event is required"),
    ({"event": "newCall", "callId": "x", "direction": "sideways"}, "direction"),
    ({"event": "newCall", "callId": "x" * 121}, "callId"),
    ({"event": "newCall", "callId": "x", "user": {"a": 1}}, "user"),
])
def test_bad_posts_answer_400_with_a_json_message(client, in_db, body, message):
    response = client.post(URL, json=body)
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    if "user" not in body:  # the same as form data
        assert client.post(URL, data=body).status_code == 400
    with in_db():
        assert PhoneCall.select().count() == 0


def test_body_that_is_not_a_json_object(client):
    response = client.post(URL, data="[1, 2]", content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]
    response = client.post(URL, data="{not json", content_type="application/json")
    assert response.status_code == 400


def test_anonymous_caller(client, in_db):
    assert post(client, **new_call(frm="anonymous")).status_code == 200
    assert post(client, **hangup(frm="anonymous", cause="cancel", **{"from": "anonymous"})).status_code == 200
    call, entry = only_call(in_db)
    assert call.anonymous and call.number == "" and entry.beneficiary_id is None
    assert entry.summary == "مكالمة واردة من رقم محجوب"


@pytest.mark.parametrize("typed", ["0501234567", "050 123 4567", "050-123-4567", "+966501234567",
                                   "00966501234567", "966501234567", "٠٥٠١٢٣٤٥٦٧", "+966 50 123 4567"])
def test_number_formats(typed):
    assert calls.normalize_number(typed) == ("+966501234567", False)


def test_the_saudi_fast_path_agrees_with_phonenumbers():
    """The per-row check of a Saudi number reads phonenumbers' own metadata: it must answer what
    ``is_valid_number`` answers, for valid numbers of every type and for numbers no type takes."""
    import random

    import phonenumbers

    rng = random.Random(2026)
    samples = ["501234567", "579012345", "579912345", "112345678", "126543210", "800123456", "8001234567",
               "920012345", "925012345", "123456789", "999999999", "5012345678", "50123456", "470000000"]
    samples += [str(rng.randrange(100_000_000, 999_999_999)) for _ in range(3000)]
    samples += ["5" + str(rng.randrange(10 ** 7, 10 ** 8)) for _ in range(1000)]
    for national in samples:
        expected = phonenumbers.is_valid_number(phonenumbers.PhoneNumber(country_code=966,
                                                                         national_number=int(national)))
        assert calls._saudi_valid(national) is expected, national
    assert calls.normalize_number("0111234567") == ("+966111234567", False)  # a Riyadh landline


def test_extension_and_withheld_numbers():
    assert calls.normalize_number("201") == ("201", False)
    assert calls.normalize_number("anonymous") == ("", True)
    assert calls.normalize_number("") == ("", True)


def test_missed_inbound_call_asks_for_one_call_back_task(client, make_beneficiary, in_db, outreach, clock):
    ben = make_beneficiary(mobile="0501234567")
    post(client, **new_call())
    clock.at(30)
    post(client, **hangup(cause="noAnswer"))
    post(client, **hangup(cause="noAnswer"))  # the PBX retries
    assert len(outreach.tasks) == 1
    task = outreach.tasks[0]
    assert task["kind"] == "call_back" and task["beneficiary"] == ben
    assert task["due"] == dt.date(2026, 11, 28) and task["source"]["channel"] == "phone"
    call, entry = only_call(in_db)
    assert call.missed and call.callback_requested and task["source"]["entry"] == entry.id
    assert entry.summary.startswith("مكالمة فائتة")


def test_busy_unknown_caller_still_gets_a_task(client, outreach):
    post(client, **new_call(frm="0551112223"))
    post(client, **hangup(cause="busy", **{"from": "0551112223"}))
    assert len(outreach.tasks) == 1 and outreach.tasks[0]["beneficiary"] is None


@pytest.mark.parametrize("cause, direction", [("normalClearing", "in"), ("cancel", "in"), ("noAnswer", "out")])
def test_answered_cancelled_or_outbound_calls_ask_for_no_task(client, outreach, cause, direction):
    post(client, **new_call(direction=direction))
    post(client, **hangup(cause=cause, direction=direction))
    assert outreach.tasks == []


def test_answering_number_matched_to_login(client, in_db, users):
    post(client, **new_call())
    post(client, **answer(answeringNumber="researcher"))
    call, entry = only_call(in_db)
    assert call.answered_by_id == users["researcher"]


def test_cti_is_exempt_from_csrf_but_forms_are_not(app_config, officer_phone):
    from portal import create_app

    app = create_app(dict(app_config, WTF_CSRF_ENABLED=True))
    client = app.test_client()
    assert client.post(URL, json=new_call()).status_code == 200
    assert client.post("/login", data={"username": "officer", "password": "x"}).status_code == 400


def test_incoming_notice_shows_the_screen_pop_to_the_addressed_officer(client, auth, make_beneficiary, in_db):
    make_beneficiary(first_name="هند", mobile="0501234567")
    post(client, **new_call(user=["officer"]))
    post(client, **new_call("c-2", frm="0559998887", user=["admin"]))
    auth.login("officer")
    page = client.get("/phone/incoming", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "هند" in page and 'hx-trigger="every 3s"' in page and "<html" not in page
    assert "055 999 8887" not in page  # addressed to someone else
    client.post(URL, json=hangup())
    page = client.get("/phone/incoming", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "هند" not in page


def test_openapi_documents_the_cti_route(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    item = doc["paths"]["/cti/{token}"]["post"]
    assert item["requestBody"]["content"]["application/json"]["schema"]["required"] == ["event", "callId"]
    assert set(item["responses"]) == {"200", "400", "403"}
