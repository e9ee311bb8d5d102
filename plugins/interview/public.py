"""The public booking page (/site/appointments): a beneficiary books an appointment without an account,
with the national ID and mobile of their file, or as a new visitor with a name and a mobile."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, request, session, url_for
from flask_babel import gettext as _

from portal.dates import saudi_today, to_saudi
from portal.limiter import limiter
from portal.models import Beneficiary, Branch
from portal.templating import render
from portal.validators import ValidationError, clean_mobile, clean_national_id

from . import service as svc
from .models import Appointment

bp = Blueprint("interview_site", __name__, template_folder="templates")
SESSION_KEY = "interview_booked"


def _layout() -> str:
    """The website's public layout when the website is enabled; the channel's own plain one otherwise."""
    return "website/base.html" if "website" in current_app.blueprints else "interview/_public_base.html"


def _enabled():
    if not current_app.config["INTERVIEW_PUBLIC_BOOKING"]:
        abort(404)


def _page(form, errors, status=200):
    branches = list(Branch.select().order_by(Branch.code))
    chosen = form.get("branch", "")
    branch = next((b for b in branches if str(b.id) == chosen), branches[0] if branches else None)
    slots = svc.free_slots(branch=branch, limit=80)
    return render("interview/public_booking.html", layout=_layout(), form=form, errors=errors,
                  branches=branches, branch=branch, slots=slots), status


@bp.get("/site/appointments")
def public_booking():
    _enabled()
    return _page(request.args, {})


@bp.post("/site/appointments")
@limiter.limit(lambda: current_app.config["INTERVIEW_PUBLIC_LIMIT"], methods=["POST"])
def public_book():
    _enabled()
    form = request.form
    errors = {}
    ben = None
    has_file = form.get("has_file", "yes") != "no"
    try:
        mobile = clean_mobile(form.get("mobile"))
    except ValidationError as exc:
        errors["mobile"] = exc.message
        mobile = ""
    if has_file:
        try:
            nid = clean_national_id(form.get("national_id"))
        except ValidationError as exc:
            errors["national_id"] = exc.message
        else:
            if mobile:
                ben = Beneficiary.get_or_none((Beneficiary.national_id == nid) & (Beneficiary.mobile == mobile)
                                              & Beneficiary.erased_at.is_null())
                if ben is None:
                    errors["national_id"] = _("We found no file with this ID number and this mobile number. "
                                              "Check both, or book as a new visitor.")
    elif not (form.get("name") or "").strip():
        errors["name"] = _("Write your full name.")
    if errors:
        return _page(form, errors, 422)
    try:
        row = svc.book(slot_id=form.get("slot", ""), beneficiary=ben, name=form.get("name", ""), mobile=mobile,
                       reason=form.get("reason", ""), source="site")
    except svc.DeskError as exc:
        fields = dict(exc.fields) or {"slot": exc.message}
        return _page(form, fields, 409 if exc.code == "taken" else 422)
    session[SESSION_KEY] = row.id
    return redirect(url_for("interview_site.public_booked"))


@bp.get("/site/appointments/booked")
def public_booked():
    _enabled()
    appt_id = session.get(SESSION_KEY)
    row = svc.appointments_query().where(Appointment.id == appt_id).first() if isinstance(appt_id, int) else None
    if row is None:
        return redirect(url_for("interview_site.public_booking"))
    return render("interview/public_booked.html", layout=_layout(), row=row, local=to_saudi(row.slot.starts_at),
                  today=saudi_today())
