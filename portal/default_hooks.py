"""The core's own hook implementations: the fallback timeline renderer and the core menu."""
from __future__ import annotations

from flask import render_template, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from .hookspecs import hookimpl
from .templating import render_fragment


@hookimpl(trylast=True)
def render_timeline_entry(entry, request):
    return render_fragment("timeline/_entry_body.html", entry=entry)


@hookimpl(tryfirst=True)
def menu_links(user, request):
    endpoint = request.endpoint or ""
    links = [
        {"href": url_for("dashboard.index"), "label": _("Dashboard"), "active": endpoint == "dashboard.index"},
        {
            "href": url_for("beneficiaries.index"),
            "label": _("Beneficiaries"),
            "active": endpoint.startswith("beneficiaries.") or endpoint.startswith("timeline."),
        },
    ]
    if user.has_role("admin"):
        links.append({"href": url_for("admin.users"), "label": _("Administration"),
                      "active": endpoint.startswith("admin.")})
    if user.can("outbox.read"):
        links.append({"href": url_for("outbox.index"), "label": _("Outbox"),
                      "active": endpoint.startswith("outbox.")})
    if user.has_role("manager", "admin"):
        links.append({"href": url_for("reports.index"), "label": _("Reports"),
                      "active": endpoint.startswith("reports.")})
    if user.can("audit.read"):
        links.append({"href": url_for("audit.index"), "label": _("Audit log"),
                      "active": endpoint.startswith("audit.")})
    return links


@hookimpl
def page_notices(user, request):
    """A banner for staff when background work is not being processed (tasks wait, no heartbeat)."""
    if request.endpoint == "admin.health":
        return None  # that page says it in full
    from .health import health

    state = health()
    if not state.stalled:
        return None
    return [Markup(render_template("_jobs_stalled_notice.html", health=state, user=user))]  # nosec B704 # render_template output, autoescaped
