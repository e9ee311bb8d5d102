"""Social media: WhatsApp, Messenger, Instagram and other platforms (وسائل التواصل الاجتماعي).

Meta's webhooks land at ``/webhooks/meta``; messages from unknown senders wait in the unmatched
inbox; officers answer from the portal; ``send_message`` delivers notifications over WhatsApp (or
email over SMTP for beneficiaries who prefer it). Settings are ``PORTAL_SOCIAL_*``."""
from pathlib import Path

from flask import render_template, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from portal import hookimpl
from portal.channels import declare_channel
from portal.templating import render_fragment

from .privacy import anonymise_beneficiary, beneficiary_data  # noqa: F401  (hookimpls: the data protection export and erasure)

# Not offered by the core's generic contact form: messages come from the platforms, and contacts on other
# platforms are logged on the inbox's own form.
# route 10: WhatsApp is the notices' first channel after the beneficiary's preferred one (portal.workflow.notices).
channel_info = declare_channel("social", "وسائل التواصل الاجتماعي", "Social media", "💬", order=30, manual=False,
                               route=10)

# Approved WhatsApp templates by purpose: name, language and the context keys of {{1}}, {{2}}...
TEMPLATES = {
    "case_reference": {"name": "sila_case_reference", "language": "ar", "params": ["reference"]},
    "missing_documents": {"name": "sila_missing_documents", "language": "ar", "params": ["reference", "documents"]},
    "decision": {"name": "sila_decision", "language": "ar", "params": ["reference", "decision"]},
    "one_time_code": {"name": "sila_one_time_code", "language": "ar", "params": ["code"], "otp_button": True},
    "follow_up": {"name": "sila_follow_up", "language": "ar", "params": ["name"]},
    "notification": {"name": "sila_notification", "language": "ar", "params": ["text"]},
}

# WhatsApp's own limits: audio and video 16 MB, an animated sticker 500 KB, an image 5 MB.
MEDIA_LIMITS_MB = {"audio": 16, "video": 16, "sticker": 0.5, "image": 5}


@hookimpl
def plugin_settings():
    from flask_babel import lazy_gettext as _l

    from portal.settings import setting

    return [
        setting("SOCIAL_APP_SECRET", "", _l("Meta app secret: each webhook's X-Hub-Signature-256 is checked with it; "
                                            "without it every webhook is refused."), secret=True),
        setting("SOCIAL_VERIFY_TOKEN", "", _l("The token typed in Meta's webhook settings for the handshake; without "
                                              "it the handshake is refused."), secret=True),
        setting("SOCIAL_GRAPH_URL", "https://graph.facebook.com/v21.0", _l("Graph API base address.")),
        setting("SOCIAL_ACCESS_TOKEN", "", _l("System-user or page access token for sending and for media "
                                              "downloads."), secret=True),
        setting("SOCIAL_PHONE_NUMBER_ID", "", _l("The WhatsApp business phone number id messages are sent from.")),
        setting("SOCIAL_HTTP_TIMEOUT", 10, _l("Seconds per Graph API or SMTP call."), type="float", unit="seconds",
                minimum=0),
        setting("SOCIAL_HTTP_ATTEMPTS", 3, _l("Tries per call on server errors, 429 and network errors."),
                type="int", minimum=1),
        setting("SOCIAL_HTTP_BACKOFF", 1.0, _l("First wait between tries, doubled each time."), type="float",
                unit="seconds", minimum=0),
        setting("SOCIAL_MAX_ATTEMPTS", 6, _l("How many times a failed webhook delivery is processed (after 1, 2, 4, "
                                             "8… minutes)."), type="int", minimum=1),
        setting("SOCIAL_SMTP_HOST", "", _l("SMTP server for email notifications; empty: no email.")),
        setting("SOCIAL_SMTP_PORT", 587, _l("SMTP port."), type="int", minimum=1),
        setting("SOCIAL_SMTP_SECURITY", "starttls", _l("SMTP connection security."), type="choice",
                choices=("starttls", "ssl", "none")),
        setting("SOCIAL_SMTP_USER", "", _l("SMTP user name.")),
        setting("SOCIAL_SMTP_PASSWORD", "", _l("SMTP password."), secret=True),
        setting("SOCIAL_SMTP_FROM", "no-reply@localhost", _l("Sender address of email notifications.")),
        setting("SOCIAL_MEDIA_LIMITS_MB", MEDIA_LIMITS_MB, _l("Largest file kept per kind of message (MB): voice "
                                                              "notes and audio, videos, stickers, images; documents "
                                                              "follow PORTAL_MAX_UPLOAD_MB."), type="json"),
        setting("SOCIAL_TEMPLATES", TEMPLATES, _l("Approved WhatsApp templates by purpose: name, language and the "
                                                  "context keys of their parameters."), type="json"),
    ]


@hookimpl
def register_blueprints(app):
    from .views import bp

    return bp


@hookimpl
def register_migrations():
    return [("social", Path(__file__).parent / "migrations")]


@hookimpl
def render_timeline_entry(entry, request):
    if entry.channel != "social":
        return None
    return render_fragment("social/_entry.html", entry=entry, data=entry.data or {})


@hookimpl
def timeline_entry_created(entry):
    """A notice the core wrote after ``send_message`` answered with one of our messages: the message's delivery
    state is shown on it from now on."""
    if entry.channel != "social" or entry.direction != "out":
        return
    from .processing import link_notice

    link_notice(entry)


# Keys of a social entry's data that the platforms' webhooks write and the renderer reads as structures
# (sender, media, delivery state, location...): a contact logged through the API cannot set them. What it
# may say about itself is ``platform``, ``url`` and ``kind: "manual"``; other keys are kept, never drawn.
WEBHOOK_KEYS = ("sender", "sender_name", "media", "location", "state", "template", "unsupported", "error",
                "delivery_state", "delivery_error")
API_PLATFORMS = ("whatsapp", "messenger", "instagram", "email", "x", "snapchat", "tiktok", "facebook", "youtube",
                 "telegram", "other")


@hookimpl
def validate_entry_data(channel, data):
    if channel != "social":
        return None
    errors = []
    reserved = [key for key in WEBHOOK_KEYS if key in data]
    if reserved:
        errors.append(_("These keys are written by the platforms' webhooks and cannot be sent: %(keys)s.",
                        keys=", ".join(reserved)))
    if data.get("kind") not in (None, "manual"):
        errors.append(_("“kind” can only be “manual”."))
    if data.get("platform") is not None and data.get("platform") not in API_PLATFORMS:
        errors.append(_("Unknown platform."))
    from .views import _post_url_ok

    url = data.get("url")
    if url is not None and (not isinstance(url, str) or len(url) > 500 or not _post_url_ok(url)):
        errors.append(_("“url” must be a web address (https://…) of at most 500 characters."))
    return errors


@hookimpl
def menu_links(user, request):
    endpoint = request.endpoint or ""
    links = []
    if user.has_role("officer", "admin"):
        links.append({"href": url_for("social.inbox"), "label": _("Social inbox"),
                      "active": endpoint in ("social.inbox", "social.sender")})
    if user.has_role("admin"):
        links.append({"href": url_for("social.deliveries"), "label": _("Webhook deliveries"),
                      "active": endpoint == "social.deliveries"})
    return links


@hookimpl
def send_message(beneficiary, text, purpose, channel, context):
    from .outbound import notify

    return notify(beneficiary, text, purpose, channel, context)


@hookimpl
def dashboard_widgets(user, request):
    """Officers see how many senders wait in the unmatched inbox; admins also see failed deliveries."""
    if not user.has_role("officer", "admin"):
        return []
    from .models import Message, Sender, WebhookDelivery

    waiting = (Sender.select().join(Message, on=(Message.sender == Sender.id))
               .where(Sender.beneficiary.is_null() & (Message.direction == "in")
                      & (Message.state != "automated")).distinct().count())
    failed = WebhookDelivery.select().where(WebhookDelivery.state == "failed").count() if user.has_role("admin") else 0
    return [Markup(render_template("social/_widget.html", waiting=waiting, failed=failed))]  # nosec B704 # render_template output, autoescaped
