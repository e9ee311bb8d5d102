"""The dashboard: each role lands on its own work, most urgent first.

- officer (and the branch delegate, limited to their branch by ``portal.scope``): call-backs and follow-ups
  due, today's walk-ins, incomplete requests, messages not delivered, today's contacts, open requests;
- researcher: the visits assigned to them, by due date (referral + ``PORTAL_RESEARCH_DAYS``);
- committee member: the next session's agenda with the research summaries;
- manager: indicators (requests by state and month, the committee's 14-day deadline kept or missed,
  contacts by channel) as inline SVG charts with their data tables;
- admin: the system's health (``portal.health``).

A user with several roles sees each role's section in that order; plugins' ``dashboard_widgets`` follow.
Every list is one aggregate or one limited query (no per-row queries); counts cover what is shown only."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from peewee import JOIN, fn, prefetch

from . import scope
from .auth import STAFF_ROLES, roles_required
from .dates import saudi_date, saudi_day_bounds, saudi_today
from .db import utcnow
from .models import Attachment, Beneficiary, Branch, Case, TimelineEntry
from .plugins import channel_map, hook
from .stats import case_months, contacts_by_channel
from .templating import render
from .timeline import entries_query, render_entry
from .workflow.machine import APPROVED_STATUSES, FINAL_STATUSES, IN_PROGRESS_STATUSES, UNDECIDED_STATUSES

bp = Blueprint("dashboard", __name__)

OPEN_STATUSES = IN_PROGRESS_STATUSES  # submitted and not finished
LIST_LIMIT = 8  # rows per dashboard list; each list links to its full page
# Request states grouped for the managers' chart.
STATE_GROUPS = (
    ("in_progress", _l("In progress"), UNDECIDED_STATUSES, ""),
    ("approved", _l("Approved or served"), APPROVED_STATUSES, "kept"),
    ("rejected", _l("Rejected"), ("rejected",), "missed"),
    ("ended", _l("Closed or withdrawn"), FINAL_STATUSES, "ended"),
)
MONTHS_SHOWN = 6


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


def _day_start(now: dt.datetime) -> dt.datetime:
    """Midnight of today in Saudi time, as stored UTC."""
    return saudi_day_bounds(saudi_today(now))[0]


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return _dashboard()


# --- officer and delegate ------------------------------------------------------------------------

def _work_section(now: dt.datetime, today: dt.date) -> dict:
    """The front office's work: what is due first, then today's traffic, then the open requests."""
    from .workflow.models import OutreachTask

    branch = _only_branch()
    start = _day_start(now)

    # Call-backs due (the outreach queue's "call back" tasks) and follow-ups due, oldest first.
    callbacks = (OutreachTask.select(OutreachTask, Beneficiary)
                 .join(Beneficiary, JOIN.LEFT_OUTER, attr="beneficiary")
                 .where((OutreachTask.status == "open") & (OutreachTask.kind == "call_back")
                        & (OutreachTask.due <= today)))
    if branch is not None:
        callbacks = callbacks.where(Beneficiary.branch == branch)
    callbacks = list(callbacks.order_by(OutreachTask.due, OutreachTask.id).limit(LIST_LIMIT + 1))

    due = (TimelineEntry.follow_up_due <= today) & (TimelineEntry.follow_up_done == False)  # noqa: E712
    follow_count = _scope_entries(TimelineEntry.select().where(due), branch).count()
    follow_ids = _scope_entries(TimelineEntry.select(TimelineEntry.id).where(due), branch).order_by(
        TimelineEntry.follow_up_due).limit(LIST_LIMIT)
    follow_ups = list(
        TimelineEntry.select(TimelineEntry, Beneficiary)
        .join(Beneficiary, attr="beneficiary")
        .where(TimelineEntry.id.in_(follow_ids))
        .order_by(TimelineEntry.follow_up_due, TimelineEntry.id)
    )

    # Today's walk-ins: people received in person today (interviews from the beneficiary), newest first.
    # The in-person channels are those that say so in ``channel_info`` (``in_person``).
    in_person = [key for key, info in channel_map().items() if info.get("in_person")] or [""]
    walk_ids = _scope_entries(
        TimelineEntry.select(TimelineEntry.id).where(
            (TimelineEntry.occurred_at >= start) & TimelineEntry.channel.in_(in_person)
            & (TimelineEntry.direction == "in")), branch,
    ).order_by(TimelineEntry.occurred_at.desc()).limit(LIST_LIMIT)
    walk_ins = list(TimelineEntry.select(TimelineEntry, Beneficiary)
                    .join(Beneficiary, JOIN.LEFT_OUTER, attr="beneficiary")
                    .where(TimelineEntry.id.in_(walk_ids)).order_by(TimelineEntry.occurred_at.desc()))

    # Incomplete requests: the beneficiary owes documents; oldest first.
    incomplete = Case.select(Case, Beneficiary).join(Beneficiary, attr="beneficiary").where(Case.status == "incomplete")
    incomplete = incomplete.where(Beneficiary.branch == branch) if branch is not None else scope.scope_cases(
        incomplete, current_user)
    incomplete = list(incomplete.order_by(Case.status_changed_at, Case.id).limit(LIST_LIMIT + 1))

    # Messages not delivered (the last 30 days): outgoing entries recorded as not sent, and those a channel
    # sent that did not arrive (delivery state "failed"), marked ``undelivered`` by the timeline services
    # (``portal.stats.is_undelivered``). One range of the (undelivered, occurred_at) index, limited.
    since = now - dt.timedelta(days=30)
    undelivered_ids = _scope_entries(
        TimelineEntry.select(TimelineEntry.id).where(
            (TimelineEntry.undelivered == True) & (TimelineEntry.occurred_at >= since)), branch,  # noqa: E712
    ).order_by(TimelineEntry.occurred_at.desc()).limit(LIST_LIMIT + 1)
    undelivered = list(TimelineEntry.select(TimelineEntry, Beneficiary)
                       .join(Beneficiary, JOIN.LEFT_OUTER, attr="beneficiary")
                       .where(TimelineEntry.id.in_(undelivered_ids)).order_by(TimelineEntry.occurred_at.desc()))

    # Today's contacts: with people only (not the workflow's own events, not internal notes).
    people = (fn.LOWER(TimelineEntry.channel) != "system") & (TimelineEntry.direction != "internal")
    contacts_today = (TimelineEntry.occurred_at >= start) & people
    if branch is None and scope.entry_condition(current_user) is None:
        # Staff who see every file: today's row of the per-day counts (``portal.stats``), not today's entries.
        today_by_channel = contacts_by_channel(today, today)
    else:
        # Grouping by LOWER(channel) (keys are lowercase) keeps SQLite on the (occurred_at, channel) index.
        channel_key = fn.LOWER(TimelineEntry.channel)
        today_by_channel = dict(
            _scope_entries(
                TimelineEntry.select(channel_key, fn.COUNT(TimelineEntry.id)).where(contacts_today),
                branch,
            ).group_by(channel_key).tuples()
        )
    today_count = sum(today_by_channel.values())
    recent_ids = _scope_entries(
        TimelineEntry.select(TimelineEntry.id).where(contacts_today), branch
    ).order_by(TimelineEntry.occurred_at.desc()).limit(LIST_LIMIT)
    # Each line is drawn by its channel's renderer, as on the timelines; case, author and attachments are
    # loaded with the page, not per line.
    recent = list(prefetch(
        entries_query()
        .select_extend(Beneficiary)
        .join_from(TimelineEntry, Beneficiary, JOIN.LEFT_OUTER, attr="beneficiary")
        .where(TimelineEntry.id.in_(recent_ids))
        .order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc()),
        Attachment.select(),
    ))

    open_cases = Case.select(Case, Beneficiary).join(Beneficiary, attr="beneficiary").where(Case.status.in_(OPEN_STATUSES))
    if branch is not None:
        open_cases = open_cases.where(Beneficiary.branch == branch)
    else:
        open_cases = scope.scope_cases(open_cases, current_user)
    # Counted on the (status, status_changed_at) index alone: no join with the files unless a branch asks.
    counted = Case.select(Case.id).where(Case.status.in_(OPEN_STATUSES))
    if branch is not None:
        counted = counted.where(Case.beneficiary.in_(Beneficiary.select(Beneficiary.id)
                                                     .where(Beneficiary.branch == branch)))
    else:
        counted = scope.scope_cases(counted, current_user)
    open_count = counted.count()
    # The oldest of each open state off the (status, status_changed_at) index, then the oldest of those:
    # one sort of all open requests was the slowest part of the page.
    oldest = []
    for status in OPEN_STATUSES:
        oldest.extend(open_cases.where(Case.status == status).order_by(Case.status_changed_at, Case.id)
                      .limit(LIST_LIMIT))
    open_cases = sorted(oldest, key=lambda c: (c.status_changed_at, c.id))[:LIST_LIMIT]

    branch_row = Branch.get_or_none(Branch.id == branch) if branch is not None else None
    return {
        "template": "dashboard/_work.html", "key": "work", "branch": branch_row,
        "callbacks": callbacks[:LIST_LIMIT], "more_callbacks": len(callbacks) > LIST_LIMIT,
        "follow_ups": follow_ups, "follow_count": follow_count, "walk_ins": walk_ins,
        "incomplete": incomplete[:LIST_LIMIT], "more_incomplete": len(incomplete) > LIST_LIMIT,
        "undelivered": undelivered[:LIST_LIMIT], "more_undelivered": len(undelivered) > LIST_LIMIT,
        "recent": recent, "today_count": today_count, "today_by_channel": today_by_channel,
        "open_cases": open_cases, "open_count": open_count,
    }


# --- researcher ------------------------------------------------------------------------------------

def research_days() -> int:
    """``PORTAL_RESEARCH_DAYS`` (7): days from the referral by which the home visit is expected."""
    try:
        return max(1, int(current_app.config.get("RESEARCH_DAYS", 7)))
    except (TypeError, ValueError):
        return 7


def _research_section(now: dt.datetime, today: dt.date) -> dict:
    days = research_days()
    rows = list(Case.select(Case, Beneficiary).join(Beneficiary, attr="beneficiary")
                .where((Case.assigned_researcher == current_user.id) & (Case.status == "in_research"))
                .order_by(Case.referred_at, Case.id).limit(50))
    visits = []
    for case in rows:
        due = saudi_date(case.referred_at) + dt.timedelta(days=days) if case.referred_at else None
        visits.append({"case": case, "due": due, "late": due is not None and due < today})
    visits.sort(key=lambda v: (v["due"] is None, v["due"] or today))
    return {"template": "dashboard/_research.html", "key": "research", "visits": visits, "research_days": days}


# --- committee member -----------------------------------------------------------------------------

def _committee_section(now: dt.datetime, today: dt.date) -> dict:
    from .workflow import committee
    from .workflow.models import CommitteeSession, ResearchReport

    session = (CommitteeSession.select().where(CommitteeSession.closed_at.is_null() & (CommitteeSession.held_on >= today))
               .order_by(CommitteeSession.held_on, CommitteeSession.id).first()
               or CommitteeSession.select().where(CommitteeSession.closed_at.is_null())
               .order_by(CommitteeSession.held_on.desc(), CommitteeSession.id.desc()).first())
    waiting_count = Case.select().where(Case.status == "awaiting_committee").count()
    if session is not None:
        rows = committee.agenda(session, current_user, now)
        cases = [r.case for r in rows]
        mine = {r.case.id: r.my_vote for r in rows}
        decided = {r.case.id: r.item.decision for r in rows}
    else:
        cases = list(Case.select(Case, Beneficiary).join(Beneficiary, attr="beneficiary")
                     .where(Case.status == "awaiting_committee")
                     .order_by(Case.awaiting_committee_at, Case.id).limit(LIST_LIMIT))
        mine, decided = {}, {}
    reports = {}
    if cases:
        for report in (ResearchReport.select().where(ResearchReport.case.in_([c.id for c in cases]))
                       .order_by(ResearchReport.id)):
            reports[report.case_id] = report  # the latest report of each request
    items = [{"case": c, "report": reports.get(c.id), "my_vote": mine.get(c.id), "decided": decided.get(c.id),
              "overdue": committee.is_overdue(c, now)} for c in cases]
    return {"template": "dashboard/_committee.html", "key": "committee", "session": session, "agenda": items,
            "waiting_count": waiting_count}


# --- manager -------------------------------------------------------------------------------------

def _month_keys(today: dt.date, count: int) -> list[tuple[int, int]]:
    year, month = today.year, today.month
    keys = []
    for _ in range(count):
        keys.append((year, month))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(keys))


def _indicators_section(now: dt.datetime, today: dt.date) -> dict:
    from .charts import Series, bar_chart, swatch
    from .dates import GREG_MONTHS_AR, GREG_MONTHS_EN
    from .plugins import channel_map

    rtl = str(get_locale() or "ar") == "ar"
    months = _month_keys(today, MONTHS_SHOWN)
    # Requests by state and month (opened in the last six months) and the committee's decisions by month:
    # the per-month counts the workflow keeps (``portal.stats.case_months``), not the requests.
    counted = case_months(f"{months[0][0]:04d}-{months[0][1]:02d}")
    by_month = {key: {g[0]: 0 for g in STATE_GROUPS} for key in months}
    group_of = {status: g[0] for g in STATE_GROUPS for status in g[2]}
    for key in months:
        for status, n in counted.get((f"{key[0]:04d}-{key[1]:02d}", "opened"), {}).items():
            if status in group_of:
                by_month[key][group_of[status]] += n
    series = [Series(key, label, css) for key, label, _statuses, css in STATE_GROUPS]
    names = GREG_MONTHS_AR if rtl else GREG_MONTHS_EN
    month_label = {key: f"{names[key[1] - 1]} {key[0]}" for key in months}
    state_chart = bar_chart([(month_label[k], by_month[k]) for k in months], series,
                            title=_l("Requests by state and month"), rtl=rtl)

    # The committee's 14-day deadline: decisions by month, kept or missed; and those overdue now.
    deadline = {}
    for key in months:
        decided = counted.get((f"{key[0]:04d}-{key[1]:02d}", "decided"), {})
        deadline[key] = {"kept": decided.get("kept", 0), "missed": decided.get("missed", 0)}
    overdue_now = Case.select().where((Case.status == "awaiting_committee") & (Case.committee_due_at < now)).count()
    deadline_series = [Series("kept", _l("Deadline kept"), "kept"), Series("missed", _l("Deadline missed"), "missed")]
    deadline_chart = bar_chart([(month_label[k], deadline[k]) for k in months], deadline_series,
                               title=_l("The committee's 14-day deadline"), rtl=rtl)

    # Contacts with people by channel (the last 30 Saudi days): the per-day counts, not the entries.
    contacts = contacts_by_channel(today - dt.timedelta(days=29), today)
    channels = channel_map()
    lang = "ar" if rtl else "en"
    contact_rows = sorted(contacts.items(), key=lambda kv: (-kv[1], kv[0]))
    contact_labels = {k: (channels[k]["label_" + lang] if k in channels else k) for k, _n in contact_rows}
    contact_chart = bar_chart([(contact_labels[k], {"n": n}) for k, n in contact_rows],
                              [Series("n", _l("Contacts"), "")], title=_l("Contacts by channel, last 30 days"),
                              rtl=rtl)
    open_count = Case.select().where(Case.status.in_(OPEN_STATUSES)).count()
    waiting = Case.select().where(Case.status == "awaiting_committee").count()
    return {
        "template": "dashboard/_indicators.html", "key": "indicators", "months": months, "month_label": month_label,
        "groups": STATE_GROUPS, "by_month": by_month, "state_chart": state_chart, "deadline": deadline,
        "deadline_chart": deadline_chart, "overdue_now": overdue_now, "contact_rows": contact_rows,
        "contact_labels": contact_labels, "contact_chart": contact_chart, "open_count": open_count,
        "waiting": waiting, "swatch": swatch,
    }


# --- admin ----------------------------------------------------------------------------------------

def _health_section(now: dt.datetime, today: dt.date) -> dict:
    from .health import health

    return {"template": "dashboard/_health.html", "key": "health", "health": health(now)}


# Role -> section, in the order a user with several roles sees them. Officers and delegates share one.
SECTIONS = (
    (("officer", "delegate"), _work_section),
    (("researcher",), _research_section),
    (("committee",), _committee_section),
    (("manager",), _indicators_section),
    (("admin",), _health_section),
)


@roles_required(*STAFF_ROLES)
def _dashboard():
    now = utcnow()
    today = saudi_date(now)
    sections = [build(now, today) for roles, build in SECTIONS if current_user.has_role(*roles)]
    widgets = [w for group in hook().dashboard_widgets(user=current_user, request=request) for w in (group or [])]
    return render("dashboard.html", sections=sections, widgets=widgets, today_date=today, now=now,
                  render_entry=render_entry)
