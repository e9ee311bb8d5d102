"""Inquiries, complaints and suggestions sent on the website: validation, storage (each one an entry of the core's
complaints register, ``portal.complaints``), the answer given through the register."""
from __future__ import annotations

from peewee import IntegrityError
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from portal.audit import audit
from portal.dates import hijri_year
from portal.db import database, utcnow
from portal.models import Beneficiary, Case
from portal.sequences import next_value
from portal.text import clean_text
from portal.validators import clean_contact_details, clean_texts

from .models import INQUIRY_KINDS, Inquiry

KIND_LABELS = {
    "inquiry": _l("Inquiry"), "complaint": _l("Complaint"), "suggestion": _l("Suggestion"),
}
STATUS_LABELS = {"open": _l("Waiting for an answer"), "answered": _l("Answered"), "closed": _l("Closed")}
LIMITS = {"name": 160, "subject": 200, "body": 4000, "email": 200}


def in_arabic(text) -> str:
    """Stored summaries are written in Arabic, the officers' language, whatever the visitor's."""
    with force_locale("ar"):
        return str(text)


def validate(form: dict) -> tuple[dict, dict]:
    """Clean the public form; returns (values, errors)."""
    values, errors = {}, {}
    kind = form.get("kind", "")
    if kind not in INQUIRY_KINDS:
        errors["kind"] = _l("Choose inquiry, complaint or suggestion.")
    values["kind"] = kind
    values.update(clean_texts(form, [(key, limit, key != "email") for key, limit in LIMITS.items()], errors))
    clean_contact_details(form, values, errors)
    values["reference"] = clean_text(form.get("reference"))[:20]
    return values, errors


def response_days(kind: str) -> int:
    """Working days to answer (the complaints register's ``COMPLAINT_RESPONSE_DAYS``)."""
    from portal.complaints import response_days as register_days

    return register_days(kind)


def create(values: dict, form_nonce: str | None = None) -> Inquiry:
    """Store the inquiry and open its entry in the complaints register (``portal.complaints.open_complaint``:
    the deadline in working days, the timeline entry, the follow-up task of a complaint), matched to a
    registered beneficiary by national ID (and to their request when the reference given belongs to them).
    The inquiry keeps what the public side needs: its Q reference for tracking and what the person typed."""
    from portal.complaints import open_complaint
    from portal.complaints.service import record_given
    from portal.dates import saudi_day_bounds

    ben = None
    if values["national_id"]:
        ben = Beneficiary.get_or_none(Beneficiary.national_id == values["national_id"])
    case = None
    if ben is not None and values.get("reference"):
        case = Case.get_or_none((Case.reference == values["reference"]) & (Case.beneficiary == ben))
    now = utcnow()
    if form_nonce:
        earlier = Inquiry.get_or_none(Inquiry.form_nonce == form_nonce)
        if earlier is not None:
            return earlier
    try:
        with database.atomic():
            year = hijri_year()
            number = next_value(f"website_inquiry_{year}")
            inquiry = Inquiry.create(
                reference=f"Q{year}-{number:06d}", kind=values["kind"], name=values["name"], mobile=values["mobile"],
                national_id=values["national_id"], email=values["email"], subject=values["subject"],
                body=values["body"], beneficiary=ben, case=case, due_at=now, created_at=now, form_nonce=form_nonce,
            )
            complaint = open_complaint(
                kind=values["kind"], channel="website", text=f"{values['subject']}\n\n{values['body']}",
                beneficiary=ben, case=case, contact_name=values["name"], contact_mobile=values["mobile"],
                contact_requested=True, source="website", source_id=inquiry.id)
            record_given(complaint, reference=values.get("reference", "") if case is None else "",
                         national_id=values["national_id"] if ben is None else "", email=values["email"])
            Inquiry.update(entry=complaint.entry_id, due_at=saudi_day_bounds(complaint.deadline)[1]).where(
                Inquiry.id == inquiry.id).execute()
            audit("create", "website_inquiry", inquiry.id, {"kind": values["kind"], "complaint": complaint.id})
    except IntegrityError:  # the same form posted twice at the same moment
        if not form_nonce:
            raise
        return Inquiry.get(Inquiry.form_nonce == form_nonce)
    return Inquiry.get_by_id(inquiry.id)


def register_entry(inquiry: Inquiry):
    """The inquiry's entry in the complaints register."""
    from portal.complaints.service import find

    return find("website", inquiry.id)


class AlreadyAnswered(Exception):
    pass


def answer(inquiry: Inquiry, text: str, actor) -> Inquiry:
    """Answer through the register (``portal.complaints.service.answer``: recorded once, sent through
    ``send_message`` when the person is a registered beneficiary, logged on the timeline saying whether it
    was sent); the inquiry mirrors it (``complaint_updated``)."""
    from portal.complaints import ComplaintError
    from portal.complaints import service as register

    complaint = register_entry(inquiry)
    if complaint is None:
        raise AlreadyAnswered()
    try:
        register.answer(complaint, text, actor, purpose="inquiry_answer")
    except ComplaintError:
        raise AlreadyAnswered() from None
    return Inquiry.get_by_id(inquiry.id)


def mirror(complaint, change: str) -> None:
    """A register entry the website opened changed: the inquiry follows (its tracking page shows the answer
    given in the register, the website's inbox the holder and the state)."""
    if complaint.source != "website" or not complaint.source_id or not complaint.source_id.isdigit():
        return
    from portal.complaints.service import delivery_id

    fields = {"beneficiary": complaint.beneficiary_id, "case": complaint.case_id,
              "assigned_to": complaint.assigned_to_id, "status": complaint.state}
    if complaint.answered_at:
        fields.update(answer=complaint.answer, answered_at=complaint.answered_at, answered_by=complaint.answered_by_id,
                      answer_delivery=delivery_id(complaint))
    Inquiry.update(**fields).where(Inquiry.id == int(complaint.source_id)).execute()


class TakenByOther(Exception):
    """The message is held by another officer (``str()`` says so in the user's language)."""


def assign(inquiry: Inquiry, actor, take: bool = True) -> Inquiry:
    """"Assign to me" (``take``) or give the message back to the team, in one transaction. A message someone
    else holds cannot be taken; only its holder (or an admin) gives it back; an answered one is not taken."""
    from flask_babel import gettext as _

    with database.atomic():
        fresh = Inquiry.get_by_id(inquiry.id)
        if take:
            if fresh.status != "open":
                raise TakenByOther(_("This message was already answered."))
            if fresh.assigned_to_id not in (None, actor.id):
                raise TakenByOther(_("Another officer has taken this message."))
            new = actor.id
        else:
            if fresh.assigned_to_id not in (None, actor.id) and not actor.has_role("admin"):
                raise TakenByOther(_("Only the officer who took this message can give it back."))
            new = None
        Inquiry.update(assigned_to=new).where(Inquiry.id == fresh.id).execute()
        from portal.complaints.service import hand_over

        complaint = register_entry(fresh)
        if complaint is not None:
            hand_over(complaint, new)  # the entry and its follow-up task
        audit("update", "website_inquiry", fresh.id, {"assigned_to": new}, actor=actor)
    return Inquiry.get_by_id(inquiry.id)
