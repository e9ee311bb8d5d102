"""Opportunities, suggestions, assignments (the message, the volunteer's confirmation, reminders, attendance),
hours (once per assignment, approved by staff), certificates and the beneficiary served on the timeline."""
import datetime as dt
from contextlib import contextmanager
from decimal import Decimal

import pytest
from playhouse.test_utils import count_queries

from portal import hookimpl
from conftest import registered
from volunteering_helpers import rows, text_of


@contextmanager
def outbox(app):
    """Capture what the plugin sends through ``send_message`` (as if an SMS gateway accepted it)."""
    sent = []

    class Gateway:
        @hookimpl
        def send_message(self, beneficiary, text, purpose, channel, context):
            if channel != "sms":
                return None
            sent.append({"to": context.get("to"), "text": text, "purpose": purpose})
            return {"channel": "sms", "id": f"t-{len(sent)}"}

    with registered(app, Gateway(), "test-gateway"):
        yield sent


def test_opportunity_form_and_bad_input(app, client, auth):
    from plugins.volunteering.models import Opportunity
    from portal.dates import saudi_today

    auth.login("officer")
    day = (saudi_today() + dt.timedelta(days=3)).isoformat()
    bad = client.post("/volunteering/opportunities/new", data={
        "title": "توزيع إفطار صائم", "kind": "ramadan", "place": "جامع الحي", "day": "2001-01-01",
        "time_from": "17:00", "time_to": "16:00", "places": "0", "skills": ["distribution"]})
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert 'value="توزيع إفطار صائم"' in page and 'value="distribution" checked' in page
    assert "مضى هذا اليوم" in text_of(bad) and "يجب أن تكون النهاية بعد البداية" in text_of(bad)
    assert rows(app, Opportunity) == []
    ok = client.post("/volunteering/opportunities/new", data={
        "title": "توزيع إفطار صائم", "kind": "ramadan", "place": "جامع الحي", "day": day,
        "time_from": "17:00", "time_to": "19:30", "places": "4", "skills": ["distribution"]})
    assert ok.status_code == 302
    [opp] = rows(app, Opportunity)
    assert opp.places == 4 and opp.skills == ["distribution"] and opp.ends_at - opp.starts_at == dt.timedelta(hours=2.5)


def test_suggestions_match_skills_and_availability_in_one_query(app, in_db, make_volunteer, make_opportunity):
    from plugins.volunteering import service as svc
    from plugins.volunteering.models import Opportunity
    from portal.dates import saudi_today

    opp_id = make_opportunity(days=2, hour=16, skills=("delivery", "driving"))
    weekday = (saudi_today() + dt.timedelta(days=2)).weekday()
    both = make_volunteer(name="كلتا المهارتين", mobile="0551000001", skills=("delivery", "driving"))
    one = make_volunteer(name="مهارة واحدة", mobile="0551000002", skills=("driving",))
    make_volunteer(name="بلا مهارة مطلوبة", mobile="0551000003", skills=("teaching",))
    make_volunteer(name="يوم آخر", mobile="0551000004", weekdays=[(weekday + 1) % 7])
    make_volunteer(name="صباحًا فقط", mobile="0551000005", time_to="12:00")
    make_volunteer(name="قيد التدقيق", mobile="0551000006", state="pending")
    with in_db():
        opp = Opportunity.get_by_id(opp_id)
        with count_queries() as counter:
            found = svc.suggestions(opp)
        assert [v.id for v in found] == [both, one]
        assert counter.count == 1


def test_assignment_message_confirmation_reminder_and_attendance(app, client, auth, in_db, make_volunteer,
                                                                 make_opportunity):
    from plugins.volunteering import service as svc
    from plugins.volunteering.models import Assignment

    opp = make_opportunity(days=1)
    vol = make_volunteer()
    auth.login("officer")
    assert "سعد المتطوع" in text_of(client.get(f"/volunteering/opportunities/{opp}"))
    with outbox(app) as sent:
        r = client.post(f"/volunteering/opportunities/{opp}/assign", data={"volunteer": str(vol)})
        assert r.status_code == 302
        [assignment] = rows(app, Assignment)
        assert assignment.state == "assigned" and assignment.message_state == "sent"
        assert sent[0]["to"] == "+966551234567" and sent[0]["purpose"] == "volunteer_assignment"
        assert f"/site/volunteering/{assignment.token}" in sent[0]["text"] and "توصيل السلال الغذائية" in sent[0]["text"]
        # the same volunteer twice: refused, nothing written
        again = client.post(f"/volunteering/opportunities/{opp}/assign", data={"volunteer": str(vol)})
        assert again.status_code == 422 and "مكلَّف بهذه الفرصة من قبل" in text_of(again)
        assert len(rows(app, Assignment)) == 1
        # the volunteer confirms on their own page (no account)
        client.get("/logout")
        page = client.get(f"/site/volunteering/{assignment.token}")
        assert page.status_code == 200 and "سأحضر" in text_of(page)
        client.post(f"/site/volunteering/{assignment.token}/answer", data={"answer": "confirm"})
        assert rows(app, Assignment)[0].state == "confirmed"
        assert client.get("/site/volunteering/not-a-token").status_code == 404
        # the reminder the day before, once
        with in_db():
            first = svc.send_reminders()
            second = svc.send_reminders()
        assert first["sent"] == 1 and second == {"sent": 0, "queued": 0, "not_sent": 0}
        assert sent[-1]["purpose"] == "volunteer_reminder" and "تذكير" in sent[-1]["text"]
    # attendance only once the opportunity has started
    auth.login("officer")
    client.post(f"/volunteering/assignments/{assignment.id}/state", data={"action": "attended"})
    assert rows(app, Assignment)[0].state == "confirmed"


def test_assignment_outside_availability_needs_confirmation(app, client, auth, make_volunteer, make_opportunity):
    from plugins.volunteering.models import Assignment

    opp = make_opportunity(days=2, hour=16)
    vol = make_volunteer(name="صباحي", time_to="12:00")
    auth.login("officer")
    r = client.post(f"/volunteering/opportunities/{opp}/assign", data={"volunteer": str(vol)})
    assert r.status_code == 422
    text = text_of(r)
    assert "غير متاح في هذا الوقت" in text and "كلّفه رغم ذلك" in text
    assert rows(app, Assignment) == []
    r = client.post(f"/volunteering/opportunities/{opp}/assign", data={"volunteer": str(vol), "confirm_outside": "1"})
    assert r.status_code == 302
    [row] = rows(app, Assignment)
    assert row.outside_availability and row.message_state == "not_sent"  # no channel enabled in this test


def test_places_and_vetting_limit_assignments(app, client, auth, make_volunteer, make_opportunity):
    from plugins.volunteering.models import Assignment

    opp = make_opportunity(places=1)
    first = make_volunteer(mobile="0552000001")
    second = make_volunteer(mobile="0552000002")
    pending = make_volunteer(mobile="0552000003", state="pending")
    auth.login("officer")
    r = client.post(f"/volunteering/opportunities/{opp}/assign", data={"volunteer": str(pending)})
    assert r.status_code == 422 and "لا يُكلَّف إلا متطوع معتمد" in text_of(r)
    client.post(f"/volunteering/opportunities/{opp}/assign", data={"volunteer": str(first)})
    r = client.post(f"/volunteering/opportunities/{opp}/assign", data={"volunteer": str(second)})
    assert r.status_code == 422 and "اكتمل عدد المتطوعين" in text_of(r)
    assert len(rows(app, Assignment)) == 1


def test_hours_once_per_assignment_approved_then_certificate(app, client, auth, make_volunteer, make_opportunity,
                                                            make_assignment):
    from plugins.volunteering.models import Assignment, Certificate, HoursLog

    opp = make_opportunity(days=-3)
    vol = make_volunteer()
    assign_id, token = make_assignment(opp, vol, "confirmed")
    # the volunteer logs the hours on their page; a second time is refused with a clear message
    r = client.post(f"/site/volunteering/{token}/hours", data={"hours": "abc", "note": "وزعت السلال"})
    assert r.status_code == 422 and "اكتب عدد الساعات رقمًا" in text_of(r) and "وزعت السلال" in r.get_data(as_text=True)
    assert client.post(f"/site/volunteering/{token}/hours", data={"hours": "٣٫٥"}).status_code == 302
    twice = client.post(f"/site/volunteering/{token}/hours", data={"hours": "4"})
    assert twice.status_code == 422 and "لا تُسجَّل مرتين" in text_of(twice)
    [hours] = rows(app, HoursLog)
    assert hours.hours == Decimal("3.5") and hours.state == "pending" and hours.logged_by_id is None
    # staff logging the same assignment's hours is refused too
    auth.login("officer")
    r = client.post(f"/volunteering/assignments/{assign_id}/hours", data={"hours": "2"})
    assert r.status_code == 422 and "لا تُسجَّل مرتين" in text_of(r)
    # a certificate for hours that are not approved is refused
    r = client.post(f"/volunteering/volunteers/{vol}/certificate", data={"hours": [str(hours.id)]})
    assert r.status_code == 422 and "لا تُعطى الشهادة إلا عن ساعات معتمدة" in text_of(r)
    r = client.post(f"/volunteering/volunteers/{vol}/certificate", data={})
    assert r.status_code == 422 and "الساعات التي تنتظر الاعتماد لا تُحتسب" in text_of(r)
    assert rows(app, Certificate) == []
    # approved, the hours give a numbered certificate
    assert "3.5" in text_of(client.get("/volunteering/hours"))
    client.post(f"/volunteering/hours/{hours.id}/decide", data={"decision": "approve"})
    assert rows(app, HoursLog)[0].state == "approved" and rows(app, Assignment)[0].state == "attended"
    r = client.post(f"/volunteering/volunteers/{vol}/certificate", data={"hours": [str(hours.id)]})
    assert r.status_code == 302
    [cert] = rows(app, Certificate)
    assert cert.hours == Decimal("3.5") and rows(app, HoursLog)[0].certificate_id == cert.id
    pdf = client.get(f"/volunteering/certificates/{cert.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    # the same hours cannot be certified twice
    r = client.post(f"/volunteering/volunteers/{vol}/certificate", data={"hours": [str(hours.id)]})
    assert r.status_code == 422 and len(rows(app, Certificate)) == 1
    # the volunteer downloads it from their page
    client.get("/logout")
    page = client.get(f"/site/volunteering/{token}")
    assert cert.number in text_of(page)
    public_pdf = client.get(f"/site/volunteering/{token}/certificates/{cert.id}.pdf")
    assert public_pdf.status_code == 200 and public_pdf.data.startswith(b"%PDF")


def test_fallback_certificate_is_numbered_and_printable(app, client, approved_hours):
    from plugins.volunteering.models import Certificate

    if app.extensions["portal_pm"].has_plugin("letters"):
        pytest.skip("the letters plugin numbers the certificate (test_certificate_is_a_numbered_letter)")
    vol, _token = approved_hours("2")
    client.post(f"/volunteering/volunteers/{vol}/certificate")
    [cert] = rows(app, Certificate)
    assert cert.number.startswith("ت-") and not cert.by_letters
    page = client.get(f"/volunteering/certificates/{cert.id}")
    assert page.status_code == 200 and "شهادة تطوع" in text_of(page) and "سعد المتطوع" in text_of(page)


def test_service_to_a_beneficiary_reaches_their_timeline(app, client, auth, make_beneficiary, make_volunteer,
                                                         make_opportunity, make_assignment):
    from plugins.volunteering.models import Service
    from portal.models import TimelineEntry

    ben = make_beneficiary()
    opp = make_opportunity(days=-1)
    vol = make_volunteer()
    assign_id, _token = make_assignment(opp, vol, "confirmed")
    auth.login("officer")
    bad = client.post(f"/volunteering/assignments/{assign_id}/service", data={"file": "999999", "note": "سلة"})
    assert bad.status_code == 422 and "سلة" in bad.get_data(as_text=True)
    assert rows(app, Service) == []
    with app.app_context():
        from portal.db import database
        from portal.models import Beneficiary

        with database.connection_context():
            number = Beneficiary.get_by_id(ben).file_number
    r = client.post(f"/volunteering/assignments/{assign_id}/service", data={"file": number, "note": "سُلّمت السلة"})
    assert r.status_code == 302
    [service] = rows(app, Service)
    entry = rows(app, TimelineEntry, TimelineEntry.id == service.entry_id)[0]
    assert entry.channel == "volunteering" and entry.beneficiary_id == ben
    assert entry.data["kind"] == "volunteer_service" and entry.data["volunteer"] == "سعد المتطوع"
    timeline = text_of(client.get(f"/beneficiaries/{ben}"))
    assert "سعد المتطوع" in timeline and "سُلّمت السلة" in timeline


def test_service_is_linked_to_the_requests_delivery(app, client, auth, make_beneficiary, make_volunteer,
                                                     make_opportunity, make_assignment):
    from plugins.volunteering.models import Service
    from portal.db import database
    from portal.models import Beneficiary, Case, TimelineEntry
    from portal.workflow.models import Delivery

    ben = make_beneficiary()
    with app.app_context(), database.connection_context():
        case = Case.create(reference="1448-000077", beneficiary=Beneficiary.get_by_id(ben),
                           request_type="food_basket", status="served", submitted_at=dt.datetime(2026, 11, 10, 9))
        delivery = Delivery.create(case=case, what="سلة غذائية", quantity=1, delivered_on=dt.date.today())
        ref = case.reference
    opp = make_opportunity(days=-1)
    vol = make_volunteer()
    assign_id, _token = make_assignment(opp, vol, "attended")
    auth.login("officer")
    with app.app_context(), database.connection_context():
        from portal.models import Beneficiary

        number = Beneficiary.get_by_id(ben).file_number
    bad = client.post(f"/volunteering/assignments/{assign_id}/service", data={"file": number, "case": "0000-1"})
    assert bad.status_code == 422
    client.post(f"/volunteering/assignments/{assign_id}/service", data={"file": number, "case": ref})
    [service] = rows(app, Service)
    assert service.case_id == case.id and service.delivery_id == delivery.id
    entry = rows(app, TimelineEntry, TimelineEntry.id == service.entry_id)[0]
    assert entry.case_id == case.id and entry.data["delivery"] == delivery.id


def test_roles(app, client, auth, make_volunteer, make_opportunity):
    from plugins.volunteering.models import Assignment

    opp = make_opportunity()
    vol = make_volunteer()
    auth.login("manager")
    assert client.get(f"/volunteering/opportunities/{opp}").status_code == 200
    assert client.post(f"/volunteering/opportunities/{opp}/assign", data={"volunteer": str(vol)}).status_code == 403
    auth.logout()
    auth.login("delegate")
    assert client.get("/volunteering/opportunities").status_code == 403
    assert client.post(f"/volunteering/opportunities/{opp}/assign", data={"volunteer": str(vol)}).status_code == 403
    assert rows(app, Assignment) == []


def test_csrf_is_required(app_config, make_volunteer, make_opportunity, make_assignment, app):
    """With CSRF protection on (as in production), a form posted without its token changes nothing, on the
    staff pages and on the volunteer's own page."""
    from plugins.volunteering.models import Assignment
    from portal import create_app
    from portal.db import database

    opp = make_opportunity()
    vol = make_volunteer()
    _assign_id, token = make_assignment(opp, vol, "assigned")
    protected = create_app(dict(app_config, WTF_CSRF_ENABLED=True))
    client = protected.test_client()
    r = client.post(f"/site/volunteering/{token}/answer", data={"answer": "confirm"})
    assert r.status_code == 400
    with protected.app_context(), database.connection_context():
        assert Assignment.select().where(Assignment.state == "confirmed").count() == 0


def test_cancelled_opportunity_tells_the_volunteers_and_takes_no_more(app, client, auth, make_volunteer,
                                                                       make_opportunity, make_assignment):
    from plugins.volunteering.models import Assignment, Opportunity

    opp = make_opportunity(days=3)
    vol = make_volunteer()
    other = make_volunteer(mobile="0553000001")
    make_assignment(opp, vol, "confirmed")
    auth.login("officer")
    with outbox(app) as sent:
        client.post(f"/volunteering/opportunities/{opp}/cancel")
    assert rows(app, Opportunity)[0].cancelled_at is not None
    assert rows(app, Assignment)[0].state == "cancelled"
    assert sent and sent[0]["purpose"] == "volunteer_cancelled" and "أُلغيت" in sent[0]["text"]
    r = client.post(f"/volunteering/opportunities/{opp}/assign", data={"volunteer": str(other)})
    assert r.status_code == 422 and "أُلغيت هذه الفرصة" in text_of(r)


def test_list_pages_do_not_query_per_row(app, client, auth, make_volunteer, make_opportunity, make_assignment):
    def queries(url):
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    auth.login("officer")
    opp = make_opportunity()
    for i in range(2):
        make_assignment(opp, make_volunteer(mobile=f"055400000{i}", skills=("delivery", "driving")), "assigned")
    before = {url: queries(url) for url in ("/volunteering/volunteers", f"/volunteering/opportunities/{opp}",
                                            "/volunteering/opportunities")}
    for i in range(2, 7):
        make_assignment(opp, make_volunteer(mobile=f"055400000{i}", skills=("delivery", "driving")), "assigned")
    make_opportunity(days=4)
    after = {url: queries(url) for url in before}
    assert after == before


def test_dashboard_shows_the_week_and_the_hours_waiting(app, client, auth, make_volunteer, make_opportunity,
                                                        make_assignment):
    opp = make_opportunity(days=2, title="زيارة كبار السن")
    past = make_opportunity(days=-1)
    vol = make_volunteer()
    make_assignment(opp, vol, "confirmed")
    assign_id, _token = make_assignment(past, vol, "attended")
    auth.login("officer")
    client.post(f"/volunteering/assignments/{assign_id}/hours", data={"hours": "2"})
    dash = text_of(client.get("/"))
    assert "التطوع هذا الأسبوع" in dash and "زيارة كبار السن" in dash and "1/3" in dash
    assert "ساعات بانتظار الاعتماد: 1" in dash
    auth.logout()
    auth.login("researcher")
    assert "التطوع هذا الأسبوع" not in text_of(client.get("/"))


def test_certificate_hours_are_written_plainly(app, in_db, make_volunteer):
    from plugins.volunteering import service as svc
    from plugins.volunteering.models import Certificate

    vol = make_volunteer()
    with in_db():
        for hours, text in (("30", "30"), ("12.50", "12.5"), ("0.25", "0.25")):
            cert = Certificate.create(volunteer=vol, number=f"n-{text}", hours=Decimal(hours),
                                      first_day=dt.date(2026, 11, 1), last_day=dt.date(2026, 11, 2))
            assert svc.document_request(Certificate.get_by_id(cert.id))[1]["total"] == text


def test_the_managers_report_counts_approved_hours_by_kind_and_branch(app, client, auth, in_db, users,
                                                                     make_volunteer, make_opportunity,
                                                                     make_assignment):
    """The ``report_sections`` answer: approved hours only, by kind of task, the volunteers who gave them; a
    branch's report counts that branch's opportunities only."""
    from decimal import Decimal

    from plugins.volunteering.models import HoursLog, Opportunity
    from plugins.volunteering.reports import report_sections
    from portal.dates import saudi_today
    from portal.models import Branch

    today = saudi_today()
    first, second = make_volunteer(), make_volunteer(name="نوف", mobile="0557654321")
    delivery, visit, other_branch = (make_opportunity(days=-2), make_opportunity(days=-1, kind="home_visit"),
                                     make_opportunity(days=-1))
    with in_db():
        branch = Branch.select().order_by(Branch.id).first()
        there = Branch.create(code="TAIF-R", name_ar="فرع الطائف", name_en="Taif branch")
        Opportunity.update(branch=branch).where(Opportunity.id.in_([delivery, visit])).execute()
        Opportunity.update(branch=there).where(Opportunity.id == other_branch).execute()
    logs = [(delivery, first, "3.5", "approved"), (delivery, second, "2", "approved"),
            (visit, first, "1.25", "approved"), (visit, second, "9", "pending"), (other_branch, first, "4", "approved")]
    assignments = [make_assignment(opp, vol, "attended")[0] for opp, vol, _hours, _state in logs]
    with in_db():
        for assign_id, (_opp, vol, hours, state) in zip(assignments, logs):
            HoursLog.create(assignment=assign_id, volunteer=vol, hours=Decimal(hours), day=today, state=state)
        [everywhere] = report_sections(today, today, None)
        [mine] = report_sections(today, today, branch.id)
        [before] = report_sections(today.replace(day=1) - dt.timedelta(days=40), today - dt.timedelta(days=1), None)
    figures = {f.key: f.value for f in everywhere.figures}
    assert figures["volunteer_hours"] == 10.75 and figures["volunteers"] == 2
    assert {label: values for label, values in everywhere.tables[0].rows} == {"توصيل السلال": [9.5, 2],
                                                                             "الزيارة المنزلية": [1.25, 1]}
    assert {f.key: f.value for f in mine.figures}["volunteer_hours"] == 6.75
    assert {f.key: f.value for f in before.figures}["volunteer_hours"] == 0 and before.tables[0].rows == []
    auth.login("manager")
    page = client.get(f"/reports/?calendar=gregorian&from={today.isoformat()}&to={today.isoformat()}")
    assert page.status_code == 200 and "ساعات التطوع المعتمدة" in page.get_data(as_text=True)
