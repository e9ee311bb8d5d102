"""Meta webhooks (``/webhooks/meta``), the unmatched-sender inbox, conversations and replies,
media files, and the admin list of webhook deliveries."""
from __future__ import annotations

import hmac
import json
import logging
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from peewee import fn, prefetch

from portal import csrf
from portal.audit import audit
from portal.auth import CONTACT_ROLES, roles_required
from portal.beneficiaries_service import search_query
from portal.db import database
from portal.hygiene import get_or_404
from portal.models import Attachment, Beneficiary, TimelineEntry
from portal.templating import render
from portal.text import clean_text
from portal.timeline import entries_query, log_entry, render_entry, visible_beneficiary
from portal.uploads import path_for

from . import inbound, outbound
from .models import Message, Sender, WebhookDelivery
from .processing import link_sender, process_delivery, signature_ok

log = logging.getLogger(__name__)

bp = Blueprint("social", __name__, template_folder="templates")

INBOX_ROLES = ("officer", "admin")
MAX_WEBHOOK_BYTES = 1024 * 1024


def _id(value) -> int | None:
    """A database id typed in a form: digits only, small enough for any backend's integer."""
    value = str(value or "").strip()
    return int(value) if value.isdigit() and len(value) <= 9 else None


def refusal_messages():
    return {
        "window_closed": _("More than 24 hours have passed since this person last wrote, so WhatsApp only "
                           "allows an approved template. Send the follow-up template: when they answer, "
                           "you can write freely again."),
        "no_templates": _("Only WhatsApp has approved templates; on this platform you can answer within 24 "
                          "hours of the person's last message."),
        "too_long": _("The message is too long for this platform."),
        "empty": _("Write the message first."),
        "email_reply": _("Email conversations are answered from the mailbox."),
        "not_retryable": _("This message cannot be sent again."),
    }


# --- webhooks ---------------------------------------------------------------------------------

@bp.get("/webhooks/meta")
def verify():
    """Meta's subscription handshake: echo ``hub.challenge`` when the verify token matches."""
    expected = current_app.config.get("SOCIAL_VERIFY_TOKEN") or ""
    token = request.args.get("hub.verify_token", "")
    if (request.args.get("hub.mode") == "subscribe" and expected
            and hmac.compare_digest(token.encode("utf-8"), expected.encode("utf-8"))):
        challenge = request.args.get("hub.challenge", "")[:200]
        return challenge, 200, {"Content-Type": "text/plain; charset=utf-8"}
    return "forbidden", 403, {"Content-Type": "text/plain; charset=utf-8"}


@bp.post("/webhooks/meta")
def receive():
    """Check the signature over the raw bytes, store them, acknowledge, process in the job queue."""
    if request.content_length and request.content_length > MAX_WEBHOOK_BYTES:
        return {"error": "payload too large"}, 413
    raw = request.get_data(cache=False)
    if len(raw) > MAX_WEBHOOK_BYTES:
        return {"error": "payload too large"}, 413
    header = request.headers.get("X-Hub-Signature-256")
    if not signature_ok(raw, header, current_app.config.get("SOCIAL_APP_SECRET") or ""):
        return {"error": "bad signature"}, 403
    body = raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")  # PostgreSQL text holds no NUL
    try:
        parsed = json.loads(body)
        object_type = str(parsed.get("object") or "")[:60] if isinstance(parsed, dict) else ""
        malformed = not isinstance(parsed, dict)
    except ValueError:
        object_type, malformed = "", True
    with database.atomic():
        delivery = WebhookDelivery.create(body=body, signature=header[:100], object_type=object_type)
    if malformed:
        process_delivery(delivery.id)  # records the error; nothing to retry
        return {"error": "malformed JSON"}, 400
    try:
        inbound.process_delivery_task(delivery.id)
    except Exception:  # noqa: BLE001 - stored already; the periodic retry picks it up
        log.exception("could not queue social webhook delivery %s", delivery.id)
    return "EVENT_RECEIVED", 200, {"Content-Type": "text/plain; charset=utf-8"}


csrf.exempt(receive)  # authenticated by the X-Hub-Signature-256 HMAC instead


# --- inbox -------------------------------------------------------------------------------------

@bp.get("/social/inbox")
@roles_required(*INBOX_ROLES)
def inbox():
    """Senders no beneficiary is linked to yet, newest first, with their message count."""
    count = fn.COUNT(Message.id)
    rows = (Sender.select(Sender, count.alias("count"), fn.MAX(Message.created_at).alias("latest"))
            .join(Message, on=(Message.sender == Sender.id))
            .where(Sender.beneficiary.is_null() & (Message.direction == "in")
                   & (Message.state != "automated"))
            .group_by(Sender.id)
            .order_by(Sender.last_inbound_at.desc(), Sender.id.desc())
            .limit(200))
    senders = list(rows)
    latest = {}
    if senders:
        entry_rows = (Message.select(Message.sender, TimelineEntry.summary, TimelineEntry.occurred_at)
                      .join(TimelineEntry, on=(Message.entry == TimelineEntry.id))
                      .where(Message.sender.in_([s.id for s in senders]) & (Message.direction == "in")
                             & (Message.state != "automated"))
                      .order_by(TimelineEntry.occurred_at.asc(), TimelineEntry.id.asc()))
        for row in entry_rows.dicts():
            latest[row["sender"]] = row
    return render("social/inbox.html", senders=senders, latest=latest)


def _sender_or_404(sender_id: int) -> Sender:
    sender = get_or_404(Sender, Sender.id == sender_id)
    if sender.beneficiary_id is None:
        if not current_user.has_role(*INBOX_ROLES):
            abort(403)
    else:
        visible_beneficiary(sender.beneficiary_id)
    return sender


def _conversation(sender: Sender, **extra):
    entry_ids = Message.select(Message.entry).where((Message.sender == sender) & Message.entry.is_null(False))

    query = (entries_query().where(TimelineEntry.id.in_(entry_ids))
             .order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc()).limit(100))
    entries = list(prefetch(query, Attachment.select()))
    message_ids = {m.entry_id: m.id for m in Message.select(Message.id, Message.entry).where(
        Message.entry.in_([e.id for e in entries]))} if entries else {}
    q = clean_text(request.args.get("q", ""))[:100]
    candidates = list(search_query(q, current_user).limit(20)) if q else []
    same_phone = []
    if sender.beneficiary_id is None and sender.phone and not q:
        # e.g. a file registered after the first message, or two files sharing one number
        same_phone = list(Beneficiary.select().where(Beneficiary.mobile == sender.phone).limit(10))
    context = {
        "same_phone": same_phone,
        "sender": sender, "entries": entries, "message_ids": message_ids, "render_entry": render_entry, "q": q, "candidates": candidates,
        "window_open": outbound.window_open(sender), "text_limit": outbound.text_limit(sender.platform),
        "reply_text": "", "reply_error": "",
        "ben": sender.beneficiary if sender.beneficiary_id else None,
    }
    context.update(extra)
    return context


@bp.get("/social/senders/<int:sender_id>")
@roles_required(*CONTACT_ROLES)
def sender(sender_id):
    sender = _sender_or_404(sender_id)

    audit("read", "social_sender", sender.id, {"beneficiary": sender.beneficiary_id})
    return render("social/sender.html", block="candidates" if request.args.get("q") is not None else None,
                  **_conversation(sender))


@bp.post("/social/senders/<int:sender_id>/link")
@roles_required(*INBOX_ROLES)
def link(sender_id):
    sender = _sender_or_404(sender_id)
    ben_id = _id(request.form.get("beneficiary_id"))
    ben = Beneficiary.get_or_none(Beneficiary.id == ben_id) if ben_id else None
    if ben is None:
        flash(_("Choose a beneficiary from the search results."), "error")
        return render("social/sender.html", **_conversation(sender)), 422
    if sender.beneficiary_id == ben.id:
        flash(_("This sender is already linked to %(name)s.", name=ben.full_name), "info")
        return redirect(url_for("beneficiaries.profile", ben_id=ben.id))
    moved = link_sender(sender, ben, actor=current_user._get_current_object())
    flash(_("Linked: %(n)s message(s) moved to %(name)s's timeline.", n=moved, name=ben.full_name), "success")
    return redirect(url_for("beneficiaries.profile", ben_id=ben.id) + "#timeline")


@bp.post("/social/senders/<int:sender_id>/reply")
@roles_required(*CONTACT_ROLES)
def reply(sender_id):
    sender = _sender_or_404(sender_id)
    text = request.form.get("text", "")
    use_template = request.form.get("template") == "follow_up"
    try:
        outbound.reply(sender, text, current_user._get_current_object(), use_template=use_template)
    except outbound.CannotSend as exc:
        message = refusal_messages()[exc.reason]
        return render("social/sender.html", **_conversation(sender, reply_text=text[:5000],
                                                            reply_error=message)), 422
    flash(_("The message was handed to the platform; its delivery state shows on the timeline."), "success")
    return redirect(url_for("social.sender", sender_id=sender.id) + "#conversation")


@bp.post("/social/senders/<int:sender_id>/resolved")
@roles_required(*CONTACT_ROLES)
def resolved(sender_id):
    """The officer marks the conversation with a linked sender resolved: a finished service, about which the core
    may offer a satisfaction survey (``service_finished``; one per conversation up to its latest message)."""
    from portal.plugins import hook

    sender = _sender_or_404(sender_id)
    if sender.beneficiary_id is None:
        flash(_("Link the sender to a beneficiary first."), "error")
        return redirect(url_for("social.sender", sender_id=sender.id))
    last = (Message.select(fn.MAX(Message.id)).where((Message.sender == sender) & (Message.direction == "in"))
            .scalar() or 0)
    with database.atomic():
        audit("update", "social_sender", sender.id, {"resolved": True, "last_message": last})
        hook().service_finished(beneficiary=sender.beneficiary, kind="conversation", channel="social", case=None,
                                staff=current_user._get_current_object(), source=f"social:sender:{sender.id}:{last}")
    flash(_("The conversation was marked resolved."), "success")
    return redirect(url_for("social.sender", sender_id=sender.id))


@bp.post("/social/messages/<int:message_id>/retry")
@roles_required(*CONTACT_ROLES)
def retry(message_id):
    message = get_or_404(Message, Message.id == message_id)
    sender = _sender_or_404(message.sender_id)
    try:
        outbound.retry_message(message)
        flash(_("Sending again."), "success")
    except outbound.CannotSend as exc:
        flash(refusal_messages()[exc.reason], "error")
    return redirect(url_for("social.sender", sender_id=sender.id) + "#conversation")


@bp.get("/social/media/<int:attachment_id>")
@roles_required(*CONTACT_ROLES, "manager", "committee")
def media(attachment_id):
    """A file received on a platform: images, voice notes and videos inline (so ``<img>``, ``<audio>`` and
    ``<video>`` can show them), other files as downloads. Range requests are answered (206 with
    ``Content-Range``, 416 for a range beyond the file) so that a player can seek. Seen by whoever may
    see the file's timeline (an unmatched sender's by the inbox's roles); each play or download is
    audited once: a request from the start of the file, not every range a player asks for as it plays."""
    att = get_or_404(Attachment, Attachment.id == attachment_id)
    entry = TimelineEntry.get_by_id(att.entry_id)
    if entry.channel != "social":
        abort(404)
    if entry.beneficiary_id is None:
        if not current_user.has_role(*INBOX_ROLES):
            abort(403)
    else:
        visible_beneficiary(entry.beneficiary_id)
    if entry.case_id is not None:  # an entry of a request the user may not see (a researcher's other files)
        from portal.models import Case
        from portal.scope import can_see_case

        if not can_see_case(Case.get_or_none(Case.id == entry.case_id), current_user):
            abort(403)
    inline = att.content_type.startswith(("image/", "audio/", "video/"))
    asked = request.range
    first_byte = asked.ranges[0][0] if asked is not None and asked.units == "bytes" and asked.ranges else 0
    if first_byte == 0:
        audit("read", "media", att.id, {"entry": entry.id, "beneficiary": entry.beneficiary_id})
    response = send_file(path_for(att.sha256), mimetype=att.content_type, as_attachment=not inline,
                         download_name=att.file_name, max_age=0, conditional=True)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- manual logging of contacts on other platforms ------------------------------------------------

MANUAL_PLATFORMS = ("x", "snapchat", "tiktok", "facebook", "instagram", "youtube", "telegram", "other")


def _post_url_ok(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in value


@bp.route("/social/log", methods=["GET", "POST"])
@roles_required(*CONTACT_ROLES)
def log_other():
    """Log a contact seen on a platform the portal has no connection to (X, Snapchat, TikTok...),
    with the address of the post."""
    source = request.form if request.method == "POST" else request.args
    ben_id = _id(source.get("ben"))
    ben = visible_beneficiary(ben_id) if ben_id else None
    form = {"platform": "", "direction": "in", "url": "", "summary": "", "body": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {key: clean_text(request.form.get(key, "")) for key in form}
        if ben is None:
            errors["ben"] = _("Choose a beneficiary from the search results.")
        if form["platform"] not in MANUAL_PLATFORMS:
            errors["platform"] = _("Choose the platform.")
        if form["direction"] not in ("in", "out"):
            errors["direction"] = _("Choose the direction.")
        if not form["url"]:
            errors["url"] = _("Paste the address of the post or message.")
        elif len(form["url"]) > 500 or not _post_url_ok(form["url"]):
            errors["url"] = _("Enter a full web address starting with https://")
        if not form["summary"]:
            errors["summary"] = _("Write a short summary.")
        elif len(form["summary"]) > 300:
            errors["summary"] = _("At most %(n)s characters.", n=300)
        if len(form["body"]) > 5000:
            errors["body"] = _("At most %(n)s characters.", n=5000)
        if not errors:
            log_entry(channel="social", direction=form["direction"], beneficiary=ben, summary=form["summary"],
                      body=form["body"], actor=current_user._get_current_object(),
                      data={"platform": form["platform"], "kind": "manual", "url": form["url"]})
            flash(_("The contact was logged."), "success")
            return redirect(url_for("beneficiaries.profile", ben_id=ben.id) + "#timeline")
    q = clean_text(request.args.get("q", ""))[:100]
    candidates = list(search_query(q, current_user).limit(20)) if q and ben is None else []
    return render("social/log_other.html", ben=ben, form=form, errors=errors, q=q, candidates=candidates,
                  platforms=MANUAL_PLATFORMS), (422 if errors else 200)


# --- admin: deliveries ---------------------------------------------------------------------------

@bp.get("/social/deliveries")
@roles_required("admin")
def deliveries():
    state = request.args.get("state") or "problems"
    query = WebhookDelivery.select().order_by(WebhookDelivery.received_at.desc(), WebhookDelivery.id.desc())
    if state == "problems":
        query = query.where(WebhookDelivery.state.in_(("failed", "ignored", "pending")))
    elif state in ("pending", "processed", "failed", "ignored"):
        query = query.where(WebhookDelivery.state == state)
    rows = list(query.limit(200))
    return render("social/deliveries.html", rows=rows, state=state)


@bp.post("/social/deliveries/<int:delivery_id>/retry")
@roles_required("admin")
def retry_delivery(delivery_id):
    delivery = get_or_404(WebhookDelivery, WebhookDelivery.id == delivery_id)

    result = process_delivery(delivery.id)
    if result.state == "failed":
        flash(_("Processing failed again: %(error)s", error=result.error[:300]), "error")
    else:
        flash(_("The delivery was processed."), "success")
    return redirect(url_for("social.deliveries"))
