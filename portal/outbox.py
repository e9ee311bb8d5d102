"""The outbox: messages to beneficiaries that no channel delivered, kept and shown as the beneficiary
would have read them (a phone-sized bubble), never claimed as sent.

Without any transport configured (as after ``make run``) every notice lands here: the demo's requests fill
it. With transports, it holds what none of them could deliver; an officer reaches the person another way
and marks the message handled."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from peewee import JOIN

from .audit import audit
from .auth import permission_required
from .db import database, utcnow
from .exports import Column, check_format, export_response
from .hygiene import get_or_404, parse_int
from .models import Beneficiary, OutboxMessage
from .templating import render

bp = Blueprint("outbox", __name__)
PAGE = 30
# Never kept: a one-time code is only worth something to the person it was sent to.
NOT_KEPT = ("one_time_code",)


def keep(beneficiary, text: str, purpose: str, *, case=None, entry=None) -> OutboxMessage | None:
    """Keep a message no channel delivered (in the caller's transaction)."""
    if purpose in NOT_KEPT:
        return None
    channel = (getattr(beneficiary, "preferred_channel", "") or "") if beneficiary is not None else ""
    return OutboxMessage.create(beneficiary=beneficiary, case=case, entry=entry, purpose=(purpose or "")[:40],
                                channel=channel[:30], text=text)


def _filtered(args):
    """``(query, show)``: the messages the ``show`` filter selects, newest first."""
    show = args.get("show") if args.get("show") in ("waiting", "handled", "all") else "waiting"
    query = (OutboxMessage.select(OutboxMessage, Beneficiary)
             .join(Beneficiary, join_type=JOIN.LEFT_OUTER, on=(OutboxMessage.beneficiary == Beneficiary.id))
             .order_by(OutboxMessage.id.desc()))
    if show == "waiting":
        query = query.where(OutboxMessage.handled_at.is_null())
    elif show == "handled":
        query = query.where(OutboxMessage.handled_at.is_null(False))
    return query, show


EXPORT_COLUMNS = [
    Column("created_at", _l("Kept"), lambda m: m.created_at, "datetime"),
    Column("file_number", _l("File number"), lambda m: m.beneficiary.file_number if m.beneficiary_id else ""),
    Column("beneficiary", _l("Beneficiary"), lambda m: m.beneficiary.full_name if m.beneficiary_id else ""),
    Column("mobile", _l("Mobile"), lambda m: m.beneficiary.mobile if m.beneficiary_id else ""),
    Column("purpose", _l("Purpose"), lambda m: m.purpose),
    Column("channel", _l("Channel"), lambda m: m.channel),
    Column("text", _l("Message"), lambda m: m.text),
    Column("handled_at", _l("Handled"), lambda m: m.handled_at, "datetime"),
]


@bp.get("/outbox/export.<fmt>")
@permission_required("outbox.read")
def export(fmt):
    """The messages the ``show`` filter selects, as CSV or XLSX."""
    check_format(fmt)
    query, show = _filtered(request.args)
    return export_response(fmt, "outbox", EXPORT_COLUMNS, query, object_type="outbox", filters={"show": show})


@bp.route("/outbox")
@permission_required("outbox.read")
def index():
    before = parse_int(request.args.get("before"))
    query, show = _filtered(request.args)
    if before:
        query = query.where(OutboxMessage.id < before)
    rows = list(query.limit(PAGE + 1))
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return render("outbox/index.html", "results", rows=rows, show=show, more=more,
                  next_before=rows[-1].id if more and rows else None)


@bp.post("/outbox/<int:message_id>/handled")
@permission_required("outbox.read")
def handled(message_id):
    """The officer reached the person another way (a call, a visit): the message leaves the waiting list."""
    with database.atomic():
        message = get_or_404(OutboxMessage, OutboxMessage.id == message_id)
        if message.handled_at is None:
            OutboxMessage.update(handled_at=utcnow(), handled_by=current_user.id).where(
                (OutboxMessage.id == message_id) & OutboxMessage.handled_at.is_null()).execute()
            audit("handle", "outbox_message", message_id, {"beneficiary": message.beneficiary_id})
            flash(_("Marked as handled."), "success")
        else:
            flash(_("This message was already marked as handled."), "info")
    return redirect(url_for("outbox.index", show=request.args.get("show") or None))
