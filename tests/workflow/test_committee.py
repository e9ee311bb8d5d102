"""Step 5: sessions, agenda, votes, quorum, decisions, the 14-day deadline across month ends."""
import datetime as dt

import pytest
from committee_helpers import committee_trio, open_trio_session

from portal.db import utcnow
from portal.models import AuditEvent, Case
from portal.workflow import committee, intake, research
from portal.workflow.errors import TransitionNotAllowed, WorkflowError
from portal.workflow.models import CommitteeSession, Vote


def session_for(wf, quorum=None):
    """A session of three committee members chaired by ``committee`` (quorum: the majority)."""
    return open_trio_session(quorum=quorum)


def test_agenda_is_oldest_first_with_overdue_flagged(wf):
    newer = wf.case("awaiting_committee")
    older = wf.case("awaiting_committee")
    Case.update(awaiting_committee_at=utcnow() - dt.timedelta(days=20),
                committee_due_at=utcnow() - dt.timedelta(days=6)).where(Case.id == older.id).execute()
    session = session_for(wf)
    rows = committee.agenda(session)
    assert [r.case.reference for r in rows] == [older.reference, newer.reference]
    assert [r.overdue for r in rows] == [True, False]
    late = wf.case("awaiting_committee")
    assert committee.refresh_agenda(session) == 1 and committee.refresh_agenda(session) == 0
    assert committee.agenda(session)[-1].case.reference == late.reference


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"quorum": 0}, "quorum"), ({"quorum": 1}, "quorum"), ({"quorum": 4}, "quorum"), ({"quorum": "abc"}, "quorum"),
    ({"chair": "officer"}, "chair"), ({"members": ("committee", "researcher")}, "members"),
    ({"held_on": None}, "held_on"),
])
def test_session_bad_input(wf, kwargs, field):
    members = committee_trio()
    args = {"held_on": dt.date.today(), "chair": members[0], "quorum": 2, "members": members}
    for key, value in kwargs.items():
        if key == "chair":
            value = wf.user(value)
        if key == "members":
            value = [wf.user(m) for m in value] + members[1:]
        args[key] = value
    with pytest.raises(WorkflowError) as info:
        committee.open_session(**args)
    assert field in info.value.fields
    assert CommitteeSession.select().count() == 0


def test_a_vote_by_a_non_member_is_refused(wf):
    from portal.auth import hash_password
    from portal.models import User

    case = wf.case("awaiting_committee")
    session = session_for(wf)
    outsider = User.create(username="outsider", full_name="عضو آخر", roles="committee", password_hash=hash_password("x"))
    with pytest.raises(WorkflowError) as info:
        committee.cast_vote(session, case, member=outsider, vote="approve")
    assert "لأعضاء هذه الجلسة" in str(info.value.message)  # messages are Arabic outside a request
    assert Vote.select().count() == 0


def test_a_member_changes_their_vote_and_bad_votes_are_refused(wf):
    case = wf.case("awaiting_committee")
    session = session_for(wf)
    committee.cast_vote(session, case, member=wf.user("committee"), vote="reject")
    committee.cast_vote(session, case, member=wf.user("committee"), vote="approve", comment="بعد المراجعة")
    assert [(v.vote, v.comment) for v in Vote.select()] == [("approve", "بعد المراجعة")]
    with pytest.raises(WorkflowError):
        committee.cast_vote(session, case, member=wf.user("committee"), vote="maybe")
    other = wf.case("submitted")
    with pytest.raises(WorkflowError):
        committee.cast_vote(session, other, member=wf.user("committee"), vote="approve")


def test_decision_needs_quorum_chair_and_reasons(wf):
    chair, second, _third = committee_trio()
    case = wf.case("awaiting_committee")
    session = committee.open_session(held_on=dt.date.today(), chair=chair, quorum=2,
                                     members=[chair, second, _third])
    committee.cast_vote(session, case, member=wf.user("committee"), vote="reject")
    with pytest.raises(WorkflowError) as info:
        committee.decide(session, case, decision="reject", actor=wf.user("committee"), reasons="دخل كاف")
    assert "النصاب" in str(info.value.message)
    committee.cast_vote(session, case, member=second, vote="reject")
    with pytest.raises(WorkflowError) as info:
        committee.decide(session, case, decision="reject", actor=second, reasons="دخل كاف")
    assert "رئيس" in str(info.value.message)
    with pytest.raises(WorkflowError) as info:
        committee.decide(session, case, decision="reject", actor=wf.user("committee"), reasons="  ")
    assert "reasons" in info.value.fields
    with pytest.raises(WorkflowError) as info:
        committee.decide(session, case, decision="approve", actor=wf.user("committee"))
    assert "amount" in info.value.fields
    with pytest.raises(WorkflowError) as info:
        committee.decide(session, case, decision="approve", actor=wf.user("committee"), amount="-5")
    assert "amount" in info.value.fields
    assert Case.get_by_id(case.id).status == "awaiting_committee"
    outcome = committee.decide(session, case, decision="reject", actor=wf.user("committee"), reasons="دخل كاف",
                               expected_version=case.version)
    assert outcome.case.status == "rejected" and outcome.case.decision_reasons == "دخل كاف"
    again = committee.decide(session, case, decision="reject", actor=wf.user("committee"), reasons="دخل كاف",
                             expected_version=case.version)
    assert again.changed is False
    with pytest.raises(TransitionNotAllowed):
        committee.decide(session, case, decision="approve", actor=wf.user("committee"), amount="100")


def test_sending_to_committee_needs_report_and_declaration(wf):
    case = wf.case("in_research")
    with pytest.raises(WorkflowError) as info:
        research.send_to_committee(case, actor=wf.user("researcher"))
    assert "إقرار" in str(info.value.message) and "تقرير البحث" in str(info.value.message)
    assert Case.get_by_id(case.id).status == "in_research"


@pytest.mark.parametrize(("start", "due"), [
    (dt.datetime(2026, 1, 25, 9), dt.datetime(2026, 2, 8, 9)),     # across a Gregorian month end
    (dt.datetime(2028, 2, 20, 9), dt.datetime(2028, 3, 5, 9)),     # across 29 February (leap year)
    (dt.datetime(2026, 12, 25, 9), dt.datetime(2027, 1, 8, 9)),    # across the year end
    (dt.datetime(2026, 12, 9, 9), dt.datetime(2026, 12, 23, 9)),   # 29 Jumada II 1448 -> Rajab (Hijri month end)
])
def test_the_fourteen_day_deadline(wf, start, due):
    assert research.committee_due(start) == due


def test_the_beneficiary_is_told_the_expected_reply_in_hijri_and_gregorian(wf):
    from portal.models import TimelineEntry

    case = wf.case("in_research")
    intake.record_declaration(case, method="read_out", channel="phone", witness=wf.user("officer"))
    research.record_report(case, actor=wf.user("researcher"), data={
        "visit_date": "1448-06-10", "household_situation": "س", "needs": "ص", "recommendation": "approve"})
    start = dt.datetime(2026, 12, 9, 6)  # 29 Jumada II 1448, 09:00 in Riyadh
    outcome = research.send_to_committee(case, actor=wf.user("researcher"), now=start)
    assert outcome.case.committee_due_at == dt.datetime(2026, 12, 23, 6)
    note = TimelineEntry.select().where(TimelineEntry.data.contains("committee_expected_reply")).get()
    assert "4 رجب 1448" in note.body and "23 ديسمبر 2026" in note.body
    assert note.data["sent"] is False


def test_research_report_bad_input(wf):
    case = wf.case("in_research")
    good = {"visit_date": dt.date.today().isoformat(), "household_situation": "س", "needs": "ص",
            "recommendation": "approve"}
    for change, field in (({"visit_date": "1447-02-30"}, "visit_date"), ({"visit_date": "2999-01-01"}, "visit_date"),
                          ({"needs": ""}, "needs"), ({"monthly_income": "كثير"}, "monthly_income"),
                          ({"recommendation": "maybe"}, "recommendation")):
        with pytest.raises(WorkflowError) as info:
            research.record_report(case, actor=wf.user("researcher"), data=dict(good, **change))
        assert field in info.value.fields
    with pytest.raises(WorkflowError):  # not the assigned researcher
        research.record_report(case, actor=wf.user("officer"), data=good)


def test_escalation_happens_once_and_is_audited(wf):
    case = wf.case("awaiting_committee")
    assert committee.escalate_overdue() == 0
    later = utcnow() + dt.timedelta(days=15)
    assert committee.escalate_overdue(later) == 1
    assert committee.escalate_overdue(later + dt.timedelta(days=1)) == 0
    assert AuditEvent.select().where(AuditEvent.action == "escalate").count() == 1
    assert Case.get_by_id(case.id).escalated_at is not None


# --- the committee's rules: members, quorum, big amounts, sessions that break them -----------------

def test_a_committee_of_one_cannot_open_a_session(wf):
    chair = wf.user("committee")
    for members in ([chair], [chair, committee_trio()[1]]):
        with pytest.raises(WorkflowError) as info:
            committee.open_session(held_on=dt.date.today(), chair=chair, quorum=1, members=members)
        assert "3" in str(info.value.fields["members"])
    assert CommitteeSession.select().count() == 0


def test_the_minimum_is_a_setting(wf, app):
    app.config["COMMITTEE_MIN_MEMBERS"] = 5
    with pytest.raises(WorkflowError) as info:
        open_trio_session()
    assert "5" in str(info.value.fields["members"])
    app.config["COMMITTEE_MIN_MEMBERS"] = 3
    assert open_trio_session().quorum == 2


def test_the_quorum_is_at_least_a_majority(wf):
    from portal.models import User

    assert committee.majority(3) == 2 and committee.majority(4) == 3 and committee.majority(5) == 3
    assert open_trio_session().quorum == 2  # empty: the majority
    assert open_trio_session(quorum="٣").quorum == 3  # more than the majority is allowed
    five = committee_trio() + [User.create(username=f"m{i}", full_name=f"عضو {i}", roles="committee",
                                           password_hash="-") for i in (4, 5)]
    with pytest.raises(WorkflowError) as info:
        committee.open_session(held_on=dt.date.today(), chair=five[0], quorum=2, members=five)
    assert "quorum" in info.value.fields
    assert committee.open_session(held_on=dt.date.today(), chair=five[0], quorum="", members=five).quorum == 3


def test_members_must_come_from_the_active_committee(wf):
    chair, second, third = committee_trio()
    third.is_active = False
    third.save()
    with pytest.raises(WorkflowError) as info:
        committee.open_session(held_on=dt.date.today(), chair=chair, quorum=2, members=[chair, second, third])
    assert "members" in info.value.fields
    assert [u.username for u in committee.active_committee()] == sorted(
        ["committee", "member2"], key=lambda n: {"committee": "مستخدم committee", "member2": "عضو ثان"}[n])


def test_a_big_amount_needs_the_chair_and_one_more(wf, app):
    chair, second, third = committee_trio()
    limit = committee.chair_amount()
    assert limit == 5000
    case = wf.case("awaiting_committee")
    session = session_for(wf)
    # two members approve, the chair does not: quorum reached, but not for a big amount
    committee.cast_vote(session, case, member=second, vote="approve")
    committee.cast_vote(session, case, member=third, vote="approve")
    with pytest.raises(WorkflowError) as info:
        committee.decide(session, case, decision="approve", actor=chair, amount="50000")
    assert "amount" in info.value.fields and "5,000" in str(info.value.message)
    # the chair approves alone among the others rejecting: still refused
    committee.cast_vote(session, case, member=chair, vote="approve")
    committee.cast_vote(session, case, member=second, vote="reject")
    committee.cast_vote(session, case, member=third, vote="abstain")
    with pytest.raises(WorkflowError):
        committee.decide(session, case, decision="approve", actor=chair, amount="٥٠٠٠٠")
    assert Case.get_by_id(case.id).status == "awaiting_committee"
    # at the limit itself the rule does not apply
    small = wf.case("awaiting_committee")
    committee.refresh_agenda(session)
    committee.cast_vote(session, small, member=chair, vote="approve")
    committee.cast_vote(session, small, member=second, vote="reject")
    assert committee.decide(session, small, decision="approve", actor=chair, amount="5000").case.status == "approved"
    # the chair and one more approve: the big amount is approved
    committee.cast_vote(session, case, member=third, vote="approve")
    outcome = committee.decide(session, case, decision="approve", actor=chair, amount="50000")
    assert outcome.case.status == "approved" and outcome.case.amount == 50000


def test_the_big_amount_is_a_setting(wf, app):
    app.config["COMMITTEE_CHAIR_AMOUNT"] = 1000
    chair, second, third = committee_trio()
    case = wf.case("awaiting_committee")
    session = session_for(wf)
    committee.cast_vote(session, case, member=second, vote="approve")
    committee.cast_vote(session, case, member=third, vote="approve")
    with pytest.raises(WorkflowError):
        committee.decide(session, case, decision="approve", actor=chair, amount="1500")
    # a quantity without an amount is not held to the amount rule
    assert committee.decide(session, case, decision="approve", actor=chair, quantity="2").case.status == "approved"


def test_a_session_that_breaks_the_rules_cannot_decide(wf, client, auth):
    """A session opened before the rules (two members, quorum 1) keeps its agenda and votes but records
    no decision; closing it and opening a new session puts the request on the new agenda."""
    from portal.db import database
    from portal.workflow.models import SessionMember

    chair = wf.user("committee")
    case = wf.case("awaiting_committee")
    old = CommitteeSession.create(held_on=dt.date.today(), chair=chair, quorum=1)
    SessionMember.create(session=old, user=chair)
    SessionMember.create(session=old, user=committee_trio()[1])
    committee.refresh_agenda(old)
    committee.cast_vote(old, case, member=chair, vote="approve")
    assert len(committee.session_problems(old)) == 2
    with pytest.raises(WorkflowError) as info:
        committee.decide(old, case, decision="approve", actor=chair, amount="50000")
    assert "3" in str(info.value.message)
    assert Case.get_by_id(case.id).status == "awaiting_committee"
    database.close()
    auth.login("committee")
    page = client.get(f"/committee/sessions/{old.id}?lang=en").get_data(as_text=True)
    assert "does not meet the committee&#39;s rules" in page or "does not meet the committee's rules" in page
    response = client.post(f"/committee/sessions/{old.id}/cases/{case.reference}/decide?lang=en",
                           data={"decision": "approve", "amount": "50000", "version": str(case.version)})
    assert response.status_code == 422 and "50000" in response.get_data(as_text=True)  # what was typed stays
    assert client.post(f"/committee/sessions/{old.id}/close").status_code == 302
    database.connect(reuse_if_open=True)
    assert Case.get_by_id(case.id).status == "awaiting_committee"
    new = open_trio_session()
    assert [r.case.id for r in committee.agenda(new)] == [case.id]
    assert committee.session_problems(new) == []


def test_a_member_leaving_the_committee_stops_decisions(wf):
    chair, second, third = committee_trio()
    case = wf.case("awaiting_committee")
    session = session_for(wf)
    committee.cast_vote(session, case, member=chair, vote="reject")
    committee.cast_vote(session, case, member=second, vote="reject")
    third.roles = "officer"
    third.save()
    with pytest.raises(WorkflowError):
        committee.decide(session, case, decision="reject", actor=chair, reasons="دخل كاف")
    third.roles = "committee"
    third.save()
    assert committee.decide(session, case, decision="reject", actor=chair, reasons="دخل كاف").case.status == "rejected"


def test_the_session_form_keeps_input_and_explains(wf, client, auth):
    from portal.db import database

    chair = wf.user("committee")
    database.close()
    auth.login("committee")
    response = client.post("/committee/sessions?lang=en", data={
        "held_on": dt.date.today().isoformat(), "quorum": "1", "chair": str(chair.id), "members": [str(chair.id)],
        "title": "جلسة طارئة"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "at least 3 members" in body and "جلسة طارئة" in body
    response = client.post("/committee/sessions", data={
        "held_on": dt.date.today().isoformat(), "quorum": "1", "chair": str(chair.id), "members": [str(chair.id)]})
    assert response.status_code == 422 and "3" in response.get_data(as_text=True)
    database.connect(reuse_if_open=True)
    assert CommitteeSession.select().count() == 0
    ids = [str(u.id) for u in committee_trio()]
    database.close()
    response = client.post("/committee/sessions", data={
        "held_on": dt.date.today().isoformat(), "quorum": "", "chair": ids[0], "members": ids})
    assert response.status_code == 302
    database.connect(reuse_if_open=True)
    assert CommitteeSession.get().quorum == 2
