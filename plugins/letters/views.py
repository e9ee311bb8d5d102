"""Screens of the letters plugin: outgoing and incoming registries, issuing, templates, batches, the
public verification page, the admin status page and the JSON API routes."""
from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import secrets

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
from portal.db import database, utcnow
from portal.exports import Column, export_response
from portal.hygiene import get_or_404, parse_int
from portal.limiter import limiter
from portal.listing import Sort, in_saudi_days, keyset_page
from portal.models import Beneficiary, Case, User
from portal.scope import can_see_case, sees_everything, visible_case_ids
from portal.templating import render
from portal.text import clean_text, fold_digits, isolate_tokens, normalize_name, normalize_reference
from portal.uploads import path_for, read_stored, store_form_file
from portal.validators import ValidationError
from portal.workflow.machine import SUBMITTED_STATUSES

from . import render as letter_render
from . import ISSUE_ROLES, service, signing, structured
from .models import IncomingLetter, Letter, LetterBatch, LetterTemplate, LetterTemplateVersion

bp = Blueprint("letters", __name__, template_folder="templates", static_folder="static",
               static_url_path="/letters/static")

READ = ("admin", "officer", "manager", "researcher", "committee")
ISSUE = ISSUE_ROLES
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
LETTER_LABELS = {"issuing": _l("Being issued"), "valid": _l("Valid"), "revoked": _l("Revoked"),
                 "spoiled": _l("Spoiled (not issued)")}
BATCH_LABELS = {"queued": _l("Queued"), "running": _l("Running"), "done": _l("Finished"), "failed": _l("Failed")}
PURPOSE_LABELS = {
    "acknowledgement": _l("Acknowledgement of receipt"), "missing_documents": _l("Missing documents"),
    "research_referral": _l("Referral to social research"), "decision_approved": _l("Committee decision: approval"),
    "decision_rejected": _l("Committee decision: rejection"), "service_delivery": _l("Service delivery"),
    "general": _l("General letter"), "committee_minutes": _l("Committee session minutes"),
}


@bp.context_processor
def _labels():
    return {"ocr_labels": OCR_LABELS, "batch_labels": BATCH_LABELS, "letter_labels": LETTER_LABELS, "purpose_labels": PURPOSE_LABELS}


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


# The registries are keyset-paged (portal.listing): by date (newest first) or by number.
OUTGOING_SORTS = {"date": Sort(Letter.issued_at, _l("Date")), "number": Sort(Letter.number, _l("Number"))}
INCOMING_SORTS = {"date": Sort(IncomingLetter.received_at, _l("Received")),
                  "number": Sort(IncomingLetter.number, _l("Number"))}


# --- outgoing registry -------------------------------------------------------------------------------

def outgoing_query(errors: dict):
    query = (Letter.select(Letter, Beneficiary, LetterTemplate)
             .join(Beneficiary, JOIN.LEFT_OUTER, on=(Letter.beneficiary == Beneficiary.id), attr="beneficiary")
             .switch(Letter)
             .join(LetterTemplate, JOIN.LEFT_OUTER, on=(Letter.template == LetterTemplate.id), attr="template")
             .order_by(Letter.issued_at.desc(), Letter.id.desc()))
    query = _registry_filters(query, Letter, Letter.issued_at, errors)
    status = request.args.get("status")
    if status in LETTER_LABELS:
        query = query.where(Letter.status == status)
    return _scoped(query, Letter)


def _registry_filters(query, model, date_field, errors: dict):
    """The filters both registries share: Saudi days from/to on ``date_field``, part of the number, the beneficiary."""
    query = in_saudi_days(query, date_field, _date_filter(errors, "from"), _date_filter(errors, "to"))
    number = fold_digits(clean_text(request.args.get("number")))
    if number:
        query = query.where(model.number.contains(number))
    ben = clean_text(request.args.get("beneficiary"))
    if ben:
        query = query.where(_beneficiary_condition(ben))
    return query


def _beneficiary_condition(text: str):
    digits = fold_digits(text).strip()
    norm = normalize_name(text)
    return ((Beneficiary.file_number == digits) | (Beneficiary.national_id == digits)
            | (Beneficiary.name_search.contains(norm)))


def _filters() -> dict:
    return {k: request.args.get(k, "") for k in ("from", "to", "number", "beneficiary", "status", "q")}


def _registry_page(query_for, sorts: dict, model, template: str):
    """A registry's page (or its ``registry`` block for htmx), 422 with the messages when a filter is wrong."""
    errors = {}
    filters = _filters()
    page = keyset_page(query_for(errors), sorts, request.args, id_field=model.id, default="date", filters=filters,
                       size=PAGE_SIZE)
    return render(template, block="registry", rows=page.rows, page=page, filters=filters,
                  errors=errors), (422 if errors else 200)


def _registry_csv(query_for, which: str, header: list[str], row) -> Response:
    """A registry as CSV with the page's filters (a wrong filter is a 400), the export audited."""
    errors = {}
    query = query_for(errors)
    if errors:
        abort(400)
    audit("read", "letter_registry", which, {"export": "csv"})
    return _csv_response(f"{which}-letters.csv", header, (row(r) for r in query.iterator()))


@bp.get("/letters/")
@roles_required(*READ)
def outgoing():
    return _registry_page(outgoing_query, OUTGOING_SORTS, Letter, "letters/outgoing.html")


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
    return _registry_csv(
        outgoing_query, "outgoing",
        ["number", "issued_at", "subject", "recipient", "file_number", "template", "status", "replaces"],
        lambda r: (r.number, r.issued_at.isoformat(timespec="seconds"), r.subject, r.recipient,
                   r.beneficiary.file_number if r.beneficiary_id else "",
                   r.template.key if r.template_id else "", r.status, r.replaces_id or ""))


OUTGOING_COLUMNS = [
    Column("number", _l("Number"), lambda r: r.number),
    Column("issued_at", _l("Issued"), lambda r: r.issued_at, "datetime"),
    Column("subject", _l("Subject"), lambda r: r.subject),
    Column("recipient", _l("Recipient"), lambda r: r.recipient),
    Column("file_number", _l("File number"), lambda r: r.beneficiary.file_number if r.beneficiary_id else ""),
    Column("template", _l("Template"), lambda r: r.template.key if r.template_id else ""),
    Column("status", _l("Status"), lambda r: r.status),
    Column("replaces", _l("Replaces"), lambda r: r.replaces_id or ""),
]


@bp.get("/letters/outgoing.xlsx")
@roles_required(*READ)
def outgoing_xlsx():
    """The outgoing registry as filtered on screen, as an Excel workbook (the core's export service)."""
    return _registry_xlsx(outgoing_query, "outgoing-letters", OUTGOING_COLUMNS)


def _registry_xlsx(registry_query, name: str, columns):
    """A registry (``registry_query``: outgoing or incoming) as filtered on screen, as an Excel workbook; bad
    filters are a 400."""
    errors = {}
    query = registry_query(errors)
    if errors:
        abort(400)
    return export_response("xlsx", name, columns, query, object_type="letter_registry",
                           filters={k: v for k, v in _filters().items() if v})


def _letter_or_404(letter_id: int, *, readable: bool = False) -> Letter:
    """The outgoing letter ``letter_id`` (404 when there is none); ``readable``: 403 for a user who may not see it."""
    row = get_or_404(Letter, Letter.id == letter_id)
    if readable and not may_see_letter(row):
        abort(403)
    return row


@bp.get("/letters/out/<int:letter_id>")
@roles_required(*READ)
def letter(letter_id):
    row = _letter_or_404(letter_id, readable=True)
    reissues = list(Letter.select().where(Letter.replaces == row))
    audit("read", "letter", row.id, {"number": row.number, "page": True})
    return render("letters/letter.html", letter=row, reissues=reissues,
                  verify=service.verify_url(row.number, row.verify_code))


@bp.get("/letters/out/<int:letter_id>/pdf")
@roles_required(*READ)
def letter_pdf(letter_id):
    row = _letter_or_404(letter_id, readable=True)
    if not row.pdf_sha256:
        abort(404)
    audit("read", "letter", row.id, {"number": row.number})
    return Response(service.letter_pdf(row), mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=letter-{row.hijri_year}-{row.sequence:06d}.pdf"})


@bp.post("/letters/out/<int:letter_id>/revoke")
@roles_required(*REVOKE)
def revoke(letter_id):
    row = _letter_or_404(letter_id)
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
    row = _letter_or_404(letter_id)
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

    row = _letter_or_404(letter_id)
    if row.beneficiary_id is None:
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

TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def _form_token(value) -> str:
    """The issue form's one-time token: kept when it is well formed, a new one otherwise."""
    value = value or ""
    if 16 <= len(value) <= 40 and set(value) <= TOKEN_CHARS:
        return value
    return secrets.token_urlsafe(18)


def issue_blocker(ben, case) -> str | None:
    """Why no letter can be issued for this file or request now (None when one can)."""
    if ben is not None and ben.erased_at is not None:
        return _("The beneficiary's file was erased; no letter can be issued for it.")
    if case is not None and case.status == "withdrawn":
        return _("The request was withdrawn; no letter can be issued for it.")
    if case is not None and case.status == "draft":
        return _("The request is still a draft; submit it before issuing a letter.")
    return None


def _issue_context(form: dict, errors: dict, status_message: str = "", preview: dict | None = None):
    all_templates = service.templates()
    chosen = next((t for t in all_templates if t.key == form.get("template")), None)
    fields = []
    if chosen is not None:
        try:
            fields = service.parse_extra_fields(service.current_version(chosen).extra_fields)
        except letter_render.TemplateProblem:
            fields = []
    ben, case = find_subject(form.get("ref", ""))
    form["token"] = _form_token(form.get("token"))
    return {"templates": all_templates, "chosen": chosen, "extra": fields, "form": form, "errors": errors,
            "ben": ben, "case": case, "blocker": issue_blocker(ben, case), "preview": preview,
            "message": status_message or service.signing_problem() or ""}


def _typed_form(source) -> dict:
    """What the person typed, kept as typed: the template, the reference, the recipient, the token and
    the chosen template's own fields (a template change keeps every value it can)."""
    form = {k: (source.get(k) or "")[:5000] for k in ("template", "ref", "recipient", "token")}
    template = service.template_by_key(form["template"]) if form["template"] else None
    if template is not None:
        try:
            for f in service.parse_extra_fields(service.current_version(template).extra_fields):
                form[f.key] = (source.get(f.key) or "")[:5000]
        except letter_render.TemplateProblem:
            pass
    return form


@bp.get("/letters/issue")
@roles_required(*ISSUE)
def issue_form():
    """The issue form. ``?template=`` and ``?ref=`` fill it in (the "issue a letter" buttons on the file and
    the request link here); choosing a template reloads the form with that template's fields (htmx swaps
    the form, and the form's "show its fields" button does the same without JavaScript)."""
    form = _typed_form(request.args)
    errors = {}
    if form["template"] and not any(t.key == form["template"] for t in service.templates()):
        errors["template"] = _("Unknown letter template; choose one from the list.")
    if form["ref"].strip() and find_subject(form["ref"])[0] is None:
        errors["ref"] = _("No beneficiary or request has this number.")
    return render("letters/issue.html", block="issue_form", **_issue_context(form, errors))


def _checked_issue(form: dict):
    """Validate the sent issue form: (template, beneficiary, case, recipient, extra values, errors)."""
    errors = {}
    template = service.template_by_key(form.get("template", ""))
    if template is None or not template.active:
        errors["template"] = _("Choose a letter template.")
        template = None
    ben, case = find_subject(form.get("ref", ""))
    if form.get("ref", "").strip() and ben is None:
        errors["ref"] = _("No beneficiary or request has this number.")
    elif issue_blocker(ben, case):
        errors["blocker"] = issue_blocker(ben, case)  # shown once, above the form (``blocker``)
    recipient = clean_text(form.get("recipient"))
    if len(recipient) > 200:
        errors["recipient"] = _("Too long: at most %(n)s characters.", n=200)
    if ben is None and not recipient and "ref" not in errors:
        errors["ref"] = _("Enter a beneficiary or request, or the recipient's name.")
    extra = {}
    if template is not None:
        version = service.current_version(template)
        try:
            extra, extra_errors = service.clean_extras(version, form)
            errors.update({k: str(v) for k, v in extra_errors.items()})
        except letter_render.TemplateProblem as exc:
            errors["template"] = exc.message
    return template, ben, case, recipient, extra, errors


def _preview_images(pdf: bytes) -> dict:
    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    images = []
    for number in range(1, min(pages, 3) + 1):
        png = letter_render.pdf_page_png(pdf, number, dpi=70)
        if png is None:
            return {"error": _("The preview image needs poppler-utils (pdftoppm) on the server; open the preview "
                               "as a PDF instead.")}
        images.append("data:image/png;base64," + base64.b64encode(png).decode())
    return {"images": images, "pages": pages}


@bp.post("/letters/issue")
@roles_required(*ISSUE)
def issue():
    """Issue the letter (``action`` absent or "issue"); "choose" only reloads the form with the chosen
    template's fields, and "preview" draws the letter with its data and a watermark without a number."""
    form = _typed_form(request.form)
    action = request.form.get("action", "issue")
    if action == "choose":
        return render("letters/issue.html", block="issue_form", **_issue_context(form, {}))
    token = _form_token(form.get("token"))
    if action == "issue" and token == form.get("token"):
        done = service.letter_for_token(token)
        if done is not None and done.issued_by_id == current_user.id:
            flash(_("This form was already sent: letter %(n)s was issued once, with one number.", n=done.number),
                  "success")
            return redirect(url_for("letters.letter", letter_id=done.id)), 303
    template, ben, case, recipient, extra, errors = _checked_issue(form)
    message = ""
    if not errors and action == "preview":
        pdf, message = _preview_pdf(template, ben, case, recipient, extra)
        if pdf is not None:
            preview = _preview_images(pdf)
            return render("letters/issue.html", block="issue_form", **_issue_context(form, {}, preview=preview))
    elif not errors:
        try:
            row = service.issue_letter(template=template, beneficiary=ben, case=case, actor=actor(), extra=extra,
                                       recipient=recipient, token=token if token == form.get("token") else None)
        except service.IssueError as exc:
            message = str(exc.message)
        else:
            if row.issued_by_id != current_user.id:  # a token sent by someone else: never hand over their letter
                abort(409)
            flash(_("Letter %(n)s was issued.", n=row.number), "success")
            return redirect(url_for("letters.letter", letter_id=row.id)), 303
    return render("letters/issue.html", block="issue_form", **_issue_context(form, errors, message)), 422


def _preview_pdf(template, ben, case, recipient, extra) -> tuple[bytes | None, str]:
    """The letter as it would be issued (watermarked, no number, nothing written), or None and the reason."""
    try:
        return service.preview_letter(template=template, beneficiary=ben, case=case, actor=actor(), extra=extra,
                                      recipient=recipient), ""
    except service.IssueError as exc:
        return None, str(exc.message)


@bp.post("/letters/issue/preview.pdf")
@roles_required(*ISSUE)
def issue_preview_pdf():
    """The letter as it would be issued with the form's data, as a PDF with a "preview — not issued"
    watermark and no number (nothing is written, no number is taken)."""
    form = _typed_form(request.form)
    template, ben, case, recipient, extra, errors = _checked_issue(form)
    message = ""
    if not errors:
        pdf, message = _preview_pdf(template, ben, case, recipient, extra)
        if pdf is not None:
            return Response(pdf, mimetype="application/pdf",
                            headers={"Content-Disposition": "inline; filename=letter-preview.pdf",
                                     "Cache-Control": "no-store"})
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
    query = _registry_filters(query, IncomingLetter, IncomingLetter.received_at, errors)
    q = normalize_name(request.args.get("q"))
    if q:
        for word in q.split()[:8]:
            query = query.where(IncomingLetter.search_text.contains(word))
    return _scoped(query, IncomingLetter)


@bp.get("/letters/incoming")
@roles_required(*READ)
def incoming():
    return _registry_page(incoming_query, INCOMING_SORTS, IncomingLetter, "letters/incoming.html")


@bp.get("/letters/incoming.csv")
@roles_required(*READ)
def incoming_csv():
    return _registry_csv(
        incoming_query, "incoming",
        ["number", "received_at", "letter_date", "sender", "sender_reference", "subject", "file_number", "pages",
         "ocr_status"],
        lambda r: (r.number, r.received_at.isoformat(timespec="seconds"),
                   r.letter_date.isoformat() if r.letter_date else "", r.sender, r.sender_reference, r.subject,
                   r.beneficiary.file_number if r.beneficiary_id else "", r.page_count, r.ocr_status))


INCOMING_COLUMNS = [
    Column("number", _l("Number"), lambda r: r.number),
    Column("received_at", _l("Received"), lambda r: r.received_at, "datetime"),
    Column("letter_date", _l("Letter date"), lambda r: r.letter_date, "date"),
    Column("sender", _l("Sender"), lambda r: r.sender),
    Column("sender_reference", _l("Sender's reference"), lambda r: r.sender_reference),
    Column("subject", _l("Subject"), lambda r: r.subject),
    Column("file_number", _l("File number"), lambda r: r.beneficiary.file_number if r.beneficiary_id else ""),
    Column("pages", _l("Pages"), lambda r: r.page_count, "number"),
]


@bp.get("/letters/incoming.xlsx")
@roles_required(*READ)
def incoming_xlsx():
    """The incoming registry as filtered on screen, as an Excel workbook (the core's export service)."""
    return _registry_xlsx(incoming_query, "incoming-letters", INCOMING_COLUMNS)


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
    stored = store_form_file("file", errors, _("Attach the scanned letter."), allowed=("pdf", "jpeg", "png", "tiff"),
                             max_bytes=_scan_limit(), max_pages=int(current_app.config["LETTERS_MAX_SCAN_PAGES"]))
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
    row = get_or_404(IncomingLetter, IncomingLetter.id == letter_id)
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
    # Not kept by the browser (the app's no-store for every non-asset response): a scanned letter is personal
    # data, and each full-size view is audited.
    return send_file(io.BytesIO(png), mimetype="image/png")


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


# --- templates (managers in the structured editor, admins also in the advanced one) --------------------

TEMPLATES = ("admin", "manager")


def _known_fields(purpose: str, extra_fields: str) -> set[str]:
    """Merge fields a template of this purpose with these typed fields may use."""
    known = set(letter_render.FIELD_HELP)
    if purpose == "committee_minutes":
        known |= set(letter_render.MINUTES_FIELDS)
    try:
        known |= {f.key for f in service.parse_extra_fields(extra_fields)}
    except letter_render.TemplateProblem:
        pass
    return known


def _template_form(template=None, version=None) -> dict:
    """The form's values for a template version: the raw texts, and the structured subject and paragraphs
    (``paragraphs`` None when the version has no structured form)."""
    paragraphs = None
    if template is None:
        general = structured.to_paragraphs(next(b["body"] for b in service.BUILTIN if b["key"] == "general"))
        paragraphs = [general[0], "", general[-1]]  # the greeting, a paragraph to write, the closing
        form = {"name_ar": "", "name_en": "", "purpose": "general", "active": "1", "subject": "",
                "body": structured.build_body(paragraphs, set()), "css": "", "extra_fields": ""}
    else:
        form = {"name_ar": template.name_ar, "name_en": template.name_en, "purpose": template.purpose,
                "active": "1" if template.active else "", "subject": version.subject, "body": version.body,
                "css": version.css, "extra_fields": version.extra_fields}
        paragraphs = structured.to_paragraphs(form["body"])
    subject = structured.subject_text(form["subject"])
    form["paragraphs"] = paragraphs if subject is not None else None
    form["subject_text"] = subject if subject is not None else form["subject"]
    return form


def _posted_form(base: dict, advanced: bool) -> dict:
    """The sent editor form. The structured editor sends the subject and the paragraphs (``p``, in order);
    the raw texts it does not show (CSS, typed fields) stay those of the version being edited."""
    form = {k: request.form.get(k, "") for k in ("name_ar", "name_en", "purpose", "active")}
    if advanced:
        form.update({k: request.form.get(k, "") for k in ("subject", "body", "css", "extra_fields")})
        form["paragraphs"], form["subject_text"] = None, form["subject"]
    else:
        form.update({"css": base.get("css", ""), "extra_fields": base.get("extra_fields", ""),
                     "subject_text": request.form.get("subject_text", "")[:1000],
                     "paragraphs": [p[:5000] for p in request.form.getlist("p")][:100]})
    return form


def _template_errors(form: dict) -> dict:
    """Check the form and, for the structured editor, write its subject and body as the template's Jinja
    (``form["subject"]``, ``form["body"]``). Unknown merge fields and broken syntax are named."""
    errors = {}
    for key, limit in (("name_ar", 160), ("name_en", 160)):
        value = clean_text(form.get(key))
        if not value:
            errors[key] = _("Please fill in this field.")
        elif len(value) > limit:
            errors[key] = _("Too long: at most %(n)s characters.", n=limit)
    if form.get("purpose") not in PURPOSES:
        errors["purpose"] = _("Choose what the template is for.")
    known = _known_fields(form.get("purpose", ""), form.get("extra_fields", ""))
    if form.get("paragraphs") is not None:
        try:
            form["subject"] = structured.build_subject(clean_text(form.get("subject_text")), known)
        except structured.TextProblem as exc:
            errors["subject_text"] = str(exc.message)
        try:
            form["body"] = structured.build_body(form["paragraphs"], known)
        except structured.TextProblem as exc:
            errors["paragraphs"] = str(exc.message)
        if not form.get("subject") and "subject_text" not in errors:
            errors["subject_text"] = _("Please fill in this field.")
        if not form.get("body") and "paragraphs" not in errors:
            errors["paragraphs"] = _("Write at least one paragraph.")
    else:
        if not clean_text(form.get("subject")):
            errors["subject"] = _("Please fill in this field.")
        if not (form.get("body") or "").strip():
            errors["body"] = _("Please fill in this field.")
    if len(clean_text(form.get("subject"))) > 300 and "subject" not in errors:
        errors["subject" if form.get("paragraphs") is None else "subject_text"] = _(
            "Too long: at most %(n)s characters.", n=300)
    for key, limit in (("body", 50000), ("css", 20000), ("extra_fields", 4000)):
        if len(form.get(key) or "") > limit:
            errors["paragraphs" if key == "body" and form.get("paragraphs") is not None else key] = _(
                "Too long: at most %(n)s characters.", n=limit)
    if not errors:
        try:
            service.check_version(form["subject"], form["body"], form.get("extra_fields", ""))
        except letter_render.TemplateProblem as exc:
            target = "subject" if exc.message.startswith("subject") else (
                "extra_fields" if exc.message.startswith("extra") else "body")
            if form.get("paragraphs") is not None:
                target = {"subject": "subject_text", "body": "paragraphs"}.get(target, target)
            errors[target] = (_("Line %(line)s: %(msg)s", line=exc.line, msg=exc.message) if exc.line
                              else exc.message)
    if not errors and form.get("paragraphs") is None:
        for key in ("subject", "body"):
            unknown = sorted(letter_render.unknown_fields(form[key], known))
            if unknown:
                errors[key] = _("Unknown merge field: %(name)s", name=", ".join(unknown))
                break
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
    problem = next((errors[k] for k in ("subject_text", "paragraphs", "subject", "body", "extra_fields")
                    if k in errors), None)
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
@roles_required(*TEMPLATES)
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


def _asks_advanced() -> bool:
    """The advanced (raw) editor: ``mode=advanced``, or a form that sends the raw body and no paragraphs."""
    if request.values.get("mode") == "advanced":
        return True
    return request.method == "POST" and "body" in request.form and "p" not in request.form


def _editor(template, versions, shown):
    """The template editor (new or existing): the structured editor, or the raw one behind the admins'
    "advanced" switch. Paragraph buttons (add, remove, move) post the form back and redraw it; they save
    nothing. A version without a structured form opens in the advanced editor (admins) or read-only."""
    is_admin = current_user.has_role("admin")
    base = _template_form(template, shown)
    advanced = is_admin and (_asks_advanced() or base["paragraphs"] is None)
    locked = not is_admin and base["paragraphs"] is None
    form, errors, preview = base, {}, None
    if request.method == "POST":
        if locked or (_asks_advanced() and not is_admin):
            abort(403)
        form = _posted_form(base, advanced)
        op = request.form.get("op", "")
        if op and not advanced:
            form["paragraphs"] = structured.move(form["paragraphs"], op)
        elif request.form.get("action") == "preview":
            preview = _preview(form)
        else:
            saved, errors = _save_template(template, form)
            if saved is not None:
                number = service.current_version(saved).number
                flash(_("The template was saved as version %(n)s.", n=number), "success")
                return redirect(url_for("letters.edit_template", template_id=saved.id,
                                        **({"mode": "advanced"} if advanced else {}))), 303
    known = sorted(_known_fields(form.get("purpose", ""), form.get("extra_fields", "")))
    return render("letters/template_form.html", tpl=template, versions=versions, shown=shown, form=form,
                  errors=errors, preview=preview, purposes=PURPOSES, field_help=letter_render.FIELD_HELP,
                  known=known, advanced=advanced, locked=locked, is_admin=is_admin,
                  typed_fields=_typed_fields(form.get("extra_fields", ""))), (422 if errors else 200)


def _typed_fields(spec: str) -> list:
    try:
        return service.parse_extra_fields(spec)
    except letter_render.TemplateProblem:
        return []


@bp.route("/letters/templates/new", methods=["GET", "POST"])
@roles_required(*TEMPLATES)
def new_template():
    return _editor(None, [], None)


@bp.route("/letters/templates/<int:template_id>", methods=["GET", "POST"])
@roles_required(*TEMPLATES)
def edit_template(template_id):
    template = get_or_404(LetterTemplate, LetterTemplate.id == template_id)
    versions = list(LetterTemplateVersion.select(LetterTemplateVersion, User)
                    .join(User, JOIN.LEFT_OUTER, on=(LetterTemplateVersion.created_by == User.id), attr="created_by")
                    .where(LetterTemplateVersion.template == template)
                    .order_by(LetterTemplateVersion.number.desc()))
    wanted = parse_int(request.args.get("version"), 0)
    shown = next((v for v in versions if v.number == wanted), versions[0])
    return _editor(template, versions, shown)


@bp.post("/letters/templates/preview")
@roles_required(*TEMPLATES)
def preview_template():
    """The live preview (htmx): page 1 of the draft with example data, or the error with its line. The
    structured editor sends paragraphs (``p``); the advanced one, admins only, the raw texts."""
    advanced = _asks_advanced()
    if advanced and not current_user.has_role("admin"):
        abort(403)
    base = {"css": "", "extra_fields": ""}
    template = LetterTemplate.get_or_none(LetterTemplate.id == parse_int(request.form.get("template_id"), 0))
    if template is not None:
        version = service.current_version(template)
        base = {"css": version.css, "extra_fields": version.extra_fields}
    return render("letters/_preview.html", preview=_preview(_posted_form(base, advanced)))


# --- batches -------------------------------------------------------------------------------------------

BATCH_STATUSES_FOR_CASES = SUBMITTED_STATUSES


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
    query = in_saudi_days(query, Case.status_changed_at, start, end)
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
    row = get_or_404(LetterBatch, LetterBatch.id == batch_id)
    return render("letters/batch.html", block="progress", batch=row)


@bp.get("/letters/batches/<int:batch_id>/pdf")
@roles_required(*ISSUE)
def batch_pdf(batch_id):
    row = get_or_404(LetterBatch, LetterBatch.id == batch_id, LetterBatch.pdf_sha256 != "")
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
    # numbers not (yet) issued: being issued now, or left by a stopped process until the job settles them
    stalled_since = utcnow() - dt.timedelta(seconds=int(current_app.config["LETTERS_ISSUING_TIMEOUT"]))
    issuing = list(Letter.select(Letter.id, Letter.number, Letter.issued_at).where(Letter.status == "issuing")
                   .order_by(Letter.id).limit(50))
    return render("letters/status.html", tesseract=service.tesseract_status(), weasyprint=weasyprint.__version__,
                  counts=counts, fonts=letter_render.font_status(), signing=signing.status(), issuing=issuing,
                  stalled_since=stalled_since,
                  spoiled=Letter.select(Letter.id).where(Letter.status == "spoiled").limit(1001).count())


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


# --- the print queue ---------------------------------------------------------------------------------

PRINT_ROLES = ("admin", "officer")


@bp.get("/letters/print-queue")
@roles_required(*PRINT_ROLES)
def print_queue():
    """Notices that reached no other channel, issued as letters: print each, post it, mark it done."""
    from .models import PrintJob

    show = "printed" if request.args.get("show") == "printed" else "waiting"
    query = (PrintJob.select(PrintJob, Letter, Beneficiary).join(Letter)
             .join(Beneficiary, JOIN.LEFT_OUTER, on=(Letter.beneficiary == Beneficiary.id)))
    if show == "waiting":
        query = query.where(PrintJob.printed_at.is_null()).order_by(PrintJob.id)
    else:
        query = query.where(PrintJob.printed_at.is_null(False)).order_by(PrintJob.id.desc())
    rows = list(query.limit(200))
    return render("letters/print_queue.html", rows=rows, show=show)


@bp.post("/letters/print-queue/<int:job_id>/printed")
@roles_required(*PRINT_ROLES)
def print_done(job_id):
    job = service.mark_printed(job_id, current_user._get_current_object())
    if job is None:
        abort(404)
    flash(_("The letter was marked printed and posted."), "success")
    return redirect(url_for("letters.print_queue"))
