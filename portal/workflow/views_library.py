"""The officer's library: search, a document's versions, downloads; admins add documents and versions."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import STAFF_ROLES, roles_required
from ..hygiene import get_or_404
from ..templating import render
from . import library as service
from .errors import WorkflowError
from .models import LibraryDocument, LibraryVersion

bp = Blueprint("library", __name__, url_prefix="/library")


@bp.get("/")
@roles_required(*STAFF_ROLES)
def index(errors=None, form=None):
    q = request.args.get("q", "")[:200]
    docs = service.search(q)
    current = {d.id: service.current_version(d) for d in docs}
    return render("library/index.html", block="results", docs=docs, q=q, current=current, errors=errors or {},
                  form=form or {})


@bp.post("/")
@roles_required("admin")
def create():
    try:
        doc = service.create_document(kind=request.form.get("kind", ""), title_ar=request.form.get("title_ar", ""),
                                      title_en=request.form.get("title_en", ""), actor=current_user._get_current_object())
    except WorkflowError as exc:
        errors = dict(exc.fields, __all__=exc.message)
        docs = service.search("")
        return render("library/index.html", docs=docs, q="", current={d.id: service.current_version(d) for d in docs},
                      errors=errors, form=request.form.to_dict()), exc.status
    flash(_("The document was added to the library."), "success")
    return redirect(url_for("library.show", doc_id=doc.id))


def _doc(doc_id):
    return get_or_404(LibraryDocument, LibraryDocument.id == doc_id)


@bp.get("/<int:doc_id>")
@roles_required(*STAFF_ROLES)
def show(doc_id, errors=None, form=None):
    doc = _doc(doc_id)
    versions = list(doc.versions.order_by(LibraryVersion.effective_from.desc(), LibraryVersion.id.desc()))
    return render("library/show.html", doc=doc, versions=versions, current=service.current_version(doc),
                  errors=errors or {}, form=form or {})


@bp.post("/<int:doc_id>/versions")
@roles_required("admin")
def add_version(doc_id):
    doc = _doc(doc_id)
    try:
        service.add_version(doc, label=request.form.get("label", ""), effective_from=request.form.get("effective_from"),
                            notes=request.form.get("notes", ""), upload=request.files.get("file"),
                            actor=current_user._get_current_object())
    except WorkflowError as exc:
        versions = list(doc.versions.order_by(LibraryVersion.effective_from.desc()))
        return render("library/show.html", doc=doc, versions=versions, current=service.current_version(doc),
                      errors=dict(exc.fields, __all__=exc.message), form=request.form.to_dict()), exc.status
    flash(_("The new version was added."), "success")
    return redirect(url_for("library.show", doc_id=doc.id))


@bp.get("/versions/<int:version_id>/file")
@roles_required(*STAFF_ROLES)
def file(version_id):
    from ..uploads import path_for

    version = get_or_404(LibraryVersion, LibraryVersion.id == version_id, LibraryVersion.sha256 != "")
    return send_file(path_for(version.sha256), mimetype=version.content_type, download_name=version.file_name,
                     as_attachment=False)
