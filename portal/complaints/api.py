"""``GET /api/v1/complaints``: the register as JSON (filters: state, kind, overdue; keyset pages by id)."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _

from ..api import error, token_required
from ..audit import audit
from ..dates import saudi_today
from ..scope import can_see_beneficiary
from . import KINDS, STATES
from . import service
from .models import Complaint

bp = Blueprint("complaints_api", __name__, url_prefix="/api/v1")


def complaint_json(c: Complaint, today) -> dict:
    return {
        "id": c.id, "reference": c.reference, "kind": c.kind, "channel": c.channel, "state": c.state,
        "text": c.text, "beneficiary": c.beneficiary_id, "case": c.case.reference if c.case_id else None,
        "deadline": c.deadline.isoformat(), "overdue": c.state == "open" and c.deadline < today,
        "assigned_to": c.assigned_to.username if c.assigned_to_id else None,
        "escalated_at": c.escalated_at.isoformat() if c.escalated_at else None,
        "answered_at": c.answered_at.isoformat() if c.answered_at else None,
        "answer_delivery": service.delivery_state(c) or None, "outcome": c.outcome or None,
        "satisfaction": c.satisfaction, "source": c.source, "created_at": c.created_at.isoformat(),
    }


@bp.get("/complaints")
@token_required(*service.READ_ROLES)
def list_complaints():
    args, errors = request.args, {}
    state, kind, overdue = args.get("state", ""), args.get("kind", ""), args.get("overdue", "")
    if state and state not in STATES:
        errors["state"] = _("One of: %(values)s.", values=", ".join(STATES))
    if kind and kind not in KINDS:
        errors["kind"] = _("One of: %(values)s.", values=", ".join(KINDS))
    if overdue not in ("", "true", "false", "1", "0"):
        errors["overdue"] = _("Must be true or false.")
    try:
        limit = min(max(int(args.get("limit", 50)), 1), 200)
    except ValueError:
        errors["limit"] = _("Must be an integer.")
    try:
        after = int(args.get("after", 0) or 0)
    except ValueError:
        errors["after"] = _("Must be an integer.")
    if errors:
        return error(422, _("Some fields are not valid."), errors)
    from peewee import JOIN

    from ..models import Case, User

    query = (Complaint.select(Complaint, Case, User)
             .join(Case, JOIN.LEFT_OUTER, on=(Complaint.case == Case.id), attr="case").switch(Complaint)
             .join(User, JOIN.LEFT_OUTER, on=(Complaint.assigned_to == User.id), attr="assigned_to"))
    if state:
        query = query.where(Complaint.state == state)
    if kind:
        query = query.where(Complaint.kind == kind)
    if overdue in ("true", "1"):
        query = query.where(service.overdue_condition())
    elif overdue in ("false", "0"):
        query = query.where(~service.overdue_condition())
    if after:
        query = query.where(Complaint.id < after)
    rows = list(query.order_by(Complaint.id.desc()).limit(limit + 1))
    more, rows = len(rows) > limit, rows[:limit]
    today = saudi_today()
    from ..models import Beneficiary

    bens = {b.id: b for b in Beneficiary.select().where(Beneficiary.id.in_({c.beneficiary_id for c in rows
                                                                              if c.beneficiary_id}))}
    rows = [c for c in rows if not c.beneficiary_id or can_see_beneficiary(bens[c.beneficiary_id], g.api_user)]
    audit("read", "complaint_list", "", {"via": "api", "results": [c.id for c in rows]})
    body = {"complaints": [complaint_json(c, today) for c in rows], "next": rows[-1].id if more and rows else None}
    return jsonify(body)


def openapi_paths() -> dict:
    from ..openapi import ERRORS, _json

    item = {"type": "object", "properties": {
        "id": {"type": "integer"}, "reference": {"type": "string"}, "kind": {"type": "string", "enum": list(KINDS)},
        "channel": {"type": "string"}, "state": {"type": "string", "enum": list(STATES)}, "text": {"type": "string"},
        "beneficiary": {"type": ["integer", "null"]}, "case": {"type": ["string", "null"]},
        "deadline": {"type": "string", "format": "date"}, "overdue": {"type": "boolean"},
        "assigned_to": {"type": ["string", "null"]}, "escalated_at": {"type": ["string", "null"]},
        "answered_at": {"type": ["string", "null"]},
        "answer_delivery": {"type": ["string", "null"], "enum": ["sent", "queued", "not_sent", None]},
        "outcome": {"type": ["string", "null"]}, "satisfaction": {"type": ["integer", "null"]},
        "source": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"}}}
    return {"/complaints": {"get": {
        "summary": "The complaints and suggestions register, newest first",
        "parameters": [
            {"name": "state", "in": "query", "schema": {"type": "string", "enum": list(STATES)}},
            {"name": "kind", "in": "query", "schema": {"type": "string", "enum": list(KINDS)}},
            {"name": "overdue", "in": "query", "schema": {"type": "boolean"},
             "description": "true: open entries past their deadline; false: the others"},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
            {"name": "after", "in": "query", "schema": {"type": "integer"},
             "description": "the `next` of the previous page"}],
        "responses": {"200": _json({"type": "object", "properties": {
            "complaints": {"type": "array", "items": item}, "next": {"type": ["integer", "null"]}}}), **ERRORS}}}}
