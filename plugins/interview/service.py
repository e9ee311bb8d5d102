"""The interview channel's rules: the reception desk (check-in, tickets, waiting list, calling, handing
over, the time given), appointment slots and bookings, reminders, and the interview record.

Every change is one transaction; the views and the API only translate forms and JSON into these calls."""
from __future__ import annotations

import datetime as dt
import secrets

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import JOIN, IntegrityError

from portal.audit import audit
from portal.dates import format_hijri, from_saudi, saudi_date, saudi_day_bounds, saudi_today, to_saudi
from portal.db import database, utcnow
from portal.models import Beneficiary, Branch, User
from portal.plugins import hook
from portal.scope import can_see_beneficiary
from portal.sequences import next_value
from portal.text import clean_text, isolate
from portal.timeline import log_entry
from portal.validators import ValidationError, clean_mobile, clean_national_id

from .models import Appointment, Interview, Slot, SlotTemplate, Visit

CHANNEL = "interview"
FRIDAY = 4
SATURDAY = 5
MAX_QUESTIONS = 20


class DeskError(Exception):
    """A refused change: ``message`` for the page, ``fields`` for the form's fields."""

    def __init__(self, message, fields: dict | None = None, code: str = ""):
        super().__init__(str(message))
        self.message = message
        self.fields = fields or {}
        self.code = code


def branch_key(branch) -> int:
    return getattr(branch, "id", branch) or 0


def user_label(user) -> str:
    return user.full_name or user.username if user else ""


# --- the reception desk -----------------------------------------------------------------------------

def resolve_visitor(form: dict, user) -> dict:
    """The visitor of a check-in form: a file chosen from the search, a file found by its national ID, or
    a new visitor (name and mobile). Returns ``{"beneficiary", "name", "mobile"}``; raises DeskError."""
    errors = {}
    ben = None
    chosen = clean_text(form.get("beneficiary"))
    nid_text = clean_text(form.get("national_id"))
    name = clean_text(form.get("name"))[:160]
    mobile_text = clean_text(form.get("mobile"))
    if chosen:
        ben = Beneficiary.get_or_none(Beneficiary.id == int(chosen)) if chosen.isdigit() else None
        if ben is None or not can_see_beneficiary(ben, user):
            errors["beneficiary"] = _l("Choose a file from the search results.")
    elif nid_text:
        try:
            nid = clean_national_id(nid_text)
        except ValidationError as exc:
            errors["national_id"] = exc.message
        else:
            ben = Beneficiary.get_or_none(Beneficiary.national_id == nid)
            if ben is not None and not can_see_beneficiary(ben, user):
                ben = None
            if ben is None and not name:
                errors["national_id"] = _l("No file has this ID number. Check in the visitor as new: "
                                           "write the name and the mobile number.")
    if ben is None and not errors:
        if not name:
            errors["name"] = _l("Find the visitor's file, or write the name of a new visitor.")
        try:
            mobile = clean_mobile(mobile_text)
        except ValidationError as exc:
            errors["mobile"] = exc.message
    if errors:
        raise DeskError(_l("The visitor was not checked in. Check the fields marked below."), errors)
    if ben is not None:
        return {"beneficiary": ben, "name": ben.full_name, "mobile": ben.mobile}
    return {"beneficiary": None, "name": name, "mobile": mobile}


def check_in(*, branch, form: dict, actor, appointment=None, now=None) -> Visit:
    """Give the visitor the next ticket of the branch for today (gap-free, concurrency-safe)."""
    reason = clean_text(form.get("reason"))
    errors = {}
    if not reason:
        errors["reason"] = _l("Write the reason of the visit.")
    elif len(reason) > 300:
        errors["reason"] = _l("Too long: at most %(n)s characters.", n=300)
    try:
        visitor = resolve_visitor(form, actor)
    except DeskError as exc:
        exc.fields.update(errors)
        raise
    if errors:
        raise DeskError(_l("The visitor was not checked in. Check the fields marked below."), errors)
    now = now or utcnow()
    day = saudi_date(now)
    key = branch_key(branch)
    with database.atomic():
        ticket = next_value(f"interview-ticket:{key}:{day:%Y%m%d}")
        visit = Visit.create(branch=branch, branch_key=key, day=day, ticket=ticket, reason=reason,
                             beneficiary=visitor["beneficiary"], name=visitor["name"], mobile=visitor["mobile"],
                             appointment=appointment, checked_in_at=now, checked_in_by=actor)
        if appointment is not None:
            _mark(appointment, "attended", actor)
        audit("create", "interview_visit", visit.id, {"ticket": ticket, "branch": key}, actor=actor)
    return visit


def waiting_list(branch, day: dt.date | None = None):
    """Today's visits of the branch that are not finished, in ticket order, with their officer."""
    day = day or saudi_today()
    officer = User.alias()
    return list(Visit.select(Visit, Beneficiary, officer)
                .join(Beneficiary, JOIN.LEFT_OUTER, on=(Visit.beneficiary == Beneficiary.id), attr="beneficiary")
                .switch(Visit).join(officer, JOIN.LEFT_OUTER, on=(Visit.officer == officer.id), attr="officer")
                .where((Visit.branch_key == branch_key(branch)) & (Visit.day == day)
                       & Visit.status.in_(("waiting", "called", "in_service")))
                .order_by(Visit.ticket))


def finished_today(branch, day: dt.date | None = None, limit: int = 50):
    day = day or saudi_today()
    officer = User.alias()
    return list(Visit.select(Visit, officer)
                .join(officer, JOIN.LEFT_OUTER, on=(Visit.officer == officer.id), attr="officer")
                .where((Visit.branch_key == branch_key(branch)) & (Visit.day == day)
                       & Visit.status.in_(("done", "left")))
                .order_by(Visit.ticket.desc()).limit(limit))


def _move(visit: Visit, expected: tuple, actor, **fields) -> bool:
    """Change a visit only if it is still in one of the ``expected`` states (two clerks, one click wins)."""
    with database.atomic():
        done = (Visit.update(**fields).where((Visit.id == visit.id) & Visit.status.in_(expected)).execute())
        if done:
            audit("update", "interview_visit", visit.id, {k: str(v) for k, v in fields.items()
                                                           if k in ("status", "officer")}, actor=actor)
    return bool(done)


def call_next(*, branch, officer, now=None) -> Visit | None:
    """The officer calls the next visitor: the lowest waiting ticket handed to them or to nobody."""
    now = now or utcnow()
    for _attempt in range(5):
        nxt = (Visit.select().where((Visit.branch_key == branch_key(branch)) & (Visit.day == saudi_date(now))
                                    & (Visit.status == "waiting")
                                    & (Visit.officer.is_null() | (Visit.officer == officer.id)))
               .order_by(Visit.ticket).first())
        if nxt is None:
            return None
        if _move(nxt, ("waiting",), officer, status="called", officer=officer.id, called_at=now):
            return Visit.get_by_id(nxt.id)
    return None


def hand_over(visit: Visit, *, officer: User, actor) -> None:
    """The receptionist sends a waiting (or called) visitor to ``officer``."""
    if officer is None or not officer.is_active:
        raise DeskError(_l("Choose an officer."), {"officer": _l("Choose an officer.")})
    if not _move(visit, ("waiting", "called"), actor, status="called", officer=officer.id,
                 called_at=visit.called_at or utcnow()):
        raise DeskError(_l("This visitor is already being served or has left."))


def start(visit: Visit, *, actor, now=None) -> None:
    now = now or utcnow()
    if not _move(visit, ("waiting", "called"), actor, status="in_service", started_at=now,
                 officer=visit.officer_id or actor.id, called_at=visit.called_at or now):
        raise DeskError(_l("This visitor is already being served or has left."))


def finish(visit: Visit, *, actor, now=None) -> None:
    now = now or utcnow()
    if not _move(visit, ("in_service",), actor, status="done", ended_at=now):
        raise DeskError(_l("This visit is not in progress."))


def left(visit: Visit, *, actor, now=None) -> None:
    if not _move(visit, ("waiting", "called"), actor, status="left", ended_at=now or utcnow()):
        raise DeskError(_l("This visitor is already being served or has left."))


def waited(visit: Visit, now=None) -> dt.timedelta:
    return (visit.called_at or visit.started_at or now or utcnow()) - visit.checked_in_at


def time_given(visit) -> dt.timedelta | None:
    if visit.started_at and visit.ended_at:
        return visit.ended_at - visit.started_at
    return None


def minutes(delta: dt.timedelta | None) -> int | None:
    return None if delta is None else max(0, int(delta.total_seconds() // 60))


# --- slots and appointments --------------------------------------------------------------------------

def closed_weekdays() -> set[int]:
    closed = {FRIDAY}
    if not current_app.config["INTERVIEW_SATURDAY_OPEN"]:
        closed.add(SATURDAY)
    return closed


def check_bookable_time(starts_at: dt.datetime, now=None) -> None:
    """Refuse a time in the past or on a day the offices are closed (``starts_at`` is naive UTC)."""
    now = now or utcnow()
    if starts_at <= now:
        raise DeskError(_l("This time has passed. Choose a time in the future."), {"slot": _l("This time has passed.")})
    local = to_saudi(starts_at)
    if local.weekday() == FRIDAY:
        raise DeskError(_l("The offices are closed on Fridays. Choose another day."),
                        {"slot": _l("The offices are closed on Fridays.")})
    if local.weekday() in closed_weekdays():
        raise DeskError(_l("The offices are closed on Saturdays. Choose another day."),
                        {"slot": _l("The offices are closed on Saturdays.")})
    horizon = saudi_today(now) + dt.timedelta(days=int(current_app.config["INTERVIEW_BOOKING_DAYS"]))
    if local.date() > horizon:
        raise DeskError(_l("Appointments can be booked at most %(n)s days ahead.",
                           n=current_app.config["INTERVIEW_BOOKING_DAYS"]))


def parse_local(day_text: str, time_text: str) -> dt.datetime:
    """A Saudi date and time typed in a form -> naive UTC; raises DeskError."""
    from portal.dates import parse_date
    from portal.text import fold_digits

    try:
        day = parse_date(day_text)
    except ValidationError as exc:
        raise DeskError(exc.message, {"day": exc.message}) from None
    if day is None:
        raise DeskError(_l("Give the day."), {"day": _l("Give the day.")})
    try:
        clock = dt.time.fromisoformat(fold_digits(time_text or "").strip())
    except ValueError:
        raise DeskError(_l("Write the time as hours:minutes (09:30)."),
                        {"time": _l("Write the time as hours:minutes (09:30).")}) from None
    return from_saudi(dt.datetime.combine(day, clock))


def add_slot(*, branch, officer, starts_at: dt.datetime, minutes_long: int, actor, template_id=None,
             check=True) -> Slot | None:
    """One bookable time; None when the same officer already has a slot starting then."""
    if check:
        check_bookable_time(starts_at)
    if not 5 <= minutes_long <= 240:
        raise DeskError(_l("A slot lasts from 5 to 240 minutes."), {"minutes": _l("A slot lasts from 5 to 240 minutes.")})
    with database.atomic():
        query = Slot.insert(branch=branch, branch_key=branch_key(branch), officer=officer,
                            officer_key=getattr(officer, "id", officer) or 0, starts_at=starts_at,
                            minutes=minutes_long, template_id=template_id, active=True,
                            created_at=utcnow()).on_conflict_ignore()
        if database.execute(query).rowcount != 1:
            return None
        slot = Slot.get((Slot.branch_key == branch_key(branch)) & (Slot.officer_key == (getattr(officer, "id", officer) or 0))
                        & (Slot.starts_at == starts_at))
        if actor is not None:
            audit("create", "interview_slot", slot.id, {"starts_at": starts_at.isoformat()}, actor=actor)
    return slot


def parse_clock(text: str, field: str) -> dt.time:
    from portal.text import fold_digits

    try:
        return dt.time.fromisoformat(fold_digits(text or "").strip())
    except ValueError:
        raise DeskError(_l("Write the time as hours:minutes (09:30)."),
                        {field: _l("Write the time as hours:minutes (09:30).")}) from None


def add_template(*, branch, officer, weekday: int, start: str, end: str, minutes_long: int, actor) -> SlotTemplate:
    begin, finish_at = parse_clock(start, "start"), parse_clock(end, "end")
    if weekday not in range(7):
        raise DeskError(_l("Choose a day of the week."), {"weekday": _l("Choose a day of the week.")})
    if weekday == FRIDAY or weekday in closed_weekdays():
        raise DeskError(_l("The offices are closed on that day."), {"weekday": _l("The offices are closed on that day.")})
    if finish_at <= begin:
        raise DeskError(_l("The end must come after the start."), {"end": _l("The end must come after the start.")})
    if not 5 <= minutes_long <= 240:
        raise DeskError(_l("A slot lasts from 5 to 240 minutes."), {"minutes": _l("A slot lasts from 5 to 240 minutes.")})
    with database.atomic():
        row = SlotTemplate.create(branch=branch, officer=officer, weekday=weekday, start=begin.strftime("%H:%M"),
                                  end=finish_at.strftime("%H:%M"), minutes=minutes_long)
        audit("create", "interview_slot_template", row.id, {"weekday": weekday}, actor=actor)
    generate_slots()
    return row


def generate_slots(now=None) -> int:
    """Materialise the weekly templates into slots for the booking window (idempotent)."""
    now = now or utcnow()
    today = saudi_today(now)
    days = int(current_app.config["INTERVIEW_BOOKING_DAYS"])
    closed = closed_weekdays()
    made = 0
    templates = list(SlotTemplate.select().where(SlotTemplate.active == True))  # noqa: E712
    for offset in range(days + 1):
        day = today + dt.timedelta(days=offset)
        if day.weekday() in closed:
            continue
        for tpl in templates:
            if tpl.weekday != day.weekday():
                continue
            at = dt.datetime.combine(day, dt.time.fromisoformat(tpl.start))
            end = dt.datetime.combine(day, dt.time.fromisoformat(tpl.end))
            while at + dt.timedelta(minutes=tpl.minutes) <= end:
                starts = from_saudi(at)
                if starts > now and add_slot(branch=tpl.branch_id, officer=tpl.officer_id, starts_at=starts,
                                             minutes_long=tpl.minutes, actor=None, template_id=tpl.id, check=False):
                    made += 1
                at += dt.timedelta(minutes=tpl.minutes)
    return made


def free_slots(*, branch=None, day: dt.date | None = None, officer=None, now=None, limit: int = 200):
    """Future active slots that no live appointment holds, on open days, earliest first."""
    now = now or utcnow()
    held = Appointment.select(Appointment.holds).where(Appointment.holds.is_null(False))
    query = (Slot.select(Slot, Branch, User)
             .join(Branch, JOIN.LEFT_OUTER, on=(Slot.branch == Branch.id), attr="branch")
             .switch(Slot).join(User, JOIN.LEFT_OUTER, on=(Slot.officer == User.id), attr="officer")
             .where((Slot.active == True) & (Slot.starts_at > now) & Slot.id.not_in(held)))  # noqa: E712
    if branch is not None:
        query = query.where(Slot.branch_key == branch_key(branch))
    if officer is not None:
        query = query.where(Slot.officer == officer)
    if day is not None:
        start, end = saudi_day_bounds(day)
        query = query.where((Slot.starts_at >= start) & (Slot.starts_at < end))
    closed = closed_weekdays()
    return [s for s in query.order_by(Slot.starts_at, Slot.id).limit(limit)
            if to_saudi(s.starts_at).weekday() not in closed]


def book(*, slot_id, beneficiary=None, name: str = "", mobile: str = "", reason: str = "", source: str = "staff",
         actor=None, now=None) -> Appointment:
    """Book one slot. Two bookings of the same slot at once: the unique ``holds`` index lets one win and the
    other gets a DeskError with a clear message."""
    slot = Slot.get_or_none((Slot.id == slot_id) & (Slot.active == True)) if str(slot_id).isdigit() else None  # noqa: E712
    if slot is None:
        raise DeskError(_l("Choose one of the free times."), {"slot": _l("Choose one of the free times.")})
    check_bookable_time(slot.starts_at, now)
    reason = clean_text(reason)
    if len(reason) > 300:
        raise DeskError(_l("Too long: at most %(n)s characters.", n=300), {"reason": _l("Too long: at most %(n)s characters.", n=300)})
    if beneficiary is None:
        name = clean_text(name)[:160]
        if not name:
            raise DeskError(_l("Write the visitor's name."), {"name": _l("Write the visitor's name.")})
        try:
            mobile = clean_mobile(mobile)
        except ValidationError as exc:
            raise DeskError(exc.message, {"mobile": exc.message}) from None
    else:
        name, mobile = beneficiary.full_name, beneficiary.mobile
    try:
        with database.atomic():
            row = Appointment.create(slot=slot, holds=slot.id, beneficiary=beneficiary, name=name, mobile=mobile,
                                     reason=reason, source=source, booked_by=actor, created_at=now or utcnow())
            audit("create", "interview_appointment", row.id, {"slot": slot.id, "source": source}, actor=actor)
    except IntegrityError:
        raise DeskError(_l("Someone else has just booked this time. Choose another free time."),
                        {"slot": _l("Someone else has just booked this time.")}, code="taken") from None
    return row


def appointment_text(appointment: Appointment) -> str:
    """The day, time and place of an appointment in the current language, the date and time isolated."""
    local = to_saudi(appointment.slot.starts_at)
    branch = appointment.slot.branch if appointment.slot.branch_id else None
    place = (branch.name_ar if branch else "") or current_app.config["ORG_NAME_AR"]
    return _("Your appointment at %(place)s is on %(date)s at %(time)s. Please bring your ID.",
             place=place, date=isolate(format_hijri(local.date())), time=isolate(local.strftime("%H:%M")))


def book_for_self_service(beneficiary, channel: str) -> dict | None:
    """Book the first free slot for a beneficiary who asked on a self-service channel (or give back the
    appointment they already have); None when there is no free time (the menu then asks an officer)."""
    now = utcnow()
    upcoming = (appointments_query().where((Appointment.beneficiary == beneficiary.id)
                                           & (Appointment.status == "booked") & (Slot.starts_at > now))
                .order_by(Slot.starts_at).first())
    if upcoming is not None:
        return {"text": appointment_text(upcoming)}
    # the earliest time tomorrow or later: a message answered now cannot bring someone in within the hour
    tomorrow = saudi_day_bounds(saudi_today(now) + dt.timedelta(days=1))[0]
    candidates = [s for s in free_slots(branch=beneficiary.branch_id, now=tomorrow, limit=20)]
    if beneficiary.branch_id and not candidates:
        candidates = free_slots(now=tomorrow, limit=20)
    for slot in candidates[:10]:
        try:
            row = book(slot_id=str(slot.id), beneficiary=beneficiary, reason="", source="self_service", now=now)
        except DeskError:
            continue  # taken a moment ago, or closed: the next one
        return {"text": appointment_text(appointments_query().where(Appointment.id == row.id).first())}
    return None


def _mark(appointment: Appointment, status: str, actor, **extra) -> bool:
    fields = {"status": status, "marked_at": utcnow(), **extra}
    if status == "cancelled":
        fields["holds"] = None
    done = (Appointment.update(**fields)
            .where((Appointment.id == appointment.id) & (Appointment.status == "booked")).execute())
    if done:
        audit("update", "interview_appointment", appointment.id, {"status": status}, actor=actor)
    return bool(done)


def cancel(appointment: Appointment, *, actor, reason: str = "") -> None:
    """Cancel a booked appointment: the slot is free again."""
    reason = clean_text(reason)[:300]
    with database.atomic():
        if not _mark(appointment, "cancelled", actor, cancelled_at=utcnow(), cancelled_by=actor, cancel_reason=reason):
            raise DeskError(_l("Only a booked appointment can be cancelled."))


def no_show(appointment: Appointment, *, actor) -> None:
    if appointment.slot.starts_at > utcnow():
        raise DeskError(_l("The appointment's time has not come yet."))
    with database.atomic():
        if not _mark(appointment, "no_show", actor):
            raise DeskError(_l("Only a booked appointment can be marked as not attended."))


def appointments_query():
    officer = User.alias()
    return (Appointment.select(Appointment, Slot, Beneficiary, Branch, officer)
            .join(Slot, attr="slot")
            .join(Branch, JOIN.LEFT_OUTER, on=(Slot.branch == Branch.id), attr="branch")
            .switch(Slot).join(officer, JOIN.LEFT_OUTER, on=(Slot.officer == officer.id), attr="officer")
            .switch(Appointment)
            .join(Beneficiary, JOIN.LEFT_OUTER, on=(Appointment.beneficiary == Beneficiary.id), attr="beneficiary"))


def day_appointments(day: dt.date, *, branch=None, officer=None):
    start, end = saudi_day_bounds(day)
    query = appointments_query().where((Slot.starts_at >= start) & (Slot.starts_at < end))
    if branch is not None:
        query = query.where(Slot.branch_key == branch_key(branch))
    if officer is not None:
        query = query.where(Slot.officer == officer)
    return list(query.order_by(Slot.starts_at, Appointment.id))


def reminder_text(appointment: Appointment) -> str:
    local = to_saudi(appointment.slot.starts_at)
    branch = appointment.slot.branch
    with force_locale("ar"):
        place = (branch.name_ar if branch else "") or current_app.config["ORG_NAME_AR"]
        return _("Reminder: your appointment at %(place)s is tomorrow %(date)s at %(time)s. "
                 "To cancel, call us or reply to this message.",
                 place=place, date=isolate(format_hijri(local.date(), "ar")), time=isolate(local.strftime("%H:%M")))


def send_reminders(now=None) -> dict:
    """Remind every booked appointment of tomorrow (Saudi day) once, through ``send_message``."""
    now = now or utcnow()
    tomorrow = saudi_today(now) + dt.timedelta(days=1)
    start, end = saudi_day_bounds(tomorrow)
    counts = {"sent": 0, "queued": 0, "not_sent": 0}
    rows = list(appointments_query().where((Appointment.status == "booked") & Appointment.reminded_at.is_null()
                                           & (Slot.starts_at >= start) & (Slot.starts_at < end)))
    for appt in rows:
        # claim the reminder first: a second run (or worker) never sends it twice
        claimed = (Appointment.update(reminded_at=now, reminder_state="sending")
                   .where((Appointment.id == appt.id) & Appointment.reminded_at.is_null()).execute())
        if not claimed:
            continue
        if not appt.beneficiary_id:  # a visitor without a file: the channels send to beneficiaries only
            Appointment.update(reminder_state="no_file").where(Appointment.id == appt.id).execute()
            counts["not_sent"] += 1
            continue
        result = hook().send_message(beneficiary=appt.beneficiary, text=reminder_text(appt),
                                     purpose="appointment_reminder",
                                     channel=appt.beneficiary.preferred_channel or "",
                                     context={"appointment": appt.id})
        state = "not_sent" if not result else ("queued" if result.get("state") == "queued" else "sent")
        Appointment.update(reminder_state=state).where(Appointment.id == appt.id).execute()
        counts[state] += 1
    return counts


# --- the interview record ----------------------------------------------------------------------------

def new_form_token() -> str:
    return secrets.token_urlsafe(18)


def clean_interview(form, questions_in: list[tuple[str, str]]) -> tuple[dict, dict]:
    """Check an interview form; returns (values, errors)."""
    from portal.dates import parse_date

    errors, values = {}, {}
    limits = {"purpose": 300, "present": 1000, "documents_seen": 2000, "outcome": 5000, "referral_question": 2000}
    for name, limit in limits.items():
        text = clean_text(form.get(name)) if name == "purpose" else (form.get(name) or "").strip()
        if len(text) > limit:
            errors[name] = _l("Too long: at most %(n)s characters.", n=limit)
        values[name] = text
    if not values["purpose"]:
        errors["purpose"] = _l("Write the purpose of the interview.")
    if not values["outcome"]:
        errors["outcome"] = _l("Write the outcome of the interview.")
    questions = [{"q": clean_text(q)[:500], "a": (a or "").strip()[:2000]} for q, a in questions_in
                 if clean_text(q) or (a or "").strip()]
    if len(questions) > MAX_QUESTIONS:
        errors["questions"] = _l("At most %(n)s questions.", n=MAX_QUESTIONS)
    if any(not item["q"] for item in questions):
        errors["questions"] = _l("Each answer needs its question.")
    values["questions"] = questions
    try:
        due = parse_date(form.get("follow_up_due"))
    except ValidationError as exc:
        errors["follow_up_due"] = exc.message
        due = None
    if due is not None and due < saudi_today():
        errors["follow_up_due"] = _l("The follow-up date cannot be in the past.")
    values["follow_up_due"] = due
    researcher = None
    rid = (form.get("referred_to") or "").strip()
    if rid:
        researcher = User.get_or_none((User.id == int(rid)) if rid.isdigit() else (User.id == -1))
        if researcher is None or not researcher.is_active or not researcher.has_role("researcher"):
            errors["referred_to"] = _l("Choose a social researcher.")
        elif not values["referral_question"]:
            errors["referral_question"] = _l("Write what the researcher should explain.")
    values["referred_to"] = researcher
    return values, errors


def record_interview(*, beneficiary, values: dict, form_token: str, actor, visit=None, appointment=None,
                     case=None) -> tuple[Interview, bool]:
    """Write the interview, its timeline entry, its follow-up task and the end of the visit, in one
    transaction. Returns (interview, created): a form sent twice gives the first record back."""
    token = (form_token or "")[:40]
    if not token:
        raise DeskError(_l("The form has expired. Open it again."))
    existing = Interview.get_or_none(Interview.form_token == token)
    if existing is not None:
        return existing, False
    now = utcnow()
    started = visit.started_at if visit is not None and visit.started_at else None
    data = {"purpose": values["purpose"], "present": values["present"], "questions": values["questions"],
            "documents_seen": values["documents_seen"], "outcome": values["outcome"]}
    if started:
        data["minutes"] = minutes(now - started)
    if visit is not None:
        data["ticket"] = visit.ticket
    if values.get("referred_to") is not None:
        data["referred_to"] = user_label(values["referred_to"])
        data["referral_question"] = values["referral_question"]
    try:
        with database.atomic():
            entry = log_entry(channel=CHANNEL, direction="in", beneficiary=beneficiary, case=case,
                              summary=values["purpose"], body=values["outcome"], actor=actor, data=data,
                              follow_up_due=values.get("follow_up_due"))
            row = Interview.create(entry=entry, beneficiary=beneficiary, case=case, visit=visit,
                                   appointment=appointment, form_token=token, purpose=values["purpose"],
                                   present=values["present"], questions=values["questions"],
                                   documents_seen=values["documents_seen"], outcome=values["outcome"],
                                   follow_up_due=values.get("follow_up_due"), referred_to=values.get("referred_to"),
                                   referral_question=values.get("referral_question", "") if values.get("referred_to") else "",
                                   started_at=started, ended_at=now, officer=actor, created_at=now)
            if values.get("follow_up_due"):
                from portal.workflow.outreach import create_task

                with force_locale("ar"):
                    reason = _("Follow-up of the interview: %(purpose)s", purpose=values["purpose"])
                task = create_task(beneficiary=beneficiary, kind="follow_up", reason=reason,
                                   due=values["follow_up_due"], source={"entry": entry.id, "interview": row.id},
                                   case=case, key=f"follow_up:entry:{entry.id}")
                if task is not None:
                    Interview.update(follow_up_task=task.id).where(Interview.id == row.id).execute()
            if visit is not None:
                Visit.update(status="done", ended_at=now, beneficiary=beneficiary,
                             started_at=visit.started_at or now, officer=visit.officer_id or actor.id).where(
                    (Visit.id == visit.id) & Visit.status.in_(("waiting", "called", "in_service"))).execute()
            if appointment is not None:
                _mark(appointment, "attended", actor)
            audit("create", "interview_record", row.id, {"beneficiary": beneficiary.id}, actor=actor)
            # a finished interview is a finished service: the core may offer a satisfaction survey about it
            from portal.plugins import hook

            hook().service_finished(beneficiary=beneficiary, kind="meeting", channel=CHANNEL, case=case,
                                    staff=actor, source=f"interview:{row.id}")
    except IntegrityError:
        # the same form sent twice at the same moment: the other request wrote it
        existing = Interview.get_or_none(Interview.form_token == token)
        if existing is None:
            raise
        return existing, False
    return Interview.get_by_id(row.id), True


def open_referrals(researcher):
    return list(Interview.select(Interview, Beneficiary).join(Beneficiary, attr="beneficiary")
                .where((Interview.referred_to == researcher.id) & Interview.referral_done_at.is_null())
                .order_by(Interview.created_at).limit(20))


def referral_done(interview: Interview, *, actor) -> bool:
    with database.atomic():
        done = (Interview.update(referral_done_at=utcnow())
                .where((Interview.id == interview.id) & Interview.referral_done_at.is_null()
                       & (Interview.referred_to == actor.id)).execute())
        if done:
            audit("update", "interview_record", interview.id, {"referral": "explained"}, actor=actor)
    return bool(done)
