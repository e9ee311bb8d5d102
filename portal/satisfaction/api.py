"""``GET /api/v1/satisfaction/summary``: the satisfaction figures of a period, in total and per channel
(aggregates only). Bearer tokens as in ``portal.api``; managers and admins."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _

from ..api import error, token_required
from ..plugins import channel_map
from . import metrics
from .models import REPORT_ROLES

bp = Blueprint("satisfaction_api", __name__, url_prefix="/api/v1")


def _day(name: str, errors: dict):
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors[name] = _("Use a date as YYYY-MM-DD.")
        return None


@bp.get("/satisfaction/summary")
@token_required(*REPORT_ROLES)
def summary():
    errors: dict = {}
    first, last = _day("from", errors), _day("to", errors)
    if first and last and last < first:
        errors["to"] = _("The end date is before the start date.")
    channel = (request.args.get("channel") or "").strip()
    if channel and channel not in channel_map() and channel != "system":
        errors["channel"] = _("Unknown channel.")
    if errors:
        return error(422, _("The filters are not valid."), errors)
    return jsonify(metrics.summary(first=first, last=last, channel=channel))


def openapi_paths() -> dict:
    from ..openapi import ERRORS, _json

    figures = {"type": "object", "properties": {
        "responses": {"type": "integer"},
        "csat": {"type": ["number", "null"], "description": "share (0-100) of overall scores of 4 or 5"},
        "nps": {"type": ["number", "null"], "description": "% promoters (9-10) minus % detractors (0-6), -100 to 100"},
        "response_rate": {"type": ["number", "null"], "description": "answered among offered surveys (0-100)"}}}
    body = {"type": "object", "required": ["responses", "csat", "nps", "response_rate", "by_channel"],
            "properties": {**figures["properties"],
                           "by_channel": {"type": "object", "additionalProperties": figures}}}
    day = {"type": "string", "format": "date"}
    return {"/satisfaction/summary": {"get": {
        "summary": "Satisfaction figures (CSAT, NPS, response rate) of a period, in total and per channel",
        "parameters": [
            {"name": "from", "in": "query", "schema": day, "description": "first day (Saudi), YYYY-MM-DD"},
            {"name": "to", "in": "query", "schema": day, "description": "last day (Saudi), YYYY-MM-DD"},
            {"name": "channel", "in": "query", "schema": {"type": "string"},
             "description": "only services given on this channel"}],
        "responses": {"200": _json(body), **ERRORS}}}}
