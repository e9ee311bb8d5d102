"""Step 5: sessions, agenda, votes, quorum, decisions, the 14-day deadline across month ends."""
import datetime as dt

import pytest

from portal.db import utcnow
from portal.models import AuditEvent, Case
from portal.workflow import committee, intake, research
from portal.workflow.errors import TransitionNotAllowed, WorkflowError
from portal.workflow.models import Vote


def session_for(wf, quorum=1, members=("committee",)):
    users = [wf.user(m) for m in members]
    return committee.open_session(held_on=dt.date.today(), chair=users[0], quorum=quorum, members=users,
                                  actor=users[0])


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
    ({"quorum": 0}, "quorum"), ({"quorum": 5}, "quorum"), ({"quorum": "abc"}, "quorum"),
    ({"chair": "officer"}, "chair"), ({"members": ("committee", "researcher")}, "members"),
    ({"held_on": None}, "held_on"),
])
def test_session_bad_input(wf, kwargs, field):
    args = {"held_on": dt.date.today(), "chair": wf.user("committee"), "quorum": 1,
            "members": [wf.user("committee")]}
    for key, value in kwargs.items():
        if key == "chair":
            value = wf.user(value)
        if key == "members":
            value = [wf.user(m) for m in value]
        args[key] = value
    with pytest.raises(WorkflowError) as info:
        committee.open_session(**args)
    assert field in info.value.fields


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
    from portal.auth import hash_password
    from portal.models import User

    second = User.create(username="member2", full_name="عضو ثان", roles="committee", password_hash=hash_password("x"))
    case = wf.case("awaiting_committee")
    session = committee.open_session(held_on=dt.date.today(), chair=wf.user("committee"), quorum=2,
                                     members=[wf.user("committee"), second])
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
    intake.record_declaration(case, method="phone_read", channel="phone", witness=wf.user("officer"))
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
