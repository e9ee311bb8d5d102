"""The association's website (الموقع الإلكتروني): the public site under ``/site/`` where people
apply, upload, declare, track a request without an account, ask, complain and volunteer, plus the
officers' queue of website messages and the admins' page and FAQ editors under ``/website/``."""
from __future__ import annotations

from pathlib import Path

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup

from portal import hookimpl
from portal.channels import declare_channel

from .privacy import anonymise_beneficiary, beneficiary_data  # noqa: F401  (hookimpls: the data protection export and erasure)

# Not offered by the core's generic contact form: entries come from the public site itself.
channel_info = declare_channel("website", "الموقع الإلكتروني", "Website", "🌐", order=70, manual=False)


@hookimpl
def plugin_settings():
    from flask_babel import lazy_gettext as _l

    from portal.settings import setting

    return [
        setting("WEBSITE_TRACK_LIMIT", "10 per minute", _l("Tracking, resume and upload attempts per address "
                                                           "(a rate such as “10 per minute”).")),
        setting("WEBSITE_FORM_LIMIT", "30 per hour", _l("Form posts (apply steps, ask, volunteer) per address.")),
        setting("WEBSITE_MIN_FILL_SECONDS", 3, _l("A form sent faster than this after it was shown is refused "
                                                  "(kept, to send again)."), type="float", unit="seconds", minimum=0),
        setting("WEBSITE_DRAFT_DAYS", 30, _l("A draft not saved for this long can no longer be resumed; a daily job "
                                             "deletes it."), type="int", unit="days", minimum=1),
        setting("WEBSITE_TRACK_MAX_FAILURES", 5, _l("Failed tracking attempts per reference before the lockout."),
                type="int", minimum=1),
        setting("WEBSITE_TRACK_ADDRESS_MAX_FAILURES", 20, _l("Failed tracking attempts per address before the "
                                                             "lockout."), type="int", minimum=1),
        setting("WEBSITE_TRACK_LOCK_MINUTES", 30, _l("How long a lockout lasts, and the window in which failures "
                                                     "are counted."), type="int", unit="minutes", minimum=1),
        setting("WEBSITE_OTP_MINUTES", 10, _l("The one-time code's life."), type="int", unit="minutes", minimum=1),
        setting("WEBSITE_OTP_TRIES", 3, _l("Wrong codes allowed before the code is void."), type="int", minimum=1),
        setting("WEBSITE_OTP_RESEND_SECONDS", 60, _l("No second code to the same request within this time."),
                type="int", unit="seconds", minimum=0),
        setting("WEBSITE_PHONE", "", _l("Phone number shown on the home and contact pages.")),
        setting("WEBSITE_EMAIL", "", _l("Email address shown on the home and contact pages.")),
        setting("WEBSITE_ADDRESS", "", _l("Postal address shown on the home and contact pages.")),
        setting("WEBSITE_APPLY_LINK_HOURS", 48, _l("How long the one-time link to a pre-filled application, sent by "
                                                   "the self-service menu, can be opened."),
                type="int", unit="hours", minimum=1),
        setting("WEBSITE_PUBLIC_URL", "", _l("The public site's address (https://…), for links made outside a web "
                                             "request (background jobs); empty: only links made while answering a "
                                             "request.")),
    ]


@hookimpl
def register_blueprints(app):
    from . import apply, staff, tasks, views  # noqa: F401  (the routes and the periodic job register themselves)
    from . import contact_settings  # noqa: F401  (the admin's contact-details screen on the blueprint)
    from . import form_labels  # noqa: F401  (field names for the public forms' error summary)
    from . import self_service  # noqa: F401  (the one-time link to a pre-filled application)
    from .common import bp

    return bp


@hookimpl
def notice_context(case, purpose):
    """The request's tracking link (where the applicant follows it and sends missing documents) for the
    "received" and "documents missing" notices. Each link replaces the previous one (a new token)."""
    if purpose not in ("case_reference", "missing_documents"):
        return None
    if case is None:
        return {"tracking_link": "", "upload_link": ""}
    from flask import has_request_context, url_for

    if not has_request_context():
        return None
    from .tracking import issue_token

    link = url_for("website.track_token", token=issue_token(case), _external=True)
    return {"tracking_link": link, "upload_link": link}


@hookimpl
def register_migrations():
    return [("website", Path(__file__).parent / "migrations")]


@hookimpl
def menu_links(user, request):
    if not user.has_role("officer", "admin", "manager"):
        return []
    endpoint = request.endpoint or ""
    links = [{"href": url_for("website.inbox"), "label": _("Website messages"),
              "active": endpoint in ("website.inbox", "website.inquiry_detail", "website.volunteers")},
             {"href": url_for("website.applications"), "label": _("Website applications"),
              "active": endpoint in ("website.applications", "website.application_detail")}]
    if user.has_role("admin"):
        links.append({"href": url_for("website.pages"), "label": _("Website pages"),
                      "active": endpoint.startswith("website.") and not (links[0]["active"] or links[1]["active"])})
    return links


@hookimpl
def dashboard_widgets(user, request):
    if not user.has_role("officer", "admin", "manager"):
        return []
    from flask import render_template

    from portal.db import utcnow

    from .models import Inquiry, PendingApplication

    open_count = Inquiry.select().where(Inquiry.status == "open").count()
    overdue = Inquiry.select().where((Inquiry.status == "open") & (Inquiry.due_at < utcnow())).count()
    pending = PendingApplication.select().where(PendingApplication.status == "pending").count()
    return [Markup(render_template("website/staff/_widget.html", open_count=open_count, overdue=overdue,  # nosec B704 # render_template output, autoescaped
                                   pending=pending))]


@hookimpl
def validate_entry_data(channel, data):
    """Applications, inquiries and volunteer offers reach the timeline from the public forms only."""
    if channel not in ("website", "volunteering") or data.get("kind") not in ("website_application", "inquiry",
                                                                              "volunteer"):
        return None
    return [_("This kind of entry comes from the public website's forms only.")]


@hookimpl
def render_timeline_entry(entry, request):
    """Website entries show what the person typed (escaped): the application's household and the
    mobile they gave, the sender of a message and its queue number."""
    if entry.channel not in ("website", "volunteering") or not isinstance(entry.data, dict):
        return None
    kind = entry.data.get("kind")
    if kind not in ("website_application", "website_application_pending", "inquiry", "volunteer"):
        return None
    from portal import labels
    from portal.templating import render_fragment

    from .apply import HOUSING

    return render_fragment("website/staff/_entry.html", entry=entry, data=entry.data, labels=labels, housing=HOUSING)


@hookimpl
def complaint_updated(complaint, change):
    """An inquiry sent on the website is an entry of the core's complaints register: what is done to it there
    (linked, assigned, answered, closed) shows on the website's inbox and on the public tracking page."""
    from .inquiries import mirror

    mirror(complaint, change)


@hookimpl
def self_service_link(beneficiary, purpose, issue):
    """The self-service menu's "start a support request": a one-time link to the apply form, pre-filled with
    the beneficiary's file."""
    if purpose != "apply" or beneficiary is None:
        return None
    from . import self_service

    if not issue:
        return {"url": "", "expires_at": None} if self_service.available() and beneficiary.national_id else None
    return self_service.issue_link(beneficiary)
