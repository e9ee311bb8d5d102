"""Bad input on the case screen's step forms: a clear message, what was typed kept, nothing written."""
import datetime as dt

import pytest
from committee_helpers import committee_trio, open_trio_session  # noqa: F401

from portal.db import database
from portal.models import Case
from portal.workflow.models import Delivery, Enrolment


@pytest.mark.parametrize(("status", "url", "data", "message", "kept"), [
    ("submitted", "refer", {"version": "2", "researcher": "", "reason": "زيارة عاجلة"}, "Choose a social researcher",
     "زيارة عاجلة"),
    ("submitted", "refer", {"version": "2", "researcher": "999999", "reason": ""}, "Give the reason", None),
    ("approved", "register", {"starts_on": "1447-02-30"}, "This Hijri date does not exist", "1447-02-30"),
    ("approved", "register", {"starts_on": "2026-12-10", "ends_on": "2026-12-01"}, "end date is before",
     "2026-12-01"),
    ("registered", "deliveries", {"what": "", "quantity": "2", "delivered_on": "2026-11-01"}, "required", None),
    ("registered", "deliveries", {"what": "سلة", "quantity": "1.5", "delivered_on": "2026-11-01"},
     "whole number", "سلة"),
    ("registered", "deliveries", {"what": "سلة", "delivered_on": "2026-11-01"}, "amount or the quantity", "سلة"),
    ("registered", "deliveries", {"what": "سلة", "amount": "100", "delivered_on": "2999-01-01"}, "future", "سلة"),
    ("draft", "withdraw", {"reason": "   "}, "reason for the withdrawal", None),
    ("submitted", "incomplete", {"note": ""}, "say what is missing", None),
    ("draft", "declaration", {"method": "paper_scan", "channel": "interview"}, "Attach the scan", None),
])
def test_step_form_bad_input(client, wf, auth, status, url, data, message, kept):
    case = wf.case(status)
    before = (Case.get_by_id(case.id).version, Delivery.select().count(), Enrolment.select().count())
    database.close()
    auth.login("officer")
    response = client.post(f"/cases/{case.reference}/{url}?lang=en", data=data)
    assert response.status_code == 422, response.status_code
    page = response.get_data(as_text=True)
    assert message.lower() in page.lower()
    if kept:
        assert kept in page
    with database.connection_context():
        assert (Case.get_by_id(case.id).version, Delivery.select().count(), Enrolment.select().count()) == before


def test_a_transition_from_the_wrong_state_is_refused_on_screen(client, wf, auth):
    case = wf.case("draft")
    database.close()
    auth.login("officer")
    response = client.post(f"/cases/{case.reference}/register?lang=en", data={"starts_on": "2026-12-01",
                                                                              "version": "1"})
    assert response.status_code == 409
    assert "is not possible now" in response.get_data(as_text=True).replace("&#34;", '"')
    response = client.post(f"/cases/{case.reference}/close?lang=en", data={"version": "1"})
    assert response.status_code == 409
    with database.connection_context():
        assert Case.get_by_id(case.id).status == "draft"


def test_unknown_references_are_404(client, wf, auth):
    database.close()
    auth.login("officer")
    assert client.get("/cases/1448-000999").status_code == 404
    assert client.post("/cases/1448-000999/submit").status_code == 404
    assert client.get("/beneficiaries/999999/cases/new").status_code == 404
    assert client.get("/committee/sessions/999999").status_code in (403, 404)


def test_new_request_form_keeps_answers_and_shows_errors(client, wf, auth):
    ben = wf.ready_beneficiary()
    from portal.workflow.intake import get_request_type, questions

    yes_no, number = questions(get_request_type("financial_aid"))
    database.close()
    auth.login("officer")
    response = client.post(f"/beneficiaries/{ben.id}/cases/new?lang=en", data={
        "request_type": "financial_aid", "channel": "interview", "summary": "مساعدة عاجلة",
        f"answer_{yes_no.id}": "", f"answer_{number.id}": "ألف"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please answer this question" in page and "Enter a number" in page
    assert "مساعدة عاجلة" in page and 'value="ألف"' in page
    with database.connection_context():
        assert Case.select().count() == 0


def test_committee_refusals_are_shown_on_the_session_page(client, wf, auth):
    from portal.auth import hash_password
    from portal.models import User
    from portal.workflow import committee

    User.create(username="outsider", full_name="عضو خارج الجلسة", roles="committee",
                password_hash=hash_password("correct-horse-battery"))
    case = wf.case("awaiting_committee")
    session = open_trio_session()
    database.close()
    auth.login("outsider")
    response = client.post(f"/committee/sessions/{session.id}/cases/{case.reference}/vote?lang=en",
                           data={"vote": "approve"})
    assert response.status_code == 422 and "Only members of this session can vote" in response.get_data(as_text=True)
    auth.logout()
    auth.login("committee")
    response = client.post(f"/committee/sessions/{session.id}/cases/{case.reference}/decide?lang=en",
                           data={"decision": "reject", "reasons": ""})
    assert response.status_code == 422 and "needs its reasons" in response.get_data(as_text=True)
    with database.connection_context():
        assert Case.get_by_id(case.id).status == "awaiting_committee"
