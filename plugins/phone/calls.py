"""Calls: number handling, beneficiary matching, the CTI event state machine, manual logging,
linking an unknown number to a beneficiary, and the screen-pop look-up.

One call is one ``PhoneCall`` row and one timeline entry (channel ``phone``). The entry's ``data``
carries everything the timeline shows, so drawing a page of calls needs no extra query."""
from __future__ import annotations

import datetime as dt
import functools
import re

import phonenumbers

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import IntegrityError

from portal.audit import audit
from portal.dates import saudi_date
from portal.db import database, is_postgres, utcnow
from portal.models import Beneficiary, Case, TimelineEntry, User
from portal.text import fold_digits
from portal.timeline import log_entry, update_entries, update_entry
from portal.validators import ValidationError, clean_mobile
from portal.workflow.outreach import create_task
from portal.workflow.machine import IN_PROGRESS_STATUSES

from .models import PhoneCall

EVENTS = ("newCall", "answer", "hangup")
MISSED_CAUSES = ("noAnswer", "busy")
STATE_RANK = {"ringing": 0, "answered": 1, "ended": 2}
ANONYMOUS = ("anonymous", "unknown", "private", "restricted", "withheld", "unavailable")
CALLBACK_DAYS = 1

OUTCOMES = {
    "answered": _l("Question answered"),
    "request_registered": _l("Request registered"),
    "documents_requested": _l("Documents requested"),
    "appointment": _l("Appointment set"),
    "referred": _l("Referred to a colleague"),
    "complaint": _l("Complaint received"),
    "callback": _l("Call back needed"),
    "no_answer": _l("No answer"),
    "wrong_number": _l("Wrong number"),
    "other": _l("Other"),
}

CAUSE_LABELS = {
    "normalClearing": _l("ended normally"),
    "busy": _l("busy"),
    "cancel": _l("caller hung up"),
    "noAnswer": _l("no answer"),
    "congestion": _l("network congestion"),
    "notFound": _l("number not found"),
    "forwarded": _l("forwarded"),
    "ANSWERED": _l("answered"),
    "NO ANSWER": _l("no answer"),
    "BUSY": _l("busy"),
    "FAILED": _l("call failed"),
    "CONGESTION": _l("network congestion"),
}


_SAUDI = re.compile(r"^(?:\+966|00966|966|0)([1-9]\d{8})$")


def normalize_number(raw) -> tuple[str, bool]:
    """``(number, anonymous)``: E.164 when the text is a phone number, else its digits (an
    extension, a short code); ``("", True)`` for a withheld number."""
    return _normalize(fold_digits(str(raw or "")).strip())


@functools.cache
def _saudi_descs() -> list[tuple[re.Pattern, tuple]]:
    """The Saudi number types of phonenumbers' own metadata (mobile first: most calls), each pattern compiled
    once; ``is_valid_number`` would look each up again and try every type in its own order."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region("SA")
    descs = [meta.mobile, meta.fixed_line, meta.toll_free, meta.premium_rate, meta.shared_cost, meta.voip,
             meta.personal_number, meta.pager, meta.uan, meta.voicemail]
    return [(re.compile(d.national_number_pattern), tuple(d.possible_length or ())) for d in descs
            if d is not None and d.national_number_pattern]


def _saudi_valid(national: str) -> bool:
    """What ``phonenumbers.is_valid_number`` answers for +966 ``national``: some number type has the length
    and matches the whole pattern."""
    return any((not lengths or len(national) in lengths) and pattern.fullmatch(national)
               for pattern, lengths in _saudi_descs())


@functools.lru_cache(maxsize=65536)
def _normalize(text: str) -> tuple[str, bool]:
    if not text or text.lower() in ANONYMOUS:
        return "", True
    saudi = _SAUDI.match(re.sub(r"[\s\-().]", "", text))
    if saudi:
        # The common case, without the cost of a full parse (CDR imports call this per row).
        national = saudi.group(1)
        if _saudi_valid(national):
            return "+966" + national, False
    try:
        return clean_mobile(text, saudi_only=False), False
    except ValidationError:
        pass
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 11 and not text.startswith("0"):
        # International numbers sent without "+" or "00" (4930609854180, 966501234567).
        try:
            return clean_mobile("+" + digits, saudi_only=False), False
        except ValidationError:
            pass
    cleaned = ("+" if text.startswith("+") else "") + digits
    return (cleaned or text)[:40], False


def local_display(number: str) -> str:
    """``+966501234567`` -> ``0501234567``; other numbers unchanged."""
    if number.startswith("+966") and len(number) == 13:
        return "0" + number[4:]
    return number


def match_beneficiaries(number: str, limit: int = 10) -> list[Beneficiary]:
    if not number or not number.startswith("+"):
        return []
    return list(Beneficiary.select().where(Beneficiary.mobile == number).order_by(Beneficiary.id).limit(limit))


def single_match(number: str):
    found = match_beneficiaries(number, limit=2)
    return found[0] if len(found) == 1 else None


def summary_for(call: PhoneCall, topic: str = "") -> str:
    """The entry's stored summary, in Arabic (the organisation's language; screens draw the entry
    from ``data`` in the reader's language)."""
    if topic:
        return topic
    who = local_display(call.number) if call.number else None
    with force_locale("ar"):
        if call.direction == "out":
            return _("Outgoing call to %(number)s", number=who or "?")
        if call.missed:
            return _("Missed call from %(number)s", number=who) if who else _("Missed call from a withheld number")
        return _("Incoming call from %(number)s", number=who) if who else _("Incoming call from a withheld number")


def call_data(call: PhoneCall, answered_by_name: str | None = None) -> dict:
    if answered_by_name is None:
        answered_by_name = call.answered_by.full_name if call.answered_by_id else ""
    return {
        "call": call.id, "source": call.source, "direction": call.direction, "number": call.number,
        "anonymous": call.anonymous, "to": call.to_number, "state": call.state, "duration": call.duration,
        "answered_by": answered_by_name, "cause": call.cause, "queue": call.queue, "missed": call.missed,
    }


def _sync_entry(call: PhoneCall, topic: str = "") -> None:
    entry = TimelineEntry.get_by_id(call.entry_id)
    data = dict(entry.data or {})
    data.update(call_data(call))
    changes = {"data": data, "occurred_at": call.started_at,
               "summary": summary_for(call, topic or data.get("topic", ""))}
    if call.answered_by_id:
        changes["actor"] = call.answered_by_id
    if call.beneficiary_id and entry.beneficiary_id is None:
        changes["beneficiary"] = call.beneficiary_id
    update_entry(entry, **changes)


def _request_callback(call: PhoneCall) -> None:
    """Missed inbound call: put a "call back" task in the core's outreach queue, once."""
    if call.callback_requested or not call.missed:
        return
    beneficiary = Beneficiary.get_by_id(call.beneficiary_id) if call.beneficiary_id else None
    with force_locale("ar"):
        reason = _("Missed call from %(number)s: call back.", number=local_display(call.number) or "?")
    create_task(
        beneficiary=beneficiary, kind="call_back", reason=reason,
        due=saudi_date(call.started_at) + dt.timedelta(days=CALLBACK_DAYS),
        source={"channel": "phone", "call": call.id, "entry": call.entry_id, "number": call.number},
    )
    call.callback_requested = True
    PhoneCall.update(callback_requested=True).where(PhoneCall.id == call.id).execute()


# --- CTI -------------------------------------------------------------------------------------------

class CtiError(ValueError):
    pass


def find_user(answering_number: str, names) -> User | None:
    """The answering officer: ``answeringNumber`` matched to a user's phone, then to a login;
    else the first of the event's ``user`` names matched to a login or full name."""
    raw = fold_digits(answering_number or "").strip()
    if raw:
        number, _anon = normalize_number(raw)
        candidates = {raw, number}
        user = User.get_or_none(User.phone.in_(list(candidates)) & User.is_active)
        if user is None:
            user = User.get_or_none((User.username == raw.lower()) & User.is_active)
        if user is not None:
            return user
    for name in names or []:
        name = str(name).strip()
        if not name:
            continue
        user = User.get_or_none(((User.username == name.lower()) | (User.full_name == name)) & User.is_active)
        if user is not None:
            return user
    return None


def parse_cti(values: dict) -> dict:
    """Check one CTI post; returns the cleaned event or raises CtiError with an English message."""
    event = str(values.get("event") or "").strip()
    if event not in EVENTS:
        raise CtiError(f"unknown event {event!r}; expected one of: {', '.join(EVENTS)}" if event
                       else "event is required (newCall, answer or hangup)")
    call_id = str(values.get("callId") or values.get("call_id") or "").strip()
    if not call_id:
        raise CtiError("callId is required")
    if len(call_id) > 120:
        raise CtiError("callId is longer than 120 characters")
    direction = str(values.get("direction") or "").strip()
    if direction and direction not in ("in", "out"):
        raise CtiError("direction must be 'in' or 'out'")
    users = values.get("user") or []
    if isinstance(users, str):
        users = [users]
    if not isinstance(users, list):
        raise CtiError("user must be a list of names")
    cause = str(values.get("cause") or "").strip()
    return {
        "event": event, "call_id": call_id, "direction": direction or None,
        "from": str(values.get("from") or "").strip(), "to": str(values.get("to") or "").strip(),
        "users": [str(u).strip()[:100] for u in users if str(u).strip()][:20],
        "queue": str(values.get("queue") or "").strip()[:80],
        "answering_number": str(values.get("answeringNumber") or "").strip()[:40],
        "cause": cause[:30],
    }


def _apply(call: PhoneCall, ev: dict, now: dt.datetime) -> None:
    if ev["direction"]:
        call.direction = ev["direction"]
    outside = ev["from"] if call.direction == "in" else ev["to"]
    inside = ev["to"] if call.direction == "in" else ev["from"]
    if outside:
        call.number, call.anonymous = normalize_number(outside)
    elif ev["event"] == "newCall" and not call.number:
        call.anonymous = True
    if inside:
        call.to_number = fold_digits(inside)[:40]
    if ev["queue"]:
        call.queue = ev["queue"]
    if ev["users"]:
        known = [u for u in (call.notify_users or "").split("\n") if u]
        call.notify_users = "\n".join(dict.fromkeys(known + ev["users"]))[:500]
    if ev["event"] == "newCall":
        call.started_at = min(call.started_at, now) if call.started_at else now
    elif ev["event"] == "answer":
        if call.answered_at is None:
            call.answered_at = min(now, call.ended_at) if call.ended_at else now
        if call.answered_by_id is None:
            user = find_user(ev["answering_number"], ev["users"])
            call.answered_by = user
        if ev["answering_number"]:
            call.answering_number = ev["answering_number"]
    elif ev["event"] == "hangup":
        if call.ended_at is None:
            call.ended_at = now
        if ev["cause"]:
            call.cause = ev["cause"]
    reached = {"newCall": "ringing", "answer": "answered", "hangup": "ended"}[ev["event"]]
    if STATE_RANK[reached] > STATE_RANK.get(call.state, 0):
        call.state = reached
    if call.answered_at and call.ended_at:
        call.duration = max(0, int((call.ended_at - call.answered_at).total_seconds()))
    call.missed = call.direction == "in" and call.cause in MISSED_CAUSES
    if call.beneficiary_id is None and call.number:
        call.beneficiary = single_match(call.number)
    call.updated_at = now


def handle_cti(values: dict) -> PhoneCall:
    """Apply one CTI event. Repeated and out-of-order events of a call update its one entry."""
    ev = parse_cti(values)
    for attempt in range(3):
        try:
            return _handle_cti_once(ev)
        except IntegrityError:
            # Two first events of the same call raced; the other one created the row: apply ours to it.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _handle_cti_once(ev: dict) -> PhoneCall:
    now = utcnow()
    with database.atomic():
        query = PhoneCall.select().where(PhoneCall.call_id == ev["call_id"])
        if is_postgres():
            query = query.for_update()
        call = query.get_or_none()
        created = call is None
        if created:
            call = PhoneCall(call_id=ev["call_id"], source="cti", direction=ev["direction"] or "in",
                             started_at=now, state="ringing")
        _apply(call, ev, now)
        call.save()
        if created:
            entry = log_entry(
                channel="phone", summary=summary_for(call), beneficiary=call.beneficiary,
                direction=call.direction, occurred_at=call.started_at, actor=call.answered_by,
                data=call_data(call),
            )
            call.entry = entry
            PhoneCall.update(entry=entry).where(PhoneCall.id == call.id).execute()
        else:
            _sync_entry(call)
        _request_callback(call)
    return call


def ringing_calls(user: User, within_minutes: int = 3, exclude=(), limit: int = 5) -> list[PhoneCall]:
    """Inbound calls ringing now that this user should see: addressed to them, or to nobody in particular.

    One query on the ``(state, started_at)`` index, whatever the size of the call log; ``exclude`` are
    call ids the user dismissed."""
    since = utcnow() - dt.timedelta(minutes=within_minutes)
    query = PhoneCall.select().where((PhoneCall.state == "ringing") & (PhoneCall.started_at >= since)
                                     & (PhoneCall.direction == "in"))
    exclude = [int(i) for i in exclude]
    if exclude:
        query = query.where(PhoneCall.id.not_in(exclude))
    # A few more than shown: calls addressed to other users are left out below.
    calls = list(query.order_by(PhoneCall.started_at.desc(), PhoneCall.id.desc()).limit(limit * 4))
    names = {user.username.lower(), user.full_name.strip(), (user.phone or "").strip()} - {""}
    out = []
    for call in calls:
        targets = {t.strip() for t in (call.notify_users or "").split("\n") if t.strip()}
        if not targets or targets & names or {t.lower() for t in targets} & names:
            out.append(call)
    return out[:limit]


# --- manual logging --------------------------------------------------------------------------------

def log_manual_call(*, direction: str, number: str, beneficiary, occurred_at, duration, topic: str,
                    outcome: str, notes: str, follow_up_due, actor, case=None) -> PhoneCall:
    with database.atomic():
        answered = outcome not in ("no_answer", "wrong_number")
        call = PhoneCall.create(
            source="manual", direction=direction, number=number, anonymous=not number,
            beneficiary=beneficiary, state="ended", started_at=occurred_at,
            ended_at=occurred_at + dt.timedelta(seconds=duration or 0),
            answered_at=occurred_at if answered else None, duration=duration,
            answered_by=actor if answered else None, cause="", updated_at=utcnow(),
        )
        data = call_data(call, answered_by_name=actor.full_name if answered else "")
        data.update({"topic": topic, "outcome": outcome})
        entry = log_entry(
            channel="phone", summary=topic, beneficiary=beneficiary, case=case, direction=direction,
            occurred_at=occurred_at, body=notes, actor=actor, data=data, follow_up_due=follow_up_due,
        )
        PhoneCall.update(entry=entry).where(PhoneCall.id == call.id).execute()
        call.entry = entry
        if answered:
            call_finished(call, beneficiary, outcome, actor, case=case)
    return call


# Outcomes after which a satisfaction survey about the call makes sense (not a wrong number or no answer).
SURVEYED_OUTCOMES = ("answered", "request_registered", "documents_requested", "appointment", "referred", "complaint",
                     "other")


def call_finished(call: PhoneCall, beneficiary, outcome: str, actor, case=None) -> None:
    """An answered call with its outcome recorded is a finished service: the core may offer a satisfaction
    survey about it (``service_finished``; one per call, at most one a beneficiary per month)."""
    from portal.plugins import hook

    if beneficiary is None or outcome not in SURVEYED_OUTCOMES or call.answered_at is None:
        return
    hook().service_finished(beneficiary=beneficiary, kind="call", channel="phone", case=case, staff=actor,
                            source=f"phone:call:{call.id}")


def record_logged_contact(entry: TimelineEntry) -> PhoneCall | None:
    """A phone contact written without this plugin (the profile's contact form, the JSON API, the
    outreach queue) becomes a call in the log: one ``PhoneCall`` row (source ``manual``, the
    beneficiary's mobile as the number) and the entry's ``data`` of a call. Runs inside the
    transaction that wrote the entry (the ``timeline_entry_created`` hook); entries this plugin
    wrote itself (``data.source`` set) and internal notes are left alone."""
    if entry.channel != "phone" or entry.direction not in ("in", "out") or (entry.data or {}).get("source"):
        return None
    beneficiary = Beneficiary.get_by_id(entry.beneficiary_id) if entry.beneficiary_id else None
    actor = User.get_by_id(entry.actor_id) if entry.actor_id else None
    number = (beneficiary.mobile if beneficiary else "") or ""
    call = PhoneCall.create(
        source="manual", entry=entry, direction=entry.direction, number=number, anonymous=False,
        beneficiary=beneficiary, state="ended", started_at=entry.occurred_at, ended_at=entry.occurred_at,
        answered_at=entry.occurred_at, answered_by=actor, updated_at=utcnow(),
    )
    data = dict(entry.data or {})
    data.update(call_data(call, answered_by_name=actor.full_name if actor else ""))
    data["topic"] = entry.summary
    update_entry(entry, by=actor, data=data)
    return call


def annotate_call(call: PhoneCall, entry: TimelineEntry, *, beneficiary, topic: str, outcome: str, notes: str,
                  follow_up_due, actor) -> None:
    """Save the officer's topic, outcome, notes and follow-up on a call (and who called, when the
    number is shared), in one transaction."""
    with database.atomic():
        data = dict(entry.data or {})
        data.update({"topic": topic, "outcome": outcome})
        update_entry(entry, by=actor, summary=topic, body=notes, data=data, follow_up_due=follow_up_due,
                     beneficiary=beneficiary.id if beneficiary else None)
        PhoneCall.update(beneficiary=beneficiary.id if beneficiary else None, updated_at=utcnow()).where(
            PhoneCall.id == call.id).execute()
        audit("update", "phone_call", call.id, {"outcome": outcome, "beneficiary": getattr(beneficiary, "id", None)},
              actor=actor)
        call_finished(call, beneficiary, outcome, actor)


# --- linking unknown numbers -----------------------------------------------------------------------

def link_number(number: str, beneficiary: Beneficiary, actor=None) -> int:
    """Move every unmatched call from ``number`` to ``beneficiary``'s timeline; returns how many."""
    with database.atomic():
        entry_ids = PhoneCall.select(PhoneCall.entry).where(
            (PhoneCall.number == number) & PhoneCall.beneficiary.is_null() & PhoneCall.entry.is_null(False))
        update_entries(TimelineEntry.id.in_(entry_ids) & TimelineEntry.beneficiary.is_null(), by=actor,
                       beneficiary=beneficiary.id)
        moved = PhoneCall.update(beneficiary=beneficiary).where(
            (PhoneCall.number == number) & PhoneCall.beneficiary.is_null()).execute()
        audit("link", "phone_number", number, {"beneficiary": beneficiary.id, "calls": moved}, actor=actor)
    return moved


def find_beneficiary(text: str):
    """A beneficiary by file number or national ID (Eastern digits accepted)."""
    digits = re.sub(r"\D", "", fold_digits(text or ""))
    if not digits:
        return None
    if len(digits) == 10:
        found = Beneficiary.get_or_none(Beneficiary.national_id == digits)
        if found:
            return found
    return Beneficiary.get_or_none(Beneficiary.file_number == digits.zfill(6)) or Beneficiary.get_or_none(
        Beneficiary.file_number == digits)


# --- screen-pop ------------------------------------------------------------------------------------

def screen_pop(number: str, limit: int = 5, skip_entry: int | None = None) -> dict:
    """Who is calling: the beneficiaries with this mobile, their open requests and last contacts
    (``skip_entry``: the ringing call's own timeline entry, which is not an earlier contact)."""
    matches = match_beneficiaries(number)
    ids = [b.id for b in matches]
    cases: dict[int, list] = {i: [] for i in ids}
    recent: dict[int, list] = {i: [] for i in ids}
    if ids:
        for case in (Case.select().where(Case.beneficiary.in_(ids) & Case.status.in_(IN_PROGRESS_STATUSES))
                     .order_by(Case.id.desc())):
            cases[case.beneficiary_id].append(case)
        for ben_id in ids:  # at most ten people share a number; five rows each
            query = TimelineEntry.select().where(TimelineEntry.beneficiary == ben_id)
            if skip_entry is not None:
                query = query.where(TimelineEntry.id != skip_entry)
            recent[ben_id] = list(
                query.order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc()).limit(limit))
    earlier = (PhoneCall.select().where((PhoneCall.number == number) & PhoneCall.beneficiary.is_null())
               .count()) if number and not ids else 0
    return {"number": number, "matches": matches, "cases": cases, "recent": recent, "unmatched_calls": earlier}
