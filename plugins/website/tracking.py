"""Tracking without an account: a request is found by its reference (or its tracking link's token)
and the applicant's full national ID, then a one-time code to the registered mobile when a sender
answers; an inquiry by its reference and the full ID or mobile given with it. Failed attempts are
counted per reference and per address in the database and lead to a lockout. Every failure looks
the same whether the reference exists or not."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import re
import secrets

from flask import current_app
from flask_babel import lazy_gettext as _l
from peewee import IntegrityError

from portal.audit import audit
from portal.db import database, utcnow
from portal.models import Beneficiary, Case
from portal.plugins import hook
from portal.text import normalize_reference as parse_reference
from portal.text import only_digits
from portal.workflow import research
from portal.workflow.machine import AWAITING_REPLY_STATUSES

from .models import Inquiry, TrackingChallenge, TrackingLock, TrackingToken

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
    """The canonical reference from what was typed (either order, Eastern Arabic digits, any dash,
    spaces and direction marks: ``portal.text.normalize_reference``); "" when it is not shaped like one."""
    return parse_reference(value)


def reference_format_ok(ref: str) -> bool:
    return bool(CASE_REF.match(ref) or INQUIRY_REF.match(ref))


def _same(typed: str, stored: str) -> bool:
    return bool(typed) and bool(stored) and hmac.compare_digest(typed.encode(), stored.encode())


def find_case(reference: str, national_id: str) -> Case | None:
    """The request with this reference, when ``national_id`` (the full, clean ID) is its applicant's."""
    ref = normalize_reference(reference)
    if not CASE_REF.match(ref):
        return None
    row = (Case.select(Case, Beneficiary).join(Beneficiary).where(Case.reference == ref).first())
    if row is None:
        _same(national_id, "0000000000")  # same work whether the reference exists or not
        return None
    return row if _same(national_id, row.beneficiary.national_id) else None


def find_inquiry(reference: str, national_id: str, mobile: str) -> Inquiry | None:
    """The message with this reference, when the full ID number or the full mobile given with it match."""
    ref = normalize_reference(reference)
    if not INQUIRY_REF.match(ref):
        return None
    row = Inquiry.get_or_none(Inquiry.reference == ref)
    if row is None:
        return None
    return row if (_same(national_id, row.national_id) or _same(mobile, row.mobile)) else None


# ---------------------------------------------------------------- tracking links

def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def issue_token(case: Case) -> str:
    """A new random token for the request's tracking link (the previous link stops working)."""
    token = secrets.token_urlsafe(24)
    with database.atomic():
        rows = (TrackingToken.update(token_hash=_sha256(token), created_at=utcnow())
                .where(TrackingToken.case == case.id).execute())
        if rows == 0:
            TrackingToken.create(case=case.id, token_hash=_sha256(token))
    return token


def case_for_token(token: str | None) -> Case | None:
    if not token or len(token) > 64:
        return None
    row = TrackingToken.get_or_none(TrackingToken.token_hash == _sha256(token))
    if row is None:
        return None
    return Case.select(Case, Beneficiary).join(Beneficiary).where(Case.id == row.case_id).first()


# ---------------------------------------------------------------- lockout (per reference and per address)

def _hmac(value: str) -> str:
    return hmac.new(current_app.config["SECRET_KEY"].encode(), value.encode(), hashlib.sha256).hexdigest()


def reference_key(ref: str) -> tuple[str, int]:
    return _hmac(f"ref:{ref}"), int(current_app.config["WEBSITE_TRACK_MAX_FAILURES"])


def address_key(address: str | None) -> tuple[str, int]:
    return _hmac(f"ip:{address or ''}"), int(current_app.config["WEBSITE_TRACK_ADDRESS_MAX_FAILURES"])


def _lock_minutes() -> int:
    return int(current_app.config["WEBSITE_TRACK_LOCK_MINUTES"])


def locked_minutes(keys) -> int:
    """Minutes left of the longest lockout among ``keys`` (0 when none is locked)."""
    now = utcnow()
    rows = TrackingLock.select().where(TrackingLock.key.in_([k for k, _n in keys]) &
                                       (TrackingLock.locked_until > now))
    left = max([(row.locked_until - now).total_seconds() for row in rows], default=0)
    return math.ceil(left / 60) if left > 0 else 0


def record_failure(keys) -> int:
    """Count a failed attempt for each key; a key reaching its limit within the window is locked.
    Returns the minutes of lockout now in force (0 if none). Atomic increments: every worker counts."""
    now = utcnow()
    window = dt.timedelta(minutes=_lock_minutes())
    for key, limit in keys:
        with database.atomic():
            TrackingLock.update(failures=0, window_start=now).where(
                (TrackingLock.key == key) & (TrackingLock.window_start < now - window)).execute()
            rows = TrackingLock.update(failures=TrackingLock.failures + 1).where(TrackingLock.key == key).execute()
        if rows == 0:
            try:
                with database.atomic():
                    TrackingLock.create(key=key, failures=1, window_start=now)
            except IntegrityError:  # another worker created it at the same moment
                with database.atomic():
                    TrackingLock.update(failures=TrackingLock.failures + 1).where(TrackingLock.key == key).execute()
        with database.atomic():
            TrackingLock.update(locked_until=now + window, failures=0, window_start=now).where(
                (TrackingLock.key == key) & (TrackingLock.failures >= limit)).execute()
    return locked_minutes(keys)


def clear_failures(key: str) -> None:
    with database.atomic():
        TrackingLock.delete().where((TrackingLock.key == key) & (
            TrackingLock.locked_until.is_null() | (TrackingLock.locked_until <= utcnow()))).execute()


# ---------------------------------------------------------------- one-time codes

def code_hash(code: str) -> str:
    return _hmac(f"otp:{code}")


class CodeResult:
    OK, WRONG, DEAD = "ok", "wrong", "dead"


def start_challenge(case: Case, text_for) -> str | None:
    """Send a one-time code to the registered mobile through ``send_message``. Returns the browser's
    nonce for the challenge when a transport accepted it, None when nothing could be sent. The code
    itself is kept only as an HMAC; the attempt is audited (sent or not), never with the code."""
    code = f"{secrets.randbelow(10**6):06d}"
    delivery = hook().send_message(beneficiary=case.beneficiary, text=text_for(code), purpose="one_time_code",
                                   channel=None, context={"reference": case.reference, "code": code})
    with database.atomic():
        audit("send_code", "website_tracking", case.id, {"sent": bool(delivery),
                                                         "channel": (delivery or {}).get("channel")})
        if not delivery:
            return None
        nonce = secrets.token_urlsafe(24)
        TrackingChallenge.create(case=case.id, code_hash=code_hash(code), nonce_hash=_sha256(nonce),
                                 expires_at=utcnow() + dt.timedelta(minutes=int(current_app.config["WEBSITE_OTP_MINUTES"])))
    return nonce


def recent_challenge(case: Case) -> bool:
    """A code went to this request's mobile less than a minute ago (no second text at once)."""
    since = utcnow() - dt.timedelta(seconds=int(current_app.config["WEBSITE_OTP_RESEND_SECONDS"]))
    return TrackingChallenge.select().where((TrackingChallenge.case == case.id) &
                                            (TrackingChallenge.created_at > since)).exists()


def challenge_for(nonce: str | None) -> TrackingChallenge | None:
    if not nonce:
        return None
    return TrackingChallenge.get_or_none(TrackingChallenge.nonce_hash == _sha256(nonce))


def challenge_alive(challenge: TrackingChallenge | None) -> bool:
    return (challenge is not None and challenge.used_at is None and challenge.expires_at > utcnow()
            and challenge.attempts < int(current_app.config["WEBSITE_OTP_TRIES"]))


def check_code(challenge: TrackingChallenge, typed: str) -> str:
    """OK once (the code is spent), WRONG (one attempt used), DEAD (expired, spent or out of tries)."""
    if not challenge_alive(challenge):
        return CodeResult.DEAD
    tries = int(current_app.config["WEBSITE_OTP_TRIES"])
    if not hmac.compare_digest(code_hash(only_digits(typed)), challenge.code_hash):
        with database.atomic():
            TrackingChallenge.update(attempts=TrackingChallenge.attempts + 1).where(
                TrackingChallenge.id == challenge.id).execute()
        return CodeResult.WRONG
    with database.atomic():
        rows = (TrackingChallenge.update(used_at=utcnow())
                .where((TrackingChallenge.id == challenge.id) & TrackingChallenge.used_at.is_null()
                       & (TrackingChallenge.attempts < tries) & (TrackingChallenge.expires_at > utcnow()))
                .execute())
    return CodeResult.OK if rows == 1 else CodeResult.DEAD


def expected_reply_date(case: Case) -> dt.date | None:
    """The reply date promised to an applicant who still waits for it (``research.expected_reply_date``);
    None once decided or closed."""
    if case.status not in AWAITING_REPLY_STATUSES:
        return None
    return research.expected_reply_date(case)


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
