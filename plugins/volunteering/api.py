"""The volunteering service's JSON API: volunteers, opportunities and hours (bearer tokens as the core's API)."""
from __future__ import annotations

from flask import g, jsonify, request
from flask_babel import gettext as _

from portal import csrf
from portal.api import DB_INT_MAX, _json_body, error, token_required
from portal.dates import to_saudi
from portal.openapi import json_content as _json, responses

from . import MANAGE_ROLES, READ_ROLES
from . import service as svc
from .models import HOURS_STATES, Assignment, HoursLog, Opportunity, Volunteer
from .views import bp

LIMIT = 200


def _id_ok(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= DB_INT_MAX


def _list_of_text(data: dict, name: str, fields: dict) -> list[str]:
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
        fields[name] = _("Must be a list.")
        return []
    return [str(v) for v in value][:50]


def _text(data: dict, *names) -> dict:
    return {n: data[n] for n in names if isinstance(data.get(n), str)}


def volunteer_json(v: Volunteer, skills: list[str], totals: dict) -> dict:
    return {"id": v.id, "name": v.name, "mobile": v.mobile, "email": v.email or None, "city": v.city or None,
            "branch": v.branch_id, "state": v.state, "skills": skills, "weekdays": svc.days_of(v.weekdays),
            "time_from": v.time_from, "time_to": v.time_to, "beneficiary": v.beneficiary_id, "source": v.source,
            "approved_hours": svc.hours_text(totals.get("approved", 0)),
            "pending_hours": svc.hours_text(totals.get("pending", 0))}


def opportunity_json(o: Opportunity, taken: int) -> dict:
    return {"id": o.id, "title": o.title, "kind": o.kind, "branch": o.branch_id, "place": o.place,
            "starts_at": to_saudi(o.starts_at).isoformat(), "ends_at": to_saudi(o.ends_at).isoformat(),
            "skills": list(o.skills or []), "places": o.places, "taken": taken, "cancelled": o.cancelled_at is not None}


def hours_json(h: HoursLog) -> dict:
    return {"id": h.id, "assignment": h.assignment_id, "volunteer": h.volunteer_id, "hours": svc.hours_text(h.hours),
            "day": h.day.isoformat(), "note": h.note, "state": h.state}


@bp.get("/api/v1/volunteers", endpoint="api_volunteers")
@token_required(*READ_ROLES)
def api_volunteers():
    state = request.args.get("state", "")
    query = Volunteer.select()
    if state:
        if state not in ("pending", "approved", "paused"):
            return error(422, _("Some fields are not valid."), {"state": _("Unknown vetting state.")})
        query = query.where(Volunteer.state == state)
    rows = list(query.order_by(Volunteer.id).limit(LIMIT))
    ids = [r.id for r in rows]
    skills, totals = svc.skills_of(ids), svc.hours_totals(ids)
    return jsonify({"volunteers": [volunteer_json(r, skills.get(r.id, []), totals.get(r.id, {})) for r in rows]})


@bp.post("/api/v1/volunteers", endpoint="api_volunteer_create")
@token_required(*MANAGE_ROLES)
def api_volunteer_create():
    data, err = _json_body({"name": "string", "mobile": "string", "national_id": "string", "email": "string",
                            "city": "string", "branch": "integer", "skills": "list", "weekdays": "list",
                            "time_from": "string", "time_to": "string", "notes": "string"})
    if err:
        return err
    fields: dict = {}
    form = _text(data, "name", "mobile", "national_id", "email", "city", "time_from", "time_to", "notes")
    form["skills"] = _list_of_text(data, "skills", fields)
    form["weekdays"] = _list_of_text(data, "weekdays", fields)
    if data.get("branch") is not None:
        form["branch"] = str(data["branch"]) if _id_ok(data["branch"]) else "x"
    if fields:
        return error(422, _("Some fields are not valid."), fields)
    values, errors = svc.clean_volunteer(form)
    if errors:
        return error(422, _("Some fields are not valid."), errors)
    row = svc.save_volunteer(values, actor=g.api_user, source="api")
    return jsonify(volunteer_json(row, values["skills"], {})), 201


@bp.get("/api/v1/opportunities", endpoint="api_opportunities")
@token_required(*READ_ROLES)
def api_opportunities():
    rows = list(Opportunity.select().where(Opportunity.ends_at >= svc.utcnow()).order_by(Opportunity.starts_at)
                .limit(LIMIT))
    taken = svc.taken_counts([r.id for r in rows])
    return jsonify({"opportunities": [opportunity_json(r, taken.get(r.id, 0)) for r in rows]})


@bp.post("/api/v1/opportunities", endpoint="api_opportunity_create")
@token_required(*MANAGE_ROLES)
def api_opportunity_create():
    data, err = _json_body({"title": "string", "kind": "string", "branch": "integer", "place": "string",
                            "day": "string", "time_from": "string", "time_to": "string", "places": "integer",
                            "skills": "list", "notes": "string"})
    if err:
        return err
    fields: dict = {}
    form = _text(data, "title", "kind", "place", "day", "time_from", "time_to", "notes")
    form["skills"] = _list_of_text(data, "skills", fields)
    if data.get("branch") is not None:
        form["branch"] = str(data["branch"]) if _id_ok(data["branch"]) else "x"
    if data.get("places") is not None:
        form["places"] = str(data["places"]) if _id_ok(data["places"]) else "x"
    if fields:
        return error(422, _("Some fields are not valid."), fields)
    values, errors = svc.clean_opportunity(form)
    if errors:
        return error(422, _("Some fields are not valid."), errors)
    row = svc.save_opportunity(values, actor=g.api_user)
    return jsonify(opportunity_json(row, 0)), 201


@bp.get("/api/v1/volunteer-hours", endpoint="api_hours")
@token_required(*READ_ROLES)
def api_hours():
    state = request.args.get("state", "pending")
    if state not in HOURS_STATES:
        return error(422, _("Some fields are not valid."), {"state": _("Unknown state.")})
    rows = list(HoursLog.select().where(HoursLog.state == state).order_by(HoursLog.id).limit(LIMIT))
    return jsonify({"hours": [hours_json(r) for r in rows]})


@bp.post("/api/v1/volunteer-hours", endpoint="api_hours_log")
@token_required(*MANAGE_ROLES)
def api_hours_log():
    data, err = _json_body({"assignment": "integer", "hours": "number", "note": "string"})
    if err:
        return err
    assignment = Assignment.get_or_none(Assignment.id == data["assignment"]) if _id_ok(data.get("assignment")) else None
    if assignment is None:
        return error(422, _("Some fields are not valid."), {"assignment": _("Unknown assignment.")})
    hours = data.get("hours")
    if isinstance(hours, bool) or not isinstance(hours, (int, float, str)):
        return error(422, _("Some fields are not valid."), {"hours": _("Give the hours as a number from 0.25 to 24.")})
    try:
        row = svc.log_hours(assignment, str(hours), note=data.get("note") or "", actor=g.api_user)
    except svc.VolunteeringError as exc:
        return error(409 if exc.code == "twice" else 422, str(exc.message), exc.fields or None)
    return jsonify(hours_json(row)), 201


@bp.post("/api/v1/volunteer-hours/<int:hours_id>/decision", endpoint="api_hours_decide")
@token_required(*MANAGE_ROLES)
def api_hours_decide(hours_id):
    data, err = _json_body({"decision": "string"})
    if err:
        return err
    if data.get("decision") not in ("approve", "reject"):
        return error(422, _("Some fields are not valid."), {"decision": _("Write approve or reject.")})
    row = HoursLog.get_or_none(HoursLog.id == hours_id) if 0 < hours_id <= DB_INT_MAX else None
    if row is None:
        return error(404, _("Not found."))
    try:
        svc.decide_hours(row, data["decision"] == "approve", actor=g.api_user)
    except svc.VolunteeringError as exc:
        return error(409, str(exc.message))
    return jsonify(hours_json(HoursLog.get_by_id(row.id)))


for _view in (api_volunteer_create, api_opportunity_create, api_hours_log, api_hours_decide):
    csrf.exempt(_view)

_VOLUNTEER = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "mobile": {"type": "string"},
    "email": {"type": ["string", "null"]}, "city": {"type": ["string", "null"]}, "branch": {"type": ["integer", "null"]},
    "state": {"type": "string", "enum": ["pending", "approved", "paused"]},
    "skills": {"type": "array", "items": {"type": "string"}},
    "weekdays": {"type": "array", "items": {"type": "integer"}, "description": "Monday 0 ... Sunday 6"},
    "time_from": {"type": "string"}, "time_to": {"type": "string"}, "beneficiary": {"type": ["integer", "null"]},
    "source": {"type": "string"}, "approved_hours": {"type": "string"}, "pending_hours": {"type": "string"}}}
_OPPORTUNITY = {"type": "object", "properties": {
    "id": {"type": "integer"}, "title": {"type": "string"}, "kind": {"type": "string", "enum": list(svc.KINDS)},
    "branch": {"type": ["integer", "null"]}, "place": {"type": "string"},
    "starts_at": {"type": "string", "format": "date-time"}, "ends_at": {"type": "string", "format": "date-time"},
    "skills": {"type": "array", "items": {"type": "string"}}, "places": {"type": "integer"}, "taken": {"type": "integer"},
    "cancelled": {"type": "boolean"}}}
_HOURS = {"type": "object", "properties": {
    "id": {"type": "integer"}, "assignment": {"type": "integer"}, "volunteer": {"type": "integer"},
    "hours": {"type": "string"}, "day": {"type": "string", "format": "date"}, "note": {"type": "string"},
    "state": {"type": "string", "enum": list(HOURS_STATES)}}}


def _answers(ok_status: str, ok_text: str, ok_schema, *others) -> dict:
    texts = {"401": "No or bad token", "403": "The token's user may not do this", "404": "Not found",
             "409": "Conflict", "422": "Bad input", "400": "The body is not a JSON object"}
    return responses({ok_status: (ok_text, ok_schema)}, {code: texts[code] for code in ("401", "403") + others})


_SKILLS = {"type": "array", "items": {"type": "string", "enum": list(svc.SKILLS)}}
OPENAPI = {
    "/volunteers": {
        "get": {"summary": "Volunteers of the registry (volunteering)",
                "parameters": [{"name": "state", "in": "query", "required": False,
                                "schema": {"type": "string", "enum": ["pending", "approved", "paused"]}}],
                "responses": _answers("200", "Volunteers", {"type": "object", "properties": {
                    "volunteers": {"type": "array", "items": _VOLUNTEER}}}, "422")},
        "post": {"summary": "Add a volunteer (pending vetting)",
                 "requestBody": {"required": True, "content": _json({"type": "object", "required": ["name", "mobile", "weekdays"],
                                                                     "properties": {
                     "name": {"type": "string", "maxLength": 160}, "mobile": {"type": "string"},
                     "national_id": {"type": "string"}, "email": {"type": "string"}, "city": {"type": "string"},
                     "branch": {"type": "integer"}, "skills": _SKILLS,
                     "weekdays": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 6}},
                     "time_from": {"type": "string", "examples": ["08:00"]}, "time_to": {"type": "string"},
                     "notes": {"type": "string"}}})},
                 "responses": _answers("201", "Added", _VOLUNTEER, "400", "422")},
    },
    "/opportunities": {
        "get": {"summary": "Volunteering opportunities that are not over",
                "responses": _answers("200", "Opportunities", {"type": "object", "properties": {
                    "opportunities": {"type": "array", "items": _OPPORTUNITY}}})},
        "post": {"summary": "Add a volunteering opportunity",
                 "requestBody": {"required": True, "content": _json({"type": "object", "required": [
                     "title", "place", "day", "time_from", "time_to", "places"], "properties": {
                     "title": {"type": "string"}, "kind": {"type": "string", "enum": list(svc.KINDS)},
                     "branch": {"type": "integer"}, "place": {"type": "string"},
                     "day": {"type": "string", "description": "Gregorian or Hijri date"},
                     "time_from": {"type": "string"}, "time_to": {"type": "string"},
                     "places": {"type": "integer", "minimum": 1, "maximum": 500}, "skills": _SKILLS,
                     "notes": {"type": "string"}}})},
                 "responses": _answers("201", "Added", _OPPORTUNITY, "400", "422")},
    },
    "/volunteer-hours": {
        "get": {"summary": "Volunteers' hours by state (pending by default)",
                "parameters": [{"name": "state", "in": "query", "required": False,
                                "schema": {"type": "string", "enum": list(HOURS_STATES)}}],
                "responses": _answers("200", "Hours", {"type": "object", "properties": {
                    "hours": {"type": "array", "items": _HOURS}}}, "422")},
        "post": {"summary": "Log the hours of an assignment (once per assignment)",
                 "requestBody": {"required": True, "content": _json({"type": "object", "required": ["assignment", "hours"],
                                                                     "properties": {
                     "assignment": {"type": "integer"}, "hours": {"type": ["number", "string"]},
                     "note": {"type": "string", "maxLength": 1000}}})},
                 "responses": _answers("201", "Logged", _HOURS, "400", "409", "422")},
    },
    "/volunteer-hours/{hours_id}/decision": {
        "post": {"summary": "Approve or reject logged hours",
                 "parameters": [{"name": "hours_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                 "requestBody": {"required": True, "content": _json({"type": "object", "required": ["decision"],
                                                                     "properties": {
                     "decision": {"type": "string", "enum": ["approve", "reject"]}}})},
                 "responses": _answers("200", "Decided", _HOURS, "400", "404", "409", "422")},
    },
}
