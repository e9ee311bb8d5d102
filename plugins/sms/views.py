"""The SMS screens (write to a beneficiary, the list of texts) and the gateway's webhook."""
from __future__ import annotations

import hmac
import json
import logging

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import csrf
from portal.auth import roles_required
from portal.db import database
from portal.hygiene import parse_int
from portal.listing import older_page
from portal.templating import render
from portal.text import clean_text, strip_bidi_controls
from portal.timeline import log_entry, visible_beneficiary

from . import SMS_ROLES, segments, service
from .models import STATES, SmsInbound, SmsMessage

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__, template_folder="templates")
webhooks = Blueprint("sms_webhooks", __name__)
MAX_WEBHOOK_BYTES = 64 * 1024
PAGE = 50


def _estimate(text: str) -> dict:
    counted = segments.count(text)
    price = float(current_app.config["SMS_PART_PRICE"])
    return {"chars": len(text), "parts": counted.parts, "encoding": counted.encoding,
            "cost": counted.cost(price), "currency": current_app.config["SMS_CURRENCY"],
            "too_long": counted.parts > int(current_app.config["SMS_MAX_PARTS"]),
            "max_parts": int(current_app.config["SMS_MAX_PARTS"])}


@bp.route("/sms/count", methods=["POST"])
@roles_required(*SMS_ROLES)
def count():
    """The live counter under the message box (htmx): characters, parts and the cost estimate."""
    text = clean_text(request.form.get("text", ""))
    return render("sms/_counter.html", estimate=_estimate(text))


@bp.route("/sms/to/<int:ben_id>", methods=["GET", "POST"])
@roles_required(*SMS_ROLES)
def compose(ben_id):
    ben = visible_beneficiary(ben_id)
    errors, text = {}, ""
    if request.method == "POST":
        text = clean_text(request.form.get("text", ""))
        if not service.configured():
            errors["text"] = _("No SMS gateway is configured.")
        elif ben.erased_at:
            errors["text"] = _("This file was erased.")
        else:
            try:
                with database.atomic():
                    message = service.queue(ben, text, "officer")
                    log_entry(channel="sms", direction="out", summary=_summary(), body=text, beneficiary=ben,
                              actor=current_user._get_current_object(),
                              data={"kind": "officer", "message": f"sms:{message.id}"})
            except service.SmsRefused as exc:
                errors["text"] = str(exc)
            else:
                state = SmsMessage.get_by_id(message.id).state
                if state == "sent":
                    flash(_("The gateway accepted the text message."), "success")
                elif state == "failed":
                    flash(_("The gateway refused the text message; see the reason on the timeline."), "error")
                else:
                    flash(_("The text message is waiting to be sent; its state shows on the timeline."), "info")
                return redirect(url_for("beneficiaries.profile", ben_id=ben.id))
    return render("sms/compose.html", ben=ben, text=text, errors=errors, estimate=_estimate(text),
                  configured=service.configured()), (422 if errors else 200)


def _summary() -> str:
    from flask_babel import force_locale

    with force_locale("ar"):
        return _("Text message to the beneficiary")


@bp.route("/sms/messages")
@roles_required("officer", "admin")
def messages():
    """Every text sent, newest first, by state; and the texts received from numbers that match no
    single file (for an officer to follow up)."""
    state = request.args.get("state") or None
    if state not in STATES:
        state = None
    before = parse_int(request.args.get("before"))
    query = SmsMessage.select().order_by(SmsMessage.id.desc())
    if state:
        query = query.where(SmsMessage.state == state)
    rows, next_before = older_page(query, SmsMessage.id, before, PAGE)
    unmatched = list(SmsInbound.select().where(SmsInbound.beneficiary.is_null())
                     .order_by(SmsInbound.id.desc()).limit(20))
    return render("sms/messages.html", "results", rows=rows, state=state, states=STATES,
                  more=next_before is not None, next_before=next_before, unmatched=unmatched,
                  configured=service.configured(), provider=current_app.config["SMS_PROVIDER"])


def _token_ok() -> bool:
    expected = current_app.config.get("SMS_TOKEN") or ""
    header = request.headers.get("Authorization", "")
    if not expected or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[7:].strip().encode("utf-8"), expected.encode("utf-8"))


@webhooks.post("/webhooks/sms/generic")
def generic_webhook():
    """Delivery reports ``{"id", "status", "error"}`` and replies ``{"from", "text", "id"}`` from the
    generic gateway, with its bearer token. Repeats change nothing; a report for an id we never sent
    is acknowledged (the gateway would only send it again) and logged."""
    if current_app.config.get("SMS_PROVIDER") != "generic" or not _token_ok():
        return {"error": "forbidden"}, 403
    if request.content_length and request.content_length > MAX_WEBHOOK_BYTES:
        return {"error": "payload too large"}, 413
    raw = request.get_data(cache=False)
    if len(raw) > MAX_WEBHOOK_BYTES:
        return {"error": "payload too large"}, 413
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {"error": "malformed JSON"}, 400
    if not isinstance(body, dict) or not isinstance(body.get("id"), (str, int)) or isinstance(body.get("id"), bool):
        return {"error": "an object with an id is expected"}, 400
    gateway_id = strip_bidi_controls(str(body["id"])).strip()[:100]
    if not gateway_id:
        return {"error": "an object with an id is expected"}, 400
    if "status" in body:
        outcome = service.apply_report(gateway_id, str(body.get("status") or ""), clean_text(str(body.get("error") or "")))
        if outcome == "invalid":
            return {"error": "unknown status"}, 400
        if outcome == "unknown":
            log.warning("SMS delivery report for an unknown id %r", gateway_id)
        return {"result": outcome}, 200
    if isinstance(body.get("from"), str) and isinstance(body.get("text"), str):
        inbound, created = service.receive(gateway_id, body["from"], clean_text(body["text"])[:5000])
        return {"result": "stored" if created else "unchanged"}, 200
    return {"error": "neither a delivery report nor a message"}, 400


csrf.exempt(generic_webhook)  # authenticated by the gateway's bearer token instead


# Unifonic's DLR values (its "DLR webhook": MessageID, DLR, Recipient, TimeCreated, SCTS, DLRTimestamp).
UNIFONIC_DLR = {"delivered": "delivered", "undeliverable": "failed"}
MIN_WEBHOOK_TOKEN = 24


def _path_token_ok(given: str) -> bool:
    expected = current_app.config.get("SMS_WEBHOOK_TOKEN") or ""
    if len(expected) < MIN_WEBHOOK_TOKEN:
        return False
    return hmac.compare_digest((given or "").encode("utf-8"), expected.encode("utf-8"))


def _report_fields() -> dict | None:
    """The report's fields, posted as a form (``application/x-www-form-urlencoded``) or as a JSON object."""
    raw = request.get_data(cache=True)
    if len(raw) > MAX_WEBHOOK_BYTES:
        return None
    if request.mimetype == "application/json" or raw[:1] == b"{":
        try:
            body = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return {}
        return body if isinstance(body, dict) else {}
    return {key: value for key, value in request.form.items()}


@webhooks.post("/webhooks/sms/unifonic/<token>")
def unifonic_webhook(token):
    """Unifonic's delivery reports (its DLR webhook): ``MessageID`` (the id its send answered) and ``DLR``
    (``Delivered`` or ``Undeliverable``). Unifonic signs nothing: the address carries the secret
    ``PORTAL_SMS_WEBHOOK_TOKEN``; a wrong one is refused (403) and changes nothing. Repeats change nothing; a
    report for an id we never sent is acknowledged (Unifonic would only try again) and logged."""
    if current_app.config.get("SMS_PROVIDER") != "unifonic" or not _path_token_ok(token):
        return {"error": "forbidden"}, 403
    if request.content_length and request.content_length > MAX_WEBHOOK_BYTES:
        return {"error": "payload too large"}, 413
    fields = _report_fields()
    if fields is None:
        return {"error": "payload too large"}, 413
    message_id = strip_bidi_controls(str(fields.get("MessageID") or "")).strip()[:100]
    dlr = str(fields.get("DLR") or "").strip().lower()
    if not message_id or isinstance(fields.get("MessageID"), (bool, dict, list)):
        return {"error": "MessageID is expected"}, 400
    status = UNIFONIC_DLR.get(dlr)
    if status is None:
        return {"error": "unknown DLR value"}, 400
    error = "Unifonic: Undeliverable" if status == "failed" else ""
    outcome = service.apply_report(message_id, status, error)
    if outcome == "unknown":
        log.warning("Unifonic delivery report for an unknown MessageID %r", message_id)
    return {"result": outcome}, 200


csrf.exempt(unifonic_webhook)  # authenticated by the secret in its address instead
# --- bulk messages (plugins/sms/bulk.py) --------------------------------------------------------------

BULK_ROLES = ("officer", "admin")


def _bulk_page(form, errors=None, numbers=None, token=None, status=200):
    from portal.models import CATEGORIES, Branch
    from portal.workflow import intake, machine

    return render("sms/bulk.html", form=form, errors=errors or {}, numbers=numbers, token=token,
                  estimate=_estimate(form.get("text", "")),
                  statuses=machine.STATUSES, types=intake.active_request_types(), categories=CATEGORIES,
                  branches=list(Branch.select().order_by(Branch.name_ar))), status


@bp.get("/sms/bulk")
@roles_required(*BULK_ROLES)
def bulk_form():
    from . import bulk as bulk_service

    from portal.workflow.notices import BULK, wording

    # the admins' opening of a bulk message (/admin/notices)
    form = {"text": wording(BULK)["ar"], **{k: request.args.get(k, "") for k in bulk_service.FILTERS}}
    return _bulk_page(form)


@bp.post("/sms/bulk")
@roles_required(*BULK_ROLES)
def bulk_send():
    """``action=preview``: the count, parts and cost, and a confirmation form with a one-time token;
    ``action=send`` (the confirmation): queue the messages once."""
    from . import bulk as bulk_service

    form = {"text": clean_text(request.form.get("text", "")),
            **{k: request.form.get(k, "") for k in bulk_service.FILTERS}}
    filters = bulk_service.clean_filters(form)
    action = request.form.get("action")
    try:
        if action == "send":
            bulk, created = bulk_service.create(form["text"], filters, request.form.get("token", ""),
                                                current_user._get_current_object())
            if created:
                flash(_("The message is being handed to the channels; the numbers below update as it goes."),
                      "success")
            else:
                flash(_("This message was already sent: it was not sent again."), "info")
            return redirect(url_for("sms.bulk_show", bulk_id=bulk.id))
        numbers = bulk_service.check(form["text"], filters)
    except bulk_service.BulkError as exc:
        errors = dict(exc.errors, __all__=_("Nothing was sent. Check the fields marked below."))
        return _bulk_page(form, errors, status=422)
    return _bulk_page(form, numbers=numbers, token=bulk_service.new_token())


@bp.get("/sms/bulk/<int:bulk_id>")
@roles_required(*BULK_ROLES)
def bulk_show(bulk_id):
    from portal.hygiene import get_or_404

    from . import bulk as bulk_service
    from .models import SmsBulk

    bulk = get_or_404(SmsBulk, SmsBulk.id == bulk_id)
    return render("sms/bulk_show.html", bulk=bulk, outcome=bulk_service.outcome(bulk))
