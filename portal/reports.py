"""The managers' reports: the figures of a period (Hijri or Gregorian), each table with its chart.

Every figure comes from an aggregate query (``GROUP BY`` / ``COUNT`` / ``SUM(CASE ...)``); no query reads the
rows one by one. The time spent in each of the seven steps is read from the request's own step timestamps
(``Case.created_at``, ``submitted_at``, ``referred_at``, ``awaiting_committee_at``, ``decided_at``,
``registered_at``), the first declaration and the first delivery; its median and 90th percentile are picked
in SQL on both databases: the count of durations, then the one or two durations around the percentile's
rank (``ORDER BY duration LIMIT 2 OFFSET k``), interpolated linearly as PostgreSQL's ``percentile_cont``.

A report is a list of :class:`Section` objects, each with headline :class:`Figure` values and :class:`Table`
objects (rows, and a server-drawn SVG chart beside them). The core's sections come first; plugins and the
core's own features add theirs through the ``report_sections`` hook (letters issued, satisfaction,
complaints...). A delegate's report is limited to their branch."""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from peewee import SQL, NodeList, fn
from peewee import Case as SqlCase

from .charts import Series, bar_chart
from .dates import _lang  # the request's language, "ar" outside a request
from .dates import (
    GREG_MONTHS_AR, GREG_MONTHS_EN, HIJRI_MONTHS_AR, HIJRI_MONTHS_EN, _h2g, parse_date, saudi_days_bounds,
    saudi_today, to_hijri,
)
from .db import is_postgres, utcnow
from .labels import CASE_STATUS, DIRECTION, OUTREACH_KIND, REQUEST_TYPE, label
from .models import Beneficiary, Branch, Case, ContactDay, TimelineEntry
from .plugins import channel_map, hook
from .text import isolate
from .validators import ValidationError

REPORT_ROLES = ("manager", "admin", "delegate")  # a delegate sees their own branch only
ALL_BRANCH_ROLES = ("manager", "admin")
PERIODS = ("this_month", "last_month", "custom")
CALENDARS = ("gregorian", "hijri")
MAX_DAYS = 3 * 366  # a longer period is refused (its month columns would not fit a page)
# The days a period may cover: inside the Umm al-Qura table of ``hijridate`` (1924-2077), so every day has
# its Hijri date and month.
EARLIEST, LATEST = dt.date(1925, 1, 1), dt.date(2076, 12, 31)


# --- what a report is made of -----------------------------------------------------------------------

@dataclass
class Figure:
    """One headline number (``value`` an int, a float, or None for "not enough data")."""

    key: str
    label: object
    value: object


@dataclass
class Table:
    """One table of a report: ``head`` names the label column then each value column; ``rows`` are
    ``(label, [values])``. ``chart`` is the SVG drawn beside it (or None). ``kinds`` says per value column
    whether it is a ``number`` (the default) or ``text`` in an export."""

    key: str
    title: object
    head: list
    rows: list
    chart: Markup | None = None
    note: object = ""
    kinds: list | None = None
    chart_columns: list | None = None  # set by ``chart_for``: the value columns drawn, and their colours
    chart_css: list | None = None


@dataclass
class Section:
    key: str
    title: object
    figures: list = field(default_factory=list)
    tables: list = field(default_factory=list)
    note: object = ""


def chart_for(table: Table, columns: list[int] | None = None, css: list[str] | None = None, *,
              title: object = None) -> Markup | None:
    """A stacked horizontal bar chart of ``table``'s value columns ``columns`` (all by default); None for an
    empty table. Values are drawn as whole numbers."""
    if not table.rows:
        return None
    columns = list(range(len(table.head) - 1)) if columns is None else columns
    css = css or [""] * len(columns)
    table.chart_columns, table.chart_css = columns, css
    series = [Series(str(i), table.head[i + 1], css[n] if n < len(css) else "") for n, i in enumerate(columns)]
    rows = [(str(lab), {str(i): round(values[i] or 0) for i in columns}) for lab, values in table.rows]
    return bar_chart(rows, series, title=title or table.title, rtl=_lang() == "ar", width=480, label_width=180)


# The bars' colours in a PDF (WeasyPrint draws an inline SVG without the page's style sheet).
PDF_COLOURS = {"": "#2f6f5e", "kept": "#1e7b3c", "missed": "#b3261e", "ended": "#777777"}


def row_bars(table: Table, width: int = 150, height: int = 12) -> list[Markup]:
    """For a PDF: one small inline SVG bar per row of ``table`` (its charted columns stacked, growing from the
    right as Arabic reads), to sit in the row beside its numbers; the labels stay HTML text, which the PDF
    shapes and orders right. Empty when the table has no chart."""
    if not table.chart_columns or not table.rows:
        return []
    columns, css = table.chart_columns, table.chart_css or []
    totals = [sum(max(0, values[i] or 0) for i in columns) for _label, values in table.rows]
    top = max(totals + [1])
    out = []
    for _label, values in table.rows:
        parts, offset = [], 0.0
        for n, i in enumerate(columns):
            value = max(0, values[i] or 0)
            if not value:
                continue
            length = width * value / top
            colour = PDF_COLOURS.get(css[n] if n < len(css) else "", PDF_COLOURS[""])
            parts.append(f'<rect x="{width - offset - length:.1f}" y="1" width="{length:.1f}" height="{height - 2}" '
                         f'fill="{colour}"/>')
            offset += length
        out.append(Markup(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '  # nosec B704 # numbers and fixed colours only
                          f'height="{height}" role="img" aria-hidden="true">{"".join(parts)}</svg>'))
    return out


# --- the period ---------------------------------------------------------------------------------------

@dataclass
class Period:
    """Saudi days ``first`` to ``last`` (both included), chosen in ``calendar``."""

    first: dt.date
    last: dt.date
    calendar: str = "gregorian"
    choice: str = "custom"

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """The stored (naive UTC) bounds: ``lo <= at < hi``."""
        return saudi_days_bounds(self.first, self.last)

    def months(self) -> list[tuple[str, dt.date, dt.date]]:
        """The calendar months the period touches, each ``(label, first day, last day)`` cut to the period."""
        out, day = [], self.first
        while day <= self.last and len(out) < 48:
            start, end, name = month_of(day, self.calendar)
            out.append((name, max(start, self.first), min(end, self.last)))
            day = end + dt.timedelta(days=1)
        return out


def month_of(day: dt.date, calendar: str) -> tuple[dt.date, dt.date, str]:
    """The first and last Gregorian day of ``day``'s month in ``calendar``, and the month's name."""
    ar = _lang() == "ar"
    if calendar == "hijri":
        h = to_hijri(day)
        start = _h2g(h.year, h.month, 1)
        year, month = (h.year + 1, 1) if h.month == 12 else (h.year, h.month + 1)
        end = _h2g(year, month, 1) - dt.timedelta(days=1)
        names = HIJRI_MONTHS_AR if ar else HIJRI_MONTHS_EN
        return start, end, f"{names[h.month - 1]} {h.year}"
    start = day.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    names = GREG_MONTHS_AR if ar else GREG_MONTHS_EN
    return start, end, f"{names[day.month - 1]} {day.year}"


def parse_period(args, errors: dict, today: dt.date | None = None) -> Period | None:
    """The period of the report form: ``period`` (this month, last month or custom ``from``/``to``) in
    ``calendar`` (Gregorian or Hijri months; custom dates typed in that calendar). Messages go to ``errors``
    (keyed by field) and None is returned for a period that cannot be used."""
    today = today or saudi_today()
    calendar = args.get("calendar") or "gregorian"
    if calendar not in CALENDARS:
        errors["calendar"] = _("Choose the Hijri or the Gregorian calendar.")
        return None
    choice = args.get("period") or ("custom" if args.get("from") or args.get("to") else "this_month")
    if choice not in PERIODS:
        errors["period"] = _("Choose a period.")
        return None
    if choice == "this_month":
        first, last, _name = month_of(today, calendar)
        return Period(first, min(last, today), calendar, choice)
    if choice == "last_month":
        this_first, _last, _name = month_of(today, calendar)
        first, last, _name = month_of(this_first - dt.timedelta(days=1), calendar)
        return Period(first, last, calendar, choice)
    found = {}
    for key in ("from", "to"):
        raw = (args.get(key) or "").strip()
        if not raw:
            errors[key] = _("Enter the first day of the period.") if key == "from" else _(
                "Enter the last day of the period.")
            continue
        try:
            found[key] = parse_date(raw, calendar=calendar)
        except ValidationError as exc:
            errors[key] = str(exc.message)
    for key, day in found.items():
        if not EARLIEST <= day <= LATEST:
            errors[key] = _("Choose a day between %(first)s and %(last)s.", first=isolate(str(EARLIEST.year)),
                            last=isolate(str(LATEST.year)))
    if errors:
        return None
    if found["to"] < found["from"]:
        errors["to"] = _("The end date is before the start date.")
        return None
    if (found["to"] - found["from"]).days >= MAX_DAYS:
        errors["to"] = _("Choose a period of at most three years.")
        return None
    return Period(found["from"], found["to"], calendar, choice)


# --- scoping -----------------------------------------------------------------------------------------

def branch_for(user, requested=None, errors: dict | None = None) -> int | None:
    """The branch the report is limited to: a delegate's own branch whatever was asked (-1 for a delegate
    without one: they see nothing); for managers and admins the branch they chose, or None for all."""
    if not user.has_role(*ALL_BRANCH_ROLES):
        return user.branch_id or -1
    if requested in (None, ""):
        return None
    try:
        branch_id = int(str(requested))
    except ValueError:
        branch_id = None
    if branch_id is None or not Branch.select().where(Branch.id == branch_id).exists():
        if errors is not None:
            errors["branch"] = _("Unknown branch.")
        return None
    return branch_id


def case_in_branch(branch: int | None):
    """A condition on ``Case`` for the requests of a branch's files (None: no condition)."""
    if branch is None:
        return None
    return Case.beneficiary.in_(Beneficiary.select(Beneficiary.id).where(Beneficiary.branch == branch))


def beneficiary_in_branch(field, branch: int | None):
    """A condition on a beneficiary foreign key ``field`` for a branch's files (None: no condition)."""
    if branch is None:
        return None
    return field.in_(Beneficiary.select(Beneficiary.id).where(Beneficiary.branch == branch))


def _where(query, *conditions):
    for cond in conditions:
        if cond is not None:
            query = query.where(cond)
    return query


def _in(field, lo, hi):
    return (field >= lo) & (field < hi)


def _sum_if(condition):
    return fn.SUM(SqlCase(None, [(condition, 1)], 0))


# --- requests ----------------------------------------------------------------------------------------

def _names_of_types(codes) -> dict:
    from .workflow.models import RequestType

    codes = [c for c in codes if c]
    names = {}
    if codes:
        for rt in RequestType.select(RequestType.code, RequestType.name_ar, RequestType.name_en).where(
                RequestType.code.in_(codes)):
            names[rt.code] = rt.name(_lang())
    return {c: names.get(c) or str(label(REQUEST_TYPE, c)) for c in codes}


def _channel_label(key: str) -> str:
    info = channel_map().get(key)
    if info:
        return info["label_ar"] if _lang() == "ar" else info["label_en"]
    if not key:
        return _("Not recorded")
    return _("System") if key == "system" else key


def _branch_names(ids) -> dict:
    ids = [i for i in ids if i]
    out = {}
    if ids:
        for b in Branch.select().where(Branch.id.in_(ids)):
            out[b.id] = b.name_ar if _lang() == "ar" or not b.name_en else b.name_en
    return out


def requests_section(period: Period, branch: int | None) -> Section:
    """Requests opened in the period: by state, type, intake channel, branch and month."""
    lo, hi = period.bounds
    scope = case_in_branch(branch)
    opened = _in(Case.created_at, lo, hi)

    # State, type, intake channel and branch in one grouped query; the four tables add up its (few) groups.
    groups = _where(Case.select(Case.status, Case.request_type, Case.channel, Beneficiary.branch, fn.COUNT(Case.id))
                    .join(Beneficiary, on=(Case.beneficiary == Beneficiary.id)), opened, scope).group_by(
        Case.status, Case.request_type, Case.channel, Beneficiary.branch).tuples()
    totals = [{}, {}, {}, {}]
    for row in groups:
        for index in range(4):
            totals[index][row[index]] = totals[index].get(row[index], 0) + row[4]

    def ordered(found: dict):
        return sorted(found.items(), key=lambda r: (-r[1], str(r[0])))

    n_label = _("Requests")
    by_state = ordered(totals[0])
    total = sum(n for _k, n in by_state)
    states = Table("requests_by_state", _l("Requests by state"), [_("State"), n_label],
                   [(str(label(CASE_STATUS, k)), [n]) for k, n in by_state])
    by_type = ordered(totals[1])
    type_names = _names_of_types([k for k, _n in by_type])
    types = Table("requests_by_type", _l("Requests by type"), [_("Request type"), n_label],
                  [(type_names.get(k) or _("Not recorded"), [n]) for k, n in by_type])
    channels = Table("requests_by_channel", _l("Requests by intake channel"), [_("Channel"), n_label],
                     [(_channel_label(k), [n]) for k, n in ordered(totals[2])])
    branch_rows = sorted(totals[3].items(), key=lambda r: (-r[1], r[0] or 0))
    names = _branch_names([k for k, _n in branch_rows])
    branches = Table("requests_by_branch", _l("Requests by branch"), [_("Branch"), n_label],
                     [(names.get(k) or _("No branch"), [n]) for k, n in branch_rows])
    # By month (Gregorian or Hijri): one query, a SUM(CASE) per month of the period.
    months = period.months()
    columns = []
    for index, (_name, first, last) in enumerate(months):
        m_lo, m_hi = saudi_days_bounds(first, last)
        columns.append(_sum_if(_in(Case.created_at, m_lo, m_hi)).alias(f"m{index}"))
    month_counts = _where(Case.select(*columns), opened, scope).dicts().get() if columns else {}
    per_month = Table("requests_by_month", _l("Requests by month"), [_("Month"), n_label],
                      [(name, [int(month_counts.get(f"m{i}") or 0)]) for i, (name, _f, _l2) in enumerate(months)])
    tables = [states, types, channels, branches, per_month]
    for table in tables:
        table.chart = chart_for(table)
    decided = _where(Case.select(fn.COUNT(Case.id)), _in(Case.decided_at, lo, hi), scope).scalar() or 0
    return Section("requests", _l("Support requests"),
                   [Figure("opened", _l("Requests opened"), total), Figure("decided", _l("Requests decided"), decided)],
                   tables, note=_l("Requests opened in the period (their state today), and decisions made in it."))


# --- the committee's deadline -------------------------------------------------------------------------

def deadline_figures(period: Period, branch: int | None, now: dt.datetime | None = None) -> dict:
    """Decisions made in the period on requests with a committee deadline: kept (decided on or before the
    deadline) or missed; and the requests whose deadline passed in the period without a decision yet."""
    lo, hi = period.bounds
    now = now or utcnow()
    scope = case_in_branch(branch)
    total, kept = _where(Case.select(fn.COUNT(Case.id), _sum_if(Case.decided_at <= Case.committee_due_at)),
                         _in(Case.decided_at, lo, hi), Case.committee_due_at.is_null(False), scope).tuples().get()
    overdue = _where(Case.select(fn.COUNT(Case.id)), Case.status == "awaiting_committee",
                     _in(Case.committee_due_at, lo, min(hi, now)), scope).scalar() or 0
    return {"decided": int(total or 0), "kept": int(kept or 0), "missed": int(total or 0) - int(kept or 0),
            "overdue": int(overdue)}


def deadline_section(period: Period, branch: int | None) -> Section:
    found = deadline_figures(period, branch)
    table = Table("committee_deadline", _l("The committee's 14-day deadline"),
                  [_("Decisions"), _("Deadline kept"), _("Deadline missed")],
                  [(_("Decided in the period"), [found["kept"], found["missed"]])])
    table.chart = chart_for(table, css=["kept", "missed"]) if found["decided"] else None
    return Section("deadline", _l("The committee's deadline"), [
        Figure("kept", _l("Decided within the deadline"), found["kept"]),
        Figure("missed", _l("Decided after the deadline"), found["missed"]),
        Figure("overdue", _l("Deadline passed, still undecided"), found["overdue"]),
    ], [table])


# --- time in each step ----------------------------------------------------------------------------------

def days_between(start, end):
    """SQL for the days (a fraction) from ``start`` to ``end``, two timestamp expressions."""
    if is_postgres():
        return fn.date_part(SQL("'epoch'"), NodeList((end, SQL("-"), start), parens=True)) / 86400.0
    return fn.julianday(end) - fn.julianday(start)


def _first_of(model, at_field):
    """A sub-select: per request, the first ``at_field`` of ``model`` (its ``case`` key)."""
    return (model.select(model.case.alias("case_id"), fn.MIN(at_field).alias("at"))
            .group_by(model.case).alias(f"first_{model._meta.table_name}"))


def _step_queries(branch: int | None):
    """Each step: (key, label, a function giving (base query over Case, start, end))."""
    from .workflow.models import Declaration, Delivery
    from .workflow.progress import STEPS

    def plain(start, end):
        return lambda: (Case.select(), start, end)

    def joined(model, at_field, start):
        def build():
            first = _first_of(model, at_field)
            return Case.select().join(first, on=(Case.id == first.c.case_id)), start, first.c.at
        return build

    builders = {
        "receive": plain(Case.created_at, Case.submitted_at),
        "documents": plain(Case.submitted_at, Case.referred_at),
        "research": plain(Case.referred_at, Case.awaiting_committee_at),
        "declaration": joined(Declaration, Declaration.given_at, Case.created_at),
        "committee": plain(Case.awaiting_committee_at, Case.decided_at),
        "registration": plain(Case.decided_at, Case.registered_at),
        "service": joined(Delivery, Delivery.created_at, Case.registered_at),
    }
    return [(key, step_label, builders[key]) for key, step_label in STEPS]


STEP_BOUNDS = {
    "receive": _l("from opening to submission"),
    "documents": _l("from submission to the referral"),
    "research": _l("from the referral to the committee"),
    "declaration": _l("from opening to the declaration"),
    "committee": _l("from reaching the committee to the decision"),
    "registration": _l("from the decision to the registration"),
    "service": _l("from the registration to the first delivery"),
}


def percentile_of(query, expr, count: int, p: float) -> float | None:
    """The ``p`` percentile (0-1, linear interpolation) of ``expr`` over ``query``'s ``count`` rows: one or two
    values read with ``ORDER BY expr LIMIT 2 OFFSET k``."""
    if not count:
        return None
    rank = (count - 1) * p
    low = math.floor(rank)
    frac = rank - low
    values = [float(v) for (v,) in query.select(expr).order_by(expr).limit(2 if frac else 1).offset(low).tuples()]
    if frac and len(values) == 2:
        return values[0] + (values[1] - values[0]) * frac
    return values[0]


def step_durations(period: Period, branch: int | None) -> list[dict]:
    """Per step: how many requests finished it in the period, and the median and 90th percentile of the days
    it took them."""
    lo, hi = period.bounds
    scope = case_in_branch(branch)
    out = []
    for key, step_label, build in _step_queries(branch):
        base, start, end = build()
        base = _where(base, start.is_null(False), end.is_null(False), (end >= lo) & (end < hi), scope)
        expr = days_between(start, end)
        count = base.select(fn.COUNT(SQL("*"))).scalar() or 0
        out.append({"key": key, "label": step_label, "bounds": STEP_BOUNDS[key], "count": int(count),
                    "median": percentile_of(base, expr, count, 0.5), "p90": percentile_of(base, expr, count, 0.9)})
    return out


def _days(value):
    return None if value is None else round(value, 1)


def steps_section(period: Period, branch: int | None) -> Section:
    rows = step_durations(period, branch)
    table = Table("step_durations", _l("Time spent in each step (days)"),
                  [_("Step"), _("Requests"), _("Median, days"), _("90th percentile, days")],
                  [(f"{i}. {r['label']} ({r['bounds']})", [r["count"], _days(r["median"]), _days(r["p90"])])
                   for i, r in enumerate(rows, start=1)])
    chart_table = Table("steps_chart", _l("Median days per step"), [_("Step"), _("Median, days")],
                        [(f"{i}. {r['label']}", [r["median"] or 0]) for i, r in enumerate(rows, start=1)])
    table.chart = chart_for(chart_table) if any(r["count"] for r in rows) else None
    return Section("steps", _l("Time in each of the seven steps"), [], [table],
                   note=_l("Requests that finished the step in the period; the median and the 90th percentile of "
                           "the days it took them."))


# --- contacts ------------------------------------------------------------------------------------------

def contact_counts(period: Period, branch: int | None) -> list[tuple[str, str, int]]:
    """(channel, direction, contacts) with people in the period: from the per-day counts for every branch,
    from the entries of the branch's files (grouped in SQL) for one branch."""
    if branch is None:
        query = (ContactDay.select(ContactDay.channel, ContactDay.direction, fn.SUM(ContactDay.count))
                 .where(ContactDay.day.between(period.first, period.last))
                 .group_by(ContactDay.channel, ContactDay.direction))
    else:
        from .stats import NOT_PEOPLE

        lo, hi = period.bounds
        query = (TimelineEntry.select(TimelineEntry.channel, TimelineEntry.direction, fn.COUNT(TimelineEntry.id))
                 .where(_in(TimelineEntry.occurred_at, lo, hi) & (TimelineEntry.channel != NOT_PEOPLE)
                        & TimelineEntry.direction.in_(("in", "out"))
                        & beneficiary_in_branch(TimelineEntry.beneficiary, branch))
                 .group_by(TimelineEntry.channel, TimelineEntry.direction))
    return [(c, d, int(n)) for c, d, n in query.tuples() if n]


def contacts_section(period: Period, branch: int | None) -> Section:
    per_channel: dict[str, dict] = {}
    for channel, direction, n in contact_counts(period, branch):
        per_channel.setdefault(channel, {"in": 0, "out": 0})[direction] += n
    ordered = sorted(per_channel.items(), key=lambda kv: (-(kv[1]["in"] + kv[1]["out"]), kv[0]))
    table = Table("contacts", _l("Contacts by channel and direction"),
                  [_("Channel"), str(DIRECTION["in"]), str(DIRECTION["out"])],
                  [(_channel_label(k), [v["in"], v["out"]]) for k, v in ordered])
    table.chart = chart_for(table, css=["", "kept"])
    total = sum(v["in"] + v["out"] for v in per_channel.values())
    return Section("contacts", _l("Contacts"), [Figure("contacts", _l("Contacts with people"), total)], [table])


# --- outreach ------------------------------------------------------------------------------------------

def outreach_section(period: Period, branch: int | None) -> Section:
    from .workflow.models import OutreachTask

    lo, hi = period.bounds
    scope = beneficiary_in_branch(OutreachTask.beneficiary, branch)
    created = _in(OutreachTask.created_at, lo, hi)
    done = (OutreachTask.status == "done") & _in(OutreachTask.done_at, lo, hi)
    query = _where(OutreachTask.select(OutreachTask.kind, _sum_if(created), _sum_if(done)),
                   created | done, scope).group_by(OutreachTask.kind)
    rows = sorted(((k, int(c or 0), int(d or 0)) for k, c, d in query.tuples()), key=lambda r: (-r[1], r[0]))
    table = Table("outreach", _l("Outreach tasks by kind"), [_("Kind"), _("Created"), _("Done")],
                  [(str(label(OUTREACH_KIND, k)), [c, d]) for k, c, d in rows])
    table.chart = chart_for(table, css=["", "kept"])
    return Section("outreach", _l("Outreach"), [
        Figure("created", _l("Outreach tasks created"), sum(r[1] for r in rows)),
        Figure("done", _l("Outreach tasks done"), sum(r[2] for r in rows)),
    ], [table])


# --- services delivered ------------------------------------------------------------------------------------

def services_section(period: Period, branch: int | None) -> Section:
    """Step 7: the deliveries recorded for the period's days, by kind of support (the request's type), with
    how many files they reached and their amounts; and the beneficiaries served."""
    from .workflow.models import Delivery

    scope = case_in_branch(branch)
    on_days = Delivery.delivered_on.between(period.first, period.last)
    base = Delivery.select().join(Case, on=(Delivery.case == Case.id))
    served = _where(base.select(fn.COUNT(fn.DISTINCT(Case.beneficiary))), on_days, scope).scalar() or 0
    rows = _where(base.select(Case.request_type, fn.COUNT(Delivery.id), fn.COUNT(fn.DISTINCT(Case.beneficiary)),
                              fn.SUM(Delivery.amount)), on_days, scope).group_by(Case.request_type).tuples()
    rows = sorted(rows, key=lambda r: (-r[1], r[0]))
    names = _names_of_types([r[0] for r in rows])
    table = Table("services_by_kind", _l("Services delivered by kind"),
                  [_("Service"), _("Deliveries"), _("Beneficiaries"), _("Amount, SAR")],
                  [(names.get(k) or k, [n, people, round(float(amount), 2) if amount is not None else 0])
                   for k, n, people, amount in rows])
    table.chart = chart_for(table, [0])
    return Section("services", _l("Services delivered"), [
        Figure("served", _l("Beneficiaries served"), int(served)),
        Figure("deliveries", _l("Deliveries"), sum(r[1] for r in rows)),
    ], [table])


# --- the whole report ----------------------------------------------------------------------------------

CORE_SECTIONS = (requests_section, deadline_section, steps_section, services_section, contacts_section,
                 outreach_section)


def plugin_sections(period: Period, branch: int | None, user) -> list[Section]:
    """What the ``report_sections`` hook answers, flattened, in the hook's order."""
    found = []
    for group in hook().report_sections(start=period.first, end=period.last, branch=branch, user=user):
        for section in group or []:
            if isinstance(section, Section):
                found.append(section)
    return found


def build(period: Period, branch: int | None, user) -> list[Section]:
    return [make(period, branch) for make in CORE_SECTIONS] + plugin_sections(period, branch, user)


def find_table(sections: list[Section], key: str) -> Table | None:
    for section in sections:
        for table in section.tables:
            if table.key == key:
                return table
    return None
