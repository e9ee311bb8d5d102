"""One request walked through every step against the fake SMS gateway: exactly one text per status change
(the core's notices routed to SMS), none twice on a double submission or a replayed hook; a notice at 23:30
waits for the morning."""
from __future__ import annotations

import datetime as dt
import json

from portal.db import database

FSI, PDI = "\u2068", "\u2069"


def _walk(app, users, ben_id, steps):
    from committee_helpers import committee_trio, open_trio_session

    from portal.models import Beneficiary, Document, User
    from portal.workflow import committee, intake, machine, research, service
    from portal.workflow.defaults import ensure_default_request_types

    officer, researcher = User.get_by_id(users["officer"]), User.get_by_id(users["researcher"])
    ensure_default_request_types()
    ben = Beneficiary.get_by_id(ben_id)
    today = dt.date.today()
    Document.create(beneficiary=ben, kind="national_id", number="1", expiry_date=today + dt.timedelta(days=400))
    Document.create(beneficiary=ben, kind="family_card", number="2")
    answers = {str(q.id): {"yes_no": "no", "number": "4", "text": "نص"}[q.answer_kind]
               for q in intake.questions(intake.get_request_type("food_basket"))}
    case = intake.open_request(ben, "food_basket", channel="sms", actor=officer, summary="طلب", answers=answers)
    seen = []
    case = intake.mark_incomplete(case, actor=officer, note="صورة الهوية غير واضحة").case
    seen.append(case.status)
    case = intake.submit(case, actor=officer).case
    again = intake.submit(case, actor=officer, expected_version=case.version - 1)  # a double submission
    assert again.changed is False
    seen.append(case.status)
    intake.record_declaration(case, method="read_out", channel="sms", witness=officer, actor=officer)
    case = research.refer(case, researcher=researcher, reason="دراسة", actor=officer).case
    seen.append(case.status)
    research.record_report(case, actor=researcher, data={
        "visit_date": today.isoformat(), "household_situation": "أسرة", "monthly_income": "1500",
        "housing": "شقة", "needs": "سلة", "recommendation": "approve"})
    case = research.send_to_committee(case, actor=researcher).case
    seen.append(case.status)
    session = open_trio_session()
    for member in committee_trio()[:2]:
        committee.cast_vote(session, case, member=member, vote="approve")
    case = committee.decide(session, case, decision="approve", actor=committee_trio()[0], amount="750").case
    seen.append(case.status)
    case = service.register(case, actor=officer, starts_on=today).case
    seen.append(case.status)
    case = service.record_delivery(case, actor=officer, what="سلة", quantity=1, delivered_on=today).case
    seen.append(case.status)
    case = machine.transition(case, "close", actor=officer).case
    seen.append(case.status)
    return case, seen


def test_one_request_through_every_step_sends_one_text_per_status_change(app, users, ben, gateway):
    from portal.models import TimelineEntry
    from portal.workflow import notices

    with app.test_request_context(), database.connection_context():
        case, seen = _walk(app, users, ben, None)
        assert seen == ["incomplete", "submitted", "in_research", "awaiting_committee", "approved", "registered",
                        "served", "closed"]
        texts = [json.loads(r["body"])["text"] for r in gateway.requests]
        assert len(texts) == len(seen)  # exactly one text per status change
        ref = f"{FSI}{case.reference}{PDI}"
        assert all(ref in t for t in texts)
        assert "صورة الهوية غير واضحة" in texts[0] and f"{FSI}750{PDI} ريال" in texts[4]
        # a replayed hook sends nothing more
        notices.on_status_changed(case, "served", "closed", None)
        assert len(gateway.requests) == len(seen)
        entries = [e for e in TimelineEntry.select().where((TimelineEntry.case == case.id)
                                                           & (TimelineEntry.direction == "out"))
                   if (e.data or {}).get("kind") == "notification"]
        assert len(entries) == len(seen) and {e.channel for e in entries} == {"sms"}


def test_a_notice_at_23_30_waits_for_the_morning(app, ben, gateway):
    from plugins.sms.models import SmsMessage
    from portal.models import Beneficiary
    from portal.workflow import notices
    from portal.workflow.models import Notice

    app.config["QUIET_HOURS"] = "22:00-08:00"
    at_2330 = dt.datetime(2026, 12, 9, 20, 30)
    with app.test_request_context(), database.connection_context():
        notice = notices.deliver(Beneficiary.get_by_id(ben), "رسالة", "research_referral", key="night", now=at_2330)
        assert notice.state == "waiting" and gateway.requests == []
        assert notices.send_due(now=dt.datetime(2026, 12, 10, 4, 59)) == 0  # 07:59: still quiet
        assert SmsMessage.select().count() == 0
        assert notices.send_due(now=dt.datetime(2026, 12, 10, 5, 0)) == 1  # 08:00: handed to the SMS channel
        assert SmsMessage.select().count() == 1
        assert Notice.get_by_id(notice.id).state in ("sent", "queued")
