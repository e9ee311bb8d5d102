"""Admin management of request types: names, checklist of required documents, eligibility questions."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from ..audit import audit
from ..db import database, utcnow
from ..labels import DOCUMENT_KIND
from ..models import CATEGORIES, User
from ..text import clean_text, fold_digits
from ..validators import clean_texts
from .errors import WorkflowError
from .models import ANSWER_KINDS, EligibilityQuestion, RequestType, RequiredDocument

CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,59}$")


def validate_type(form: dict, existing: RequestType | None = None) -> dict:
    """Clean the request-type form; raises WorkflowError with per-field messages."""
    errors, values = {}, {}
    code = clean_text(form.get("code")).lower() if existing is None else existing.code
    if existing is None:
        if not CODE_RE.match(code):
            errors["code"] = _l("Use 2-60 lower-case Latin letters, digits or _, starting with a letter.")
        elif RequestType.select().where(RequestType.code == code).exists():
            errors["code"] = _l("This code is already used.")
    values["code"] = code
    values.update(clean_texts(form, (("name_ar", 120, True), ("name_en", 120, False), ("description_ar", 2000, False),
                                     ("description_en", 2000, False)), errors))
    values["active"] = bool(form.get("active"))
    values["public"] = bool(form.get("public"))
    cats = form.get("eligible_categories") or []
    if isinstance(cats, str):
        cats = [c for c in cats.split(",") if c]
    if any(c not in CATEGORIES for c in cats):
        errors["eligible_categories"] = _l("Unknown category.")
    values["eligible_categories"] = ",".join(c for c in CATEGORIES if c in cats)
    month = fold_digits(str(form.get("season_hijri_month") or "")).strip()
    values["season_hijri_month"] = None
    if month:
        if not month.isdigit() or not 1 <= int(month) <= 12:
            errors["season_hijri_month"] = _l("Choose a Hijri month.")
        else:
            values["season_hijri_month"] = int(month)
    position = fold_digits(str(form.get("position") or "100")).strip()
    if not position.isdigit() or int(position) > 10000:
        errors["position"] = _l("Enter a whole number.")
    else:
        values["position"] = int(position)
    docs = form.get("documents") or []
    if isinstance(docs, str):
        docs = [d for d in docs.split(",") if d]
    if any(d not in DOCUMENT_KIND for d in docs):
        errors["documents"] = _l("Unknown document type.")
    values["documents"] = [d for d in DOCUMENT_KIND if d in docs]
    if errors:
        raise WorkflowError(_l("The request type was not saved. Check the fields marked below."), errors)
    return values


def save_type(form: dict, *, existing: RequestType | None = None, actor: User | None = None) -> RequestType:
    """Create or update a request type and replace its checklist with the chosen documents."""
    values = validate_type(form, existing)
    documents = values.pop("documents")
    with database.atomic():
        if existing is None:
            rtype = RequestType.create(**values)
        else:
            values.pop("code")
            RequestType.update(updated_at=utcnow(), **values).where(RequestType.id == existing.id).execute()
            rtype = RequestType.get_by_id(existing.id)
        RequiredDocument.delete().where((RequiredDocument.request_type == rtype)
                                        & RequiredDocument.kind.not_in(documents)).execute()
        have = {d.kind for d in rtype.required_documents}
        for n, kind in enumerate(documents, start=1):
            if kind not in have:
                RequiredDocument.create(request_type=rtype, kind=kind, position=n * 10)
        audit("create" if existing is None else "update", "request_type", rtype.id,
              {"code": rtype.code, "documents": documents}, actor=actor)
    return rtype


def add_question(rtype: RequestType, form: dict, *, actor: User | None = None) -> EligibilityQuestion:
    errors = {}
    text_ar, text_en = clean_text(form.get("text_ar")), clean_text(form.get("text_en"))
    if not text_ar:
        errors["text_ar"] = _l("This field is required.")
    for key, value in (("text_ar", text_ar), ("text_en", text_en)):
        if len(value) > 300:
            errors[key] = _l("Too long: at most %(n)s characters.", n=300)
    kind = form.get("answer_kind")
    if kind not in ANSWER_KINDS:
        errors["answer_kind"] = _l("Choose the kind of answer.")
    if errors:
        raise WorkflowError(_l("The question was not added. Check the fields marked below."), errors)
    with database.atomic():
        count = rtype.questions.count()
        question = EligibilityQuestion.create(request_type=rtype, text_ar=text_ar, text_en=text_en, answer_kind=kind,
                                              required=bool(form.get("required")), position=(count + 1) * 10)
        audit("create", "eligibility_question", question.id, {"request_type": rtype.code}, actor=actor)
    return question


def retire_question(question: EligibilityQuestion, *, actor: User | None = None) -> None:
    """Stop asking a question; answers already given stay on their requests."""
    with database.atomic():
        EligibilityQuestion.update(active=False).where(EligibilityQuestion.id == question.id).execute()
        audit("update", "eligibility_question", question.id, {"active": False}, actor=actor)
