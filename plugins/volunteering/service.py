"""The volunteering service's rules: the volunteer registry (vetting, skills, availability, the link to a
beneficiary's file), opportunities and the volunteers suggested for them, assignments (the message, the
volunteer's confirmation, reminders, attendance), hours (logged once per assignment, approved by staff),
certificates, and the beneficiaries a volunteer served (on their timeline, channel ``volunteering``).

Every change is one transaction; the views and the API only translate forms and JSON into these calls."""
from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal, InvalidOperation

from flask import current_app, has_request_context, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import JOIN, IntegrityError, fn

from portal.audit import audit
from portal.dates import (format_hijri, from_saudi, hijri_year, parse_date, saudi_date, saudi_day_bounds,
                          saudi_today, to_saudi)
from portal.db import database, is_postgres, utcnow
from portal.models import Beneficiary, Branch, Case
from portal.plugins import hook
from portal.sequences import next_value
from portal.text import clean_text, fold_digits, isolate
from portal.timeline import log_entry
from portal.validators import ValidationError, clean_contact_details, clean_mobile

from .models import Assignment, Certificate, HoursLog, Opportunity, Service, Volunteer, VolunteerSkill

CHANNEL = "volunteering"
SKILLS = {
    "delivery": _l("Basket delivery"), "driving": _l("Driving"), "home_visits": _l("Home visits"),
    "packing": _l("Packing and sorting"), "distribution": _l("Distribution days"), "medical": _l("Health care"),
    "teaching": _l("Teaching and tutoring"), "admin": _l("Office work"), "media": _l("Photography and media"),
    "sign_language": _l("Sign language"),
}
KINDS = {"delivery": _l("Basket delivery"), "home_visit": _l("Home visit"), "distribution": _l("Distribution"),
         "ramadan": _l("Ramadan distribution"), "office": _l("Office work"), "other": _l("Other")}
# shown Sunday first (the Saudi working week), Python's numbering (Monday 0)
WEEKDAYS = ((6, _l("Sunday")), (0, _l("Monday")), (1, _l("Tuesday")), (2, _l("Wednesday")), (3, _l("Thursday")),
            (4, _l("Friday")), (5, _l("Saturday")))
ALL_DAYS = sum(1 << d for d in range(7))
# the website's availability choices, as weekdays and hours
SITE_AVAILABILITY = {"weekdays": (sum(1 << d for d in (6, 0, 1, 2, 3)), "08:00", "22:00"),
                     "weekends": ((1 << 4) | (1 << 5), "08:00", "22:00"),
                     "evenings": (ALL_DAYS, "16:00", "23:00"), "ramadan": (ALL_DAYS, "08:00", "23:59"),
                     "any": (ALL_DAYS, "00:00", "23:59")}
ACTIVE = ("assigned", "confirmed", "attended")
MAX_HOURS = Decimal("24")


class VolunteeringError(Exception):
    """A refused change: ``message`` for the page, ``fields`` for the form's fields, ``code`` for the API."""

    def __init__(self, message, fields: dict | None = None, code: str = ""):
        super().__init__(str(message))
        self.message = message
        self.fields = fields or {}
        self.code = code


# --- small helpers ---------------------------------------------------------------------------------

def mask_of(days) -> int:
    return sum(1 << d for d in {int(d) for d in days if str(d).isdigit() and int(d) in range(7)})


def days_of(mask: int) -> list[int]:
    return [d for d, _label in WEEKDAYS if mask & (1 << d)]


def separator() -> str:
    """The list separator of the language shown (the Arabic comma in Arabic)."""
    from flask_babel import get_locale

    locale = get_locale()
    return "، " if locale is None or locale.language == "ar" else ", "


def day_labels(mask: int) -> str:
    return separator().join(str(label) for d, label in WEEKDAYS if mask & (1 << d))


def parse_clock(text, field: str, errors: dict) -> str:
    try:
        return dt.time.fromisoformat(fold_digits(text or "").strip()).strftime("%H:%M")
    except ValueError:
        errors[field] = _l("Write the time as hours:minutes (09:30).")
        return ""


def _limit(values: dict, errors: dict, form, name: str, limit: int, required_message=None, multiline=False):
    text = (form.get(name) or "").strip() if multiline else clean_text(form.get(name))
    if len(text) > limit:
        errors[name] = _l("Too long: at most %(n)s characters.", n=limit)
    elif not text and required_message is not None:
        errors[name] = required_message
    values[name] = text


def _branch(value, errors):
    value = (value or "").strip() if isinstance(value, str) else value
    if value in ("", None, 0, "0"):
        return None
    branch = Branch.get_or_none(Branch.id == int(value)) if str(value).isdigit() else None
    if branch is None:
        errors["branch"] = _l("Choose a branch from the list.")
    return branch


def _getlist(form, name) -> list:
    if hasattr(form, "getlist"):
        return form.getlist(name)
    value = form.get(name)
    return list(value) if isinstance(value, (list, tuple)) else ([value] if value not in (None, "") else [])


def public_url(endpoint: str, **values) -> str:
    """An address the volunteer opens from a message: from the request being served, else the setting."""
    path = url_for(endpoint, **values)
    if has_request_context():
        return request.host_url.rstrip("/") + path
    base = (current_app.config.get("VOLUNTEERING_PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/")
    return base + path


# --- the registry ----------------------------------------------------------------------------------

def clean_volunteer(form, volunteer: Volunteer | None = None) -> tuple[dict, dict]:
    """Check a volunteer's form (``volunteer``: the one being edited); returns (values, errors)."""
    errors, values = {}, {}
    _limit(values, errors, form, "name", 160, _l("Write the volunteer's name."))
    _limit(values, errors, form, "email", 200)
    _limit(values, errors, form, "city", 80)
    _limit(values, errors, form, "notes", 2000, multiline=True)
    clean_contact_details(form, values, errors)
    values["branch"] = _branch(form.get("branch"), errors)
    skills = [s for s in _getlist(form, "skills") if s in SKILLS]
    if len(skills) != len(_getlist(form, "skills")):
        errors["skills"] = _l("Choose skills from the list.")
    values["skills"] = sorted(set(skills))
    values["weekdays"] = mask_of(_getlist(form, "weekdays"))
    if not values["weekdays"]:
        errors["weekdays"] = _l("Choose at least one day of the week.")
    values["time_from"] = parse_clock(form.get("time_from") or "08:00", "time_from", errors)
    values["time_to"] = parse_clock(form.get("time_to") or "22:00", "time_to", errors)
    if values["time_from"] and values["time_to"] and values["time_to"] <= values["time_from"]:
        errors["time_to"] = _l("The end must come after the start.")
    if values.get("mobile"):
        same = Volunteer.select(Volunteer.name).where(Volunteer.mobile == values["mobile"])
        if volunteer is not None:
            same = same.where(Volunteer.id != volunteer.id)
        other = same.first()
        if other is not None:
            errors["mobile"] = _l("A volunteer with this mobile number is already in the registry: %(name)s.",
                                  name=other.name)
    return values, errors


def save_volunteer(values: dict, *, actor, volunteer: Volunteer | None = None, source: str = "staff",
                   site_ref: int | None = None) -> Volunteer:
    fields = {k: values[k] for k in ("name", "mobile", "email", "national_id", "city", "branch", "weekdays",
                                     "time_from", "time_to", "notes") if k in values}
    with database.atomic():
        if volunteer is None:
            volunteer = Volunteer.create(source=source, site_ref=site_ref, created_by=actor, **fields)
            audit("create", "volunteer", volunteer.id, {"source": source}, actor=actor)
        else:
            Volunteer.update(**fields).where(Volunteer.id == volunteer.id).execute()
            audit("update", "volunteer", volunteer.id, {"fields": sorted(fields)}, actor=actor)
        if "skills" in values:
            VolunteerSkill.delete().where(VolunteerSkill.volunteer == volunteer.id).execute()
            if values["skills"]:
                VolunteerSkill.insert_many([{"volunteer": volunteer.id, "skill": s} for s in values["skills"]]).execute()
    return Volunteer.get_by_id(volunteer.id)


def skills_of(volunteer_ids) -> dict[int, list[str]]:
    """Skills of many volunteers in one query."""
    out: dict[int, list[str]] = {}
    ids = list(volunteer_ids)
    if not ids:
        return out
    for row in VolunteerSkill.select().where(VolunteerSkill.volunteer.in_(ids)).order_by(VolunteerSkill.skill):
        out.setdefault(row.volunteer_id, []).append(row.skill)
    return out


def set_state(volunteer: Volunteer, state: str, *, actor) -> None:
    if state not in ("pending", "approved", "paused"):
        raise VolunteeringError(_l("Unknown vetting state."))
    with database.atomic():
        Volunteer.update(state=state).where(Volunteer.id == volunteer.id).execute()
        audit("update", "volunteer", volunteer.id, {"state": state}, actor=actor)


def file_matches(volunteer: Volunteer, limit: int = 5) -> list[Beneficiary]:
    """Beneficiary files that may be this volunteer (same national ID, or same mobile): a staff member
    confirms the link; nothing is linked automatically."""
    cond = Beneficiary.mobile == volunteer.mobile
    if volunteer.national_id:
        cond = cond | (Beneficiary.national_id == volunteer.national_id)
    return list(Beneficiary.select().where(cond & Beneficiary.erased_at.is_null()).order_by(Beneficiary.id).limit(limit))


def link_file(volunteer: Volunteer, beneficiary: Beneficiary | None, *, actor) -> None:
    """Link (or, with None, unlink) the volunteer to a beneficiary's file; only a file that matches."""
    if beneficiary is not None and beneficiary.id not in {b.id for b in file_matches(volunteer)}:
        raise VolunteeringError(_l("This file does not match the volunteer's national ID or mobile number."))
    with database.atomic():
        Volunteer.update(beneficiary=beneficiary).where(Volunteer.id == volunteer.id).execute()
        audit("update", "volunteer", volunteer.id, {"beneficiary": getattr(beneficiary, "id", None)}, actor=actor)


def from_signup(data: dict) -> Volunteer | None:
    """A sign-up stored by the public website (hook ``volunteer_signed_up``, or the import of older ones):
    a pending volunteer, once per sign-up."""
    ref = data.get("id")
    if ref is not None and Volunteer.get_or_none(Volunteer.site_ref == ref) is not None:
        return None
    try:
        mobile = clean_mobile(data.get("mobile"))
    except ValidationError:
        return None
    if Volunteer.select().where(Volunteer.mobile == mobile).exists():  # already in the registry
        return None
    mask, start, end = SITE_AVAILABILITY.get(data.get("availability") or "", SITE_AVAILABILITY["any"])
    notes = "\n".join(t for t in (clean_text(data.get("skills"))[:1000], (data.get("notes") or "")[:900]) if t)
    values = {"name": clean_text(data.get("name"))[:160] or mobile, "mobile": mobile,
              "email": clean_text(data.get("email"))[:200], "city": clean_text(data.get("city"))[:80],
              "weekdays": mask, "time_from": start, "time_to": end, "notes": notes}
    try:
        with database.atomic():
            return save_volunteer(values, actor=None, source="site", site_ref=ref)
    except IntegrityError:  # the same sign-up imported at the same moment
        return None


def import_signups(*, actor=None) -> int:
    """The website's earlier sign-ups, read from the timeline entries it wrote (the website plugin is not
    imported): each becomes a pending volunteer once."""
    from portal.models import TimelineEntry
    from portal.plugins import channel_map

    keys = [k for k in channel_map() if k in ("website", CHANNEL)]
    made = 0
    query = (TimelineEntry.select(TimelineEntry.id, TimelineEntry.data, TimelineEntry.body)
             .where(TimelineEntry.channel.in_(keys) & TimelineEntry.data.is_null(False)).order_by(TimelineEntry.id))
    for entry in query.iterator():
        data = entry.data if isinstance(entry.data, dict) else {}
        if data.get("kind") != "volunteer" or data.get("volunteer") is None:
            continue
        row = from_signup({"id": data.get("volunteer"), "name": data.get("name"), "mobile": data.get("mobile"),
                           "availability": data.get("availability"), "skills": entry.body})
        made += row is not None
    if made:
        audit("create", "volunteer", None, {"imported": made}, actor=actor)
    return made


# --- opportunities ---------------------------------------------------------------------------------

def clean_opportunity(form, now=None) -> tuple[dict, dict]:
    errors, values = {}, {}
    _limit(values, errors, form, "title", 200, _l("Write what the volunteers will do."))
    _limit(values, errors, form, "place", 200, _l("Write the place."))
    _limit(values, errors, form, "notes", 2000, multiline=True)
    kind = form.get("kind") or "other"
    if kind not in KINDS:
        errors["kind"] = _l("Choose a kind from the list.")
    values["kind"] = kind
    values["branch"] = _branch(form.get("branch"), errors)
    skills = [s for s in _getlist(form, "skills") if s in SKILLS]
    if len(skills) != len(_getlist(form, "skills")):
        errors["skills"] = _l("Choose skills from the list.")
    values["skills"] = sorted(set(skills))
    places = fold_digits(str(form.get("places") or "")).strip()
    if not places.isdigit() or not 1 <= int(places) <= 500:
        errors["places"] = _l("Give the number of volunteers needed (1 to 500).")
    else:
        values["places"] = int(places)
    try:
        day = parse_date(form.get("day"))
    except ValidationError as exc:
        errors["day"], day = exc.message, None
    if day is None and "day" not in errors:
        errors["day"] = _l("Give the day.")
    start = parse_clock(form.get("time_from"), "time_from", errors)
    end = parse_clock(form.get("time_to"), "time_to", errors)
    if start and end and end <= start:
        errors["time_to"] = _l("The end must come after the start.")
    if day is not None and day < saudi_today(now):
        errors["day"] = _l("The day has passed. Choose a day from today on.")
    if not errors:
        values["starts_at"] = from_saudi(dt.datetime.combine(day, dt.time.fromisoformat(start)))
        values["ends_at"] = from_saudi(dt.datetime.combine(day, dt.time.fromisoformat(end)))
    return values, errors


def save_opportunity(values: dict, *, actor, opportunity: Opportunity | None = None) -> Opportunity:
    fields = {k: values[k] for k in ("title", "kind", "branch", "place", "starts_at", "ends_at", "skills", "places",
                                     "notes") if k in values}
    with database.atomic():
        if opportunity is None:
            opportunity = Opportunity.create(created_by=actor, **fields)
            audit("create", "volunteer_opportunity", opportunity.id, {"kind": fields.get("kind")}, actor=actor)
        else:
            Opportunity.update(**fields).where(Opportunity.id == opportunity.id).execute()
            audit("update", "volunteer_opportunity", opportunity.id, {"fields": sorted(fields)}, actor=actor)
    return Opportunity.get_by_id(opportunity.id)


def cancel_opportunity(opportunity: Opportunity, *, actor) -> int:
    """Cancel an opportunity that has not ended: its assignments still to come are cancelled and each
    volunteer is told through ``send_message``. Returns how many volunteers were told."""
    if opportunity.cancelled_at is not None:
        raise VolunteeringError(_l("This opportunity was cancelled."))
    if opportunity.ends_at <= utcnow():
        raise VolunteeringError(_l("This opportunity is over; it can no longer be cancelled."))
    with database.atomic():
        Opportunity.update(cancelled_at=utcnow()).where(Opportunity.id == opportunity.id).execute()
        rows = list(Assignment.select(Assignment, Volunteer).join(Volunteer, attr="volunteer").where(
            (Assignment.opportunity == opportunity.id) & Assignment.state.in_(("assigned", "confirmed"))))
        Assignment.update(state="cancelled").where(Assignment.id.in_([r.id for r in rows] or [0])).execute()
        audit("update", "volunteer_opportunity", opportunity.id, {"cancelled": True, "assignments": len(rows)},
              actor=actor)
        day, time = opportunity_text(opportunity)
        told = 0
        for row in rows:
            with force_locale("ar"):
                text = _("Sorry: %(title)s on %(day)s at %(time)s is cancelled. Thank you for your readiness.",
                         title=opportunity.title, day=day, time=time)
            told += send_to_volunteer(row.volunteer, text, "volunteer_cancelled", {"assignment": row.id}) != "not_sent"
    return told


def local_window(opportunity) -> tuple[int, str, str]:
    start, end = to_saudi(opportunity.starts_at), to_saudi(opportunity.ends_at)
    return start.weekday(), start.strftime("%H:%M"), end.strftime("%H:%M")


def fits(volunteer: Volunteer, opportunity: Opportunity) -> bool:
    """Whether the opportunity falls on one of the volunteer's days and inside their hours."""
    weekday, start, end = local_window(opportunity)
    return bool(volunteer.weekdays & (1 << weekday)) and volunteer.time_from <= start and end <= volunteer.time_to


def taken_counts(opportunity_ids) -> dict[int, int]:
    """Places taken (active assignments) of many opportunities in one query."""
    ids = list(opportunity_ids)
    if not ids:
        return {}
    rows = (Assignment.select(Assignment.opportunity, fn.COUNT(Assignment.id).alias("n"))
            .where(Assignment.opportunity.in_(ids) & Assignment.state.in_(ACTIVE)).group_by(Assignment.opportunity))
    return {r.opportunity_id: r.n for r in rows}


def suggestions(opportunity: Opportunity, limit: int = 20) -> list[Volunteer]:
    """Approved volunteers free at that time (day and hours), not yet assigned, the most matching skills first:
    one query (``matched`` = how many of the skills needed they have, ``served`` = assignments attended)."""
    weekday, start, end = local_window(opportunity)
    needed = list(opportunity.skills or [])
    skill_on = (VolunteerSkill.volunteer == Volunteer.id)
    skill_on &= VolunteerSkill.skill.in_(needed) if needed else (VolunteerSkill.id == -1)
    assigned = Assignment.select(Assignment.volunteer).where(Assignment.opportunity == opportunity.id)
    query = (Volunteer.select(Volunteer, fn.COUNT(fn.DISTINCT(VolunteerSkill.skill)).alias("matched"))
             .join(VolunteerSkill, JOIN.LEFT_OUTER, on=skill_on)
             .where((Volunteer.state == "approved") & (Volunteer.weekdays.bin_and(1 << weekday) != 0)
                    & (Volunteer.time_from <= start) & (Volunteer.time_to >= end)
                    & Volunteer.id.not_in(assigned))
             .group_by(Volunteer.id))
    if opportunity.branch_id:
        query = query.where((Volunteer.branch == opportunity.branch_id) | Volunteer.branch.is_null())
    if needed:
        query = query.having(fn.COUNT(fn.DISTINCT(VolunteerSkill.skill)) > 0)
    return list(query.order_by(fn.COUNT(fn.DISTINCT(VolunteerSkill.skill)).desc(), Volunteer.name).limit(limit))


def opportunity_text(opportunity: Opportunity, lang: str = "ar") -> tuple[str, str]:
    local = to_saudi(opportunity.starts_at)
    return isolate(format_hijri(local.date(), lang)), isolate(local.strftime("%H:%M"))


def send_to_volunteer(volunteer: Volunteer, text: str, purpose: str, context: dict) -> str:
    """Send through the core's ``send_message`` (the SMS or WhatsApp channel, to the volunteer's mobile;
    the file when the volunteer is also a beneficiary). Returns sent / queued / not_sent."""
    ben = volunteer.beneficiary if volunteer.beneficiary_id else None
    for channel in ("sms", "social"):
        result = hook().send_message(beneficiary=ben, text=text, purpose=purpose, channel=channel,
                                     context={**context, "to": volunteer.mobile})
        if result:
            return "queued" if result.get("state") == "queued" else "sent"
    return "not_sent"


def assign(opportunity: Opportunity, volunteer: Volunteer, *, actor, confirm_outside: bool = False,
           now=None) -> Assignment:
    """Assign a volunteer to an opportunity and send them the message with their confirmation page. An
    opportunity outside the volunteer's days or hours raises ``code="outside"`` until confirmed."""
    now = now or utcnow()
    if opportunity.cancelled_at is not None:
        raise VolunteeringError(_l("This opportunity was cancelled."))
    if opportunity.ends_at <= now:
        raise VolunteeringError(_l("This opportunity is over; volunteers can no longer be assigned."))
    if volunteer.state != "approved":
        raise VolunteeringError(_l("Only an approved volunteer can be assigned."),
                                {"volunteer": _l("Only an approved volunteer can be assigned.")})
    if not fits(volunteer, opportunity) and not confirm_outside:
        raise VolunteeringError(
            _l("%(name)s is not available at that time (their days: %(days)s, from %(start)s to %(end)s). "
               "Confirm to assign them anyway.", name=volunteer.name, days=day_labels(volunteer.weekdays),
               start=isolate(volunteer.time_from), end=isolate(volunteer.time_to)),
            {"confirm_outside": _l("Outside the volunteer's availability.")}, code="outside")
    try:
        with database.atomic():
            if is_postgres():  # two officers filling the last place at once: one waits for the other
                Opportunity.select(Opportunity.id).where(Opportunity.id == opportunity.id).for_update().execute()
            if is_full(opportunity):
                raise VolunteeringError(_l("All the places of this opportunity are taken."), code="full")
            row = Assignment.create(opportunity=opportunity, volunteer=volunteer, token=secrets.token_urlsafe(24),
                                    outside_availability=not fits(volunteer, opportunity), assigned_by=actor,
                                    created_at=now)
            audit("create", "volunteer_assignment", row.id, {"opportunity": opportunity.id,
                                                            "volunteer": volunteer.id}, actor=actor)
            state = send_to_volunteer(volunteer, assignment_text(row, opportunity), "volunteer_assignment",
                                      {"assignment": row.id})
            Assignment.update(message_state=state).where(Assignment.id == row.id).execute()
    except IntegrityError:
        raise VolunteeringError(_l("This volunteer is already assigned to this opportunity."), code="twice") from None
    return Assignment.get_by_id(row.id)


def is_full(opportunity: Opportunity) -> bool:
    return taken_counts([opportunity.id]).get(opportunity.id, 0) >= opportunity.places


def assignment_text(assignment: Assignment, opportunity: Opportunity) -> str:
    day, time = opportunity_text(opportunity)
    with force_locale("ar"):
        return _("You are invited to volunteer: %(title)s on %(day)s at %(time)s, %(place)s. "
                 "Please confirm on this page: %(url)s",
                 title=opportunity.title, day=day, time=time, place=opportunity.place,
                 url=public_url("volunteering_site.assignment", token=assignment.token))


def _move(assignment: Assignment, expected: tuple, new: str, actor, **fields) -> bool:
    with database.atomic():
        done = (Assignment.update(state=new, **fields)
                .where((Assignment.id == assignment.id) & Assignment.state.in_(expected)).execute())
        if done:
            audit("update", "volunteer_assignment", assignment.id, {"state": new}, actor=actor)
    return bool(done)


def confirm(assignment: Assignment, *, actor=None) -> None:
    if not _move(assignment, ("assigned",), "confirmed", actor, confirmed_at=utcnow()):
        raise VolunteeringError(_l("This assignment cannot be confirmed now."))


def decline(assignment: Assignment, *, actor=None) -> None:
    if not _move(assignment, ("assigned", "confirmed"), "declined", actor):
        raise VolunteeringError(_l("This assignment cannot be declined now."))


def cancel(assignment: Assignment, *, actor) -> None:
    if not _move(assignment, ("assigned", "confirmed"), "cancelled", actor):
        raise VolunteeringError(_l("Only an assignment that has not taken place can be cancelled."))


def mark_attendance(assignment: Assignment, attended: bool, *, actor, now=None) -> None:
    now = now or utcnow()
    if assignment.opportunity.starts_at > now:
        raise VolunteeringError(_l("The opportunity has not started yet."))
    if not _move(assignment, ("assigned", "confirmed"), "attended" if attended else "absent", actor,
                 attendance_at=now):
        raise VolunteeringError(_l("The attendance of this assignment is already recorded."))


def reminder_text(assignment: Assignment) -> str:
    day, time = opportunity_text(assignment.opportunity)
    with force_locale("ar"):
        return _("Reminder: tomorrow %(day)s at %(time)s you volunteer for %(title)s, %(place)s. Thank you!",
                 day=day, time=time, title=assignment.opportunity.title, place=assignment.opportunity.place)


def send_reminders(now=None) -> dict:
    """Remind every volunteer assigned to an opportunity of tomorrow (Saudi day), once."""
    now = now or utcnow()
    start, end = saudi_day_bounds(saudi_today(now) + dt.timedelta(days=1))
    counts = {"sent": 0, "queued": 0, "not_sent": 0}
    rows = list(Assignment.select(Assignment, Opportunity, Volunteer)
                .join(Opportunity, attr="opportunity").switch(Assignment).join(Volunteer, attr="volunteer")
                .where(Assignment.state.in_(("assigned", "confirmed")) & Assignment.reminded_at.is_null()
                       & Opportunity.cancelled_at.is_null()
                       & (Opportunity.starts_at >= start) & (Opportunity.starts_at < end)))
    for row in rows:
        claimed = (Assignment.update(reminded_at=now, reminder_state="sending")
                   .where((Assignment.id == row.id) & Assignment.reminded_at.is_null()).execute())
        if not claimed:
            continue
        state = send_to_volunteer(row.volunteer, reminder_text(row), "volunteer_reminder", {"assignment": row.id})
        Assignment.update(reminder_state=state).where(Assignment.id == row.id).execute()
        counts[state] += 1
    return counts


# --- hours -----------------------------------------------------------------------------------------

def hours_text(value) -> str:
    """Hours as people write them: 3, 12.5, 0.25 (whatever the database's scale)."""
    return format(Decimal(str(value or 0)).normalize(), "f")


def parse_hours(text) -> Decimal:
    try:
        value = Decimal(fold_digits(str(text or "")).strip().replace("٫", "."))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not Decimal("0.25") <= value <= MAX_HOURS:
        raise VolunteeringError(_l("Give the hours as a number from 0.25 to 24."),
                                {"hours": _l("Give the hours as a number from 0.25 to 24.")})
    return value.quantize(Decimal("0.01"))


def log_hours(assignment: Assignment, hours_text, *, note: str = "", actor=None, now=None) -> HoursLog:
    """The hours of one assignment (by the volunteer on their page, or by staff): once per assignment."""
    now = now or utcnow()
    hours = parse_hours(hours_text)
    note = (note or "").strip()
    if len(note) > 1000:
        raise VolunteeringError(_l("Too long: at most %(n)s characters.", n=1000),
                                {"note": _l("Too long: at most %(n)s characters.", n=1000)})
    opportunity = assignment.opportunity
    if opportunity.starts_at > now:
        raise VolunteeringError(_l("Hours can be logged once the opportunity has started."))
    if assignment.state not in ("confirmed", "attended"):
        raise VolunteeringError(_l("Hours can be logged only for a confirmed or attended assignment."))
    twice = VolunteeringError(_l("The hours of this assignment are already logged; they cannot be logged twice."),
                              {"hours": _l("Already logged.")}, code="twice")
    if HoursLog.get_or_none(HoursLog.assignment == assignment.id) is not None:
        raise twice
    try:
        with database.atomic():
            row = HoursLog.create(assignment=assignment, volunteer=assignment.volunteer_id, hours=hours,
                                  day=saudi_date(opportunity.starts_at), note=note, logged_by=actor, created_at=now)
            audit("create", "volunteer_hours", row.id, {"assignment": assignment.id, "hours": str(hours)}, actor=actor)
    except IntegrityError:
        raise twice from None
    return row


def decide_hours(row: HoursLog, approve: bool, *, actor) -> None:
    with database.atomic():
        done = (HoursLog.update(state="approved" if approve else "refused", decided_by=actor, decided_at=utcnow())
                .where((HoursLog.id == row.id) & (HoursLog.state == "pending")).execute())
        if not done:
            raise VolunteeringError(_l("These hours were already decided."))
        if approve:  # approved hours are attendance
            Assignment.update(state="attended", attendance_at=fn.COALESCE(Assignment.attendance_at, utcnow())).where(
                (Assignment.id == row.assignment_id) & Assignment.state.in_(("assigned", "confirmed"))).execute()
        audit("update", "volunteer_hours", row.id, {"state": "approved" if approve else "refused"}, actor=actor)


def hours_query():
    return (HoursLog.select(HoursLog, Assignment, Opportunity, Volunteer)
            .join(Assignment, attr="assignment").join(Opportunity, attr="opportunity")
            .switch(HoursLog).join(Volunteer, attr="volunteer"))


def hours_totals(volunteer_ids) -> dict[int, dict]:
    """Approved and pending hours of many volunteers in one query."""
    ids = list(volunteer_ids)
    out: dict[int, dict] = {}
    if not ids:
        return out
    rows = (HoursLog.select(HoursLog.volunteer, HoursLog.state, fn.SUM(HoursLog.hours).alias("total"))
            .where(HoursLog.volunteer.in_(ids)).group_by(HoursLog.volunteer, HoursLog.state))
    for r in rows:
        out.setdefault(r.volunteer_id, {})[r.state] = Decimal(str(r.total or 0))
    return out


# --- certificates ------------------------------------------------------------------------------------

def certificate_key(certificate: Certificate) -> str:
    return f"volunteering-certificate-{certificate.id}"


def document_request(certificate: Certificate) -> tuple[dict, dict]:
    """The ``volunteer_document`` hook's arguments for a certificate."""
    volunteer = certificate.volunteer
    volunteer_data = {"id": volunteer.id, "name": volunteer.name, "national_id": volunteer.national_id,
                      "mobile": volunteer.mobile}
    hours = {"total": hours_text(certificate.hours),
             "first_day": certificate.first_day, "last_day": certificate.last_day, "key": certificate_key(certificate),
             "tasks": [r.assignment.opportunity.title for r in hours_query().where(
                 HoursLog.certificate == certificate.id).order_by(HoursLog.day)]}
    return volunteer_data, hours


def issue_certificate(volunteer: Volunteer, *, actor, hour_ids=None) -> tuple[Certificate, dict | None]:
    """A numbered certificate of approved hours (all approved hours not yet certified, or the ones chosen):
    a letter of the letters plugin (``volunteer_document``) or, without one, the service's own number and
    printable page. Hours that are not approved are refused."""
    query = HoursLog.select().where(HoursLog.volunteer == volunteer.id)
    if hour_ids:
        ids = [int(i) for i in hour_ids if str(i).isdigit()]
        rows = list(query.where(HoursLog.id.in_(ids)))
        if len(rows) != len(set(ids)):
            raise VolunteeringError(_l("Choose hours of this volunteer."), {"hours": _l("Choose hours of this volunteer.")})
        if any(r.state != "approved" for r in rows):
            raise VolunteeringError(_l("A certificate is given for approved hours only; approve the hours first."),
                                    {"hours": _l("Not approved.")}, code="unapproved")
        if any(r.certificate_id for r in rows):
            raise VolunteeringError(_l("Some of these hours already have a certificate."), code="certified")
    else:
        rows = list(query.where((HoursLog.state == "approved") & HoursLog.certificate.is_null()))
    if not rows:
        pending = query.where(HoursLog.state == "pending").exists()
        raise VolunteeringError(_l("There are no approved hours to certify; hours waiting for approval are not counted.")
                                if pending else _l("There are no approved hours to certify."), code="unapproved")
    total = sum((r.hours for r in rows), Decimal("0"))
    with database.atomic():
        cert = Certificate.create(volunteer=volunteer, number=f"pending-{secrets.token_hex(8)}", hours=total,
                                  first_day=min(r.day for r in rows), last_day=max(r.day for r in rows),
                                  issued_by=actor)
        claimed = (HoursLog.update(certificate=cert).where(HoursLog.id.in_([r.id for r in rows])
                                                           & HoursLog.certificate.is_null()).execute())
        if claimed != len(rows):  # another certificate took some of them a moment ago
            raise VolunteeringError(_l("Some of these hours already have a certificate."), code="certified")
        cert = Certificate.get_by_id(cert.id)
        volunteer_data, hours = document_request(cert)
        document = hook().volunteer_document(volunteer=volunteer_data, hours=hours, actor=actor)
        if document:
            number, by_letters = document["number"], True
        else:
            year = hijri_year(saudi_today())
            number, by_letters = f"ت-{year}-{next_value(f'volunteering_certificate_{year}'):06d}", False
        Certificate.update(number=number, by_letters=by_letters).where(Certificate.id == cert.id).execute()
        audit("create", "volunteer_certificate", cert.id, {"number": number, "hours": str(total)}, actor=actor)
    return Certificate.get_by_id(cert.id), document


def certificate_pdf(certificate: Certificate, *, actor=None) -> tuple[bytes, str]:
    """The certificate's PDF: the letter (asked again: the letters plugin gives back the one it issued) or
    the service's own printable page as a PDF."""
    if certificate.by_letters:
        volunteer_data, hours = document_request(certificate)
        document = hook().volunteer_document(volunteer=volunteer_data, hours=hours, actor=actor)
        if document:
            return document["pdf"], document["filename"]
    from flask import render_template

    from portal.pdf import font_faces, html_to_pdf

    with force_locale("ar"):
        html = render_template("volunteering/certificate_print.html", cert=certificate, fonts=font_faces(),
                               tasks=document_request(certificate)[1]["tasks"], pdf=True,
                               org_name=current_app.config["ORG_NAME_AR"])
    return html_to_pdf(html), f"volunteering-certificate-{certificate.id}.pdf"


# --- beneficiaries served ----------------------------------------------------------------------------

def record_service(assignment: Assignment, *, beneficiary: Beneficiary, case: Case | None = None,
                   delivery_id: int | None = None, note: str = "", actor=None) -> Service:
    """A volunteer served a beneficiary during an assignment (a delivery, a visit): on the beneficiary's
    timeline on channel ``volunteering``, with the request and its service delivery when there is one."""
    if assignment.state not in ("confirmed", "attended"):
        raise VolunteeringError(_l("Record a service for a confirmed or attended assignment only."))
    if case is not None and case.beneficiary_id != beneficiary.id:
        raise VolunteeringError(_l("Unknown request for this beneficiary."), {"case": _l("Unknown request for this beneficiary.")})
    if delivery_id is not None:
        from portal.workflow.models import Delivery

        if case is None or not Delivery.select().where((Delivery.id == delivery_id) & (Delivery.case == case.id)).exists():
            raise VolunteeringError(_l("Choose a delivery of this request."), {"delivery": _l("Choose a delivery of this request.")})
    note = (note or "").strip()
    if len(note) > 2000:
        raise VolunteeringError(_l("Too long: at most %(n)s characters.", n=2000), {"note": _l("Too long: at most %(n)s characters.", n=2000)})
    opportunity, volunteer = assignment.opportunity, assignment.volunteer
    with force_locale("ar"):
        summary = _("%(kind)s by the volunteer %(name)s: %(title)s", kind=KINDS.get(opportunity.kind, KINDS["other"]),
                    name=volunteer.name, title=opportunity.title)
    data = {"kind": "volunteer_service", "volunteer": volunteer.name, "volunteer_id": volunteer.id,
            "opportunity": opportunity.title, "opportunity_id": opportunity.id, "service": opportunity.kind,
            "place": opportunity.place, "delivery": delivery_id}
    with database.atomic():
        entry = log_entry(channel=CHANNEL, direction="out", beneficiary=beneficiary, case=case, summary=summary,
                          body=note, actor=actor, data=data)
        row = Service.create(assignment=assignment, beneficiary=beneficiary, case=case, delivery_id=delivery_id,
                             entry=entry, note=note, created_by=actor)
        audit("create", "volunteer_service", row.id, {"beneficiary": beneficiary.id}, actor=actor)
    return row
