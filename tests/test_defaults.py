"""Defaults that do no harm: no pre-selected category, a committee the demo can convene, coherent demo data."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from portal.db import database, utcnow


def test_registration_form_preselects_no_category(auth, client):
    auth.login("officer")
    html = client.get("/beneficiaries/new").get_data(as_text=True)
    select = re.search(r'<select id="f-category".*?</select>', html, re.S).group(0)
    assert '<option value="">' in select
    assert "selected" not in select


def test_registration_without_category_keeps_it_unset(auth, client, beneficiary_data):
    auth.login("officer")
    data = dict(beneficiary_data, category="")
    response = client.post("/beneficiaries/new", data=data)
    assert response.status_code == 302
    from portal.models import Beneficiary

    with client.application.app_context(), database.connection_context():
        assert Beneficiary.get(Beneficiary.national_id == data["national_id"]).category == "other"


def test_sessions_page_says_when_the_committee_is_too_small(auth, client):
    auth.login("committee")  # the users fixture has a single committee member
    html = client.get("/committee/?lang=en").get_data(as_text=True)
    assert 'id="committee-too-small"' in html
    assert "a session needs at least <bdi>3</bdi>" in html


@pytest.fixture
def demo(app, runner):
    result = runner.invoke(args=["demo", "--beneficiaries", "90", "--entries", "300"])
    assert result.exit_code == 0, result.output
    return result


def test_demo_committee_can_meet_its_quorum(app, demo):
    from portal.workflow import committee
    from portal.workflow.models import AgendaItem

    with app.app_context(), database.connection_context():
        members = committee.active_committee()
        assert len(members) >= committee.min_members()
        chair = next(m for m in members if m.username == "committee")
        session = committee.open_session(held_on=dt.date.today(), chair=chair, quorum="", members=members,
                                         actor=chair)
        assert session.quorum == committee.majority(len(members)) <= len(members)
        assert committee.session_problems(session) == []
        assert AgendaItem.select().where(AgendaItem.session == session).count() > 0
    assert "committee2 /" in demo.output and "committee3 /" in demo.output


def test_demo_data_is_coherent(app, demo):
    from portal.dates import saudi_date
    from portal.models import Beneficiary, Case, Document, TimelineEntry
    from portal.workflow.models import Declaration, LibraryDocument, LibraryVersion, ResearchReport

    with app.app_context(), database.connection_context():
        now = utcnow()
        for field in (Case.created_at, Case.submitted_at, Case.status_changed_at, Case.referred_at,
                      Case.awaiting_committee_at, Case.decided_at, Case.registered_at, Case.closed_at):
            assert Case.select().where(field > now).count() == 0, field.name
        assert TimelineEntry.select().where(TimelineEntry.occurred_at > now).count() == 0
        assert Beneficiary.select().where(Beneficiary.created_at > now).count() == 0
        assert Declaration.select().where(Declaration.given_at > now).count() == 0
        assert ResearchReport.select().where(ResearchReport.visit_date > saudi_date(now)).count() == 0
        # steps in order
        for case in Case.select().where(Case.awaiting_committee_at.is_null(False)):
            assert case.submitted_at <= case.referred_at <= case.awaiting_committee_at
            assert case.committee_due_at == case.awaiting_committee_at + dt.timedelta(days=14)
            if case.decided_at:
                assert case.awaiting_committee_at <= case.decided_at
        # a declaration (and the research report) wherever the state needs one
        needs = Case.select().where(Case.status.in_(("awaiting_committee", "approved", "rejected", "registered",
                                                     "served", "closed")))
        assert needs.count() > 0
        declared = {d.case_id for d in Declaration.select(Declaration.case)}
        reported = {r.case_id for r in ResearchReport.select(ResearchReport.case)}
        assert all(c.id in declared and c.id in reported for c in needs)
        # the four library documents each with a first version
        tools = list(LibraryDocument.select())
        assert {t.kind for t in tools} >= {"bylaws", "research_guide", "support_policy", "request_form"}
        for tool in tools:
            assert LibraryVersion.select().where(LibraryVersion.document == tool).count() >= 1, tool.kind
        # one ID expiry per file: the ID document says what the file says
        ids = list(Document.select(Document, Beneficiary).join(Beneficiary, attr="beneficiary")
                   .where(Document.kind == "national_id"))
        assert ids
        assert all(d.expiry_date == d.beneficiary.id_expiry for d in ids)
        assert Document.select().where(Document.kind == "national_id").count() == len({d.beneficiary_id for d in ids})
