"""JSON API of the workflow: ``GET /api/v1/cases/<ref>``, ``POST /api/v1/cases`` (open a request) and
the transitions as ``POST /api/v1/cases/<ref>/<action>``. Bearer tokens as in ``portal.api``."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _

from ..api import error, token_required
from ..audit import audit
from ..auth import EDIT_ROLES, STAFF_ROLES
from ..models import Beneficiary, Case, User
from . import committee, intake, machine, research, service
from .committee import is_overdue
from .errors import ChecklistIncomplete, WorkflowError
from .models import CommitteeSession, Delivery

bp = Blueprint("cases_api", __name__, url_prefix="/api/v1")

ACTIONS = ("submit", "mark_incomplete", "refer", "send_to_committee", "approve", "reject", "register", "serve",
           "close", "withdraw")
ACTION_INPUT = {
    "submit": {"version": "integer", "incomplete_if_missing": "boolean"},
    "mark_incomplete": {"version": "integer", "note": "string"},
    "refer": {"version": "integer", "researcher": "string", "reason": "string"},
    "send_to_committee": {"version": "integer"},
    "approve": {"version": "integer", "session": "integer", "amount": "string", "quantity": "integer",
                "conditions": "string"},
    "reject": {"version": "integer", "session": "integer", "reasons": "string"},
    "register": {"version": "integer", "starts_on": "string", "ends_on": "string", "notes": "string"},
    "serve": {"what": "string", "amount": "string", "quantity": "integer", "delivered_on": "string",
              "receipt_number": "string"},
    "close": {"version": "integer", "note": "string"},
    "withdraw": {"version": "integer", "reason": "string"},
}
OPEN_INPUT = {"beneficiary": "integer", "request_type": "string", "channel": "string", "summary": "string",
              "answers": "object"}


def _iso(value):
    return value.isoformat() if value else None


def _money(value):
    """Amounts as strings with two decimals on every backend."""
    from decimal import Decimal

    return None if value is None else f"{Decimal(value):.2f}"


def case_json(case: Case) -> dict:
    checklist = intake.evaluate_checklist(case)
    deliveries = list(Delivery.select().where(Delivery.case == case).order_by(Delivery.delivered_on))
    return {
        "reference": case.reference, "beneficiary": case.beneficiary_id, "request_type": case.request_type,
        "channel": case.channel, "status": case.status, "version": case.version, "summary": case.summary,
        "answers": case.answers or {}, "created_at": _iso(case.created_at), "submitted_at": _iso(case.submitted_at),
        "status_changed_at": _iso(case.status_changed_at), "referred_at": _iso(case.referred_at),
        "assigned_researcher": case.assigned_researcher.username if case.assigned_researcher_id else None,
        "awaiting_committee_at": _iso(case.awaiting_committee_at), "committee_due_at": _iso(case.committee_due_at),
        "overdue": is_overdue(case), "decision": case.decision or None,
        "amount": _money(case.amount), "quantity": case.quantity,
        "conditions": case.conditions, "decision_reasons": case.decision_reasons, "decided_at": _iso(case.decided_at),
        "missing_documents": case.missing_documents, "checklist": checklist.as_json(),
        "declared": intake.latest_declaration(case) is not None,
        "deliveries": [{"what": d.what, "amount": _money(d.amount),
                        "quantity": d.quantity, "delivered_on": _iso(d.delivered_on),
                        "receipt_number": d.receipt_number} for d in deliveries],
        "allowed_actions": machine.allowed_actions(case.status),
    }


def _visible_case(ref):
    case = (Case.select(Case, Beneficiary).join(Beneficiary, attr="beneficiary").where(Case.reference == ref).first())
    if case is None:
        return None
    from ..scope import can_see_case

    return case if can_see_case(case, g.api_user) else None


def _body(allowed):
    from ..api import _json_body

    if not request.data:
        return {}, None
    return _json_body(allowed)


def _workflow_error(exc: WorkflowError):
    body = {"error": str(exc.message)}
    if exc.fields:
        body["fields"] = {k: str(v) for k, v in exc.fields.items()}
    if isinstance(exc, ChecklistIncomplete):
        body["missing"] = [i for i in exc.checklist.as_json() if i["state"] != "present"]
    return jsonify(body), exc.status


@bp.get("/cases/<ref>")
@token_required(*STAFF_ROLES)
def get_case(ref):
    case = _visible_case(ref)
    if case is None:
        return error(404, _("Not found."))
    audit("read", "case", case.id, {"via": "api"})
    return jsonify(case_json(case))


@bp.post("/cases")
@token_required(*EDIT_ROLES)
def open_case():
    from ..api import _visible

    data, err = _body(OPEN_INPUT)
    if err:
        return err
    ben = _visible(data["beneficiary"]) if isinstance(data.get("beneficiary"), int) else None
    if ben is None:
        return error(422, _("Some fields are not valid."), {"beneficiary": _("Unknown beneficiary.")})
    try:
        case = intake.open_request(ben, data.get("request_type") or "", channel=data.get("channel") or "",
                                   actor=g.api_user, summary=data.get("summary") or "", answers=data.get("answers"))
    except WorkflowError as exc:
        return _workflow_error(exc)
    return jsonify(case_json(case)), 201


def _may(user, action, case) -> bool:
    if action in ("approve", "reject"):
        return user.has_role("committee")
    if action == "send_to_committee":
        return user.has_role("admin", "officer") or (user.has_role("researcher")
                                                     and case.assigned_researcher_id == user.id)
    return user.has_role(*EDIT_ROLES)


@token_required(*STAFF_ROLES)
def transition(ref, action):
    """``POST /api/v1/cases/<ref>/<action>``: one URL per action (each documented in the OpenAPI file)."""
    case = _visible_case(ref)
    if case is None:
        return error(404, _("Not found."))
    user = g.api_user
    if not _may(user, action, case):
        return error(403, _("This token's user may not do this."))
    data, err = _body(ACTION_INPUT[action])
    if err:
        return err
    version = data.get("version")
    changed = True
    try:
        if action == "submit":
            result = intake.submit(case, actor=user, expected_version=version,
                                   incomplete_if_missing=bool(data.get("incomplete_if_missing")))
            changed = result.changed
        elif action == "mark_incomplete":
            changed = intake.mark_incomplete(case, actor=user, expected_version=version,
                                             note=data.get("note") or "").changed
        elif action == "refer":
            name = (data.get("researcher") or "").lower()
            researcher = User.get_or_none(User.username == name)
            changed = research.refer(case, researcher=researcher, reason=data.get("reason") or "", actor=user,
                                     expected_version=version).changed
        elif action == "send_to_committee":
            changed = research.send_to_committee(case, actor=user, expected_version=version).changed
        elif action in ("approve", "reject"):
            session = (CommitteeSession.get_or_none(CommitteeSession.id == data["session"])
                       if isinstance(data.get("session"), int) else None)
            if session is None:
                return error(422, _("Some fields are not valid."), {"session": _("Unknown committee session.")})
            changed = committee.decide(session, case, decision=action, actor=user, amount=data.get("amount"),
                                       quantity=data.get("quantity"), conditions=data.get("conditions") or "",
                                       reasons=data.get("reasons") or "", expected_version=version).changed
        elif action == "register":
            changed = service.register(case, actor=user, starts_on=data.get("starts_on"), ends_on=data.get("ends_on"),
                                       notes=data.get("notes") or "", expected_version=version).changed
        elif action == "serve":
            service.record_delivery(case, actor=user, what=data.get("what") or "",
                                    delivered_on=data.get("delivered_on"), amount=data.get("amount"),
                                    quantity=data.get("quantity"), receipt_number=data.get("receipt_number") or "")
        elif action == "close":
            changed = service.close(case, actor=user, note=data.get("note") or "", expected_version=version).changed
        elif action == "withdraw":
            changed = service.withdraw(case, actor=user, reason=data.get("reason") or "",
                                       expected_version=version).changed
    except WorkflowError as exc:
        return _workflow_error(exc)
    fresh = _visible_case(ref) or case
    body = case_json(fresh)
    body["changed"] = changed
    return jsonify(body)


for _action in ACTIONS:
    bp.add_url_rule(f"/cases/<ref>/{_action}", endpoint="transition", view_func=transition, methods=["POST"],
                    defaults={"action": _action})


def openapi_paths() -> dict:
    from ..openapi import ERRORS, JSON_TYPES, _json

    case_schema = {"type": "object", "properties": {
        "reference": {"type": "string"}, "beneficiary": {"type": "integer"}, "request_type": {"type": "string"},
        "channel": {"type": "string"}, "status": {"type": "string", "enum": list(machine.STATUSES)},
        "version": {"type": "integer"}, "committee_due_at": {"type": ["string", "null"], "format": "date-time"},
        "overdue": {"type": "boolean"}, "decision": {"type": ["string", "null"]},
        "checklist": {"type": "array", "items": {"type": "object", "properties": {
            "kind": {"type": "string"}, "state": {"type": "string", "enum": ["present", "missing", "expired"]},
            "expiry_date": {"type": ["string", "null"]}}}},
        "allowed_actions": {"type": "array", "items": {"type": "string"}},
        "changed": {"type": "boolean", "description": "transitions only: false when the same change had "
                                                      "already been made (a repeated request)"}}}
    ref = {"name": "ref", "in": "path", "required": True, "schema": {"type": "string", "pattern": r"^\d{4}-\d{6}$"}}
    paths = {
        "/cases": {"post": {
            "summary": "Open a support request (status draft)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "additionalProperties": False,
                "required": ["beneficiary", "request_type", "channel"],
                "properties": {k: JSON_TYPES[v] for k, v in OPEN_INPUT.items()}}}}},
            "responses": {"201": _json(case_schema, "Created"), **ERRORS}}},
        "/cases/{ref}": {"get": {
            "summary": "One support request with its checklist and allowed actions", "parameters": [ref],
            "responses": {"200": _json(case_schema), "404": _json({"$ref": "#/components/schemas/Error"},
                                                                 "Not found"), **ERRORS}}},
    }
    for action, fields in ACTION_INPUT.items():
        paths[f"/cases/{{ref}}/{action}"] = {"post": {
            "summary": f"Transition: {action}", "parameters": [ref],
            "requestBody": {"required": False, "content": {"application/json": {"schema": {
                "type": "object", "additionalProperties": False,
                "properties": {k: JSON_TYPES[v] for k, v in fields.items()}}}}},
            "responses": {"200": _json(case_schema), "404": _json({"$ref": "#/components/schemas/Error"}, "Not found"),
                          "409": _json({"$ref": "#/components/schemas/Error"},
                                       "Not allowed from the current status, or changed meanwhile"), **ERRORS}}}
    return paths
