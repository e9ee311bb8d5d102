"""Access rules of the interview channel's routes (reception desk, appointments, slots, interview records,
the public booking page and the appointments API)."""
from . import STAFF, rule

DESK = ("officer", "admin")
APPOINTMENTS = ("officer", "admin", "manager")
SLOTS = ("admin", "manager")
# Researchers may record interviews on the files of the requests assigned to them ({ben} has one; the file's
# scope refuses the others: tests/plugins/interview/test_interview_record.py).
RECORD = ("officer", "researcher", "admin")

ACCESS = {
    "interview.desk": rule("GET", "/interview/desk", DESK),
    "interview.desk_waiting": rule("GET", "/interview/desk/waiting", DESK),
    "interview.desk_check_in": rule("POST", "/interview/desk/check-in", DESK),
    "interview.desk_call_next": rule("POST", "/interview/desk/call-next", DESK),
    "interview.visit_hand_over": rule("POST", "/interview/visits/{visit}/hand-over", DESK),
    "interview.visit_start": rule("POST", "/interview/visits/{visit}/start", DESK),
    "interview.visit_finish": rule("POST", "/interview/visits/{visit}/finish", DESK),
    "interview.visit_left": rule("POST", "/interview/visits/{visit}/left", DESK),
    "interview.visit_link": rule("POST", "/interview/visits/{visit}/link", DESK),
    "interview.new_interview": rule("GET", "/interview/beneficiaries/{ben}/new", RECORD),
    "interview.record_interview": rule("POST", "/interview/beneficiaries/{ben}/new", RECORD),
    "interview.interview_detail": rule("GET", "/interview/records/{record}", RECORD),
    "interview.interview_pdf": rule("GET", "/interview/records/{record}/summary.pdf", RECORD),
    # only the researcher the beneficiary was referred to
    "interview.referral_explained": rule("POST", "/interview/records/{record}/explained", ("researcher",)),
    "interview.appointments": rule("GET", "/interview/appointments", APPOINTMENTS),
    "interview.appointment_new": rule("GET", "/interview/appointments/new", DESK),
    "interview.appointment_create": rule("POST", "/interview/appointments/new", DESK),
    "interview.appointment_cancel": rule("POST", "/interview/appointments/{appt}/cancel", DESK),
    "interview.appointment_no_show": rule("POST", "/interview/appointments/{appt}/no-show", DESK),
    "interview.appointment_arrived": rule("POST", "/interview/appointments/{appt}/arrived", DESK),
    "interview.slots": rule("GET", "/interview/slots", SLOTS),
    "interview.slot_template_add": rule("POST", "/interview/slots/templates", SLOTS),
    "interview.slot_template_stop": rule("POST", "/interview/slots/templates/{slot_template}/stop", SLOTS),
    "interview.slot_add": rule("POST", "/interview/slots/one", SLOTS),
    "interview.api_appointments": rule("GET", "/api/v1/appointments", APPOINTMENTS, anonymous="401"),
    "interview.api_book": rule("POST", "/api/v1/appointments", DESK, anonymous="401"),
    "interview.api_cancel": rule("POST", "/api/v1/appointments/{appt}/cancel", DESK, anonymous="401"),
    # the public booking page: no account
    "interview_site.public_booking": rule("GET", "/site/appointments", STAFF, anonymous="ok"),
    "interview_site.public_book": rule("POST", "/site/appointments", STAFF, anonymous="ok"),
    "interview_site.public_booked": rule("GET", "/site/appointments/booked", STAFF, anonymous="ok"),
}


def FIXTURES(app):
    """``{visit}`` a walk-in of today, ``{appt}`` a booked appointment, ``{record}`` an interview with
    ``{ben}`` referred to the researcher, ``{slot_template}`` a weekly slot pattern."""
    import datetime as dt

    from plugins.interview.models import Appointment, Interview, Slot, SlotTemplate, Visit
    from portal.dates import from_saudi, saudi_today
    from portal.models import Beneficiary, Branch, User
    from portal.timeline import log_entry

    ben = (Beneficiary.select().join(Branch).where(Branch.code == "TAIF")  # {ben}
           .order_by(Beneficiary.id).first())
    researcher = User.get(User.username == "researcher")
    visit = Visit.create(day=saudi_today(), ticket=1, name="زائر", mobile="+966551112233", reason="r")
    slot = Slot.create(starts_at=from_saudi(dt.datetime.combine(saudi_today() + dt.timedelta(days=400), dt.time(10))))
    appt = Appointment.create(slot=slot, holds=slot.id, name="زائر", mobile="+966551112233")
    entry = log_entry(channel="interview", summary="مقابلة", beneficiary=ben, data={"purpose": "مقابلة"})
    record = Interview.create(entry=entry, beneficiary=ben, form_token="access-1", purpose="مقابلة",
                              outcome="x", referred_to=researcher, referral_question="شرح")
    template = SlotTemplate.create(weekday=6, start="09:00", end="10:00")
    return {"visit": visit.id, "appt": appt.id, "record": record.id, "slot_template": template.id}
