"""The public website under ``/site/`` (no account needed): pages, questions and complaints, volunteering
and tracking a request. The application form is in ``apply.py``, the staff screens in ``staff.py``."""
from __future__ import annotations

import time

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import IntegrityError

from portal.audit import audit
from portal.db import database
from portal.labels import DOCUMENT_KIND
from portal.limiter import limiter
from portal.models import Beneficiary, Case, Document
from portal.plugins import channels, hook
from portal.templating import render
from portal.text import clean_text, only_digits
from portal.timeline import log_entry
from portal.uploads import store_form_file
from portal.validators import ValidationError, clean_mobile, clean_texts
from portal.workflow.machine import UNDECIDED_STATUSES

from . import antiabuse, content, inquiries, tracking, workflow_bridge
from .common import (
    _limit, acknowledgement_pdf_available, acknowledgement_pdf_response, bp, first_error, lang, stamp_context,
)
from .models import INQUIRY_KINDS, FaqItem, Inquiry, Volunteer

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


# ---------------------------------------------------------------- public pages

def _page(slug: str, template: str = "website/page.html", **extra):
    page = content.get_page(slug, lang())
    return render(template, page=page, body=content.render_markup(page.body), **extra)


@bp.get("/site/")
def home():
    return _page("home", "website/home.html", channels=channels(), channel_how=CHANNEL_HOW,
                 request_types=workflow_bridge.public_request_types())


@bp.get("/site/how-to-apply")
def how_to_apply():
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


@bp.get("/site/you-said-we-did")
def you_said_we_did():
    """"You said, we did": the improvements managers recorded in the core's register and published."""
    from portal.complaints.service import published_improvements

    return render("website/you_said_we_did.html", items=published_improvements())


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
    errors = {}
    limits = {"name": 160, "email": 200, "city": 80, "skills": 2000, "notes": 2000}
    values = clean_texts(form, [(key, limit, key in ("name", "skills")) for key, limit in limits.items()], errors)
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
                    # a volunteering plugin adds the offer to its registry (core hook: no plugin imported)
                    hook().volunteer_signed_up(data={"id": row.id, **{k: values[k] for k in (
                        "name", "mobile", "email", "city", "skills", "availability", "notes")}})
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


def status_context(case):
    related = list(Inquiry.select().where(
        (Inquiry.case == case) | ((Inquiry.beneficiary == case.beneficiary_id) & Inquiry.case.is_null())
    ).order_by(Inquiry.id.desc()))
    return {
        "case": case, "plain_status": tracking.PUBLIC_STATUS.get(case.status, ""),
        "steps": tracking.public_steps(case), "expected": tracking.expected_reply_date(case),
        "missing": workflow_bridge.missing_documents(case), "related": related,
        "request_type_name": workflow_bridge.request_type_name(case.request_type, lang()),
        "can_upload": case.status in UNDECIDED_STATUSES,
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
    stored = store_form_file("file", errors, _("Choose a file to upload."))
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
    return _l("Document uploaded on the website: %(kind)s", kind=DOCUMENT_KIND.get(kind, kind))
