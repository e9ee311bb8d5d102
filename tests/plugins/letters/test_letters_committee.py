"""Letters from the committee: the decision letter on the chair's decision, batches of a session's
decisions, and the session's minutes as a numbered PDF."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from letters_helpers import make_case, pdf_text, text_of  # noqa: F401  (make_case is a fixture)

from portal.db import database

pytest.importorskip("portal.workflow.committee")


@pytest.fixture
def decided_session(app, users, make_case):
    """A session with two decided requests (one approval, one rejection) and one undecided."""
    from portal.models import User
    from portal.workflow import committee

    approved = make_case(status="awaiting_committee", amount="")
    rejected = make_case(status="awaiting_committee", amount="")
    pending = make_case(status="awaiting_committee", amount="")
    with app.test_request_context(), database.connection_context():
        chair = User.get_by_id(users["committee"])
        from committee_helpers import committee_trio, open_trio_session

        session = open_trio_session(held_on=dt.date(2026, 11, 26), title="الجلسة الثانية عشرة")
        from portal.models import Case

        for case_id in (approved, rejected, pending):
            for member in committee_trio()[:2]:
                committee.cast_vote(session, Case.get_by_id(case_id), member=member,
                                    vote="approve" if case_id == approved else "reject")
        committee.decide(session, Case.get_by_id(approved), decision="approve", actor=chair, amount="2500")
        committee.decide(session, Case.get_by_id(rejected), decision="reject", actor=chair,
                         reasons="دخل الأسرة يزيد على الحد المعتمد")
    return {"session": session.id, "approved": approved, "rejected": rejected, "pending": pending}


def test_the_chairs_decision_issues_the_decision_letter(app, client, auth, decided_session):
    from plugins.letters.models import Letter

    with app.app_context(), database.connection_context():
        letters = {row.case_id: row for row in Letter.select()}
        assert set(letters) == {decided_session["approved"], decided_session["rejected"]}
        assert letters[decided_session["approved"]].template.key == "decision_approved"
        assert letters[decided_session["rejected"]].template.key == "decision_rejected"
        letter = letters[decided_session["rejected"]]
    auth.login("officer")
    text = pdf_text(client.get(f"/letters/out/{letter.id}/pdf").data)
    assert "دخل الأسرة يزيد على الحد المعتمد" in text and "الاعتذار" in text
    approved_text = pdf_text(client.get(f"/letters/out/{letters[decided_session['approved']].id}/pdf").data)
    assert "2,500.00" in approved_text and "الموافقة" in approved_text


def test_session_batch_gives_each_request_its_own_decision_letter(app, client, auth, decided_session):
    from pypdf import PdfReader

    from plugins.letters.models import Letter, LetterBatch

    with app.app_context(), database.connection_context():
        Letter.delete().execute()  # as if the automatic letters were switched off
    auth.login("officer")
    assert client.post("/letters/batches", data={"template": "__decision__"}).status_code == 422
    response = client.post("/letters/batches", data={"template": "__decision__",
                                                     "session": str(decided_session["session"])})
    assert response.status_code == 303, text_of(response)
    with app.app_context(), database.connection_context():
        batch = LetterBatch.get()
        assert (batch.total, batch.done, batch.failed, batch.status) == (2, 2, 0, "done")
        keys = sorted(row.template.key for row in Letter.select())
        assert keys == ["decision_approved", "decision_rejected"]
    merged = client.get(f"/letters/batches/{batch.id}/pdf").data
    assert len(PdfReader(io.BytesIO(merged)).pages) == 2


def test_minutes_pdf_lists_every_request_and_decision(app, client, auth, decided_session):
    from plugins.letters.models import Letter

    auth.login("committee")
    response = client.post(f"/letters/committee/{decided_session['session']}/minutes")
    assert response.status_code == 303
    with app.app_context(), database.connection_context():
        minutes = Letter.select().where(Letter.case.is_null()).get()
        assert minutes.template.key == "committee_minutes" and minutes.beneficiary_id is None
    text = pdf_text(client.get(f"/letters/out/{minutes.id}/pdf").data)
    for words in ("محضر جلسة لجنة البحث", "الجلسة الثانية عشرة", "1448-000001", "1448-000002", "1448-000003",
                  "الموافقة", "الاعتذار", "لم يُبتّ فيه", "مستخدم committee"[:6]):
        assert words in text, words
    assert client.post("/letters/committee/99999/minutes").status_code == 404
