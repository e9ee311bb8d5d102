"""JSON API /api/v1: bearer tokens, per-field errors, never a 500, and an OpenAPI document that matches the routes."""
import re

import pytest

from portal.db import database
from portal.models import ApiToken, Beneficiary, TimelineEntry, User


@pytest.fixture
def token(app, users):
    from portal.api import create_token

    with app.app_context(), database.connection_context():
        return {role: create_token(User.get_by_id(uid), "tests") for role, uid in users.items()}


def bearer(tok):
    return {"Authorization": f"Bearer {tok}"}


BODY = {"national_id": "1000000008", "first_name": "أحمد", "father_name": "محمد", "grandfather_name": "علي",
        "family_name": "الغامدي", "mobile": "0501234567", "birth_date": "1985-03-14", "gender": "m"}


def test_create_get_search_and_timeline(client, app, token):
    response = client.post("/api/v1/beneficiaries", json=BODY, headers=bearer(token["officer"]))
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["mobile"] == "+966501234567" and created["file_number"] == "000001"
    ben_id = created["id"]
    got = client.get(f"/api/v1/beneficiaries/{ben_id}", headers=bearer(token["manager"])).get_json()
    assert got["full_name"] == "أحمد محمد علي الغامدي"
    # a researcher reads only the files of requests assigned to them (portal.scope)
    assert client.get(f"/api/v1/beneficiaries/{ben_id}", headers=bearer(token["researcher"])).status_code == 404
    found = client.get("/api/v1/beneficiaries?q=إحمد", headers=bearer(token["officer"])).get_json()
    assert [b["id"] for b in found["beneficiaries"]] == [ben_id]
    for i in range(3):
        response = client.post("/api/v1/timeline", headers=bearer(token["officer"]), json={
            "beneficiary": ben_id, "channel": ["phone", "social", "letters"][i], "direction": "in",
            "summary": f"رسالة {i}", "occurred_at": f"2026-11-2{i}T10:00:00+03:00", "data": {"n": i}})
        assert response.status_code == 201, response.get_json()
    page = client.get(f"/api/v1/beneficiaries/{ben_id}/timeline?limit=2", headers=bearer(token["officer"])).get_json()
    assert [e["summary"] for e in page["entries"]] == ["رسالة 2", "رسالة 1"]
    assert page["entries"][0]["occurred_at"] == "2026-11-22T07:00:00"
    assert page["entries"][0]["data"] == {"n": 2}
    rest = client.get(f"/api/v1/beneficiaries/{ben_id}/timeline", query_string={"before": page["next"]},
                      headers=bearer(token["officer"])).get_json()
    assert [e["summary"] for e in rest["entries"]] == ["رسالة 0"] and rest["next"] is None
    only_letters = client.get(f"/api/v1/beneficiaries/{ben_id}/timeline?channel=letters",
                              headers=bearer(token["officer"])).get_json()
    assert [e["channel"] for e in only_letters["entries"]] == ["letters"]


@pytest.mark.parametrize(("body", "status", "field"), [
    ({**BODY, "national_id": "1000000009"}, 422, "national_id"),
    ({**BODY, "national_id": 1000000008}, 422, "national_id"),
    ({**BODY, "mobile": "+201001234567"}, 422, "mobile"),
    ({**BODY, "birth_date": "2999-01-01"}, 422, "birth_date"),
    ({**BODY, "first_name": ""}, 422, "first_name"),
    ({**BODY, "first_name": ["a"]}, 422, "first_name"),
    ({**BODY, "family_name": "x" * 61}, 422, "family_name"),
    ({**BODY, "shoe_size": 44}, 422, "shoe_size"),
    ({**BODY, "consent_data": "yes"}, 422, "consent_data"),
    ({**BODY, "branch": "NOPE"}, 422, "branch"),
])
def test_create_bad_input_gives_field_errors(client, app, token, body, status, field):
    response = client.post("/api/v1/beneficiaries", json=body, headers=bearer(token["officer"]))
    assert response.status_code == status
    assert field in response.get_json()["fields"]
    with app.app_context(), database.connection_context():
        assert Beneficiary.select().count() == 0


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'"text"', b"{", b"null"])
def test_malformed_json_is_400(client, token, raw):
    response = client.post("/api/v1/beneficiaries", data=raw, content_type="application/json",
                           headers=bearer(token["officer"]))
    assert response.status_code == 400 and "error" in response.get_json()


def test_duplicate_national_id_is_409_with_existing(client, token):
    assert client.post("/api/v1/beneficiaries", json=BODY, headers=bearer(token["officer"])).status_code == 201
    response = client.post("/api/v1/beneficiaries", json=BODY, headers=bearer(token["officer"]))
    assert response.status_code == 409
    assert response.get_json()["existing"]["file_number"] == "000001"


@pytest.mark.parametrize(("body", "field"), [
    ({"beneficiary": 999, "channel": "phone", "summary": "x"}, "beneficiary"),
    ({"beneficiary": "1", "channel": "phone", "summary": "x"}, "beneficiary"),
    ({"beneficiary": 1, "channel": "fax", "summary": "x"}, "channel"),
    ({"beneficiary": 1, "channel": "phone", "summary": ""}, "summary"),
    ({"beneficiary": 1, "channel": "phone", "summary": "x", "direction": "up"}, "direction"),
    ({"beneficiary": 1, "channel": "phone", "summary": "x", "occurred_at": "yesterday"}, "occurred_at"),
    ({"beneficiary": 1, "channel": "phone", "summary": "x", "occurred_at": "2999-01-01T00:00:00"}, "occurred_at"),
    ({"beneficiary": 1, "channel": "phone", "summary": "x", "case": "1448-999999"}, "case"),
    ({"beneficiary": 1, "channel": "phone", "summary": "x", "data": [1]}, "data"),
    ({"beneficiary": 1, "channel": "phone", "summary": "x", "follow_up_due": "1447-02-30"}, "follow_up_due"),
    ({"beneficiary": 1, "channel": "phone", "summary": "x", "colour": "red"}, "colour"),
])
def test_timeline_post_bad_input(client, app, token, make_beneficiary, body, field):
    make_beneficiary()
    response = client.post("/api/v1/timeline", json=body, headers=bearer(token["officer"]))
    assert response.status_code == 422
    assert field in response.get_json()["fields"]
    with app.app_context(), database.connection_context():
        assert TimelineEntry.select().count() == 0


def test_tokens_are_checked(client, app, token, make_beneficiary):
    ben = make_beneficiary()
    assert client.get("/api/v1/beneficiaries").status_code == 401
    assert client.get("/api/v1/beneficiaries", headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get("/api/v1/beneficiaries", headers=bearer("sila_wrong")).status_code == 401
    with app.app_context(), database.connection_context():
        ApiToken.update(revoked_at=ApiToken.created_at).where(ApiToken.prefix == token["officer"][:12]).execute()
    assert client.get("/api/v1/beneficiaries", headers=bearer(token["officer"])).status_code == 401
    # The manager may read but not write.
    assert client.get(f"/api/v1/beneficiaries/{ben}", headers=bearer(token["manager"])).status_code == 200
    assert client.post("/api/v1/beneficiaries", json=BODY, headers=bearer(token["manager"])).status_code == 403
    # Tokens are stored hashed.
    with app.app_context(), database.connection_context():
        assert all(t.token_hash not in token.values() for t in ApiToken.select())


def test_delegate_token_is_limited_to_branch(client, token, make_beneficiary):
    outside = make_beneficiary(branch="MKK")
    assert client.get(f"/api/v1/beneficiaries/{outside}", headers=bearer(token["delegate"])).status_code == 404


def test_unknown_api_route_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.is_json


def test_openapi_document_matches_routes(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, item in doc["paths"].items() for method in item}
    actual = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule[len("/api/v1"):])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            actual.add((path, method))
    assert documented == actual
    for path, item in doc["paths"].items():
        params = set(re.findall(r"{([^}]+)}", path))
        for operation in item.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert params <= declared or not params, (path, params, declared)
            assert operation["responses"]


def test_openapi_input_schemas_match_accepted_fields():
    from portal.openapi import BENEFICIARY_INPUT
    from portal.beneficiaries_service import FIELDS

    assert set(BENEFICIARY_INPUT) <= set(FIELDS)
