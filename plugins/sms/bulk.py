"""Bulk messages: an officer picks recipients with the requests list's or the beneficiaries list's filters,
writes one text, sees how many will get it, its SMS parts and the cost estimate, confirms, and each
recipient's message goes through the core's notices (``portal.workflow.notify``): routing (preferred
channel, WhatsApp, SMS, email, print), contact consent, quiet hours and the daily cap. It lives here
because its estimate is an SMS one (parts, ``PORTAL_SMS_PART_PRICE``); the estimate is the most it can
cost, when every message goes by SMS."""
from __future__ import annotations

import secrets

from flask import current_app
from flask_babel import gettext as _
from peewee import IntegrityError, fn

from portal.audit import audit
from portal.db import database, utcnow
from portal.jobs import task
from portal.models import CATEGORIES, Beneficiary, Case
from portal.workflow import machine

from . import segments
from .models import SmsBulk

MAX_RECIPIENTS = 5000
FILTERS = ("status", "type", "category", "branch")


class BulkError(ValueError):
    def __init__(self, errors: dict):
        super().__init__("; ".join(str(v) for v in errors.values()))
        self.errors = errors


def clean_filters(raw) -> dict:
    """The recipients' filters: request status and type (the requests list), category and branch (the
    beneficiaries list); unknown values are dropped."""
    out = {}
    status = (raw.get("status") or "").strip()
    if status in machine.STATUSES:
        out["status"] = status
    rtype = (raw.get("type") or "").strip()[:60]
    if rtype:
        out["type"] = rtype
    category = (raw.get("category") or "").strip()
    if category in CATEGORIES:
        out["category"] = category
    branch = str(raw.get("branch") or "").strip()
    if branch.isdigit():
        out["branch"] = int(branch)
    return out


def recipients_query(filters: dict):
    """The beneficiaries the filters pick (files not erased): with a request filter, those with such a
    request; otherwise every active file of the category / branch."""
    query = Beneficiary.select().where(Beneficiary.erased_at.is_null())
    if "status" in filters or "type" in filters:
        cases = Case.select(Case.beneficiary)
        if "status" in filters:
            cases = cases.where(Case.status == filters["status"])
        if "type" in filters:
            cases = cases.where(Case.request_type == filters["type"])
        query = query.where(Beneficiary.id.in_(cases))
    else:
        query = query.where(Beneficiary.status.in_(("active", "applicant")))
    if "category" in filters:
        query = query.where(Beneficiary.category == filters["category"])
    if "branch" in filters:
        query = query.where(Beneficiary.branch == filters["branch"])
    return query


def estimate(text: str, filters: dict) -> dict:
    """How many the filters pick, how many agreed to be contacted (the others get nothing), the parts and
    the most it can cost."""
    base = recipients_query(filters)
    total = base.count()
    consenting = base.where(Beneficiary.consent_contact == True).count()  # noqa: E712
    counted = segments.count(text)
    price = float(current_app.config["SMS_PART_PRICE"])
    return {"total": total, "consenting": consenting, "parts": counted.parts, "encoding": counted.encoding,
            "per_message": counted.cost(price), "cost": round(consenting * counted.parts * price, 2),
            "currency": current_app.config["SMS_CURRENCY"], "max_parts": int(current_app.config["SMS_MAX_PARTS"]),
            "too_long": counted.parts > int(current_app.config["SMS_MAX_PARTS"]), "chars": len(text)}


def check(text: str, filters: dict) -> dict:
    """Validate a bulk message; returns the estimate or raises ``BulkError`` (messages for the form)."""
    from portal.workflow import notices

    errors: dict = {}
    text = notices.check_text(notices.BULK, text, "text", errors)
    numbers = estimate(text, filters)
    if "text" not in errors and numbers["too_long"]:
        errors["text"] = _("The message is %(parts)s parts long; at most %(max)s parts can be sent. Shorten it.",
                           parts=numbers["parts"], max=numbers["max_parts"])
    if not filters:
        errors["filters"] = _("Choose who gets the message: at least one filter.")
    elif numbers["consenting"] == 0:
        errors["filters"] = _("No beneficiary picked by these filters agreed to be contacted.")
    elif numbers["total"] > MAX_RECIPIENTS:
        errors["filters"] = _("At most %(n)s recipients at once: narrow the filters.", n=MAX_RECIPIENTS)
    if errors:
        raise BulkError(errors)
    return numbers


def new_token() -> str:
    return secrets.token_urlsafe(24)


def create(text: str, filters: dict, token: str, actor) -> tuple[SmsBulk, bool]:
    """Record the confirmed bulk message and start sending it. Returns ``(bulk, created)``: the same
    confirmation sent twice returns the first bulk message and sends nothing more."""
    text = (text or "").replace("\r\n", "\n").strip()
    numbers = check(text, filters)
    if not token or len(token) > 40:
        raise BulkError({"text": _("This form has expired: check the message and confirm again.")})
    existing = SmsBulk.get_or_none(SmsBulk.token == token)
    if existing is not None:
        return existing, False
    try:
        with database.atomic():
            bulk = SmsBulk.create(token=token, text=text, filters=filters, recipients=numbers["total"],
                                  parts=numbers["parts"], estimate=f"{numbers['cost']:.2f} {numbers['currency']}",
                                  created_by=actor)
            audit("create", "sms_bulk", bulk.id, {"filters": filters, "recipients": numbers["total"]}, actor=actor)
    except IntegrityError:
        return SmsBulk.get(SmsBulk.token == token), False
    send_bulk_task(bulk.id)
    return bulk, True


@task(retries=2, retry_delay=60)
def send_bulk_task(bulk_id: int) -> None:
    send(bulk_id)


def send(bulk_id: int) -> int:
    """Hand each recipient's message to the notices (once each: a rerun skips who already has it).
    Returns how many notices were written."""
    from flask_babel import force_locale

    from portal.workflow import notices
    from portal.workflow.notify import notify

    bulk = SmsBulk.get_or_none(SmsBulk.id == bulk_id)
    if bulk is None or bulk.state == "done":
        return 0
    count = 0
    last = 0
    with force_locale("ar"):
        org = current_app.config["ORG_NAME_AR"]
    while True:
        batch = list(recipients_query(bulk.filters or {}).where(Beneficiary.id > last)
                     .order_by(Beneficiary.id).limit(200))
        if not batch:
            break
        for ben in batch:
            last = ben.id
            text = notices.fill(bulk.text, {"name": ben.first_name, "org": org})
            notify(ben, text, "bulk", key=f"bulk:{bulk.id}:{ben.id}", actor=bulk.created_by_id and bulk.created_by,
                   context={"bulk": bulk.id})
            count += 1
    SmsBulk.update(state="done", done_at=utcnow()).where(SmsBulk.id == bulk.id).execute()
    return count


def outcome(bulk: SmsBulk) -> dict:
    """How the bulk message's notices stand, by state (sent, queued, waiting, not_sent, no_consent)."""
    from portal.workflow.models import Notice

    rows = (Notice.select(Notice.state, fn.COUNT(Notice.id).alias("n"))
            .where(Notice.key.startswith(f"bulk:{bulk.id}:")).group_by(Notice.state).tuples())
    return dict(rows)
