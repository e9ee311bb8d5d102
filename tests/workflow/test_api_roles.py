"""The cases API and the role rules: researchers see only their assigned requests, delegates only
their branch, committee members vote, the chair decides, managers read."""
import datetime as dt

import pytest
from committee_helpers import committee_trio, open_trio_session  # noqa: F401

from portal.db import database
from portal.models import Case, User


@pytest.fixture
def tokens(wf):
    from portal.api import create_token

    return {role: create_token(wf.user(role), "test") for role in
            ("admin", "officer", "researcher", "committee", "delegate", "manager")}


def call(client, token, method, url, json=None):
    headers = {"Authorization": f"Bearer {token}"}
    return client.open(url, method=method, headers=headers, json=json)


def test_get_case_and_walk_it_through_the_api(client, wf, tokens):
    ben = wf.ready_beneficiary()
    database.close()
    officer = tokens["officer"]
    response = call(client, officer, "POST", "/api/v1/cases", {
        "beneficiary": ben.id, "request_type": "food_basket", "channel": "phone", "summary": "سلة",
        "answers": {str(k): "4" for k in wf_question_ids(wf, "food_basket")}})
    assert response.status_code == 201, response.get_json()
    ref = response.get_json()["reference"]
    body = call(client, officer, "GET", f"/api/v1/cases/{ref}").get_json()
    assert body["status"] == "draft" and body["allowed_actions"] == ["submit", "mark_incomplete", "withdraw"]
    assert {i["kind"]: i["state"] for i in body["checklist"]} == {"national_id": "present", "family_card": "present"}
    first = call(client, officer, "POST", f"/api/v1/cases/{ref}/submit", {"version": 1})
    second = call(client, officer, "POST", f"/api/v1/cases/{ref}/submit", {"version": 1})
    assert (first.get_json()["changed"], second.get_json()["changed"]) == (True, False)
    assert second.get_json()["status"] == "submitted"
    # a transition from the wrong state: 409 and nothing changes
    wrong = call(client, officer, "POST", f"/api/v1/cases/{ref}/register", {"starts_on": "2026-12-01"})
    assert wrong.status_code == 409 and "error" in wrong.get_json()
    refer = call(client, officer, "POST", f"/api/v1/cases/{ref}/refer", {"researcher": "researcher", "reason": "زيارة"})
    assert refer.status_code == 200 and refer.get_json()["assigned_researcher"] == "researcher"
    # the researcher may send it on only with the report and the declaration
    missing = call(client, tokens["researcher"], "POST", f"/api/v1/cases/{ref}/send_to_committee")
    assert missing.status_code == 422
    # unknown fields and wrong types are refused per field
    bad = call(client, officer, "POST", f"/api/v1/cases/{ref}/withdraw", {"reason": 5, "colour": "red"})
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"reason", "colour"}
    assert call(client, officer, "POST", f"/api/v1/cases/{ref}/fly").status_code in (404, 405)
    assert call(client, officer, "GET", "/api/v1/cases/1448-999999").status_code == 404
    # roles: a manager reads but may not act; a committee member may not withdraw
    assert call(client, tokens["manager"], "GET", f"/api/v1/cases/{ref}").status_code == 200
    assert call(client, tokens["manager"], "POST", f"/api/v1/cases/{ref}/withdraw", {"reason": "x"}).status_code == 403
    assert call(client, tokens["committee"], "POST", f"/api/v1/cases/{ref}/withdraw", {"reason": "x"}).status_code == 403
    done = call(client, officer, "POST", f"/api/v1/cases/{ref}/withdraw", {"reason": "بطلب المستفيد"})
    assert done.get_json()["status"] == "withdrawn"


def wf_question_ids(wf, code):
    from portal.workflow.intake import get_request_type, questions

    with database.connection_context():
        return [q.id for q in questions(get_request_type(code))]


def test_submit_with_a_missing_document_lists_it(client, wf, tokens):
    ben = wf.beneficiary(branch="TAIF")
    case = wf.case("draft", ben=ben)
    database.close()
    response = call(client, tokens["officer"], "POST", f"/api/v1/cases/{case.reference}/submit")
    assert response.status_code == 422
    assert {m["kind"] for m in response.get_json()["missing"]} == {"national_id", "family_card"}


def test_approval_through_the_api_needs_the_chair_and_a_session(client, wf, tokens):
    from portal.workflow import committee

    case = wf.case("awaiting_committee")
    session = open_trio_session()
    for member in committee_trio()[:2]:
        committee.cast_vote(session, case, member=member, vote="approve")
    database.close()
    url = f"/api/v1/cases/{case.reference}/approve"
    assert call(client, tokens["committee"], "POST", url, {"amount": "300"}).status_code == 422  # no session
    assert call(client, tokens["officer"], "POST", url, {"session": session.id, "amount": "300"}).status_code == 403
    ok = call(client, tokens["committee"], "POST", url, {"session": session.id, "amount": "300"})
    assert ok.status_code == 200 and ok.get_json()["status"] == "approved" and ok.get_json()["amount"] == "300.00"


def test_openapi_documents_the_case_routes(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "/cases/{ref}" in doc["paths"] and "/cases" in doc["paths"]
    for action in ("submit", "refer", "approve", "reject", "register", "serve", "close", "withdraw"):
        assert "post" in doc["paths"][f"/cases/{{ref}}/{action}"]


def test_researchers_see_only_their_assigned_requests(client, wf, auth):
    from portal.auth import hash_password

    other = User.create(username="researcher2", full_name="باحث آخر", roles="researcher",
                        password_hash=hash_password("correct-horse-battery"))
    mine = wf.case("in_research")
    theirs = wf.case("submitted")
    from portal.workflow import research

    research.refer(theirs, researcher=other, reason="س", actor=wf.user("officer"))
    draft = wf.case("draft")
    database.close()
    auth.login("researcher")
    assert client.get(f"/cases/{mine.reference}").status_code == 200
    assert client.get(f"/cases/{theirs.reference}").status_code == 403
    assert client.get(f"/cases/{draft.reference}").status_code == 403
    listing = client.get("/cases/").get_data(as_text=True)
    assert mine.reference in listing and theirs.reference not in listing and draft.reference not in listing
    queue = client.get("/cases/research").get_data(as_text=True)
    assert mine.reference in queue and theirs.reference not in queue
    # the other researcher cannot write the report of a request not assigned to them
    auth.logout()
    auth.login("researcher2")
    response = client.post(f"/cases/{mine.reference}/report", data={"visit_date": "2026-11-01"})
    assert response.status_code == 403


def test_delegates_see_only_their_branch(client, wf, auth):
    taif = wf.case("draft", ben=wf.ready_beneficiary(branch="TAIF"))
    makkah = wf.case("draft", ben=wf.ready_beneficiary(branch="MKK"))
    database.close()
    auth.login("delegate")
    assert client.get(f"/cases/{taif.reference}").status_code == 200
    assert client.get(f"/cases/{makkah.reference}").status_code == 403
    assert client.post(f"/cases/{makkah.reference}/withdraw", data={"reason": "x"}).status_code == 403
    listing = client.get("/cases/").get_data(as_text=True)
    assert taif.reference in listing and makkah.reference not in listing


def test_managers_read_but_cannot_change(client, wf, auth):
    case = wf.case("draft")
    database.close()
    auth.login("manager")
    assert client.get(f"/cases/{case.reference}").status_code == 200
    assert client.get("/committee/").status_code == 200
    assert client.post(f"/cases/{case.reference}/withdraw", data={"reason": "x"}).status_code == 403
    with database.connection_context():
        assert Case.get_by_id(case.id).status == "draft"


def test_an_upload_attached_to_the_wrong_beneficiarys_request_is_refused(client, wf, auth):
    from portal.models import Document

    case = wf.case("draft")
    foreign = wf.document(wf.beneficiary(), "income_proof")
    database.close()
    auth.login("officer")
    response = client.post(f"/cases/{case.reference}/documents?lang=en", data={"document": str(foreign.id)})
    assert response.status_code == 422 and "another beneficiary" in response.get_data(as_text=True)
    with database.connection_context():
        assert Document.get_by_id(foreign.id).case_id is None


@pytest.mark.parametrize(("data", "message"), [
    ({"kind": "national_id", "expiry_date": "1447-02-30"}, "This Hijri date does not exist"),
    ({"kind": "national_id", "issue_date": "2026-05-01", "expiry_date": "2026-04-01"}, "before the issue date"),
    ({"kind": "passport"}, "Choose the document type"),
])
def test_case_document_bad_input(client, wf, auth, data, message):
    from portal.models import Document

    case = wf.case("draft")
    before = Document.select().count()
    database.close()
    auth.login("officer")
    response = client.post(f"/cases/{case.reference}/documents?lang=en", data=data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert 'value="' + data.get("expiry_date", "zzz") in response.get_data(as_text=True) or "expiry_date" not in data
    with database.connection_context():
        assert Document.select().count() == before


def test_hijri_expiry_typed_on_the_case_screen_counts_in_the_checklist(client, wf, auth):
    case = wf.case("draft", ben=wf.beneficiary(branch="TAIF"))
    database.close()
    auth.login("officer")
    assert client.post(f"/cases/{case.reference}/documents", data={"kind": "national_id",
                                                                   "expiry_date": "١٤٤٧-٠١-٠١"}).status_code == 302
    assert client.post(f"/cases/{case.reference}/documents", data={"kind": "family_card"}).status_code == 302
    response = client.post(f"/cases/{case.reference}/submit?lang=en", data={"version": "1"})
    assert response.status_code == 422 and "Expired" in response.get_data(as_text=True)
    assert client.post(f"/cases/{case.reference}/documents", data={"kind": "national_id",
                                                                   "expiry_date": "1452-01-01"}).status_code == 302
    assert client.post(f"/cases/{case.reference}/submit", data={"version": "1"}).status_code == 302
