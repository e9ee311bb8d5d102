"""Phone calls (الاتصالات الهاتفية): call log, caller screen-pop, incoming-call notice, the
Zammad-compatible CTI webhook and Asterisk/FreePBX CDR import."""
from __future__ import annotations

from pathlib import Path

from portal import hookimpl
from portal.channels import declare_channel

from .privacy import anonymise_beneficiary, beneficiary_data  # noqa: F401  (hookimpls: the data protection export and erasure)

# Offered by the core's generic contact form as well as the phone desk's own form: a call logged on the
# beneficiary's file is recorded as a call in the Calls log (see ``timeline_entry_created`` below), so the
# officer logs it where the work is.
channel_info = declare_channel("phone", "الاتصالات الهاتفية", "Phone calls", "☎", order=20)

PHONE_ROLES = ("officer", "admin")


@hookimpl
def register_blueprints(app):
    from portal import csrf

    from . import views

    csrf.exempt(views.cti)
    return views.bp


@hookimpl
def plugin_settings():
    from flask_babel import lazy_gettext as _l

    from portal.settings import setting

    return [
        setting("PHONE_CTI_TOKEN", "", _l("The secret in the CTI webhook's address (/api/v1/cti/<token>); "
                                          "without it every call event is refused."), secret=True),
        setting("PHONE_CDR_UTC_OFFSET", 3, _l("Hours between the PBX's call-record clock and UTC "
                                              "(3 for a PBX on Riyadh time)."), type="float", unit="hours"),
    ]


@hookimpl
def register_migrations():
    return [("phone", Path(__file__).parent / "migrations")]


@hookimpl
def render_timeline_entry(entry, request):
    if entry.channel != "phone" or not (entry.data or {}).get("source"):
        return None
    from portal.templating import render_fragment

    from .calls import CAUSE_LABELS, OUTCOMES

    return render_fragment("phone/_entry.html", entry=entry, data=entry.data, outcomes=OUTCOMES, causes=CAUSE_LABELS)


@hookimpl
def timeline_entry_created(entry):
    """A phone contact logged elsewhere (the profile's contact form, the API) is a call in the log."""
    if entry.channel != "phone":
        return None
    from .calls import record_logged_contact

    record_logged_contact(entry)


@hookimpl
def validate_entry_data(channel, data):
    """Call entries (``source``: cti or cdr) are written by the phone system, never through the API."""
    if channel != "phone" or "source" not in data:
        return None
    from flask_babel import gettext as _

    return [_("Call records come from the phone system; leave out “source”.")]


@hookimpl
def menu_links(user, request):
    if not user.has_role(*PHONE_ROLES):
        return []
    from flask import url_for
    from flask_babel import gettext as _

    endpoint = request.endpoint or ""
    return [{"href": url_for("phone.index"), "label": _("Calls"), "active": endpoint.startswith("phone.")}]


# Pages that list the ringing calls themselves: the notice would show each call twice there.
PAGES_WITH_OWN_LIST = ("phone.index", "phone.incoming")


@hookimpl
def page_notices(user, request):
    """The incoming-call notice with the caller's screen-pop, on every staff page (the dashboard too)."""
    if not user.has_role(*PHONE_ROLES) or request.endpoint in PAGES_WITH_OWN_LIST:
        return []
    from .views import call_notice

    return [call_notice(user)]


@hookimpl
def register_commands(cli):
    from .cli import phone_group

    cli.add_command(phone_group)


@hookimpl
def openapi_paths():
    error = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
    fields = {
        "event": {"type": "string", "enum": ["newCall", "answer", "hangup"]},
        "from": {"type": "string", "description": "caller number, or `anonymous`"},
        "to": {"type": "string"},
        "direction": {"type": "string", "enum": ["in", "out"]},
        "callId": {"type": "string", "maxLength": 120},
        "user": {"type": "array", "items": {"type": "string"},
                 "description": "users to notify (`user[]` in form data)"},
        "queue": {"type": "string"},
        "answeringNumber": {"type": "string", "description": "matched to a user's phone, then login"},
        "cause": {"type": "string", "enum": ["normalClearing", "busy", "cancel", "noAnswer", "congestion",
                                             "notFound", "forwarded"]},
    }
    schema = {"type": "object", "required": ["event", "callId"], "properties": fields}
    return {
        "/cti/{token}": {
            "post": {
                "summary": "Zammad-compatible generic CTI event (newCall, answer, hangup)",
                "security": [],
                "parameters": [{"name": "token", "in": "path", "required": True, "schema": {"type": "string"},
                                "description": "the secret PORTAL_PHONE_CTI_TOKEN"}],
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": schema},
                    "application/x-www-form-urlencoded": {"schema": schema}}},
                "responses": {
                    "200": {"description": "Stored; the body is `{}`",
                            "content": {"application/json": {"schema": {"type": "object"}}}},
                    "400": {"description": "Missing callId, unknown event or malformed body",
                            "content": {"application/json": {"schema": error}}},
                    "403": {"description": "Wrong token; nothing is stored",
                            "content": {"application/json": {"schema": error}}},
                },
            }
        }
    }
