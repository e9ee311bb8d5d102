"""The interview channel's JSON API: appointments (list, book, cancel), bearer tokens as the core's API."""
from __future__ import annotations

from flask import g, jsonify, request
from flask_babel import gettext as _

from portal import csrf
from portal.api import _json_body, _visible, error, token_required
from portal.dates import parse_date, saudi_today, to_saudi
from portal.openapi import json_content as _json, responses
from portal.validators import ValidationError

from . import DESK_ROLES, SLOT_ROLES
from . import service as svc
from .models import Appointment
from .views import bp

READ_ROLES = tuple(dict.fromkeys(DESK_ROLES + SLOT_ROLES))


def appointment_json(row: Appointment) -> dict:
    local = to_saudi(row.slot.starts_at)
    return {
        "id": row.id, "status": row.status, "slot": row.slot_id, "starts_at": local.isoformat(),
        "minutes": row.slot.minutes, "branch": row.slot.branch.code if row.slot.branch_id else None,
        "officer": row.slot.officer_id, "beneficiary": row.beneficiary_id, "name": row.name,
        "mobile": row.mobile, "reason": row.reason, "source": row.source,
        "reminder": row.reminder_state or None, "cancel_reason": row.cancel_reason or None,
    }


@bp.get("/api/v1/appointments", endpoint="api_appointments")
@token_required(*READ_ROLES)
def api_list():
    try:
        day = parse_date(request.args.get("day")) or saudi_today()
    except ValidationError as exc:
        return error(422, _("Some fields are not valid."), {"day": exc.message})
    rows = [r for r in svc.day_appointments(day) if not r.beneficiary_id or _visible(r.beneficiary_id)]
    return jsonify({"day": day.isoformat(), "appointments": [appointment_json(r) for r in rows]})


@bp.post("/api/v1/appointments", endpoint="api_book")
@token_required(*DESK_ROLES)
def api_book():
    data, err = _json_body({"slot": "integer", "beneficiary": "integer", "name": "string", "mobile": "string",
                            "reason": "string"})
    if err:
        return err
    ben = None
    if data.get("beneficiary") is not None:
        ben = _visible(data["beneficiary"])
        if ben is None:
            return error(422, _("Some fields are not valid."), {"beneficiary": _("Unknown beneficiary.")})
    try:
        row = svc.book(slot_id=str(data.get("slot") or ""), beneficiary=ben, name=data.get("name") or "",
                       mobile=data.get("mobile") or "", reason=data.get("reason") or "", source="api",
                       actor=g.api_user)
    except svc.DeskError as exc:
        return error(409 if exc.code == "taken" else 422, str(exc.message), exc.fields or None)
    row = svc.appointments_query().where(Appointment.id == row.id).first()
    return jsonify(appointment_json(row)), 201


@bp.post("/api/v1/appointments/<int:appt_id>/cancel", endpoint="api_cancel")
@token_required(*DESK_ROLES)
def api_cancel(appt_id):
    data, err = _json_body({"reason": "string"})
    if err:
        return err
    row = svc.appointments_query().where(Appointment.id == appt_id).first()
    if row is None or (row.beneficiary_id and _visible(row.beneficiary_id) is None):
        return error(404, _("Not found."))
    try:
        svc.cancel(row, actor=g.api_user, reason=data.get("reason") or "")
    except svc.DeskError as exc:
        return error(409, str(exc.message))
    row = svc.appointments_query().where(Appointment.id == appt_id).first()
    return jsonify(appointment_json(row))


for _view in (api_book, api_cancel):
    csrf.exempt(_view)

_APPOINTMENT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "status": {"type": "string", "enum": ["booked", "attended", "cancelled", "no_show"]},
    "slot": {"type": "integer"}, "starts_at": {"type": "string", "format": "date-time",
                                               "description": "Saudi time, with its offset"},
    "minutes": {"type": "integer"}, "branch": {"type": ["string", "null"]}, "officer": {"type": ["integer", "null"]},
    "beneficiary": {"type": ["integer", "null"]}, "name": {"type": "string"}, "mobile": {"type": "string"},
    "reason": {"type": "string"}, "source": {"type": "string", "enum": ["staff", "site", "api", "self_service"]},
    "reminder": {"type": ["string", "null"], "enum": ["sent", "queued", "not_sent", "no_file", "sending", None]},
    "cancel_reason": {"type": ["string", "null"]},
}}


OPENAPI = {
    "/appointments": {
        "get": {
            "summary": "Appointments of one Saudi day (interview channel)",
            "parameters": [{"name": "day", "in": "query", "required": False, "schema": {"type": "string"},
                            "description": "Gregorian (2026-12-01) or Hijri (1448-06-10); today by default"}],
            "responses": responses({"200": ("The day's appointments", {"type": "object", "properties": {
                "day": {"type": "string", "format": "date"},
                "appointments": {"type": "array", "items": _APPOINTMENT}}})}, {
                "401": "No or bad token", "403": "The token's user may not read appointments", "422": "Bad day"}),
        },
        "post": {
            "summary": "Book a free slot for a beneficiary or a new visitor (name and mobile)",
            "requestBody": {"required": True, "content": _json({"type": "object", "required": ["slot"], "properties": {
                "slot": {"type": "integer"}, "beneficiary": {"type": "integer"}, "name": {"type": "string"},
                "mobile": {"type": "string"}, "reason": {"type": "string", "maxLength": 300}}})},
            "responses": responses({"201": ("Booked", _APPOINTMENT)}, {
                "401": "No or bad token", "403": "The token's user may not book",
                "409": "The slot was booked by someone else a moment before",
                "422": "Unknown slot, a time in the past or on a closed day, bad name or mobile"}),
        },
    },
    "/appointments/{appt_id}/cancel": {
        "post": {
            "summary": "Cancel a booked appointment (the slot is free again)",
            "parameters": [{"name": "appt_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "requestBody": {"required": False, "content": _json({"type": "object", "properties": {
                "reason": {"type": "string", "maxLength": 300}}})},
            "responses": responses({"200": ("Cancelled", _APPOINTMENT)}, {
                "401": "No or bad token", "403": "The token's user may not cancel", "404": "Unknown appointment",
                "409": "Not booked any more (cancelled, attended or not attended)"}),
        }
    },
}
