"""Appointments: slots (weekly templates and single ones), staff and public booking, the last slot booked
twice at once, no booking in the past or on a Friday, reminders, cancellation and no-show, the API."""
import datetime as dt
import threading

import pytest
from conftest import registered, text_of

from interview_helpers import rows


def _open_day():
    from portal.dates import saudi_today

    day = saudi_today() + dt.timedelta(days=1)
    while day.weekday() in (4, 5):
        day += dt.timedelta(days=1)
    return day


def test_two_bookings_of_the_last_slot_at_once_one_wins(app, users, make_slot, make_beneficiary, in_db):
    from plugins.interview import service as svc
    from plugins.interview.models import Appointment
    from portal.models import Beneficiary

    slot = make_slot()
    people = [make_beneficiary(), make_beneficiary()]
    barrier = threading.Barrier(2)
    won, refused, errors = [], [], []

    def book(ben_id):
        try:
            with in_db():
                ben = Beneficiary.get_by_id(ben_id)
                barrier.wait(timeout=10)
                try:
                    won.append(svc.book(slot_id=str(slot), beneficiary=ben, reason="r").id)
                except svc.DeskError as exc:
                    refused.append((exc.code, str(exc.message)))
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=book, args=(b,)) for b in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(won) == 1 and len(refused) == 1
    assert refused[0][0] == "taken" and "حجز شخص آخر هذا الوقت للتو" in refused[0][1]
    assert len(rows(app, Appointment)) == 1


def test_the_loser_gets_a_clear_message_in_arabic(app, client, auth, make_slot, make_beneficiary):
    slot = make_slot()
    a, b = make_beneficiary(), make_beneficiary()
    auth.login("officer")
    assert client.post("/interview/appointments/new", data={"slot": str(slot), "ben": str(a)}).status_code == 302
    r = client.post("/interview/appointments/new", data={"slot": str(slot), "ben": str(b), "reason": "مراجعة"})
    assert r.status_code == 422
    assert "حجز شخص آخر هذا الوقت للتو" in text_of(r)
    assert 'value="مراجعة"' in r.get_data(as_text=True)


def test_no_booking_in_the_past_or_on_a_friday(app, client, auth, make_slot, make_beneficiary, in_db):
    from plugins.interview.models import Appointment
    from portal.dates import saudi_today

    ben = make_beneficiary()
    past = make_slot(day=saudi_today() - dt.timedelta(days=2))
    friday = saudi_today() + dt.timedelta(days=1)
    while friday.weekday() != 4:
        friday += dt.timedelta(days=1)
    on_friday = make_slot(day=friday)
    auth.login("officer")
    r = client.post("/interview/appointments/new", data={"slot": str(past), "ben": str(ben)})
    assert r.status_code == 422 and "هذا الوقت مضى" in text_of(r)
    r = client.post("/interview/appointments/new", data={"slot": str(on_friday), "ben": str(ben)})
    assert r.status_code == 422 and "المكاتب مغلقة يوم الجمعة" in text_of(r)
    assert rows(app, Appointment) == []
    # and a slot cannot be made on a Friday either
    auth.logout()
    auth.login("admin")
    r = client.post("/interview/slots/one", data={"day": friday.isoformat(), "time": "10:00", "minutes": "30"})
    assert r.status_code == 422 and "المكاتب مغلقة يوم الجمعة" in text_of(r)


def test_saturday_is_configurable(app_config, make_beneficiary):
    from portal import create_app
    from portal.db import database

    for open_saturday, ok in ((False, False), (True, True)):
        app = create_app(dict(app_config, INTERVIEW_SATURDAY_OPEN=open_saturday))
        with app.test_request_context(), database.connection_context():
            from plugins.interview import service as svc
            from portal.dates import from_saudi, saudi_today

            saturday = saudi_today() + dt.timedelta(days=1)
            while saturday.weekday() != 5:
                saturday += dt.timedelta(days=1)
            starts = from_saudi(dt.datetime.combine(saturday, dt.time(10)))
            if ok:
                svc.check_bookable_time(starts)
            else:
                with pytest.raises(svc.DeskError):
                    svc.check_bookable_time(starts)


def test_weekly_templates_make_slots_on_open_days_only(app, client, auth, users, in_db):
    from plugins.interview.models import Slot

    auth.login("manager")
    r = client.post("/interview/slots/templates", data={"weekday": "6", "start": "09:00", "end": "10:30",
                                                        "minutes": "30", "officer": str(users["officer"])})
    assert r.status_code == 302
    slots = rows(app, Slot)
    assert slots and all(s.officer_id == users["officer"] for s in slots)
    from portal.dates import to_saudi

    assert {to_saudi(s.starts_at).weekday() for s in slots} == {6}
    assert {to_saudi(s.starts_at).strftime("%H:%M") for s in slots} == {"09:00", "09:30", "10:00"}
    count = len(slots)
    with in_db():
        from plugins.interview import service as svc

        assert svc.generate_slots() == 0  # idempotent
    assert len(rows(app, Slot)) == count
    r = client.post("/interview/slots/templates", data={"weekday": "4", "start": "09:00", "end": "10:00",
                                                        "minutes": "30"})
    assert r.status_code == 422 and "المكاتب مغلقة في ذلك اليوم" in text_of(r)


def test_cancel_frees_the_slot_and_no_show_is_recorded(app, client, auth, make_slot, make_beneficiary, in_db):
    from plugins.interview.models import Appointment

    slot = make_slot()
    a, b = make_beneficiary(), make_beneficiary()
    auth.login("officer")
    client.post("/interview/appointments/new", data={"slot": str(slot), "ben": str(a)})
    appt = rows(app, Appointment)[0]
    client.post(f"/interview/appointments/{appt.id}/cancel", data={"reason": "سافر"})
    appt = rows(app, Appointment, Appointment.id == appt.id)[0]
    assert appt.status == "cancelled" and appt.holds is None and appt.cancel_reason == "سافر"
    assert client.post("/interview/appointments/new", data={"slot": str(slot), "ben": str(b)}).status_code == 302
    second = rows(app, Appointment, Appointment.beneficiary == b)[0]
    # not yet its time: no no-show
    r = client.post(f"/interview/appointments/{second.id}/no-show", follow_redirects=True)
    assert "لم يحن وقت الموعد بعد" in text_of(r)
    from portal.db import database
    from plugins.interview.models import Slot

    with app.app_context(), database.connection_context():
        row = Slot.get_by_id(slot)
        Slot.update(starts_at=row.starts_at - dt.timedelta(days=10)).where(Slot.id == slot).execute()
    client.post(f"/interview/appointments/{second.id}/no-show")
    assert rows(app, Appointment, Appointment.id == second.id)[0].status == "no_show"


def test_reminders_the_day_before_are_sent_once(app, users, make_slot, make_beneficiary, in_db):
    from plugins.interview import service as svc
    from plugins.interview.models import Appointment
    from portal import hookimpl
    from portal.dates import from_saudi, saudi_today
    from portal.models import Beneficiary

    sent = []

    class Transport:
        @hookimpl(tryfirst=True)
        def send_message(self, beneficiary, text, purpose, channel, context):
            sent.append((beneficiary.id, purpose, text))
            return {"channel": "test", "id": str(len(sent))}

    tomorrow = saudi_today() + dt.timedelta(days=1)
    slot = make_slot(day=tomorrow, hour=11)
    ben = make_beneficiary()
    with in_db():
        svc.book(slot_id=str(slot), beneficiary=Beneficiary.get_by_id(ben), reason="r",
                 now=from_saudi(dt.datetime.combine(saudi_today(), dt.time(8))))
        with registered(app, Transport(), "test-transport"):
            first = svc.send_reminders()
            again = svc.send_reminders()
    assert first["sent"] == 1 and again == {"sent": 0, "queued": 0, "not_sent": 0}
    assert sent[0][0] == ben and sent[0][1] == "appointment_reminder"
    assert "غدًا" in sent[0][2] and "\u2068" in sent[0][2]  # the date and time are isolated
    assert rows(app, Appointment)[0].reminder_state == "sent"


def test_a_reminder_nobody_can_send_is_not_called_sent(app, make_slot, make_beneficiary, in_db):
    from plugins.interview import service as svc
    from plugins.interview.models import Appointment
    from portal.dates import saudi_today
    from portal.models import Beneficiary

    slot = make_slot(day=saudi_today() + dt.timedelta(days=1), hour=23)
    ben = make_beneficiary()
    with in_db():
        Appointment.create(slot=slot, holds=slot, beneficiary=Beneficiary.get_by_id(ben), name="x", mobile="")
        counts = svc.send_reminders()
    assert counts["sent"] == 0 and counts["not_sent"] + counts["queued"] == 1
    assert rows(app, Appointment)[0].reminder_state in ("not_sent", "queued")


def test_public_booking_with_national_id_and_mobile(app, client, make_slot, make_beneficiary):
    from plugins.interview.models import Appointment

    slot = make_slot()
    ben = make_beneficiary(national_id="1000000008", mobile="0551234567")
    page = client.get("/site/appointments")
    assert page.status_code == 200 and f'value="{slot}"' in page.get_data(as_text=True)
    r = client.post("/site/appointments", data={"has_file": "yes", "national_id": "1000000008",
                                                "mobile": "0559999999", "slot": str(slot)})
    assert r.status_code == 422 and "لم نجد ملفًا بهذا الرقم ورقم الجوال معًا" in text_of(r)
    r = client.post("/site/appointments", data={"has_file": "yes", "national_id": "1000000009",
                                                "mobile": "0551234567", "slot": str(slot)})
    assert r.status_code == 422 and 'value="1000000009"' in r.get_data(as_text=True)
    r = client.post("/site/appointments", data={"has_file": "yes", "national_id": "1000000008",
                                                "mobile": "055 123 4567", "slot": str(slot), "reason": "استفسار"},
                    follow_redirects=True)
    assert r.status_code == 200 and "تم حجز موعدك" in text_of(r)
    appt = rows(app, Appointment)[0]
    assert appt.beneficiary_id == ben and appt.source == "site"


def test_public_booking_as_a_new_visitor_and_a_taken_slot(app, client, make_slot):
    from plugins.interview.models import Appointment

    slot = make_slot()
    data = {"has_file": "no", "name": "منيرة سعد", "mobile": "0551230000", "slot": str(slot)}
    assert client.post("/site/appointments", data=data).status_code == 302
    r = client.post("/site/appointments", data=dict(data, name="آخر"))
    assert r.status_code == 409 and "حجز شخص آخر هذا الوقت للتو" in text_of(r)
    assert [a.name for a in rows(app, Appointment)] == ["منيرة سعد"]


def test_public_booking_can_be_switched_off(app_config):
    from portal import create_app

    app = create_app(dict(app_config, INTERVIEW_PUBLIC_BOOKING=False))
    assert app.test_client().get("/site/appointments").status_code == 404


def test_api_list_book_cancel(app, client, users, make_slot, make_beneficiary, in_db):
    from portal.api import create_token
    from portal.models import User

    slot, other = make_slot(), make_slot(hour=11)
    ben = make_beneficiary()
    with in_db():
        token = create_token(User.get_by_id(users["officer"]), "t")
        committee = create_token(User.get_by_id(users["committee"]), "t")
    h = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/appointments", json={"slot": slot},
                       headers={"Authorization": f"Bearer {committee}"}).status_code == 403
    r = client.post("/api/v1/appointments", json={"slot": slot, "beneficiary": ben, "reason": "x"}, headers=h)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["status"] == "booked" and body["beneficiary"] == ben
    assert client.post("/api/v1/appointments", json={"slot": slot, "name": "س", "mobile": "0551112299"},
                       headers=h).status_code == 409
    assert client.post("/api/v1/appointments", json={"slot": other, "name": "", "mobile": "1"},
                       headers=h).status_code == 422
    day = body["starts_at"][:10]
    listed = client.get(f"/api/v1/appointments?day={day}", headers=h).get_json()
    assert [a["id"] for a in listed["appointments"]] == [body["id"]]
    r = client.post(f"/api/v1/appointments/{body['id']}/cancel", json={"reason": "اعتذر"}, headers=h)
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    assert client.post(f"/api/v1/appointments/{body['id']}/cancel", json={}, headers=h).status_code == 409


def test_todays_appointments_on_the_officers_dashboard(app, client, auth, users, make_beneficiary, in_db):
    from plugins.interview.models import Appointment, Slot
    from portal.dates import from_saudi, saudi_today
    from portal.models import Beneficiary, User

    ben = make_beneficiary(first_name="ريم")
    with in_db():
        slot = Slot.create(officer=User.get_by_id(users["officer"]), officer_key=users["officer"],
                           starts_at=from_saudi(dt.datetime.combine(saudi_today(), dt.time(23, 30))))
        Appointment.create(slot=slot, holds=slot.id, beneficiary=Beneficiary.get_by_id(ben), name="ريم")
    auth.login("officer")
    page = text_of(client.get("/"))
    assert "مواعيد اليوم" in page and "ريم" in page


def test_self_service_booking_books_the_first_free_slot_once(app, make_slot, make_beneficiary, in_db):
    """The answer to the self-service menu's ``self_service_booking`` (plugins/help_requests)."""
    import plugins.interview as plugin
    from plugins.interview.models import Appointment
    from portal.models import Beneficiary

    ben = make_beneficiary()
    with in_db():
        assert plugin.self_service_booking(beneficiary=Beneficiary.get_by_id(ben), channel="sms") is None
    later, first = make_slot(hour=12), make_slot(hour=9)
    with in_db():
        answer = plugin.self_service_booking(beneficiary=Beneficiary.get_by_id(ben), channel="sms")
        again = plugin.self_service_booking(beneficiary=Beneficiary.get_by_id(ben), channel="sms")
    assert "موعدك" in answer["text"] and "\u2068" in answer["text"] and "09:00" in answer["text"]
    assert again == answer
    booked = rows(app, Appointment)
    assert [(a.slot_id, a.source) for a in booked] == [(first, "self_service")]
    assert later != first
