"""Property-based checks of the API against its own OpenAPI document (schemathesis): every operation, with
valid and invalid inputs, signed in with a valid bearer token, never answers a server error (5xx).

Bounded and repeatable: ``MAX_EXAMPLES`` cases per operation and mode, a fixed seed (derandomized), no
deadline (the machine may be slow), no example database. One app for the whole run: what a case writes
(beneficiaries, timeline entries, transitions) is state the next cases meet, as a real client would. Half
the cases aim their path at a real beneficiary or request, so that bodies reach past the look-up.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.generation import GenerationMode  # noqa: E402

from conftest import PASSWORD, luhn_id  # noqa: E402
from portal.db import database  # noqa: E402

MAX_EXAMPLES = 25


@pytest.fixture
def api_setup(app, users, make_beneficiary):
    """A beneficiary and a request in research to aim at (the access table's fixtures), a committee
    session, and tokens: the committee's for the committee's operations, an admin's for the rest."""
    from access.workflow import FIXTURES
    from portal.api import create_token
    from portal.models import User

    ben = make_beneficiary(branch="TAIF")
    make_beneficiary(branch="MKK")  # the access fixtures also open a request in another branch
    with app.app_context(), database.connection_context():
        values = FIXTURES(app)
        tokens = {role: create_token(User.get_by_id(users[role]), "fuzz") for role in ("admin", "committee", "delegate")}
    return {"ben_id": ben, "ref": values["case"], "session": values["session"]}, tokens


def _valid_bodies(known):
    """A valid body per writing operation: an aimed case keeps one of its generated fields and takes the
    rest from here, so that one odd field (a channel's ``data``, a long summary...) meets an otherwise
    acceptable request."""
    return {
        "/timeline": {"beneficiary": known["ben_id"], "channel": "social", "summary": "رسالة", "direction": "in"},
        "/cases": {"beneficiary": known["ben_id"], "request_type": "food_basket", "channel": "phone"},
        "/beneficiaries": {"national_id": luhn_id("176543210"), "first_name": "هند", "father_name": "علي",
                           "family_name": "القحطاني", "gender": "f", "mobile": "0557654321"},
        # the delegates plugin's visits (a delegate of the beneficiary's branch; one client_id, so resends too)
        "/delegates/visits": {"client_id": "0b7f1c9e-2d4a-4e8b-9f3c-5a6d7e8f9a0b", "beneficiary": known["ben_id"],
                              "needs": "ترميم السقف"},
    }


def _token_for(operation, tokens):
    if operation.path == "/delegates/visits" and operation.method.upper() == "POST":
        return tokens["delegate"]
    return tokens["committee"] if operation.path.endswith(("/approve", "/reject")) else tokens["admin"]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_api_never_answers_a_server_error(app, api_setup, mode):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8, [op.label for op in operations]
    failures = []
    calls = {"n": 0}
    known, tokens = api_setup
    valid = _valid_bodies(known)
    for operation in operations:
        token = _token_for(operation, tokens)

        @seed(20261130)
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(mode), aim=st.booleans(), pick=st.integers(0, 50))
        def run(case, aim, pick):
            if aim:
                # Half the time the path names a real beneficiary or request and the body starts valid, so
                # that what is tested is the odd part, not the first look-up.
                for name in case.path_parameters or {}:
                    if name in known:
                        case.path_parameters[name] = known[name]
                if operation.path in valid and isinstance(case.body, dict):
                    generated = sorted(case.body)
                    odd = generated[pick % len(generated)] if generated else None
                    case.body = {**case.body, **{k: v for k, v in valid[operation.path].items() if k != odd}}
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            calls["n"] += 1
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} "
                                f"query={case.query} body={case.body!r}: {response.status_code}")

        run()
    assert not failures, "\n".join(failures[:20])
    assert calls["n"] >= len(operations)  # every operation was called
    # What the API accepted must not break the screens that show it (profile, timeline, dashboard).
    client = app.test_client()
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    for url in (f"/beneficiaries/{known['ben_id']}", f"/beneficiaries/{known['ben_id']}/timeline", "/",
                f"/cases/{known['ref']}"):
        assert client.get(url).status_code == 200, url
