"""The names of the public forms' fields, for the error summary at the top of a form: each error
there says which field it is about and links to it (``field_label`` in ``website/_macros.html``)."""
from __future__ import annotations

import re

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import labels

from .views import bp

FIELD_LABELS = {
    "reference": _l("Reference number"),
    "national_id": _l("ID number"),
    "code": _l("Code"),
    "name": _l("Your name"),
    "mobile": _l("Mobile"),
    "email": _l("Email"),
    "kind": _l("What is it about?"),
    "subject": _l("Subject"),
    "body": _l("Your message"),
    "availability": _l("When are you available?"),
    "skills": _l("Your skills and experience"),
    "consent": _l("Consent"),
    "accepted": _l("Declaration"),
    "first_name": _l("First name"),
    "father_name": _l("Father's name"),
    "grandfather_name": _l("Grandfather's name"),
    "family_name": _l("Family name"),
    "gender": _l("Gender"),
    "birth_date": _l("Birth date"),
    "city": _l("City"),
    "district": _l("District"),
    "category": _l("Which describes your situation best?"),
    "housing": _l("Housing"),
    "monthly_income": _l("Household monthly income (riyals)"),
    "request_type": _l("Type of request"),
    "summary": _l("Describe your need briefly"),
    "notes": _l("Anything else (optional)"),
    "file": _l("File"),
}
_ANSWER = re.compile(r"answer_(\d{1,9})")
_MEMBER = re.compile(r"m(\d+)_(name|relation|birth_date)")
_MEMBER_FIELDS = {"name": _l("Name"), "relation": _l("Relation to you"), "birth_date": _l("Birth date")}


def field_label(name: str) -> str:
    """The label of a public form field by its name ("" when it has no fixed label)."""
    if name in FIELD_LABELS:
        return str(FIELD_LABELS[name])
    member = _MEMBER.fullmatch(name or "")
    if member:
        return _("Household member %(n)s: %(field)s", n=int(member.group(1)) + 1,
                 field=_MEMBER_FIELDS[member.group(2)])
    if (name or "").startswith("exp_"):
        return _("Expiry date, if the document has one")
    if (name or "").startswith("doc_"):
        return str(labels.DOCUMENT_KIND.get(name[4:], name[4:]))
    answer = _ANSWER.fullmatch(name or "")
    if answer:
        from portal.workflow.models import EligibilityQuestion

        question = EligibilityQuestion.get_or_none(EligibilityQuestion.id == int(answer.group(1)))
        return question.text(str(get_locale() or "ar")) if question else ""
    return ""


bp.add_app_template_global(field_label, "field_label")
