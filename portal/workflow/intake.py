"""Steps 1, 2 and 4: open a request from any channel, check its documents, record the applicant's
declaration, submit it (or mark it incomplete and tell the beneficiary what is missing).

These functions are the contract the screens, the JSON API and the public website build on; their
signatures stay stable. Each one is a single transaction: when it raises ``WorkflowError`` (or a
subclass) nothing was written.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..audit import audit
from ..dates import format_hijri, hijri_year, saudi_today
from ..db import Prepared, database, utcnow
from ..labels import DOCUMENT_KIND
from ..models import Beneficiary, Case, Document, User
from ..sequences import next_value
from ..stats import add_cases, case_row, case_tally
from ..text import clean_text, fold_digits
from ..validators import clean_texts
from . import machine
from .errors import ChecklistIncomplete, TransitionNotAllowed, WorkflowError
from .models import (
    DECLARATION_METHODS,
    Declaration,
    DeclarationText,
    EligibilityQuestion,
    RequestType,
    RequiredDocument,
)

ID_KINDS = ("national_id", "iqama")  # either satisfies a checklist line asking for the ID

DEFAULT_DECLARATION_AR = (
    "أقر أنا المتقدم بطلب الدعم بأن جميع البيانات والمعلومات والمستندات التي قدمتها إلى الجمعية صحيحة وكاملة، "
    "وأنني مسؤول مسؤولية مباشرة عن صحتها، وأتعهد بإبلاغ الجمعية بأي تغيير يطرأ عليها، وأعلم أن للجمعية "
    "التحقق منها وإيقاف الدعم أو استرداده إذا ثبت عدم صحة أي منها."
)
DEFAULT_DECLARATION_EN = (
    "I, the applicant for support, declare that all the data, information and documents I have given the "
    "association are correct and complete, that I am directly responsible for their correctness, and that I "
    "will tell the association of any change. I know the association may verify them and stop or recover "
    "the support if any of them proves incorrect."
)


# --- request types -------------------------------------------------------------------------------

_ACTIVE_TYPES = Prepared(lambda: RequestType.select().where(RequestType.active == True)  # noqa: E712
                         .order_by(RequestType.position, RequestType.id))
_PUBLIC_TYPES = Prepared(lambda: RequestType.select().where((RequestType.active == True)  # noqa: E712
                                                            & (RequestType.public == True))  # noqa: E712
                         .order_by(RequestType.position, RequestType.id))


def active_request_types(public_only: bool = False) -> list[RequestType]:
    """Active request types in display order (``public_only``: those offered on the website, on every
    public page: the SQL is built once)."""
    return (_PUBLIC_TYPES if public_only else _ACTIVE_TYPES).rows()


def get_request_type(code_or_type) -> RequestType | None:
    if isinstance(code_or_type, RequestType):
        return code_or_type
    return RequestType.get_or_none(RequestType.code == str(code_or_type or ""))


def required_documents(request_type: RequestType) -> list[RequiredDocument]:
    return list(request_type.required_documents.order_by(RequiredDocument.position, RequiredDocument.id))


def questions(request_type: RequestType) -> list[EligibilityQuestion]:
    return list(request_type.questions.where(EligibilityQuestion.active == True)  # noqa: E712
                .order_by(EligibilityQuestion.position, EligibilityQuestion.id))


# --- checklist -----------------------------------------------------------------------------------

@dataclass
class ChecklistItem:
    kind: str
    state: str  # "present", "missing" or "expired"
    document: Document | None = None
    expiry_date: dt.date | None = None
    note: str = ""

    @property
    def label(self) -> str:
        return str(DOCUMENT_KIND.get(self.kind, self.kind))

    @property
    def ok(self) -> bool:
        return self.state == "present"


@dataclass
class Checklist:
    on: dt.date
    items: list[ChecklistItem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(i.ok for i in self.items)

    @property
    def problems(self) -> list[ChecklistItem]:
        return [i for i in self.items if not i.ok]

    def as_json(self) -> list[dict]:
        return [{"kind": i.kind, "state": i.state, "document": i.document.id if i.document else None,
                 "expiry_date": i.expiry_date.isoformat() if i.expiry_date else None} for i in self.items]


def checklist_for(beneficiary: Beneficiary, request_type: RequestType, on: dt.date | None = None) -> Checklist:
    """The request type's required documents for this beneficiary, each present / missing / expired.

    ``on`` is the submission date (default: today in Saudi time). A document counts when it belongs to
    the beneficiary (attached to any of their requests or to their file); "expired" means its expiry
    date is before ``on``. For the ID line (``national_id``/``iqama``) the file's ID expiry counts too.
    Two queries whatever the number of documents.
    """
    on = on or saudi_today()
    lines = required_documents(request_type)
    kinds = {line.kind for line in lines}
    if kinds & set(ID_KINDS):
        kinds |= set(ID_KINDS)
    docs = list(Document.select().where((Document.beneficiary == beneficiary.id) & Document.kind.in_(kinds))
                .order_by(Document.id.desc())) if kinds else []
    checklist = Checklist(on=on)
    for line in lines:
        wanted = set(ID_KINDS) if line.kind in ID_KINDS else {line.kind}
        candidates = [d for d in docs if d.kind in wanted]
        valid = [d for d in candidates if d.expiry_date is None or d.expiry_date >= on]
        note = line.note_ar
        if line.kind in ID_KINDS and beneficiary.id_expiry is not None and beneficiary.id_expiry < on:
            best = candidates[0] if candidates else None
            checklist.items.append(ChecklistItem(line.kind, "expired", best, beneficiary.id_expiry, note))
        elif valid:
            best = max(valid, key=lambda d: (d.expiry_date or dt.date.max, d.id))
            checklist.items.append(ChecklistItem(line.kind, "present", best, best.expiry_date, note))
        elif candidates:
            best = max(candidates, key=lambda d: (d.expiry_date, d.id))
            checklist.items.append(ChecklistItem(line.kind, "expired", best, best.expiry_date, note))
        else:
            checklist.items.append(ChecklistItem(line.kind, "missing", None, None, note))
    return checklist


def evaluate_checklist(case: Case, on: dt.date | None = None) -> Checklist:
    """The checklist of ``case`` at ``on`` (default: today in Saudi time). A case whose type was
    deleted has an empty checklist."""
    request_type = get_request_type(case.request_type)
    if request_type is None:
        return Checklist(on=on or saudi_today())
    return checklist_for(case.beneficiary, request_type, on)


def missing_text(checklist: Checklist) -> str:
    """One line per problem, Arabic, e.g. "- صورة الهوية الوطنية (منتهية في ...)"."""
    lines = []
    with force_locale("ar"):
        for item in checklist.problems:
            label = str(DOCUMENT_KIND.get(item.kind, item.kind))
            if item.state == "expired" and item.expiry_date:
                lines.append("- " + _("%(doc)s (expired on %(date)s)", doc=label,
                                      date=format_hijri(item.expiry_date, "ar")))
            else:
                lines.append("- " + _("%(doc)s (missing)", doc=label))
    return "\n".join(lines)


# --- eligibility answers ---------------------------------------------------------------------------

def validate_answers(request_type: RequestType, answers: dict | None) -> dict:
    """Check answers against the type's active questions; returns ``{question id (str): value}``.

    yes/no answers are "yes" or "no", numbers are non-negative (Eastern Arabic digits accepted),
    text is at most 500 characters. Raises WorkflowError with a field ``answer_<id>`` per problem.
    """
    answers = {str(k): v for k, v in (answers or {}).items()}
    clean, errors = {}, {}
    for q in questions(request_type):
        key = str(q.id)
        raw = answers.get(key)
        if isinstance(raw, bool):
            raw = "yes" if raw else "no"
        raw = clean_text(fold_digits(str(raw))) if raw is not None else ""
        if not raw:
            if q.required:
                errors[f"answer_{key}"] = _l("Please answer this question.")
            continue
        if q.answer_kind == "yes_no":
            if raw not in ("yes", "no"):
                errors[f"answer_{key}"] = _l("Answer yes or no.")
                continue
            clean[key] = raw
        elif q.answer_kind == "number":
            try:
                number = Decimal(raw.replace(",", "").replace("٫", "."))
            except InvalidOperation:
                errors[f"answer_{key}"] = _l("Enter a number.")
                continue
            if number < 0 or number > Decimal("100000000"):
                errors[f"answer_{key}"] = _l("Enter a number between 0 and 100,000,000.")
                continue
            clean[key] = str(number)
        else:
            if len(raw) > 500:
                errors[f"answer_{key}"] = _l("Too long: at most %(n)s characters.", n=500)
                continue
            clean[key] = raw
    if errors:
        raise WorkflowError(_l("Some answers are missing or not valid."), errors)
    return clean


# --- opening a request -----------------------------------------------------------------------------

def _valid_channel(channel: str) -> bool:
    from ..plugins import channel_map

    return channel in channel_map()


def new_reference(now: dt.datetime | None = None) -> str:
    """``1448-000123``: the Hijri year of today (Saudi time) and a gap-free sequence per year.
    Call inside the transaction that stores the case."""
    year = hijri_year(saudi_today(now))
    return f"{year}-{next_value(f'case_{year}'):06d}"


def open_request(beneficiary: Beneficiary, request_type, *, channel: str, actor: User | None = None,
                 summary: str = "", answers: dict | None = None) -> Case:
    """Open a support request (status ``draft``) for ``beneficiary``.

    ``request_type``: a RequestType or its code (must be active). ``channel``: the intake channel key
    (an enabled channel such as ``"interview"``, ``"phone"`` or ``"website"``). ``answers``: the
    eligibility answers, ``{question id: value}`` (see ``validate_answers``). ``summary``: what is
    asked, at most 2,000 characters. Writes the case with its reference, a timeline entry on the
    intake channel and an audit event. Raises WorkflowError with per-field messages
    (``request_type``, ``channel``, ``summary``, ``answer_<id>``).
    """
    errors = {}
    rtype = get_request_type(request_type)
    if rtype is None or not rtype.active:
        errors["request_type"] = _l("Choose a type of request.")
    if not channel or not _valid_channel(channel):
        errors["channel"] = _l("Choose the channel the request came through.")
    summary = clean_text(summary)
    if len(summary) > 2000:
        errors["summary"] = _l("Too long: at most %(n)s characters.", n=2000)
    clean_answers = {}
    if rtype is not None and rtype.active:
        try:
            clean_answers = validate_answers(rtype, answers)
        except WorkflowError as exc:
            errors.update(exc.fields)
    if beneficiary is None or beneficiary.status == "deceased":
        errors["beneficiary"] = _l("A request cannot be opened for this file.")
    if errors:
        raise WorkflowError(_l("The request could not be opened. Check the fields marked below."), errors)
    from ..timeline import log_entry

    with database.atomic():
        now = utcnow()
        case = Case.create(
            reference=new_reference(now), beneficiary=beneficiary, request_type=rtype.code, channel=channel,
            status="draft", summary=summary, answers=clean_answers, created_by=actor, created_at=now,
            updated_at=now, status_changed_at=now,
        )
        add_cases(case_tally([case_row(case)]))  # the managers' counts per month
        with force_locale("ar"):
            text = _("Request %(ref)s opened: %(type)s", ref=case.reference, type=rtype.name_ar)
        log_entry(channel="system", summary=text, body=summary, beneficiary=beneficiary, case=case,
                  direction="in", actor=actor,
                  data={"kind": "case_opened", "request_type": rtype.code, "channel": channel})
        audit("create", "case", case.id, {"reference": case.reference, "request_type": rtype.code,
                                          "channel": channel}, actor=actor)
    return case


def attach_document(case: Case, document: Document, *, actor: User | None = None) -> Document:
    """Attach one of the beneficiary's documents to ``case``. A document of another beneficiary is
    refused (WorkflowError on field ``document``)."""
    if document is None or document.beneficiary_id != case.beneficiary_id:
        raise WorkflowError(_l("This document belongs to another beneficiary and cannot be attached to "
                               "this request."), {"document": _l("Not a document of this beneficiary.")})
    with database.atomic():
        Document.update(case=case).where(Document.id == document.id).execute()
        audit("update", "document", document.id, {"case": case.reference}, actor=actor)
    document.case = case
    return document


# --- the declaration (إقرار) ---------------------------------------------------------------------

def current_declaration_text() -> DeclarationText:
    """The newest version of the declaration wording (version 1, the built-in text, when none exists)."""
    latest = DeclarationText.select().order_by(DeclarationText.version.desc()).first()
    if latest is None:
        with database.atomic():
            DeclarationText.insert(version=1, text_ar=DEFAULT_DECLARATION_AR, text_en=DEFAULT_DECLARATION_EN,
                                   created_at=utcnow()).on_conflict_ignore().execute()
        latest = DeclarationText.select().order_by(DeclarationText.version.desc()).first()
    return latest


def publish_declaration_text(text_ar: str, text_en: str = "", *, actor: User | None = None) -> DeclarationText:
    """Store a new version of the wording; earlier versions are kept for the declarations given on them."""
    errors = {}
    texts = clean_texts({"text_ar": text_ar, "text_en": text_en}, (("text_ar", 5000, True), ("text_en", 5000, False)),
                        errors)
    text_ar, text_en = texts["text_ar"], texts["text_en"]
    if errors:
        raise WorkflowError(_l("The text was not saved."), errors)
    current = current_declaration_text()
    with database.atomic():
        version = (DeclarationText.select(DeclarationText.version).order_by(DeclarationText.version.desc())
                   .scalar() or current.version) + 1
        text = DeclarationText.create(version=version, text_ar=text_ar, text_en=text_en, created_by=actor)
        audit("create", "declaration_text", text.id, {"version": version}, actor=actor)
    return text


def record_declaration(case: Case, *, method: str, channel: str, witness: User | None = None,
                       text_version: int | None = None, document: Document | None = None,
                       given_at: dt.datetime | None = None, actor: User | None = None) -> Declaration:
    """Record the applicant's declaration for ``case``.

    ``method``: ``"paper_scan"`` (signed paper; ``document`` = the scan, a Document of the same
    beneficiary, required), ``"self_tick"`` (ticked by the applicant in a self-service form,
    e.g. the website plugin's; no witness needed) or ``"read_out"`` (read out to the applicant, e.g. on
    a call). ``witness``: the officer who witnessed it (required
    except for ``self_tick``). ``text_version``: the wording version shown (default: current).
    ``given_at``: when it was given (UTC, default now; not in the future). Allowed while the request
    is draft, submitted, incomplete or in research. Writes the declaration, a timeline entry on
    ``channel`` and an audit event; raises WorkflowError with per-field messages.
    """
    errors = {}
    if case.status not in machine.BEFORE_COMMITTEE_STATUSES:
        raise TransitionNotAllowed(_l("A declaration can no longer be recorded for this request."))
    if method not in DECLARATION_METHODS:
        errors["method"] = _l("Choose how the declaration was given.")
    if not channel or not _valid_channel(channel):
        errors["channel"] = _l("Choose the channel the request came through.")
    if method != "self_tick" and (witness is None or not witness.is_active):
        errors["witness"] = _l("A witnessing officer is required.")
    if method == "paper_scan":
        if document is None:
            errors["document"] = _l("Attach the scan of the signed declaration.")
        elif document.beneficiary_id != case.beneficiary_id:
            errors["document"] = _l("Not a document of this beneficiary.")
    if text_version is None:
        text = current_declaration_text()
    else:
        text = DeclarationText.get_or_none(DeclarationText.version == text_version)
        if text is None:
            errors["text_version"] = _l("Unknown version of the declaration text.")
    now = utcnow()
    given_at = given_at or now
    if given_at > now + dt.timedelta(minutes=5):
        errors["given_at"] = _l("The declaration cannot be in the future.")
    if errors:
        raise WorkflowError(_l("The declaration was not recorded. Check the fields marked below."), errors)
    from ..timeline import log_entry

    with database.atomic():
        declaration = Declaration.create(case=case, beneficiary=case.beneficiary_id, text=text, given_at=given_at,
                                         channel=channel, method=method, witness=witness,
                                         document=document if method == "paper_scan" else None)
        with force_locale("ar"):
            summary = _("Declaration recorded for request %(ref)s (text version %(v)s)", ref=case.reference,
                        v=text.version)
        log_entry(channel="system", summary=summary, beneficiary=case.beneficiary, case=case, direction="in",
                  actor=actor or witness, occurred_at=given_at,
                  data={"kind": "declaration", "method": method, "text_version": text.version,
                        "declaration": declaration.id, "channel": channel})
        audit("create", "declaration", declaration.id, {"case": case.reference, "method": method,
                                                        "text_version": text.version}, actor=actor or witness)
    return declaration


def latest_declaration(case: Case) -> Declaration | None:
    return case.declarations.order_by(Declaration.given_at.desc(), Declaration.id.desc()).first()


# --- submitting ----------------------------------------------------------------------------------

@dataclass
class SubmitResult:
    case: Case
    checklist: Checklist
    changed: bool  # False when the same submission had already happened (double click)


def submit(case: Case, *, actor: User | None = None, expected_version: int | None = None,
           incomplete_if_missing: bool = False, channel: str = "system") -> SubmitResult:
    """Submit ``case`` (draft or incomplete -> submitted) once every required document is present and
    valid today (the submission date, Saudi time).

    When something is missing or expired: with ``incomplete_if_missing`` the case becomes
    ``incomplete`` (see ``mark_incomplete``: the beneficiary is sent the missing list); otherwise
    ``ChecklistIncomplete`` is raised, its ``checklist.problems`` naming each document, and nothing
    changes. ``expected_version`` makes a repeated submission a no-op (``changed`` False).
    Raises TransitionNotAllowed from a status that cannot be submitted.
    """
    on = saudi_today()
    with database.atomic():
        fresh = Case.get_by_id(case.id)
        if expected_version is not None and fresh.version != expected_version and fresh.status == "submitted":
            return SubmitResult(fresh, evaluate_checklist(fresh, on), False)
        machine.check_allowed(fresh, "submit")
        checklist = evaluate_checklist(fresh, on)
        if not checklist.ok:
            if incomplete_if_missing:
                outcome = mark_incomplete(fresh, actor=actor, expected_version=expected_version,
                                          checklist=checklist, channel=channel)
                return SubmitResult(outcome.case, checklist, outcome.changed)
            raise ChecklistIncomplete(
                _l("The request cannot be submitted: %(n)s required document(s) missing or expired.",
                   n=len(checklist.problems)), checklist)
        outcome = machine.transition(fresh, "submit", actor=actor, expected_version=expected_version,
                                     fields={"submitted_at": utcnow(), "missing_documents": None},
                                     channel=channel, data={"checklist": checklist.as_json()})
    return SubmitResult(outcome.case, checklist, outcome.changed)


def mark_incomplete(case: Case, *, actor: User | None = None, expected_version: int | None = None,
                    checklist: Checklist | None = None, note: str = "", channel: str = "system"):
    """Mark ``case`` incomplete (from draft or submitted); the status change's notice
    (``portal.workflow.notices``) tells the beneficiary the missing or expired documents.
    ``note``: extra text for the beneficiary (e.g. a document found unreadable).
    Returns the transition ``Outcome``."""
    note = clean_text(note)
    if len(note) > 1000:
        raise WorkflowError(_l("Too long: at most %(n)s characters.", n=1000),
                            {"note": _l("Too long: at most %(n)s characters.", n=1000)})
    with database.atomic():
        fresh = Case.get_by_id(case.id)
        checklist = checklist or evaluate_checklist(fresh)
        if checklist.ok and not note:
            raise WorkflowError(_l("Every required document is present: say what is missing."),
                                {"note": _l("Say what is missing.")})
        missing = [{"kind": i.kind, "state": i.state,
                    "expiry_date": i.expiry_date.isoformat() if i.expiry_date else None}
                   for i in checklist.problems]
        outcome = machine.transition(fresh, "mark_incomplete", actor=actor, expected_version=expected_version,
                                     fields={"missing_documents": missing}, note=note, channel=channel,
                                     data={"missing": missing})
    return outcome
