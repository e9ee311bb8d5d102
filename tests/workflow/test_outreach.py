"""Proactive outreach: the daily job's selection, idempotency, the hook, the queue."""
import datetime as dt

import pytest
from hijridate import Hijri

from portal.db import utcnow
from portal.models import Case, TimelineEntry
from portal.workflow import outreach
from portal.workflow.errors import WorkflowError
from portal.dates import saudi_today
from portal.workflow.models import OutreachTask


def kinds():
    return sorted((t.kind, t.beneficiary_id) for t in OutreachTask.select())


def test_expiring_documents_within_thirty_days_only(wf):
    today = saudi_today()
    soon = wf.beneficiary()
    wf.document(soon, "national_id", today + dt.timedelta(days=7))
    later = wf.beneficiary()
    wf.document(later, "national_id", today + dt.timedelta(days=31))
    past = wf.beneficiary()
    wf.document(past, "national_id", today - dt.timedelta(days=1))
    renewed = wf.beneficiary()
    wf.document(renewed, "family_card", today + dt.timedelta(days=3))
    wf.document(renewed, "family_card", today + dt.timedelta(days=700))
    by_file = wf.beneficiary()
    by_file.id_expiry = today + dt.timedelta(days=30)
    by_file.save()
    counts = outreach.run_outreach()
    assert counts["document_expiring"] == 1 and counts["id_expiring"] == 1
    assert kinds() == sorted([("document_expiring", soon.id), ("id_expiring", by_file.id)])
    # running again the same day adds nothing; the next day the 31-day one enters the window
    assert sum(outreach.run_outreach().values()) == 0
    assert outreach.run_outreach(utcnow() + dt.timedelta(days=1)) == {
        "document_expiring": 1, "id_expiring": 0, "follow_up": 0, "unserved": 0, "seasonal": 0}
    assert ("document_expiring", later.id) in kinds()


def test_follow_ups_due_and_unserved_approved_requests(wf, app):
    from portal.timeline import log_entry

    ben = wf.beneficiary()
    due = log_entry(channel="phone", summary="سيعود بالأوراق", beneficiary=ben,
                    follow_up_due=saudi_today() - dt.timedelta(days=1))
    log_entry(channel="phone", summary="لاحقاً", beneficiary=ben, follow_up_due=saudi_today() + dt.timedelta(days=5))
    approved = wf.case("approved")
    fresh_approval = wf.case("approved")
    Case.update(decided_at=utcnow() - dt.timedelta(days=app.config.get("OUTREACH_UNSERVED_DAYS", 14) + 1)).where(
        Case.id == approved.id).execute()
    wf.case("served")
    counts = outreach.run_outreach()
    assert counts["follow_up"] == 1 and counts["unserved"] == 1
    tasks = {t.kind: t for t in OutreachTask.select()}
    assert tasks["follow_up"].source == {"entry": due.id}
    assert tasks["unserved"].case_id == approved.id and fresh_approval.id != approved.id
    # logging the contact closes the task and the follow-up
    done = outreach.complete_task(tasks["follow_up"], actor=wf.user("officer"), channel="phone",
                                  summary="اتصلنا وأرسل الأوراق")
    assert done.status == "done" and done.entry.channel == "phone"
    assert TimelineEntry.get_by_id(due.id).follow_up_done is True
    with pytest.raises(WorkflowError):
        outreach.complete_task(tasks["follow_up"], actor=wf.user("officer"), channel="phone", summary="مرة ثانية")


def test_seasonal_programme_for_eligible_categories_before_the_season(wf):
    # Ramadan 1448 starts on 10 February 2027 (Umm al-Qura)
    g = Hijri(1448, 9, 1).to_gregorian()
    start = dt.date(g.year, g.month, g.day)
    widow = wf.beneficiary(category="widow")
    wf.beneficiary(category="unemployed")  # not an eligible category
    served = wf.beneficiary(category="orphan")
    before = dt.datetime.combine(start - dt.timedelta(days=20), dt.time(3))
    far = dt.datetime.combine(start - dt.timedelta(days=60), dt.time(3))
    assert outreach.run_outreach(far)["seasonal"] == 0
    # the orphan already has a Ramadan request
    from portal.workflow import intake

    Case.update(created_at=before).where(Case.id == intake.open_request(
        served, "ramadan_basket", channel="interview").id).execute()
    counts = outreach.run_outreach(before)
    assert counts["seasonal"] == 1
    task = OutreachTask.get(OutreachTask.kind == "seasonal")
    assert task.beneficiary_id == widow.id and "سلة رمضان" in task.reason
    assert outreach.run_outreach(before)["seasonal"] == 0


def test_plugins_ask_the_core_service_for_tasks(wf):
    """``create_task`` is the service plugins call (the phone plugin after a missed call): a repeated
    request creates nothing; a person not matched to a file yet is kept too."""
    ben = wf.beneficiary()
    source = {"channel": "phone", "entry": 7}
    task = outreach.create_task(beneficiary=ben, kind="call_back", reason="مكالمة فائتة", due=saudi_today(),
                                source=source)
    assert (task.kind, task.beneficiary_id, task.status, task.reason, task.source) == (
        "call_back", ben.id, "open", "مكالمة فائتة", source)
    again = outreach.create_task(beneficiary=ben, kind="call_back", reason="مكالمة فائتة", due=saudi_today(),
                                 source=source)
    assert again is None and OutreachTask.select().count() == 1
    unmatched = outreach.create_task(beneficiary=None, kind="call_back", reason="رقم غير معروف", due=saudi_today(),
                                     source={"channel": "phone", "entry": 8})
    assert unmatched.beneficiary_id is None and OutreachTask.select().count() == 2


def test_bad_completion_input(wf):
    ben = wf.beneficiary()
    task = outreach.create_task(beneficiary=ben, kind="other", reason="x", due=saudi_today())
    for kwargs, field in (({"channel": "nowhere"}, "channel"), ({"summary": ""}, "summary"),
                          ({"outcome": "lost"}, "outcome")):
        args = {"channel": "phone", "summary": "تم", "outcome": "done"}
        args.update(kwargs)
        with pytest.raises(WorkflowError) as info:
            outreach.complete_task(task, actor=wf.user("officer"), **args)
        assert field in info.value.fields
    assert OutreachTask.get_by_id(task.id).status == "open"
    dismissed = outreach.complete_task(task, actor=wf.user("officer"), channel="", summary="لا حاجة",
                                       outcome="dismissed")
    assert dismissed.status == "dismissed" and dismissed.entry is None


def test_the_daily_job_is_a_periodic_huey_task(wf):
    from portal.jobs import huey
    from portal.workflow import hooks

    def due_at(hour, minute):
        return [t.name for t in huey.read_periodic(dt.datetime(2026, 11, 28, hour, minute))]

    assert any(name.endswith("daily_workflow") for name in due_at(3, 15))
    assert not any(name.endswith("daily_workflow") for name in due_at(4, 15))
    ben = wf.beneficiary()
    wf.document(ben, "national_id", saudi_today() + dt.timedelta(days=5))
    hooks.daily_workflow()  # tests run huey tasks immediately (periodic tasks keep no result)
    assert kinds() == [("document_expiring", ben.id)]
