"""A finished call (an answered call with its outcome recorded) is a finished service: the core offers a
satisfaction survey about it, one per call, none for a call nobody answered."""
from portal.db import database


def _surveys(app):
    from portal.satisfaction.models import Survey

    with app.app_context(), database.connection_context():
        return [(s.kind, s.channel, s.source, s.staff_id) for s in Survey.select().order_by(Survey.id)]


def test_an_answered_call_offers_a_survey(app, client, auth, make_beneficiary, users):
    ben = make_beneficiary(mobile="0501234567", consent_contact=True)
    other = make_beneficiary(mobile="0507654321", consent_contact=True)
    auth.login("officer")
    form = {"direction": "in", "duration": "2:00", "topic": "استفسار", "notes": ""}
    assert client.post("/phone/calls/new", data=dict(form, number="0507654321", outcome="no_answer")).status_code == 302
    assert _surveys(app) == []
    assert client.post("/phone/calls/new", data=dict(form, number="0501234567", outcome="answered")).status_code == 302
    rows = _surveys(app)
    assert len(rows) == 1 and rows[0][:2] == ("call", "phone") and rows[0][2].startswith("phone:call:")
    assert rows[0][3] == users["officer"]
    # the same beneficiary's next call within the month gets no second survey
    assert client.post("/phone/calls/new", data=dict(form, number="0501234567", outcome="appointment")).status_code == 302
    assert len(_surveys(app)) == 1
    assert ben and other
