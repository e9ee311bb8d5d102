"""The interview channel's staff screens: the reception desk, appointments and slots, the interview form
and its printable summary."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from peewee import JOIN

from portal.auth import roles_required
from portal.dates import parse_date, saudi_today, to_saudi
from portal.db import database
from portal.hygiene import get_or_404
from portal.models import Beneficiary, Branch, Case, User
from portal.scope import can_see_beneficiary, scope_cases
from portal.templating import render
from portal.timeline import visible_beneficiary
from portal.validators import ValidationError

from . import DESK_ROLES, INTERVIEW_ROLES, SLOT_ROLES
from . import service as svc
from .models import Appointment, Interview, Slot, SlotTemplate, Visit

bp = Blueprint("interview", __name__, template_folder="templates")

APPOINTMENT_ROLES = DESK_ROLES + tuple(r for r in SLOT_ROLES if r not in DESK_ROLES)
WEEKDAYS = ((6, _l("Sunday")), (0, _l("Monday")), (1, _l("Tuesday")), (2, _l("Wednesday")), (3, _l("Thursday")),
            (5, _l("Saturday")))


@bp.app_template_filter("saudi_time")
def saudi_time(value) -> str:
    """The Saudi wall-clock time (HH:MM) of a stored UTC timestamp."""
    return to_saudi(value).strftime("%H:%M") if value else ""


def _me():
    return current_user._get_current_object()


def branches():
    return list(Branch.select().order_by(Branch.code))


def current_branch(value=None):
    """The user's own branch; a user without one chooses (``?branch=``), the first branch by default."""
    me = _me()
    if me.branch_id:
        return me.branch
    value = value if value is not None else (request.values.get("branch") or "")
    all_branches = branches()
    if str(value).isdigit():
        for b in all_branches:
            if b.id == int(value):
                return b
    if value == "0":
        return None
    return all_branches[0] if all_branches else None


def officers():
    return [u for u in User.select().where(User.is_active == True).order_by(User.full_name)  # noqa: E712
            if u.has_role("officer", "researcher")]


def researchers():
    return [u for u in User.select().where(User.is_active == True).order_by(User.full_name)  # noqa: E712
            if u.has_role("researcher")]


def _user_or_none(value):
    value = (value or "").strip()
    return User.get_or_none(User.id == int(value)) if value.isdigit() else None


# --- the reception desk --------------------------------------------------------------------------

def _desk(form=None, errors=None, results=None, status=200):
    branch = current_branch()
    context = {"branch": branch, "visits": svc.waiting_list(branch), "now": svc.utcnow(), "svc": svc,
               "officers": officers(), "poll_seconds": current_app.config["INTERVIEW_POLL_SECONDS"]}
    if request.endpoint == "interview.desk_waiting" and request.htmx and not request.htmx.boosted:
        # the list's own refresh: only what the list draws
        return render("interview/desk.html", block="waiting_list", **context), status
    context.update({
        "branches": branches(), "done": svc.finished_today(branch), "form": form or {}, "errors": errors or {},
        "results": results, "q": request.args.get("q", ""),
        "appointments": [a for a in svc.day_appointments(saudi_today(), branch=branch) if a.status == "booked"],
    })
    return render("interview/desk.html", **context), status


@bp.get("/interview/desk")
@roles_required(*DESK_ROLES)
def desk():
    from portal.beneficiaries_service import search_query

    q = request.args.get("q", "").strip()
    results = list(search_query(q, _me()).limit(10)) if q else None
    page, status = _desk(results=results)
    return page, status, {"Vary": "HX-Request"}


@bp.get("/interview/desk/waiting")
@roles_required(*DESK_ROLES)
def desk_waiting():
    page, status = _desk()
    return page, status, {"Vary": "HX-Request"}


@bp.post("/interview/desk/check-in")
@roles_required(*DESK_ROLES)
def desk_check_in():
    branch = current_branch()
    try:
        visit = svc.check_in(branch=branch, form=request.form, actor=_me())
    except svc.DeskError as exc:
        flash(str(exc.message), "error")
        results = None
        if request.form.get("q"):
            from portal.beneficiaries_service import search_query

            results = list(search_query(request.form["q"], _me()).limit(10))
        return _desk(form=request.form, errors=exc.fields, results=results, status=422)
    flash(_("Ticket %(n)s: %(name)s is waiting.", n=visit.ticket, name=visit.name), "success")
    return redirect(url_for("interview.desk", branch=svc.branch_key(branch)))


@bp.post("/interview/desk/call-next")
@roles_required(*DESK_ROLES)
def desk_call_next():
    branch = current_branch()
    visit = svc.call_next(branch=branch, officer=_me())
    if visit is None:
        flash(_("Nobody is waiting."), "info")
    else:
        flash(_("Ticket %(n)s: %(name)s, please come in.", n=visit.ticket, name=visit.name), "success")
    return redirect(url_for("interview.desk", branch=svc.branch_key(branch)))


def _visit(visit_id) -> Visit:
    visit = get_or_404(Visit, Visit.id == visit_id)
    if visit.beneficiary_id and not can_see_beneficiary(visit.beneficiary, _me()):
        abort(403)
    return visit


def _after_visit(visit):
    return redirect(url_for("interview.desk", branch=visit.branch_key))


def _desk_step(row, step, message, back, category: str = "success"):
    """One step on a visit or an appointment: ``step(row)`` (a ``DeskError`` is shown as it is), then
    ``message(row)`` flashed, and ``back(row)``: where the step was asked from."""
    try:
        step(row)
        flash(message(row), category)
    except svc.DeskError as exc:
        flash(str(exc.message), "error")
    return back(row)


@bp.post("/interview/visits/<int:visit_id>/hand-over")
@roles_required(*DESK_ROLES)
def visit_hand_over(visit_id):
    officer = _user_or_none(request.form.get("officer"))
    return _desk_step(_visit(visit_id), lambda v: svc.hand_over(v, officer=officer, actor=_me()),
                      lambda v: _("Ticket %(n)s was handed over to %(name)s.", n=v.ticket,
                                  name=svc.user_label(officer)), _after_visit)


@bp.post("/interview/visits/<int:visit_id>/start")
@roles_required(*DESK_ROLES)
def visit_start(visit_id):
    visit = _visit(visit_id)
    try:
        svc.start(visit, actor=_me())
    except svc.DeskError as exc:
        flash(str(exc.message), "error")
        return _after_visit(visit)
    if visit.beneficiary_id:
        return redirect(url_for("interview.new_interview", ben_id=visit.beneficiary_id, visit=visit.id))
    flash(_("Ticket %(n)s: the interview started. Link the visitor to a file to record it.", n=visit.ticket), "info")
    return _after_visit(visit)


@bp.post("/interview/visits/<int:visit_id>/finish")
@roles_required(*DESK_ROLES)
def visit_finish(visit_id):
    return _desk_step(_visit(visit_id), lambda v: svc.finish(v, actor=_me()),
                      lambda v: _("Ticket %(n)s is finished.", n=v.ticket), _after_visit)


@bp.post("/interview/visits/<int:visit_id>/left")
@roles_required(*DESK_ROLES)
def visit_left(visit_id):
    return _desk_step(_visit(visit_id), lambda v: svc.left(v, actor=_me()),
                      lambda v: _("Ticket %(n)s left without being served.", n=v.ticket), _after_visit, "info")


@bp.post("/interview/visits/<int:visit_id>/link")
@roles_required(*DESK_ROLES)
def visit_link(visit_id):
    """Link a new visitor to a file (found by national ID or file number) once it exists."""
    visit = _visit(visit_id)
    from portal.text import fold_digits, only_digits
    from portal.validators import clean_national_id

    text = only_digits(fold_digits(request.form.get("file") or ""))
    ben = None
    if len(text) == 10:
        try:
            ben = Beneficiary.get_or_none(Beneficiary.national_id == clean_national_id(text))
        except ValidationError as exc:
            flash(str(exc.message), "error")
            return _after_visit(visit)
    elif text:
        ben = Beneficiary.get_or_none(Beneficiary.file_number == text.zfill(6))
    if ben is None or not can_see_beneficiary(ben, _me()):
        flash(_("No file has this number."), "error")
        return _after_visit(visit)
    with database.atomic():
        Visit.update(beneficiary=ben, name=ben.full_name).where(Visit.id == visit.id).execute()
        svc.audit("update", "interview_visit", visit.id, {"beneficiary": ben.id}, actor=_me())
    flash(_("Ticket %(n)s is linked to the file %(file)s.", n=visit.ticket, file=ben.file_number), "success")
    return _after_visit(visit)


# --- the interview record ------------------------------------------------------------------------

def _questions_from(form):
    qs, ans = form.getlist("question"), form.getlist("answer")
    return list(zip(qs, ans + [""] * (len(qs) - len(ans))))


def _interview_context(ben, visit, appointment, form, errors, token):
    cases = list(scope_cases(Case.select(Case.id, Case.reference, Case.status).where(Case.beneficiary == ben),
                             _me()).order_by(Case.id.desc()).limit(20))
    questions = form.get("questions") if isinstance(form, dict) and "questions" in form else None
    if questions is None:
        questions = [{"q": q, "a": a} for q, a in _questions_from(form)] if hasattr(form, "getlist") else []
    while len(questions) < 3:
        questions.append({"q": "", "a": ""})
    return {"ben": ben, "visit": visit, "appointment": appointment, "form": form, "errors": errors,
            "form_token": token, "questions": questions, "researchers": researchers(), "cases": cases}


def _linked(ben):
    visit = appointment = None
    visit_id = request.values.get("visit", "")
    if visit_id.isdigit():
        visit = Visit.get_or_none((Visit.id == int(visit_id)) & (Visit.beneficiary == ben.id))
    appt_id = request.values.get("appointment", "")
    if appt_id.isdigit():
        appointment = Appointment.get_or_none((Appointment.id == int(appt_id)) & (Appointment.beneficiary == ben.id))
    return visit, appointment


@bp.get("/interview/beneficiaries/<int:ben_id>/new")
@roles_required(*INTERVIEW_ROLES)
def new_interview(ben_id):
    ben = visible_beneficiary(ben_id)
    visit, appointment = _linked(ben)
    form = {"purpose": visit.reason if visit else (appointment.reason if appointment else "")}
    return render("interview/interview_form.html",
                  **_interview_context(ben, visit, appointment, form, {}, svc.new_form_token()))


@bp.post("/interview/beneficiaries/<int:ben_id>/new")
@roles_required(*INTERVIEW_ROLES)
def record_interview(ben_id):
    ben = visible_beneficiary(ben_id)
    visit, appointment = _linked(ben)
    token = request.form.get("form_token", "")
    values, errors = svc.clean_interview(request.form, _questions_from(request.form))
    case = None
    case_id = request.form.get("case", "")
    if case_id.isdigit():
        case = scope_cases(Case.select().where((Case.id == int(case_id)) & (Case.beneficiary == ben.id)), _me()).first()
        if case is None:
            errors["case"] = _("Unknown request for this beneficiary.")
    if errors:
        flash(_("The interview was not recorded. Check the fields marked below."), "error")
        return render("interview/interview_form.html",
                      **_interview_context(ben, visit, appointment, request.form, errors, token)), 422
    try:
        row, created = svc.record_interview(beneficiary=ben, values=values, form_token=token, actor=_me(),
                                            visit=visit, appointment=appointment, case=case)
    except svc.DeskError as exc:
        flash(str(exc.message), "error")
        return render("interview/interview_form.html",
                      **_interview_context(ben, visit, appointment, request.form, {}, svc.new_form_token())), 422
    if created:
        flash(_("The interview was recorded."), "success")
    else:
        flash(_("This interview was already recorded; it was not recorded twice."), "info")
    return redirect(url_for("interview.interview_detail", record_id=row.id))


def _record(record_id) -> Interview:
    row = (Interview.select(Interview, Beneficiary).join(Beneficiary, attr="beneficiary")
           .where(Interview.id == record_id).first())
    if row is None:
        abort(404)
    if not can_see_beneficiary(row.beneficiary, _me()):
        abort(403)
    return row


@bp.get("/interview/records/<int:record_id>")
@roles_required(*INTERVIEW_ROLES)
def interview_detail(record_id):
    row = _record(record_id)
    return render("interview/interview_detail.html", row=row, svc=svc)


@bp.get("/interview/records/<int:record_id>/summary.pdf")
@roles_required(*INTERVIEW_ROLES)
def interview_pdf(record_id):
    from portal.audit import audit
    from portal.pdf import font_faces, html_to_pdf

    from flask_babel import force_locale

    row = _record(record_id)
    with force_locale("ar"):  # the summary the beneficiary signs is in Arabic, whatever the officer reads
        html = render_template("interview/summary_pdf.html", row=row, fonts=font_faces(), svc=svc,
                               org_name=current_app.config["ORG_NAME_AR"])
    pdf = html_to_pdf(html)
    audit("read", "interview_record", row.id, {"summary": "pdf"})
    return pdf, 200, {"Content-Type": "application/pdf",
                      "Content-Disposition": f"inline; filename=interview-{row.id}.pdf"}


@bp.post("/interview/records/<int:record_id>/explained")
@roles_required("researcher")
def referral_explained(record_id):
    row = Interview.get_or_none(Interview.id == record_id)  # the referral itself gives the researcher access
    if row is None:
        abort(404)
    if row.referred_to_id != _me().id:
        abort(403)
    if svc.referral_done(row, actor=_me()):
        flash(_("The referral is marked as explained."), "success")
    return redirect(request.form.get("next") if request.form.get("next", "").startswith("/") and not
                    request.form.get("next", "").startswith("//") else url_for("dashboard.index"))


# --- appointments ----------------------------------------------------------------------------------

def _day_arg():
    try:
        return parse_date(request.args.get("day")) or saudi_today()
    except ValidationError:
        return saudi_today()


@bp.get("/interview/appointments")
@roles_required(*APPOINTMENT_ROLES)
def appointments():
    day = _day_arg()
    branch = current_branch()
    rows = svc.day_appointments(day, branch=branch)
    free = svc.free_slots(branch=branch, day=day)
    return render("interview/appointments.html", day=day, rows=rows, free=free, branch=branch,
                  branches=branches(), prev_day=day - dt.timedelta(days=1), next_day=day + dt.timedelta(days=1),
                  now=svc.utcnow())


def _appointment_form(form, errors, ben, status=200):
    branch = current_branch()
    day = None
    try:
        day = parse_date(request.values.get("day")) if request.values.get("day") else None
    except ValidationError:
        day = None
    slots = svc.free_slots(branch=branch, day=day, limit=120)
    return render("interview/appointment_form.html", form=form, errors=errors, ben=ben, slots=slots,
                  branch=branch, branches=branches(), day=day), status


@bp.get("/interview/appointments/new")
@roles_required(*DESK_ROLES)
def appointment_new():
    ben = None
    if request.args.get("ben", "").isdigit():
        ben = visible_beneficiary(int(request.args["ben"]))
    return _appointment_form({}, {}, ben)


@bp.post("/interview/appointments/new")
@roles_required(*DESK_ROLES)
def appointment_create():
    ben = None
    if request.form.get("ben", "").isdigit():
        ben = visible_beneficiary(int(request.form["ben"]))
    try:
        row = svc.book(slot_id=request.form.get("slot", ""), beneficiary=ben, name=request.form.get("name", ""),
                       mobile=request.form.get("mobile", ""), reason=request.form.get("reason", ""),
                       source="staff", actor=_me())
    except svc.DeskError as exc:
        flash(str(exc.message), "error")
        return _appointment_form(request.form, exc.fields, ben, status=422)
    local = to_saudi(row.slot.starts_at)
    flash(_("The appointment is booked for %(day)s at %(time)s.", day=svc.format_hijri(local.date()),
            time=local.strftime("%H:%M")), "success")
    return _back_to_day(row)


def _appointment(appt_id) -> Appointment:
    row = svc.appointments_query().where(Appointment.id == appt_id).first()
    if row is None:
        abort(404)
    if row.beneficiary_id and not can_see_beneficiary(row.beneficiary, _me()):
        abort(403)
    return row


def _back_to_day(row):
    return redirect(url_for("interview.appointments", day=to_saudi(row.slot.starts_at).date().isoformat(),
                            branch=row.slot.branch_key))


@bp.post("/interview/appointments/<int:appt_id>/cancel")
@roles_required(*DESK_ROLES)
def appointment_cancel(appt_id):
    reason = request.form.get("reason", "")
    return _desk_step(_appointment(appt_id), lambda a: svc.cancel(a, actor=_me(), reason=reason),
                      lambda a: _("The appointment was cancelled; the time is free again."), _back_to_day)


@bp.post("/interview/appointments/<int:appt_id>/no-show")
@roles_required(*DESK_ROLES)
def appointment_no_show(appt_id):
    return _desk_step(_appointment(appt_id), lambda a: svc.no_show(a, actor=_me()),
                      lambda a: _("Recorded: the visitor did not come."), _back_to_day)


@bp.post("/interview/appointments/<int:appt_id>/arrived")
@roles_required(*DESK_ROLES)
def appointment_arrived(appt_id):
    """The visitor with an appointment arrives: a ticket at the desk, the appointment marked attended."""
    row = _appointment(appt_id)
    if row.status != "booked":
        flash(_("Only a booked appointment can be checked in."), "error")
        return _back_to_day(row)
    form = {"reason": row.reason or _("Appointment"), "beneficiary": str(row.beneficiary_id or ""),
            "name": row.name, "mobile": row.mobile}
    try:
        visit = svc.check_in(branch=row.slot.branch_id, form=form, actor=_me(), appointment=row)
    except svc.DeskError as exc:
        flash(str(exc.message), "error")
        return _back_to_day(row)
    if row.slot.officer_id:
        svc.hand_over(visit, officer=row.slot.officer, actor=_me())
    flash(_("Ticket %(n)s: %(name)s is waiting.", n=visit.ticket, name=visit.name), "success")
    return redirect(url_for("interview.desk", branch=visit.branch_key))


# --- slots -------------------------------------------------------------------------------------------

def _slots_page(form=None, errors=None, status=200):
    branch = current_branch()
    templates = list(SlotTemplate.select(SlotTemplate, User).join(User, JOIN.LEFT_OUTER, on=(SlotTemplate.officer == User.id),
                                                                   attr="officer")
                     .where(SlotTemplate.active == True).order_by(SlotTemplate.weekday, SlotTemplate.start))  # noqa: E712
    upcoming = svc.free_slots(branch=branch, limit=60)
    return render("interview/slots.html", templates=templates, upcoming=upcoming, branch=branch,
                  branches=branches(), officers=officers(), form=form or {}, errors=errors or {},
                  weekdays=WEEKDAYS), status


@bp.get("/interview/slots")
@roles_required(*SLOT_ROLES)
def slots():
    return _slots_page()


def _int(value, default):
    from portal.text import fold_digits

    text = fold_digits(value or "").strip()
    return int(text) if text.isdigit() else default


@bp.post("/interview/slots/templates")
@roles_required(*SLOT_ROLES)
def slot_template_add():
    branch = current_branch(request.form.get("branch"))
    officer = _user_or_none(request.form.get("officer"))
    try:
        svc.add_template(branch=branch, officer=officer, weekday=_int(request.form.get("weekday"), -1),
                         start=request.form.get("start", ""), end=request.form.get("end", ""),
                         minutes_long=_int(request.form.get("minutes"), 0), actor=_me())
    except svc.DeskError as exc:
        flash(str(exc.message), "error")
        return _slots_page(request.form, exc.fields, 422)
    flash(_("The weekly slots were added."), "success")
    return redirect(url_for("interview.slots", branch=svc.branch_key(branch)))


@bp.post("/interview/slots/templates/<int:template_id>/stop")
@roles_required(*SLOT_ROLES)
def slot_template_stop(template_id):
    row = get_or_404(SlotTemplate, SlotTemplate.id == template_id)
    with database.atomic():
        SlotTemplate.update(active=False).where(SlotTemplate.id == row.id).execute()
        held = Appointment.select(Appointment.holds).where(Appointment.holds.is_null(False))
        Slot.update(active=False).where((Slot.template_id == row.id) & (Slot.starts_at > svc.utcnow())
                                        & Slot.id.not_in(held)).execute()
        svc.audit("update", "interview_slot_template", row.id, {"active": False}, actor=_me())
    flash(_("The weekly slots were stopped; booked appointments are kept."), "success")
    return redirect(url_for("interview.slots"))


@bp.post("/interview/slots/one")
@roles_required(*SLOT_ROLES)
def slot_add():
    branch = current_branch(request.form.get("branch"))
    officer = _user_or_none(request.form.get("officer"))
    try:
        starts = svc.parse_local(request.form.get("day", ""), request.form.get("time", ""))
        slot = svc.add_slot(branch=branch, officer=officer, starts_at=starts,
                            minutes_long=_int(request.form.get("minutes"), 0), actor=_me())
    except svc.DeskError as exc:
        flash(str(exc.message), "error")
        return _slots_page(request.form, exc.fields, 422)
    if slot is None:
        flash(_("This officer already has a slot at that time."), "error")
        return _slots_page(request.form, {}, 422)
    flash(_("The slot was added."), "success")
    return redirect(url_for("interview.slots", branch=svc.branch_key(branch)))


# --- the dashboard ---------------------------------------------------------------------------------

def dashboard_widgets(user):
    out = []
    if user.has_role(*DESK_ROLES):
        branch = user.branch if user.branch_id else None
        rows = svc.day_appointments(saudi_today(), branch=branch) if branch else svc.day_appointments(saudi_today())
        rows = [r for r in rows if r.slot.officer_id in (None, user.id)]
        out.append(Markup(render_template("interview/_today_widget.html", rows=rows)))  # nosec B704 # autoescaped
    if user.has_role("researcher"):
        referrals = svc.open_referrals(user)
        if referrals:
            out.append(Markup(render_template("interview/_referrals_widget.html", referrals=referrals)))  # nosec B704
    return out
