"""The volunteering part of the managers' reports and of the monthly report (the ``report_sections`` hook): the
volunteer hours approved in the period by kind of task, the volunteers who gave them, and the beneficiaries served
by volunteers. A delegate's report counts the opportunities of their branch."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import fn

from portal.dates import saudi_days_bounds
from portal.reports import Figure, Section, Table, chart_for

from .models import Assignment, HoursLog, Opportunity, Service
from .service import KINDS


def report_sections(start, end, branch):
    hours = (HoursLog.select(Opportunity.kind, fn.SUM(HoursLog.hours), fn.COUNT(fn.DISTINCT(HoursLog.volunteer)))
             .join(Assignment, on=(HoursLog.assignment == Assignment.id))
             .join(Opportunity, on=(Assignment.opportunity == Opportunity.id))
             .where((HoursLog.state == "approved") & (HoursLog.day >= start) & (HoursLog.day <= end))
             .group_by(Opportunity.kind))
    lo, hi = saudi_days_bounds(start, end)
    served = (Service.select(fn.COUNT(Service.id), fn.COUNT(fn.DISTINCT(Service.beneficiary)))
              .join(Assignment, on=(Service.assignment == Assignment.id))
              .join(Opportunity, on=(Assignment.opportunity == Opportunity.id))
              .where((Service.created_at >= lo) & (Service.created_at < hi)))
    volunteers = (HoursLog.select(fn.COUNT(fn.DISTINCT(HoursLog.volunteer)))
                  .join(Assignment, on=(HoursLog.assignment == Assignment.id))
                  .join(Opportunity, on=(Assignment.opportunity == Opportunity.id))
                  .where((HoursLog.state == "approved") & (HoursLog.day >= start) & (HoursLog.day <= end)))
    if branch is not None:
        hours = hours.where(Opportunity.branch == branch)
        served = served.where(Opportunity.branch == branch)
        volunteers = volunteers.where(Opportunity.branch == branch)
    rows = [(str(KINDS.get(kind, KINDS["other"])), [round(float(total or 0), 2), int(people)])
            for kind, total, people in hours.tuples()]
    rows.sort(key=lambda r: (-r[1][0], r[0]))
    table = Table("volunteering_hours_by_kind", _l("Approved volunteer hours by kind of task"),
                  [_("Kind of task"), _("Hours"), _("Volunteers")], rows)
    table.chart = chart_for(table, [0])
    services, people_served = served.tuples().get()
    return [Section("volunteering", _l("Volunteering"), [
        Figure("volunteer_hours", _l("Approved volunteer hours"), round(sum(r[1][0] for r in rows), 2)),
        Figure("volunteers", _l("Volunteers who gave hours"), int(volunteers.scalar() or 0)),
        Figure("served_by_volunteers", _l("Beneficiaries served by volunteers"), int(people_served or 0)),
        Figure("volunteer_services", _l("Services given by volunteers"), int(services or 0)),
    ], [table])]
