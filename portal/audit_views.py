"""The audit log screen for admins and managers: filters (who, what, which record, when), keyset pages
(newest first, never a COUNT of the table) and a CSV export of what the filters select."""
from __future__ import annotations

import csv
import io
import json

from flask import Blueprint, Response, current_app, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import JOIN

from .audit import audit
from .exports import Column, export_response
from .auth import permission_required
from .dates import parse_date, saudi_days_bounds, to_saudi
from .hygiene import parse_int
from .models import AuditEvent, User
from .templating import render
from .text import clean_text
from .validators import ValidationError

bp = Blueprint("audit", __name__, url_prefix="/admin")

MAX_ID = 2**62
FILTER_LENGTHS = {"user": 60, "action": 30, "object_type": 40, "object_id": 40, "date_from": 20, "date_to": 20}


def _filters(args) -> tuple[dict, dict, object]:
    """(what was typed, errors, peewee condition or None)."""
    form = {k: clean_text(args.get(k, "")) for k in FILTER_LENGTHS}
    errors = {}
    conditions = []
    for key, limit in FILTER_LENGTHS.items():
        if len(form[key]) > limit:
            errors[key] = _("Too long: at most %(n)s characters.", n=limit)
    if form["user"] and "user" not in errors:
        user = User.get_or_none(User.username == form["user"].lower())
        if user is None:
            errors["user"] = _("No account has this username.")
        else:
            conditions.append(AuditEvent.actor == user.id)
    for key, field in (("action", AuditEvent.action), ("object_type", AuditEvent.object_type),
                       ("object_id", AuditEvent.object_id)):
        if form[key] and key not in errors:
            conditions.append(field == form[key])
    days = {}
    for key in ("date_from", "date_to"):
        if form[key] and key not in errors:
            try:
                days[key] = parse_date(form[key])
            except ValidationError as exc:
                errors[key] = str(exc.message)
    if days.get("date_from") and days.get("date_to") and days["date_to"] < days["date_from"]:
        errors["date_to"] = _("The end date is before the start date.")
    start, end = saudi_days_bounds(days.get("date_from"), days.get("date_to"))  # Saudi calendar days
    if start:
        conditions.append(AuditEvent.at >= start)
    if end:
        conditions.append(AuditEvent.at < end)
    condition = None
    for part in conditions:
        condition = part if condition is None else (condition & part)
    return form, errors, condition


def _query(condition):
    actor = User.alias()
    query = (AuditEvent.select(AuditEvent, actor).join(actor, JOIN.LEFT_OUTER, on=(AuditEvent.actor == actor.id),
                                                       attr="actor"))
    if condition is not None:
        query = query.where(condition)
    return query.order_by(AuditEvent.id.desc())


def _cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/audit")
@permission_required("audit.read")
def index():
    form, errors, condition = _filters(request.args)
    rows, next_before = [], None
    if not errors:
        size = int(current_app.config["AUDIT_PAGE_SIZE"])
        query = _query(condition)
        before = parse_int(request.args.get("before"), None, minimum=1, maximum=MAX_ID)
        if before:
            query = query.where(AuditEvent.id < before)
        rows = list(query.limit(size + 1))
        if len(rows) > size:
            rows = rows[:size]
            next_before = rows[-1].id
    query_args = {k: v for k, v in form.items() if v}
    return render("admin/audit.html", form=form, errors=errors, rows=rows, next_before=next_before,
                  query_args=query_args, first_page=not request.args.get("before")), (422 if errors else 200)


EXPORT_COLUMNS = [
    Column("id", "id", lambda r: r.id, "number"),
    Column("at", _l("When"), lambda r: r.at, "datetime"),
    Column("user", _l("User"), lambda r: r.actor.username if r.actor else ""),
    Column("action", _l("Action"), lambda r: r.action),
    Column("object_type", _l("Record type"), lambda r: r.object_type),
    Column("object_id", _l("Record"), lambda r: r.object_id),
    Column("ip", "IP", lambda r: r.ip),
    Column("details", _l("Details"), lambda r: json.dumps(r.details, ensure_ascii=False, sort_keys=True, default=str)
           if r.details else ""),
]


@bp.get("/audit.xlsx")
@permission_required("audit.read")
def export_xlsx():
    """What the filters select as an Excel workbook (``AUDIT_EXPORT_LIMIT`` rows at most, like the CSV)."""
    form, errors, condition = _filters(request.args)
    if errors:
        return render("admin/audit.html", form=form, errors=errors, rows=[], next_before=None,
                      query_args={}, first_page=True), 422
    rows = _query(condition).limit(int(current_app.config["AUDIT_EXPORT_LIMIT"]))
    return export_response("xlsx", "audit", EXPORT_COLUMNS, rows, object_type="audit_log",
                           filters={k: v for k, v in form.items() if v})


@bp.get("/audit.csv")
@permission_required("audit.read")
def export():
    form, errors, condition = _filters(request.args)
    if errors:
        rows, next_before = [], None
        return render("admin/audit.html", form=form, errors=errors, rows=rows, next_before=next_before,
                      query_args={}, first_page=True), 422
    limit = int(current_app.config["AUDIT_EXPORT_LIMIT"])
    audit("export", "audit_log", "", {k: v for k, v in form.items() if v} or None)
    rows = _query(condition).limit(limit)

    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")  # spreadsheet programs then read the file as UTF-8 (Arabic names)
        writer.writerow(["id", "at_utc", "at_riyadh", "user", "action", "object_type", "object_id", "ip",
                         "details"])
        for row in rows.iterator():
            writer.writerow([_cell(v) for v in (
                row.id, row.at.isoformat(), to_saudi(row.at).isoformat(),
                row.actor.username if row.actor else "", row.action, row.object_type, row.object_id, row.ip,
                json.dumps(row.details, ensure_ascii=False, sort_keys=True, default=str) if row.details else "",
            )])
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = Response(stream_with_context(generate()), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="audit.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
