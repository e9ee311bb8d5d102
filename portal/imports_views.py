"""Import screens: upload → column mapping → dry run with a report per row → the import with progress →
the rejected rows as XLSX. Every step works without JavaScript; htmx polls the progress."""
from __future__ import annotations

import tempfile

from flask import Blueprint, abort, current_app, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from . import imports as service
from .audit import audit
from .auth import EDIT_ROLES, roles_required
from .db import database
from .hygiene import get_or_404
from .jobs import task
from .models import ImportRun
from .templating import render

bp = Blueprint("imports", __name__, url_prefix="/imports")


@task()
def import_job(run_id: int, dry_run: bool):
    """A big file is checked or imported by the worker; its page shows the progress."""
    service.execute(run_id, dry_run=dry_run)


def _run_or_404(run_id: int) -> ImportRun:
    row = get_or_404(ImportRun, ImportRun.id == run_id)
    if row.created_by_id != current_user.id and not current_user.has_role("admin", "officer"):
        abort(404)  # a delegate's imports are theirs alone
    return row


def _start(row: ImportRun, dry_run: bool) -> None:
    """Small files inline (the answer shows the report); big ones as a job."""
    if row.total_rows <= int(current_app.config["IMPORT_INLINE_ROWS"]):
        service.execute(row.id, dry_run=dry_run)
    else:
        ImportRun.update(status="checking" if dry_run else "importing", processed_rows=0).where(
            ImportRun.id == row.id).execute()
        import_job(row.id, dry_run)


@bp.route("/", methods=["GET", "POST"])
@roles_required(*EDIT_ROLES)
def index():
    error = None
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            error = _("Choose a file to upload.")
        else:
            limit = service.max_bytes()
            data = upload.stream.read(limit + 1)
            try:
                if len(data) > limit:
                    raise service.ImportFileError(_("The file is larger than %(mb)s MB.", mb=limit // (1024 * 1024)))
                row = service.store_file(data, upload.filename, actor=current_user._get_current_object())
            except service.ImportFileError as exc:
                error = str(exc.message)
            else:
                return redirect(url_for("imports.mapping", run_id=row.id))
    runs = ImportRun.select().order_by(ImportRun.id.desc()).limit(20)
    if not current_user.has_role("admin", "officer"):
        runs = runs.where(ImportRun.created_by == current_user.id)
    return render("imports/index.html", runs=list(runs), error=error,
                  max_mb=int(current_app.config["MAX_UPLOAD_MB"])), (422 if error else 200)


@bp.route("/<int:run_id>/mapping", methods=["GET", "POST"])
@roles_required(*EDIT_ROLES)
def mapping(run_id):
    row = _run_or_404(run_id)
    if row.status in ("importing", "done"):
        return redirect(url_for("imports.show", run_id=row.id))
    headers = row.headers or []
    problems = []
    if request.method == "POST":
        chosen = {}
        for index in range(len(headers)):
            value = request.form.get(f"col{index}", "")
            if value in service.FIELDS:
                chosen[str(index)] = value
        problems = service.mapping_errors(chosen)
        if not problems:
            with database.atomic():
                ImportRun.update(mapping=chosen, status="uploaded").where(ImportRun.id == row.id).execute()
                audit("update", "import_run", row.id, {"mapping": chosen})
            row = ImportRun.get_by_id(row.id)
            _start(row, dry_run=True)
            return redirect(url_for("imports.show", run_id=row.id))
        current = chosen
    else:
        current = row.mapping or {}
    table = service.load_table(row)
    sample = [cells for _n, cells in table.rows[:3]]
    return render("imports/mapping.html", run=row, headers=headers, current=current, fields=service.FIELDS,
                  sample=sample, problems=[str(p) for p in problems]), (422 if problems else 200)


@bp.get("/<int:run_id>")
@roles_required(*EDIT_ROLES)
def show(run_id):
    row = _run_or_404(run_id)
    return render("imports/show.html", block="progress", run=row, report=row.report or {})


@bp.get("/<int:run_id>/progress")
@roles_required(*EDIT_ROLES)
def progress(run_id):
    row = _run_or_404(run_id)
    return render("imports/show.html", block="progress", run=row, report=row.report or {})


@bp.post("/<int:run_id>/run")
@roles_required(*EDIT_ROLES)
def start(run_id):
    row = _run_or_404(run_id)
    if row.status != "checked":
        flash(_("Check the file (the dry run) before importing it."), "error")
        return redirect(url_for("imports.show", run_id=row.id))
    # One import per run, whatever the double clicks: only the request that moves it on goes ahead.
    moved = ImportRun.update(status="importing").where(
        (ImportRun.id == row.id) & (ImportRun.status == "checked")).execute()
    if moved:
        _start(ImportRun.get_by_id(row.id), dry_run=False)
    return redirect(url_for("imports.show", run_id=row.id))


@bp.get("/<int:run_id>/rejected.xlsx")
@roles_required(*EDIT_ROLES)
def rejected(run_id):
    row = _run_or_404(run_id)
    out = tempfile.TemporaryFile()
    count = service.rejected_xlsx(row, out)
    out.seek(0)
    audit("export", "import_rejected", row.id, {"rows": count})
    return send_file(out, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     as_attachment=True, download_name=f"rejected-{row.id}.xlsx")
