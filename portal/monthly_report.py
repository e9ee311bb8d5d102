"""The board's monthly report: an Arabic PDF of one Gregorian month's indicators, with its charts inline.

Made by the worker on the first day of each month (for the month that just ended) and on demand by a manager
or an admin on the reports page. The PDF is kept by the upload service (content-addressed, like the letters'
copies) and listed by its ``MonthlyReport`` row: one row a month, written with an insert-or-update on the
unique month, so making the same month twice (or twice at once) keeps one row that points to the newest file.

The indicators: beneficiaries served (distinct files with a delivery in the month), requests received
(submitted in the month) and decided, decided within the committee's deadline, services delivered by kind
(deliveries by request type, with their amounts), and what the features add through ``report_sections``
(complaints answered within their deadline, satisfaction, letters issued)."""
from __future__ import annotations

import datetime as dt

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from huey import crontab
from peewee import fn

from .audit import audit
from .dates import saudi_today
from .db import database, utcnow
from .jobs import periodic_task
from .models import Case, MonthlyReport
from .reports import (
    Figure, Period, Section, Table, _in, chart_for, deadline_figures, plugin_sections, row_bars, services_section,
)


def month_period(month: dt.date) -> Period:
    """The Gregorian month of ``month`` (any day of it) as a report period."""
    first = month.replace(day=1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return Period(first, last, "gregorian", "custom")


def previous_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def indicators(period: Period) -> list[Section]:
    """The board's indicators of ``period`` (every branch), the services delivered, then the features' sections."""
    lo, hi = period.bounds
    services = services_section(period, None)
    received = Case.select(fn.COUNT(Case.id)).where(_in(Case.submitted_at, lo, hi)).scalar() or 0
    deadline = deadline_figures(period, None)
    decided = Case.select(fn.COUNT(Case.id)).where(_in(Case.decided_at, lo, hi)).scalar() or 0
    main = Section("indicators", _l("Indicators"), [
        services.figures[0],
        Figure("received", _l("Requests received"), int(received)),
        Figure("decided", _l("Requests decided"), int(decided)),
        Figure("within_deadline", _l("Decided within the committee's 14 days"), deadline["kept"]),
        Figure("after_deadline", _l("Decided after the committee's 14 days"), deadline["missed"]),
        Figure("overdue", _l("Deadline passed, still undecided"), deadline["overdue"]),
    ])
    deadline_table = Table("committee_deadline", _l("The committee's 14-day deadline"),
                           [_("Decisions"), _("Deadline kept"), _("Deadline missed")],
                           [(_("Decided in the period"), [deadline["kept"], deadline["missed"]])])
    deadline_table.chart = chart_for(deadline_table, css=["kept", "missed"]) if deadline["decided"] else None
    main.tables = [services.tables[0], deadline_table]
    return [main] + plugin_sections(period, None, None)


def render_pdf(month: dt.date, sections: list[Section] | None = None) -> bytes:
    from .pdf import font_faces, html_to_pdf

    period = month_period(month)
    with force_locale("ar"):
        sections = sections if sections is not None else indicators(period)
        html = render_template("reports/monthly_pdf.html", period=period, sections=sections, fonts=font_faces(),
                               row_bars=row_bars,
                               org_name=current_app.config["ORG_NAME_AR"], made_at=utcnow())
    return html_to_pdf(html)


def produce(month: dt.date, actor=None) -> MonthlyReport:
    """Make the PDF of ``month``'s Gregorian month and keep it: one row a month (the newest file)."""
    from .uploads import store_bytes

    key = month.strftime("%Y-%m")
    pdf = render_pdf(month)
    name = f"monthly-report-{key}.pdf"
    stored = store_bytes(pdf, name, "pdf")
    now = utcnow()
    values = {"month": key, "sha256": stored.sha256, "file_name": name, "size": stored.size, "created_at": now,
              "created_by": getattr(actor, "id", None)}
    with database.atomic():
        (MonthlyReport.insert(**values)
         .on_conflict(conflict_target=[MonthlyReport.month],
                      update={MonthlyReport.sha256: stored.sha256, MonthlyReport.size: stored.size,
                              MonthlyReport.file_name: name, MonthlyReport.created_at: now,
                              MonthlyReport.created_by: values["created_by"]})
         .execute())
        row = MonthlyReport.get(MonthlyReport.month == key)
        audit("create", "monthly_report", row.id, {"month": key, "sha256": stored.sha256}, actor=actor)
    return row


def produce_due(today: dt.date | None = None) -> MonthlyReport | None:
    """The report of the month that ended: made on the first Saudi day of a month (again, if a manager made
    it before the month was over), and on a later day only when it is still missing (the worker was not
    running on the first). None when there was nothing to do."""
    today = today or saudi_today()
    month = previous_month(today)
    if today.day != 1 and MonthlyReport.select().where(MonthlyReport.month == month.strftime("%Y-%m")).exists():
        return None
    return produce(month)


# Every morning at 03:50 UTC (06:50 in Riyadh), after the nightly counts (03:40): on the first of the month it
# makes the month that ended, on the other days it only catches up a missed one.
@periodic_task(crontab(hour="3", minute="50"))
def monthly_report_task():
    """The previous month's report, on the first day of each month (or the first day the worker runs)."""
    return produce_due()


def latest(limit: int = 24) -> list[MonthlyReport]:
    return list(MonthlyReport.select().order_by(MonthlyReport.month.desc()).limit(limit))


def label_of(row: MonthlyReport) -> str:
    from .reports import month_of

    year, month = (int(p) for p in row.month.split("-"))
    return month_of(dt.date(year, month, 1), "gregorian")[2]

