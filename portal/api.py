"""JSON API ``/api/v1`` with bearer tokens. Errors are JSON with per-field messages; bad input is a 4xx."""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets

from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext as _

from . import beneficiaries_service as service
from .audit import audit
from .auth import CONTACT_ROLES, EDIT_ROLES, STAFF_ROLES
from .dates import parse_date
from .db import database, utcnow
from .hygiene import DB_INT_MAX
from .models import DIRECTIONS, ApiToken, Beneficiary, Case, TimelineEntry, User
from .openapi import BENEFICIARY_INPUT, TIMELINE_INPUT, document
from .plugins import channel_map
from .scope import can_see_beneficiary, can_see_case
from .text import clean_text
from .timeline import entries_page, entry_data_errors, log_entry
from .validators import ValidationError

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# --- tokens -----------------------------------------------------------------------------------

def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


MAX_TOKEN_DAYS = 366


def create_token(user: User, name: str = "", days: int | None = None) -> str:
    """Create a token for ``user`` valid ``days`` days (``PORTAL_API_TOKEN_DAYS`` by default); the plain
    token is returned once and only its hash is stored."""
    days = int(current_app.config["API_TOKEN_DAYS"] if days is None else days)
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValueError(f"a token lasts 1 to {MAX_TOKEN_DAYS} days")
    name = clean_text(name)[:100]
    token = "sila_" + secrets.token_urlsafe(32)
    expires = utcnow() + dt.timedelta(days=days)
    with database.atomic():
        row = ApiToken.create(user=user, name=name, prefix=token[:12], token_hash=_hash(token), expires_at=expires)
        audit("create", "api_token", row.id, {"name": name, "prefix": token[:12], "user": user.username,
                                             "expires_at": expires.isoformat(timespec="seconds")}, actor=user)
    return token


def revoke_token(row: ApiToken, actor=None) -> bool:
    """Revoke ``row``; False when it already was."""
    with database.atomic():
        done = ApiToken.update(revoked_at=utcnow()).where(
            (ApiToken.id == row.id) & ApiToken.revoked_at.is_null()).execute()
        if done:
            audit("revoke", "api_token", row.id, {"name": row.name, "prefix": row.prefix}, actor=actor)
    return bool(done)


def token_state(row: ApiToken, now=None) -> str:
    now = now or utcnow()
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at <= now:
        return "expired"
    return "active"


LAST_USED_EVERY = dt.timedelta(minutes=1)


def error(status: int, message: str, fields: dict | None = None):
    body = {"error": message}
    if fields:
        body["fields"] = {k: str(v) for k, v in fields.items()}
    return jsonify(body), status


def token_required(*roles):
    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _sep, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return error(401, _("A bearer token is required."))
            row = (ApiToken.select(ApiToken, User).join(User)
                   .where(ApiToken.token_hash == _hash(token.strip())).first())
            if row is None or not row.user.is_active:
                return error(401, _("The token is not valid."))
            now = utcnow()
            state = token_state(row, now)
            if state == "revoked":
                return error(401, _("The token was revoked."))
            if state == "expired":
                return error(401, _("The token has expired. Ask an administrator for a new one."))
            if not row.user.has_role(*roles):
                return error(403, _("This token's user is not allowed to do this."))
            # At most one write a minute per token, not one per request.
            if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
                ApiToken.update(last_used_at=now).where(ApiToken.id == row.id).execute()
            g.api_user = row.user
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles
        return wrapped

    return decorator


# --- serialisation -----------------------------------------------------------------------------

def _iso(value):
    return value.isoformat() if value else None


def beneficiary_json(ben: Beneficiary) -> dict:
    return {
        "id": ben.id, "file_number": ben.file_number, "national_id": ben.national_id, "id_kind": ben.id_kind,
        "first_name": ben.first_name, "father_name": ben.father_name, "grandfather_name": ben.grandfather_name,
        "family_name": ben.family_name, "full_name": ben.full_name, "mobile": ben.mobile,
        "birth_date": _iso(ben.birth_date), "id_expiry": _iso(ben.id_expiry), "gender": ben.gender,
        "branch": ben.branch.code if ben.branch_id else None, "category": ben.category, "status": ben.status,
        "email": ben.email, "preferred_channel": ben.preferred_channel, "city": ben.city,
        "district": ben.district, "version": ben.version, "created_at": _iso(ben.created_at),
        "updated_at": _iso(ben.updated_at),
    }


def entry_json(entry: TimelineEntry) -> dict:
    return {
        "id": entry.id, "beneficiary": entry.beneficiary_id, "channel": entry.channel,
        "direction": entry.direction, "occurred_at": _iso(entry.occurred_at), "summary": entry.summary,
        "body": entry.body, "case": entry.case.reference if entry.case_id else None, "data": entry.data,
        "follow_up_due": _iso(entry.follow_up_due),
    }


def _json_body(allowed: dict):
    """Parse a JSON object and check its keys and basic types; returns (data, error_response)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return None, error(400, _("The body must be a JSON object."))
    fields = {}
    for key, value in data.items():
        expected = allowed.get(key)
        if expected is None:
            fields[key] = _("Unknown field.")
        elif value is None:
            continue
        elif expected == "string" and not isinstance(value, str):
            fields[key] = _("Must be a string.")
        elif expected == "boolean" and not isinstance(value, bool):
            fields[key] = _("Must be true or false.")
        elif expected == "integer" and (not isinstance(value, int) or isinstance(value, bool)):
            fields[key] = _("Must be an integer.")
        elif expected == "object" and not isinstance(value, dict):
            fields[key] = _("Must be an object.")
    if fields:
        return None, error(422, _("Some fields are not valid."), fields)
    return data, None


def _visible(ben_id: int):
    if not 0 < ben_id <= DB_INT_MAX:
        return None
    ben = (Beneficiary.select().where(Beneficiary.id == ben_id).first())
    user = g.api_user
    if ben is None:
        return None

    return ben if can_see_beneficiary(ben, user) else None


# --- routes ------------------------------------------------------------------------------------

@bp.get("/beneficiaries")
@token_required(*STAFF_ROLES)
def list_beneficiaries():
    try:
        limit = min(max(int(request.args.get("limit", 50)), 1), 200)
    except ValueError:
        return error(422, _("Some fields are not valid."), {"limit": _("Must be an integer.")})
    q = request.args.get("q", "")
    rows = list(service.search_query(q, g.api_user).limit(limit))
    audit("read", "beneficiary_list", "", {"via": "api", "q": q[:100], "results": [b.id for b in rows]})
    return jsonify({"beneficiaries": [beneficiary_json(b) for b in rows]})


@bp.post("/beneficiaries")
@token_required(*EDIT_ROLES)
def create_beneficiary():
    data, err = _json_body(BENEFICIARY_INPUT)
    if err:
        return err
    res = service.validate(data, actor=g.api_user)
    if not res.ok:
        body = {"error": _("Some fields are not valid."), "fields": {k: str(v) for k, v in res.errors.items()}}
        if res.duplicate is not None:
            body["existing"] = {"id": res.duplicate.id, "file_number": res.duplicate.file_number}
            return jsonify(body), 409
        return jsonify(body), 422
    ben = service.create(res.values, actor=g.api_user)
    body = beneficiary_json(ben)
    body["warnings"] = [str(message) for message, _rows in res.warnings]
    return jsonify(body), 201


@bp.get("/beneficiaries/<int:ben_id>")
@token_required(*STAFF_ROLES)
def get_beneficiary(ben_id):
    ben = _visible(ben_id)
    if ben is None:
        return error(404, _("Not found."))
    audit("read", "beneficiary", ben.id, {"via": "api"})
    return jsonify(beneficiary_json(ben))


@bp.get("/beneficiaries/<int:ben_id>/timeline")
@token_required(*STAFF_ROLES)
def get_timeline(ben_id):
    ben = _visible(ben_id)
    if ben is None:
        return error(404, _("Not found."))
    channel = request.args.get("channel") or None
    if channel and channel not in channel_map():
        return error(422, _("Some fields are not valid."), {"channel": _("Unknown channel.")})
    try:
        limit = min(max(int(request.args.get("limit", 50)), 1), 200)
    except ValueError:
        return error(422, _("Some fields are not valid."), {"limit": _("Must be an integer.")})
    entries, next_cursor = entries_page(beneficiary=ben, channel=channel, before=request.args.get("before"),
                                        limit=limit, user=g.api_user)
    audit("read", "timeline", ben.id, {"via": "api"})
    return jsonify({"entries": [entry_json(e) for e in entries], "next": next_cursor})


@bp.post("/timeline")
@token_required(*CONTACT_ROLES)
def post_timeline():
    data, err = _json_body(TIMELINE_INPUT)
    if err:
        return err
    fields = {}
    ben = _visible(data["beneficiary"]) if isinstance(data.get("beneficiary"), int) else None
    if ben is None:
        fields["beneficiary"] = _("Unknown beneficiary.")
    channel = data.get("channel")
    if channel not in channel_map():
        fields["channel"] = _("Unknown channel.")
    direction = data.get("direction") or "in"
    if direction not in DIRECTIONS:
        fields["direction"] = _("Must be one of: in, out, internal.")
    summary = clean_text(data.get("summary"))
    if not summary:
        fields["summary"] = _("This field is required.")
    elif len(summary) > 300:
        fields["summary"] = _("Too long: at most %(n)s characters.", n=300)
    body = clean_text(data.get("body"))
    if len(body) > 20000:
        fields["body"] = _("Too long: at most %(n)s characters.", n=20000)
    occurred = None
    if data.get("occurred_at"):
        try:
            occurred = dt.datetime.fromisoformat(data["occurred_at"])
            if occurred.tzinfo is not None:
                occurred = occurred.astimezone(dt.UTC).replace(tzinfo=None)
            if occurred > utcnow() + dt.timedelta(minutes=5):
                fields["occurred_at"] = _("A contact cannot be in the future.")
        except ValueError:
            fields["occurred_at"] = _("Use an ISO 8601 date and time.")
    follow_up = None
    try:
        follow_up = parse_date(data.get("follow_up_due"))
    except ValidationError as exc:
        fields["follow_up_due"] = str(exc.message)
    if channel in channel_map():
        problems = entry_data_errors(channel, data.get("data"))
        if problems:
            fields["data"] = " ".join(problems)
    case = None
    if data.get("case"):
        case = Case.get_or_none(Case.reference == data["case"])

        if (case is None or (ben is not None and case.beneficiary_id != ben.id)
                or not can_see_case(case, g.api_user)):
            fields["case"] = _("Unknown request for this beneficiary.")
    if fields:
        return error(422, _("Some fields are not valid."), fields)
    entry = log_entry(channel=channel, direction=direction, occurred_at=occurred, summary=summary, body=body,
                      beneficiary=ben, case=case, actor=g.api_user, data=data.get("data"),
                      follow_up_due=follow_up)
    return jsonify(entry_json(entry)), 201


@bp.post("/imports")
@token_required(*EDIT_ROLES)
def post_import():
    """A spreadsheet of beneficiaries (multipart ``file``): checked row by row, imported unless ``dry_run``;
    answers the report. ``mapping`` (a JSON object: column index -> field) overrides the guessed columns."""
    import json as _json

    from . import imports

    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return error(400, _("Send the spreadsheet as the multipart field “file”."))
    limit = imports.max_bytes()
    data = upload.stream.read(limit + 1)
    try:
        if len(data) > limit:
            raise imports.ImportFileError(_("The file is larger than %(mb)s MB.", mb=limit // (1024 * 1024)))
        table = imports.read_table(data, upload.filename)
    except imports.ImportFileError as exc:
        return error(422, str(exc.message), {"file": exc.message})
    mapping = imports.guess_mapping(table.headers)
    if request.form.get("mapping"):
        try:
            given = _json.loads(request.form["mapping"])
        except ValueError:
            given = None
        if not isinstance(given, dict) or not all(
                isinstance(v, str) and v in imports.FIELDS and str(k).isdigit() and int(k) < len(table.headers)
                for k, v in given.items()):
            return error(422, _("Some fields are not valid."), {"mapping": _("Not a valid column mapping.")})
        mapping = {str(k): v for k, v in given.items()}
    problems = imports.mapping_errors(mapping)
    if problems:
        return error(422, str(problems[0]), {"mapping": problems[0]})
    dry_run = (request.form.get("dry_run") or "").lower() in ("1", "true", "yes", "on")
    report = imports.run(table, mapping, file_name=imports.safe_name(upload.filename), actor=g.api_user,
                         dry_run=dry_run)
    body = report.as_dict()
    body["mapping"] = mapping
    audit("import" if not dry_run else "check", "import_api", "", {
        "file": body["file"], "rows": body["rows"], "created": body["created"], "rejected": body["rejected"]})
    return jsonify(body), 200


@bp.get("/openapi.json")
def openapi():
    return jsonify(document(current_app))
