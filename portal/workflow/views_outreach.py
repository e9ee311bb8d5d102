"""The outreach queue: officers take tasks ("assign to me"), work through them and log the contact they
made. The list is keyset-paged, filtered (kind, assignee, state, due dates) and sorted (portal.listing)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import labels
from ..auth import roles_required
from ..exports import Column, export_list
from ..hygiene import get_or_404
from ..listing import Sort, assignee_filter, choice_filter, date_range, keyset_page, work_list_query
from ..models import Beneficiary
from ..templating import render
from ..timeline import visible_beneficiary
from . import outreach as service
from .errors import WorkflowError
from .models import OutreachTask
from .views_cases import channel_options

bp = Blueprint("outreach", __name__, url_prefix="/outreach")

READ_ROLES = ("officer", "delegate", "manager", "admin")
WORK_ROLES = ("officer", "delegate", "admin")
STATES = ("open", "done", "dismissed")
SORTS = {
    "due": Sort(OutreachTask.due, _l("Due date"), descending=False),
    "created": Sort(OutreachTask.created_at, _l("Added")),
}


def task_filters(args, user, errors: dict):
    """``(query, kept)``: the tasks the filters in ``args`` select, and the cleaned filters for links."""
    query = work_list_query(OutreachTask)
    kept = {}
    state = args.get("state") or "open"
    if state not in STATES:
        state = "open"
    query = query.where(OutreachTask.status == state)
    if state != "open":
        kept["state"] = state
    query = choice_filter(query, OutreachTask.kind, args, "kind", service.KINDS, kept)
    query = assignee_filter(query, OutreachTask.assigned_to, args, user, kept)
    low, high = date_range(args, errors)
    if low:
        query = query.where(OutreachTask.due >= low)
        kept["from"] = args.get("from")
    if high:
        query = query.where(OutreachTask.due <= high)
        kept["to"] = args.get("to")
    if user.branch_limited:
        query = query.where(Beneficiary.branch == user.branch_id)
    return query, kept


def _context(errors=None, forms=None, filter_errors=None):
    filter_errors = {} if filter_errors is None else filter_errors
    query, kept = task_filters(request.args, current_user, filter_errors)
    page = keyset_page(query, SORTS, request.args, id_field=OutreachTask.id, default="due", filters=kept)
    return {"page": page, "tasks": page.rows, "kept": kept, "args": request.args, "filter_errors": filter_errors,
            "kind": kept.get("kind", ""), "kinds": service.KINDS, "states": STATES, "errors": errors or {},
            "forms": forms or {}, "channel_options": channel_options(),
            "can_work": current_user.has_role(*WORK_ROLES)}


@bp.get("/")
@roles_required(*READ_ROLES)
def queue():
    ctx = _context()
    return render("outreach/queue.html", block="tasks", **ctx), (422 if ctx["filter_errors"] else 200)


EXPORT_COLUMNS = [
    Column("kind", _l("Kind"), lambda t: labels.label(labels.OUTREACH_KIND, t.kind)),
    Column("file_number", _l("File number"), lambda t: t.beneficiary.file_number if t.beneficiary_id else ""),
    Column("beneficiary", _l("Beneficiary"), lambda t: t.beneficiary.full_name if t.beneficiary_id else ""),
    Column("mobile", _l("Mobile"), lambda t: t.beneficiary.mobile if t.beneficiary_id else ""),
    Column("reason", _l("Reason"), lambda t: t.reason),
    Column("due", _l("Due date"), lambda t: t.due, "date"),
    Column("status", _l("Status"), lambda t: t.status),
    Column("assigned_to", _l("Taken by"), lambda t: t.assigned_to.full_name if t.assigned_to_id else ""),
    Column("outcome", _l("Outcome"), lambda t: t.outcome),
    Column("done_at", _l("Done"), lambda t: t.done_at, "datetime"),
    Column("created_at", _l("Added"), lambda t: t.created_at, "datetime"),
]


@bp.get("/export.<fmt>")
@roles_required(*READ_ROLES)
def export(fmt):
    """The tasks the filters select, in the list's order, as CSV or XLSX."""
    return export_list(fmt, "outreach-tasks", EXPORT_COLUMNS, filters=task_filters, sorts=SORTS,
                       id_field=OutreachTask.id, default="due", object_type="outreach_list")


def _task(task_id: int) -> OutreachTask:
    task = get_or_404(OutreachTask, OutreachTask.id == task_id)
    if task.beneficiary_id is not None:
        visible_beneficiary(task.beneficiary_id)
    elif current_user.branch_limited:
        abort(403)
    return task


def _back() -> str:
    """Back to the list as the officer left it (filters, sort, page), never to another site."""
    target = request.form.get("next", "")
    if target.startswith("/outreach/") and not target.startswith("//"):
        return target
    return url_for("outreach.queue")


@bp.post("/<int:task_id>/complete")
@roles_required(*WORK_ROLES)
def complete(task_id):
    task = _task(task_id)
    form = request.form
    try:
        service.complete_task(task, actor=current_user._get_current_object(), channel=form.get("channel", ""),
                              summary=form.get("summary", ""), outcome=form.get("outcome", "done"),
                              body=form.get("body", ""))
    except WorkflowError as exc:
        key = f"task-{task.id}"
        return render("outreach/queue.html", **_context({key: dict(exc.fields, __all__=exc.message)},
                                                         {key: form.to_dict()})), exc.status
    flash(_("The task was handled."), "success")
    return redirect(_back())


@bp.post("/<int:task_id>/assign")
@roles_required(*WORK_ROLES)
def assign(task_id):
    """"Assign to me" (``take=1``) or give the task back (``take=0``)."""
    task = _task(task_id)
    take = request.form.get("take", "1") != "0"
    try:
        service.assign_task(task, actor=current_user._get_current_object(), take=take)
    except WorkflowError as exc:
        return render("outreach/queue.html", page_error=exc.message, **_context()), exc.status
    flash(_("The task is yours.") if take else _("The task is back with the team."), "success")
    return redirect(_back())
