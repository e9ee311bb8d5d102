"""Screens of the letters plugin: outgoing and incoming registries, issuing, templates, batches, the
public verification page, the admin status page and the JSON API routes."""
from __future__ import annotations

import base64
import csv
import datetime as dt
import io

from flask import Blueprint, Response, abort, current_app, flash, g, jsonify, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from peewee import JOIN, fn

from portal import csrf
from portal.api import _json_body, _visible, token_required
from portal.api import error as api_error
from portal.audit import audit
from portal.auth import roles_required
from portal.dates import parse_date
from portal.db import database
from portal.hygiene import page_arg, parse_int
from portal.limiter import limiter
from portal.models import Beneficiary, Case, User
from portal.scope import can_see_case, sees_everything, visible_case_ids
from portal.templating import render
from portal.text import clean_text, fold_digits, isolate_tokens, normalize_name, normalize_reference
from portal.uploads import UploadError, path_for, read_stored, store_upload
from portal.validators import ValidationError

from . import render as letter_render
from . import service, signing
from .models import IncomingLetter, Letter, LetterBatch, LetterTemplate, LetterTemplateVersion

bp = Blueprint("letters", __name__, template_folder="templates")

READ = ("admin", "officer", "manager", "researcher", "committee")
ISSUE = ("admin", "officer", "manager")
REGISTER = ("admin", "officer")
DOWNLOAD = ("admin", "officer", "manager")
REVOKE = ("admin", "manager")
ADMIN = ("admin",)
PAGE_SIZE = 50
PURPOSES = ("acknowledgement", "missing_documents", "research_referral", "decision_approved", "decision_rejected",
            "service_delivery", "general", "committee_minutes")
MINUTES = ("admin", "officer", "manager", "committee")
BY_DECISION = "__decision__"  # the batch form's choice "each request's own decision letter"


OCR_LABELS = {"pending": _l("Waiting for text recognition"), "done": _l("Text recognised"),
              "unavailable": _l("Not available on this server"), "failed": _l("Text recognition failed"),
              "none": _l("Not requested")}
BATCH_LABELS = {"queued": _l("Queued"), "running": _l("Running"), "done": _l("Finished"), "failed": _l("Failed")}
PURPOSE_LABELS = {
    "acknowledgement": _l("Acknowledgement of receipt"), "missing_documents": _l("Missing documents"),
    "research_referral": _l("Referral to social research"), "decision_approved": _l("Committee decision: approval"),
    "decision_rejected": _l("Committee decision: rejection"), "service_delivery": _l("Service delivery"),
    "general": _l("General letter"), "committee_minutes": _l("Committee session minutes"),
}


@bp.context_processor
def _labels():
    return {"ocr_labels": OCR_LABELS, "batch_labels": BATCH_LABELS, "purpose_labels": PURPOSE_LABELS}


# --- who sees which letter -----------------------------------------------------------------------------
# The core decides who sees which request (portal.scope): a researcher sees the letters of the requests
# assigned to them, and no letter without a request; the other readers see every letter.

def _scoped(query, model, user=None):
    """``query`` over ``model`` (Letter or IncomingLetter) limited to the letters ``user`` may see."""
    ids = visible_case_ids(user or current_user)
    return query if ids is None else query.where(model.case.in_(ids))


def may_see_letter(row, user=None) -> bool:
    user = user or current_user
    if sees_everything(user):
        return True
    return row.case_id is not None and can_see_case(Case.get_or_none(Case.id == row.case_id), user)


def actor():
    return current_user._get_current_object()


# --- finding beneficiaries and requests --------------------------------------------------------------

def find_subject(ref: str):
    """A typed reference -> (beneficiary, case). Accepts a request reference (either order, any dash,
    see ``portal.text.normalize_reference``), a file number or a national ID (Eastern Arabic digits too)."""
    ref = fold_digits(clean_text(ref)).strip()
    if not ref:
        return None, None
    case = Case.get_or_none(Case.reference == (normalize_reference(ref) or ref))
    if case is not None:
        return case.beneficiary, case
    ben = Beneficiary.get_or_none((Beneficiary.file_number == ref) | (Beneficiary.national_id == ref))
    return ben, None


def _date_filter(errors: dict, key: str):
    try:
        return parse_date(request.args.get(key))
    except ValidationError as exc:
        errors[key] = str(exc.message)
        return None


def _day_bounds(start, end):
    lo = dt.datetime.combine(start, dt.time.min) - dt.timedelta(hours=3) if start else None
    hi = dt.datetime.combine(end, dt.time.max) - dt.timedelta(hours=3) if end else None
    return lo, hi


def _page() -> int:
    return page_arg()


# --- outgoing registry -------------------------------------------------------------------------------

def outgoing_query(errors: dict):
    query = (Letter.select(Letter, Beneficiary, LetterTemplate)
             .join(Beneficiary, JOIN.LEFT_OUTER, on=(Letter.beneficiary == Beneficiary.id), attr="beneficiary")
             .switch(Letter)
             .join(LetterTemplate, JOIN.LEFT_OUTER, on=(Letter.template == LetterTemplate.id), attr="template")
             .order_by(Letter.issued_at.desc(), Letter.id.desc()))
    lo, hi = _day_bounds(_date_filter(errors, "from"), _date_filter(errors, "to"))
    if lo:
        query = query.where(Letter.issued_at >= lo)
    if hi:
        query = query.where(Letter.issued_at <= hi)
    number = fold_digits(clean_text(request.args.get("number")))
    if number:
        query = query.where(Letter.number.contains(number))
    ben = clean_text(request.args.get("beneficiary"))
    if ben:
        query = query.where(_beneficiary_condition(ben))
    status = request.args.get("status")
    if status in ("valid", "revoked"):
        query = query.where(Letter.status == status)
    return _scoped(query, Letter)


def _beneficiary_condition(text: str):
    digits = fold_digits(text).strip()
    norm = normalize_name(text)
    return ((Beneficiary.file_number == digits) | (Beneficiary.national_id == digits)
            | (Beneficiary.name_search.contains(norm)))


def _filters() -> dict:
    return {k: request.args.get(k, "") for k in ("from", "to", "number", "beneficiary", "status", "q")}


@bp.get("/letters/")
@roles_required(*READ)
def outgoing():
    errors = {}
    page = _page()
    rows = list(outgoing_query(errors).paginate(page, PAGE_SIZE + 1))
    return render("letters/outgoing.html", block="registry", rows=rows[:PAGE_SIZE], more=len(rows) > PAGE_SIZE,
                  page=page, filters=_filters(), errors=errors), (422 if errors else 200)


def _csv_response(name: str, header: list[str], rows) -> Response:
    def safe(value):
        text = "" if value is None else str(value)
        return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

    out = io.StringIO()
    out.write("\ufeff")  # Excel opens UTF-8 Arabic correctly with a BOM
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe(v) for v in row])
    return Response(out.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.get("/letters/outgoing.csv")
@roles_required(*READ)
def outgoing_csv():
    errors = {}
    query = outgoing_query(errors)
    if errors:
        abort(400)
    audit("read", "letter_registry", "outgoing", {"export": "csv"})
    return _csv_response("outgoing-letters.csv",
                         ["number", "issued_at", "subject", "recipient", "file_number", "template", "status", "replaces"],
                         ((r.number, r.issued_at.isoformat(timespec="seconds"), r.subject, r.recipient,
                           r.beneficiary.file_number if r.beneficiary_id else "",
                           r.template.key if r.template_id else "", r.status, r.replaces_id or "")
                          for r in query.iterator()))


@bp.get("/letters/out/<int:letter_id>")
@roles_required(*READ)
def letter(letter_id):
    row = Letter.get_or_none(Letter.id == letter_id)
    if row is None:
        abort(404)
    if not may_see_letter(row):
        abort(403)
    reissues = list(Letter.select().where(Letter.replaces == row))
    audit("read", "letter", row.id, {"number": row.number, "page": True})
    return render("letters/letter.html", letter=row, reissues=reissues,
                  verify=service.verify_url(row.number, row.verify_code))


@bp.get("/letters/out/<int:letter_id>/pdf")
@roles_required(*READ)
def letter_pdf(letter_id):
    row = Letter.get_or_none(Letter.id == letter_id)
    if row is None or not row.pdf_sha256:
        abort(404)
    if not may_see_letter(row):
        abort(403)
    audit("read", "letter", row.id, {"number": row.number})
    return Response(service.letter_pdf(row), mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=letter-{row.hijri_year}-{row.sequence:06d}.pdf"})


@bp.post("/letters/out/<int:letter_id>/revoke")
@roles_required(*REVOKE)
def revoke(letter_id):
    row = Letter.get_or_none(Letter.id == letter_id)
    if row is None:
        abort(404)
    reason = clean_text(request.form.get("reason"))[:300]
    if not reason:
        flash(_("Give the reason for revoking the letter."), "error")
        return redirect(url_for("letters.letter", letter_id=row.id)), 303
    try:
        service.revoke_letter(row, reason=reason, actor=actor())
    except service.IssueError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("letters.letter", letter_id=row.id)), 303
    flash(_("The letter %(n)s was revoked.", n=row.number), "success")
    return redirect(url_for("letters.letter", letter_id=row.id)), 303


@bp.post("/letters/out/<int:letter_id>/reissue")
@roles_required(*ISSUE)
def reissue(letter_id):
    row = Letter.get_or_none(Letter.id == letter_id)
    if row is None:
        abort(404)
    try:
        new = service.reissue_letter(row, actor=actor())
    except service.IssueError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("letters.letter", letter_id=row.id)), 303
    flash(_("The letter was reissued as %(n)s; %(old)s is revoked.", n=new.number, old=row.number), "success")
    return redirect(url_for("letters.letter", letter_id=new.id)), 303


@bp.post("/letters/out/<int:letter_id>/send")
@roles_required(*ISSUE)
def send(letter_id):
    from portal.plugins import hook

    row = Letter.get_or_none(Letter.id == letter_id)
    if row is None or row.beneficiary_id is None:
        abort(404)
    ben = row.beneficiary
    if row.status != "valid":
        flash(_("A revoked letter cannot be sent."), "error")
    elif not ben.consent_contact:
        flash(_("The beneficiary has not agreed to be contacted; the letter was not sent."), "error")
    else:
        link = service.verify_url(row.number, row.verify_code)
        text = f"{current_app.config['ORG_NAME_AR']}: خطاب رقم {row.number} بشأن «{row.subject}». للتحقق منه: {link}"
        result = hook().send_message(beneficiary=ben, text=isolate_tokens(text), purpose="letter", channel=ben.preferred_channel,
                                     context={"number": row.number, "verify_url": link, "subject": row.subject})
        if result:
            audit("update", "letter", row.id, {"sent": result})
            flash(_("The letter was sent through %(ch)s.", ch=result.get("channel", "")), "success")
        else:
            flash(_("No enabled channel can deliver to this beneficiary's preferred channel; print the letter instead."),
                  "error")
    return redirect(url_for("letters.letter", letter_id=row.id)), 303


# --- issuing -----------------------------------------------------------------------------------------

def _issue_context(form: dict, errors: dict, status_message: str = ""):
    all_templates = service.templates()
    chosen = next((t for t in all_templates if t.key == form.get("template")), None)
    fields = []
    if chosen is not None:
        try:
            fields = service.parse_extra_fields(service.current_version(chosen).extra_fields)
        except letter_render.TemplateProblem:
            fields = []
    ben, case = find_subject(form.get("ref", ""))
    return {"templates": all_templates, "chosen": chosen, "extra": fields, "form": form, "errors": errors,
            "ben": ben, "case": case, "message": status_message or service.signing_problem() or ""}


@bp.get("/letters/issue")
@roles_required(*ISSUE)
def issue_form():
    form = {k: request.args.get(k, "") for k in ("template", "ref")}
    return render("letters/issue.html", block="issue_form", **_issue_context(form, {}))


@bp.post("/letters/issue")
@roles_required(*ISSUE)
def issue():
    form = request.form.to_dict()
    errors = {}
    template = service.template_by_key(form.get("template", ""))
    if template is None or not template.active:
        errors["template"] = _("Choose a letter template.")
    ben, case = find_subject(form.get("ref", ""))
    if form.get("ref") and ben is None:
        errors["ref"] = _("No beneficiary or request has this number.")
    recipient = clean_text(form.get("recipient"))
    if len(recipient) > 200:
        errors["recipient"] = _("Too long: at most %(n)s characters.", n=200)
    if ben is None and not recipient and "ref" not in errors:
        errors["ref"] = _("Enter a beneficiary or request, or the recipient's name.")
    extra = {}
    if template is not None and "template" not in errors:
        version = service.current_version(template)
        try:
            extra, extra_errors = service.clean_extras(version, form)
            errors.update({k: str(v) for k, v in extra_errors.items()})
        except letter_render.TemplateProblem as exc:
            errors["template"] = exc.message
    message = ""
    if not errors:
        try:
            row = service.issue_letter(template=template, beneficiary=ben, case=case, actor=actor(), extra=extra,
                                       recipient=recipient)
        except service.IssueError as exc:
            message = str(exc.message)
        else:
            flash(_("Letter %(n)s was issued.", n=row.number), "success")
            return redirect(url_for("letters.letter", letter_id=row.id)), 303
    return render("letters/issue.html", **_issue_context(form, errors, message)), 422


# --- verification (public) -----------------------------------------------------------------------------

@bp.get("/letters/verify")
@limiter.limit("60 per minute")
def verify_form():
    number = clean_text(request.args.get("number"))
    code = clean_text(request.args.get("c"))
    if number or code:
        return redirect(url_for("letters.verify", number=fold_digits(number), c=code))
    return render("letters/verify.html", letter=None, asked=False)


@bp.get("/letters/verify/<path:number>")
@limiter.limit("60 per minute")
def verify(number):
    row = service.find_for_verification(fold_digits(number), request.args.get("c", ""))
    response = render("letters/verify.html", letter=row, asked=True, number=number[:40])
    return response, (200 if row is not None else 404)


# --- incoming ------------------------------------------------------------------------------------------

def incoming_query(errors: dict):
    query = (IncomingLetter.select(IncomingLetter, Beneficiary)
             .join(Beneficiary, JOIN.LEFT_OUTER, on=(IncomingLetter.beneficiary == Beneficiary.id), attr="beneficiary")
             .order_by(IncomingLetter.received_at.desc(), IncomingLetter.id.desc()))
    lo, hi = _day_bounds(_date_filter(errors, "from"), _date_filter(errors, "to"))
    if lo:
        query = query.where(IncomingLetter.received_at >= lo)
    if hi:
        query = query.where(IncomingLetter.received_at <= hi)
    number = fold_digits(clean_text(request.args.get("number")))
    if number:
        query = query.where(IncomingLetter.number.contains(number))
    ben = clean_text(request.args.get("beneficiary"))
    if ben:
        query = query.where(_beneficiary_condition(ben))
    q = normalize_name(request.args.get("q"))
    if q:
        for word in q.split()[:8]:
            query = query.where(IncomingLetter.search_text.contains(word))
    return _scoped(query, IncomingLetter)


@bp.get("/letters/incoming")
@roles_required(*READ)
def incoming():
    errors = {}
    page = _page()
    rows = list(incoming_query(errors).paginate(page, PAGE_SIZE + 1))
    return render("letters/incoming.html", block="registry", rows=rows[:PAGE_SIZE], more=len(rows) > PAGE_SIZE,
                  page=page, filters=_filters(), errors=errors), (422 if errors else 200)


@bp.get("/letters/incoming.csv")
@roles_required(*READ)
def incoming_csv():
    errors = {}
    query = incoming_query(errors)
    if errors:
        abort(400)
    audit("read", "letter_registry", "incoming", {"export": "csv"})
    return _csv_response("incoming-letters.csv",
                         ["number", "received_at", "letter_date", "sender", "sender_reference", "subject",
                          "file_number", "pages", "ocr_status"],
                         ((r.number, r.received_at.isoformat(timespec="seconds"),
                           r.letter_date.isoformat() if r.letter_date else "", r.sender, r.sender_reference,
                           r.subject, r.beneficiary.file_number if r.beneficiary_id else "", r.page_count,
                           r.ocr_status) for r in query.iterator()))


def _scan_limit() -> int:
    mb = current_app.config.get("LETTERS_MAX_SCAN_MB") or current_app.config["MAX_UPLOAD_MB"]
    return int(float(mb) * 1024 * 1024)


@bp.get("/letters/incoming/new")
@roles_required(*REGISTER)
def new_incoming():
    return render("letters/incoming_form.html", form={"ref": request.args.get("ref", "")}, errors={})


@bp.post("/letters/incoming/new")
@roles_required(*REGISTER)
def create_incoming():
    form = request.form.to_dict()
    errors = {}
    sender = clean_text(form.get("sender"))
    subject = clean_text(form.get("subject"))
    reference = clean_text(form.get("sender_reference"))
    notes = clean_text(form.get("notes"))
    for key, value, limit in (("sender", sender, 200), ("subject", subject, 300)):
        if not value:
            errors[key] = _("Please fill in this field.")
        elif len(value) > limit:
            errors[key] = _("Too long: at most %(n)s characters.", n=limit)
    if len(reference) > 60:
        errors["sender_reference"] = _("Too long: at most %(n)s characters.", n=60)
    if len(notes) > 5000:
        errors["notes"] = _("Too long: at most %(n)s characters.", n=5000)
    letter_date = None
    try:
        letter_date = parse_date(form.get("letter_date"))
        if letter_date and letter_date > letter_render.riyadh_today():
            errors["letter_date"] = _("The letter's date cannot be in the future.")
    except ValidationError as exc:
        errors["letter_date"] = str(exc.message)
    ben, case = find_subject(form.get("ref", ""))
    if form.get("ref", "").strip() and ben is None:
        errors["ref"] = _("No beneficiary or request has this number.")
    upload = request.files.get("file")
    if not upload or not upload.filename:
        errors["file"] = _("Attach the scanned letter.")
    stored = None
    if not errors:
        try:
            stored = store_upload(upload, allowed=("pdf", "jpeg", "png", "tiff"), max_bytes=_scan_limit(),
                                  max_pages=int(current_app.config.get("LETTERS_MAX_SCAN_PAGES", 50)))
        except UploadError as exc:
            errors["file"] = str(exc.message)
    if errors:
        return render("letters/incoming_form.html", form=form, errors=errors), 422
    row = service.register_incoming(stored=stored, sender=sender, subject=subject, letter_date=letter_date,
                                    sender_reference=reference, beneficiary=ben, case=case, notes=notes,
                                    actor=actor())
    if row.ocr_status == "pending":
        from .tasks import ocr_incoming

        ocr_incoming(row.id)
    flash(_("The incoming letter was registered as %(n)s.", n=row.number), "success")
    return redirect(url_for("letters.incoming_letter", letter_id=row.id)), 303


def _incoming_or_404(letter_id) -> IncomingLetter:
    row = IncomingLetter.get_or_none(IncomingLetter.id == letter_id)
    if row is None:
        abort(404)
    if not may_see_letter(row):
        abort(403)
    return row


@bp.get("/letters/incoming/<int:letter_id>")
@roles_required(*READ)
def incoming_letter(letter_id):
    row = _incoming_or_404(letter_id)
    audit("read", "incoming_letter", row.id)
    return render("letters/incoming_letter.html", letter=row, can_download=current_user.has_role(*DOWNLOAD))


@bp.get("/letters/incoming/<int:letter_id>/file")
@roles_required(*DOWNLOAD)
def incoming_file(letter_id):
    row = _incoming_or_404(letter_id)
    if not row.file_sha256:  # deleted with the beneficiary's file
        abort(404)
    audit("read", "incoming_letter", row.id, {"download": True})
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png", "image/tiff": "tif"}
    return send_file(path_for(row.file_sha256), mimetype=row.content_type, as_attachment=True,
                     download_name=f"incoming-{row.hijri_year}-{row.sequence:06d}.{extension.get(row.content_type, 'bin')}")


@bp.get("/letters/incoming/<int:letter_id>/pages/<int:page>.png")
@roles_required(*DOWNLOAD)
def incoming_page(letter_id, page):
    """A page of the scan as an image: the same rule as the scan file itself (``DOWNLOAD``)."""
    row = _incoming_or_404(letter_id)
    if page < 1 or page > row.page_count or not row.file_sha256:
        abort(404)
    size = "thumb" if request.args.get("size") == "thumb" else "full"
    png = service.page_png(row, page, size)
    if png is None:
        abort(404)
    if size == "full":  # thumbnails are drawn on the letter's page, which is audited itself
        audit("read", "incoming_letter", row.id, {"page": page})
    response = send_file(io.BytesIO(png), mimetype="image/png", max_age=3600)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.post("/letters/incoming/<int:letter_id>/ocr")
@roles_required(*REGISTER)
def rerun_ocr(letter_id):
    row = _incoming_or_404(letter_id)
    if not service.ocr_available():
        flash(_("Text recognition (Tesseract with Arabic) is not installed on this server."), "error")
    else:
        IncomingLetter.update(ocr_status="pending").where(IncomingLetter.id == row.id).execute()
        from .tasks import ocr_incoming

        ocr_incoming(row.id)
        flash(_("Text recognition was queued."), "success")
    return redirect(url_for("letters.incoming_letter", letter_id=row.id)), 303


# --- templates (admin) ---------------------------------------------------------------------------------

def _template_form(template=None, version=None) -> dict:
    if template is None:
        return {"name_ar": "", "name_en": "", "purpose": "general", "active": "1", "subject": "",
                "body": next(b["body"] for b in service.BUILTIN if b["key"] == "general"), "css": "", "extra_fields": ""}
    return {"name_ar": template.name_ar, "name_en": template.name_en, "purpose": template.purpose,
            "active": "1" if template.active else "", "subject": version.subject, "body": version.body,
            "css": version.css, "extra_fields": version.extra_fields}


def _template_errors(form: dict) -> dict:
    errors = {}
    for key, limit in (("name_ar", 160), ("name_en", 160), ("subject", 300)):
        value = clean_text(form.get(key))
        if not value:
            errors[key] = _("Please fill in this field.")
        elif len(value) > limit:
            errors[key] = _("Too long: at most %(n)s characters.", n=limit)
    if form.get("purpose") not in PURPOSES:
        errors["purpose"] = _("Choose what the template is for.")
    if not (form.get("body") or "").strip():
        errors["body"] = _("Please fill in this field.")
    for key, limit in (("body", 50000), ("css", 20000), ("extra_fields", 4000)):
        if len(form.get(key) or "") > limit:
            errors[key] = _("Too long: at most %(n)s characters.", n=limit)
    if not errors:
        try:
            service.check_version(form["subject"], form["body"], form.get("extra_fields", ""))
        except letter_render.TemplateProblem as exc:
            target = "subject" if exc.message.startswith("subject") else (
                "extra_fields" if exc.message.startswith("extra") else "body")
            errors[target] = (_("Line %(line)s: %(msg)s", line=exc.line, msg=exc.message) if exc.line
                              else exc.message)
    return errors


class _Draft:
    def __init__(self, form):
        self.subject = form.get("subject", "")
        self.body = form.get("body", "")
        self.css = form.get("css", "")
        self.extra_fields = form.get("extra_fields", "")


def _preview(form: dict) -> dict:
    """The preview of a draft: page 1 as a PNG data URI, or the error to show."""
    errors = _template_errors(form)
    problem = next((errors[k] for k in ("subject", "body", "extra_fields") if k in errors), None)
    if problem:
        return {"error": problem}
    try:
        pdf = service.preview_pdf(_Draft(form))
    except letter_render.MissingField as exc:
        return {"error": _("Unknown merge field: %(name)s", name=exc.name)}
    except letter_render.TemplateProblem as exc:
        return {"error": exc.message}
    png = letter_render.pdf_page_png(pdf, 1, dpi=60)
    if png is None:
        return {"error": _("The preview image needs poppler-utils (pdftoppm) on the server.")}
    return {"image": "data:image/png;base64," + base64.b64encode(png).decode()}


@bp.get("/letters/templates")
@roles_required(*ADMIN)
def templates():
    rows = service.templates(active_only=False)
    counts = dict(LetterTemplateVersion.select(LetterTemplateVersion.template, fn.MAX(LetterTemplateVersion.number))
                  .group_by(LetterTemplateVersion.template).tuples())
    return render("letters/templates.html", rows=rows, counts=counts)


def _save_template(template, form):
    errors = _template_errors(form)
    if errors:
        return None, errors
    with database.atomic():
        if template is None:
            key = f"custom-{LetterTemplate.select().count() + 1}-{dt.datetime.now().strftime('%H%M%S')}"
            template = LetterTemplate.create(key=key, name_ar=clean_text(form["name_ar"]),
                                             name_en=clean_text(form["name_en"]), purpose=form["purpose"])
        else:
            LetterTemplate.update(name_ar=clean_text(form["name_ar"]), name_en=clean_text(form["name_en"]),
                                  purpose=form["purpose"], active=bool(form.get("active"))
                                  ).where(LetterTemplate.id == template.id).execute()
        service.save_version(template, subject=clean_text(form["subject"]), body=form["body"],
                             css=form.get("css", ""), extra_fields=form.get("extra_fields", "").strip(),
                             actor=actor())
    return template, {}


@bp.route("/letters/templates/new", methods=["GET", "POST"])
@roles_required(*ADMIN)
def new_template():
    form, errors, preview = _template_form(), {}, None
    if request.method == "POST":
        form = request.form.to_dict()
        if form.get("action") == "preview":
            preview = _preview(form)
        else:
            template, errors = _save_template(None, form)
            if template is not None:
                flash(_("The template was saved as version %(n)s.", n=1), "success")
                return redirect(url_for("letters.edit_template", template_id=template.id)), 303
    return render("letters/template_form.html", tpl=None, versions=[], form=form, errors=errors,
                  preview=preview, purposes=PURPOSES, field_help=letter_render.FIELD_HELP), (422 if errors else 200)


@bp.route("/letters/templates/<int:template_id>", methods=["GET", "POST"])
@roles_required(*ADMIN)
def edit_template(template_id):
    template = LetterTemplate.get_or_none(LetterTemplate.id == template_id)
    if template is None:
        abort(404)
    versions = list(LetterTemplateVersion.select(LetterTemplateVersion, User)
                    .join(User, JOIN.LEFT_OUTER, on=(LetterTemplateVersion.created_by == User.id), attr="created_by")
                    .where(LetterTemplateVersion.template == template)
                    .order_by(LetterTemplateVersion.number.desc()))
    shown = versions[0]
    wanted = parse_int(request.args.get("version"), 0)
    shown = next((v for v in versions if v.number == wanted), shown)
    form, errors, preview = _template_form(template, shown), {}, None
    if request.method == "POST":
        form = request.form.to_dict()
        if form.get("action") == "preview":
            preview = _preview(form)
        else:
            saved, errors = _save_template(template, form)
            if saved is not None:
                flash(_("The template was saved as version %(n)s.", n=service.current_version(template).number),
                      "success")
                return redirect(url_for("letters.edit_template", template_id=template.id)), 303
    return render("letters/template_form.html", tpl=template, versions=versions, shown=shown, form=form,
                  errors=errors, preview=preview, purposes=PURPOSES, field_help=letter_render.FIELD_HELP), \
        (422 if errors else 200)


@bp.post("/letters/templates/preview")
@roles_required(*ADMIN)
def preview_template():
    """The live preview (htmx): page 1 of the draft with example data, or the error with its line."""
    return render("letters/_preview.html", preview=_preview(request.form.to_dict()))


# --- batches -------------------------------------------------------------------------------------------

BATCH_STATUSES_FOR_CASES = ("approved", "rejected", "registered", "served", "submitted", "incomplete",
                            "in_research", "awaiting_committee")


def _batch_cases(form: dict, errors: dict) -> list[int]:
    status = form.get("case_status", "")
    if status not in BATCH_STATUSES_FOR_CASES:
        errors["case_status"] = _("Choose the requests' status.")
        return []
    query = Case.select(Case.id).where(Case.status == status)
    try:
        start, end = parse_date(form.get("from")), parse_date(form.get("to"))
    except ValidationError as exc:
        errors["from"] = str(exc.message)
        return []
    lo, hi = _day_bounds(start, end)
    if lo:
        query = query.where(Case.status_changed_at >= lo)
    if hi:
        query = query.where(Case.status_changed_at <= hi)
    if form.get("request_type"):
        query = query.where(Case.request_type == form["request_type"])
    if form.get("skip_issued"):
        issued = Letter.select(Letter.case).where((Letter.template == form.get("_template_id")) & Letter.case.is_null(False)
                                                  & (Letter.status == "valid"))
        query = query.where(Case.id.not_in(issued))
    return [c.id for c in query.order_by(Case.reference).limit(5000)]


@bp.route("/letters/batches", methods=["GET", "POST"])
@roles_required(*ISSUE)
def batches():
    form, errors = {"case_status": "approved", "skip_issued": "1"}, {}
    wf = service.workflow_models()
    if request.method == "POST":
        form = request.form.to_dict()
        by_decision = form.get("template") == BY_DECISION
        template = service.template_by_key("decision_approved" if by_decision else form.get("template", ""))
        session = None
        if template is None:
            errors["template"] = _("Choose a letter template.")
        else:
            form["_template_id"] = template.id
        if form.get("session") and wf is not None:
            number = parse_int(form["session"])
            session = wf.CommitteeSession.get_or_none(wf.CommitteeSession.id == number) if number else None
            if session is None:
                errors["session"] = _("Unknown committee session.")
            case_ids = service.session_decision_cases(session) if session else []
            if session and not case_ids and not errors:
                errors["session"] = _("This session has no decisions yet.")
        elif by_decision:
            errors["session"] = _("Choose the committee session whose decisions get letters.")
            case_ids = []
        else:
            case_ids = _batch_cases(form, errors)
            if not errors and not case_ids:
                errors["case_status"] = _("No request matches these filters.")
        if not errors:
            with database.atomic():
                batch = LetterBatch.create(template=template, case_ids=case_ids, total=len(case_ids),
                                           created_by=actor(), session_id=session.id if session else None,
                                           by_decision=by_decision,
                                           description=clean_text(form.get("description"))[:300])
                audit("create", "letter_batch", batch.id, {"total": len(case_ids), "template": template.key})
            from .tasks import issue_batch

            issue_batch(batch.id, service.public_base_url())
            return redirect(url_for("letters.batch", batch_id=batch.id)), 303
    from portal.labels import CASE_STATUS, REQUEST_TYPE

    rows = list(LetterBatch.select(LetterBatch, LetterTemplate).join(LetterTemplate, attr="template")
                .order_by(LetterBatch.id.desc()).limit(30))
    sessions = []
    if wf is not None:
        sessions = list(wf.CommitteeSession.select().order_by(wf.CommitteeSession.held_on.desc(),
                                                                wf.CommitteeSession.id.desc()).limit(50))
    return render("letters/batches.html", rows=rows, form=form, errors=errors, templates=service.templates(),
                  sessions=sessions, by_decision=BY_DECISION,
                  statuses=[(s, CASE_STATUS[s]) for s in BATCH_STATUSES_FOR_CASES],
                  request_types=list(REQUEST_TYPE.items())), (422 if errors else 200)


@bp.get("/letters/batches/<int:batch_id>")
@roles_required(*ISSUE)
def batch(batch_id):
    row = LetterBatch.get_or_none(LetterBatch.id == batch_id)
    if row is None:
        abort(404)
    return render("letters/batch.html", block="progress", batch=row)


@bp.get("/letters/batches/<int:batch_id>/pdf")
@roles_required(*ISSUE)
def batch_pdf(batch_id):
    row = LetterBatch.get_or_none(LetterBatch.id == batch_id)
    if row is None or not row.pdf_sha256:
        abort(404)
    audit("read", "letter_batch", row.id)
    return Response(read_stored(row.pdf_sha256), mimetype="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename=letters-batch-{row.id}.pdf"})


@bp.post("/letters/committee/<int:session_id>/minutes")
@roles_required(*MINUTES)
def session_minutes(session_id):
    """Issue the session's minutes as a numbered PDF (the workflow's printable minutes, on letterhead)."""
    wf = service.workflow_models()
    session = wf.CommitteeSession.get_or_none(wf.CommitteeSession.id == session_id) if wf else None
    if session is None:
        abort(404)
    try:
        row = service.issue_minutes(session, actor=actor())
    except service.IssueError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("letters.batches")), 303
    flash(_("Letter %(n)s was issued.", n=row.number), "success")
    return redirect(url_for("letters.letter", letter_id=row.id)), 303


# --- status (admin) ------------------------------------------------------------------------------------

@bp.get("/letters/status")
@roles_required(*ADMIN)
def status():
    import weasyprint

    counts = dict(IncomingLetter.select(IncomingLetter.ocr_status, fn.COUNT(IncomingLetter.id))
                  .group_by(IncomingLetter.ocr_status).tuples())
    return render("letters/status.html", tesseract=service.tesseract_status(), weasyprint=weasyprint.__version__,
                  counts=counts, fonts=letter_render.font_status(), signing=signing.status())


# --- API -----------------------------------------------------------------------------------------------

API_INPUT = {"template": "string", "beneficiary": "integer", "case": "string", "fields": "object",
             "recipient": "string"}


@bp.post("/api/v1/letters")
@token_required(*ISSUE)
def api_issue():
    data, err = _json_body(API_INPUT)
    if err:
        return err
    fields = {}
    template = service.template_by_key(data.get("template") or "")
    if template is None or not template.active:
        fields["template"] = _("Unknown letter template.")
    ben = case = None
    if data.get("case"):
        case = Case.get_or_none(Case.reference == fold_digits(data["case"]).strip())
        if case is None or _visible(case.beneficiary_id) is None:
            fields["case"] = _("Unknown request.")
            case = None
        else:
            ben = case.beneficiary
    if data.get("beneficiary") is not None:
        chosen = _visible(data["beneficiary"])
        if chosen is None:
            fields["beneficiary"] = _("Unknown beneficiary.")
        elif ben is not None and ben.id != chosen.id:
            fields["case"] = _("Unknown request for this beneficiary.")
        else:
            ben = chosen
    recipient = clean_text(data.get("recipient"))
    if len(recipient) > 200:
        fields["recipient"] = _("Too long: at most %(n)s characters.", n=200)
    if ben is None and not recipient and not fields:
        fields["beneficiary"] = _("Give a beneficiary, a request or a recipient.")
    extra = {}
    if template is not None and "template" not in fields:
        raw = data.get("fields") or {}
        if any(not isinstance(v, str) for v in raw.values()):
            fields["fields"] = _("Must be an object of strings.")
        else:
            extra, extra_errors = service.clean_extras(service.current_version(template), raw)
            fields.update({f"fields.{k}": str(v) for k, v in extra_errors.items()})
    if fields:
        return api_error(422, _("Some fields are not valid."), fields)
    try:
        row = service.issue_letter(template=template, beneficiary=ben, case=case, actor=g.api_user,
                                   extra=extra, recipient=recipient)
    except service.IssueError as exc:
        key = f"fields.{exc.field}" if exc.field else "template"
        return api_error(422, str(exc.message), {key: str(exc.message)})
    return jsonify(letter_json(row)), 201


def letter_json(row: Letter) -> dict:
    return {
        "number": row.number, "status": row.status, "subject": row.subject,
        "issued_at": row.issued_at.isoformat(), "beneficiary": row.beneficiary_id,
        "case": row.case.reference if row.case_id else None, "pages": row.page_count,
        "replaces": row.replaces.number if row.replaces_id else None,
        "download": url_for("letters.api_pdf", number=row.number, _external=True),
        "verify": service.verify_url(row.number, row.verify_code),
    }


@bp.get("/api/v1/letters/<path:number>.pdf")
@token_required(*READ)
def api_pdf(number):
    row = Letter.get_or_none(Letter.number == fold_digits(number))
    if row is None or not row.pdf_sha256 or not may_see_letter(row, g.api_user):
        return api_error(404, _("Not found."))
    audit("read", "letter", row.id, {"number": row.number, "via": "api"})
    return Response(service.letter_pdf(row), mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=letter-{row.hijri_year}-{row.sequence:06d}.pdf"})


csrf.exempt(api_issue)
