"""The officer's dashboard: today's contacts, open requests, follow-ups due, plugin widgets."""
from __future__ import annotations


from flask import Blueprint, redirect, request, url_for
from flask_login import current_user
from peewee import JOIN, fn, prefetch

from . import scope
from .auth import STAFF_ROLES, roles_required
from .dates import saudi_day_bounds, saudi_today
from .db import utcnow
from .models import Attachment, Beneficiary, Case, TimelineEntry
from .plugins import hook
from .templating import render
from .timeline import entries_query, render_entry
from .workflow.machine import IN_PROGRESS_STATUSES

bp = Blueprint("dashboard", __name__)



def _only_branch() -> int | None:
    """The branch a delegate is limited to, or None for staff who see every branch."""
    if current_user.branch_limited:
        return current_user.branch_id or -1
    return None


def _scope_entries(query, branch):
    """Limit a timeline query to one branch, or for a researcher to the files and requests assigned to
    them (``portal.scope``). The CROSS JOIN keeps the timeline as SQLite's outer loop, so the time and
    follow-up indexes are used rather than walking every entry of the branch's files."""
    if branch is None:
        return scope.scope_entries(query, current_user)
    return query.join(Beneficiary, JOIN.CROSS).where(
        (TimelineEntry.beneficiary == Beneficiary.id) & (Beneficiary.branch == branch)
    )


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return _dashboard()


@roles_required(*STAFF_ROLES)
def _dashboard():
    now = utcnow()
    today = saudi_today(now)
    start, _end = saudi_day_bounds(today)  # today in Saudi time, expressed in stored UTC
    branch = _only_branch()

    today_entries = _scope_entries(TimelineEntry.select().where(TimelineEntry.occurred_at >= start), branch)
    today_count = today_entries.count()
    # Grouping by LOWER(channel) (keys are lowercase) keeps SQLite on the (occurred_at, channel) index
    # instead of walking the whole channel index.
    channel_key = fn.LOWER(TimelineEntry.channel)
    today_by_channel = dict(
        _scope_entries(
            TimelineEntry.select(channel_key, fn.COUNT(TimelineEntry.id)).where(TimelineEntry.occurred_at >= start),
            branch,
        ).group_by(channel_key).tuples()
    )
    # Newest first by the time index alone; the joins only touch the 15 rows shown.
    recent_ids = _scope_entries(
        TimelineEntry.select(TimelineEntry.id).where(TimelineEntry.occurred_at >= start), branch
    ).order_by(TimelineEntry.occurred_at.desc()).limit(15)
    # Each line is drawn by its channel's renderer, as on the timelines (so it reads in the viewer's
    # language); case, author and attachments are loaded with the page, not per line.
    recent = list(prefetch(
        entries_query()
        .select_extend(Beneficiary)
        .join_from(TimelineEntry, Beneficiary, JOIN.LEFT_OUTER, attr="beneficiary")
        .where(TimelineEntry.id.in_(recent_ids))
        .order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc()),
        Attachment.select(),
    ))

    open_cases = Case.select(Case, Beneficiary).join(Beneficiary, attr="beneficiary").where(Case.status.in_(IN_PROGRESS_STATUSES))
    if branch is not None:
        open_cases = open_cases.where(Beneficiary.branch == branch)
    else:
        open_cases = scope.scope_cases(open_cases, current_user)
    open_count = open_cases.count()
    open_cases = list(open_cases.order_by(Case.status_changed_at).limit(15))

    due = (TimelineEntry.follow_up_due <= today) & (TimelineEntry.follow_up_done == False)  # noqa: E712
    follow_count = _scope_entries(TimelineEntry.select().where(due), branch).count()
    follow_ids = _scope_entries(TimelineEntry.select(TimelineEntry.id).where(due), branch).order_by(
        TimelineEntry.follow_up_due).limit(15)
    follow_ups = list(
        TimelineEntry.select(TimelineEntry, Beneficiary)
        .join(Beneficiary, attr="beneficiary")
        .where(TimelineEntry.id.in_(follow_ids))
        .order_by(TimelineEntry.follow_up_due, TimelineEntry.id)
    )

    widgets = [w for group in hook().dashboard_widgets(user=current_user, request=request) for w in (group or [])]
    return render(
        "dashboard.html", recent=recent, today_count=today_count, today_by_channel=today_by_channel,
        open_cases=open_cases, open_count=open_count, follow_ups=follow_ups, follow_count=follow_count,
        widgets=widgets, today_date=today, render_entry=render_entry,
    )
