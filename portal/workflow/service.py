"""Steps 6 and 7: completing the registration after approval, service deliveries, closing and
withdrawing a request."""
from __future__ import annotations

import datetime as dt

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..audit import audit
from ..dates import parse_date, saudi_today
from ..db import database, utcnow
from ..models import Beneficiary, Case, User
from ..text import clean_text
from ..validators import ValidationError
from . import machine
from .committee import _decimal
from .errors import TransitionNotAllowed, WorkflowError
from .models import Delivery, Enrolment


def _date(value, field, errors, required=True):
    if isinstance(value, dt.date):
        return value
    try:
        parsed = parse_date(value)
    except ValidationError as exc:
        errors[field] = exc.message
        return None
    if parsed is None and required:
        errors[field] = _l("This field is required.")
    return parsed


def register(case: Case, *, actor: User | None, starts_on, ends_on=None, notes: str = "",
             expected_version: int | None = None):
    """Complete the registration of an approved request: enrol the beneficiary in the programme (the
    request type) from ``starts_on`` (Hijri or Gregorian text, or a date), and activate the file of a
    new applicant (their file number is kept). Returns the transition Outcome."""
    errors = {}
    starts = _date(starts_on, "starts_on", errors)
    ends = _date(ends_on, "ends_on", errors, required=False)
    if starts and ends and ends < starts:
        errors["ends_on"] = _l("The end date is before the start date.")
    notes = clean_text(notes)
    if len(notes) > 2000:
        errors["notes"] = _l("Too long: at most %(n)s characters.", n=2000)
    if errors:
        raise WorkflowError(_l("The registration was not completed. Check the fields marked below."), errors)
    with database.atomic():
        outcome = machine.transition(case, "register", actor=actor, expected_version=expected_version,
                                     fields={"registered_at": utcnow()}, note=notes,
                                     data={"starts_on": starts.isoformat()})
        if outcome.changed:
            fresh = outcome.case
            Enrolment.create(case=fresh, beneficiary=fresh.beneficiary_id, programme=fresh.request_type,
                             starts_on=starts, ends_on=ends, notes=notes, created_by=actor)
            ben = fresh.beneficiary
            if ben.status == "applicant":
                Beneficiary.update(status="active", version=Beneficiary.version + 1, updated_at=utcnow()).where(
                    Beneficiary.id == ben.id).execute()
                audit("update", "beneficiary", ben.id, {"status": "active", "case": fresh.reference}, actor=actor)
    return outcome


def record_delivery(case: Case, *, actor: User | None, what: str, delivered_on, amount=None, quantity=None,
                    receipt_number: str = "", receipt=None) -> "DeliveryResult":
    """Record one service delivery (several per case). The first delivery of a registered request moves
    it to ``served``. ``receipt``: an optional upload (PDF or photo) of the signed receipt."""
    from ..timeline import log_entry
    from ..uploads import UploadError, store_upload

    fresh = Case.get_by_id(case.id)
    if fresh.status not in machine.SERVICE_STATUSES:
        raise TransitionNotAllowed(_l("A service can be recorded only after the registration is completed."))
    errors = {}
    what = clean_text(what)
    if not what:
        errors["what"] = _l("This field is required.")
    elif len(what) > 200:
        errors["what"] = _l("Too long: at most %(n)s characters.", n=200)
    day = _date(delivered_on, "delivered_on", errors)
    if day and day > saudi_today():
        errors["delivered_on"] = _l("A delivery cannot be in the future.")
    amount_value = _decimal(amount, "amount", errors)
    quantity_value = _decimal(quantity, "quantity", errors, allow_int=True)
    if amount_value is None and quantity_value is None and "amount" not in errors and "quantity" not in errors:
        errors["amount"] = _l("Give the amount or the quantity delivered.")
    receipt_number = clean_text(receipt_number)
    if len(receipt_number) > 60:
        errors["receipt_number"] = _l("Too long: at most %(n)s characters.", n=60)
    stored = None
    if not errors and receipt is not None and getattr(receipt, "filename", ""):
        try:
            stored = store_upload(receipt)
        except UploadError as exc:
            errors["receipt"] = exc.message
    if errors:
        raise WorkflowError(_l("The delivery was not recorded. Check the fields marked below."), errors)
    with database.atomic():
        delivery = Delivery.create(
            case=fresh, what=what, amount=amount_value, quantity=quantity_value, delivered_on=day,
            delivered_by=actor, receipt_number=receipt_number, receipt_sha256=stored.sha256 if stored else "",
            receipt_name=stored.file_name if stored else "", receipt_type=stored.content_type if stored else "",
        )
        with force_locale("ar"):
            summary = _("Service delivered for request %(ref)s: %(what)s", ref=fresh.reference, what=what)
        log_entry(channel="system", summary=summary, beneficiary=fresh.beneficiary, case=fresh, direction="out",
                  actor=actor, data={"kind": "delivery", "delivery": delivery.id, "what": what,
                                     "amount": str(amount_value) if amount_value is not None else None,
                                     "quantity": quantity_value})
        audit("create", "delivery", delivery.id, {"case": fresh.reference}, actor=actor)
        if fresh.status == "registered":
            fresh = machine.transition(fresh, "serve", actor=actor, data={"delivery": delivery.id}).case
    return DeliveryResult(fresh, delivery)


class DeliveryResult:
    def __init__(self, case, delivery):
        self.case = case
        self.delivery = delivery


def close(case: Case, *, actor: User | None, note: str = "", expected_version: int | None = None):
    """Close a served or rejected request."""
    note = clean_text(note)
    if len(note) > 2000:
        raise WorkflowError(_l("Too long: at most %(n)s characters.", n=2000),
                            {"note": _l("Too long: at most %(n)s characters.", n=2000)})
    return machine.transition(case, "close", actor=actor, expected_version=expected_version, note=note,
                              fields={"closed_at": utcnow()})


def withdraw(case: Case, *, actor: User | None, reason: str, expected_version: int | None = None):
    """Withdraw an open request (at the beneficiary's wish or as a duplicate); the reason is required."""
    reason = clean_text(reason)
    if not reason:
        raise WorkflowError(_l("Give the reason for the withdrawal."), {"reason": _l("This field is required.")})
    if len(reason) > 2000:
        raise WorkflowError(_l("Too long: at most %(n)s characters.", n=2000),
                            {"reason": _l("Too long: at most %(n)s characters.", n=2000)})
    return machine.transition(case, "withdraw", actor=actor, expected_version=expected_version, note=reason,
                              fields={"withdrawn_reason": reason, "closed_at": utcnow()})
