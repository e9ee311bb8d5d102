"""The OpenAPI 3.1 document of ``/api/v1``. A test checks it against the real routes."""
from __future__ import annotations

from .plugins import hook

# The JSON bodies ``/api/v1`` reads, field by field: ``api.py`` checks requests against them, the document
# describes them.
BENEFICIARY_INPUT = {
    "national_id": "string", "first_name": "string", "father_name": "string", "grandfather_name": "string",
    "family_name": "string", "mobile": "string", "birth_date": "string", "gender": "string",
    "branch": "string", "id_expiry": "string", "nationality": "string", "email": "string",
    "preferred_channel": "string", "district": "string", "city": "string", "national_address": "string",
    "category": "string", "consent_data": "boolean", "consent_contact": "boolean", "notes": "string",
}
TIMELINE_INPUT = {
    "beneficiary": "integer", "channel": "string", "direction": "string", "occurred_at": "string",
    "summary": "string", "body": "string", "case": "string", "data": "object", "follow_up_due": "string",
}

JSON_TYPES = {"string": {"type": "string"}, "boolean": {"type": "boolean"}, "integer": {"type": "integer"},
              "object": {"type": "object"}}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema) -> dict:
    """A request or response ``content`` of JSON with ``schema`` (for the plugins' ``openapi_paths`` too)."""
    return {"application/json": {"schema": schema}}


# The error body every ``/api/v1`` answer of 4xx has (``api.error``), inline for the plugins' ``openapi_paths``.
ERROR_BODY = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"},
                                                                     "fields": {"type": "object"}}}


def responses(successes: dict, errors: dict) -> dict:
    """An operation's ``responses`` (for the plugins' ``openapi_paths``): each success status with its
    ``(description, schema)`` of a JSON body, and each error status with its description and the error body."""
    out = {code: {"description": text, "content": json_content(schema)} for code, (text, schema) in successes.items()}
    out.update({code: {"description": text, "content": json_content(ERROR_BODY)} for code, text in errors.items()})
    return out


def _json(schema, description="OK"):
    return {"description": description, "content": json_content(schema)}


ERRORS = {
    "401": _json(_ref("Error"), "Missing, unknown, expired or revoked bearer token"),
    "403": _json(_ref("Error"), "The token's user lacks the role"),
    "422": _json(_ref("Error"), "Invalid input, with per-field messages"),
}


def document(app) -> dict:
    paths = {
        "/beneficiaries": {
            "get": {
                "summary": "Search beneficiaries",
                "parameters": [
                    {"name": "q", "in": "query", "schema": {"type": "string"},
                     "description": "name (Arabic-normalised), national ID, mobile, file number or case reference"},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
                ],
                "responses": {"200": _json({"type": "object", "properties": {
                    "beneficiaries": {"type": "array", "items": _ref("Beneficiary")}}}), **ERRORS},
            },
            "post": {
                "summary": "Register a beneficiary",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("BeneficiaryInput")}}},
                "responses": {"201": _json(_ref("Beneficiary"), "Created"),
                              "400": _json(_ref("Error"), "Body is not a JSON object"),
                              "409": _json(_ref("Error"), "The national ID is already registered"), **ERRORS},
            },
        },
        "/beneficiaries/{ben_id}": {
            "get": {
                "summary": "One beneficiary",
                "parameters": [{"name": "ben_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": _json(_ref("Beneficiary")), "404": _json(_ref("Error"), "Not found"), **ERRORS},
            }
        },
        "/beneficiaries/{ben_id}/timeline": {
            "get": {
                "summary": "The beneficiary's unified timeline, newest first",
                "parameters": [
                    {"name": "ben_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                    {"name": "channel", "in": "query", "schema": {"type": "string"}},
                    {"name": "before", "in": "query", "schema": {"type": "string"},
                     "description": "the `next` cursor of the previous page"},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
                ],
                "responses": {"200": _json({"type": "object", "properties": {
                    "entries": {"type": "array", "items": _ref("TimelineEntry")},
                    "next": {"type": ["string", "null"]}}}), "404": _json(_ref("Error"), "Not found"), **ERRORS},
            }
        },
        "/timeline": {
            "post": {
                "summary": "Log a contact on any channel",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("TimelineInput")}}},
                "responses": {"201": _json(_ref("TimelineEntry"), "Created"),
                              "400": _json(_ref("Error"), "Body is not a JSON object"), **ERRORS},
            }
        },
        "/imports": {
            "post": {
                "summary": "Import beneficiaries (and household members) from an XLSX or CSV file",
                "description": "Columns are guessed from their Arabic or English headers (or given in `mapping`). "
                               "Every row is checked; with `dry_run` nothing is saved. Rows whose national ID is "
                               "on record are left unchanged, so sending the same file again changes nothing.",
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["file"], "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "dry_run": {"type": "string", "enum": ["0", "1", "true", "false"]},
                        "mapping": {"type": "string",
                                    "description": "JSON object: column index (from 0) -> field name"}}}}}},
                "responses": {"200": _json(_ref("ImportReport")),
                              "400": _json(_ref("Error"), "No file sent"), **ERRORS},
            }
        },
        "/openapi.json": {"get": {"summary": "This document", "security": [],
                                  "responses": {"200": {"description": "OpenAPI 3.1 document"}}}},
    }
    for extra in hook().openapi_paths():
        for path, item in (extra or {}).items():
            paths.setdefault(path, {}).update(item)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Sila (صلة) API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "`portal token create --user NAME --name WHAT [--days N]`; "
                                                          "tokens expire (90 days by default) and can be revoked "
                                                          "(`portal token revoke`)"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {
                    "error": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}}}},
                "BeneficiaryInput": {
                    "type": "object", "additionalProperties": False,
                    "required": ["national_id", "first_name", "father_name", "family_name", "gender", "mobile"],
                    "properties": {k: JSON_TYPES[v] for k, v in BENEFICIARY_INPUT.items()},
                },
                "Beneficiary": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "file_number": {"type": "string"},
                    **{k: {"type": ["string", "null"]} for k in (
                        "national_id", "first_name", "father_name", "grandfather_name", "family_name", "mobile",
                        "birth_date", "gender", "branch", "category", "status")},
                    "version": {"type": "integer"}}},
                "ImportReport": {"type": "object", "properties": {
                    "file": {"type": "string"}, "dry_run": {"type": "boolean"},
                    **{k: {"type": "integer"} for k in ("rows", "new", "existing", "members", "members_existing",
                                                        "rejected", "warnings", "created", "members_created")},
                    "mapping": {"type": "object", "additionalProperties": {"type": "string"}},
                    "problems": {"type": "array", "items": {"type": "object", "properties": {
                        "row": {"type": "integer"}, "national_id": {"type": "string"},
                        "status": {"type": "string"},
                        "errors": {"type": "array", "items": {"type": "object", "properties": {
                            "field": {"type": "string"}, "message": {"type": "string"}}}},
                        "warnings": {"type": "array", "items": {"type": "string"}}}}}}},
                "TimelineInput": {
                    "type": "object", "additionalProperties": False,
                    "required": ["beneficiary", "channel", "summary"],
                    "properties": {k: JSON_TYPES[v] for k, v in TIMELINE_INPUT.items()},
                },
                "TimelineEntry": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "beneficiary": {"type": ["integer", "null"]},
                    "channel": {"type": "string"}, "direction": {"type": "string", "enum": ["in", "out", "internal"]},
                    "occurred_at": {"type": "string", "format": "date-time"}, "summary": {"type": "string"},
                    "body": {"type": "string"}, "case": {"type": ["string", "null"]},
                    "data": {"type": ["object", "null"]}}},
            },
        },
    }
