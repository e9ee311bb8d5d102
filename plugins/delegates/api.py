"""The delegates channel's JSON API: field visits (list, create once per ``client_id``), bearer tokens as the
core's API. Files a token's user may not see are answered as unknown, as everywhere in the API."""
from __future__ import annotations

from flask import g, jsonify, request
from flask_babel import gettext as _

from portal import csrf
from portal.api import _json_body, _visible, error, token_required
from portal.dates import parse_date, to_saudi
from portal.openapi import json_content as _json, responses
from portal.scope import beneficiary_condition
from portal.validators import ValidationError

from . import FIELD_ROLES
from . import service as svc
from .models import Activity, Plan
from .views import bp

READ_ROLES = ("delegate", "officer", "manager", "admin")


def visit_json(row: Activity) -> dict:
    visit = row.visit
    return {
        "id": row.id, "client_id": row.client_id, "beneficiary": row.beneficiary_id, "delegate": row.delegate_id,
        "day": row.day.isoformat() if hasattr(row.day, "isoformat") else str(row.day),
        "created_at": to_saudi(row.created_at).isoformat(), "entry": row.entry_id, "plan": visit.plan_id,
        "household_seen": visit.household_seen, "needs": visit.needs,
        "location": ({"latitude": float(visit.latitude), "longitude": float(visit.longitude)}
                     if visit.location_consent and visit.latitude is not None else None),
    }


@bp.get("/api/v1/delegates/visits", endpoint="api_visits")
@token_required(*READ_ROLES)
def api_visits():
    user = g.api_user
    fields = {}
    try:
        day = parse_date(request.args.get("day"))
    except ValidationError as exc:
        fields["day"], day = exc.message, None
    limit = request.args.get("limit", "50")
    if not limit.isdigit() or not 1 <= int(limit) <= 200:
        fields["limit"] = _("A whole number from 1 to 200.")
    if fields:
        return error(422, _("Some fields are not valid."), fields)
    query = svc.visits_query()
    if user.has_role("delegate") and user.branch_limited:
        query = query.where(Activity.delegate == user.id)
    cond = beneficiary_condition(user)
    if cond is not None:
        query = query.where(cond)
    if day is not None:
        query = query.where(Activity.day == day)
    rows = list(query.order_by(Activity.id.desc()).limit(int(limit)))
    return jsonify({"visits": [visit_json(r) for r in rows]})


@bp.post("/api/v1/delegates/visits", endpoint="api_visit_create")
@token_required(*FIELD_ROLES)
def api_visit_create():
    data, err = _json_body({"client_id": "string", "beneficiary": "integer", "household_seen": "string",
                            "needs": "string", "location_consent": "boolean", "latitude": "number",
                            "longitude": "number", "plan": "integer"})
    if err:
        return err
    fields = {}
    client_id = svc.clean_client_id(data.get("client_id"))
    if client_id is None:
        fields["client_id"] = _("A UUID made by the client for this visit (the same one when it is sent again).")
    ben = _visible(data["beneficiary"]) if isinstance(data.get("beneficiary"), int) else None
    if ben is None:
        fields["beneficiary"] = _("Unknown beneficiary.")
    if fields:
        return error(422, _("Some fields are not valid."), fields)
    me = g.api_user
    row = svc.existing(client_id)
    if row is not None:
        if not svc.same_submission(row, kind="visit", delegate=me, beneficiary=ben):
            return error(409, _("This client_id was already used for another record."))
        return jsonify(visit_json(svc.visits_query().where(Activity.id == row.id).get())), 200
    form = {k: ("1" if v is True else "" if v is False else v) for k, v in data.items() if v is not None}
    values, errors = svc.clean_visit(form)
    if errors:
        return error(422, _("Some fields are not valid."), errors)
    plan = None
    if isinstance(data.get("plan"), int):
        plan = Plan.get_or_none((Plan.id == data["plan"]) & (Plan.beneficiary == ben.id) & (Plan.delegate == me.id))
        if plan is None:
            return error(422, _("Some fields are not valid."), {"plan": _("Not a visit planned for you.")})
    row, created = svc.record_visit(beneficiary=ben, delegate=me, client_id=client_id, values=values, plan=plan)
    return jsonify(visit_json(svc.visits_query().where(Activity.id == row.id).get())), 201 if created else 200


csrf.exempt(api_visit_create)

_VISIT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "client_id": {"type": "string"}, "beneficiary": {"type": "integer"},
    "delegate": {"type": "integer"}, "day": {"type": "string", "format": "date"},
    "created_at": {"type": "string", "format": "date-time", "description": "Saudi time, with its offset"},
    "entry": {"type": ["integer", "null"]}, "plan": {"type": ["integer", "null"]},
    "household_seen": {"type": "string"}, "needs": {"type": "string"},
    "location": {"type": ["object", "null"], "properties": {"latitude": {"type": "number"},
                                                            "longitude": {"type": "number"}}},
}}


OPENAPI = {
    "/delegates/visits": {
        "get": {
            "summary": "Field visits recorded by delegates (a delegate's token: their own)",
            "parameters": [
                {"name": "day", "in": "query", "required": False, "schema": {"type": "string"},
                 "description": "Saudi day, Gregorian (2026-12-01) or Hijri (1448-06-10)"},
                {"name": "limit", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
            ],
            "responses": responses({"200": ("The newest visits first", {"type": "object", "properties": {
                "visits": {"type": "array", "items": _VISIT}}})}, {
                "401": "No or bad token", "403": "The token's user may not read visits", "422": "Bad day or limit"}),
        },
        "post": {
            "summary": "Record a field visit once: a resend with the same client_id answers the stored visit (200)",
            "requestBody": {"required": True, "content": _json({
                "type": "object", "required": ["client_id", "beneficiary"], "properties": {
                    "client_id": {"type": "string", "format": "uuid"}, "beneficiary": {"type": "integer"},
                    "household_seen": {"type": "string", "maxLength": 2000},
                    "needs": {"type": "string", "maxLength": 2000},
                    "location_consent": {"type": "boolean",
                                         "description": "The place is stored only when this is true"},
                    "latitude": {"type": "number"}, "longitude": {"type": "number"}, "plan": {"type": "integer"}}})},
            "responses": responses(
                {"201": ("Recorded", _VISIT), "200": ("Already recorded with this client_id", _VISIT)},
                {"400": "Not a JSON object", "401": "No or bad token", "403": "The token's user is not a delegate",
                 "409": "The client_id was used for another record",
                 "422": "Unknown beneficiary (or one of another branch), bad fields"}),
        },
    },
}
