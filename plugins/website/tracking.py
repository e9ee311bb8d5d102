"""Tracking without an account: find a request (or an inquiry) by its reference and the applicant's
national ID or the last four digits of the registered mobile. Every failure looks the same."""
from __future__ import annotations

import datetime as dt
import hmac
import re

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.dates import saudi_date
from portal.models import Beneficiary, Case
from portal.text import fold_digits, only_digits

from .models import Inquiry

CASE_REF = re.compile(r"^\d{4}-\d{6}$")
INQUIRY_REF = re.compile(r"^Q\d{4}-\d{6}$")

# What each status means, in plain words for the applicant (never internal detail).
PUBLIC_STATUS = {
    "draft": _l("Your request is being prepared."),
    "submitted": _l("Your request was received and is being checked by a beneficiary-relations officer."),
    "incomplete": _l("Your request is missing documents. Please upload them below."),
    "in_research": _l("A social researcher is studying your request."),
    "awaiting_committee": _l("Your request is with the research committee for a decision."),
    "approved": _l("Your request was approved. We will contact you to complete the registration."),
    "rejected": _l("We are sorry: your request could not be approved. You can ask us about the reasons."),
    "registered": _l("Your registration is complete; the service will be provided."),
    "served": _l("The service was provided."),
    "closed": _l("Your request is closed."),
    "withdrawn": _l("Your request was withdrawn."),
}


def normalize_reference(value: str | None) -> str:
    text = fold_digits(value or "").strip().upper().replace(" ", "")
    return text.replace("Q-", "Q", 1)


def reference_format_ok(ref: str) -> bool:
    return bool(CASE_REF.match(ref) or INQUIRY_REF.match(ref))


def _proof_matches(proof: str, national_id: str, mobile: str) -> bool:
    """``proof`` is a 10-digit national ID or the last four digits of the mobile."""
    digits = only_digits(proof)
    ok_id = len(digits) == 10 and hmac.compare_digest(digits, national_id or "")
    ok_mobile = len(digits) == 4 and bool(mobile) and hmac.compare_digest(digits, only_digits(mobile)[-4:])
    return ok_id or ok_mobile


def find_case(reference: str, proof: str) -> Case | None:
    ref = normalize_reference(reference)
    if not CASE_REF.match(ref):
        return None
    row = (Case.select(Case, Beneficiary).join(Beneficiary).where(Case.reference == ref).first())
    if row is None:
        _proof_matches(proof, "0000000000", "")  # same work whether the reference exists or not
        return None
    return row if _proof_matches(proof, row.beneficiary.national_id, row.beneficiary.mobile) else None


def find_inquiry(reference: str, proof: str) -> Inquiry | None:
    ref = normalize_reference(reference)
    if not INQUIRY_REF.match(ref):
        return None
    row = Inquiry.get_or_none(Inquiry.reference == ref)
    if row is None:
        return None
    return row if _proof_matches(proof, row.national_id, row.mobile) else None


def expected_reply_date(case: Case) -> dt.date | None:
    """The committee's due date once the request awaits it; before that, the date the applicant
    was promised (submission + the committee's days). Dates are Saudi dates (UTC+3). None once
    decided or closed."""
    if case.status not in ("submitted", "incomplete", "in_research", "awaiting_committee"):
        return None
    if case.committee_due_at:
        return saudi_date(case.committee_due_at)
    start = case.submitted_at or case.created_at
    return saudi_date(start + dt.timedelta(days=int(current_app.config["COMMITTEE_DAYS"])))


def public_steps(case: Case) -> list[tuple]:
    """(label, datetime) of the steps done, oldest first, from the request's own dates."""
    steps = [
        (_l("Request received"), case.created_at),
        (_l("Request submitted complete"), case.submitted_at),
        (_l("Referred to social research"), getattr(case, "referred_at", None)),
        (_l("Raised to the research committee"), getattr(case, "awaiting_committee_at", None)),
        (_l("Decision made"), getattr(case, "decided_at", None)),
        (_l("Registration completed"), getattr(case, "registered_at", None)),
        (_l("Request closed"), getattr(case, "closed_at", None)),
    ]
    if case.status == "incomplete":
        steps.append((_l("Missing documents requested"), case.status_changed_at))
    if case.status == "withdrawn":
        steps.append((_l("Request withdrawn"), case.status_changed_at))
    done = [(label, at) for label, at in steps if at is not None]
    return sorted(done, key=lambda s: s[1])
