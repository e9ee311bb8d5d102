"""Anti-abuse without third-party captchas: a honeypot field and a minimum time to fill, carried
in a signed timestamp issued with the form. Rate limits are declared on the views."""
from __future__ import annotations

import secrets
import time

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer

HONEYPOT = "website_url"
STAMP = "form_stamp"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="website-form-stamp")


def issue_stamp() -> str:
    """A signed (time, nonce) pair: the time enforces the minimum fill time, the nonce makes a form
    posted twice (double click, resent page) recognisable."""
    return _serializer().dumps([int(time.time()), secrets.token_hex(8)])


def nonce(form) -> str | None:
    try:
        return str(_serializer().loads(form.get(STAMP, ""))[1])
    except (BadSignature, TypeError, ValueError, IndexError, KeyError):
        return None


def check(form) -> str | None:
    """None when the form passes; otherwise a message to show (the form is kept)."""
    if form.get(HONEYPOT):
        return _l("The form could not be accepted. Please try again.")
    try:
        issued = int(_serializer().loads(form.get(STAMP, ""))[0])
    except (BadSignature, TypeError, ValueError, IndexError, KeyError):
        return _l("The form expired. Please check your answers and send it again.")
    elapsed = time.time() - issued
    if elapsed < float(current_app.config["WEBSITE_MIN_FILL_SECONDS"]):
        return _l("The form was sent too quickly. Please check your answers and send it again.")
    return None
