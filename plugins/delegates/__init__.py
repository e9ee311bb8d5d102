"""Branch-office delegates and their field visits (مناديب المكاتب الفرعية).

The delegate's phone screens: today's route (visits planned by the delegate or an officer), the field-visit
form (household seen, needs observed, photos of documents, the place with the beneficiary's consent), contacts
on the ``delegates`` channel and requests opened on a beneficiary's behalf. The visit and contact forms keep
working without a connection (``static/offline.js`` and ``static/sw.js``: kept on the phone, sent once when the
network returns). Everything is scoped to the delegate's branch (``portal.scope``). Branch reports count
contacts, visits and requests per delegate and per week."""
from __future__ import annotations

from pathlib import Path

from portal import hookimpl
from portal.channels import declare_channel, entry_template

from .privacy import anonymise_beneficiary, beneficiary_data  # noqa: F401  (hookimpls)

channel_info = declare_channel("delegates", "مناديب المكاتب الفرعية", "Branch delegates", "🏢", order=80)
# Visits draw what was seen; contacts (and the generic contact form's entries) get the core's plain summary.
render_timeline_entry = entry_template("delegates", "delegates/_entry.html",
                                       when=lambda e: isinstance(e.data, dict) and e.data.get("kind") == "visit")

FIELD_ROLES = ("delegate",)  # the phone screens: visits, contacts, requests in the field
PLAN_ROLES = ("delegate", "officer", "admin")  # who puts a visit on a delegate's route
REPORT_ROLES = ("manager", "admin", "delegate")  # the branch reports (a delegate: their own branch)


@hookimpl
def plugin_settings():
    from flask_babel import lazy_gettext as _l

    from portal.settings import setting

    return [
        setting("DELEGATES_PHOTO_MB", 5, _l("Largest photo of a document a delegate may attach to a visit."),
                type="int", unit="MB", minimum=1),
        setting("DELEGATES_PHOTOS_MAX", 6, _l("Most photos attached to one field visit."), type="int", minimum=1),
    ]


@hookimpl
def register_blueprints(app):
    from . import api, views  # noqa: F401  (routes on the blueprint)

    return [views.bp]


@hookimpl
def register_migrations():
    return [("delegates", Path(__file__).parent / "migrations")]


@hookimpl
def menu_links(user, request):
    from flask import url_for
    from flask_babel import gettext as _

    endpoint = request.endpoint or ""
    links = []
    if user.has_role(*FIELD_ROLES):
        links.append({"href": url_for("delegates.today"), "label": _("My visits"),
                      "active": endpoint in ("delegates.today", "delegates.visit_form", "delegates.visit_create",
                                             "delegates.contact_form", "delegates.contact_create")})
    if user.has_role(*PLAN_ROLES) and not user.has_role(*FIELD_ROLES):
        links.append({"href": url_for("delegates.plan_form"), "label": _("Field visits"),
                      "active": endpoint.startswith("delegates.plan")})
    if user.has_role(*REPORT_ROLES):
        links.append({"href": url_for("delegates.reports"), "label": _("Delegates' report"),
                      "active": endpoint == "delegates.reports"})
    return links


@hookimpl
def beneficiary_actions(beneficiary, user):
    from flask import url_for
    from flask_babel import gettext as _

    actions = []
    if user.has_role(*FIELD_ROLES):
        actions += [
            {"label": _("Record a field visit"), "order": 20,
             "href": url_for("delegates.visit_form", ben_id=beneficiary.id)},
            {"label": _("Log a field contact"), "order": 21,
             "href": url_for("delegates.contact_form", ben_id=beneficiary.id)},
            {"label": _("Open a request in the field"), "order": 22,
             "href": url_for("delegates.request_form", ben_id=beneficiary.id)},
        ]
    if user.has_role(*PLAN_ROLES):
        actions.append({"label": _("Plan a field visit"), "order": 23,
                        "href": url_for("delegates.plan_form", file=beneficiary.file_number)})
    return actions


@hookimpl
def openapi_paths():
    from .api import OPENAPI

    return OPENAPI


@hookimpl
def dashboard_widgets(user, request):
    """A delegate's day at a glance: the stops of today's route not visited yet."""
    if not user.has_role(*FIELD_ROLES):
        return []
    from flask import render_template
    from markupsafe import Markup

    from . import service as svc

    return [Markup(render_template("delegates/_today_widget.html", left=svc.plans_left_open(user)))]  # nosec B704 # autoescaped template


@hookimpl
def validate_entry_data(channel, data):
    """Field visits are written by the visit form and ``POST /api/v1/delegates/visits`` (once per client_id):
    the timeline API may log a plain contact on the channel only."""
    if channel != "delegates" or data.get("kind") != "visit":
        return None
    from flask_babel import gettext as _

    return [_("Field visits are recorded with POST /api/v1/delegates/visits; leave out “kind”.")]


@hookimpl
def demo_data(seed):
    """``portal demo``: this plugin's demonstration data too (nothing more when it is already there)."""
    from .demo import build
    from .models import Plan

    if Plan.select().exists():
        return None
    return build(seed)
