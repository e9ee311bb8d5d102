"""Data-protection screens on a beneficiary's file: consent history, correction requests, the export and
the erasure (role-gated, no JavaScript needed, CSRF-protected)."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from . import privacy
from .auth import EDIT_ROLES, PERMISSIONS, permission_required, roles_required
from .hygiene import get_or_404
from .models import ConsentChange, CorrectionRequest, Erasure
from .templating import render
from .timeline import visible_beneficiary

bp = Blueprint("privacy", __name__)

# Who sees the data-protection page: those who record requests and consents, and those who review them.
VIEW_ROLES = tuple(sorted(set(EDIT_ROLES) | set(PERMISSIONS["privacy.review"]) | set(PERMISSIONS["privacy.erase"])))


def _page(ben, status=200, **extra):
    ctx = {
        "ben": ben,
        "consents": list(ConsentChange.select().where(ConsentChange.beneficiary == ben)
                         .order_by(ConsentChange.at.desc(), ConsentChange.id.desc()).limit(200)),
        "corrections": list(CorrectionRequest.select().where(CorrectionRequest.beneficiary == ben)
                            .order_by(CorrectionRequest.id.desc()).limit(200)),
        "erasure": Erasure.get_or_none(Erasure.beneficiary == ben),
        "correctable": privacy.CORRECTABLE,
        "consent_form": {}, "consent_errors": {}, "correction_form": {}, "correction_errors": {},
        "review_errors": {}, "review_form": {}, "review_id": None, "erase_errors": {}, "erase_form": {},
    }
    ctx.update(extra)
    return render("privacy/beneficiary.html", **ctx), status


def _actor():
    return current_user._get_current_object()


@bp.get("/beneficiaries/<int:ben_id>/privacy")
@roles_required(*VIEW_ROLES)
def page(ben_id):
    ben = visible_beneficiary(ben_id)
    return _page(ben)


def _record(ben_id: int, change, name: str, section: str, done: str):
    """Run a privacy service on the posted form; on refusal the page again with what was typed and why,
    else back to the page's ``section`` with ``done``."""
    ben = visible_beneficiary(ben_id)
    data = request.form.to_dict()
    try:
        change(ben, data, _actor())
    except privacy.PrivacyError as exc:
        return _page(ben, exc.status, **{f"{name}_form": data, f"{name}_errors": exc.errors})
    flash(done, "success")
    return redirect(url_for("privacy.page", ben_id=ben.id) + f"#{section}")


@bp.post("/beneficiaries/<int:ben_id>/consent")
@roles_required(*EDIT_ROLES)
def consent(ben_id):
    return _record(ben_id, privacy.record_consent, "consent", "consent", _("The consent change was recorded."))


@bp.post("/beneficiaries/<int:ben_id>/corrections")
@roles_required(*EDIT_ROLES)
def correction(ben_id):
    return _record(ben_id, privacy.request_correction, "correction", "corrections",
                   _("The correction request was recorded; an officer will review it."))


@bp.post("/corrections/<int:request_id>/review")
@permission_required("privacy.review")
def review(request_id):
    req = get_or_404(CorrectionRequest, CorrectionRequest.id == request_id)
    ben = visible_beneficiary(req.beneficiary_id)
    data = request.form.to_dict()
    try:
        done = privacy.review_correction(req, data, _actor())
    except privacy.PrivacyError as exc:
        return _page(ben, exc.status, review_form=data, review_errors=exc.errors, review_id=req.id)
    if done.status == "applied":
        flash(_("The correction was applied to the file."), "success")
    else:
        flash(_("The correction request was refused."), "info")
    return redirect(url_for("privacy.page", ben_id=ben.id) + "#corrections")


@bp.get("/beneficiaries/<int:ben_id>/export.zip")
@permission_required("privacy.export")
def export(ben_id):
    ben = visible_beneficiary(ben_id)
    data = privacy.export_zip(ben, _actor())
    response = Response(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="beneficiary-{ben.file_number}.zip"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/beneficiaries/<int:ben_id>/erase")
@permission_required("privacy.erase")
def erase(ben_id):
    ben = visible_beneficiary(ben_id)
    data = request.form.to_dict()
    confirm = (data.get("confirm") or "").strip()
    if ben.erased_at:
        return _page(ben, 409, erase_errors={"__all__": _("This file was already erased.")})
    if confirm != ben.file_number:
        return _page(ben, 422, erase_form=data,
                     erase_errors={"confirm": _("Type the file number %(n)s to confirm.", n=ben.file_number)})
    try:
        privacy.erase(ben, _actor())
    except privacy.PrivacyError as exc:
        return _page(visible_beneficiary(ben_id), exc.status, erase_errors=exc.errors)
    flash(_("The file was erased: identifying data removed, the records the law requires kept."), "success")
    return redirect(url_for("privacy.page", ben_id=ben.id))
