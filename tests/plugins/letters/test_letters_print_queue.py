"""The notices' last channel: a notice no other channel can deliver becomes a numbered letter in the print
queue; an officer prints it, posts it and marks it done."""
from __future__ import annotations

from portal.db import database


def _notify(app, ben_id, key="p1", purpose="research_referral"):
    from portal.models import Beneficiary
    from portal.workflow.notify import notify

    with app.test_request_context(), database.connection_context():
        return notify(Beneficiary.get_by_id(ben_id), "أحيل طلبك رقم 1448-000777 إلى البحث الاجتماعي.", purpose,
                      key=key)


def test_a_notice_no_other_channel_takes_goes_to_the_print_queue(app, client, auth, make_beneficiary):
    from plugins.letters.models import Letter, PrintJob
    from portal.models import TimelineEntry

    ben = make_beneficiary(consent_contact=True, city="الطائف", national_address="RAAA1234")
    result = _notify(app, ben)
    assert result["channel"] == "letters" and result["state"] == "queued"
    with app.app_context(), database.connection_context():
        job = PrintJob.get()
        letter = Letter.get_by_id(job.letter_id)
        assert letter.beneficiary_id == ben and "1448-000777" in (letter.fields or {}).get("body_text", "")
        entries = [e for e in TimelineEntry.select().where(TimelineEntry.direction == "out")
                   if (e.data or {}).get("kind") == "notification"]
        assert len(entries) == 1, [(e.channel, e.data) for e in TimelineEntry.select()]
        entry = entries[0]
        assert entry.channel == "letters" and entry.data["queued"] is True and entry.data["sent"] is False
    assert _notify(app, ben) is None  # the same notice again: no second letter
    auth.login("officer")
    page = client.get("/letters/print-queue").get_data(as_text=True)
    assert letter.number in page and "RAAA1234" in page
    assert client.post(f"/letters/print-queue/{job.id}/printed").status_code == 302
    assert letter.number not in client.get("/letters/print-queue").get_data(as_text=True)
    assert letter.number in client.get("/letters/print-queue?show=printed").get_data(as_text=True)
    assert client.post("/letters/print-queue/999999/printed").status_code == 404
    with app.app_context(), database.connection_context():
        first = PrintJob.get_by_id(job.id).printed_at
    client.post(f"/letters/print-queue/{job.id}/printed")
    with app.app_context(), database.connection_context():
        assert PrintJob.get_by_id(job.id).printed_at == first  # marked once


def test_no_address_no_letter(app, make_beneficiary):
    from plugins.letters.models import PrintJob

    ben = make_beneficiary(consent_contact=True)
    assert _notify(app, ben) is None
    with app.app_context(), database.connection_context():
        assert PrintJob.select().count() == 0


def test_a_decision_letter_already_issued_is_queued_not_issued_again(app, make_case):
    """The decision letter the letters plugin issues by itself is the one put in the print queue."""
    from plugins.letters import service
    from plugins.letters.models import Letter, PrintJob
    from portal.models import Beneficiary, Case

    case_id = make_case(status="approved")
    with app.test_request_context(), database.connection_context():
        case = Case.get_by_id(case_id)
        Beneficiary.update(city="الطائف").where(Beneficiary.id == case.beneficiary_id).execute()
        template = service.template_for_purpose("decision_approved")
        letter = service.issue_letter(template=template, case=case)
        before = Letter.select().count()
        job = service.queue_print(Beneficiary.get_by_id(case.beneficiary_id), "نص", "decision",
                                  case_reference=case.reference)
        assert job.letter_id == letter.id and Letter.select().count() == before
        again = service.queue_print(Beneficiary.get_by_id(case.beneficiary_id), "نص", "decision",
                                    case_reference=case.reference)
        assert again.letter_id != letter.id  # already queued once: a new notice letter
        assert PrintJob.select().count() == 2
