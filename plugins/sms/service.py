"""Sending, delivery reports and replies for the SMS channel.

A message is written as ``queued`` in the caller's transaction, then handed to a job that talks to
the gateway outside any transaction. Our message id goes to the gateway as its idempotency key, and
the job only sends a message that is still ``queued``: running the job twice never sends twice.
Retryable refusals (5xx, 429, timeouts, network errors) are tried again with exponential backoff up to
``PORTAL_SMS_MAX_ATTEMPTS``; anything else fails the message at once, with the gateway's reason."""
from __future__ import annotations

import datetime as dt
import logging
import re

import phonenumbers
from flask import current_app

from portal.db import database, utcnow
from huey import crontab

from portal.jobs import periodic_task, task
from portal.models import Beneficiary, TimelineEntry
from portal.quiet import quiet_until
from portal.text import fold_digits, strip_bidi_controls

from . import providers, segments
from .models import RANK, SmsInbound, SmsMessage

log = logging.getLogger(__name__)

# Purposes sent whether or not the beneficiary agreed to be contacted: the decision on their request
# (the law requires it), and answers to something the person just did (their reference, a one-time code,
# the self-service menu's answer to a text they sent).
LEASE = dt.timedelta(minutes=5)  # how long one attempt may take before the sweep may try again
WITHOUT_CONSENT = ("decision", "one_time_code", "case_reference", "self_service", "inquiry_answer",
                   "complaint_answer")


class SmsRefused(ValueError):
    """The text cannot be sent (too long, bad number, no consent...). ``str()`` is for the user."""


def config(name: str):
    return current_app.config[f"SMS_{name}"]


def configured() -> bool:
    name = config("PROVIDER")
    if not name:
        return False
    known = providers.PROVIDERS.get(name)
    url = config("URL") or (known.default_url if known else "")
    return bool(url and config("TOKEN"))


def gateway() -> providers.Provider:
    return providers.provider(config("PROVIDER"), providers.Settings(
        url=config("URL"), token=config("TOKEN"), sender=config("SENDER"), username=config("USERNAME"),
        timeout=float(config("TIMEOUT"))))


def normalise(number: str) -> str:
    """A mobile number in any usual writing → E.164; Saudi mobiles only unless
    ``PORTAL_SMS_INTERNATIONAL`` is on. Raises ``SmsRefused``."""
    from flask_babel import gettext as _

    raw = strip_bidi_controls(fold_digits(number or "")).strip()
    for ch in " -().\u00a0":
        raw = raw.replace(ch, "")
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    try:
        parsed = phonenumbers.parse(raw, "SA")
    except phonenumbers.NumberParseException:
        raise SmsRefused(_("This is not a phone number.")) from None
    if not phonenumbers.is_valid_number(parsed):
        raise SmsRefused(_("This phone number is not valid."))
    if phonenumbers.number_type(parsed) not in (phonenumbers.PhoneNumberType.MOBILE,
                                                  phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise SmsRefused(_("This number is not a mobile number: it cannot receive text messages."))
    if phonenumbers.region_code_for_number(parsed) != "SA" and not config("INTERNATIONAL"):
        raise SmsRefused(_("Text messages go to Saudi mobile numbers only."))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def check_text(text: str) -> segments.Count:
    from flask_babel import gettext as _

    if not (text or "").strip():
        raise SmsRefused(_("Write the text message first."))
    counted = segments.count(text)
    if counted.parts > int(config("MAX_PARTS")):
        raise SmsRefused(_("The message is %(parts)s parts long; at most %(max)s parts can be sent. Shorten it.",
                           parts=counted.parts, max=config("MAX_PARTS")))
    return counted


def queue(beneficiary, text: str, purpose: str, *, to: str | None = None, now: dt.datetime | None = None) -> SmsMessage:
    """Write a ``queued`` message (in the caller's transaction) and start its job — or, in the quiet
    hours (``PORTAL_QUIET_HOURS``), leave it for the sweep once they end."""
    from flask_babel import gettext as _

    if beneficiary is not None and not beneficiary.consent_contact and purpose not in WITHOUT_CONSENT:
        raise SmsRefused(_("This beneficiary has not agreed to be contacted."))
    number = normalise(to if to is not None else (beneficiary.mobile if beneficiary else ""))
    counted = check_text(text)
    now = now or utcnow()
    held_until = quiet_until(now, current_app.config.get("QUIET_HOURS"), purpose)
    message = SmsMessage.create(beneficiary=beneficiary, to=number, text=text, purpose=purpose[:40],
                                provider=config("PROVIDER"), encoding=counted.encoding, parts=counted.parts,
                                created_at=now, updated_at=now, next_attempt_at=held_until or now)
    if held_until is None:
        # The job may start before the caller's transaction commits and not see the row yet: then it
        # does nothing, and the sweep below sends the message a minute or two later.
        deliver_task(message.id)
    return message


def send_due(now: dt.datetime | None = None) -> int:
    """Send the queued messages whose time has come and that no job took (a job that started before
    its message was committed, a worker stopped mid-way, a retry after backoff). Returns how many."""
    cutoff = (now or utcnow()) - dt.timedelta(seconds=60)
    due = [m.id for m in SmsMessage.select(SmsMessage.id).where(
        (SmsMessage.state == "queued") & (SmsMessage.next_attempt_at <= cutoff)).order_by(SmsMessage.id).limit(500)]
    for message_id in due:
        deliver(message_id)
    return len(due)


@periodic_task(crontab(minute="*"))
def send_due_task() -> None:
    send_due()


@task(retries=0)
def deliver_task(message_id: int) -> None:
    deliver(message_id)


def backoff(attempts: int) -> int:
    """Seconds before the next try after ``attempts`` tries: 30 s, 60 s, 120 s... at most an hour."""
    return min(30 * 2 ** max(attempts - 1, 0), 3600)


def deliver(message_id: int) -> str:
    """Send one queued message. Returns its state afterwards. Never sends a message twice."""
    with database.atomic():
        message = SmsMessage.get_or_none(SmsMessage.id == message_id)
        if message is None or message.state != "queued":
            return message.state if message else "missing"
        attempts = message.attempts + 1
        now = utcnow()
        # Claim this attempt: only one runner moves ``attempts`` from n to n+1, and the lease keeps the
        # sweep away while the gateway answers.
        claimed = SmsMessage.update(attempts=attempts, updated_at=now, next_attempt_at=now + LEASE).where(
            (SmsMessage.id == message_id) & (SmsMessage.state == "queued")
            & (SmsMessage.attempts == message.attempts)).execute()
        if claimed != 1:
            return "queued"
    result = gateway().send(message.to, message.text, str(message.id))
    now = utcnow()
    with database.atomic():
        if result.accepted:
            SmsMessage.update(state="sent", gateway_id=result.gateway_id, sent_at=now, updated_at=now,
                              error="").where((SmsMessage.id == message_id) & (SmsMessage.state == "queued")).execute()
            record_on_entry(message_id)
            return "sent"
        if result.retryable and attempts < int(config("MAX_ATTEMPTS")):
            delay = backoff(attempts)
            SmsMessage.update(error=result.error[:1000], updated_at=now,
                              next_attempt_at=now + dt.timedelta(seconds=delay)).where(SmsMessage.id == message_id).execute()
            log.warning("SMS %s not accepted (attempt %s), retrying in %s s: %s", message_id, attempts, delay,
                        result.error)
            return "queued"
        if SmsMessage.update(state="failed", error=result.error[:1000], failed_at=now, updated_at=now).where(
                (SmsMessage.id == message_id) & (SmsMessage.state == "queued")).execute():
            record_on_entry(message_id)
            _call_back(message, result.error)
    log.warning("SMS %s failed after %s attempt(s): %s", message_id, attempts, result.error)
    return "failed"


REPORT_STATES = {"delivered": "delivered", "failed": "failed", "undelivered": "failed", "rejected": "failed",
                 "expired": "failed", "sent": "sent"}


def apply_report(gateway_id: str, status: str, error: str = "") -> str:
    """A delivery report from the gateway. Returns ``"applied"``, ``"unchanged"`` (a repeat, or older
    news than what we know), ``"unknown"`` (no message with that id) or ``"invalid"`` (a status we do
    not know)."""
    state = REPORT_STATES.get((status or "").strip().lower())
    if state is None:
        return "invalid"
    with database.atomic():
        message = SmsMessage.get_or_none(SmsMessage.gateway_id == str(gateway_id))
        if message is None:
            return "unknown"
        if message.state in ("delivered", "failed") or RANK[state] <= RANK[message.state]:
            return "unchanged"
        now = utcnow()
        changes = {"state": state, "updated_at": now}
        if state == "delivered":
            changes["delivered_at"] = now
        elif state == "failed":
            changes["failed_at"] = now
            changes["error"] = (error or "failed")[:1000]
        SmsMessage.update(**changes).where(SmsMessage.id == message.id).execute()
        record_on_entry(message.id)
        if state == "failed":
            _call_back(message, changes["error"])
    return "applied"


def message_id_of(data) -> int | None:
    """Our message id named by an entry's data: ``message`` (an officer's text) or ``delivery.id`` (a notice
    sent through ``send_message``), written ``sms:<id>``."""
    data = data if isinstance(data, dict) else {}
    delivery = data.get("delivery") if isinstance(data.get("delivery"), dict) else {}
    ref = data.get("message") or delivery.get("id", "")
    if isinstance(ref, str) and ref.startswith("sms:") and ref[4:].isdigit() and len(ref) < 20:
        return int(ref[4:])
    if isinstance(ref, int) and not isinstance(ref, bool):
        return ref
    return None


def link_entry(entry) -> None:
    """The entry that records a text (written just now by the officer's screen or by ``notify``): remember
    it on the message and write the message's state on it."""
    message_id = message_id_of(entry.data)
    if message_id is None:
        return
    if SmsMessage.update(entry=entry.id).where((SmsMessage.id == message_id) & SmsMessage.entry.is_null()).execute():
        record_on_entry(message_id, entry)


def record_on_entry(message_id: int, entry=None) -> None:
    """Write the text's state on its timeline entry (``data.delivery_state``, ``data.delivery_error``), through
    ``portal.timeline.update_entry`` (audited). Nothing is written when the entry already says it."""
    from portal.timeline import update_entry

    message = SmsMessage.get_or_none(SmsMessage.id == message_id)
    if message is None or message.entry_id is None:
        return
    if entry is None or entry.id != message.entry_id:
        entry = TimelineEntry.get_or_none(TimelineEntry.id == message.entry_id)
    if entry is None:
        return
    data = dict(entry.data or {})
    error = (message.error or "")[:300] if message.state == "failed" else ""
    if data.get("delivery_state") == message.state and data.get("delivery_error", "") == error:
        return
    data["delivery_state"] = message.state
    if error:
        data["delivery_error"] = error
    else:
        data.pop("delivery_error", None)
    if "sent" in data and message.state != "queued":  # a notice: no longer waiting; "sent" once a gateway took it
        if message.state in ("sent", "delivered") or message.sent_at is not None:
            data["sent"] = True  # a failure reported after the gateway took it does not undo that
        data.pop("queued", None)
    update_entry(entry, data=data)


def receive(gateway_id: str, sender: str, text: str, received_at: dt.datetime | None = None):
    """A text from a number. Matched to a file only when exactly one file has that mobile; then it is
    on that file's timeline. Returns ``(inbound, created)``; a repeat of the same id creates nothing."""
    from flask_babel import force_locale
    from flask_babel import gettext as _

    from portal.timeline import log_entry

    try:
        number = normalise(sender)
    except SmsRefused:
        number = strip_bidi_controls(sender or "")[:20]
    with database.atomic():
        existing = SmsInbound.get_or_none(SmsInbound.gateway_id == gateway_id)
        if existing is not None:
            return existing, False
        matches = list(Beneficiary.select().where(Beneficiary.mobile == number).limit(2))
        beneficiary = matches[0] if len(matches) == 1 else None
        entry = None
        if beneficiary is not None:
            with force_locale("ar"):
                summary = _("Text message received")
            entry = log_entry(channel="sms", direction="in", summary=summary, body=text, beneficiary=beneficiary,
                              occurred_at=received_at, data={"kind": "inbound", "gateway_id": gateway_id})
        inbound = SmsInbound.create(gateway_id=gateway_id, sender=number, text=text, beneficiary=beneficiary,
                                    matches=len(matches), entry=entry, received_at=received_at or utcnow())
    offer_inbound(inbound)
    return inbound, True


def offer_inbound(inbound: SmsInbound) -> bool:
    """Offer a new text to the other plugins (``inbound_message``: a self-service menu, a survey waiting
    for a rating), once it is stored. Only texts from a number we could read are offered."""
    from portal.messaging import (PRIVATE, STAFF_CONVERSATION_HOURS, InboundMessage, beneficiaries_for_number,
                                  dispatch_inbound, keep_private)

    if not re.fullmatch(r"\+[1-9][0-9]{6,14}", inbound.sender or ""):
        return False
    matches = (inbound.beneficiary_id,) if inbound.beneficiary_id else beneficiaries_for_number(inbound.sender)
    since = utcnow() - dt.timedelta(hours=STAFF_CONVERSATION_HOURS)
    staff = SmsMessage.select().where((SmsMessage.to == inbound.sender) & (SmsMessage.purpose == "officer")
                                      & (SmsMessage.created_at >= since)).exists()
    handled = dispatch_inbound(InboundMessage(
        channel="sms", sender=inbound.sender, text=inbound.text, reply_id=None, beneficiary_ids=matches,
        entry=inbound.entry, provider_id=inbound.gateway_id, platform=config("PROVIDER") or "sms",
        received_at=inbound.received_at, staff_conversation=staff))
    if handled == PRIVATE:
        # A survey's score or comment: kept with the survey, not on the timeline nor in the texts received.
        with database.atomic():
            entry = inbound.entry
            keep_private(entry, data={"kind": "inbound", "gateway_id": inbound.gateway_id} if entry else None)
            SmsInbound.update(text="").where(SmsInbound.id == inbound.id).execute()
            inbound.text = ""
    return bool(handled)


def _call_back(message: SmsMessage, error: str) -> None:
    """A text that did not reach the beneficiary becomes a call-back task for an officer (once per message)."""
    from flask_babel import force_locale
    from flask_babel import gettext as _

    from portal.dates import saudi_date
    from portal.workflow.outreach import create_task

    if message.beneficiary_id is None:
        return
    with force_locale("ar"):
        reason = _("A text message did not reach the beneficiary (%(error)s): call them.", error=(error or "")[:120])
    create_task(beneficiary=message.beneficiary_id, kind="call_back", reason=reason, due=saudi_date(utcnow()),
                source={"channel": "sms", "message": message.id}, key=f"sms_failed:{message.id}")

