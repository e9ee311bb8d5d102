"""The website's view of the core workflow (``portal.workflow``): public request types and their
checklists, the current declaration text, and the intake services that open, declare and submit a
request. Kept in one module so the screens do not depend on the workflow's internals."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from peewee import IntegrityError

from portal import beneficiaries_service
from portal.audit import audit
from portal.db import database, utcnow
from portal.labels import DOCUMENT_KIND
from portal.models import Beneficiary, Case, Document, HouseholdMember
from portal.timeline import log_entry
from portal.workflow import intake
from portal.workflow.errors import WorkflowError
from portal.workflow.machine import OPEN_STATUSES
from portal.workflow.notify import notify

from .models import ApplicationDraft, PendingApplication


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
    """What became of a submitted draft: a request (new applicant), a pending application (the ID
    matches a file already held), or neither when another application with the same ID was being
    recorded at the same moment twice in a row (``busy``)."""

    case: Case | None
    pending: "PendingApplication | None" = None
    busy: bool = False
    message_sent: bool = False


class FileAppeared(Exception):
    """A file with the applicant's ID was registered by another request after we looked."""


def find_file(national_id: str) -> Beneficiary | None:
    return Beneficiary.get_or_none(Beneficiary.national_id == national_id)


def _beneficiary_for(applicant: dict, household: dict, confirmed: bool,
                     contact: bool = False) -> tuple[Beneficiary, bool]:
    """A new applicant's file, or (``confirmed`` by an officer) the registered file with this ID. An
    existing file is not changed from the website: what was typed is kept on the timeline for the
    officer to check. Unconfirmed, a file that appeared since we looked raises ``FileAppeared``."""
    ben = find_file(applicant["national_id"])
    if ben is not None:
        if not confirmed:
            raise FileAppeared()
        return ben, False
    data = {k: applicant.get(k, "") for k in ("first_name", "father_name", "grandfather_name", "family_name",
                                              "national_id", "mobile", "gender", "birth_date", "city", "district")}
    data.update({"category": household.get("category") or "other", "status": "applicant", "consent_data": True,
                 "consent_contact": bool(contact), "preferred_channel": "phone"})
    result = beneficiaries_service.validate(data)
    if not result.ok and find_file(applicant["national_id"]) is not None:
        raise FileAppeared()  # registered a moment ago by another application: never show its file number
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


def _add_documents(ben, case, docs: dict) -> None:
    for kind, info in docs.items():
        expiry = dt.date.fromisoformat(info["expiry"]) if info.get("expiry") else None
        doc = Document.create(beneficiary=ben, case=case, kind=kind, file_sha256=info["sha256"],
                              file_name=info["file_name"], content_type=info["content_type"], size=info["size"],
                              expiry_date=expiry)
        audit("create", "document", doc.id, {"case": case.reference, "channel": "website"})


def _create_request(draft, applicant, household, req, docs, decl, confirmed_by=None) -> Case:
    ben, is_new = _beneficiary_for(applicant, household, confirmed=confirmed_by is not None,
                                   contact=bool(decl.get("contact")))
    case = intake.open_request(ben, req["request_type"], channel="website", summary=req.get("summary", ""),
                               answers=req.get("answers") or {})
    _add_documents(ben, case, docs)
    with force_locale("ar"):
        summary = _("Application received on the website")
    log_entry(channel="website", direction="in", beneficiary=ben, case=case, summary=summary,
              body=req.get("summary", ""),
              data={"kind": "website_application", "new_file": is_new, "typed": applicant,
                    "household": household, "documents": sorted(docs),
                    "confirmed_by": confirmed_by.id if confirmed_by is not None else None})
    intake.record_declaration(case, method="self_tick", channel="website", text_version=decl["version"])
    case = intake.submit(case, incomplete_if_missing=True, channel="website").case
    ApplicationDraft.update(case=case).where(ApplicationDraft.id == draft.id).execute()
    return case


def _submit_once(draft: ApplicationDraft) -> Submission:
    data = draft.data or {}
    applicant, household = data["applicant"], data.get("household") or {}
    req, docs, decl = data["request"], data.get("documents") or {}, data["declaration"]
    with database.atomic():
        claimed = (ApplicationDraft.update(submitted_at=utcnow())
                   .where((ApplicationDraft.id == draft.id) & ApplicationDraft.submitted_at.is_null())
                   .execute())
        if claimed != 1:  # the same draft sent again: the first result
            fresh = ApplicationDraft.get_by_id(draft.id)
            return Submission(case=Case.get_or_none(Case.id == fresh.case_id),
                              pending=PendingApplication.get_or_none(PendingApplication.draft == draft.id))
        ben = find_file(applicant["national_id"])
        if ben is None:
            case = _create_request(draft, applicant, household, req, docs, decl)
        else:
            pending = PendingApplication.create(draft=draft, national_id=applicant["national_id"], beneficiary=ben,
                                                data=data)
            with force_locale("ar"):
                summary = _("Application on the website with this ID number: waiting for an officer's confirmation")
            log_entry(channel="website", direction="in", beneficiary=ben, summary=summary,
                      body=req.get("summary", ""),
                      data={"kind": "website_application_pending", "pending": pending.id, "typed": applicant,
                            "household": household, "documents": sorted(docs)})
            audit("create", "website_application", pending.id, {"beneficiary": ben.id, "state": "pending"})
    if ben is not None:
        sent = bool(tell_registered_mobile(pending))
        return Submission(case=None, pending=PendingApplication.get_by_id(pending.id), message_sent=sent)
    return Submission(case=Case.get_by_id(case.id))


def submit_application(draft: ApplicationDraft) -> Submission:
    """Turn a complete draft into a request in one transaction: the beneficiary's file (new
    applicants), the request opened on the website channel, the uploaded documents, the ticked
    declaration, and the submission (``incomplete`` with the missing list when documents are
    missing or expired). When the ID matches a file already held, nothing joins that file yet: a
    pending application waits for an officer, and the registered mobile is told (the applicant
    learns no reference and no name). A second submission of the same draft returns the first result.
    Two applications with the same new ID at the same moment: the loser of the unique ID is tried
    again and then matches the winner's file (pending)."""
    for _attempt in range(2):
        try:
            return _submit_once(draft)
        except (IntegrityError, FileAppeared):
            continue
    return Submission(case=None, busy=True)


def isolate(text: str) -> str:
    """A reference or number inside Arabic plain text (SMS): first-strong isolates."""
    return f"\u2068{text}\u2069"


def tell_registered_mobile(pending: PendingApplication):
    """Tell the mobile registered in the matching file that an application was made with its ID
    (with the reference of its open request, if any). Recorded on that file's timeline, sent or not."""
    ben = pending.beneficiary
    if ben is None:
        return None
    open_case = open_case_for(pending.national_id)
    with force_locale("ar"):
        text = _("An application was made on the association's website with your ID number. An officer will "
                 "check it before it joins your file; if it was not you, please tell us.")
        if open_case is not None:
            text += " " + _("Your open request's reference is %(ref)s.", ref=isolate(open_case.reference))
    # Sent with or without contact consent: the owner of the ID must learn that someone used it.
    return notify(ben, text, "website_application_pending", case=open_case, without_consent=True,
                  context={"pending": pending.id, "reference": open_case.reference if open_case else None})


class AlreadyDecided(Exception):
    pass


def confirm_pending(pending_id: int, actor) -> Case:
    """The officer confirms that a pending application belongs to the file with its ID: it joins the
    open request of that file (documents and what was typed), or opens a new request on it. The
    registered mobile then gets the reference (the status change's notice)."""
    with database.atomic():
        rows = (PendingApplication.update(status="confirmed", decided_by=actor, decided_at=utcnow())
                .where((PendingApplication.id == pending_id) & (PendingApplication.status == "pending")).execute())
        if rows != 1:
            raise AlreadyDecided()
        pending = PendingApplication.get_by_id(pending_id)
        draft = ApplicationDraft.get_by_id(pending.draft_id)
        data = pending.data or {}
        applicant, household = data["applicant"], data.get("household") or {}
        req, docs, decl = data["request"], data.get("documents") or {}, data["declaration"]
        existing = open_case_for(pending.national_id)
        if existing is not None:
            ben = existing.beneficiary
            _add_documents(ben, existing, docs)
            with force_locale("ar"):
                summary = _("Application on the website confirmed and joined to the open request")
            log_entry(channel="website", direction="in", beneficiary=ben, case=existing, actor=actor,
                      summary=summary, body=req.get("summary", ""),
                      data={"kind": "website_application", "new_file": False, "typed": applicant,
                            "household": household, "documents": sorted(docs), "confirmed_by": actor.id})
            ApplicationDraft.update(case=existing).where(ApplicationDraft.id == draft.id).execute()
            documents_added(existing)
            case = existing
        else:
            case = _create_request(draft, applicant, household, req, docs, decl, confirmed_by=actor)
        PendingApplication.update(case=case, beneficiary=case.beneficiary_id).where(
            PendingApplication.id == pending_id).execute()
        audit("confirm", "website_application", pending_id, {"case": case.reference}, actor=actor)
    # The applicant's notice (the reference, the tracking link) went with the request's status change
    # (portal.workflow.notices; the link comes from this plugin's notice_context hook).
    return Case.get_by_id(case.id)


def reject_pending(pending_id: int, actor, reason: str) -> PendingApplication:
    """The officer decides the application does not belong to the file: nothing joins it."""
    with database.atomic():
        rows = (PendingApplication.update(status="rejected", decided_by=actor, decided_at=utcnow(), reason=reason)
                .where((PendingApplication.id == pending_id) & (PendingApplication.status == "pending")).execute())
        if rows != 1:
            raise AlreadyDecided()
        pending = PendingApplication.get_by_id(pending_id)
        if pending.beneficiary_id:
            with force_locale("ar"):
                summary = _("Application on the website with this ID number rejected: it did not join the file")
            log_entry(channel="website", direction="internal", beneficiary=pending.beneficiary, actor=actor,
                      summary=summary, body=reason,
                      data={"kind": "website_application_rejected", "pending": pending_id})
        audit("reject", "website_application", pending_id, {"reason": reason}, actor=actor)
    return PendingApplication.get_by_id(pending_id)
