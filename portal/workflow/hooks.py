"""The workflow's built-in hook implementations (a core plugin, registered like
``portal.default_hooks``): the daily job that fills the outreach queue, the
``portal outreach`` / ``portal committee`` commands, menu entries and the managers' escalation panel."""
from __future__ import annotations

import datetime as dt

import click
from flask import render_template, url_for
from flask.cli import with_appcontext
from flask_babel import gettext as _
from huey import crontab
from markupsafe import Markup

from ..health import DAILY, record, run_daily_once, set_daily
from ..hookspecs import hookimpl
from ..jobs import periodic_task


def run_daily(now=None) -> dict:
    """Everything the workflow does once a day: outreach selection and committee escalation."""
    from .committee import escalate_overdue
    from .outreach import run_outreach

    counts = run_outreach(now)
    counts["escalated"] = escalate_overdue(now)
    from ..satisfaction.hooks import run_reminders

    counts["survey_reminders"] = run_reminders(now)
    from ..complaints.service import escalate_overdue as escalate_complaints

    counts["complaints_escalated"] = escalate_complaints(now)
    return counts


@periodic_task(crontab(minute="15", hour="3"))
def daily_workflow():
    """Every night at 03:15 UTC (06:15 in Riyadh), before the offices open, unless it already ran for the
    day (a worker started earlier that day ran it at start: ``portal.health.daily_catch_up``)."""
    return run_daily_once(run_daily)


set_daily(run_daily)


@hookimpl
def case_status_changed(case, old, new, actor):
    """The beneficiary's notice of every step (``portal.workflow.notices``): one per status change."""
    from .notices import on_status_changed

    on_status_changed(case, old, new, actor)


@periodic_task(crontab(minute="*"))
def send_held_notices():
    """Every minute: the notices held by the quiet hours or the daily cap whose time has come."""
    from .notices import send_due

    return send_due()


@hookimpl
def register_commands(cli):
    @cli.group("outreach")
    def outreach_group():
        """Proactive outreach tasks."""

    @outreach_group.command("run")
    @click.option("--date", "on", default=None, help="Run as of this day (YYYY-MM-DD), for catching up.")
    @with_appcontext
    def outreach_run(on):
        """Create today's outreach tasks and escalate overdue committee requests (for cron)."""
        from ..db import database

        now = None
        if on:
            try:
                now = dt.datetime.combine(dt.date.fromisoformat(on), dt.time(3, 15))
            except ValueError:
                raise click.BadParameter("use YYYY-MM-DD", param_hint="--date") from None
        with database.connection_context():
            if now is None:
                from ..dates import saudi_date
                from ..db import utcnow

                started = utcnow()
                counts = run_daily(started)
                record(DAILY, day=saudi_date(started), data=counts)
            else:
                counts = run_daily(now)
        for key, value in counts.items():
            click.echo(f"{key}: {value}")

    @cli.group("committee")
    def committee_group():
        """Research committee."""

    @committee_group.command("escalate")
    @with_appcontext
    def committee_escalate():
        """Escalate requests waiting longer than the committee's deadline."""
        from ..db import database
        from .committee import escalate_overdue

        with database.connection_context():
            click.echo(f"escalated: {escalate_overdue()}")

    @cli.group("workflow")
    def workflow_group():
        """Support-request workflow set-up."""

    @workflow_group.command("defaults")
    @with_appcontext
    def workflow_defaults():
        """Create the default request types (financial aid, food basket, rent, ...) when missing."""
        from ..db import database
        from .defaults import ensure_default_request_types

        with database.connection_context():
            click.echo(f"created {ensure_default_request_types()} request type(s)")


@hookimpl
def menu_links(user, request):
    endpoint = request.endpoint or ""
    links = [{"href": url_for("cases.index"), "label": _("Requests"), "active": endpoint.startswith("cases.")}]
    if user.has_role("researcher"):
        links.append({"href": url_for("cases.research_queue"), "label": _("My research"),
                      "active": endpoint == "cases.research_queue"})
    if user.has_role("committee", "manager", "admin"):
        links.append({"href": url_for("committee.sessions"), "label": _("Committee"),
                      "active": endpoint.startswith("committee.")})
    if user.has_role("officer", "delegate", "manager", "admin"):
        links.append({"href": url_for("outreach.queue"), "label": _("Outreach"),
                      "active": endpoint.startswith("outreach.")})
    links.append({"href": url_for("library.index"), "label": _("Library"), "active": endpoint.startswith("library.")})
    if user.has_role("admin"):
        links.append({"href": url_for("request_types.index"), "label": _("Request types"),
                      "active": endpoint.startswith("request_types.")})
    return links


@hookimpl
def register_blueprints(app):
    from .. import csrf
    from . import api, views_admin, views_cases, views_committee, views_library, views_outreach

    csrf.exempt(api.bp)  # bearer tokens, no cookies
    return [views_cases.bp, views_committee.bp, views_outreach.bp, views_library.bp, views_admin.bp, api.bp]


@hookimpl
def openapi_paths():
    from .api import openapi_paths as paths

    return paths()


@hookimpl
def dashboard_widgets(user, request):
    """Managers (and admins) see the requests overdue at the committee; officers see them too, as
    they answer the beneficiaries who ask."""
    if not user.has_role("manager", "admin", "officer", "committee"):
        return []
    from .committee import overdue_query

    rows = list(overdue_query().limit(20))
    total = overdue_query().count() if len(rows) == 20 else len(rows)
    return [Markup(render_template("cases/_overdue_widget.html", rows=rows, total=total))]  # nosec B704 # render_template output, autoescaped


RENDERED_KINDS = ("case_status", "case_opened", "declaration", "research_report", "notification", "delivery",
                  "committee_overdue")


@hookimpl
def validate_entry_data(channel, data):
    """Request events (status changes, declarations, reports...) are written by the workflow itself."""
    if data.get("kind") not in RENDERED_KINDS:
        return None
    return [_("Entries of this kind are written by the request workflow itself.")]


@hookimpl
def render_timeline_entry(entry, request):
    """The workflow's own entries are drawn from their data in the reader's language (their stored
    summary is Arabic, for search and exports)."""
    data = entry.data or {}
    if data.get("kind") not in RENDERED_KINDS:
        return None
    from flask import g

    from .models import RequestType

    if "workflow_type_names" not in g:
        g.workflow_type_names = {t.code: t for t in RequestType.select()}
    return Markup(render_template("cases/_workflow_entry.html", entry=entry, data=data,  # nosec B704 # render_template output: the template autoescapes the request data
                                  types=g.workflow_type_names))


@hookimpl
def plugin_settings():
    """The workflow's settings (the committee's deadline and rules, the outreach selection)."""
    from flask_babel import lazy_gettext as _l

    from ..settings import setting

    return [
        setting("COMMITTEE_DAYS", 14, _l("Calendar days the committee has to decide after a request reaches it."),
                type="int", unit="days", minimum=1),
        setting("COMMITTEE_MIN_MEMBERS", 3, _l("The fewest members a committee session may have, the chair included."),
                type="int", minimum=1),
        setting("COMMITTEE_CHAIR_AMOUNT", 5000,
                _l("An approval above this amount (SAR) needs the chair's approve vote and one more member's."),
                type="float", minimum=0),
        setting("OUTREACH_UNSERVED_DAYS", 14,
                _l("Days after approval before an approved request not yet served gets an outreach task."),
                type="int", unit="days", minimum=1),
        setting("NOTICES_DAILY_CAP", 3, _l("The most messages a beneficiary gets in one day (urgent ones not "
                                           "counted); more wait until the next day. 0: no limit."),
                type="int", minimum=0),
    ]
