"""Beneficiary registry services: validation, duplicate rules, create/update with a version check, search."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import JOIN

from . import name_index
from .audit import audit
from .dates import parse_date
from .db import database, utcnow
from .hygiene import parse_int
from .models import BENEFICIARY_STATUSES, CATEGORIES, GENDERS, Beneficiary, Branch, Case
from .scope import can_see_beneficiary, registers_in_branch, scope_beneficiaries, scope_cases
from .sequences import next_value
from .text import clean_text, fold_digits, name_parts, normalize_name, normalize_reference, only_digits, search_key
from .uploads import UploadError, store_upload
from .validators import ValidationError, clean_mobile, clean_national_id, id_kind

FIELDS = (
    "first_name", "father_name", "grandfather_name", "family_name", "national_id", "id_expiry",
    "nationality", "gender", "birth_date", "mobile", "email", "preferred_channel", "district", "city",
    "national_address", "category", "branch", "consent_data", "consent_contact", "status", "notes",
)
REQUIRED = ("first_name", "father_name", "family_name", "national_id", "gender", "mobile")
MAX_LENGTHS = {
    "first_name": 60, "father_name": 60, "grandfather_name": 60, "family_name": 60, "nationality": 60,
    "email": 200, "district": 80, "city": 80, "national_address": 120, "notes": 2000, "preferred_channel": 30,
}


class Conflict(Exception):
    """Someone else saved the record since it was loaded."""


@dataclass
class Result:
    """Outcome of validating beneficiary data: cleaned values, per-field errors, warnings."""

    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    duplicate: Beneficiary | None = None
    warnings: list = field(default_factory=list)  # [(message, [Beneficiary, ...])]

    @property
    def ok(self) -> bool:
        return not self.errors


def _date(value, name, errors):
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        errors[name] = _l("Enter a date.")
        return None
    from .dates import parse_date

    try:
        return parse_date(value)
    except ValidationError as exc:
        errors[name] = exc.message
        return None


OTHER_BRANCH = _l("This ID number cannot be registered from your branch. Contact the main office.")


def validate(data: dict, *, existing: Beneficiary | None = None, partial: bool = False, actor=None) -> Result:
    """Check and clean beneficiary data. ``partial``: only the given keys (API PATCH-like updates).

    ``actor``: who registers. A branch delegate registers only in their own branch (an empty branch
    becomes theirs), and learns nothing of files they may not see: a duplicate ID there is answered
    with ``OTHER_BRANCH`` alone, and the same-mobile/same-name warnings list only files they see."""
    res = Result()
    errors = res.errors
    keys = [k for k in FIELDS if k in data] if partial else list(FIELDS)
    for key in keys:
        value = data.get(key)
        if key in ("consent_data", "consent_contact"):
            if isinstance(value, str):
                value = value.lower() in ("1", "true", "on", "yes", "y")
            elif value is not None and not isinstance(value, bool):
                errors[key] = _l("Must be true or false.")
                continue
            res.values[key] = bool(value)
            continue
        if key in ("id_expiry", "birth_date"):
            res.values[key] = _date(value, key, errors)
            continue
        if key == "branch":
            if value in (None, ""):
                res.values[key] = None
                continue
            branch = Branch.get_or_none(Branch.code == str(value)) or (
                Branch.get_or_none(Branch.id == parse_int(value)) if parse_int(value) is not None else None
            )
            if branch is None:
                errors[key] = _l("Unknown branch.")
            res.values[key] = branch
            continue
        if value is not None and not isinstance(value, str):
            errors[key] = _l("Must be text.")
            continue
        text = clean_text(value)
        if key in MAX_LENGTHS and len(text) > MAX_LENGTHS[key]:
            errors[key] = _l("Too long: at most %(n)s characters.", n=MAX_LENGTHS[key])
            continue
        res.values[key] = text
    own_branch = registers_in_branch(actor)
    if own_branch is not None and ("branch" in keys or existing is None):
        chosen = res.values.get("branch")
        if chosen is None and "branch" not in errors:
            res.values["branch"] = Branch.get_or_none(Branch.id == own_branch)
        elif chosen is not None and chosen.id != own_branch:
            errors["branch"] = _l("You can register files only in your own branch.")
    for key in REQUIRED:
        if key in keys and not res.values.get(key) and key not in errors:
            errors[key] = _l("This field is required.")
    if "national_id" in keys and res.values.get("national_id") and "national_id" not in errors:
        try:
            res.values["national_id"] = clean_national_id(res.values["national_id"])
            res.values["id_kind"] = id_kind(res.values["national_id"])
        except ValidationError as exc:
            errors["national_id"] = exc.message
    if "mobile" in keys and res.values.get("mobile") and "mobile" not in errors:
        try:
            res.values["mobile"] = clean_mobile(res.values["mobile"])
        except ValidationError as exc:
            errors["mobile"] = exc.message
    if "gender" in keys and res.values.get("gender") and res.values["gender"] not in GENDERS:
        errors["gender"] = _l("Choose male or female.")
    if "category" in keys:
        if not res.values.get("category"):
            res.values["category"] = "other"
        elif res.values["category"] not in CATEGORIES:
            errors["category"] = _l("Unknown category.")
    if "status" in keys:
        if not res.values.get("status"):
            res.values["status"] = existing.status if existing else "active"
        elif res.values["status"] not in BENEFICIARY_STATUSES:
            errors["status"] = _l("Unknown status.")
    if "nationality" in keys and not res.values.get("nationality"):
        res.values["nationality"] = "SA"
    if "preferred_channel" in keys and not res.values.get("preferred_channel"):
        res.values["preferred_channel"] = current_app.config.get("DEFAULT_CHANNEL", "")
    elif "preferred_channel" in keys and "preferred_channel" not in errors and not re.fullmatch(
            r"[a-z_]+", res.values["preferred_channel"]):
        errors["preferred_channel"] = _l("Unknown channel.")
    if "email" in keys and res.values.get("email") and "@" not in res.values["email"]:
        errors["email"] = _l("This is not an email address.")
    today = dt.date.today()
    if res.values.get("birth_date") and res.values["birth_date"] > today:
        errors["birth_date"] = _l("The birth date cannot be in the future.")
    if res.values.get("birth_date") and res.values["birth_date"].year < 1900:
        errors["birth_date"] = _l("The birth date is too far in the past.")
    if "national_id" in res.values and "national_id" not in errors:
        query = Beneficiary.select().where(Beneficiary.national_id == res.values["national_id"])
        if existing is not None:
            query = query.where(Beneficiary.id != existing.id)
        dup = query.first()
        if dup is not None and actor is not None and not can_see_beneficiary(dup, actor):
            errors["national_id"] = OTHER_BRANCH
        elif dup is not None:
            res.duplicate = dup
            errors["national_id"] = _l("A beneficiary with this ID number is already registered (file %(f)s).",
                                       f=dup.file_number)
    if not errors:
        _warnings(res, existing, actor)
    return res


def _warnings(res: Result, existing: Beneficiary | None, actor=None) -> None:
    others = Beneficiary.select()
    if actor is not None:
        others = scope_beneficiaries(others, actor)
    if existing is not None:
        others = others.where(Beneficiary.id != existing.id)
    mobile = res.values.get("mobile")
    if mobile and (existing is None or mobile != existing.mobile):
        same = list(others.where(Beneficiary.mobile == mobile).limit(5))
        if same:
            res.warnings.append((_l("Another file has the same mobile number."), same))
    search = _search_name(res.values, existing)
    if search and (existing is None or search != existing.name_search):
        same = list(others.where(Beneficiary.name_search == search).limit(5))
        if same:
            res.warnings.append((_l("Another file has the same name."), same))


def _search_name(values: dict, existing: Beneficiary | None = None) -> str:
    parts = [values.get(k, getattr(existing, k, "") if existing else "") for k in
             ("first_name", "father_name", "grandfather_name", "family_name")]
    return normalize_name(" ".join(p for p in parts if p))


def create(values: dict, actor=None) -> Beneficiary:
    """Store a validated beneficiary in one transaction; returns it."""
    with database.atomic():
        number = next_value("beneficiary_file")
        name = _search_name(values)
        ben = Beneficiary.create(
            file_number=f"{number:06d}", name_search=name, search_key=search_key(name), created_by=actor, **values,
        )
        name_index.store([(ben.id, ben.search_key)])
        audit("create", "beneficiary", ben.id, {"file_number": ben.file_number}, actor=actor)
        _record_consents(ben, {k: v for k, v in values.items() if k in ("consent_data", "consent_contact") and v},
                         actor)
    return ben


def _record_consents(ben: Beneficiary, changed: dict, actor) -> None:
    """Consent given or withdrawn on the file form: one history row each (channel "record")."""
    from .models import ConsentChange

    for key in ("consent_data", "consent_contact"):
        if key in changed:
            ConsentChange.create(beneficiary=ben, kind=key.removeprefix("consent_"), granted=bool(changed[key]),
                                 channel="record", recorded_by=actor)


def update(ben: Beneficiary, values: dict, version: int, actor=None) -> Beneficiary:
    """Save changes if nobody else saved since ``version`` was read; raises Conflict otherwise."""
    changed = {k: v for k, v in values.items() if getattr(ben, k) != v}
    with database.atomic():
        updates = dict(changed)
        updates["name_search"] = _search_name(values, ben)
        updates["search_key"] = search_key(updates["name_search"])
        updates["version"] = Beneficiary.version + 1
        updates["updated_at"] = utcnow()
        rows = (
            Beneficiary.update(**updates)
            .where((Beneficiary.id == ben.id) & (Beneficiary.version == version) & Beneficiary.erased_at.is_null())
            .execute()
        )
        if rows != 1:
            raise Conflict()
        if updates["search_key"] != ben.search_key:
            name_index.store([(ben.id, updates["search_key"])])
        _record_consents(ben, changed, actor)
        audit("update", "beneficiary", ben.id,
              {"fields": sorted(k for k in changed if k != "national_id"), "version": version + 1}, actor=actor)
    return Beneficiary.get_by_id(ben.id)


def search_query(q: str, user=None):
    """Beneficiaries matching ``q``: normalised name words, national ID, mobile in any format,
    file number or case reference. LIKE wildcards in ``q`` are matched literally."""
    query = Beneficiary.select(Beneficiary, Branch).join(Branch, join_type=JOIN.LEFT_OUTER).switch(Beneficiary)
    if user is not None:
        query = scope_beneficiaries(query, user)
    q = clean_text(q or "")[:100]
    if not q:
        return query.order_by(Beneficiary.updated_at.desc(), Beneficiary.id.desc())
    digits = only_digits(q)
    folded = fold_digits(q)
    conditions = []
    # Names are letters only: punctuation and LIKE wildcards in the query are dropped, not matched.
    # Each word typed begins one of the file's name words (``portal.name_index``: an index range per word on
    # SQLite, the trigram index on PostgreSQL); "عبد الله" and "عبدالله" are one word after normalize_name.
    words = name_parts(q)
    if words:
        conditions.append(name_index.words_condition(list(dict.fromkeys(words[:6]))))
    compact = re.sub(r"[\s\-+()]", "", folded)
    if len(digits) >= 3 and compact.isdigit():
        conditions.append(Beneficiary.national_id.startswith(digits))
        conditions.append(Beneficiary.file_number == digits.zfill(6))
        local = digits
        for prefix in ("00966", "966"):
            if local.startswith(prefix):
                local = local[len(prefix):]
                break
        local = local.lstrip("0")
        if len(local) >= 3:
            conditions.append(Beneficiary.mobile.contains(local))
    ref = normalize_reference(q)
    if ref and not ref.startswith("Q"):
        case_ids = Case.select(Case.beneficiary).where(Case.reference == ref)
        if user is not None:
            case_ids = scope_cases(case_ids, user)
        conditions.append(Beneficiary.id.in_(case_ids))
    if not conditions:
        return query.where(Beneficiary.id < 0)
    cond = conditions[0]
    for extra in conditions[1:]:
        cond = cond | extra
    return query.where(cond).order_by(Beneficiary.family_name, Beneficiary.first_name, Beneficiary.id)


DOCUMENT_KINDS = ("national_id", "iqama", "family_card", "income_proof", "lease", "medical_report",
                  "death_certificate", "bank_letter", "other")


def document_values(data: dict, upload) -> tuple[dict, dict]:
    """A document typed on the beneficiary's file or on a request: its kind, number, issue and expiry dates
    and the optional file, stored only when the rest is right. Returns the ``Document`` columns and the
    errors by field."""
    errors = {}
    kind = data.get("kind", "")
    if kind not in DOCUMENT_KINDS:
        errors["kind"] = _("Choose the document type.")
    values = {"kind": kind, "number": clean_text(data.get("number"))[:60]}
    for key in ("issue_date", "expiry_date"):
        try:
            values[key] = parse_date(data.get(key))
        except ValidationError as exc:
            errors[key] = str(exc.message)
    if values.get("issue_date") and values.get("expiry_date") and values["expiry_date"] < values["issue_date"]:
        errors["expiry_date"] = _("The expiry date is before the issue date.")
    stored = None
    if not errors and upload and upload.filename:
        try:
            stored = store_upload(upload)
        except UploadError as exc:
            errors["file"] = str(exc.message)
    values.update(file_sha256=stored.sha256 if stored else "", file_name=stored.file_name if stored else "",
                  content_type=stored.content_type if stored else "", size=stored.size if stored else 0)
    return values, errors
