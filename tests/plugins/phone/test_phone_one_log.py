"""One phone log: a phone contact logged anywhere (the profile's generic contact form, the JSON API)
is a call in the Calls log, through the phone plugin's ``timeline_entry_created`` hook."""
import pytest

from plugins.phone.models import PhoneCall
from portal.models import TimelineEntry
from phone_fixtures import app_config, in_db, outreach  # noqa: F401


def test_a_phone_contact_from_the_profile_form_is_a_call_in_the_log(client, auth, make_beneficiary, in_db, users):
    ben = make_beneficiary(mobile="0501234567")
    auth.login("officer")
    response = client.post(f"/beneficiaries/{ben}/contacts", data={
        "channel": "phone", "direction": "out", "summary": "تذكير بموعد الزيارة", "body": "أكدت الحضور"})
    assert response.status_code == 302
    with in_db():
        entry = TimelineEntry.get()
        call = PhoneCall.get()
        assert (call.entry_id, call.beneficiary_id, call.source) == (entry.id, ben, "manual")
        assert (call.number, call.direction, call.state, call.answered_by_id) == (
            "+966501234567", "out", "ended", users["officer"])
        assert entry.data["source"] == "manual" and entry.data["call"] == call.id
        assert entry.data["topic"] == "تذكير بموعد الزيارة" and entry.summary == "تذكير بموعد الزيارة"
    log = client.get("/phone/?lang=en").get_data(as_text=True)
    assert f"/phone/calls/{call.id}" in log and "Outgoing" in log and 'href="tel:+966501234567"' in log
    assert 'href="https://wa.me/966501234567"' in log
    detail = client.get(f"/phone/calls/{call.id}?lang=en")
    assert detail.status_code == 200 and "تذكير بموعد الزيارة" in detail.get_data(as_text=True)
    timeline = client.get(f"/beneficiaries/{ben}/timeline?lang=en").get_data(as_text=True)
    assert "Outgoing call" in timeline and "050 123 4567" in timeline


@pytest.mark.needs_plugins("interview")
def test_other_channels_internal_notes_and_the_desks_own_calls_make_no_second_row(client, auth, make_beneficiary,
                                                                                  in_db):
    ben = make_beneficiary(mobile="0501234567")
    auth.login("officer")
    assert client.post(f"/beneficiaries/{ben}/contacts", data={
        "channel": "interview", "direction": "in", "summary": "ملاحظة"}).status_code == 302
    with in_db():
        from portal.models import Beneficiary
        from portal.timeline import log_entry

        log_entry(channel="phone", direction="internal", summary="ملاحظة داخلية",
                  beneficiary=Beneficiary.get_by_id(ben))
    assert client.post("/phone/calls/new", data={
        "direction": "in", "number": "0501234567", "topic": "سؤال", "outcome": "answered"}).status_code == 302
    with in_db():
        assert TimelineEntry.select().count() == 3
        assert PhoneCall.select().count() == 1  # the desk's own call, once
        assert PhoneCall.get().entry.summary == "سؤال"


def test_a_refused_contact_form_writes_no_call(client, auth, make_beneficiary, in_db):
    ben = make_beneficiary()
    auth.login("officer")
    response = client.post(f"/beneficiaries/{ben}/contacts", data={"channel": "phone", "direction": "in", "summary": ""})
    assert response.status_code == 422
    with in_db():
        assert PhoneCall.select().count() == 0 and TimelineEntry.select().count() == 0


def test_a_phone_contact_through_the_api_is_a_call(app, client, make_beneficiary, in_db, users):
    from portal.timeline import log_entry

    ben = make_beneficiary(mobile="0501234567")
    with in_db():
        from portal.models import Beneficiary, User

        log_entry(channel="phone", summary="اتصال", beneficiary=Beneficiary.get_by_id(ben), direction="in",
                  actor=User.get_by_id(users["officer"]))
        call = PhoneCall.get()
        assert call.beneficiary_id == ben and call.number == "+966501234567"
