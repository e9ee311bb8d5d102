"""The officers' screens: the self-service conversations, newest first, and one conversation's exchanges."""
from __future__ import annotations

from flask import Blueprint, request
from peewee import JOIN

from portal.auth import roles_required
from portal.hygiene import get_or_404, parse_int
from portal.listing import older_page
from portal.models import Beneficiary
from portal.plugins import channel_map
from portal.templating import render

from . import ROLES
from .models import STATES, SelfServiceExchange, SelfServiceSession

bp = Blueprint("help_requests", __name__, template_folder="templates")
PAGE = 50


@bp.get("/help-requests/sessions")
@roles_required(*ROLES)
def sessions():
    """Every conversation (a number on a channel while it is active), newest first, by state."""
    state = request.args.get("state") or None
    if state not in STATES:
        state = None
    before = parse_int(request.args.get("before"))
    query = (SelfServiceSession.select(SelfServiceSession, Beneficiary)
             .join(Beneficiary, JOIN.LEFT_OUTER, on=(SelfServiceSession.beneficiary == Beneficiary.id),
                   attr="ben")
             .order_by(SelfServiceSession.id.desc()))
    if state:
        query = query.where(SelfServiceSession.state == state)
    rows, next_before = older_page(query, SelfServiceSession.id, before, PAGE)
    return render("help_requests/sessions.html", "results", rows=rows, state=state, states=STATES,
                  more=next_before is not None, next_before=next_before, channels=channel_map())


@bp.get("/help-requests/sessions/<int:session_id>")
@roles_required(*ROLES)
def session(session_id):
    row = get_or_404(SelfServiceSession, SelfServiceSession.id == session_id)
    ben = Beneficiary.get_or_none(Beneficiary.id == row.beneficiary_id) if row.beneficiary_id else None
    exchanges = list(SelfServiceExchange.select().where(SelfServiceExchange.session == row)
                     .order_by(SelfServiceExchange.id))
    return render("help_requests/session.html", row=row, ben=ben, exchanges=exchanges, channels=channel_map())
