"""Outbound messages: officers' replies, template messages outside WhatsApp's 24-hour customer
service window, and notifications through ``send_message`` (WhatsApp or email over SMTP)."""
from __future__ import annotations

import datetime as dt
import re
import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app

from portal.db import database, utcnow
from portal.jobs import periodic_task, task
from portal.text import clean_text, isolate_tokens
from portal.timeline import log_entry
from huey import crontab

from . import graph
from .models import Message, Sender
from .processing import TEXT_LIMITS, apply_pending_statuses

WINDOW = dt.timedelta(hours=24)
TEMPLATE_PARAM_LIMIT = 1024
# Meta's limit for the body of an interactive message.
INTERACTIVE_LIMITS = {"body": 1024}
EMAIL_SUBJECTS = {
    "case_reference": "رقم طلبك",
    "missing_documents": "مستندات ناقصة",
    "decision": "قرار طلبك",
    "one_time_code": "رمز التحقق",
}


class CannotSend(ValueError):
    """The message cannot go out as asked; ``reason`` is a key the screens translate."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def window_open(sender: Sender, now=None) -> bool:
    """WhatsApp (and Messenger/Instagram standard messaging) allow free text for 24 hours after the
    person's last message; after that only approved templates."""
    return sender.last_inbound_at is not None and (now or utcnow()) - sender.last_inbound_at < WINDOW


def text_limit(platform: str) -> int:
    return TEXT_LIMITS.get(platform, 4096)


def _text_too_long(platform: str, text: str) -> bool:
    if platform == "instagram":
        return len(text.encode("utf-8")) > TEXT_LIMITS["instagram"]
    return len(text) > text_limit(platform)


def template_param(value) -> str:
    """Template parameters may not hold new lines, tabs or more than four spaces in a row."""
    text = re.sub(r"[\r\n\t]+", " · ", clean_text(str(value)))
    text = re.sub(r" {4,}", "   ", text)
    return text[:TEMPLATE_PARAM_LIMIT]


def template_payload(to: str, purpose: str, text: str, context: dict, beneficiary=None) -> tuple[dict, str]:
    templates = current_app.config["SOCIAL_TEMPLATES"]
    spec = templates.get(purpose)
    values = dict(context or {})
    values.setdefault("text", text)
    if beneficiary is not None:
        values.setdefault("name", beneficiary.first_name)
    if spec is None or any(values.get(p) in (None, "") for p in spec.get("params", [])):
        spec = templates["notification"]
    chosen = str((context or {}).get("template") or "")
    if chosen and chosen != spec["name"]:
        # the admins named the approved template of this notice (/admin/notices): it takes the text
        spec = {"name": chosen, "language": spec.get("language", "ar"), "params": ["text"]}
    params = [template_param(values.get(p, "")) for p in spec.get("params", [])]
    components = []
    if params:
        components.append({"type": "body", "parameters": [{"type": "text", "text": p} for p in params]})
    if spec.get("otp_button") and params:
        components.append({"type": "button", "sub_type": "url", "index": "0",
                           "parameters": [{"type": "text", "text": params[0]}]})
    payload = {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "template",
        "template": {"name": spec["name"], "language": {"code": spec.get("language", "ar")},
                     "components": components},
    }
    return payload, spec["name"]


def text_payload(platform: str, to: str, text: str) -> dict:
    if platform == "whatsapp":
        return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text",
                "text": {"preview_url": False, "body": text}}
    return {"recipient": {"id": to}, "messaging_type": "RESPONSE", "message": {"text": text}}


def queue_message(*, sender: Sender, beneficiary, text: str, payload: dict, actor=None, purpose: str = "",
                  template: str = "") -> Message:
    """Write the outbound entry (state "queued") and its message row in one transaction, then send."""
    with database.atomic():
        data = {"platform": sender.platform, "sender": sender.id, "sender_name": sender.display_name,
                "handle": sender.handle, "kind": "template" if template else "text", "state": "queued",
                "template": template, "purpose": purpose}
        entry = log_entry(channel="social", direction="out", beneficiary=beneficiary, summary=text[:300] or template,
                          body=text, actor=actor, data=data)
        message = Message.create(platform=sender.platform, direction="out", sender=sender, entry=entry,
                                 kind=data["kind"], state="queued", payload=payload, actor=actor, purpose=purpose,
                                 is_template=bool(template))
    send_outbound(message.id)
    return message


def reply(sender: Sender, text: str, actor, use_template: bool = False) -> Message:
    """An officer's answer. Free text inside the window; outside it only the follow-up template."""
    text = clean_text(text)
    beneficiary = sender.beneficiary if sender.beneficiary_id else None
    if sender.platform == "email":
        raise CannotSend("email_reply")
    if use_template:
        if sender.platform != "whatsapp":
            raise CannotSend("no_templates")
        payload, name = template_payload(sender.handle, "follow_up", text, {"name": sender.display_name},
                                         beneficiary)
        body = text or ""
        return queue_message(sender=sender, beneficiary=beneficiary, text=body, payload=payload, actor=actor,
                             purpose="follow_up", template=name)
    if not text:
        raise CannotSend("empty")
    if _text_too_long(sender.platform, text):
        raise CannotSend("too_long")
    if not window_open(sender):
        raise CannotSend("window_closed")
    return queue_message(sender=sender, beneficiary=beneficiary, text=text,
                         payload=text_payload(sender.platform, sender.handle, text), actor=actor, purpose="reply")


def _deliver(message: Message) -> str:
    cfg = current_app.config
    if message.platform in ("whatsapp", "messenger", "instagram") and not cfg.get("SOCIAL_ACCESS_TOKEN"):
        raise graph.GraphError("the Graph API is not configured (PORTAL_SOCIAL_ACCESS_TOKEN)")
    if message.platform == "whatsapp" and not cfg.get("SOCIAL_PHONE_NUMBER_ID"):
        raise graph.GraphError("WhatsApp is not configured (PORTAL_SOCIAL_PHONE_NUMBER_ID)")
    if message.platform == "whatsapp":
        return graph.send_whatsapp(message.payload)
    if message.platform in ("messenger", "instagram"):
        return graph.send_page_message(message.payload)
    if message.platform == "email":
        return send_email(message.payload)
    raise graph.GraphError(f"unknown platform {message.platform}")


class NotCommittedYet(LookupError):
    pass


@task(retries=5, retry_delay=3)
def send_outbound(message_id: int) -> None:
    """Send one queued message. Transient failures were already retried with backoff inside the
    HTTP client; what is left is recorded on the message for the officer to see and retry."""
    message = Message.get_or_none(Message.id == message_id)
    if message is None:
        # queued from inside a transaction that has not committed yet: huey tries again shortly
        raise NotCommittedYet(f"outbound message {message_id} not visible yet")
    if message.state != "queued":
        return  # already sent, or being retried elsewhere: never send twice
    try:
        provider_id = _deliver(message)
    except (graph.GraphError, smtplib.SMTPException, OSError, ValueError) as exc:
        _record_state(message, "failed", str(exc)[:500])
        return
    with database.atomic():
        Message.update(provider_id=provider_id[:200], attempts=Message.attempts + 1, updated_at=utcnow()).where(
            Message.id == message.id).execute()
        message.provider_id = provider_id[:200]
        _record_state(message, "sent" if message.platform == "email" else "accepted", "")
        apply_pending_statuses(message)


def _record_state(message: Message, state: str, error: str) -> None:
    from .processing import write_state

    with database.atomic():
        Message.update(state=state, error=error, updated_at=utcnow(),
                       attempts=Message.attempts + (1 if state == "failed" else 0)).where(
            Message.id == message.id).execute()
        write_state(message, state, error)


def retry_message(message: Message) -> None:
    if message.direction != "out" or message.state != "failed" or message.provider_id:
        raise CannotSend("not_retryable")
    _record_state(message, "queued", "")
    Message.update(attempts=Message.attempts - 1).where(Message.id == message.id).execute()
    send_outbound(message.id)


# --- email ------------------------------------------------------------------------------------------

def send_email(payload: dict) -> str:
    cfg = current_app.config
    if not cfg.get("SOCIAL_SMTP_HOST"):
        raise smtplib.SMTPException("no SMTP server is configured (PORTAL_SOCIAL_SMTP_HOST)")
    mail = EmailMessage()
    mail["From"] = formataddr((cfg["ORG_NAME_AR"], cfg["SOCIAL_SMTP_FROM"]))
    mail["To"] = payload["to"]
    mail["Subject"] = payload["subject"]
    mail["Message-ID"] = make_msgid(domain=cfg["SOCIAL_SMTP_FROM"].rpartition("@")[2] or "localhost")
    mail.set_content(payload["text"])
    attempts = max(1, int(cfg["SOCIAL_HTTP_ATTEMPTS"]))
    delay = float(cfg["SOCIAL_HTTP_BACKOFF"])
    for attempt in range(1, attempts + 1):
        try:
            _smtp_send(mail)
            return mail["Message-ID"]
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code < 500 and attempt < attempts:  # 4xx: try again later
                time.sleep(delay)
                delay *= 2
                continue
            raise
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError):
            if attempt == attempts:
                raise
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def _smtp_send(mail: EmailMessage) -> None:
    cfg = current_app.config
    host, port = cfg["SOCIAL_SMTP_HOST"], int(cfg["SOCIAL_SMTP_PORT"])
    security = cfg["SOCIAL_SMTP_SECURITY"]
    timeout = float(cfg["SOCIAL_HTTP_TIMEOUT"])
    if security == "ssl":
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    with smtp:
        if security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if cfg.get("SOCIAL_SMTP_USER"):
            smtp.login(cfg["SOCIAL_SMTP_USER"], cfg.get("SOCIAL_SMTP_PASSWORD") or "")
        smtp.send_message(mail)


# --- send_message -------------------------------------------------------------------------------

def _interactive(spec) -> dict | None:
    """Meta Cloud API ``interactive`` object from the ``context["interactive"]`` of ``send_message``:
    ``{"type": "button", "body": str, "buttons": [{"id", "title"}, ...]}`` (at most 3 reply buttons) or
    ``{"type": "list", "body": str, "button": str, "sections": [{"title", "rows": [{"id", "title",
    "description"}]}]}`` (at most 10 rows), with optional ``header`` and ``footer``. Titles are cut to
    Meta's limits; a shape it would refuse gives None (the plain text is sent instead)."""
    if not isinstance(spec, dict) or spec.get("type") not in ("button", "list"):
        return None
    body = clean_text(spec.get("body") or "")[:INTERACTIVE_LIMITS["body"]]
    if not body:
        return None
    out: dict = {"type": spec["type"], "body": {"text": body}}
    if spec["type"] == "button":
        buttons = [{"type": "reply", "reply": {"id": str(b.get("id") or "")[:256],
                                               "title": clean_text(b.get("title") or "")[:20]}}
                   for b in (spec.get("buttons") or [])[:3] if isinstance(b, dict)]
        if not buttons or any(not b["reply"]["id"] or not b["reply"]["title"] for b in buttons):
            return None
        out["action"] = {"buttons": buttons}
    else:
        sections, count = [], 0
        for section in spec.get("sections") or []:
            rows = []
            for row in (section or {}).get("rows") or []:
                if count == 10 or not isinstance(row, dict) or not row.get("id") or not row.get("title"):
                    continue
                item = {"id": str(row["id"])[:200], "title": clean_text(row["title"])[:24]}
                if row.get("description"):
                    item["description"] = clean_text(row["description"])[:72]
                rows.append(item)
                count += 1
            if rows:
                sections.append({"title": clean_text((section or {}).get("title") or "")[:24], "rows": rows})
        button = clean_text(spec.get("button") or "")[:20]
        if not sections or not button:
            return None
        if len(sections) == 1 and not sections[0]["title"]:
            sections[0].pop("title")
        out["action"] = {"button": button, "sections": sections}
    if spec.get("header"):
        out["header"] = {"type": "text", "text": clean_text(spec["header"])[:60]}
    if spec.get("footer"):
        out["footer"] = {"text": clean_text(spec["footer"])[:60]}
    return out


def interactive_payload(to: str, interactive: dict) -> dict:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "interactive",
            "interactive": interactive}


def notify(beneficiary, text: str, purpose: str, channel, context) -> dict | None:
    """``context`` may carry ``to`` (an E.164 number: answer that number, e.g. someone who just wrote and
    matches no single file, then ``beneficiary`` may be None) and ``interactive`` (a menu of reply buttons or
    a list, sent when the 24-hour window is open; see ``_interactive``)."""
    context = context or {}
    preferred = channel or (beneficiary.preferred_channel if beneficiary is not None else None)
    # clean_text drops direction controls: put the isolates of references, dates and numbers back.
    text = isolate_tokens(clean_text(text))
    to = context.get("to") or (beneficiary.mobile if beneficiary is not None else "")
    if preferred == "social" and to and current_app.config.get("SOCIAL_PHONE_NUMBER_ID"):
        handle = to.lstrip("+")
        sender = Sender.get_or_none((Sender.platform == "whatsapp") & (Sender.handle == handle))
        if sender is None:
            sender = Sender.create(platform="whatsapp", handle=handle, phone=to if to.startswith("+") else "",
                                   beneficiary=beneficiary,
                                   display_name=beneficiary.full_name[:200] if beneficiary is not None else "")
        interactive = _interactive(context.get("interactive"))
        if window_open(sender) and purpose != "one_time_code" and interactive is not None:
            message = queue_message(sender=sender, beneficiary=beneficiary, text=text,
                                    payload=interactive_payload(handle, interactive), purpose=purpose)
        elif window_open(sender) and purpose != "one_time_code" and not _text_too_long("whatsapp", text):
            message = queue_message(sender=sender, beneficiary=beneficiary, text=text,
                                    payload=text_payload("whatsapp", handle, text), purpose=purpose)
        else:
            payload, name = template_payload(handle, purpose, text, context, beneficiary)
            message = queue_message(sender=sender, beneficiary=beneficiary, text=text, payload=payload,
                                    purpose=purpose, template=name)
        return _answer(message, f"whatsapp:{message.id}")
    if beneficiary is None:
        return None
    if preferred == "email" and beneficiary.email and current_app.config.get("SOCIAL_SMTP_HOST"):
        address = beneficiary.email.strip().lower()
        sender = Sender.get_or_none((Sender.platform == "email") & (Sender.handle == address))
        if sender is None:
            sender = Sender.create(platform="email", handle=address, beneficiary=beneficiary,
                                   display_name=beneficiary.full_name[:200])
        subject = EMAIL_SUBJECTS.get(purpose, "رسالة")
        reference = context.get("reference")
        if reference:
            subject = f"{subject} {reference}"
        payload = {"to": address, "subject": f"{subject} — {current_app.config['ORG_NAME_AR']}", "text": text}
        message = queue_message(sender=sender, beneficiary=beneficiary, text=text, payload=payload, purpose=purpose)
        return _answer(message, f"email:{message.id}")
    return None


def _answer(message: Message, ident: str) -> dict | None:
    """``send_message``'s answer: "sent" only once the platform or the mail server took the message; "queued"
    while the job has not sent it (the notice then says it is waiting); None when it was refused at once, so
    that the next channel (SMS) may try and nothing claims it was sent."""
    state = Message.select(Message.state).where(Message.id == message.id).scalar()
    if state == "failed":
        return None
    return {"channel": "social", "id": ident, "state": "queued" if state == "queued" else "sent"}


# --- periodic retries ---------------------------------------------------------------------------

def requeue_stale(now=None) -> int:
    """Outbound messages still "queued" after ten minutes (a worker stopped mid-way): send them."""
    cutoff = (now or utcnow()) - dt.timedelta(minutes=10)
    ids = [m.id for m in Message.select(Message.id).where((Message.state == "queued") & (Message.direction == "out")
                                                         & (Message.updated_at <= cutoff))]
    for message_id in ids:
        send_outbound(message_id)
    return len(ids)


@periodic_task(crontab(minute="*"))
def requeue_stale_messages() -> None:
    requeue_stale()
