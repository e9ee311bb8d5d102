"""Access rules of the phone channel's routes."""
from . import NOBODY, STAFF, rule

PHONE = ("officer", "admin")

ACCESS = {
    "phone.static": rule("GET", "/phone/static/upload-progress.js", STAFF, anonymous="ok"),
    "phone.index": rule("GET", "/phone/", PHONE),
    "phone.export": rule("GET", "/phone/export.xlsx", PHONE),
    "phone.lookup": rule("GET", "/phone/lookup?number=0501234567", PHONE),
    "phone.incoming": rule("GET", "/phone/incoming", PHONE),
    # The notice on every page polls this; an htmx poll of a visitor gets 286 (stop polling), tested in
    # tests/plugins/phone/test_phone_notice.py; a plain request is sent to sign in.
    "phone.notice": rule("GET", "/phone/notice", PHONE),
    "phone.dismiss": rule("POST", "/phone/notice/{call}/dismiss", PHONE),
    "phone.new_call": rule("GET", "/phone/calls/new", PHONE),
    "phone.call_detail": rule("GET", "/phone/calls/{call}", PHONE),
    "phone.link_number": rule("POST", "/phone/numbers/link", PHONE),
    "phone.cdr_upload": rule("GET", "/phone/cdr", PHONE),
    # The CTI webhook is authenticated by the secret in its URL, never by a session or bearer token:
    # with a wrong token everyone (signed in or not) is refused.
    "phone.cti": rule("POST", "/api/v1/cti/not-the-token", NOBODY, anonymous="403"),
}


def FIXTURES(app):
    """``{call}``: a call reported by the PBX, on the timeline of ``{ben}``'s number."""
    from plugins.phone.models import PhoneCall
    from portal.timeline import log_entry

    call = PhoneCall.create(source="cti", call_id="access-1", number="+966500000001", state="ended")
    entry = log_entry(channel="phone", summary="call", data={"source": "cti", "call": call.id})
    PhoneCall.update(entry=entry).where(PhoneCall.id == call.id).execute()
    return {"call": call.id}
