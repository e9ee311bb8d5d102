"""Text messages (SMS) to and from beneficiaries (الرسائل النصية).

``send_message`` delivers notifications by SMS through a gateway — a generic HTTP gateway or one of
the Saudi gateways charities use (Unifonic, Taqnyat, Msegat), chosen by ``PORTAL_SMS_PROVIDER``. Its
delivery reports and the replies people send arrive at ``/webhooks/sms/generic``. Officers can write
to a beneficiary from the file, with the parts and the cost counted as they type. Settings are
``PORTAL_SMS_*`` (see ``docs/sms.md``)."""
from pathlib import Path

from flask import url_for
from flask_babel import gettext as _

from portal import hookimpl
from portal.channels import declare_channel
from portal.templating import render_fragment

# Contacts by SMS are written by this plugin (sent through the gateway, or received from it), never
# typed into the generic contact form.
# route 20: in the notices' routing order after WhatsApp, before email (portal.workflow.notices).
channel_info = declare_channel("sms", "الرسائل النصية", "Text messages (SMS)", "✉", order=35, manual=False,
                               route=20)

SMS_ROLES = ("officer", "admin", "delegate")


@hookimpl
def plugin_settings():
    from flask_babel import lazy_gettext as _l

    from portal.settings import setting

    return [
        setting("SMS_PROVIDER", "", _l("The SMS gateway: generic, unifonic, taqnyat or msegat; empty turns text "
                                       "messages off."), type="choice", choices=("", "generic", "unifonic", "taqnyat",
                                                                                   "msegat")),
        setting("SMS_URL", "", _l("The gateway's address (required for the generic gateway; the Saudi gateways "
                                  "have their own).")),
        setting("SMS_TOKEN", "", _l("Bearer token (generic, Taqnyat), AppSid (Unifonic) or apiKey (Msegat); the "
                                    "generic gateway's webhook checks the same token."), secret=True),
        setting("SMS_SENDER", "", _l("The registered sender name.")),
        setting("SMS_USERNAME", "", _l("Msegat's account user name.")),
        setting("SMS_WEBHOOK_TOKEN", "", _l("Secret part of the delivery-report address given to Unifonic "
                                            "(/webhooks/sms/unifonic/<token>): Unifonic signs nothing, so the address "
                                            "is the secret; empty refuses every report. At least 24 characters."),
                secret=True),
        setting("SMS_TIMEOUT", 10, _l("Seconds for one request to the gateway."), type="float", unit="seconds",
                minimum=1),
        setting("SMS_MAX_ATTEMPTS", 5, _l("Tries for a message the gateway could not take (5xx, 429, timeout)."),
                type="int", minimum=1),
        setting("SMS_MAX_PARTS", 10, _l("Longer texts are refused."), type="int", minimum=1),
        setting("SMS_PART_PRICE", 0.05, _l("Price of one part, for the estimate shown while writing."), type="float",
                minimum=0),
        setting("SMS_CURRENCY", "SAR", _l("Currency of that estimate.")),
        setting("SMS_INTERNATIONAL", False, _l("Allow mobiles outside Saudi Arabia."), type="bool"),
    ]


@hookimpl
def register_blueprints(app):
    from .views import bp, webhooks

    return [bp, webhooks]


@hookimpl
def register_migrations():
    return [("sms", Path(__file__).parent / "migrations")]


@hookimpl(trylast=True)
def send_message(beneficiary, text, purpose, channel, context):
    """Any beneficiary with a mobile can get a text message. Answers when asked for this channel (the
    notices' routing) or for none, a gateway is configured and the text can go; the gateway's answer
    comes in a job."""
    from . import service

    if channel not in (None, "sms"):
        return None
    # An answer to a number that just wrote by SMS (``context["to"]``, e.g. the self-service menu): that number,
    # even when it matches no single file; only when SMS was asked for.
    to = (context or {}).get("to") if channel == "sms" else None
    if not service.configured() or not (to or (beneficiary is not None and beneficiary.mobile)):
        return None
    try:
        message = service.queue(beneficiary, text, purpose, to=to or None)
    except service.SmsRefused:
        return None
    message = type(message).get_by_id(message.id)
    if message.state == "failed":
        return None
    return {"channel": "sms", "id": f"sms:{message.id}", "state": message.state}


@hookimpl(tryfirst=True)  # before the workflow's renderer of notices: an SMS notice shows its delivery state
def render_timeline_entry(entry, request):
    if entry.channel != "sms":
        return None
    from . import service
    from .models import SmsMessage

    data = entry.data or {}
    message_id = service.message_id_of(data)
    message = SmsMessage.get_or_none(SmsMessage.id == message_id) if message_id is not None else None
    return render_fragment("sms/_entry.html", entry=entry, data=data, message=message)


@hookimpl
def timeline_entry_created(entry):
    """The entry that records a text (an officer's, or a notice written by ``notify`` after ``send_message``
    answered ``sms:<id>``) is linked to the message, which writes its delivery state there from now on."""
    if entry.channel != "sms" or entry.direction != "out":
        return
    from . import service

    service.link_entry(entry)


@hookimpl
def validate_entry_data(channel, data):
    if channel != "sms":
        return None
    if any(key in data for key in ("message", "delivery", "gateway_id", "kind")):
        return [_("Text messages are recorded by the SMS gateway; leave out “message”, “delivery”, "
                  "“gateway_id” and “kind”.")]
    return None


@hookimpl
def menu_links(user, request):
    if not user.has_role("officer", "admin"):
        return []
    return [{"href": url_for("sms.messages"), "label": _("Text messages"),
             "active": (request.endpoint or "").startswith("sms.")}]


@hookimpl
def beneficiary_actions(beneficiary, user):
    if not user.has_role(*SMS_ROLES) or beneficiary.erased_at:
        return None
    from . import service

    action = {"label": _("Send a text message"), "href": url_for("sms.compose", ben_id=beneficiary.id), "order": 30}
    if not service.configured():
        action["disabled"] = _("No SMS gateway is configured.")
    elif not beneficiary.mobile:
        action["disabled"] = _("The file has no mobile number.")
    elif not beneficiary.consent_contact:
        action["disabled"] = _("The beneficiary has not agreed to be contacted.")
    return [action]


@hookimpl
def beneficiary_data(beneficiary):
    from .models import SmsInbound, SmsMessage

    sent = [{"to": m.to, "text": m.text, "purpose": m.purpose, "state": m.state,
             "created_at": m.created_at.isoformat(), "delivered_at": m.delivered_at.isoformat() if m.delivered_at else None}
            for m in SmsMessage.select().where(SmsMessage.beneficiary == beneficiary).order_by(SmsMessage.id)]
    received = [{"from": m.sender, "text": m.text, "received_at": m.received_at.isoformat()}
                for m in SmsInbound.select().where(SmsInbound.beneficiary == beneficiary).order_by(SmsInbound.id)]
    return {"name": "sms", "data": {"sent": sent, "received": received}}


@hookimpl
def anonymise_beneficiary(beneficiary, retain_until, actor):
    """The texts and the number are personal data: blank them, keep the counts and states."""
    from .models import SmsInbound, SmsMessage

    count = SmsMessage.update(to="", text="").where(SmsMessage.beneficiary == beneficiary).execute()
    count += SmsInbound.update(sender="", text="").where(SmsInbound.beneficiary == beneficiary).execute()
    if not count:
        return None
    return {"name": "sms", "anonymised": count, "kept": [], "delete_files": []}
