"""The volunteering service's staff screens: the registry, opportunities (suggestions, assignments,
attendance, services to beneficiaries), hours to approve and certificates."""
from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from peewee import JOIN, fn

from portal.auth import roles_required
from portal.dates import saudi_day_bounds, saudi_today, to_saudi
from portal.hygiene import get_or_404
from portal.models import Beneficiary, Branch, Case
from portal.scope import can_see_beneficiary, scope_cases
from portal.templating import render
from portal.text import fold_digits, only_digits
from portal.validators import ValidationError, clean_national_id

from . import MANAGE_ROLES, READ_ROLES
from . import service as svc
from .models import Assignment, Certificate, HoursLog, Opportunity, Service, Volunteer

bp = Blueprint("volunteering", __name__, template_folder="templates")
PAGE = 50


@bp.app_template_filter("volunteer_hours")
def volunteer_hours(value) -> str:
    return svc.hours_text(value)


def _me():
    return current_user._get_current_object()


def branches():
    return list(Branch.select().order_by(Branch.code))


def branch_name(branch) -> str:
    from flask_babel import get_locale

    locale = get_locale()
    return branch.name_ar if locale is None or locale.language == "ar" else (branch.name_en or branch.name_ar)


def chosen(form, name) -> list[str]:
    """The values of a multi-choice field as text, from a request form or a dict of lists."""
    if hasattr(form, "getlist"):
        return form.getlist(name)
    value = form.get(name) if form else None
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else ([str(value)] if value else [])


def _common(**context):
    all_branches = branches()
    return {"skills": svc.SKILLS, "kinds": svc.KINDS, "weekdays": svc.WEEKDAYS, "branches": all_branches,
            "branch_options": [(b.id, branch_name(b)) for b in all_branches], "branch_name": branch_name,
            "chosen": chosen, "svc": svc, **context}


# --- the registry ------------------------------------------------------------------------------------

@bp.get("/volunteering/volunteers")
@roles_required(*READ_ROLES)
def volunteers():
    state = request.args.get("state", "")
    q = fold_digits(request.args.get("q", "")).strip()[:100]
    query = Volunteer.select(Volunteer, Branch).join(Branch, JOIN.LEFT_OUTER, attr="branch")
    if state in ("pending", "approved", "paused"):
        query = query.where(Volunteer.state == state)
    if q:
        digits = only_digits(q)
        cond = Volunteer.name.contains(q)
        if len(digits) >= 4:
            cond |= Volunteer.mobile.contains(digits[-9:]) | Volunteer.national_id.contains(digits)
        query = query.where(cond)
    rows = list(query.order_by(Volunteer.created_at.desc(), Volunteer.id.desc()).limit(PAGE))
    ids = [r.id for r in rows]
    return render("volunteering/volunteers.html", **_common(
        rows=rows, state=state, q=q, skills_by=svc.skills_of(ids), totals=svc.hours_totals(ids)))


def _volunteer_form(form, errors, volunteer=None, status=200):
    return render("volunteering/volunteer_form.html", **_common(form=form, errors=errors, volunteer=volunteer)), status


@bp.get("/volunteering/volunteers/new")
@roles_required(*MANAGE_ROLES)
def volunteer_new():
    return _volunteer_form({"weekdays": ["6", "0", "1", "2", "3"], "time_from": "08:00", "time_to": "22:00"}, {})


@bp.post("/volunteering/volunteers/new")
@roles_required(*MANAGE_ROLES)
def volunteer_create():
    values, errors = svc.clean_volunteer(request.form)
    if errors:
        flash(_("The volunteer was not saved. Check the fields marked below."), "error")
        return _volunteer_form(request.form, errors, status=422)
    row = svc.save_volunteer(values, actor=_me())
    flash(_("The volunteer %(name)s was added; approve them once vetted.", name=row.name), "success")
    return redirect(url_for("volunteering.volunteer", vol_id=row.id))


def _volunteer(vol_id) -> Volunteer:
    row = Volunteer.select(Volunteer, Branch).join(Branch, JOIN.LEFT_OUTER, attr="branch").where(
        Volunteer.id == vol_id).first()
    if row is None:
        abort(404)
    return row


def _volunteer_page(row, errors=None, status=200):
    assignments = list(Assignment.select(Assignment, Opportunity).join(Opportunity, attr="opportunity")
                       .where(Assignment.volunteer == row.id).order_by(Opportunity.starts_at.desc()).limit(100))
    hours = list(svc.hours_query().where(HoursLog.volunteer == row.id).order_by(HoursLog.day.desc()).limit(200))
    certificates = list(Certificate.select().where(Certificate.volunteer == row.id).order_by(Certificate.id.desc()))
    matches = [] if row.beneficiary_id else [b for b in svc.file_matches(row) if can_see_beneficiary(b, _me())]
    linked = row.beneficiary if row.beneficiary_id else None
    return render("volunteering/volunteer.html", **_common(
        row=row, skills_list=svc.skills_of([row.id]).get(row.id, []), assignments=assignments, hours=hours,
        certificates=certificates, matches=matches, linked=linked, totals=svc.hours_totals([row.id]).get(row.id, {}),
        errors=errors or {})), status


@bp.get("/volunteering/volunteers/<int:vol_id>")
@roles_required(*READ_ROLES)
def volunteer(vol_id):
    return _volunteer_page(_volunteer(vol_id))


@bp.get("/volunteering/volunteers/<int:vol_id>/edit")
@roles_required(*MANAGE_ROLES)
def volunteer_edit(vol_id):
    row = _volunteer(vol_id)
    form = {"name": row.name, "mobile": row.mobile, "email": row.email, "national_id": row.national_id,
            "city": row.city, "branch": row.branch_id or "", "notes": row.notes, "time_from": row.time_from,
            "time_to": row.time_to, "weekdays": [str(d) for d in svc.days_of(row.weekdays)],
            "skills": svc.skills_of([row.id]).get(row.id, [])}
    return _volunteer_form(form, {}, row)


@bp.post("/volunteering/volunteers/<int:vol_id>/edit")
@roles_required(*MANAGE_ROLES)
def volunteer_update(vol_id):
    row = _volunteer(vol_id)
    values, errors = svc.clean_volunteer(request.form, row)
    if errors:
        flash(_("The volunteer was not saved. Check the fields marked below."), "error")
        return _volunteer_form(request.form, errors, row, status=422)
    svc.save_volunteer(values, actor=_me(), volunteer=row)
    flash(_("The volunteer's details were saved."), "success")
    return redirect(url_for("volunteering.volunteer", vol_id=row.id))


@bp.post("/volunteering/volunteers/<int:vol_id>/state")
@roles_required(*MANAGE_ROLES)
def volunteer_state(vol_id):
    row = _volunteer(vol_id)
    try:
        svc.set_state(row, request.form.get("state", ""), actor=_me())
    except svc.VolunteeringError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("The vetting state was changed."), "success")
    return redirect(url_for("volunteering.volunteer", vol_id=row.id))


@bp.post("/volunteering/volunteers/<int:vol_id>/link")
@roles_required(*MANAGE_ROLES)
def volunteer_link(vol_id):
    """Confirm that the volunteer is the beneficiary of a matching file (or undo the link)."""
    row = _volunteer(vol_id)
    value = request.form.get("beneficiary", "")
    ben = None
    if value.isdigit():
        ben = Beneficiary.get_or_none(Beneficiary.id == int(value))
        if ben is None or not can_see_beneficiary(ben, _me()):
            abort(404)
    try:
        svc.link_file(row, ben, actor=_me())
    except svc.VolunteeringError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("The volunteer is linked to the file.") if ben else _("The link to the file was removed."), "success")
    return redirect(url_for("volunteering.volunteer", vol_id=row.id))


@bp.post("/volunteering/volunteers/<int:vol_id>/certificate")
@roles_required(*MANAGE_ROLES)
def volunteer_certificate(vol_id):
    row = _volunteer(vol_id)
    try:
        cert, _document = svc.issue_certificate(row, actor=_me(), hour_ids=request.form.getlist("hours"))
    except svc.VolunteeringError as exc:
        flash(str(exc.message), "error")
        return _volunteer_page(row, {"hours": exc.message}, status=422)
    flash(_("Certificate %(number)s was issued for %(hours)s approved hours.", number=svc.isolate(cert.number),
            hours=svc.isolate(svc.hours_text(cert.hours))), "success")
    return redirect(url_for("volunteering.volunteer", vol_id=row.id))


@bp.post("/volunteering/import")
@roles_required(*MANAGE_ROLES)
def import_signups():
    made = svc.import_signups(actor=_me())
    flash(_("%(n)s sign-ups from the website were added to the registry.", n=made), "success")
    return redirect(url_for("volunteering.volunteers", state="pending"))


# --- certificates ------------------------------------------------------------------------------------

def _certificate(cert_id) -> Certificate:
    row = Certificate.select(Certificate, Volunteer).join(Volunteer, attr="volunteer").where(
        Certificate.id == cert_id).first()
    if row is None:
        abort(404)
    return row


def pdf_response(data: bytes, filename: str):
    response = send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True, download_name=filename,
                         max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/volunteering/certificates/<int:cert_id>.pdf")
@roles_required(*READ_ROLES)
def certificate_pdf(cert_id):
    cert = _certificate(cert_id)
    data, filename = svc.certificate_pdf(cert, actor=_me())
    svc.audit("read", "volunteer_certificate", cert.id, {"pdf": True})
    return pdf_response(data, filename)


@bp.get("/volunteering/certificates/<int:cert_id>")
@roles_required(*READ_ROLES)
def certificate_page(cert_id):
    """The printable certificate (the service's own, when no plugin makes it as a letter)."""
    cert = _certificate(cert_id)
    return render_template("volunteering/certificate_print.html", cert=cert, pdf=False, fonts="",
                           tasks=svc.document_request(cert)[1]["tasks"], org_name=svc.current_app.config["ORG_NAME_AR"])


# --- opportunities -----------------------------------------------------------------------------------

@bp.get("/volunteering/opportunities")
@roles_required(*READ_ROLES)
def opportunities():
    past = request.args.get("past") == "1"
    start = saudi_day_bounds(saudi_today())[0]
    query = Opportunity.select(Opportunity, Branch).join(Branch, JOIN.LEFT_OUTER, attr="branch")
    query = query.where(Opportunity.starts_at < start) if past else query.where(Opportunity.ends_at >= start)
    rows = list(query.order_by(Opportunity.starts_at.desc() if past else Opportunity.starts_at).limit(PAGE))
    pending = HoursLog.select().where(HoursLog.state == "pending").limit(100).count()
    return render("volunteering/opportunities.html", **_common(
        rows=rows, taken=svc.taken_counts([r.id for r in rows]), past=past, pending=pending))


def _opportunity_form(form, errors, status=200):
    return render("volunteering/opportunity_form.html", **_common(form=form, errors=errors)), status


@bp.get("/volunteering/opportunities/new")
@roles_required(*MANAGE_ROLES)
def opportunity_new():
    return _opportunity_form({"places": "5", "kind": "delivery"}, {})


@bp.post("/volunteering/opportunities/new")
@roles_required(*MANAGE_ROLES)
def opportunity_create():
    values, errors = svc.clean_opportunity(request.form)
    if errors:
        flash(_("The opportunity was not saved. Check the fields marked below."), "error")
        return _opportunity_form(request.form, errors, status=422)
    row = svc.save_opportunity(values, actor=_me())
    flash(_("The opportunity was added. Assign volunteers from the suggestions."), "success")
    return redirect(url_for("volunteering.opportunity", opp_id=row.id))


def _opportunity(opp_id) -> Opportunity:
    row = Opportunity.select(Opportunity, Branch).join(Branch, JOIN.LEFT_OUTER, attr="branch").where(
        Opportunity.id == opp_id).first()
    if row is None:
        abort(404)
    return row


def _opportunity_page(row, *, warning=None, form=None, errors=None, status=200):
    assignments = list(Assignment.select(Assignment, Volunteer).join(Volunteer, attr="volunteer")
                       .where(Assignment.opportunity == row.id).order_by(Assignment.created_at))
    ids = [a.id for a in assignments]
    hours = {h.assignment_id: h for h in HoursLog.select().where(HoursLog.assignment.in_(ids))} if ids else {}
    served = {}
    if ids:
        for s in (Service.select(Service, Beneficiary).join(Beneficiary, attr="beneficiary")
                  .where(Service.assignment.in_(ids)).order_by(Service.id)):
            served.setdefault(s.assignment_id, []).append(s)
    others = list(Volunteer.select(Volunteer.id, Volunteer.name).where(
        (Volunteer.state == "approved") & Volunteer.id.not_in([a.volunteer_id for a in assignments] or [0]))
        .order_by(Volunteer.name).limit(300))
    suggested = svc.suggestions(row)
    return render("volunteering/opportunity.html", **_common(
        row=row, assignments=assignments, hours=hours, served=served, suggested=suggested, others=others,
        suggested_skills=svc.skills_of([v.id for v in suggested]), taken=svc.taken_counts([row.id]).get(row.id, 0),
        warning=warning, form=form or {}, errors=errors or {}, now=svc.utcnow(), local=to_saudi)), status


@bp.get("/volunteering/opportunities/<int:opp_id>")
@roles_required(*READ_ROLES)
def opportunity(opp_id):
    return _opportunity_page(_opportunity(opp_id))


@bp.post("/volunteering/opportunities/<int:opp_id>/assign")
@roles_required(*MANAGE_ROLES)
def opportunity_assign(opp_id):
    row = _opportunity(opp_id)
    value = request.form.get("volunteer", "")
    vol = Volunteer.get_or_none(Volunteer.id == int(value)) if value.isdigit() else None
    if vol is None:
        flash(_("Choose a volunteer."), "error")
        return _opportunity_page(row, form=request.form, errors={"volunteer": _("Choose a volunteer.")}, status=422)
    try:
        assignment = svc.assign(row, vol, actor=_me(), confirm_outside=request.form.get("confirm_outside") == "1")
    except svc.VolunteeringError as exc:
        if exc.code == "outside":
            return _opportunity_page(row, warning={"volunteer": vol, "message": exc.message}, form=request.form,
                                     status=422)
        flash(str(exc.message), "error")
        return _opportunity_page(row, form=request.form, errors=exc.fields, status=422)
    sent = {"sent": _("the message was sent"), "queued": _("the message is on its way"),
            "not_sent": _("no message could be sent: tell them yourself")}[assignment.message_state]
    flash(_("%(name)s is assigned (%(sent)s).", name=vol.name, sent=sent), "success")
    return redirect(url_for("volunteering.opportunity", opp_id=row.id))


@bp.post("/volunteering/opportunities/<int:opp_id>/cancel")
@roles_required(*MANAGE_ROLES)
def opportunity_cancel(opp_id):
    row = _opportunity(opp_id)
    try:
        told = svc.cancel_opportunity(row, actor=_me())
    except svc.VolunteeringError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("The opportunity was cancelled; %(n)s volunteers were told.", n=told), "success")
    return redirect(url_for("volunteering.opportunity", opp_id=row.id))


def _assignment(assign_id) -> Assignment:
    row = (Assignment.select(Assignment, Opportunity, Volunteer).join(Opportunity, attr="opportunity")
           .switch(Assignment).join(Volunteer, attr="volunteer").where(Assignment.id == assign_id).first())
    if row is None:
        abort(404)
    return row


@bp.post("/volunteering/assignments/<int:assign_id>/state")
@roles_required(*MANAGE_ROLES)
def assignment_state(assign_id):
    """A staff member records the volunteer's answer (confirmed, declined), cancels, or records attendance."""
    row = _assignment(assign_id)
    action = request.form.get("action", "")
    steps = {"confirm": (lambda: svc.confirm(row, actor=_me()), _("The assignment is confirmed.")),
             "decline": (lambda: svc.decline(row, actor=_me()), _("The volunteer declined.")),
             "cancel": (lambda: svc.cancel(row, actor=_me()), _("The assignment was cancelled.")),
             "attended": (lambda: svc.mark_attendance(row, True, actor=_me()), _("Attendance recorded.")),
             "absent": (lambda: svc.mark_attendance(row, False, actor=_me()), _("Recorded: the volunteer did not come."))}
    if action not in steps:
        abort(400)
    step, message = steps[action]
    try:
        step()
    except svc.VolunteeringError as exc:
        flash(str(exc.message), "error")
    else:
        flash(message, "success")
    return redirect(url_for("volunteering.opportunity", opp_id=row.opportunity_id))


@bp.post("/volunteering/assignments/<int:assign_id>/hours")
@roles_required(*MANAGE_ROLES)
def assignment_hours(assign_id):
    row = _assignment(assign_id)
    try:
        svc.log_hours(row, request.form.get("hours"), note=request.form.get("note", ""), actor=_me())
    except svc.VolunteeringError as exc:
        flash(str(exc.message), "error")
        return _opportunity_page(row.opportunity, form={**request.form.to_dict(), "assignment": str(row.id)},
                                 errors=exc.fields, status=422)
    flash(_("The hours were logged; approve them on the hours page."), "success")
    return redirect(url_for("volunteering.opportunity", opp_id=row.opportunity_id))


def _find_file(text: str):
    digits = only_digits(fold_digits(text or ""))
    if len(digits) == 10:
        try:
            return Beneficiary.get_or_none(Beneficiary.national_id == clean_national_id(digits))
        except ValidationError:
            return None
    if digits:
        return Beneficiary.get_or_none(Beneficiary.file_number == digits.zfill(6))
    return None


@bp.post("/volunteering/assignments/<int:assign_id>/service")
@roles_required(*MANAGE_ROLES)
def assignment_service(assign_id):
    """The volunteer served a beneficiary (a delivery, a visit): on the beneficiary's timeline."""
    row = _assignment(assign_id)
    form = {**request.form.to_dict(), "assignment": str(row.id)}
    ben = _find_file(request.form.get("file", ""))
    if ben is None or not can_see_beneficiary(ben, _me()):
        message = _("No file has this number.")
        flash(message, "error")
        return _opportunity_page(row.opportunity, form=form, errors={"file": message}, status=422)
    case, delivery_id = None, None
    ref = (request.form.get("case") or "").strip()
    if ref:
        case = scope_cases(Case.select().where((Case.beneficiary == ben.id) & (Case.reference == ref)), _me()).first()
        if case is None:
            message = _("Unknown request for this beneficiary.")
            flash(message, "error")
            return _opportunity_page(row.opportunity, form=form, errors={"case": message}, status=422)
        from portal.workflow.models import Delivery

        latest = (Delivery.select(fn.MAX(Delivery.id)).where(Delivery.case == case.id).scalar())
        delivery_id = latest
    try:
        svc.record_service(row, beneficiary=ben, case=case, delivery_id=delivery_id,
                           note=request.form.get("note", ""), actor=_me())
    except svc.VolunteeringError as exc:
        flash(str(exc.message), "error")
        return _opportunity_page(row.opportunity, form=form, errors=exc.fields, status=422)
    flash(_("The service is on %(name)s's timeline.", name=ben.full_name), "success")
    return redirect(url_for("volunteering.opportunity", opp_id=row.opportunity_id))


# --- hours -------------------------------------------------------------------------------------------

@bp.get("/volunteering/hours")
@roles_required(*READ_ROLES)
def hours():
    rows = list(svc.hours_query().where(HoursLog.state == "pending").order_by(HoursLog.day, HoursLog.id).limit(200))
    return render("volunteering/hours.html", **_common(rows=rows))


@bp.post("/volunteering/hours/<int:hours_id>/decide")
@roles_required(*MANAGE_ROLES)
def hours_decide(hours_id):
    row = get_or_404(HoursLog, HoursLog.id == hours_id)
    decision = request.form.get("decision")
    if decision not in ("approve", "reject"):
        abort(400)
    try:
        svc.decide_hours(row, decision == "approve", actor=_me())
    except svc.VolunteeringError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("The hours were approved.") if decision == "approve" else _("The hours were rejected."), "success")
    back = request.form.get("next", "")
    return redirect(back if back.startswith("/") and not back.startswith("//") else url_for("volunteering.hours"))
