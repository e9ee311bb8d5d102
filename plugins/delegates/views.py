"""The delegate's phone screens (360 px first): today's route, the field-visit form, the contact form, a
request opened on a beneficiary's behalf; the planning of visits; the branch reports.

The visit and contact forms work without JavaScript (a plain POST; the hidden ``client_id`` makes a second
POST of the same form answer the record already made). With JavaScript, ``static/offline.js`` keeps a form
sent while the network is down on the phone (IndexedDB) and replays it when the network returns, asking for
JSON (``X-Delegates-Offline: 1``): 201 for a new record, 200 for one already stored, 422 with the messages,
403 for a file outside the delegate's branch."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from portal.auth import STAFF_ROLES, roles_required
from portal.dates import parse_date, saudi_today
from portal.hygiene import get_or_404
from portal.models import Beneficiary, Case, User
from portal.scope import can_see_beneficiary, can_see_case
from portal.templating import render
from portal.text import fold_digits, only_digits
from portal.timeline import visible_beneficiary
from portal.validators import ValidationError

from . import FIELD_ROLES, PLAN_ROLES, REPORT_ROLES
from . import service as svc
from .models import Plan

bp = Blueprint("delegates", __name__, template_folder="templates", static_folder="static",
               static_url_path="/delegates/static")


@bp.after_request
def _service_worker_scope(response):
    # The service worker lives in the static folder but serves every delegate screen (/delegates/).
    if request.endpoint == "delegates.static" and (request.view_args or {}).get("filename") == "sw.js":
        response.headers["Service-Worker-Allowed"] = "/delegates/"
    return response


def _me():
    return current_user._get_current_object()


def _wants_json() -> bool:
    return request.headers.get("X-Delegates-Offline") == "1"


def _beneficiary(ben_id):
    """The file, or 403/404 (JSON for the offline queue) when the delegate may not see it."""
    ben = Beneficiary.get_or_none(Beneficiary.id == ben_id)
    if ben is None:
        if _wants_json():
            return None, (jsonify({"error": _("Not found.")}), 404)
        abort(404)
    if not can_see_beneficiary(ben, _me()):
        if _wants_json():
            return None, (jsonify({"error": _("This file is not in your branch.")}), 403)
        abort(403)
    return ben, None


def _plan_of(ben, value):
    text = str(value or "")
    if not text.isdigit():
        return None
    return Plan.get_or_none((Plan.id == int(text)) & (Plan.beneficiary == ben.id) & (Plan.delegate == _me().id))


def _done(row, created, message, again_message):
    """The answer to an accepted submission: JSON for the queue, else back to the route with a message."""
    if _wants_json():
        return jsonify({"status": "created" if created else "existing", "id": row.id, "client_id": row.client_id,
                        "redirect": url_for("delegates.today")}), 201 if created else 200
    flash(message if created else again_message, "success" if created else "info")
    return redirect(url_for("delegates.today"))


def _refused(template, ben, form, errors, message, status=422, **extra):
    if _wants_json():
        return jsonify({"error": str(message), "fields": {k: str(v) for k, v in errors.items()}}), status
    flash(message, "error")
    return render(template, ben=ben, form=form, errors=errors, **extra), status


def _not_mine(form):
    """A form saved on the phone by another user (``by``, drawn into the form) and sent while this one is signed
    in: refused, never recorded in the wrong name."""
    by = str(form.get("by") or "")
    if not by or by == str(_me().id):
        return None
    message = _("This form was saved on the phone by another user. Sign in as them to send it.")
    if _wants_json():
        return jsonify({"error": message}), 409
    flash(message, "error")
    return redirect(url_for("delegates.today"))


def _resent(kind, ben, client_id):
    """The record a resent form already made (None for a first submission); 409 when the id was used for
    something else."""
    row = svc.existing(client_id)
    if row is None:
        return None, None
    if not svc.same_submission(row, kind=kind, delegate=_me(), beneficiary=ben):
        message = _("This form was already used for another record. Open the form again.")
        if _wants_json():
            return None, (jsonify({"error": message}), 409)
        flash(message, "error")
        return None, redirect(url_for("delegates.today"))
    return row, None


def _received(kind: str, ben_id: int, clean, template: str, refused: str, already: str, drawn_with=None):
    """The start of a field form's POST (a visit, a contact): the file in the delegate's branch, a form drawn
    for the signed-in user, a resend answered with the record it made (or 409 for an id used elsewhere), the
    fields checked (422 keeping what was typed; ``drawn_with(ben, form)`` gives what else the form draws).
    Returns ``(ben, form, client_id, values, None)``, or a response in the last place when the form stops
    here."""
    ben, answer = _beneficiary(ben_id)
    form = request.form.to_dict()
    if not answer:
        answer = _not_mine(form)
    if answer:
        return ben, form, None, None, answer
    client_id = svc.clean_client_id(form.get("client_id"))
    row, answer = _resent(kind, ben, client_id)
    if answer:
        return ben, form, client_id, None, answer
    if row is not None:
        return ben, form, client_id, None, _done(row, False, "", already)
    values, errors = clean(form)
    if client_id is None:
        form["client_id"] = svc.new_client_id()
        errors["__all__"] = _("The form was incomplete. Check the fields and send it again.")
    if errors:
        return ben, form, client_id, values, _refused(template, ben, form, errors, refused,
                                                      **(drawn_with(ben, form) if drawn_with else {}))
    return ben, form, client_id, values, None


# --- today's route ---------------------------------------------------------------------------------

@bp.get("/delegates/")
@roles_required(*FIELD_ROLES)
def today():
    try:
        day = parse_date(request.args.get("day")) or saudi_today()
    except ValidationError:
        day = saudi_today()
    me = _me()
    return render("delegates/today.html", day=day, stops=svc.route(me, day), recorded=svc.recorded_on(me, day),
                  is_today=day == saudi_today())


@bp.get("/delegates/csrf-token")
@roles_required(*FIELD_ROLES)
def csrf_token():
    """A fresh CSRF token for the offline queue, when a replayed form's token is no longer accepted."""
    return jsonify({"csrf_token": generate_csrf()})


# --- the field visit --------------------------------------------------------------------------------

def _visit_extra(ben, form) -> dict:
    """What the visit form draws besides the typed values: the planned stop, the photo limits."""
    return {"plan": _plan_of(ben, form.get("plan")), "photo_mb": current_app.config["DELEGATES_PHOTO_MB"],
            "photos_max": current_app.config["DELEGATES_PHOTOS_MAX"]}


@bp.get("/delegates/beneficiaries/<int:ben_id>/visit")
@roles_required(*FIELD_ROLES)
def visit_form(ben_id):
    ben = visible_beneficiary(ben_id)
    form = {"client_id": svc.new_client_id(), "plan": request.args.get("plan", "")}
    return render("delegates/visit_form.html", ben=ben, form=form, errors={}, **_visit_extra(ben, form))


@bp.post("/delegates/beneficiaries/<int:ben_id>/visit")
@roles_required(*FIELD_ROLES)
def visit_create(ben_id):
    ben, form, client_id, values, answer = _received(
        "visit", ben_id, svc.clean_visit, "delegates/visit_form.html",
        _("The visit was not recorded. Check the fields marked below."),
        _("This visit was already recorded; it was not recorded twice."), _visit_extra)
    if answer:
        return answer
    try:
        photos = svc.store_photos(request.files.getlist("photos"))
    except svc.FieldError as exc:
        return _refused("delegates/visit_form.html", ben, form, exc.fields,
                        _("The visit was not recorded: %(reason)s Choose the photos again.", reason=exc.message),
                        **_visit_extra(ben, form))
    row, created = svc.record_visit(beneficiary=ben, delegate=_me(), client_id=client_id, values=values,
                                    photos=photos, plan=_plan_of(ben, form.get("plan")))
    return _done(row, created, _("The visit to %(name)s was recorded.", name=ben.full_name),
                 _("This visit was already recorded; it was not recorded twice."))


@bp.get("/delegates/photos/<int:attachment_id>")
@roles_required(*STAFF_ROLES)
def photo(attachment_id):
    """A photo of a document collected on a visit, for whoever may see the file's timeline (audited)."""
    from portal.audit import audit
    from portal.models import Attachment, TimelineEntry
    from portal.uploads import path_for

    att = Attachment.get_or_none(Attachment.id == attachment_id)
    entry = TimelineEntry.get_or_none(TimelineEntry.id == att.entry_id) if att is not None else None
    if entry is None or entry.channel != svc.CHANNEL or entry.beneficiary_id is None:
        abort(404)
    visible_beneficiary(entry.beneficiary_id)
    if entry.case_id is not None and not can_see_case(Case.get_or_none(Case.id == entry.case_id), _me()):
        abort(403)
    audit("read", "attachment", att.id, {"entry": entry.id, "beneficiary": entry.beneficiary_id})
    response = send_file(path_for(att.sha256), mimetype=att.content_type, download_name=att.file_name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- contacts ----------------------------------------------------------------------------------------

@bp.get("/delegates/beneficiaries/<int:ben_id>/contact")
@roles_required(*FIELD_ROLES)
def contact_form(ben_id):
    ben = visible_beneficiary(ben_id)
    return render("delegates/contact_form.html", ben=ben, form={"client_id": svc.new_client_id(), "direction": "out"},
                  errors={})


@bp.post("/delegates/beneficiaries/<int:ben_id>/contact")
@roles_required(*FIELD_ROLES)
def contact_create(ben_id):
    ben, _form, client_id, values, answer = _received(
        "contact", ben_id, svc.clean_contact, "delegates/contact_form.html",
        _("The contact was not logged. Check the fields marked below."),
        _("This contact was already logged; it was not logged twice."))
    if answer:
        return answer
    row, created = svc.log_contact(beneficiary=ben, delegate=_me(), client_id=client_id, values=values)
    return _done(row, created, _("The contact with %(name)s was logged.", name=ben.full_name),
                 _("This contact was already logged; it was not logged twice."))


# --- a request opened on the beneficiary's behalf ------------------------------------------------------

def _request_page(ben, form, errors, status=200):
    from portal.workflow import intake

    types = intake.active_request_types()
    selected = intake.get_request_type(form.get("request_type")) or (types[0] if types else None)
    return render("delegates/request_form.html", ben=ben, form=form, errors=errors, types=types, selected=selected,
                  questions=intake.questions(selected) if selected else []), status


@bp.get("/delegates/beneficiaries/<int:ben_id>/request")
@roles_required(*FIELD_ROLES)
def request_form(ben_id):
    ben = visible_beneficiary(ben_id)
    return _request_page(ben, {"client_id": svc.new_client_id(), "request_type": request.args.get("type", "")}, {})


@bp.post("/delegates/beneficiaries/<int:ben_id>/request")
@roles_required(*FIELD_ROLES)
def request_create(ben_id):
    from portal.workflow.errors import WorkflowError

    ben = visible_beneficiary(ben_id)
    form = request.form.to_dict()
    client_id = svc.clean_client_id(form.get("client_id"))
    row, answer = _resent("request", ben, client_id)
    if answer:
        return answer
    if row is not None:
        flash(_("This request was already opened; it was not opened twice."), "info")
        return redirect(url_for("cases.show", ref=row.case.reference) if row.case_id else url_for("delegates.today"))
    if client_id is None:
        form["client_id"] = svc.new_client_id()
        flash(_("The form was incomplete. Check the fields and send it again."), "error")
        return _request_page(ben, form, {}, 422)
    try:
        row, created = svc.open_request(beneficiary=ben, delegate=_me(), client_id=client_id, form=form)
    except WorkflowError as exc:
        flash(str(exc.message), "error")
        return _request_page(ben, form, {k: str(v) for k, v in exc.fields.items()}, exc.status)
    flash(_("Request %(ref)s was opened.", ref=row.case.reference), "success")
    return redirect(url_for("cases.show", ref=row.case.reference))


# --- planning visits -------------------------------------------------------------------------------

def _file_by_number(text):
    """A file found by its file number or national ID (Eastern Arabic digits accepted)."""
    digits = only_digits(fold_digits(text or ""))
    if not digits:
        return None
    if len(digits) == 10:
        ben = Beneficiary.get_or_none(Beneficiary.national_id == digits)
        if ben is not None:
            return ben
    return Beneficiary.get_or_none(Beneficiary.file_number == digits.zfill(6)) if len(digits) <= 6 else None


def _plan_page(form, errors, status=200):
    me = _me()
    delegates = [me] if me.branch_limited else svc.delegates_of()
    try:
        day = parse_date(form.get("day")) or saudi_today()
    except ValidationError:
        day = saudi_today()
    form = {**form, "day": form.get("day") or day.isoformat()}
    chosen = _chosen_delegate(form.get("delegate"))
    stops = svc.route(chosen, day) if chosen else []
    return render("delegates/plan.html", form=form, errors=errors, delegates=delegates, day=day, stops=stops,
                  chosen=chosen), status


def _chosen_delegate(value):
    me = _me()
    if me.branch_limited or (me.has_role("delegate") and not value):
        return me
    text = str(value or "")
    if not text.isdigit():
        return None
    user = User.get_or_none(User.id == int(text))
    return user if user is not None and user.is_active and user.has_role("delegate") else None


@bp.get("/delegates/plan")
@roles_required(*PLAN_ROLES)
def plan_form():
    form = request.args.to_dict()
    return _plan_page(form, {})


@bp.post("/delegates/plan")
@roles_required(*PLAN_ROLES)
def plan_add():
    form = request.form.to_dict()
    errors = {}
    delegate = _chosen_delegate(form.get("delegate"))
    if delegate is None:
        errors["delegate"] = _("Choose a delegate.")
    try:
        day = parse_date(form.get("day"))
        if day is None:
            errors["day"] = _("This field is required.")
        elif day < saudi_today():
            errors["day"] = _("Choose today or a day to come.")
    except ValidationError as exc:
        errors["day"] = str(exc.message)
        day = None
    ben = _file_by_number(form.get("file"))
    if ben is None or not can_see_beneficiary(ben, _me()):
        errors["file"] = _("No file has this number.")
    note = (form.get("note") or "").strip()
    if len(note) > 300:
        errors["note"] = _("Too long: at most %(n)s characters.", n=300)
    if not errors:
        try:
            svc.add_plan(delegate=delegate, beneficiary=ben, day=day, note=note, actor=_me())
        except svc.FieldError as exc:
            errors["file"] = str(exc.message)
    if errors:
        flash(_("The visit was not planned. Check the fields marked below."), "error")
        return _plan_page(form, errors, 422)
    flash(_("The visit to %(name)s was added to the route.", name=ben.full_name), "success")
    return redirect(url_for("delegates.plan_form", delegate=delegate.id, day=day.isoformat()))


def _own_plan(plan_id) -> Plan:
    """A stop of a route the user may change: a delegate their own, officers and admins any (of a file they see)."""
    plan = get_or_404(Plan, Plan.id == plan_id)
    me = _me()
    if plan.delegate_id != me.id and not me.has_role("officer", "admin"):
        abort(403)
    return plan


def _back_to_route(plan):
    return redirect(url_for("delegates.plan_form", delegate=plan.delegate_id, day=plan.day.isoformat()))


@bp.post("/delegates/plan/<int:plan_id>/move")
@roles_required(*PLAN_ROLES)
def plan_move(plan_id):
    plan = _own_plan(plan_id)
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(400)
    svc.move_plan(plan, direction, _me())
    return _back_to_route(plan)


@bp.post("/delegates/plan/<int:plan_id>/remove")
@roles_required(*PLAN_ROLES)
def plan_remove(plan_id):
    plan = _own_plan(plan_id)
    if svc.remove_plan(plan, _me()):
        flash(_("The visit was taken off the route."), "success")
    else:
        flash(_("A visit already made stays on the route."), "error")
    return _back_to_route(plan)


# --- branch reports ---------------------------------------------------------------------------------

@bp.get("/delegates/reports")
@roles_required(*REPORT_ROLES)
def reports():
    me = _me()
    all_branches = svc.branches()
    if me.has_role("manager", "admin"):
        value = request.args.get("branch", "")
        branch = next((b for b in all_branches if str(b.id) == value), None)
    else:  # a delegate reads their own branch's report only
        branch = me.branch
        if branch is None:
            abort(403)
    weeks = request.args.get("weeks", "8")
    weeks = min(max(int(weeks), 1), 52) if weeks.isdigit() else 8
    data = svc.report(branch_id=branch.id if branch else None, weeks=weeks)
    return render("delegates/reports.html", branch=branch, branches=all_branches,
                  can_choose=me.has_role("manager", "admin"), **data)
