"""Access rules of the phone channel's routes."""
from . import NOBODY, STAFF, rule

PHONE = ("officer", "admin")

ACCESS = {
    "phone.static": rule("GET", "/phone/static/upload-progress.js", STAFF, anonymous="ok"),
    "phone.index": rule("GET", "/phone/", PHONE),
    "phone.lookup": rule("GET", "/phone/lookup?number=0501234567", PHONE),
    "phone.incoming": rule("GET", "/phone/incoming", PHONE),
    "phone.new_call": rule("GET", "/phone/calls/new", PHONE),
    "phone.link_number": rule("POST", "/phone/numbers/link", PHONE),
    "phone.cdr_upload": rule("GET", "/phone/cdr", PHONE),
    # The CTI webhook is authenticated by the secret in its URL, never by a session or bearer token:
    # with a wrong token everyone (signed in or not) is refused.
    "phone.cti": rule("POST", "/api/v1/cti/not-the-token", NOBODY, anonymous="403"),
}
