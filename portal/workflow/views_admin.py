"""Administration of the workflow: request types with their checklists and questions, the
declaration text (every version kept)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import roles_required
from ..hygiene import get_or_404
from ..models import CATEGORIES
from ..templating import render
from . import intake, types
from .errors import WorkflowError
from .models import DeclarationText, EligibilityQuestion, RequestType

bp = Blueprint("request_types", __name__, url_prefix="/admin")


def _user():
    return current_user._get_current_object()


@bp.get("/request-types")
@roles_required("admin")
def index():
    rows = list(RequestType.select().order_by(RequestType.position, RequestType.id))
    return render("admin/request_types.html", rows=rows, hijri_months=hijri_months())


def _form_of(rtype):
    if rtype is None:
        return {"active": "1", "public": "1", "position": "100", "documents": ["national_id"]}
    return {"code": rtype.code, "name_ar": rtype.name_ar, "name_en": rtype.name_en,
            "description_ar": rtype.description_ar, "description_en": rtype.description_en,
            "active": "1" if rtype.active else "", "public": "1" if rtype.public else "",
            "eligible_categories": list(rtype.category_set), "season_hijri_month": rtype.season_hijri_month or "",
            "position": str(rtype.position), "documents": [d.kind for d in rtype.required_documents]}


def hijri_months() -> list[str]:
    from flask_babel import get_locale

    from ..dates import HIJRI_MONTHS_AR, HIJRI_MONTHS_EN

    return HIJRI_MONTHS_AR if str(get_locale() or "ar") == "ar" else HIJRI_MONTHS_EN


def _edit_page(rtype, form, errors, status=200, qform=None, qerrors=None):
    qs = list(rtype.questions.order_by(EligibilityQuestion.position)) if rtype else []
    options = [(str(n), name) for n, name in enumerate(hijri_months(), start=1)]
    return render("admin/request_type_form.html", rtype=rtype, form=form, errors=errors, questions=qs,
                  hijri_month_options=options,
                  categories=CATEGORIES, qform=qform or {"required": "1"}, qerrors=qerrors or {}), status


def _posted():
    form = request.form.to_dict()
    form["documents"] = request.form.getlist("documents")
    form["eligible_categories"] = request.form.getlist("eligible_categories")
    return form


@bp.route("/request-types/new", methods=["GET", "POST"])
@roles_required("admin")
def new():
    if request.method == "GET":
        return _edit_page(None, _form_of(None), {})
    form = _posted()
    try:
        rtype = types.save_type(form, actor=_user())
    except WorkflowError as exc:
        return _edit_page(None, form, dict(exc.fields, __all__=exc.message), exc.status)
    flash(_("The request type was saved."), "success")
    return redirect(url_for("request_types.edit", type_id=rtype.id))


def _type(type_id):
    return get_or_404(RequestType, RequestType.id == type_id)


@bp.route("/request-types/<int:type_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit(type_id):
    rtype = _type(type_id)
    if request.method == "GET":
        return _edit_page(rtype, _form_of(rtype), {})
    form = _posted()
    try:
        types.save_type(form, existing=rtype, actor=_user())
    except WorkflowError as exc:
        return _edit_page(rtype, form, dict(exc.fields, __all__=exc.message), exc.status)
    flash(_("The request type was saved."), "success")
    return redirect(url_for("request_types.edit", type_id=rtype.id))


@bp.post("/request-types/<int:type_id>/questions")
@roles_required("admin")
def add_question(type_id):
    rtype = _type(type_id)
    try:
        types.add_question(rtype, request.form.to_dict(), actor=_user())
    except WorkflowError as exc:
        return _edit_page(rtype, _form_of(rtype), {}, exc.status, request.form.to_dict(),
                          dict(exc.fields, __all__=exc.message))
    flash(_("The question was added."), "success")
    return redirect(url_for("request_types.edit", type_id=rtype.id) + "#questions")


@bp.post("/request-types/<int:type_id>/questions/<int:question_id>/retire")
@roles_required("admin")
def retire_question(type_id, question_id):
    rtype = _type(type_id)
    question = EligibilityQuestion.get_or_none((EligibilityQuestion.id == question_id)
                                               & (EligibilityQuestion.request_type == rtype))
    if question is None:
        abort(404)
    types.retire_question(question, actor=_user())
    flash(_("The question is no longer asked."), "success")
    return redirect(url_for("request_types.edit", type_id=rtype.id) + "#questions")


@bp.route("/declaration", methods=["GET", "POST"])
@roles_required("admin")
def declaration():
    errors, form, status = {}, {}, 200
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            intake.publish_declaration_text(form.get("text_ar", ""), form.get("text_en", ""), actor=_user())
        except WorkflowError as exc:
            errors, status = dict(exc.fields, __all__=exc.message), exc.status
        else:
            flash(_("A new version of the declaration text was published."), "success")
            return redirect(url_for("request_types.declaration"))
    current = intake.current_declaration_text()
    if not form:
        form = {"text_ar": current.text_ar, "text_en": current.text_en}
    versions = list(DeclarationText.select().order_by(DeclarationText.version.desc()))
    return render("admin/declaration.html", current=current, versions=versions, form=form, errors=errors), status


# --- the wording of the notices to beneficiaries (portal.workflow.notices) --------------------------

@bp.get("/notices")
@roles_required("admin")
def notice_texts():
    from . import notices
    from .models import NoticeText

    saved = {row.key: row for row in NoticeText.select()}
    rows = [(key, notices.KEY_LABELS[key], notices.wording(key, saved.get(key))) for key in notices.KEYS]
    return render("admin/notices.html", rows=rows, purposes=notices.PURPOSES)


@bp.route("/notices/<key>", methods=["GET", "POST"])
@roles_required("admin")
def notice_text(key):
    """Edit one notice: Arabic and English text, the WhatsApp template; "Preview" shows both texts with
    made-up values and saves nothing; an unknown placeholder is refused and the form keeps the text."""
    from . import notices

    if key not in notices.KEYS:
        abort(404)
    current = notices.wording(key)
    form = {"text_ar": current["ar"], "text_en": current["en"], "template": current["template"]}
    errors, status, preview = {}, 200, None
    if request.method == "POST":
        if request.form.get("action") == "reset":
            notices.reset_wording(key, actor=_user())
            flash(_("The notice is back to its default text."), "success")
            return redirect(url_for("request_types.notice_text", key=key))
        form = {name: request.form.get(name, "") for name in ("text_ar", "text_en", "template")}
        if request.form.get("action") == "preview":
            checked: dict = {}
            for lang in ("ar", "en"):
                notices.check_text(key, form[f"text_{lang}"], f"text_{lang}", checked)
            errors = checked
            if not errors:
                preview = {lang: notices.fill(form[f"text_{lang}"].replace("\r\n", "\n"),
                                              notices.sample_values(key, lang)) for lang in ("ar", "en")}
            else:
                errors["__all__"] = _("The text was not saved. Check the fields marked below.")
                status = 422
        else:
            try:
                notices.save_wording(key, text_ar=form["text_ar"], text_en=form["text_en"],
                                     template=form["template"], actor=_user())
            except notices.NoticeTextError as exc:
                errors = dict(exc.errors, __all__=_("The text was not saved. Check the fields marked below."))
                status = 422
            else:
                flash(_("The notice text was saved."), "success")
                return redirect(url_for("request_types.notice_text", key=key))
    return render("admin/notice_form.html", key=key, label=notices.KEY_LABELS[key], form=form, errors=errors,
                  preview=preview, custom=current["custom"],
                  placeholders=notices.allowed_placeholders(key)), status
