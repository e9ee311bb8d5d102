"""Inquiries, complaints and suggestions: validation, storage with a response deadline, the answer."""
from __future__ import annotations

import datetime as dt

from flask import current_app
from peewee import IntegrityError
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from portal.audit import audit
from portal.dates import hijri_year
from portal.db import database, utcnow
from portal.models import Beneficiary, Case
from portal.plugins import hook
from portal.sequences import next_value
from portal.text import clean_text, isolate_tokens
from portal.timeline import log_entry
from portal.validators import ValidationError, clean_mobile, clean_national_id, clean_texts

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
    if values["email"] and "@" not in values["email"]:
        errors["email"] = _l("This is not an email address.")
    try:
        values["mobile"] = clean_mobile(form.get("mobile"))
    except ValidationError as exc:
        errors["mobile"] = exc.message
    values["national_id"] = ""
    if clean_text(form.get("national_id")):
        try:
            values["national_id"] = clean_national_id(form.get("national_id"))
        except ValidationError as exc:
            errors["national_id"] = exc.message
    values["reference"] = clean_text(form.get("reference"))[:20]
    return values, errors


def response_days(kind: str) -> int:
    days = current_app.config["WEBSITE_RESPONSE_DAYS"]
    return int(days.get(kind, 5) if isinstance(days, dict) else days)


def create(values: dict, form_nonce: str | None = None) -> Inquiry:
    """Store the inquiry, match it to a registered beneficiary by national ID (and to their request
    when the reference given belongs to them), and put it on the timeline."""
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
                body=values["body"], beneficiary=ben, case=case,
                due_at=now + dt.timedelta(days=response_days(values["kind"])), created_at=now, form_nonce=form_nonce,
            )
            entry = log_entry(
                channel="website", direction="in", beneficiary=ben, case=case,
                summary=f"{in_arabic(KIND_LABELS[values['kind']])}: {values['subject']}"[:300], body=values["body"],
                data={"kind": "inquiry", "inquiry": inquiry.id, "inquiry_kind": values["kind"],
                      "reference": inquiry.reference, "name": values["name"], "mobile": values["mobile"]},
            )
            Inquiry.update(entry=entry).where(Inquiry.id == inquiry.id).execute()
            audit("create", "website_inquiry", inquiry.id, {"kind": values["kind"]})
    except IntegrityError:  # the same form posted twice at the same moment
        if not form_nonce:
            raise
        return Inquiry.get(Inquiry.form_nonce == form_nonce)
    return Inquiry.get_by_id(inquiry.id)


class AlreadyAnswered(Exception):
    pass


def answer(inquiry: Inquiry, text: str, actor) -> Inquiry:
    """Record the officer's answer once, send it through ``send_message`` when the person is a
    registered beneficiary, and log it on the timeline (saying whether it was sent)."""
    now = utcnow()
    with database.atomic():
        rows = (Inquiry.update(status="answered", answer=text, answered_by=actor, answered_at=now)
                .where((Inquiry.id == inquiry.id) & (Inquiry.status == "open")).execute())
        if rows != 1:
            raise AlreadyAnswered()
        delivery = None
        if inquiry.beneficiary_id:
            delivery = hook().send_message(
                beneficiary=inquiry.beneficiary, text=isolate_tokens(text), purpose="inquiry_answer", channel=None,
                context={"reference": inquiry.reference, "inquiry": inquiry.id},
            )
        sent = f"{delivery['channel']}:{delivery['id']}" if delivery else ""
        Inquiry.update(answer_delivery=sent).where(Inquiry.id == inquiry.id).execute()
        log_entry(
            channel="website", direction="out", beneficiary=inquiry.beneficiary, case=inquiry.case, actor=actor,
            summary=in_arabic(_l("Answer to %(ref)s", ref=inquiry.reference)), body=text,
            data={"kind": "inquiry_answer", "inquiry": inquiry.id, "reference": inquiry.reference,
                  "delivery": delivery, "sent": bool(delivery)},
        )
        audit("update", "website_inquiry", inquiry.id, {"answered": True, "sent": bool(delivery)}, actor=actor)
    return Inquiry.get_by_id(inquiry.id)


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
        audit("update", "website_inquiry", fresh.id, {"assigned_to": new}, actor=actor)
    return Inquiry.get_by_id(inquiry.id)
