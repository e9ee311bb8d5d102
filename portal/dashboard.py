"""The officer's dashboard: today's contacts, open requests, follow-ups due, plugin widgets."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, redirect, request, url_for
from flask_login import current_user
from peewee import JOIN, fn

from .auth import STAFF_ROLES, roles_required
from .db import utcnow
from .models import Beneficiary, Case, TimelineEntry, User
from .plugins import hook
from .templating import render

bp = Blueprint("dashboard", __name__)

OPEN_STATUSES = ("submitted", "incomplete", "in_research", "awaiting_committee", "approved", "registered")


def _branch_scope(query, model_field):
    if current_user.has_role("delegate") and not current_user.has_role(
        "admin", "officer", "manager", "researcher", "committee"
    ):
        return query.where(model_field == current_user.branch_id)
    return query


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return _dashboard()


@roles_required(*STAFF_ROLES)
def _dashboard():
    now = utcnow()
    # "Today" in Saudi time (UTC+3), expressed in stored UTC.
    local_midnight = (now + dt.timedelta(hours=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    start = local_midnight - dt.timedelta(hours=3)
    today = (now + dt.timedelta(hours=3)).date()
    actor = User.alias()

    recent = (
        TimelineEntry.select(TimelineEntry, Beneficiary, actor)
        .join(Beneficiary, JOIN.LEFT_OUTER, attr="beneficiary")
        .switch(TimelineEntry)
        .join(actor, JOIN.LEFT_OUTER, on=(TimelineEntry.actor == actor.id), attr="actor")
        .where(TimelineEntry.occurred_at >= start)
    )
    recent = _branch_scope(recent, Beneficiary.branch)
    today_count = recent.count()
    today_by_channel = dict(
        _branch_scope(
            TimelineEntry.select(TimelineEntry.channel, fn.COUNT(TimelineEntry.id))
            .join(Beneficiary, JOIN.LEFT_OUTER)
            .where(TimelineEntry.occurred_at >= start),
            Beneficiary.branch,
        ).group_by(TimelineEntry.channel).tuples()
    )
    recent = list(recent.order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc()).limit(15))

    open_cases = _branch_scope(
        Case.select(Case, Beneficiary).join(Beneficiary, attr="beneficiary").where(Case.status.in_(OPEN_STATUSES)),
        Beneficiary.branch,
    )
    open_count = open_cases.count()
    open_cases = list(open_cases.order_by(Case.status_changed_at).limit(15))

    follow_ups = _branch_scope(
        TimelineEntry.select(TimelineEntry, Beneficiary)
        .join(Beneficiary, attr="beneficiary")
        .where((TimelineEntry.follow_up_due <= today) & (TimelineEntry.follow_up_done == False)),  # noqa: E712
        Beneficiary.branch,
    )
    follow_count = follow_ups.count()
    follow_ups = list(follow_ups.order_by(TimelineEntry.follow_up_due, TimelineEntry.id).limit(15))

    widgets = [w for group in hook().dashboard_widgets(user=current_user, request=request) for w in (group or [])]
    return render(
        "dashboard.html", recent=recent, today_count=today_count, today_by_channel=today_by_channel,
        open_cases=open_cases, open_count=open_count, follow_ups=follow_ups, follow_count=follow_count,
        widgets=widgets, today_date=today,
    )
