"""The volunteer's own page (/site/volunteering/<token>), reached from the message sent on assignment: no
account; the token in the address is the assignment's secret. The volunteer confirms or declines, logs the
hours once the task has started, follows their approval and downloads their certificates."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _

from portal.limiter import limiter
from portal.templating import render

from . import service as svc
from .models import Assignment, Certificate, HoursLog, Opportunity, Volunteer

bp = Blueprint("volunteering_site", __name__, template_folder="templates")


def _layout() -> str:
    return "website/base.html" if "website" in current_app.blueprints else "volunteering/_public_base.html"


def _limit():
    return current_app.config["VOLUNTEERING_PUBLIC_LIMIT"]


def _assignment(token: str) -> Assignment:
    if not token or len(token) > 40:
        abort(404)
    row = (Assignment.select(Assignment, Opportunity, Volunteer).join(Opportunity, attr="opportunity")
           .switch(Assignment).join(Volunteer, attr="volunteer").where(Assignment.token == token).first())
    if row is None:
        abort(404)
    return row


def _page(row, form=None, errors=None, status=200):
    hours = HoursLog.get_or_none(HoursLog.assignment == row.id)
    certificates = list(Certificate.select().where(Certificate.volunteer == row.volunteer_id).order_by(Certificate.id.desc()))
    started = row.opportunity.starts_at <= svc.utcnow()
    return render("volunteering/public_assignment.html", layout=_layout(), row=row, hours=hours, started=started,
                  certificates=certificates, form=form or {}, errors=errors or {}, svc=svc), status


@bp.get("/site/volunteering/<token>")
def assignment(token):
    return _page(_assignment(token))


@bp.post("/site/volunteering/<token>/answer")
@limiter.limit(_limit, methods=["POST"])
def answer(token):
    row = _assignment(token)
    choice = request.form.get("answer")
    try:
        if choice == "confirm":
            svc.confirm(row)
            flash(_("Thank you! Your participation is confirmed."), "success")
        elif choice == "decline":
            svc.decline(row)
            flash(_("Thank you for telling us. We will ask you for another opportunity."), "info")
        else:
            flash(_("Choose whether you will come."), "error")
            return _page(row, status=422)
    except svc.VolunteeringError as exc:
        flash(str(exc.message), "error")
        return _page(row, status=422)
    return redirect(url_for("volunteering_site.assignment", token=token))


@bp.post("/site/volunteering/<token>/hours")
@limiter.limit(_limit, methods=["POST"])
def log_hours(token):
    row = _assignment(token)
    try:
        svc.log_hours(row, request.form.get("hours"), note=request.form.get("note", ""))
    except svc.VolunteeringError as exc:
        flash(str(exc.message), "error")
        return _page(row, request.form, exc.fields, status=422)
    flash(_("Your hours were sent; a staff member will approve them."), "success")
    return redirect(url_for("volunteering_site.assignment", token=token))


@bp.get("/site/volunteering/<token>/certificates/<int:cert_id>.pdf")
def certificate(token, cert_id):
    row = _assignment(token)
    cert = Certificate.select(Certificate, Volunteer).join(Volunteer, attr="volunteer").where(
        (Certificate.id == cert_id) & (Certificate.volunteer == row.volunteer_id)).first()
    if cert is None:
        abort(404)
    from .views import pdf_response

    data, filename = svc.certificate_pdf(cert)
    return pdf_response(data, filename)
