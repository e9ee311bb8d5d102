"""In-person interviews at the association's offices (المقابلة الشخصية): the reception desk for walk-ins
(check-in, tickets, the waiting list, calling and handing over, the time given to each visitor),
appointments (slots, staff and public booking, reminders, cancellation and no-show) and the interview
record (on the timeline, with its follow-up task, a referral to a social researcher and a printable
summary for the beneficiary's signature)."""
from __future__ import annotations

from pathlib import Path

from portal import hookimpl
from portal.channels import declare_channel

from .privacy import anonymise_beneficiary, beneficiary_data  # noqa: F401  (hookimpls)

# The generic contact form still offers the channel for a short note of a visit; the full interview record
# has its own form (``beneficiary_actions``).
channel_info = declare_channel("interview", "المقابلة الشخصية", "In-person interview", "👤", order=10,
                               in_person=True)

DESK_ROLES = ("officer", "admin")  # the reception desk and staff bookings
INTERVIEW_ROLES = ("officer", "researcher", "admin")  # who records an interview
SLOT_ROLES = ("admin", "manager")  # who defines the slots


@hookimpl
def plugin_settings():
    from flask_babel import lazy_gettext as _l

    from portal.settings import setting

    return [
        setting("INTERVIEW_SATURDAY_OPEN", False, _l("The offices receive visitors and appointments on Saturdays "
                                                     "(Fridays are always closed)."), type="bool"),
        setting("INTERVIEW_BOOKING_DAYS", 30, _l("How many days ahead appointments can be booked; weekly slot "
                                                 "templates are turned into slots this far ahead."),
                type="int", unit="days", minimum=1),
        setting("INTERVIEW_POLL_SECONDS", 10, _l("How often the reception desk's waiting list refreshes itself."),
                type="int", unit="seconds", minimum=2),
        setting("INTERVIEW_PUBLIC_BOOKING", True, _l("Beneficiaries may book an appointment on the public site "
                                                     "(national ID and mobile, or as a new visitor)."), type="bool"),
        setting("INTERVIEW_PUBLIC_LIMIT", "10/minute", _l("How many bookings one address may send to the public "
                                                          "booking page (a rate, e.g. 10/minute).")),
    ]


@hookimpl
def register_blueprints(app):
    from . import api, public, views  # noqa: F401  (routes on the blueprints)

    return [views.bp, public.bp]


@hookimpl
def register_migrations():
    return [("interview", Path(__file__).parent / "migrations")]


@hookimpl
def render_timeline_entry(entry, request):
    if entry.channel != "interview" or not isinstance(entry.data, dict) or "purpose" not in entry.data:
        return None
    from portal.templating import render_fragment

    return render_fragment("interview/_entry.html", entry=entry, data=entry.data)


@hookimpl
def validate_entry_data(channel, data):
    """Interview records are written by the interview form: the API may log a plain contact only."""
    if channel != "interview" or not ({"purpose", "questions", "ticket"} & set(data)):
        return None
    from flask_babel import gettext as _

    return [_("Interview records are written by the interview form; leave out “purpose”, “questions” and “ticket”.")]


@hookimpl
def menu_links(user, request):
    from flask import url_for
    from flask_babel import gettext as _

    endpoint = request.endpoint or ""
    links = []
    if user.has_role(*DESK_ROLES):
        links.append({"href": url_for("interview.desk"), "label": _("Reception"),
                      "active": endpoint.startswith("interview.desk") or endpoint.startswith("interview.visit")})
    if user.has_role(*DESK_ROLES, *SLOT_ROLES):
        links.append({"href": url_for("interview.appointments"), "label": _("Appointments"),
                      "active": endpoint.startswith("interview.appointment") or endpoint.startswith("interview.slot")})
    return links


@hookimpl
def beneficiary_actions(beneficiary, user):
    from flask import url_for
    from flask_babel import gettext as _

    actions = []
    if user.has_role(*INTERVIEW_ROLES):
        actions.append({"label": _("Record an interview"), "order": 30,
                        "href": url_for("interview.new_interview", ben_id=beneficiary.id)})
    if user.has_role(*DESK_ROLES):
        actions.append({"label": _("Book an appointment"), "order": 31,
                        "href": url_for("interview.appointment_new", ben=beneficiary.id)})
    return actions


@hookimpl
def dashboard_widgets(user, request):
    from .views import dashboard_widgets as widgets

    return widgets(user)


# ``self_service_booking`` is specified by the self-service menu (plugins/help_requests); ``optionalhook``
# keeps this plugin loadable where that hookspec does not exist yet.
@hookimpl(optionalhook=True)
def self_service_booking(beneficiary, channel):
    """"Book a visit" in the WhatsApp/SMS self-service menu: the first free slot of the beneficiary's branch
    (or of any branch), unless they already have an appointment to come; None when there is no free slot."""
    from .service import book_for_self_service

    return book_for_self_service(beneficiary, channel)


@hookimpl
def register_commands(cli):
    from .cli import interview_group

    cli.add_command(interview_group)


@hookimpl
def openapi_paths():
    from .api import OPENAPI

    return OPENAPI


from . import jobs  # noqa: E402,F401  (the daily reminder job)


@hookimpl
def demo_data(seed):
    """``portal demo``: this plugin's demonstration data too (nothing more when it is already there)."""
    from .demo import build
    from .models import Appointment

    if Appointment.select().exists():
        return None
    return build(seed)
