"""Incoming and outgoing letters (الخطابات): Arabic PDF letters from editable templates with registry
numbers, Hijri dates and QR verification; batches; the incoming registry of scanned letters with OCR."""
from __future__ import annotations

from pathlib import Path

from flask import current_app, render_template, url_for
from markupsafe import Markup
from flask_babel import gettext as _

from portal import hookimpl
from portal.channels import declare_channel, entry_template

from .privacy import anonymise_beneficiary, beneficiary_data  # noqa: F401  (hookimpls: the data protection export and erasure)

# Not offered by the core's generic contact form: letters are issued and registered on the letters screens.
# route 90: the notices' last resort, a printed letter in the print queue (portal.workflow.notices).
channel_info = declare_channel("letters", "الخطابات", "Letters", "✉", order=40, manual=False, route=90)

PURPOSE_BY_STATUS = {
    "submitted": "acknowledgement",
    "incomplete": "missing_documents",
    "in_research": "research_referral",
    "approved": "decision_approved",
    "rejected": "decision_rejected",
    "served": "service_delivery",
}


@hookimpl
def plugin_settings():
    from flask_babel import lazy_gettext as _l

    from portal.settings import setting
    from portal.workflow.machine import DECISION_STATUSES

    from .signing import DEFAULT_REASON

    return [
        setting("LETTERS_PUBLIC_URL", None, _l("Base of the verification address printed in the QR code "
                                               "(default: the request's host).")),
        setting("LETTERS_ADDRESS", "", _l("Letterhead: the address line.")),
        setting("LETTERS_CONTACT", "", _l("Letterhead: the contact line.")),
        setting("LETTERS_LOGO", None, _l("Path of a PNG, JPEG or SVG logo for the letterhead.")),
        setting("LETTERS_SIGNATORY", "المدير التنفيذي", _l("Signature block: the signatory.")),
        setting("LETTERS_SIGNATORY_TITLE", "", _l("Signature block: the signatory's title.")),
        setting("LETTERS_AUTO_STATUSES", list(DECISION_STATUSES), _l("Request statuses that issue their letter "
                                                                      "by themselves."),
                type="list", choices=tuple(PURPOSE_BY_STATUS)),
        setting("LETTERS_MAX_SCAN_MB", None, _l("Size cap of a scanned letter (default: PORTAL_MAX_UPLOAD_MB)."),
                type="float", unit="MB", minimum=0),
        setting("LETTERS_MAX_SCAN_PAGES", 50, _l("Page cap of a scanned letter."), type="int", minimum=1),
        setting("LETTERS_TESSERACT", "tesseract", _l("The OCR program.")),
        setting("LETTERS_OCR", True, _l("Read scanned letters with OCR."), type="bool"),
        setting("LETTERS_LOCK_WAIT", 60, _l("How long an issuing worker waits for the SQLite write lock."),
                type="float", unit="seconds", minimum=0),
        setting("LETTERS_ISSUING_TIMEOUT", 600, _l("A letter still being issued after this long (its process "
                                                   "stopped) is recorded as spoiled."),
                type="int", unit="seconds", minimum=60),
        setting("LETTERS_BATCH_PROCESSES", 0, _l("Processes that draw a batch's PDFs (0: one per core; 1: in the "
                                                 "worker itself)."), type="int", minimum=0),
        setting("LETTERS_SIGNING_P12", None, _l("Path of the PKCS#12 certificate that signs every outgoing letter "
                                                "(relative to the instance folder unless absolute); unset: no "
                                                "signing.")),
        setting("LETTERS_SIGNING_P12_PASSWORD", "", _l("The certificate's password."), secret=True),
        setting("LETTERS_SIGNING_REASON", DEFAULT_REASON, _l("The signature's reason; the letter's number is "
                                                             "added.")),
        setting("LETTERS_SIGNING_LOCATION", "", _l("The signature's place.")),
        setting("LETTERS_SIGNING_CONTACT", "", _l("Contact information written in the signature.")),
    ]


@hookimpl
def register_blueprints(app):
    from . import tasks  # noqa: F401  (registers the background jobs with the queue)
    from .views import READ, bp

    # Who may open a letter: a timeline entry shows the letter's number as a link only to them (a delegate sees
    # the entry on a file of their branch, not the letter).
    app.jinja_env.globals["letter_readers"] = READ
    return bp


@hookimpl
def register_migrations():
    return [("letters", Path(__file__).parent / "migrations")]


# Letter entries (registered or issued); an entry logged by hand on the channel keeps the core's plain summary.
render_timeline_entry = entry_template("letters", "letters/_entry.html",
                                       when=lambda e: isinstance(e.data, dict) and e.data.get("letter") in ("in", "out"))


@hookimpl
def validate_entry_data(channel, data):
    """Letter entries (``letter``: in or out) are written when a letter is registered or issued."""
    if channel != "letters" or "letter" not in data:
        return None
    return [_("Letters are registered in the letters screens; leave out “letter”.")]


@hookimpl
def menu_links(user, request):
    if not user.has_role("admin", "officer", "manager", "researcher", "committee"):
        return []
    endpoint = request.endpoint or ""
    return [{"href": url_for("letters.outgoing"), "label": _("Letters"),
             "active": endpoint.startswith("letters.")}]


@hookimpl
def dashboard_widgets(user, request):
    """Officers see how many notice letters wait to be printed and posted."""
    if not user.has_role("admin", "officer"):
        return None
    from .models import PrintJob

    waiting = PrintJob.select().where(PrintJob.printed_at.is_null()).count()
    if not waiting:
        return None
    return [Markup(render_template("letters/_print_widget.html", waiting=waiting))]  # nosec B704 # render_template output, autoescaped


ISSUE_ROLES = ("admin", "officer", "manager")  # who may issue a letter (views.ISSUE)


def _issue_action(href: str, blocker: str | None) -> list[dict]:
    action = {"label": _("Issue a letter"), "href": href, "order": 20}
    if blocker:
        action["disabled"] = blocker
    return [action]


@hookimpl
def beneficiary_actions(beneficiary, user):
    """"Issue a letter" on the file, with the file filled in; disabled with the reason when the file
    was erased."""
    if not user.has_role(*ISSUE_ROLES):
        return None
    from .views import issue_blocker

    return _issue_action(url_for("letters.issue_form", ref=beneficiary.file_number), issue_blocker(beneficiary, None))


@hookimpl
def case_actions(case, user):
    """"Issue a letter" on the request, with the request (and so its beneficiary) filled in; disabled with
    the reason when the request is a draft or was withdrawn, or its file was erased."""
    if not user.has_role(*ISSUE_ROLES):
        return None
    from .views import issue_blocker

    return _issue_action(url_for("letters.issue_form", ref=case.reference), issue_blocker(case.beneficiary, case))


@hookimpl
def case_status_changed(case, old, new, actor):
    """Issue the letter that goes with the new status (by default the committee's decision letters).
    A letter that cannot be issued (a merge field without data) never blocks the transition: the
    officer finds a note on the timeline saying which field is missing."""
    from flask_babel import force_locale

    from portal.db import database
    from portal.timeline import log_entry

    from . import service

    if new not in current_app.config["LETTERS_AUTO_STATUSES"] or new not in PURPOSE_BY_STATUS:
        return
    template = service.template_for_purpose(PURPOSE_BY_STATUS[new])
    if template is None:
        return
    try:
        with database.atomic():
            service.issue_letter(template=template, case=case, actor=actor)
    except service.IssueError as exc:
        with force_locale("ar"):
            message = str(exc.message)
        log_entry(channel="letters", direction="internal", beneficiary=case.beneficiary, case=case, actor=actor,
                  summary=f"لم يصدر خطاب «{template.name_ar}» تلقائيًا: {message}"[:300],
                  data={"letter_failed": template.key, "field": exc.field})


@hookimpl
def send_message(beneficiary, text, purpose, channel, context):
    """The notices' last way to reach a beneficiary (asked only for this channel): a numbered letter with
    the notice's text, queued for printing and posting (``/letters/print-queue``). Needs a postal
    address on the file; a one-time code is never printed."""
    if channel != "letters" or beneficiary is None or purpose == "one_time_code":
        return None
    if not (beneficiary.national_address or beneficiary.city) or beneficiary.erased_at:
        return None
    from . import service

    job = service.queue_print(beneficiary, text, purpose, case_reference=(context or {}).get("reference"))
    if job is None:
        return None
    return {"channel": "letters", "id": f"letter:{job.letter_id}", "state": "queued"}


@hookimpl
def case_document(case, kind, actor):
    """The request's letter of this purpose as a PDF (an acknowledgement is issued on first demand)."""
    from . import service

    return _letter_document(service.case_document(case, kind, actor=actor))


@hookimpl
def report_sections(start, end, branch, user):
    from . import reports

    return reports.report_sections(start, end, branch)


@hookimpl
def volunteer_document(volunteer, hours, actor):
    """A volunteering certificate as a numbered letter (issued once per certificate key)."""
    from . import service

    return _letter_document(service.volunteer_certificate(volunteer, hours, actor=actor))


def _letter_document(letter):
    """A document hook's answer for an issued letter: its file name, PDF and number (None without a PDF)."""
    from . import service

    if letter is None or not letter.pdf_sha256:
        return None
    return {"filename": f"letter-{letter.hijri_year}-{letter.sequence:06d}.pdf", "pdf": service.letter_pdf(letter),
            "number": letter.number}


@hookimpl
def openapi_paths():
    error = {"$ref": "#/components/schemas/Error"}
    letter = {"type": "object", "properties": {
        "number": {"type": "string", "examples": ["ص-1448-000045"]}, "status": {"enum": ["valid", "revoked"]},
        "subject": {"type": "string"}, "issued_at": {"type": "string", "format": "date-time"},
        "beneficiary": {"type": ["integer", "null"]}, "case": {"type": ["string", "null"]},
        "pages": {"type": "integer"}, "replaces": {"type": ["string", "null"]},
        "download": {"type": "string", "format": "uri"}, "verify": {"type": "string", "format": "uri"}}}
    json = lambda schema, text: {"description": text, "content": {"application/json": {"schema": schema}}}  # noqa: E731
    return {
        "/letters": {"post": {
            "summary": "Issue a numbered PDF letter from a template",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "additionalProperties": False, "required": ["template"],
                "properties": {
                    "template": {"type": "string", "description": "template key, e.g. decision_approved"},
                    "beneficiary": {"type": "integer"}, "case": {"type": "string", "description": "request reference"},
                    "recipient": {"type": "string", "description": "another recipient (landlord, school, hospital)"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"},
                               "description": "the template's extra fields"}}}}}},
            "responses": {"201": json(letter, "Issued"), "401": json(error, "Missing or invalid token"),
                          "403": json(error, "The token's user lacks the role"),
                          "422": json(error, "Invalid input, or a merge field without data")},
        }},
        "/letters/{number}.pdf": {"get": {
            "summary": "The stored PDF of an issued letter",
            "parameters": [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "The PDF", "content": {"application/pdf": {}}},
                          "401": json(error, "Missing or invalid token"), "404": json(error, "Not found")},
        }},
    }
