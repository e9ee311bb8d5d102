"""The website's view of the core workflow (``portal.workflow``): public request types and their
checklists, the current declaration text, and the intake services that open, declare and submit a
request. Kept in one module so the screens do not depend on the workflow's internals."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _

from portal import beneficiaries_service
from portal.audit import audit
from portal.dates import format_gregorian, format_hijri
from portal.db import database, utcnow
from portal.labels import DOCUMENT_KIND
from portal.models import Beneficiary, Case, Document, HouseholdMember
from portal.timeline import log_entry
from portal.workflow import intake
from portal.workflow.errors import WorkflowError
from portal.workflow.machine import OPEN_STATUSES
from portal.workflow.notify import notify

from .models import ApplicationDraft


def public_request_types():
    return intake.active_request_types(public_only=True)


def request_type(code):
    if not code:
        return None
    rtype = intake.get_request_type(code)
    return rtype if rtype is not None and rtype.active and rtype.public else None


def request_type_name(code: str, lang: str) -> str:
    rtype = intake.get_request_type(code)
    if rtype is not None:
        return rtype.name(lang)
    from portal.labels import REQUEST_TYPE

    return str(REQUEST_TYPE.get(code, code))


def checklist(rtype) -> list:
    return intake.required_documents(rtype) if rtype is not None else []


def questions(rtype) -> list:
    return intake.questions(rtype) if rtype is not None else []


def validate_answers(rtype, answers: dict) -> tuple[dict, dict]:
    """(clean answers, errors keyed ``answer_<id>``)."""
    try:
        return intake.validate_answers(rtype, answers), {}
    except WorkflowError as exc:
        return {}, {k: str(v) for k, v in exc.fields.items()}


def current_declaration():
    return intake.current_declaration_text()


def open_case_for(national_id: str) -> Case | None:
    return (Case.select().join(Beneficiary)
            .where((Beneficiary.national_id == national_id) & (Case.status.in_(OPEN_STATUSES)))
            .order_by(Case.id.desc()).first())


def missing_documents(case) -> list[str]:
    """What the applicant still has to provide, in plain words (only while the request is incomplete)."""
    if case.status != "incomplete":
        return []
    out = []
    for item in case.missing_documents or []:
        kind = item.get("kind") if isinstance(item, dict) else item
        label = str(DOCUMENT_KIND.get(kind, kind))
        if isinstance(item, dict) and item.get("state") == "expired":
            label = _("%(doc)s (a valid copy: the one we have has expired)", doc=label)
        out.append(label)
    return out


def document_kind_choices(case, lang: str) -> list[tuple[str, str]]:
    kinds = []
    rtype = intake.get_request_type(case.request_type)
    if rtype is not None:
        kinds = [r.kind for r in intake.required_documents(rtype)]
    for kind in DOCUMENT_KIND:
        if kind not in kinds:
            kinds.append(kind)
    return [(k, str(DOCUMENT_KIND[k])) for k in kinds if k in DOCUMENT_KIND]


def documents_added(case) -> None:
    """After the applicant sent documents from the tracking page: an incomplete request whose
    checklist is now complete is submitted again (inside the upload's transaction)."""
    fresh = Case.get_by_id(case.id)
    if fresh.status == "incomplete" and intake.evaluate_checklist(fresh).ok:
        intake.submit(fresh, channel="website")


@dataclass
class Submission:
    case: Case | None
    existing: Case | None = None


def _beneficiary_for(applicant: dict, household: dict) -> tuple[Beneficiary, bool]:
    """The registered file with this ID, or a new applicant's file. An existing file is not changed
    from the website: what was typed is kept on the timeline for the officer to check."""
    ben = Beneficiary.get_or_none(Beneficiary.national_id == applicant["national_id"])
    if ben is not None:
        return ben, False
    data = {k: applicant.get(k, "") for k in ("first_name", "father_name", "grandfather_name", "family_name",
                                              "national_id", "mobile", "gender", "birth_date", "city", "district")}
    data.update({"category": household.get("category") or "other", "status": "applicant", "consent_data": True,
                 "preferred_channel": "phone"})
    result = beneficiaries_service.validate(data)
    if not result.ok:
        raise WorkflowError(_("Some of your details could not be accepted; please check them."),
                            {k: str(v) for k, v in result.errors.items()})
    ben = beneficiaries_service.create(result.values)
    for member in household.get("members") or []:
        from portal.dates import parse_date

        HouseholdMember.create(beneficiary=ben, name=member["name"][:200], relation=member["relation"],
                               birth_date=parse_date(member.get("birth_date")) if member.get("birth_date") else None,
                               has_income=bool(member.get("has_income")))
    return ben, True


class _HasOpenRequest(Exception):
    def __init__(self, case):
        super().__init__(case.reference)
        self.case = case


def _create_request(draft, applicant, household, req, docs, decl) -> Case:
    ben, is_new = _beneficiary_for(applicant, household)
    case = intake.open_request(ben, req["request_type"], channel="website", summary=req.get("summary", ""),
                               answers=req.get("answers") or {})
    for kind, info in docs.items():
        expiry = dt.date.fromisoformat(info["expiry"]) if info.get("expiry") else None
        doc = Document.create(beneficiary=ben, case=case, kind=kind, file_sha256=info["sha256"],
                              file_name=info["file_name"], content_type=info["content_type"], size=info["size"],
                              expiry_date=expiry)
        audit("create", "document", doc.id, {"case": case.reference, "channel": "website"})
    with force_locale("ar"):
        summary = _("Application received on the website")
    log_entry(channel="website", direction="in", beneficiary=ben, case=case, summary=summary,
              body=req.get("summary", ""),
              data={"kind": "website_application", "new_file": is_new, "typed": applicant,
                    "household": household, "documents": sorted(docs)})
    intake.record_declaration(case, method="website_tick", channel="website", text_version=decl["version"])
    case = intake.submit(case, incomplete_if_missing=True, channel="website").case
    ApplicationDraft.update(case=case).where(ApplicationDraft.id == draft.id).execute()
    return case


def submit_application(draft: ApplicationDraft) -> Submission:
    """Turn a complete draft into a request in one transaction: the beneficiary's file (new
    applicants), the request opened on the website channel, the uploaded documents, the ticked
    declaration, and the submission (``incomplete`` with the missing list when documents are
    missing or expired). A second submission of the same draft returns the first request; an ID
    with an open request gets that request back and nothing is written."""
    data = draft.data or {}
    applicant, household = data["applicant"], data.get("household") or {}
    req, docs, decl = data["request"], data.get("documents") or {}, data["declaration"]
    try:
        with database.atomic():
            claimed = (ApplicationDraft.update(submitted_at=utcnow())
                       .where((ApplicationDraft.id == draft.id) & ApplicationDraft.submitted_at.is_null())
                       .execute())
            if claimed != 1:
                fresh = ApplicationDraft.get_by_id(draft.id)
                return Submission(case=Case.get_or_none(Case.id == fresh.case_id))
            existing = open_case_for(applicant["national_id"])
            if existing is not None:
                raise _HasOpenRequest(existing)  # rolls the claim back: the draft stays open
            case = _create_request(draft, applicant, household, req, docs, decl)
    except _HasOpenRequest as exc:
        return Submission(case=None, existing=exc.case)
    send_reference(case)
    return Submission(case=Case.get_by_id(case.id))


def send_reference(case: Case) -> None:
    """Tell the applicant their reference (and the expected reply date) through ``send_message``."""
    from .tracking import expected_reply_date

    expected = expected_reply_date(case)
    with force_locale("ar"):
        text = _("We received your request. Its reference is %(ref)s. Track it with this number and your ID "
                 "number on the association's website.", ref=case.reference)
        if expected:
            text += " " + _("Expected reply by %(h)s (%(g)s).", h=format_hijri(expected, "ar"),
                            g=format_gregorian(expected, "ar"))
    notify(case.beneficiary, text, "case_reference", case=case,
           context={"reference": case.reference, "expected": expected.isoformat() if expected else None})
