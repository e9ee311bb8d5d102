"""Beneficiary screens: live search, create and edit with duplicate handling, the profile."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from . import beneficiaries_service as service
from .audit import audit
from .auth import EDIT_ROLES, STAFF_ROLES, roles_required
from . import labels
from .dates import parse_date
from .exports import Column, check_format, export_response, ordered
from .db import database
from .hygiene import parse_int
from .listing import Sort, choice_filter, keyset_page
from .models import CATEGORIES, Beneficiary, Branch, Case, Document, HouseholdMember
from .scope import scope_cases
from .templating import render
from .text import clean_text
from .timeline import contact_form_for, timeline_context, visible_beneficiary
from .uploads import path_for
from .validators import ValidationError, clean_national_id

bp = Blueprint("beneficiaries", __name__, url_prefix="/beneficiaries")

RELATIONS = ("spouse", "son", "daughter", "father", "mother", "brother", "sister", "other")


def _form_choices():
    """A branch delegate is offered their own branch only."""
    branches = Branch.select().order_by(Branch.name_ar)
    own = service.registers_in_branch(current_user)
    if own is not None:
        branches = branches.where(Branch.id == own)
    return {
        "categories": CATEGORIES,
        "branches": list(branches),
    }


SORTS = {
    "updated": Sort(Beneficiary.updated_at, _l("Last update")),
    "created": Sort(Beneficiary.created_at, _l("Registered")),
    "name": Sort(Beneficiary.name_search, _l("Name"), descending=False),
    "file": Sort(Beneficiary.file_number, _l("File number"), descending=False),
}


def list_filters(args, user):
    """The list's search and filters, cleaned and scoped to ``user``: ``(query, kept)``."""
    q = args.get("q", "")
    query = service.search_query(q, user)
    kept = {"q": q.strip()[:100]} if q.strip() else {}
    query = choice_filter(query, Beneficiary.category, args, "category", CATEGORIES, kept)
    branch = parse_int(args.get("branch"))
    if branch:
        query = query.where(Beneficiary.branch == branch)
        kept["branch"] = branch
    return query, kept


EXPORT_COLUMNS = [
    Column("file_number", _l("File number"), lambda b: b.file_number),
    Column("name", _l("Name"), lambda b: b.full_name),
    Column("national_id", _l("ID number"), lambda b: b.national_id),
    Column("mobile", _l("Mobile"), lambda b: b.mobile),
    Column("gender", _l("Gender"), lambda b: labels.label(labels.GENDER, b.gender)),
    Column("birth_date", _l("Birth date"), lambda b: b.birth_date, "date"),
    Column("category", _l("Category"), lambda b: labels.label(labels.CATEGORY, b.category)),
    Column("status", _l("Status"), lambda b: labels.label(labels.BENEFICIARY_STATUS, b.status)),
    Column("city", _l("City"), lambda b: b.city),
    Column("district", _l("District"), lambda b: b.district),
    Column("branch", _l("Branch"), lambda b: b.branch.name_ar if b.branch_id else ""),
    Column("created_at", _l("Registered"), lambda b: b.created_at, "datetime"),
    Column("updated_at", _l("Last update"), lambda b: b.updated_at, "datetime"),
]


@bp.get("/export.<fmt>")
@roles_required(*STAFF_ROLES)
def export(fmt):
    """The list as on screen (same search, filters, order and scope), every row, as CSV or XLSX."""
    check_format(fmt)
    query, kept = list_filters(request.args, current_user)
    query = ordered(query, SORTS, request.args, id_field=Beneficiary.id,
                    default="name" if kept.get("q") else "updated")
    return export_response(fmt, "beneficiaries", EXPORT_COLUMNS, query, object_type="beneficiary_list",
                           filters=kept)


@bp.get("/")
@roles_required(*STAFF_ROLES)
def index():
    """Search (name, ID, mobile in any format, file number, reference) or browse, keyset-paged, with the
    category and branch filters; the page size is ``SEARCH_LIMIT``."""
    q = request.args.get("q", "")
    query, kept = list_filters(request.args, current_user)
    page = keyset_page(query, SORTS, request.args, id_field=Beneficiary.id, default="name" if q.strip() else "updated",
                       filters=kept, size=current_app.config["SEARCH_LIMIT"])
    if q.strip():  # a look-up (by name, ID, mobile, reference) tells who is on file: audited
        audit("read", "beneficiary_list", "", {"q": q[:100], "results": [b.id for b in page.rows]})
    return render("beneficiaries/index.html", block="results", q=q, results=page.rows, page=page, kept=kept,
                  categories=CATEGORIES, branches=list(Branch.select().order_by(Branch.name_ar)))


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*EDIT_ROLES)
def create():
    form = request.form.to_dict() if request.method == "POST" else {}
    errors, warnings, duplicate = {}, [], None
    if request.method == "POST":
        res = service.validate(form, actor=current_user._get_current_object())
        errors, warnings, duplicate = res.errors, res.warnings, res.duplicate
        if res.ok and warnings and not form.get("confirm_warnings"):
            pass  # show the warnings with links; the officer confirms to save anyway
        elif res.ok:
            ben = service.create(res.values, actor=current_user._get_current_object())
            flash(_("The beneficiary was registered with file number %(n)s.", n=ben.file_number), "success")
            return redirect(url_for("beneficiaries.profile", ben_id=ben.id))
    elif service.registers_in_branch(current_user) is not None and current_user.branch_id:
        form["branch"] = str(current_user.branch_id)
    status = 422 if errors else 200
    return render("beneficiaries/form.html", form=form, errors=errors, warnings=warnings, duplicate=duplicate,
                  ben=None, **_form_choices()), status


@bp.route("/<int:ben_id>/edit", methods=["GET", "POST"])
@roles_required(*EDIT_ROLES)
def edit(ben_id):
    ben = visible_beneficiary(ben_id)
    if ben.erased_at:  # anonymised (portal.privacy.erase): nothing may fill it again
        flash(_("This file was erased; its data can no longer be changed."), "error")
        return redirect(url_for("beneficiaries.profile", ben_id=ben.id))
    errors, warnings, duplicate, conflict = {}, [], None, False
    if request.method == "POST":
        form = request.form.to_dict()
        res = service.validate(form, existing=ben, actor=current_user._get_current_object())
        errors, warnings, duplicate = res.errors, res.warnings, res.duplicate
        try:
            version = int(form.get("version", ""))
        except ValueError:
            version = -1
        if res.ok and warnings and not form.get("confirm_warnings"):
            pass
        elif res.ok:
            try:
                service.update(ben, res.values, version, actor=current_user._get_current_object())
            except service.Conflict:
                conflict = True
                errors["__all__"] = _(
                    "Someone else saved this file while you were editing it. Your changes were not saved: "
                    "review the current data below and enter your changes again."
                )
            else:
                flash(_("The changes were saved."), "success")
                return redirect(url_for("beneficiaries.profile", ben_id=ben.id))
    else:
        form = _form_from(ben)
    if conflict:
        ben = visible_beneficiary(ben_id)
    status = 409 if conflict else (422 if errors else 200)
    return render("beneficiaries/form.html", form=form, errors=errors, warnings=warnings, duplicate=duplicate,
                  ben=ben, conflict=conflict, current=_form_from(ben) if conflict else None,
                  **_form_choices()), status


def _form_from(ben) -> dict:
    data = {k: getattr(ben, k) for k in service.FIELDS if k != "branch"}
    data["branch"] = str(ben.branch_id or "")
    for key in ("id_expiry", "birth_date"):
        data[key] = data[key].isoformat() if data[key] else ""
    data["version"] = str(ben.version)
    return data


def profile_context(ben, contact_form=None, **extra):
    household = list(ben.household.order_by(HouseholdMember.id))
    documents = list(ben.documents.order_by(Document.expiry_date.desc(), Document.id.desc()))
    cases = list(scope_cases(ben.cases, current_user).order_by(Case.id.desc()))
    ctx = {
        "ben": ben, "household": household, "documents": documents, "cases": cases,
        "contact_form": contact_form or contact_form_for(ben), "relations": RELATIONS,
        "document_kinds": service.DOCUMENT_KINDS,
    }
    ctx.update(timeline_context(ben))
    ctx.update(extra)
    return ctx


@bp.get("/<int:ben_id>")
@roles_required(*STAFF_ROLES)
def profile(ben_id):
    ben = visible_beneficiary(ben_id)
    audit("read", "beneficiary", ben.id)
    return render("beneficiaries/profile.html", **profile_context(ben))


@bp.post("/<int:ben_id>/household")
@roles_required(*EDIT_ROLES)
def add_household(ben_id):
    ben = visible_beneficiary(ben_id)
    data = request.form.to_dict()
    errors = {}
    name = clean_text(data.get("name"))
    relation = data.get("relation", "")
    if not name:
        errors["name"] = _("This field is required.")
    elif len(name) > 200:
        errors["name"] = _("Too long: at most %(n)s characters.", n=200)
    if relation not in RELATIONS:
        errors["relation"] = _("Choose the relation.")
    national_id = ""
    if data.get("national_id"):
        try:
            national_id = clean_national_id(data["national_id"])
        except ValidationError as exc:
            errors["national_id"] = str(exc.message)
    birth_date = None
    try:
        birth_date = parse_date(data.get("birth_date"))
    except ValidationError as exc:
        errors["birth_date"] = str(exc.message)
    if errors:
        return render("beneficiaries/profile.html", **profile_context(
            ben, household_form=data, household_errors=errors)), 422
    with database.atomic():
        member = HouseholdMember.create(beneficiary=ben, name=name, relation=relation, national_id=national_id,
                                        birth_date=birth_date, gender=data.get("gender", "")[:1],
                                        has_income=bool(data.get("has_income")))
        audit("create", "household_member", member.id, {"beneficiary": ben.id})
    flash(_("The household member was added."), "success")
    return redirect(url_for("beneficiaries.profile", ben_id=ben.id) + "#household")


@bp.post("/<int:ben_id>/documents")
@roles_required(*EDIT_ROLES)
def add_document(ben_id):
    ben = visible_beneficiary(ben_id)
    data = request.form.to_dict()
    values, errors = service.document_values(data, upload=request.files.get("file"))
    if errors:
        return render("beneficiaries/profile.html", **profile_context(
            ben, document_form=data, document_errors=errors)), 422
    with database.atomic():
        doc = Document.create(beneficiary=ben, uploaded_by=current_user._get_current_object(), **values)
        audit("create", "document", doc.id, {"beneficiary": ben.id, "kind": doc.kind})
    flash(_("The document was added."), "success")
    return redirect(url_for("beneficiaries.profile", ben_id=ben.id) + "#documents")


@bp.get("/<int:ben_id>/documents/<int:doc_id>/file")
@roles_required(*STAFF_ROLES)
def document_file(ben_id, doc_id):


    ben = visible_beneficiary(ben_id)
    doc = Document.get_or_none((Document.id == doc_id) & (Document.beneficiary == ben))
    if doc is None or not doc.file_sha256:
        abort(404)
    audit("read", "document", doc.id, {"beneficiary": ben.id})
    return send_file(path_for(doc.file_sha256), mimetype=doc.content_type, download_name=doc.file_name,
                     as_attachment=True)
