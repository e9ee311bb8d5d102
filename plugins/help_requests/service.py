"""The self-service conversation: one incoming message (``inbound_message``) → the session it belongs to → what
it asks → the answer, the side effects (an outreach task, a question in the register, a one-time link) and one
timeline entry on the ``help_requests`` channel, in one transaction; then the answer goes out through
``send_message`` on the channel the person wrote on.

The sender's number is the identity. A number that matches no file gets general information and "ask a
question" only; a number on two or more files gets no personal data and is handed to an officer."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from peewee import IntegrityError

from portal.dates import format_gregorian, format_hijri, saudi_today
from portal.db import database, utcnow
from portal.models import Beneficiary, Case
from portal.plugins import channel_map, hook
from portal.text import isolate, isolate_tokens
from portal.timeline import log_entry, update_entry
from portal.workflow.machine import AWAITING_REPLY_STATUSES
from portal.workflow.outreach import create_task
from portal.workflow.research import expected_reply_date

from . import menu
from .models import SelfServiceExchange, SelfServiceSession

log = logging.getLogger(__name__)
CHANNEL = "help_requests"
PURPOSE = "self_service"
# A session that ended this recently is mentioned ("your previous conversation ended") when the person writes again.
EXPIRY_NOTICE_WINDOW = dt.timedelta(hours=24)

def _status_label(status: str) -> str:
    """What a state of a request means, in plain words for the beneficiary (never internal detail)."""
    labels = {
        "submitted": _("Received, being checked by an officer"),
        "incomplete": _("Documents are missing"),
        "in_research": _("A social researcher is studying it"),
        "awaiting_committee": _("With the committee for a decision"),
        "approved": _("Approved"),
        "rejected": _("Not approved"),
        "registered": _("Registered; the service will be provided"),
        "served": _("The service was provided"),
        "closed": _("Closed"),
        "withdrawn": _("Withdrawn"),
    }
    return labels.get(status, status)


@dataclass
class Turn:
    """The outcome of one message."""

    choice: str = ""  # what the message was understood as ("" not understood)
    reply: str = ""
    interactive: dict | None = None
    state: str = "menu"
    handled: bool = True  # False: the channel's default handling goes on too (an officer will read it)
    notes: dict = field(default_factory=dict)


def config(name: str):
    return current_app.config[f"HELP_REQUESTS_{name}"]


# --- the conversation ---------------------------------------------------------------------------

def handle(message) -> bool | None:
    """Answer one incoming message; True when it was handled, None to let the channel (and other plugins)
    handle it."""
    if message.channel not in (config("CHANNELS") or ()) or not message.sender:
        return None
    if message.provider_id and SelfServiceExchange.select().where(
            (SelfServiceExchange.channel == message.channel)
            & (SelfServiceExchange.provider_id == message.provider_id)).exists():
        return True  # the same message again: answered once
    if message.staff_conversation and not _explicitly_for_the_menu(message):
        return None  # an answer to a staff member who wrote to this person: theirs to read
    now = utcnow()
    session, current = _open_session(message, now)
    if current and session.state == "handed_over" and menu.parse(message.text, message.reply_id)[0] != "menu":
        return None  # an officer has the conversation: the menu stays silent
    try:
        with database.atomic():
            session, ended = _claim_session(session, message, now)
            exchange = SelfServiceExchange.create(session=session, channel=message.channel,
                                                  provider_id=(message.provider_id or f"{message.channel}:{now}")[:200],
                                                  received=message.text or "", created_at=now)
            ben = _beneficiary(session)
            with force_locale(session.lang):
                turn = _decide(session, ben, message, ended, exchange)
                reply = isolate_tokens(turn.reply)
            with force_locale("ar"):
                summary = _("Self-service: %(choice)s", choice=_choice_label(turn.choice))
            entry = log_entry(channel=CHANNEL, direction="in", beneficiary=ben, summary=summary,
                              body=message.text or "", occurred_at=message.received_at or now,
                              data={"kind": "self_service", "session": session.id, "choice": turn.choice,
                                    "via": message.channel, "reply": reply, "sent": False, **turn.notes})
            SelfServiceExchange.update(choice=turn.choice, reply=reply, entry=entry).where(
                SelfServiceExchange.id == exchange.id).execute()
            timeout = dt.timedelta(minutes=int(config("SESSION_MINUTES")))
            SelfServiceSession.update(state=turn.state, lang=session.lang, last_choice=turn.choice, last_at=now,
                                      expires_at=now + timeout, exchanges=SelfServiceSession.exchanges + 1).where(
                SelfServiceSession.id == session.id).execute()
    except IntegrityError:
        return True  # the same message processed at the same moment elsewhere
    _send(session, ben, message, reply, turn.interactive, exchange, entry)
    return True if turn.handled else None


def _explicitly_for_the_menu(message) -> bool:
    """The menu word, or a choice pressed on the WhatsApp menu (not a digit, which may answer an officer)."""
    if message.reply_id and message.reply_id.startswith(menu.REPLY_PREFIX):
        return True
    return menu.parse(message.text, None)[0] == "menu"


def _open_session(message, now):
    """The session of this number on this channel: ``(session, current)``; ``current`` False when it
    expired (or there is none: then a new, unsaved one)."""
    row = (SelfServiceSession.select()
           .where((SelfServiceSession.channel == message.channel) & (SelfServiceSession.sender == message.sender)
                  & (SelfServiceSession.state != "closed"))
           .order_by(SelfServiceSession.id.desc()).first())
    if row is not None and row.expires_at > now:
        return row, True
    return row, False


def _claim_session(row, message, now):
    """``(session, ended)``: the current session, or a new one (the expired one closed). ``ended`` is the
    session that expired mid-way (a menu or a question waiting) in the last day, else None."""
    if row is not None and row.expires_at > now:
        return row, None
    ended = None
    if row is not None:
        SelfServiceSession.update(state="closed").where(SelfServiceSession.id == row.id).execute()
        if row.state in ("menu", "question") and now - row.expires_at < EXPIRY_NOTICE_WINDOW:
            ended = row
    ids = tuple(message.beneficiary_ids)
    ben_id = ids[0] if len(ids) == 1 else None
    if ben_id is not None:
        ben = Beneficiary.get_or_none(Beneficiary.id == ben_id)
        if ben is None or ben.erased_at:
            ids, ben_id = (), None
    session = SelfServiceSession.create(
        channel=message.channel, sender=message.sender, beneficiary=ben_id, matches=min(len(ids), 9),
        lang=row.lang if row is not None else "ar", started_at=now, last_at=now,
        expires_at=now + dt.timedelta(minutes=int(config("SESSION_MINUTES"))))
    return session, ended


def _beneficiary(session) -> Beneficiary | None:
    """The one file the number is, never when it is on several."""
    if session.matches != 1 or session.beneficiary_id is None:
        return None
    ben = Beneficiary.get_or_none(Beneficiary.id == session.beneficiary_id)
    return None if ben is None or ben.erased_at else ben


def offered(session, ben) -> list[str]:
    """The choices this number may use: everything for one file; general information and a question for a
    number we do not know; nothing for a number on several files (an officer takes over)."""
    if session.matches > 1:
        return []
    choices = ["info", "question"]
    if ben is None:
        return choices
    choices += ["status", "visit", "callback", "staff"]
    for choice, purpose in (("apply", "apply"), ("rate", "rating")):
        if hook().self_service_link(beneficiary=ben, purpose=purpose, issue=False) is not None:
            choices.append(choice)
    return choices


def _decide(session, ben, message, ended, exchange) -> Turn:
    choice, lang = menu.parse(message.text, message.reply_id)
    if lang and lang != session.lang:
        session.lang = lang
        with force_locale(lang):
            return _decide(session, ben, message, ended, exchange)
    if session.matches > 1:
        return _shared_number(session, message)
    choices = offered(session, ben)
    if session.state == "question" and choice is None and ended is None:
        return _question(session, ben, message, exchange, choices)
    if choice is None:
        if ended is not None:
            intro = _("Your previous conversation ended after %(minutes)s minutes without a reply.",
                      minutes=config("SESSION_MINUTES"))
        elif session.exchanges == 0:
            intro = ""
        else:
            intro = _("Sorry, we did not understand your message.")
        return _menu_turn(session, ben, choices, intro, choice="")
    if choice == "menu":
        return _menu_turn(session, ben, choices, "", choice="menu")
    if choice not in choices:
        return _menu_turn(session, ben, choices, _("This choice is not available for your number."), choice=choice)
    return ACTIONS[choice](session, ben, message, exchange, choices)


def _greeting(ben) -> str:
    org = current_app.config["ORG_NAME_EN"] if _lang() == "en" else current_app.config["ORG_NAME_AR"]
    if ben is None:
        return _("Welcome to %(org)s. This number is not registered with us, so no file details can be given "
                 "here.", org=org)
    return _("Welcome to the self-service of %(org)s.", org=org)


def _lang() -> str:
    from flask_babel import get_locale

    locale = get_locale()
    return locale.language if locale else "ar"


def _menu_turn(session, ben, choices, intro: str, choice: str) -> Turn:
    parts = [p for p in (intro, _greeting(ben)) if p]
    if ben is None:
        parts.append(info_text())
    head = "\n".join(parts)
    ask = _("Reply with the number of your choice:")
    footer = _("Send “menu” at any time to see this list again.")
    text = "\n\n".join((head, ask + "\n" + menu.numbered(choices), footer))
    return Turn(choice=choice or "", reply=text, interactive=menu.interactive(f"{head}\n\n{ask}", choices),
                state="menu")


def _with_menu_hint(text: str) -> str:
    hint = _("Send “menu” for the other services.")
    return f"{text}\n\n{hint}"


def info_text() -> str:
    key = "INFO_EN" if _lang() == "en" else "INFO_AR"
    text = (config(key) or "").strip()
    if text:
        return text
    org = current_app.config["ORG_NAME_EN"] if _lang() == "en" else current_app.config["ORG_NAME_AR"]
    return _("%(org)s serves families in need in its neighbourhoods. To apply for support, visit our office "
             "with your national ID or apply on our website.", org=org)


# --- the choices ----------------------------------------------------------------------------------

def _status(session, ben, message, exchange, choices) -> Turn:
    limit = int(config("CASES_SHOWN"))
    cases = list(Case.select().where((Case.beneficiary == ben.id) & (Case.status != "draft"))
                 .order_by(Case.created_at.desc(), Case.id.desc()).limit(limit))
    if not cases:
        text = _("There is no request on your file yet.")
        if "apply" in choices:
            text += " " + _("Send 5 to start one.")
        return Turn(choice="status", reply=_with_menu_hint(text))
    lines = [_("Your requests:")]
    for case in cases:
        line = f"• {isolate(case.reference)}: {_status_label(case.status)}"
        if case.status in AWAITING_REPLY_STATUSES:
            due = expected_reply_date(case)
            if due is not None:
                line += " — " + _("expected reply: %(hijri)s (%(gregorian)s)",
                                  hijri=isolate(format_hijri(due, _lang())),
                                  gregorian=isolate(format_gregorian(due, _lang())))
        lines.append(line)
    return Turn(choice="status", reply=_with_menu_hint("\n".join(lines)), notes={"cases": [c.id for c in cases]})


def _task(session, ben, kind_reason: str, choice: str, case=None) -> int | None:
    task = create_task(beneficiary=ben.id if ben is not None else None, kind="call_back", reason=kind_reason,
                       due=saudi_today(), source={"channel": CHANNEL, "session": session.id}, case=case,
                       key=f"{CHANNEL}:{session.id}:{choice}")
    return task.id if task is not None else None


def _via(message) -> str:
    info = channel_map().get(message.channel) or {}
    return info.get("label_ar") or message.channel


def _visit(session, ben, message, exchange, choices) -> Turn:
    answer = hook().self_service_booking(beneficiary=ben, channel=message.channel)
    if answer and answer.get("text"):
        return Turn(choice="visit", reply=_with_menu_hint(answer["text"]), notes={"booked": True})
    with force_locale("ar"):
        reason = _("Asked through the self-service (%(via)s) to visit the office: call to set the day and time.",
                   via=_via(message))
    task_id = _task(session, ben, reason, "visit")
    return Turn(choice="visit", notes={"task": task_id}, reply=_with_menu_hint(
        _("We recorded your request to visit the office. A staff member will call you to set the day and time.")))


def _callback(session, ben, message, exchange, choices) -> Turn:
    with force_locale("ar"):
        reason = _("Asked through the self-service (%(via)s) to be called back.", via=_via(message))
    task_id = _task(session, ben, reason, "callback")
    return Turn(choice="callback", notes={"task": task_id}, reply=_with_menu_hint(
        _("We recorded your call-back request. A staff member will call you on this number.")))


def _ask(session, ben, message, exchange, choices) -> Turn:
    return Turn(choice="question", state="question",
                reply=_("Write your question in one message and send it. Send “menu” to go back."))


def _question(session, ben, message, exchange, choices) -> Turn:
    """The message after "ask a question" is the question: an inquiry in the complaints register, with its
    reference and the day it will be answered by."""
    from portal.complaints import TEXT_LIMIT, ComplaintError, open_complaint

    text = (message.text or "").strip()
    if not text:
        return Turn(choice="question", state="question",
                    reply=_("Please write your question as text. Send “menu” to go back."))
    if len(text) > TEXT_LIMIT:
        return Turn(choice="question", state="question",
                    reply=_("Your question is too long: write it in at most %(n)s characters.", n=TEXT_LIMIT))
    try:
        item = open_complaint(kind="inquiry", channel=CHANNEL, text=text, beneficiary=ben,
                              contact_mobile=session.sender, contact_requested=ben is None,
                              source=CHANNEL, source_id=exchange.id)
    except ComplaintError:
        log.exception("a self-service question could not be registered")
        return _menu_turn(session, ben, choices, _("Sorry, we did not understand your message."), choice="")
    reply = _("We received your question under the number %(reference)s.", reference=isolate(item.reference))
    reply += " " + _("We will answer you by %(hijri)s (%(gregorian)s).",
                     hijri=isolate(format_hijri(item.deadline, _lang())),
                     gregorian=isolate(format_gregorian(item.deadline, _lang())))
    return Turn(choice="question_sent", reply=_with_menu_hint(reply),
                notes={"complaint": item.id, "reference": item.reference})


def _link(purpose: str, choice: str, intro):
    def action(session, ben, message, exchange, choices) -> Turn:
        answer = hook().self_service_link(beneficiary=ben, purpose=purpose, issue=True)
        if not answer or not answer.get("url"):
            return _menu_turn(session, ben, [c for c in choices if c != choice],
                              _("This choice is not available for your number."), choice=choice)
        text = intro() + "\n" + isolate(answer["url"])
        expires = answer.get("expires_at")
        if isinstance(expires, dt.datetime):
            from portal.dates import saudi_date

            day = saudi_date(expires)
            text += "\n" + _("The link works once, until %(hijri)s (%(gregorian)s).",
                             hijri=isolate(format_hijri(day, _lang())),
                             gregorian=isolate(format_gregorian(day, _lang())))
        return Turn(choice=choice, reply=_with_menu_hint(text), notes={"link": True})

    return action


def _info(session, ben, message, exchange, choices) -> Turn:
    return Turn(choice="info", reply=_with_menu_hint(info_text()))


def _staff(session, ben, message, exchange, choices) -> Turn:
    with force_locale("ar"):
        reason = _("Asked through the self-service (%(via)s) to talk to a staff member.", via=_via(message))
    task_id = _task(session, ben, reason, "staff")
    return Turn(choice="staff", state="handed_over", handled=False, notes={"task": task_id},
                reply=_("A staff member will answer you as soon as possible. Send “menu” to use the services "
                        "again."))


def _shared_number(session, message) -> Turn:
    """A number on two or more files: no personal data, an officer confirms who is writing."""
    with force_locale("ar"):
        reason = _("The number %(number)s, on %(count)s files, wrote to the self-service (%(via)s): call back and "
                   "confirm which file it is.", number=isolate(message.sender), count=session.matches,
                   via=_via(message))
    task_id = _task(session, None, reason, "shared_number")
    return Turn(choice="shared_number", state="handed_over", handled=False, notes={"task": task_id},
                reply=_("This number is registered on more than one file. To protect your data no details can be "
                        "given here: a staff member will contact you."))


ACTIONS = {
    "status": _status, "visit": _visit, "question": _ask, "callback": _callback, "info": _info, "staff": _staff,
    "apply": _link("apply", "apply", lambda: _("Open this link to start your support request; your file's "
                                               "details are already filled in:")),
    "rate": _link("rating", "rate", lambda: _("Open this link to rate our last service:")),
}


def _choice_label(choice: str) -> str:
    labels = {"menu": _("menu"), "": _("message not understood"), "question_sent": _("question received"),
              "shared_number": _("number on several files")}
    if choice in menu.LINES:
        return str(menu.LINES[choice])
    return labels.get(choice, choice)


# --- the answer -------------------------------------------------------------------------------------

def _send(session, ben, message, reply: str, interactive, exchange, entry) -> None:
    """Send the answer on the channel the person wrote on, to the number that wrote; record whether a
    transport took it."""
    context = {"to": message.sender}
    if interactive is not None:
        context["interactive"] = interactive
    try:
        result = hook().send_message(beneficiary=ben, text=reply, purpose=PURPOSE, channel=message.channel,
                                     context=context)
    except Exception:  # noqa: BLE001 - the exchange is recorded; the answer is marked not sent
        log.exception("self-service answer on %s could not be handed to a channel", message.channel)
        result = None
    queued = bool(result) and result.get("state") == "queued"
    delivery = str((result or {}).get("id", ""))[:100]
    with database.atomic():
        SelfServiceExchange.update(delivery=delivery, sent=bool(result)).where(
            SelfServiceExchange.id == exchange.id).execute()
        data = dict(entry.data or {})
        data.update(sent=bool(result) and not queued, queued=queued,
                    delivery={"channel": (result or {}).get("channel"), "id": delivery} if result else None)
        update_entry(entry, data=data)
