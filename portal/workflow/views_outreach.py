"""The outreach queue: officers work through the tasks and log the contact they made."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import roles_required
from ..hygiene import get_or_404
from ..templating import render
from ..timeline import visible_beneficiary
from . import outreach as service
from .errors import WorkflowError
from .models import OutreachTask
from .views_cases import channel_options

bp = Blueprint("outreach", __name__, url_prefix="/outreach")

READ_ROLES = ("officer", "delegate", "manager", "admin")
WORK_ROLES = ("officer", "delegate", "admin")


def _context(errors=None, forms=None):
    kind = request.args.get("kind") or ""
    if kind not in service.KINDS:
        kind = ""
    query = service.open_tasks(current_user, kind or None)
    total = query.count()
    tasks = list(query.limit(200))
    return {"tasks": tasks, "total": total, "kind": kind, "kinds": service.KINDS, "errors": errors or {},
            "forms": forms or {}, "channel_options": channel_options(),
            "can_work": current_user.has_role(*WORK_ROLES)}


@bp.get("/")
@roles_required(*READ_ROLES)
def queue():
    return render("outreach/queue.html", block="tasks", **_context())


@bp.post("/<int:task_id>/complete")
@roles_required(*WORK_ROLES)
def complete(task_id):
    task = get_or_404(OutreachTask, OutreachTask.id == task_id)
    if task.beneficiary_id is not None:
        visible_beneficiary(task.beneficiary_id)
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
    return redirect(url_for("outreach.queue"))
