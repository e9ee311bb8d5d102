"""Volunteering service (خدمة التطوع): the volunteer registry (website sign-ups and staff entry; skills,
availability, branch, vetting; the link to a beneficiary's file), opportunities with the volunteers suggested
for them, assignments (a message through ``send_message``, the volunteer's confirmation page, reminders the
day before, attendance), hours logged once per assignment and approved by staff, numbered certificates
(``volunteer_document``: a letter of the letters plugin, or the service's own printable page), and the
beneficiaries a volunteer served, on their timeline on this channel."""
from __future__ import annotations

from pathlib import Path

from portal import hookimpl
from portal.channels import declare_channel

from .privacy import anonymise_beneficiary, beneficiary_data  # noqa: F401  (hookimpls)

channel_info = declare_channel("volunteering", "خدمة التطوع", "Volunteering", "🙋", order=60)

MANAGE_ROLES = ("officer", "admin")  # the registry, opportunities, assignments, hours, certificates
READ_ROLES = ("officer", "admin", "manager")


@hookimpl
def plugin_settings():
    from flask_babel import lazy_gettext as _l

    from portal.settings import setting

    return [
        setting("VOLUNTEERING_PUBLIC_URL", "", _l("The public address (https://…) of the volunteers' confirmation "
                                                  "pages, for the links in reminders sent by the daily job.")),
        setting("VOLUNTEERING_PUBLIC_LIMIT", "20/minute", _l("How many answers one address may send to the "
                                                             "volunteers' confirmation pages (a rate, e.g. 20/minute).")),
    ]


@hookimpl
def register_blueprints(app):
    from . import api, public, views  # noqa: F401  (routes on the blueprints)

    return [views.bp, public.bp]


@hookimpl
def register_migrations():
    return [("volunteering", Path(__file__).parent / "migrations")]


@hookimpl
def render_timeline_entry(entry, request):
    if entry.channel != "volunteering" or not isinstance(entry.data, dict) \
            or entry.data.get("kind") != "volunteer_service":
        return None
    from portal.templating import render_fragment

    return render_fragment("volunteering/_entry.html", entry=entry, data=entry.data)


@hookimpl
def validate_entry_data(channel, data):
    """A service by a volunteer is written from the opportunity's page, where the assignment is known."""
    if channel != "volunteering" or data.get("kind") != "volunteer_service":
        return None
    from flask_babel import gettext as _

    return [_("Services by volunteers are recorded on the opportunity's page.")]


@hookimpl
def menu_links(user, request):
    from flask import url_for
    from flask_babel import gettext as _

    if not user.has_role(*READ_ROLES):
        return []
    endpoint = request.endpoint or ""
    return [{"href": url_for("volunteering.opportunities"), "label": _("Volunteering"),
             "active": endpoint.startswith("volunteering.")}]


@hookimpl
def dashboard_widgets(user, request):
    """Officers and admins: the coming week's opportunities with their places taken, and the hours waiting."""
    if not user.has_role(*MANAGE_ROLES):
        return []
    import datetime as dt

    from flask import render_template
    from markupsafe import Markup

    from . import service as svc
    from .models import HoursLog, Opportunity

    now = svc.utcnow()
    rows = list(Opportunity.select().where((Opportunity.ends_at >= now) & Opportunity.cancelled_at.is_null()
                                           & (Opportunity.starts_at < now + dt.timedelta(days=7)))
                .order_by(Opportunity.starts_at).limit(10))
    pending = HoursLog.select(HoursLog.id).where(HoursLog.state == "pending").limit(100).count()
    if not rows and not pending:
        return []
    return [Markup(render_template("volunteering/_widget.html", rows=rows, pending=pending,  # nosec B704 # autoescaped
                                   taken=svc.taken_counts([r.id for r in rows])))]


@hookimpl
def beneficiary_actions(beneficiary, user):
    """A beneficiary who is also a volunteer (the link a staff member confirmed): their volunteer record."""
    if not user.has_role(*READ_ROLES):
        return []
    from flask import url_for
    from flask_babel import gettext as _

    from .models import Volunteer

    row = Volunteer.select(Volunteer.id).where(Volunteer.beneficiary == beneficiary.id).first()
    if row is None:
        return []
    return [{"label": _("Volunteer record"), "order": 70, "href": url_for("volunteering.volunteer", vol_id=row.id)}]


@hookimpl
def report_sections(start, end, branch, user):
    from . import reports

    return reports.report_sections(start, end, branch)


@hookimpl
def volunteer_signed_up(data):
    from .service import from_signup

    from_signup(data)


@hookimpl
def register_commands(cli):
    from .cli import volunteering_group

    cli.add_command(volunteering_group)


@hookimpl
def openapi_paths():
    from .api import OPENAPI

    return OPENAPI


from . import jobs  # noqa: E402,F401  (the daily reminder job)


@hookimpl
def demo_data(seed):
    """``portal demo``: this plugin's demonstration data too (nothing more when it is already there)."""
    from .demo import build
    from .models import Volunteer

    if Volunteer.select().exists():
        return None
    return build(seed)
