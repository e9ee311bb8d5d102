"""The complaints register's hook implementations (a core plugin, registered like ``portal.workflow.hooks``):
its settings."""
from __future__ import annotations

from ..hookspecs import hookimpl


@hookimpl
def plugin_settings():
    from flask_babel import lazy_gettext as _l

    from ..settings import setting

    return [
        setting("COMPLAINT_RESPONSE_DAYS", {"complaint": 5, "suggestion": 10, "praise": 10, "inquiry": 3},
                _l("Working days (Friday and Saturday off) to answer each kind of feedback in the complaints "
                   "register: complaint, suggestion, praise, inquiry."), type="json"),
    ]


@hookimpl
def register_blueprints(app):
    from .. import csrf
    from . import api, views

    csrf.exempt(api.bp)  # bearer tokens, no cookies
    return [views.bp, api.bp]


@hookimpl
def openapi_paths():
    from .api import openapi_paths as paths

    return paths()


@hookimpl
def menu_links(user, request):
    from flask import url_for
    from flask_babel import gettext as _

    from .service import READ_ROLES

    if not user.has_role(*READ_ROLES):
        return []
    endpoint = request.endpoint or ""
    return [{"href": url_for("complaints.index"), "label": _("Complaints and suggestions"),
             "active": endpoint.startswith("complaints.")}]


@hookimpl
def dashboard_widgets(user, request):
    """Managers (and admins) see how many entries of the register are past their deadline without an answer
    (an index read: state, deadline)."""
    if not user.has_role("manager", "admin"):
        return []
    from flask import render_template
    from markupsafe import Markup

    from .service import overdue_count

    return [Markup(render_template("complaints/_overdue_widget.html", count=overdue_count()))]  # nosec B704 # render_template output, autoescaped


@hookimpl
def validate_entry_data(channel, data):
    """The register's entries on the timeline are written by the register itself."""
    if data.get("kind") not in ("complaint", "complaint_overdue"):
        return None
    from flask_babel import gettext as _

    return [_("Entries of this kind are written by the complaints register.")]


@hookimpl
def beneficiary_actions(beneficiary, user):
    """On a file: "New complaint" (recorded by staff, the file already linked) and the file's entries."""
    from flask import render_template, url_for
    from flask_babel import gettext as _
    from markupsafe import Markup

    from . import KIND_LABEL, STATE_LABEL
    from .models import Complaint
    from .service import HANDLER_ROLES, READ_ROLES

    out = []
    if user.has_role(*HANDLER_ROLES):
        out.append({"label": _("New complaint"), "href": url_for("complaints.new", ben_id=beneficiary.id),
                    "order": 60})
    if user.has_role(*READ_ROLES):
        rows = list(Complaint.select().where(Complaint.beneficiary == beneficiary.id)
                    .order_by(Complaint.id.desc()).limit(10))
        if rows:
            out.append({"panel": Markup(render_template(  # nosec B704 # render_template output, autoescaped
                "complaints/_file_panel.html", rows=rows, kind_label=KIND_LABEL, state_label=STATE_LABEL)),
                "order": 60})
    return out


@hookimpl
def case_actions(case, user):
    from flask import url_for
    from flask_babel import gettext as _

    from .service import HANDLER_ROLES

    if not user.has_role(*HANDLER_ROLES):
        return []
    return [{"label": _("New complaint"), "order": 90,
             "href": url_for("complaints.new", ben_id=case.beneficiary_id, reference=case.reference)}]


def _entries_of(beneficiary):
    from .models import Complaint

    return Complaint.select().where((Complaint.beneficiary == beneficiary.id)
                                    | (Complaint.contact_national_id == beneficiary.national_id))


@hookimpl
def beneficiary_data(beneficiary):
    """The register's entries about the person, for the data-protection export."""
    from playhouse.shortcuts import model_to_dict

    from .models import Complaint

    rows = list(_entries_of(beneficiary).order_by(Complaint.id))
    if not rows:
        return None
    return {"name": "complaints", "files": [],
            "data": [model_to_dict(c, recurse=False, exclude=[Complaint.source_id]) for c in rows]}


@hookimpl
def anonymise_beneficiary(beneficiary, retain_until, actor):
    """Entries keep their reference, kind, channel, dates, state, outcome and satisfaction (the register's
    counts); what the person said, who they are and the answer go."""
    from .models import Complaint

    ids = [c.id for c in _entries_of(beneficiary)]
    if not ids:
        return None
    count = (Complaint.update(text="", contact_name="", contact_mobile="", contact_national_id="", contact_email="",
                              contact_reference="", answer="", outcome_note="")
             .where(Complaint.id.in_(ids)).execute())
    return {"name": "complaints", "anonymised": count, "kept": [], "delete_files": []}


@hookimpl
def report_sections(start, end, branch, user):
    """The managers' reports: feedback received by kind, and complaints answered within their deadline."""
    from flask_babel import gettext as _
    from flask_babel import lazy_gettext as _l
    from peewee import SQL, fn

    from ..dates import saudi_days_bounds
    from ..reports import Figure, Section, Table, _sum_if, beneficiary_in_branch, chart_for
    from ..stats import saudi_day_sql
    from .models import Complaint
    from . import KIND_LABEL

    lo, hi = saudi_days_bounds(start, end)
    scope = beneficiary_in_branch(Complaint.beneficiary, branch)

    def scoped(query):
        return query if scope is None else query.where(scope)

    received = scoped(Complaint.select(Complaint.kind, fn.COUNT(Complaint.id))
                      .where((Complaint.created_at >= lo) & (Complaint.created_at < hi))
                      .group_by(Complaint.kind)).tuples()
    received = sorted(received, key=lambda r: (-r[1], r[0]))
    on_time = SQL(saudi_day_sql("answered_at")) <= Complaint.deadline
    answered, kept = scoped(Complaint.select(fn.COUNT(Complaint.id), _sum_if(on_time))
                            .where((Complaint.kind == "complaint") & (Complaint.answered_at >= lo)
                                   & (Complaint.answered_at < hi))).tuples().get()
    answered, kept = int(answered or 0), int(kept or 0)
    table = Table("complaints_by_kind", _l("Feedback received by kind"), [_("Kind"), _("Received")],
                  [(str(KIND_LABEL.get(k, k)), [n]) for k, n in received])
    table.chart = chart_for(table)
    deadline = Table("complaints_deadline", _l("Complaints answered, by deadline"),
                     [_("Complaints"), _("Within the deadline"), _("After the deadline")],
                     [(_("Answered in the period"), [kept, answered - kept])])
    deadline.chart = chart_for(deadline, css=["kept", "missed"]) if answered else None
    return [Section("complaints", _l("Complaints and suggestions"), [
        Figure("received", _l("Complaints received"), sum(n for k, n in received if k == "complaint")),
        Figure("answered", _l("Complaints answered"), answered),
        Figure("within_deadline", _l("Complaints answered within their deadline"), kept),
    ], [table, deadline])]
