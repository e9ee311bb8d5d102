"""Help-request services (خدمات طلب المساعدة): the self-service menu on the association's WhatsApp and SMS numbers.

A beneficiary writes; the channel plugin stores the message and offers it through ``inbound_message``; this
plugin answers with an Arabic menu (the status of their requests, a visit at the office, a question, a call-back,
a new support request, a rating) on the same channel, keeps the conversation in its tables with a timeout and
writes every exchange on the timeline on the ``help_requests`` channel. Officers see the conversations at
``/help-requests/sessions``. Settings are ``PORTAL_HELP_REQUESTS_*`` (see ``docs/help_requests.md``)."""
from pathlib import Path

from flask import url_for
from flask_babel import gettext as _

from portal import hookimpl
from portal.channels import declare_channel
from portal.templating import render_fragment

# Entries come from the menu itself, never from the generic contact form.
channel_info = declare_channel("help_requests", "خدمات طلب المساعدة", "Help requests", "🤝", order=50, manual=False)
ROLES = ("officer", "admin")
# Keys of an entry's data the menu writes and the renderer reads: the JSON API cannot set them.
ENTRY_KEYS = ("kind", "session", "choice", "via", "reply", "sent", "queued", "delivery", "task", "complaint")


@hookimpl
def plugin_settings():
    from flask_babel import lazy_gettext as _l

    from portal.settings import setting

    return [
        setting("HELP_REQUESTS_CHANNELS", ["social", "sms"], _l("The channels whose incoming messages the "
                                                                "self-service menu answers (WhatsApp through the "
                                                                "social plugin, SMS)."),
                type="list", choices=("social", "sms")),
        setting("HELP_REQUESTS_SESSION_MINUTES", 30, _l("A conversation without a message for this long ends; the "
                                                        "next message starts from the menu."),
                type="int", unit="minutes", minimum=1),
        setting("HELP_REQUESTS_CASES_SHOWN", 3, _l("How many of the latest requests the status answer lists."),
                type="int", minimum=1),
        setting("HELP_REQUESTS_INFO_AR", "", _l("General information about the association sent in Arabic (empty: "
                                                "a sentence with the association's name).")),
        setting("HELP_REQUESTS_INFO_EN", "", _l("The same general information in English.")),
    ]


@hookimpl
def register_blueprints(app):
    from .views import bp

    return bp


@hookimpl
def register_migrations():
    return [("help_requests", Path(__file__).parent / "migrations")]


@hookimpl
def inbound_message(message):
    from .service import handle

    return handle(message)


@hookimpl
def menu_links(user, request):
    if not user.has_role(*ROLES):
        return []
    return [{"href": url_for("help_requests.sessions"), "label": _("Self-service"),
             "active": (request.endpoint or "").startswith("help_requests.")}]


@hookimpl
def render_timeline_entry(entry, request):
    if entry.channel != "help_requests":
        return None
    from portal.plugins import channel_map

    data = entry.data or {}
    if data.get("kind") != "self_service":
        return None  # an entry logged through the API: the core's renderer draws it
    via = channel_map().get(data.get("via") or "")
    return render_fragment("help_requests/_entry.html", entry=entry, data=data, via=via)


@hookimpl
def validate_entry_data(channel, data):
    if channel != "help_requests":
        return None
    reserved = [key for key in ENTRY_KEYS if key in data]
    if reserved:
        return [_("These keys are written by the self-service menu and cannot be sent: %(keys)s.",
                  keys=", ".join(reserved))]
    return None


@hookimpl
def beneficiary_data(beneficiary):
    from .models import SelfServiceExchange, SelfServiceSession

    sessions = list(SelfServiceSession.select().where(SelfServiceSession.beneficiary == beneficiary)
                    .order_by(SelfServiceSession.id))
    if not sessions:
        return None
    exchanges = {}
    for row in (SelfServiceExchange.select().where(SelfServiceExchange.session.in_([s.id for s in sessions]))
                .order_by(SelfServiceExchange.id)):
        exchanges.setdefault(row.session_id, []).append(
            {"received": row.received, "choice": row.choice, "reply": row.reply, "sent": row.sent,
             "at": row.created_at.isoformat()})
    return {"name": "help_requests", "data": [
        {"channel": s.channel, "number": s.sender, "state": s.state, "started_at": s.started_at.isoformat(),
         "exchanges": exchanges.get(s.id, [])} for s in sessions]}


@hookimpl
def anonymise_beneficiary(beneficiary, retain_until, actor):
    """The number and the texts are personal data: blank them, keep the choices and dates."""
    from .models import SelfServiceExchange, SelfServiceSession

    ids = SelfServiceSession.select(SelfServiceSession.id).where(SelfServiceSession.beneficiary == beneficiary)
    count = SelfServiceExchange.update(received="", reply="").where(SelfServiceExchange.session.in_(ids)).execute()
    count += SelfServiceSession.update(sender="").where(SelfServiceSession.beneficiary == beneficiary).execute()
    if not count:
        return None
    return {"name": "help_requests", "anonymised": count, "kept": [], "delete_files": []}
