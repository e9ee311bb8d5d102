"""The daily job's command, the demo data, an appointment's arrival at the desk, stopping weekly slots."""
import datetime as dt

from conftest import text_of

from interview_helpers import rows


def test_remind_command_and_demo_data(app, runner, users, make_beneficiary):
    from plugins.interview.models import Appointment, Interview, Slot, SlotTemplate
    from portal.models import TimelineEntry

    for _ in range(14):
        make_beneficiary()
    result = runner.invoke(args=["interview", "demo"])
    assert result.exit_code == 0, result.output
    assert rows(app, SlotTemplate) and rows(app, Slot)
    assert len(rows(app, Appointment)) >= 1 and len(rows(app, Interview)) >= 1
    assert all(e.data and e.data.get("purpose") for e in rows(app, TimelineEntry, TimelineEntry.channel == "interview"))
    result = runner.invoke(args=["interview", "remind"])
    assert result.exit_code == 0 and "slots: 0" in result.output


def test_an_appointment_arrives_at_the_desk(app, client, auth, users, make_slot, make_beneficiary):
    from plugins.interview.models import Appointment, Visit

    slot = make_slot(officer="admin")
    ben = make_beneficiary()
    auth.login("officer")
    client.post("/interview/appointments/new", data={"slot": str(slot), "ben": str(ben), "reason": "موعد مراجعة"})
    appt = rows(app, Appointment)[0]
    page = text_of(client.get("/interview/appointments?day=" + appt.slot.starts_at.date().isoformat()))
    assert "موعد مراجعة" in page or "محجوز" in page
    r = client.post(f"/interview/appointments/{appt.id}/arrived", follow_redirects=True)
    assert "التذكرة 1" in text_of(r)
    visit = rows(app, Visit)[0]
    assert visit.appointment_id == appt.id and visit.officer_id == users["admin"] and visit.status == "called"
    assert rows(app, Appointment)[0].status == "attended"
    # arriving twice is refused
    r = client.post(f"/interview/appointments/{appt.id}/arrived", follow_redirects=True)
    assert "لا يُسجَّل دخول إلا لموعد محجوز" in text_of(r)
    assert len(rows(app, Visit)) == 1


def test_stopping_weekly_slots_keeps_booked_ones(app, client, auth, users, make_beneficiary):
    from plugins.interview.models import Appointment, Slot, SlotTemplate

    auth.login("admin")
    client.post("/interview/slots/templates", data={"weekday": "0", "start": "09:00", "end": "10:00", "minutes": "30"})
    template = rows(app, SlotTemplate)[0]
    slots = rows(app, Slot)
    ben = make_beneficiary()
    client.post("/interview/appointments/new", data={"slot": str(slots[0].id), "ben": str(ben)})
    assert len(rows(app, Appointment)) == 1
    client.post(f"/interview/slots/templates/{template.id}/stop")
    active = [s.id for s in rows(app, Slot) if s.active]
    assert active == [slots[0].id]
    assert not rows(app, SlotTemplate)[0].active
    page = text_of(client.get("/interview/slots"))
    assert "لا أوقات أسبوعية بعد" in page


def test_english_pages(app, client, auth, make_slot):
    make_slot()
    auth.login("officer")
    client.post("/language", data={"lang": "en", "next": "/interview/desk"})
    page = client.get("/interview/desk").get_data(as_text=True)
    assert 'dir="ltr"' in page and "Check in a visitor" in page
    assert "Book an appointment" in client.get("/site/appointments").get_data(as_text=True)
