"""The website's blueprint and what its public pages, its application form and its staff screens share:
the public error pages, the form helpers and the acknowledgement PDF."""
from __future__ import annotations

import io

from flask import Blueprint, current_app, redirect, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from portal.plugins import get_pm, hook
from portal.templating import render

from . import antiabuse

bp = Blueprint("website", __name__, template_folder="templates", static_folder="static",
               static_url_path="/site/static")

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
