"""The register's service: open_complaint's deadline in working days, the follow-up task, idempotency, bad input."""
import datetime as dt

import pytest

from portal import complaints
from portal.complaints import ComplaintError, Complaint, open_complaint
from portal.dates import add_working_days, working_days_between
from portal.models import AuditEvent, Beneficiary, TimelineEntry
from portal.workflow.models import OutreachTask

THURSDAY = dt.date(2026, 12, 3)


def test_working_days_skip_friday_and_saturday():
    assert THURSDAY.weekday() == 3
    assert add_working_days(THURSDAY, 2) == dt.date(2026, 12, 7)  # Sunday, Monday
    assert add_working_days(THURSDAY, 1) == dt.date(2026, 12, 6)  # Sunday
    assert add_working_days(dt.date(2026, 12, 4), 1) == dt.date(2026, 12, 6)  # Friday + 1 = Sunday
    assert add_working_days(dt.date(2026, 12, 5), 0) == dt.date(2026, 12, 6)  # Saturday: next working day
    assert add_working_days(dt.date(2026, 11, 29), 4) == THURSDAY  # Sunday + 4 = Thursday
    assert add_working_days(dt.date(2026, 11, 29), 5) == dt.date(2026, 12, 6)  # a week later
    assert add_working_days(THURSDAY, 6) == dt.date(2026, 12, 13)
    assert working_days_between(THURSDAY, dt.date(2026, 12, 7)) == 2
    with pytest.raises(ValueError):
        add_working_days(THURSDAY, -1)


def test_deadline_across_a_weekend(app, db, monkeypatch):
    app.config["COMPLAINT_RESPONSE_DAYS"] = {"complaint": 2, "suggestion": 10, "praise": 10, "inquiry": 3}
    monkeypatch.setattr(complaints, "saudi_today", lambda: THURSDAY)
    with app.test_request_context():
        c = open_complaint(kind="complaint", channel="phone", text="لم يرد أحد على اتصالاتي")
    assert c.deadline == dt.date(2026, 12, 7)  # Thursday + 2 working days = Monday


def test_open_complaint_records_everything_in_one_go(app, db, make_beneficiary, users):
    ben = Beneficiary.get_by_id(make_beneficiary())
    with app.test_request_context():
        c = open_complaint(kind="complaint", channel="phone", text="  تأخر صرف السلة  ", beneficiary=ben,
                           contact_requested=True, source="staff", user=users["officer"])
    c = Complaint.get_by_id(c.id)
    assert c.reference.startswith("C") and c.state == "open" and c.text == "تأخر صرف السلة"
    assert c.beneficiary_id == ben.id and c.contact_requested and c.created_by_id == users["officer"]
    task = OutreachTask.get_by_id(c.task_id)
    assert task.kind == "complaint" and task.beneficiary_id == ben.id and task.due == c.deadline
    assert c.reference in task.reason
    entry = TimelineEntry.get_by_id(c.entry_id)
    assert entry.beneficiary_id == ben.id and entry.data["complaint"] == c.id and entry.channel == "phone"
    assert AuditEvent.select().where((AuditEvent.object_type == "complaint")
                                     & (AuditEvent.object_id == str(c.id))).count() == 1


def test_only_complaints_get_a_follow_up_task(app, db):
    with app.test_request_context():
        for kind in ("suggestion", "praise", "inquiry"):
            assert open_complaint(kind=kind, channel="phone", text="نص").task_id is None
    assert OutreachTask.select().count() == 0


def test_double_submission_opens_one(app, db):
    with app.test_request_context():
        first = open_complaint(kind="complaint", channel="phone", text="أ", source="survey", source_id=7)
        again = open_complaint(kind="complaint", channel="phone", text="أ", source="survey", source_id="7")
        other = open_complaint(kind="complaint", channel="phone", text="أ", source="survey", source_id=8)
    assert first.id == again.id != other.id
    assert Complaint.select().count() == 2 and OutreachTask.select().count() == 2


@pytest.mark.parametrize("kwargs, field", [
    ({"kind": "grievance"}, "kind"),
    ({"kind": ""}, "kind"),
    ({"channel": "carrier-pigeon"}, "channel"),
    ({"text": "   "}, "text"),
    ({"text": "\u202e\u200f"}, "text"),
    ({"text": "x" * 4001}, "text"),
])
def test_bad_input_writes_nothing(app, db, kwargs, field):
    args = {"kind": "complaint", "channel": "phone", "text": "نص", **kwargs}
    with app.test_request_context(), pytest.raises(ComplaintError) as exc:
        open_complaint(**args)
    assert exc.value.field == field and str(exc.value.message)
    assert Complaint.select().count() == 0 and OutreachTask.select().count() == 0
    assert TimelineEntry.select().count() == 0


def test_direction_overrides_are_removed_script_kept_as_text(app, db):
    with app.test_request_context():
        c = open_complaint(kind="suggestion", channel="phone", text="abc\u202edcba\u2066 <script>alert(1)</script>")
    assert "\u202e" not in c.text and "\u2066" not in c.text
    assert "<script>alert(1)</script>" in c.text  # stored as typed; every screen escapes it


def test_a_failure_midway_rolls_everything_back(app, db, monkeypatch):
    import portal.workflow.outreach as outreach

    def boom(**kwargs):
        raise RuntimeError("queue down")

    monkeypatch.setattr(outreach, "create_task", boom)
    with app.test_request_context(), pytest.raises(RuntimeError):
        open_complaint(kind="complaint", channel="phone", text="نص")
    assert Complaint.select().count() == 0 and TimelineEntry.select().count() == 0


def test_an_answered_complaint_or_question_offers_a_survey_but_a_suggestion_does_not(app, db, make_beneficiary,
                                                                                      users):
    from portal.complaints import open_complaint
    from portal.complaints.service import answer
    from portal.models import Beneficiary, User
    from portal.satisfaction.models import Survey

    officer = User.get_by_id(users["officer"])
    kinds = {}
    for kind in ("complaint", "inquiry", "suggestion"):
        ben = Beneficiary.get_by_id(make_beneficiary())
        entry = open_complaint(kind=kind, channel="phone", text="نص", beneficiary=ben, user=officer)
        answer(entry, "شكرًا لتواصلكم", officer)
        kinds[kind] = [(s.kind, s.source) for s in Survey.select().where(Survey.beneficiary == ben)]
    assert kinds["suggestion"] == []
    assert kinds["complaint"][0][0] == "complaint" and kinds["complaint"][0][1].startswith("complaint:")
    assert kinds["inquiry"][0][0] == "inquiry"
