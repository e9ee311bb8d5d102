"""The reports page (``/reports/``): a period chosen in Hijri or Gregorian months, each section's tables with
their charts, every table out to CSV and XLSX, and the monthly report PDFs (made by the worker, or here on
demand by a manager or an admin)."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from . import monthly_report, reports
from .audit import audit
from .auth import roles_required
from .dates import parse_date, saudi_today
from .exports import Column, check_format, export_response
from .hygiene import get_or_404
from .models import Branch, MonthlyReport
from .templating import render
from .validators import ValidationError

bp = Blueprint("reports", __name__, url_prefix="/reports")
MONTHLY_ROLES = reports.ALL_BRANCH_ROLES


def _form_state():
    """The period, the branch and the messages of the report form."""
    errors: dict = {}
    period = reports.parse_period(request.args, errors)
    branch = reports.branch_for(current_user, request.args.get("branch"), errors)
    return period, branch, errors


def _kept_args() -> dict:
    return {k: request.args.get(k) for k in ("period", "calendar", "from", "to", "branch") if request.args.get(k)}


@bp.get("/")
@roles_required(*reports.REPORT_ROLES)
def index():
    period, branch, errors = _form_state()
    sections = reports.build(period, branch, current_user) if period and not errors else []
    all_branches = current_user.has_role(*reports.ALL_BRANCH_ROLES)
    context = {
        "period": period, "branch": branch, "errors": errors, "sections": sections, "args": request.args,
        "kept": _kept_args(), "branches": list(Branch.select().order_by(Branch.name_ar)) if all_branches else [],
        "all_branches": all_branches, "own_branch": None if all_branches else Branch.get_or_none(
            Branch.id == branch),
        "monthly": monthly_report.latest() if all_branches else [], "month_label": monthly_report.label_of,
        "may_produce": all_branches, "default_month": month_default(),
    }
    return render("reports/index.html", **context), (422 if errors else 200)


@bp.get("/export/<key>.<fmt>")
@roles_required(*reports.REPORT_ROLES)
def export(key, fmt):
    check_format(fmt)
    period, branch, errors = _form_state()
    if errors or period is None:
        abort(422)
    table = reports.find_table(reports.build(period, branch, current_user), key)
    if table is None:
        abort(404)
    kinds = table.kinds or ["number"] * (len(table.head) - 1)
    columns = [Column("label", table.head[0], lambda r: r[0])]
    columns += [Column(f"c{i}", head, (lambda r, i=i: r[1][i]), kinds[i] if i < len(kinds) else "number")
                for i, head in enumerate(table.head[1:])]
    filters = {"first": period.first.isoformat(), "last": period.last.isoformat(), "calendar": period.calendar,
               "branch": "" if branch is None else branch, "table": key}
    return export_response(fmt, f"report-{key}", columns, table.rows, object_type="report", filters=filters)


@bp.post("/monthly")
@roles_required(*MONTHLY_ROLES)
def produce():
    raw = (request.form.get("month") or "").strip()
    try:
        day = parse_date(raw + "-01", calendar="gregorian") if raw.count("-") == 1 else parse_date(raw)
    except ValidationError:
        day = None
    today = saudi_today()
    if day is None or day.replace(day=1) > today.replace(day=1) or day.year < 2000:
        flash(_("Choose a month that has begun, as YYYY-MM."), "error")
        return redirect(url_for("reports.index"))
    row = monthly_report.produce(day, actor=current_user)
    flash(_("The monthly report of %(month)s is ready.", month=monthly_report.label_of(row)), "success")
    return redirect(url_for("reports.index", _anchor="monthly"))


@bp.get("/monthly/<int:report_id>.pdf")
@roles_required(*MONTHLY_ROLES)
def download(report_id):
    from .uploads import read_stored

    row = get_or_404(MonthlyReport, MonthlyReport.id == report_id)
    try:
        data = read_stored(row.sha256)
    except (OSError, ValueError):
        abort(404)
    audit("read", "monthly_report", row.id, {"month": row.month})
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{row.file_name}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def month_default() -> str:
    return (saudi_today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
