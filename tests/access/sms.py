"""Access rules of the SMS channel's routes."""
from . import NOBODY, rule

SMS = ("officer", "admin", "delegate")

ACCESS = {
    "sms.count": rule("POST", "/sms/count", SMS),
    "sms.compose": rule("GET", "/sms/to/{ben}", SMS),
    # the TAIF delegate may not write to a file of another branch
    "sms.compose@other_branch": rule("GET", "/sms/to/{ben_other}", ("officer", "admin")),
    "sms.messages": rule("GET", "/sms/messages", ("officer", "admin")),
    "sms.bulk_form": rule("GET", "/sms/bulk", ("officer", "admin")),
    "sms.bulk_send": rule("POST", "/sms/bulk", ("officer", "admin")),
    "sms.bulk_show": rule("GET", "/sms/bulk/{sms_bulk}", ("officer", "admin")),
    # The gateway's webhook is authenticated by its bearer token, never by a session: without the token
    # everyone (signed in or not) is refused.
    "sms_webhooks.generic_webhook": rule("POST", "/webhooks/sms/generic", NOBODY, anonymous="403"),
    # Unifonic's delivery reports: the secret is in the address; a wrong one is refused to everyone.
    "sms_webhooks.unifonic_webhook": rule("POST", "/webhooks/sms/unifonic/not-the-secret", NOBODY, anonymous="403"),
}


def FIXTURES(app):
    """``{sms_bulk}``: a bulk message already sent."""
    from plugins.sms.models import SmsBulk

    return {"sms_bulk": SmsBulk.create(token="access-fixture", text="رسالة", filters={"category": "widow"}).id}
