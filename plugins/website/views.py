"""The public website under ``/site/`` (no account needed) and the staff screens under ``/website/``
(officers' queue of inquiries, volunteers, page and FAQ editing)."""
from __future__ import annotations

import io
import time

from flask import Blueprint, abort, current_app, flash, redirect, request, send_file, session, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from peewee import JOIN, IntegrityError

from portal.audit import audit
from portal.auth import roles_required
from portal.db import database, utcnow
from portal.limiter import limiter
from portal.models import Beneficiary, Case, Document
from portal.plugins import channels, get_pm, hook
from portal.templating import render
from portal.text import clean_text, only_digits
from portal.timeline import log_entry
from portal.uploads import UploadError, store_upload
from portal.validators import ValidationError, clean_mobile
from portal.workflow.errors import WorkflowError

from . import antiabuse, content, inquiries, tracking
from .models import INQUIRY_KINDS, PAGE_SLUGS, FaqItem, Inquiry, SitePage, Volunteer

bp = Blueprint("website", __name__, template_folder="templates", static_folder="static",
               static_url_path="/site/static")

QUEUE_ROLES = ("officer", "admin", "manager")
ANSWER_ROLES = ("officer", "admin")
TRACK_SESSION_MINUTES = 30
AVAILABILITY = ("weekdays", "weekends", "evenings", "ramadan", "any")

# How to reach the association on each channel (shown on the home and contact pages).
CHANNEL_HOW = {
    "interview": _l("Visit one of our offices during working hours."),
    "phone": _l("Call us; an officer answers and logs your call."),
    "social": _l("Write to us on our social media accounts."),
    "letters": _l("Send us a letter; it is registered and answered."),
    "help_requests": _l("Ask for help through our help-request service."),
    "volunteering": _l("Sign up as a volunteer on this website."),
    "website": _l("Apply, track, ask and complain right here."),
    "delegates": _l("Meet the delegate of the branch office near you."),
}


def lang() -> str:
    return str(get_locale() or "ar")


def _limit(key: str):
    return lambda: current_app.config[key]


def stamp_context() -> dict:
    return {"form_stamp": antiabuse.issue_stamp(), "honeypot": antiabuse.HONEYPOT, "stamp_name": antiabuse.STAMP}


def first_error(errors: dict, order) -> str | None:
    for name in order:
        if errors.get(name):
            return name
    return next(iter(errors), None)


# ---------------------------------------------------------------- public pages

PUBLIC_ERRORS = {
    404: _l("This page does not exist."),
    413: _l("The file is too large."),
    429: _l("Too many attempts. Please wait a minute and try again."),
}


def _public_error(error):
    """Errors on the public site keep the public layout (the staff shell is for staff)."""
    code = getattr(error, "code", 500)
    template = "website/error.html" if request.path.startswith("/site/") else "error.html"
    return render(template, code=code, message=PUBLIC_ERRORS.get(code, "")), code


for _code in PUBLIC_ERRORS:
    bp.register_error_handler(_code, _public_error)

def _page(slug: str, template: str = "website/page.html", **extra):
    page = content.get_page(slug, lang())
    return render(template, page=page, body=content.render_markup(page.body), **extra)


@bp.get("/site/")
def home():
    from . import workflow_bridge

    return _page("home", "website/home.html", channels=channels(), channel_how=CHANNEL_HOW,
                 request_types=workflow_bridge.public_request_types())


@bp.get("/site/how-to-apply")
def how_to_apply():
    from . import workflow_bridge

    return _page("how_to_apply", "website/how_to_apply.html", request_types=workflow_bridge.public_request_types())


@bp.get("/site/contact")
def contact():
    return _page("contact", "website/contact.html", channels=channels(), channel_how=CHANNEL_HOW)


@bp.get("/site/privacy")
def privacy():
    return _page("privacy")


@bp.get("/site/policy")
def policy():
    return _page("policy")


@bp.get("/site/faq")
def faq():
    items = list(FaqItem.select().where(FaqItem.published == True).order_by(FaqItem.position, FaqItem.id))  # noqa: E712
    return render("website/faq.html", items=items)


# ---------------------------------------------------------------- inquiries, complaints, suggestions

@bp.route("/site/ask", methods=["GET", "POST"])
@limiter.limit(_limit("WEBSITE_FORM_LIMIT"), methods=["POST"])
def ask():
    form = request.form.to_dict() if request.method == "POST" else {"kind": request.args.get("kind", "inquiry")}
    errors, problem = {}, None
    if request.method == "POST":
        problem = antiabuse.check(form)
        values, errors = inquiries.validate(form)
        if not errors and not problem:
            inquiry = inquiries.create(values, form_nonce=antiabuse.nonce(form))
            session["website_inquiry"] = inquiry.reference
            return redirect(url_for("website.ask_sent"))
    order = ("kind", "name", "mobile", "national_id", "email", "reference", "subject", "body")
    status = 422 if (errors or problem) else 200
    return render("website/ask.html", block="ask_form", form=form, errors=errors, problem=problem,
                  first=first_error(errors, order), kinds=inquiries.KIND_LABELS,
                  days={k: inquiries.response_days(k) for k in INQUIRY_KINDS}, **stamp_context()), status


@bp.get("/site/ask/sent")
def ask_sent():
    reference = session.get("website_inquiry")
    inquiry = Inquiry.get_or_none(Inquiry.reference == reference) if reference else None
    if inquiry is None:
        return redirect(url_for("website.ask"))
    return render("website/ask_sent.html", inquiry=inquiry)


# ---------------------------------------------------------------- volunteers

def validate_volunteer(form: dict) -> tuple[dict, dict]:
    values, errors = {}, {}
    limits = {"name": 160, "email": 200, "city": 80, "skills": 2000, "notes": 2000}
    for key, limit in limits.items():
        values[key] = clean_text(form.get(key))
        if len(values[key]) > limit:
            errors[key] = _("Too long: at most %(n)s characters.", n=limit)
    for key in ("name", "skills"):
        if not values[key] and key not in errors:
            errors[key] = _("This field is required.")
    if values["email"] and "@" not in values["email"]:
        errors["email"] = _("This is not an email address.")
    try:
        values["mobile"] = clean_mobile(form.get("mobile"))
    except ValidationError as exc:
        errors["mobile"] = str(exc.message)
    values["availability"] = form.get("availability", "")
    if values["availability"] not in AVAILABILITY:
        errors["availability"] = _("Choose when you are available.")
    if not form.get("consent"):
        errors["consent"] = _("Please agree so that we can contact you about volunteering.")
    return values, errors


@bp.route("/site/volunteer", methods=["GET", "POST"])
@limiter.limit(_limit("WEBSITE_FORM_LIMIT"), methods=["POST"])
def volunteer():
    form = request.form.to_dict() if request.method == "POST" else {}
    errors, problem = {}, None
    if request.method == "POST":
        problem = antiabuse.check(form)
        values, errors = validate_volunteer(form)
        earlier = Volunteer.get_or_none(Volunteer.form_nonce == antiabuse.nonce(form)) if not problem else None
        if earlier is not None:
            session["website_volunteer"] = earlier.id
            return redirect(url_for("website.volunteer_sent"))
        if not errors and not problem:
            try:
                with database.atomic():
                    row = Volunteer.create(form_nonce=antiabuse.nonce(form), **values)
                    ben = Beneficiary.get_or_none(Beneficiary.mobile == values["mobile"])
                    channel = "volunteering" if "volunteering" in {c["key"] for c in channels()} else "website"
                    entry = log_entry(
                        channel=channel, direction="in", beneficiary=ben,
                        summary=inquiries.in_arabic(_l("Volunteer sign-up")) + ": " + values["name"],
                        body=values["skills"],
                        data={"kind": "volunteer", "volunteer": row.id, "name": values["name"],
                              "mobile": values["mobile"], "availability": values["availability"]},
                    )
                    Volunteer.update(entry=entry).where(Volunteer.id == row.id).execute()
                    audit("create", "website_volunteer", row.id)
            except IntegrityError:  # the same form posted twice at the same moment
                row = Volunteer.get(Volunteer.form_nonce == antiabuse.nonce(form))
            session["website_volunteer"] = row.id
            return redirect(url_for("website.volunteer_sent"))
    order = ("name", "mobile", "email", "city", "skills", "availability", "notes", "consent")
    return render("website/volunteer.html", block="volunteer_form", form=form, errors=errors, problem=problem,
                  first=first_error(errors, order), availability=availability_labels(),
                  **stamp_context()), (422 if (errors or problem) else 200)


def availability_labels() -> dict:
    return {"weekdays": _("Weekdays"), "weekends": _("Weekends"), "evenings": _("Evenings"),
            "ramadan": _("Ramadan and the seasons"), "any": _("Any time")}


@bp.get("/site/volunteer/thanks")
def volunteer_sent():
    if not session.get("website_volunteer"):
        return redirect(url_for("website.volunteer"))
    return render("website/volunteer_sent.html")


# ---------------------------------------------------------------- tracking

def _tracked():
    """The request or inquiry this browser proved it may see, for a limited time."""
    data = session.get("website_track")
    if not data or time.time() - data.get("at", 0) > TRACK_SESSION_MINUTES * 60:
        return None, None
    if data.get("case"):
        case = (Case.select(Case, Beneficiary).join(Beneficiary).where(Case.id == data["case"]).first())
        return case, None
    if data.get("inquiry"):
        return None, Inquiry.get_or_none(Inquiry.id == data["inquiry"])
    return None, None


def _address() -> str:
    return request.remote_addr or ""


def _locked_response(template_kw, minutes):
    return render("website/track.html", block="track_form", locked=minutes, **template_kw), 429


def _open_tracking(case=None, inquiry=None):
    for key in ("website_upload", "website_challenge"):
        session.pop(key, None)
    session["website_track"] = {"case": case.id if case else None, "inquiry": inquiry.id if inquiry else None,
                                "at": time.time()}
    return redirect(url_for("website.track_status"))


def _code_text(code):
    """The code's text message, in Arabic like every message to beneficiaries, the code isolated."""
    with force_locale("ar"):
        return _("Your Sila code to see your request: %(code)s. It expires in %(n)s minutes. Do not share it.",
                 code="\u2068" + code + "\u2069", n=current_app.config["WEBSITE_OTP_MINUTES"])


@bp.route("/site/track", methods=["GET", "POST"])
@limiter.limit(_limit("WEBSITE_TRACK_LIMIT"), methods=["POST"])
def track():
    """Step one of tracking: the reference (or the tracking link's token) and the full national ID.
    A request then needs the one-time code sent to its registered mobile when a sender answers."""
    form = request.form.to_dict() if request.method == "POST" else {}
    token = (form.get("token") or "")[:64]
    errors, not_found = {}, False
    kw = {"form": form, "token": token}
    if request.method == "POST":
        token_case = tracking.case_for_token(token) if token else None
        if token_case is None:
            kw["token"] = ""  # a link that is not valid: the plain form, to type the reference
        ref = token_case.reference if token_case else tracking.normalize_reference(form.get("reference"))
        typed_id = only_digits(clean_text(form.get("national_id")))
        if token and token_case is None:
            ref = "token:" + token
        elif token_case is None and not clean_text(form.get("reference")):
            errors["reference"] = _("Enter the reference number.")
        elif not ref or not tracking.reference_format_ok(ref):
            errors["reference"] = _("A request reference looks like 1448-000123 (an inquiry's like Q1448-000012).")
        try:
            mobile = clean_mobile(form.get("national_id")) if typed_id else ""
        except ValidationError:
            mobile = ""
        if not typed_id:
            errors["national_id"] = _("Enter your ID number.")
        elif len(typed_id) != 10 and not mobile:
            errors["national_id"] = _("The ID number has 10 digits.")
        if not errors:
            keys = [tracking.reference_key(ref), tracking.address_key(_address())]
            minutes = tracking.locked_minutes(keys)
            if minutes:
                return _locked_response({**kw, "errors": {}, "not_found": False, "first": None}, minutes)
            case = tracking.find_case(ref, typed_id) if token_case is None else (
                token_case if tracking._same(typed_id, token_case.beneficiary.national_id) else None)
            inquiry = None
            if case is None and token_case is None:
                inquiry = tracking.find_inquiry(ref, typed_id, mobile)
            if case is None and inquiry is None:
                minutes = tracking.record_failure(keys)
                if minutes:
                    return _locked_response({**kw, "errors": {}, "not_found": False, "first": None}, minutes)
                not_found = True
            elif inquiry is not None:
                tracking.clear_failures(keys[0][0])
                return _open_tracking(inquiry=inquiry)
            else:
                tracking.clear_failures(keys[0][0])
                if tracking.recent_challenge(case):
                    flash(_("We already sent you a code a moment ago. Please wait a minute before asking again."),
                          "info")
                    return render("website/track.html", block="track_form", errors={}, not_found=False,
                                  first=None, **kw), 429
                nonce = tracking.start_challenge(case, _code_text)
                if nonce is None:  # no sender could deliver a code: the reference and the ID are the proof
                    return _open_tracking(case=case)
                session.pop("website_track", None)
                session["website_challenge"] = nonce
                return redirect(url_for("website.track_code"))
    status = 422 if errors else (404 if not_found else 200)
    return render("website/track.html", block="track_form", errors=errors, not_found=not_found,
                  first=first_error(errors, ("reference", "national_id")), **kw), status


@bp.get("/site/track/t/<token>")
def track_token(token):
    """A tracking link: the token stands for the reference; the ID number (and the code) are still asked."""
    valid = tracking.case_for_token(token) is not None
    response = render("website/track.html", form={}, errors={}, not_found=False, first=None,
                      token=token[:64] if valid else "", bad_link=not valid)
    response = current_app.make_response(response)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/site/track/code", methods=["GET", "POST"])
@limiter.limit(_limit("WEBSITE_TRACK_LIMIT"), methods=["POST"])
def track_code():
    """Step two: the one-time code sent to the registered mobile (few tries, short expiry, used once)."""
    challenge = tracking.challenge_for(session.get("website_challenge"))
    if not tracking.challenge_alive(challenge):
        session.pop("website_challenge", None)
        if request.method == "POST" or challenge is not None:
            flash(_("The code expired or was already used. Enter your reference and ID number again to get a "
                    "new code."), "info")
        return redirect(url_for("website.track"))
    errors = {}
    if request.method == "POST":
        case = Case.select(Case, Beneficiary).join(Beneficiary).where(Case.id == challenge.case_id).first()
        keys = [tracking.reference_key(case.reference), tracking.address_key(_address())]
        minutes = tracking.locked_minutes(keys)
        if minutes:
            session.pop("website_challenge", None)
            return _locked_response({"form": {}, "token": "", "errors": {}, "not_found": False, "first": None},
                                    minutes)
        typed = clean_text(request.form.get("code"))
        if not only_digits(typed):
            errors["code"] = _("Enter the code we sent to your mobile.")
        else:
            result = tracking.check_code(challenge, typed)
            if result == tracking.CodeResult.OK:
                tracking.clear_failures(keys[0][0])
                audit("read", "website_tracking", case.id, {"proof": "national_id+code"})
                return _open_tracking(case=case)
            minutes = tracking.record_failure(keys)
            if minutes:
                session.pop("website_challenge", None)
                return _locked_response({"form": {}, "token": "", "errors": {}, "not_found": False,
                                         "first": None}, minutes)
            if not tracking.challenge_alive(tracking.challenge_for(session.get("website_challenge"))):
                session.pop("website_challenge", None)
                flash(_("The code expired or was already used. Enter your reference and ID number again to get "
                        "a new code."), "info")
                return redirect(url_for("website.track"))
            errors["code"] = _("The code is not right.")
    return render("website/track_code.html", errors=errors, first="code" if errors else None,
                  minutes=current_app.config["WEBSITE_OTP_MINUTES"]), (422 if errors else 200)


def acknowledgement_pdf_response(case, fallback_endpoint: str):
    """The acknowledgement as a PDF from whichever plugin answers ``case_document`` (the letters plugin:
    an outgoing letter with its registry number, issued once); without one, the printable page."""
    document = hook().case_document(case=case, kind="acknowledgement", actor=None)
    if not document:
        return redirect(url_for(fallback_endpoint))
    # send_file encodes any file name for the header (RFC 6266: an ASCII fallback and filename*=UTF-8'').
    response = send_file(io.BytesIO(document["pdf"]), mimetype="application/pdf", as_attachment=True,
                         download_name=document["filename"], max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def acknowledgement_pdf_available() -> bool:
    """Whether an enabled plugin makes case documents (the done and tracking pages offer the PDF then)."""
    return bool(get_pm().hook.case_document.get_hookimpls())


def status_context(case):
    from . import workflow_bridge

    related = list(Inquiry.select().where(
        (Inquiry.case == case) | ((Inquiry.beneficiary == case.beneficiary_id) & Inquiry.case.is_null())
    ).order_by(Inquiry.id.desc()))
    return {
        "case": case, "plain_status": tracking.PUBLIC_STATUS.get(case.status, ""),
        "steps": tracking.public_steps(case), "expected": tracking.expected_reply_date(case),
        "missing": workflow_bridge.missing_documents(case), "related": related,
        "request_type_name": workflow_bridge.request_type_name(case.request_type, lang()),
        "can_upload": case.status in ("draft", "submitted", "incomplete", "in_research", "awaiting_committee"),
        "document_kinds": workflow_bridge.document_kind_choices(case, lang()),
        "acknowledgement_pdf": case.status != "draft" and acknowledgement_pdf_available(),
    }


@bp.get("/site/track/status")
def track_status():
    case, inquiry = _tracked()
    if case is None and inquiry is None:
        flash(_("Please enter your reference and ID number again."), "info")
        return redirect(url_for("website.track"))
    if inquiry is not None:
        return render("website/track_inquiry.html", inquiry=inquiry, kinds=inquiries.KIND_LABELS,
                      statuses=inquiries.STATUS_LABELS)
    return render("website/track_status.html", **status_context(case), upload_errors={})


@bp.get("/site/track/acknowledgement.pdf")
def track_acknowledgement_pdf():
    case, _inquiry = _tracked()
    if case is None or case.status == "draft":
        return redirect(url_for("website.track"))
    return acknowledgement_pdf_response(case, "website.track_status")


@bp.post("/site/track/leave")
def track_leave():
    for key in ("website_track", "website_upload", "website_challenge"):
        session.pop(key, None)
    return redirect(url_for("website.track"))


@bp.post("/site/track/upload")
@limiter.limit(_limit("WEBSITE_TRACK_LIMIT"))
def track_upload():
    from . import workflow_bridge

    case, _inq = _tracked()
    if case is None:
        return redirect(url_for("website.track"))
    ctx = status_context(case)
    errors = {}
    if not ctx["can_upload"]:
        flash(_("This request no longer takes documents from the website."), "info")
        return redirect(url_for("website.track_status"))
    kind = request.form.get("kind", "")
    valid_kinds = {k for k, _label in ctx["document_kinds"]}
    if kind not in valid_kinds:
        errors["kind"] = _("Choose the document.")
    upload = request.files.get("file")
    if not upload or not upload.filename:
        errors["file"] = _("Choose a file to upload.")
    stored = None
    if not errors:
        try:
            stored = store_upload(upload)
        except UploadError as exc:
            errors["file"] = str(exc.message)
    if errors:
        return render("website/track_status.html", **ctx, upload_errors=errors,
                      upload_form=request.form.to_dict()), 422
    with database.atomic():
        doc = Document.create(beneficiary=case.beneficiary, case=case, kind=kind, file_sha256=stored.sha256,
                              file_name=stored.file_name, content_type=stored.content_type, size=stored.size)
        log_entry(channel="website", direction="in", beneficiary=case.beneficiary, case=case,
                  summary=inquiries.in_arabic(_l_upload(kind)),
                  data={"kind": "document_upload", "document": doc.id, "document_kind": kind})
        audit("create", "document", doc.id, {"case": case.id, "channel": "website"})
        workflow_bridge.documents_added(case)
    flash(_("Thank you: the document was received."), "success")
    return redirect(url_for("website.track_status"))


def _l_upload(kind):
    from portal.labels import DOCUMENT_KIND

    return _l("Document uploaded on the website: %(kind)s", kind=DOCUMENT_KIND.get(kind, kind))


# ---------------------------------------------------------------- staff: the officers' queue

@bp.get("/website/inbox")
@roles_required(*QUEUE_ROLES)
def inbox():
    show = request.args.get("show", "open")
    query = (Inquiry.select(Inquiry, Beneficiary)
             .join(Beneficiary, JOIN.LEFT_OUTER, on=(Inquiry.beneficiary == Beneficiary.id), attr="beneficiary"))
    if show == "open":
        query = query.where(Inquiry.status == "open").order_by(Inquiry.due_at, Inquiry.id)
    else:
        show = "all"
        query = query.order_by(Inquiry.id.desc())
    rows = list(query.limit(200))
    return render("website/staff/inbox.html", rows=rows, show=show, now=utcnow(), kinds=inquiries.KIND_LABELS,
                  statuses=inquiries.STATUS_LABELS)


@bp.route("/website/inbox/<int:inquiry_id>", methods=["GET", "POST"])
@roles_required(*QUEUE_ROLES)
def inquiry_detail(inquiry_id):
    inquiry = Inquiry.get_or_none(Inquiry.id == inquiry_id)
    if inquiry is None:
        abort(404)
    errors, form = {}, {}
    if request.method == "POST":
        if not current_user.has_role(*ANSWER_ROLES):
            abort(403)
        form = request.form.to_dict()
        text = clean_text(form.get("answer"))
        if not text:
            errors["answer"] = _("Write the answer.")
        elif len(text) > 4000:
            errors["answer"] = _("Too long: at most %(n)s characters.", n=4000)
        if not errors:
            try:
                inquiry = inquiries.answer(inquiry, text, current_user._get_current_object())
            except inquiries.AlreadyAnswered:
                errors["answer"] = _("This was already answered.")
            else:
                if inquiry.answer_delivery:
                    flash(_("The answer was saved and sent."), "success")
                else:
                    flash(_("The answer was saved. No channel could send it: please call the person."), "info")
                return redirect(url_for("website.inquiry_detail", inquiry_id=inquiry.id))
    audit("read", "website_inquiry", inquiry.id)
    return render("website/staff/inquiry.html", inquiry=inquiry, form=form, errors=errors, now=utcnow(),
                  kinds=inquiries.KIND_LABELS, statuses=inquiries.STATUS_LABELS,
                  can_answer=current_user.has_role(*ANSWER_ROLES)), (422 if errors else 200)


@bp.get("/website/volunteers")
@roles_required(*QUEUE_ROLES)
def volunteers():
    rows = list(Volunteer.select().order_by(Volunteer.id.desc()).limit(500))
    return render("website/staff/volunteers.html", rows=rows, availability=availability_labels())


# ---------------------------------------------------------------- staff: applications waiting for confirmation

PENDING_STATUSES = {"pending": _l("Waiting for confirmation"), "confirmed": _l("Confirmed"),
                    "rejected": _l("Rejected")}


@bp.get("/website/applications")
@roles_required(*QUEUE_ROLES)
def applications():
    from .models import PendingApplication

    show = request.args.get("show", "pending")
    query = PendingApplication.select()
    if show == "pending":
        query = query.where(PendingApplication.status == "pending").order_by(PendingApplication.id)
    else:
        show = "all"
        query = query.order_by(PendingApplication.id.desc())
    rows = list(query.limit(200))
    audit("read", "website_application", "list", {"show": show})
    return render("website/staff/applications.html", rows=rows, show=show, statuses=PENDING_STATUSES)


@bp.route("/website/applications/<int:pending_id>", methods=["GET", "POST"])
@roles_required(*QUEUE_ROLES)
def application_detail(pending_id):
    """What the applicant typed beside the file with the same ID; officers and admins confirm that it
    joins the file (the registered mobile then gets the reference) or reject it."""
    from . import workflow_bridge
    from .apply import HOUSING
    from .models import PendingApplication
    from portal import labels

    pending = PendingApplication.get_or_none(PendingApplication.id == pending_id)
    if pending is None:
        abort(404)
    errors, form = {}, {}
    if request.method == "POST":
        if not current_user.has_role(*ANSWER_ROLES):
            abort(403)
        form = request.form.to_dict()
        action = form.get("action")
        reason = clean_text(form.get("reason"))
        if action not in ("confirm", "reject"):
            errors["action"] = _("Choose confirm or reject.")
        elif action == "reject" and not reason:
            errors["reason"] = _("Write why the application does not belong to this file.")
        elif len(reason) > 2000:
            errors["reason"] = _("Too long: at most %(n)s characters.", n=2000)
        if not errors:
            actor = current_user._get_current_object()
            try:
                if action == "confirm":
                    case = workflow_bridge.confirm_pending(pending.id, actor)
                    flash(_("The application joined the file as request %(ref)s.", ref=case.reference), "success")
                else:
                    workflow_bridge.reject_pending(pending.id, actor, reason)
                    flash(_("The application was rejected; nothing joined the file."), "success")
            except workflow_bridge.AlreadyDecided:
                errors["action"] = _("Another officer already decided on this application.")
            except WorkflowError as exc:
                errors["action"] = str(exc.message)
            else:
                return redirect(url_for("website.application_detail", pending_id=pending.id))
        pending = PendingApplication.get_by_id(pending.id)
    audit("read", "website_application", pending.id)
    data = pending.data or {}
    return render("website/staff/application.html", pending=pending, data=data, typed=data.get("applicant") or {},
                  household=data.get("household") or {}, req=data.get("request") or {},
                  documents=data.get("documents") or {}, ben=pending.beneficiary,
                  open_case=workflow_bridge.open_case_for(pending.national_id) if pending.status == "pending" else None,
                  type_name=workflow_bridge.request_type_name((data.get("request") or {}).get("request_type", ""),
                                                              lang()),
                  statuses=PENDING_STATUSES, labels=labels, housing=HOUSING, form=form, errors=errors,
                  can_decide=current_user.has_role(*ANSWER_ROLES)), (422 if errors else 200)


# ---------------------------------------------------------------- admin: pages and FAQ

@bp.get("/website/pages")
@roles_required("admin")
def pages():
    edited = {(p.slug, p.lang): p for p in SitePage.select()}
    return render("website/staff/pages.html", slugs=PAGE_SLUGS, langs=content.LANGS, edited=edited,
                  titles={(s, lg): content.get_page(s, lg).title for s in PAGE_SLUGS for lg in content.LANGS})


@bp.route("/website/pages/<slug>/<page_lang>", methods=["GET", "POST"])
@roles_required("admin")
def edit_page(slug, page_lang):
    if slug not in PAGE_SLUGS or page_lang not in content.LANGS:
        abort(404)
    page = content.get_page(slug, page_lang)
    errors = {}
    form = {"title": page.title, "body": page.body}
    if request.method == "POST":
        form = request.form.to_dict()
        if form.get("action") == "reset":
            with database.atomic():
                SitePage.delete().where((SitePage.slug == slug) & (SitePage.lang == page_lang)).execute()
                audit("delete", "website_page", f"{slug}.{page_lang}")
            flash(_("The page shows the original text again."), "success")
            return redirect(url_for("website.pages"))
        title = clean_text(form.get("title"))
        body = (form.get("body") or "").replace("\r\n", "\n").strip()
        if not title:
            errors["title"] = _("This field is required.")
        elif len(title) > 200:
            errors["title"] = _("Too long: at most %(n)s characters.", n=200)
        if not body:
            errors["body"] = _("This field is required.")
        elif len(body) > 50000:
            errors["body"] = _("Too long: at most %(n)s characters.", n=50000)
        if not errors:
            with database.atomic():
                row = SitePage.get_or_none((SitePage.slug == slug) & (SitePage.lang == page_lang))
                user = current_user._get_current_object()
                if row is None:
                    SitePage.create(slug=slug, lang=page_lang, title=title, body=body, updated_by=user)
                else:
                    SitePage.update(title=title, body=body, updated_by=user, updated_at=utcnow()).where(
                        SitePage.id == row.id).execute()
                audit("update", "website_page", f"{slug}.{page_lang}")
            flash(_("The page was saved."), "success")
            return redirect(url_for("website.pages"))
    preview = content.render_markup(form.get("body", ""))
    return render("website/staff/page_form.html", slug=slug, page_lang=page_lang, page=page, form=form,
                  errors=errors, preview=preview), (422 if errors else 200)


def _faq_values(form):
    values, errors = {}, {}
    for key, limit in (("question_ar", 300), ("answer_ar", 5000), ("question_en", 300), ("answer_en", 5000)):
        values[key] = clean_text(form.get(key))
        if len(values[key]) > limit:
            errors[key] = _("Too long: at most %(n)s characters.", n=limit)
    for key in ("question_ar", "answer_ar"):
        if not values[key] and key not in errors:
            errors[key] = _("This field is required.")
    try:
        values["position"] = int(form.get("position") or 0)
    except ValueError:
        errors["position"] = _("Enter a whole number.")
    values["published"] = bool(form.get("published"))
    return values, errors


@bp.route("/website/faq", methods=["GET", "POST"])
@roles_required("admin")
def faq_admin():
    form, errors = {"published": "1"}, {}
    if request.method == "POST":
        form = request.form.to_dict()
        values, errors = _faq_values(form)
        if not errors:
            with database.atomic():
                item = FaqItem.create(**values)
                audit("create", "website_faq", item.id)
            flash(_("The question was added."), "success")
            return redirect(url_for("website.faq_admin"))
    items = list(FaqItem.select().order_by(FaqItem.position, FaqItem.id))
    return render("website/staff/faq.html", items=items, form=form, errors=errors, item=None), (
        422 if errors else 200)


@bp.route("/website/faq/<int:item_id>", methods=["GET", "POST"])
@roles_required("admin")
def faq_edit(item_id):
    item = FaqItem.get_or_none(FaqItem.id == item_id)
    if item is None:
        abort(404)
    errors = {}
    form = {k: getattr(item, k) for k in ("question_ar", "answer_ar", "question_en", "answer_en", "position")}
    form["published"] = "1" if item.published else ""
    if request.method == "POST":
        form = request.form.to_dict()
        if form.get("action") == "delete":
            with database.atomic():
                FaqItem.delete().where(FaqItem.id == item.id).execute()
                audit("delete", "website_faq", item.id)
            flash(_("The question was deleted."), "success")
            return redirect(url_for("website.faq_admin"))
        values, errors = _faq_values(form)
        if not errors:
            with database.atomic():
                FaqItem.update(updated_at=utcnow(), **values).where(FaqItem.id == item.id).execute()
                audit("update", "website_faq", item.id)
            flash(_("The question was saved."), "success")
            return redirect(url_for("website.faq_admin"))
    return render("website/staff/faq_form.html", item=item, form=form, errors=errors), (422 if errors else 200)


from . import apply  # noqa: E402,F401  (the application routes live on the same blueprint)
