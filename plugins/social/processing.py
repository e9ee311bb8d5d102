"""From a stored webhook delivery to timeline entries: parse Meta's payloads, match senders, keep
messages idempotent by provider id, fetch media, apply delivery statuses."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import json
import logging

import phonenumbers
from flask import current_app
from peewee import IntegrityError
from werkzeug.datastructures import FileStorage

from portal.audit import audit
from portal.db import database, utcnow
from portal.models import Attachment, Beneficiary, TimelineEntry
from portal.hygiene import clean_value
from portal.text import clean_text
from portal.timeline import log_entry, update_entries, update_entry
from portal.uploads import AUDIO_KINDS, VIDEO_KINDS, UploadError, store_upload

from . import graph
from .models import DELIVERY_STATES, OUT_STATES, Message, Sender, StatusEvent, WebhookDelivery

log = logging.getLogger(__name__)

# What Meta documents as the longest text of each kind; longer input is cut, never refused.
TEXT_LIMITS = {"whatsapp": 4096, "messenger": 2000, "instagram": 1000}
CAPTION_LIMIT = 1024
MEDIA_KINDS = ("image", "document", "audio", "video", "sticker")
KNOWN_WA_KINDS = ("text", "location", "interactive", "button", *MEDIA_KINDS)
# Documents and images the upload rules accept; other documents (Word, spreadsheets) are listed, not kept.
KEPT_MIME = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "application/pdf": ".pdf"}
# The state of an incoming message a plugin answered (``inbound_message``): no officer needs to read it.
AUTOMATED = "automated"
# What each kind of message may hold, checked by content in the shared upload service (``portal.uploads``):
# voice notes and audio (OGG/Opus, AMR, MP4/M4A, MP3, AAC), videos (MP4, 3GPP) and stickers (WebP).
ALLOWED_CONTENT = {"image": ("jpeg", "png", "webp"), "document": ("pdf", "jpeg", "png", "webp"),
                   "audio": AUDIO_KINDS, "video": VIDEO_KINDS, "sticker": ("webp",)}
# The extension a stored file gets from its checked content, when the platform gave no file name.
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "application/pdf": ".pdf",
              "audio/ogg": ".ogg", "audio/amr": ".amr", "audio/amr-wb": ".amr", "audio/mp4": ".m4a",
              "audio/mpeg": ".mp3", "audio/aac": ".aac", "video/mp4": ".mp4", "video/3gpp": ".3gp"}
PLAYED = ("audio", "video")  # drawn with <audio> / <video> on the timeline
MARKERS = {"image": "📷", "document": "📄", "audio": "🎤", "video": "🎬", "sticker": "🖼", "location": "📍",
           "interactive": "↩", "button": "↩", "unsupported": "⚠"}


class MediaFailure(Exception):
    pass


# --- signatures -------------------------------------------------------------------------------

def signature_ok(raw: bytes, header: str | None, secret: str) -> bool:
    """``X-Hub-Signature-256: sha256=<hex>``: HMAC-SHA256 of the raw body with the app secret. A header
    that is not ASCII is a bad signature (``compare_digest`` on ``str`` only takes ASCII), so the
    comparison is made on bytes."""
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).hexdigest().encode("ascii")
    given = header[7:].strip().lower().encode("utf-8", errors="replace")
    return hmac.compare_digest(expected, given)


def sign(raw: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()


# --- senders -----------------------------------------------------------------------------------

def wa_id_to_e164(wa_id: str | None) -> str:
    digits = "".join(ch for ch in (wa_id or "") if ch.isdigit())
    if not digits:
        return ""
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def find_beneficiary_by_phone(phone: str):
    if not phone:
        return None
    rows = list(Beneficiary.select().where(Beneficiary.mobile == phone).limit(2))
    return rows[0] if len(rows) == 1 else None  # two files with one number: an officer decides


def link_sender(sender: Sender, ben: Beneficiary, actor=None) -> int:
    """Put the sender and every message they ever sent or received on ``ben``'s timeline."""
    with database.atomic():
        Sender.update(beneficiary=ben, linked_by=actor, linked_at=utcnow()).where(Sender.id == sender.id).execute()
        entry_ids = Message.select(Message.entry).where((Message.sender == sender) & Message.entry.is_null(False))
        moved = update_entries(TimelineEntry.id.in_(entry_ids), by=actor, beneficiary=ben.id)
        audit("link", "social_sender", sender.id, {"beneficiary": ben.id, "entries": moved}, actor=actor)
    sender.beneficiary = ben
    return moved


def sender_for(platform: str, handle: str, name: str = "", phone: str = "") -> Sender:
    handle = handle[:200]
    sender = Sender.get_or_none((Sender.platform == platform) & (Sender.handle == handle))
    if sender is None:
        try:
            with database.atomic():
                sender = Sender.create(platform=platform, handle=handle, display_name=clean_text(name)[:200],
                                       phone=phone)
        except IntegrityError:
            sender = Sender.get((Sender.platform == platform) & (Sender.handle == handle))
    elif name and clean_text(name)[:200] != sender.display_name:
        sender.display_name = clean_text(name)[:200]
        Sender.update(display_name=sender.display_name).where(Sender.id == sender.id).execute()
    if sender.beneficiary_id is None and sender.phone:
        ben = find_beneficiary_by_phone(sender.phone)
        if ben is not None:
            link_sender(sender, ben)
    return sender


# --- inbound messages --------------------------------------------------------------------------

def _from_timestamp(value, millis: bool = False):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return utcnow()
    if millis:
        number /= 1000
    stamp = dt.datetime.fromtimestamp(number, dt.UTC).replace(tzinfo=None)
    return min(stamp, utcnow())


def _cut(text, limit: int) -> str:
    return clean_text(str(text or ""))[:limit]


def describe_whatsapp(msg: dict) -> dict:
    """The fields the timeline shows for one WhatsApp message object."""
    kind = str(msg.get("type") or "unknown")[:30]
    info: dict = {"kind": kind, "text": ""}
    if kind == "text":
        info["text"] = _cut((msg.get("text") or {}).get("body"), TEXT_LIMITS["whatsapp"])
    elif kind in MEDIA_KINDS:
        media = msg.get(kind) or {}
        info["text"] = _cut(media.get("caption"), CAPTION_LIMIT)
        info["media"] = {
            "id": str(media.get("id") or "")[:100], "mime": str(media.get("mime_type") or "")[:100],
            "name": _cut(media.get("filename"), 200), "voice": bool(media.get("voice")), "state": "pending",
        }
    elif kind == "location":
        loc = msg.get("location") or {}
        try:
            lat, lon = float(loc.get("latitude")), float(loc.get("longitude"))
        except (TypeError, ValueError):
            lat = lon = None
        info["location"] = {"lat": lat, "lon": lon, "name": _cut(loc.get("name"), 200),
                            "address": _cut(loc.get("address"), 300)}
    elif kind == "interactive":
        inter = msg.get("interactive") or {}
        reply = inter.get("button_reply") or inter.get("list_reply") or {}
        info["text"] = _cut(reply.get("title"), 200)
        info["reply_id"] = str(reply.get("id") or "")[:200]
    elif kind == "button":
        button = msg.get("button") or {}
        info["text"] = _cut(button.get("text"), 200)
        info["reply_id"] = str(button.get("payload") or "")[:200]
    if kind not in KNOWN_WA_KINDS:
        info["unsupported"] = kind
        info["kind"] = "unsupported"
    return info


def describe_page_message(platform: str, message: dict) -> dict:
    info: dict = {"kind": "text", "text": _cut(message.get("text"), TEXT_LIMITS[platform])}
    attachments = message.get("attachments") or []
    if attachments:
        first = attachments[0] or {}
        kind = str(first.get("type") or "unknown")[:30]
        url = str((first.get("payload") or {}).get("url") or "")[:2000]
        if kind in ("image", "video", "audio", "file"):
            info["kind"] = "document" if kind == "file" else kind
            info["media"] = {"url": url, "mime": "", "name": "", "state": "pending"}
        else:
            info["kind"] = "unsupported"
            info["unsupported"] = kind
    elif not info["text"]:
        info["kind"] = "unsupported"
        info["unsupported"] = "empty"
    return info


def summary_of(info: dict) -> str:
    marker = MARKERS.get(info["kind"], "")
    text = info.get("text") or ""
    if info["kind"] == "location" and not text:
        text = info["location"].get("name") or info["location"].get("address") or ""
    if info["kind"] == "unsupported":
        text = info.get("unsupported", "")
    media = info.get("media") or {}
    if not text and media.get("name"):
        text = media["name"]
    return (f"{marker} {text}".strip() if marker else text)[:300] or marker or "…"


def record_inbound(*, platform: str, provider_id: str, sender: Sender, occurred_at, info: dict, raw: dict,
                   delivery: WebhookDelivery | None) -> tuple[Message, bool]:
    """Write the message and its timeline entry once. Returns (message, created)."""
    existing = Message.get_or_none((Message.platform == platform) & (Message.provider_id == provider_id))
    if existing is not None:
        return existing, False
    data = {"platform": platform, "sender": sender.id, "sender_name": sender.display_name,
            "handle": sender.handle, **{k: v for k, v in info.items() if k != "text"}}
    try:
        with database.atomic():
            entry = log_entry(
                channel="social", direction="in", beneficiary=sender.beneficiary_id and sender.beneficiary,
                occurred_at=occurred_at, summary=summary_of(info), body=info.get("text") or "", data=data,
            )
            message = Message.create(platform=platform, provider_id=provider_id, direction="in", sender=sender,
                                     entry=entry, kind=info["kind"], payload=raw, delivery=delivery,
                                     state="received")
            last = sender.last_inbound_at
            if last is None or occurred_at > last:
                Sender.update(last_inbound_at=occurred_at).where(Sender.id == sender.id).execute()
                sender.last_inbound_at = occurred_at
    except IntegrityError:  # the same message processed at the same moment elsewhere
        return Message.get((Message.platform == platform) & (Message.provider_id == provider_id)), False
    return message, True


def _media_name(platform: str, info: dict) -> str:
    """The platform's file name (a document's), or none yet: the extension then comes from the content."""
    media = info.get("media") or {}
    return media.get("name") or ""


def media_limit(kind: str) -> int:
    """Bytes a message of ``kind`` may carry (``PORTAL_SOCIAL_MEDIA_LIMITS_MB``; documents: ``MAX_UPLOAD_MB``)."""
    limits = current_app.config.get("SOCIAL_MEDIA_LIMITS_MB") or {}
    try:
        megabytes = float(limits.get(kind) or current_app.config["MAX_UPLOAD_MB"])
    except (TypeError, ValueError):
        megabytes = float(current_app.config["MAX_UPLOAD_MB"])
    return max(1, int(megabytes * 1024 * 1024))


def refused_content_message(kind: str):
    from flask_babel import lazy_gettext as _l

    if kind == "audio":
        return _l("This voice note or audio file is not audio: its content is none of OGG/Opus, AMR, MP4, MP3 "
                  "or AAC. It was not kept.")
    if kind == "video":
        return _l("This video is not a video: its content is not MP4 or 3GPP. It was not kept.")
    if kind == "sticker":
        return _l("This sticker is not a WebP image. It was not kept.")
    return None


def fetch_media_for(message: Message) -> None:
    """Download and store the message's media once (images, documents, voice notes, audio, videos and
    stickers), checked by content; raise MediaFailure when worth retrying. Content that is not what the
    message says (a voice note whose bytes are not audio) is refused: the entry says why, nothing is kept."""
    entry = TimelineEntry.get_by_id(message.entry_id)
    data = dict(entry.data or {})
    media = dict(data.get("media") or {})
    if not media or media.get("state") in ("stored", "not_kept", "refused"):
        return
    kind = data.get("kind")
    mime = (media.get("mime") or "").split(";")[0].strip()
    if kind not in ALLOWED_CONTENT or (kind in ("image", "document") and mime and mime not in KEPT_MIME):
        media["state"] = "not_kept"
        _save_media(entry, data, media)
        return
    max_bytes = media_limit(kind)
    try:
        if message.platform == "whatsapp":
            content, ctype = graph.fetch_media(media.get("id") or "", max_bytes)
        else:
            content, ctype = graph.fetch_url(media.get("url") or "", max_bytes)
    except graph.GraphError as exc:
        media["state"] = "failed"
        media["error"] = str(exc)[:300]
        _save_media(entry, data, media)
        if exc.retryable:
            raise MediaFailure(f"media of message {message.provider_id}: {exc}") from None
        return
    name = _media_name(message.platform, data)
    try:
        stored = store_upload(FileStorage(io.BytesIO(content), filename=name or "upload"),
                              allowed=ALLOWED_CONTENT[kind], max_bytes=max_bytes,
                              max_pages=1000 if kind == "sticker" else 200,  # an animated sticker's frames
                              refused_message=refused_content_message(kind))
    except UploadError as exc:
        media["state"] = "refused"
        media["error"] = str(exc.message)
        media["reason"] = exc.code or "damaged"  # the timeline says it in the reader's language
        _save_media(entry, data, media)
        return
    file_name = name or f"{message.platform}-{kind}{EXTENSIONS.get(stored.content_type, '')}"
    with database.atomic():
        att = Attachment.create(entry=entry, sha256=stored.sha256, file_name=file_name,
                                content_type=stored.content_type, size=stored.size)
        media.update(state="stored", attachment=att.id, mime=stored.content_type, error="")
        media.pop("url", None)
        _save_media(entry, data, media)


def _save_media(entry, data, media):
    data["media"] = media
    update_entry(entry, data=data)


def handle_message(*, platform, provider_id, sender, occurred_at, info, raw, delivery, errors, notes):
    message, created = record_inbound(platform=platform, provider_id=provider_id, sender=sender,
                                      occurred_at=occurred_at, info=info, raw=raw, delivery=delivery)
    if not created:
        notes.append(f"duplicate message {provider_id}")
    if info.get("media"):
        try:
            fetch_media_for(message)
        except MediaFailure as exc:
            errors.append(str(exc))
    if created and offer_inbound(message, sender, info, occurred_at):
        notes.append(f"message {provider_id} handled by a plugin")


def offer_inbound(message: Message, sender: Sender, info: dict, occurred_at) -> bool:
    """Offer a new message to the other plugins (``inbound_message``: a self-service menu, a survey
    waiting for a rating). One that handles it marks it "automated": it then opens no conversation in
    the unmatched inbox."""
    from portal.messaging import (PRIVATE, STAFF_CONVERSATION_HOURS, InboundMessage, beneficiaries_for_number,
                                  dispatch_inbound, keep_private)

    if sender.beneficiary_id:
        matches: tuple[int, ...] = (sender.beneficiary_id,)  # linked by an officer or by the number
    else:
        matches = beneficiaries_for_number(sender.phone)
    entry = TimelineEntry.get_or_none(TimelineEntry.id == message.entry_id) if message.entry_id else None
    since = utcnow() - dt.timedelta(hours=STAFF_CONVERSATION_HOURS)
    staff = Message.select().where((Message.sender == sender) & (Message.direction == "out")
                                   & Message.actor.is_null(False) & (Message.created_at >= since)).exists()
    inbound = InboundMessage(channel="social", sender=sender.phone or "", text=info.get("text") or "",
                             reply_id=info.get("reply_id") or None, beneficiary_ids=matches, entry=entry,
                             provider_id=message.provider_id, platform=message.platform, received_at=occurred_at,
                             staff_conversation=staff, extra={"kind": info.get("kind"), "handle": sender.handle})
    handled = dispatch_inbound(inbound)
    if not handled:
        return False
    with database.atomic():
        if handled == PRIVATE:
            keep_private(entry, data={key: (entry.data or {}).get(key) for key in PRIVATE_KEYS} if entry else None)
            Message.update(payload={"private": True}).where(Message.id == message.id).execute()
            if message.delivery_id:
                redact_delivery(message.delivery_id, message.provider_id)
        Message.update(state=AUTOMATED).where(Message.id == message.id).execute()
    message.state = AUTOMATED
    return True


# What the timeline keeps of a message whose words are private (a survey answer): who wrote, on which platform.
PRIVATE_KEYS = ("platform", "sender", "sender_name", "handle")
# What is kept of such a message inside the stored webhook body: enough to see that a message came.
_KEPT_IN_BODY = ("id", "mid", "from", "timestamp")


def _redacted(node, provider_id: str):
    if isinstance(node, list):
        return [_redacted(item, provider_id) for item in node]
    if not isinstance(node, dict):
        return node
    if provider_id and (node.get("id") == provider_id or node.get("mid") == provider_id):
        kept = {key: node[key] for key in _KEPT_IN_BODY if key in node}
        # WhatsApp: a message object names its type; "unsupported" reads back as a message with no words.
        return {**kept, "type": "unsupported"} if "type" in node else kept
    return {key: _redacted(value, provider_id) for key, value in node.items()}


def redact_delivery(delivery_id: int, provider_id: str) -> None:
    """Take the words of one message out of the stored webhook body (the admins' deliveries page shows it):
    the rest of the body stays, so a retry of the delivery still finds every other message (and this one's id,
    already recorded, is skipped as a duplicate)."""
    delivery = WebhookDelivery.get_or_none(WebhookDelivery.id == delivery_id)
    if delivery is None:
        return
    try:
        body = json.loads(delivery.body)
    except ValueError:
        return
    redacted = json.dumps(_redacted(body, provider_id), ensure_ascii=False)
    WebhookDelivery.update(body=redacted).where(WebhookDelivery.id == delivery_id).execute()


# --- statuses -----------------------------------------------------------------------------------

def _rank(state: str) -> int:
    return OUT_STATES.index(state) if state in OUT_STATES else -1


def apply_status(message: Message, status: str, error: str = "") -> bool:
    """Move an outbound message forward (never back); "failed" wins unless it was delivered. "failed" is final:
    a late "delivered" or "read" after it changes nothing (as does the same status twice)."""
    if message.state == "failed":
        return False
    if status == "failed":
        if _rank(message.state) >= _rank("delivered"):
            return False
    elif status not in OUT_STATES or _rank(status) <= _rank(message.state):
        return False
    with database.atomic():
        Message.update(state=status, error=error if status == "failed" else "", updated_at=utcnow()).where(
            Message.id == message.id).execute()
        write_state(message, status, error if status == "failed" else "")
    return True


def write_state(message: Message, state: str, error: str = "") -> None:
    """Show ``state`` on the timeline, through ``update_entry`` (audited): on the message's own entry (``state``,
    ``error``) and as the delivery state every channel shows (``delivery_state``, ``delivery_error``, drawn by
    the core's entry footer) on one entry only — the notice's when the message was sent for a notice, else its
    own — so that one message counts once among the messages not delivered. A failed message to a known
    beneficiary becomes one call-back task. Called inside the caller's transaction."""
    message.state = state
    shown = DELIVERY_STATES.get(state)
    for entry_id, own in ((message.entry_id, True), (message.notice_entry_id, False)):
        if not entry_id:
            continue
        entry = TimelineEntry.get_or_none(TimelineEntry.id == entry_id)
        if entry is None:
            continue
        data = dict(entry.data or {})
        if own:
            data["state"] = state
            data["error"] = error
        carries = not own or not message.notice_entry_id
        if carries and shown:
            data["delivery_state"] = shown
            if error:
                data["delivery_error"] = error[:300]
            else:
                data.pop("delivery_error", None)
            if not own and "sent" in data and state != "queued":  # the notice: no longer waiting
                if state != "failed":  # "sent" means a transport took it; a later failure does not undo that
                    data["sent"] = True
                data.pop("queued", None)
        else:
            data.pop("delivery_state", None)
            data.pop("delivery_error", None)
        if data != (entry.data or {}):
            update_entry(entry, data=data)
    if state == "failed":
        _call_back(message, error)


def _call_back(message: Message, error: str) -> None:
    """A message that did not reach the beneficiary becomes a call-back task for an officer, once per message."""
    from flask_babel import force_locale
    from flask_babel import gettext as _

    from portal.dates import saudi_date
    from portal.workflow.outreach import create_task

    beneficiary = Sender.select(Sender.beneficiary).where(Sender.id == message.sender_id).scalar()
    if beneficiary is None and message.entry_id:
        beneficiary = TimelineEntry.select(TimelineEntry.beneficiary).where(TimelineEntry.id == message.entry_id).scalar()
    if beneficiary is None:
        return
    platform = {"whatsapp": "WhatsApp", "messenger": "Messenger", "instagram": "Instagram", "email": "email"}.get(
        message.platform, message.platform)
    from portal.text import isolate

    with force_locale("ar"):  # the platform's reason is usually English: isolated inside the Arabic sentence
        reason = _("A message (%(platform)s) did not reach the beneficiary (%(error)s): call them.",
                   platform=isolate(platform), error=isolate((error or "")[:120]))
    create_task(beneficiary=beneficiary, kind="call_back", reason=reason, due=saudi_date(utcnow()),
                source={"channel": "social", "message": message.id}, key=f"social_failed:{message.id}")


def link_notice(entry) -> None:
    """The core's notice entry naming one of our messages (``data.delivery.id`` ``whatsapp:<id>`` or
    ``email:<id>``, as ``send_message`` answered): the message's delivery state moves there."""
    data = entry.data if isinstance(entry.data, dict) else {}
    delivery = data.get("delivery") if isinstance(data.get("delivery"), dict) else {}
    if delivery.get("channel") != "social":
        return
    platform, _sep, number = str(delivery.get("id") or "").partition(":")
    if platform not in ("whatsapp", "messenger", "instagram", "email") or not number.isdigit() or len(number) > 18:
        return
    with database.atomic():
        if not Message.update(notice_entry=entry.id).where(
                (Message.id == int(number)) & (Message.platform == platform) & Message.notice_entry.is_null()).execute():
            return
        message = Message.get_by_id(int(number))
        write_state(message, message.state, message.error if message.state == "failed" else "")


def handle_status(*, platform, provider_id, status, at, error, delivery, notes):
    status = str(status or "")[:20]
    provider_id = str(provider_id or "")[:200]
    if not provider_id:
        notes.append("status without a message id")
        return
    seen = StatusEvent.select().where((StatusEvent.platform == platform) & (StatusEvent.provider_id == provider_id)
                                      & (StatusEvent.status == status)).exists()
    if seen:
        notes.append(f"duplicate status {status} for {provider_id}")
        return
    message = Message.get_or_none((Message.platform == platform) & (Message.provider_id == provider_id)
                                  & (Message.direction == "out"))
    StatusEvent.create(platform=platform, provider_id=provider_id, status=status, at=at, message=message,
                       error=error, delivery=delivery)
    if message is None:
        notes.append(f"status {status} for unknown message {provider_id}")
        return
    apply_status(message, status, error)


def apply_pending_statuses(message: Message) -> None:
    """Statuses that arrived before the send recorded its id."""
    events = list(StatusEvent.select().where((StatusEvent.platform == message.platform)
                                             & (StatusEvent.provider_id == message.provider_id)
                                             & StatusEvent.message.is_null()).order_by(StatusEvent.at))
    for event in events:
        StatusEvent.update(message=message).where(StatusEvent.id == event.id).execute()
        apply_status(message, event.status, event.error)


def _status_error(status: dict) -> str:
    errors = status.get("errors") or []
    if not errors:
        return ""
    first = errors[0] or {}
    details = (first.get("error_data") or {}).get("details") or first.get("message") or first.get("title") or ""
    return f"{first.get('code', '')} {details}".strip()[:500]


# --- payloads -------------------------------------------------------------------------------------

def process_whatsapp(payload: dict, delivery, errors: list, notes: list) -> None:
    for entry in payload.get("entry") or []:
        for change in (entry or {}).get("changes") or []:
            if (change or {}).get("field", "messages") != "messages":
                notes.append(f"field {change.get('field')} not handled")
                continue
            value = change.get("value") or {}
            contacts = {}
            for contact in value.get("contacts") or []:
                key = contact.get("wa_id") or contact.get("user_id")
                if key:
                    contacts[str(key)] = contact
            for msg in value.get("messages") or []:
                handle = str(msg.get("from") or msg.get("from_user_id") or "")
                provider_id = str(msg.get("id") or "")[:200]
                if not handle or not provider_id:
                    errors.append("a message without sender or id")
                    continue
                contact = contacts.get(handle) or (next(iter(contacts.values())) if len(contacts) == 1 else {})
                name = ((contact or {}).get("profile") or {}).get("name") or ""
                wa_id = (contact or {}).get("wa_id") or (msg.get("from") if msg.get("from") else "")
                sender = sender_for("whatsapp", handle, name, wa_id_to_e164(wa_id))
                handle_message(platform="whatsapp", provider_id=provider_id, sender=sender,
                               occurred_at=_from_timestamp(msg.get("timestamp")), info=describe_whatsapp(msg),
                               raw=msg, delivery=delivery, errors=errors, notes=notes)
            for status in value.get("statuses") or []:
                handle_status(platform="whatsapp", provider_id=status.get("id"), status=status.get("status"),
                              at=_from_timestamp(status.get("timestamp")), error=_status_error(status),
                              delivery=delivery, notes=notes)


def process_page(platform: str, payload: dict, delivery, errors: list, notes: list) -> None:
    for entry in payload.get("entry") or []:
        for event in (entry or {}).get("messaging") or []:
            psid = str(((event or {}).get("sender") or {}).get("id") or "")
            message = event.get("message")
            if message is not None:
                if message.get("is_echo"):
                    notes.append("echo of a page message")
                    continue
                provider_id = str(message.get("mid") or "")[:200]
                if not psid or not provider_id:
                    errors.append("a message without sender or id")
                    continue
                sender = sender_for(platform, psid)
                if not sender.display_name:
                    _fill_profile_name(sender)
                handle_message(platform=platform, provider_id=provider_id, sender=sender,
                               occurred_at=_from_timestamp(event.get("timestamp"), millis=True),
                               info=describe_page_message(platform, message), raw=message, delivery=delivery,
                               errors=errors, notes=notes)
            elif event.get("delivery"):
                for mid in event["delivery"].get("mids") or []:
                    handle_status(platform=platform, provider_id=mid, status="delivered",
                                  at=_from_timestamp(event.get("timestamp"), millis=True), error="",
                                  delivery=delivery, notes=notes)
            elif event.get("read"):
                mark_read_until(platform, psid, _from_timestamp(event["read"].get("watermark"), millis=True))
            else:
                notes.append("messaging event not handled")


def _fill_profile_name(sender: Sender) -> None:
    """Messenger and Instagram webhooks carry no name; ask the Graph API once (best effort)."""
    if not current_app.config.get("SOCIAL_ACCESS_TOKEN"):
        return
    try:
        name = clean_text(graph.profile_name(sender.platform, sender.handle))[:200]
    except graph.GraphError as exc:
        log.info("no profile name for %s %s: %s", sender.platform, sender.handle, exc)
        return
    if name:
        Sender.update(display_name=name).where(Sender.id == sender.id).execute()
        sender.display_name = name


def mark_read_until(platform: str, psid: str, watermark) -> None:
    rows = (Message.select().join(Sender).where((Sender.platform == platform) & (Sender.handle == psid)
                                                & (Message.direction == "out") & (Message.created_at <= watermark)
                                                & Message.provider_id.is_null(False)))
    for message in rows:
        apply_status(message, "read")


def process_delivery(delivery_id: int) -> WebhookDelivery:
    """Process one stored delivery; every failure is written on it, never raised."""
    delivery = WebhookDelivery.get_by_id(delivery_id)
    errors: list[str] = []
    notes: list[str] = []
    state = "processed"
    try:
        payload = clean_value(json.loads(delivery.body))  # "\u0000" in a message must not reach PostgreSQL
        if not isinstance(payload, dict):
            raise ValueError("the payload is not a JSON object")
    except ValueError as exc:
        payload, state = None, "failed"
        errors.append(f"malformed JSON: {exc}")
    if payload is not None:
        kind = str(payload.get("object") or "")
        try:
            if kind == "whatsapp_business_account":
                process_whatsapp(payload, delivery, errors, notes)
            elif kind in ("page", "instagram"):
                process_page("messenger" if kind == "page" else "instagram", payload, delivery, errors, notes)
            else:
                state = "ignored"
                notes.append(f"unknown object type {kind!r}")
        except Exception as exc:  # noqa: BLE001 - a bad payload must stay stored with its error
            log.exception("social webhook delivery %s failed", delivery_id)
            errors.append(f"{type(exc).__name__}: {exc}"[:1000])
        if errors:
            state = "failed"
    attempts = delivery.attempts + 1
    retry_at = None
    if state == "failed" and payload is not None and attempts < int(current_app.config["SOCIAL_MAX_ATTEMPTS"]):
        retry_at = utcnow() + dt.timedelta(seconds=60 * (2 ** (attempts - 1)))
    WebhookDelivery.update(
        state=state, attempts=attempts, error="\n".join(errors)[:5000], notes=notes[:50] or None,
        processed_at=utcnow(), next_attempt_at=retry_at,
    ).where(WebhookDelivery.id == delivery.id).execute()
    return WebhookDelivery.get_by_id(delivery_id)


def due_deliveries(now=None):
    """Failed deliveries whose retry time has come, and pending ones a worker never picked up."""
    now = now or utcnow()
    return WebhookDelivery.select(WebhookDelivery.id).where(
        ((WebhookDelivery.state == "failed") & WebhookDelivery.next_attempt_at.is_null(False)
         & (WebhookDelivery.next_attempt_at <= now))
        | ((WebhookDelivery.state == "pending") & (WebhookDelivery.received_at <= now - dt.timedelta(minutes=5)))
    )
