"""The interview record: on the timeline as channel ``interview``, the follow-up outreach task, the
referral to a social researcher, the printable summary, double submission, privacy."""
import datetime as dt

from conftest import text_of

from interview_helpers import rows


def _form(**extra):
    data = {"form_token": "tok-123456789", "purpose": "مراجعة طلب السلة الغذائية", "present": "الأم وابنها",
            "question": ["هل تغير الدخل؟", "هل لديكم عقد إيجار؟", ""], "answer": ["لا", "نعم، حتى نهاية العام", ""],
            "documents_seen": "الهوية، عقد الإيجار", "outcome": "شُرحت الخطوات وسُلّم الطلب"}
    data.update(extra)
    return data


def test_interview_reaches_the_timeline_with_follow_up_and_referral(app, client, auth, users, make_beneficiary):
    from plugins.interview.models import Interview
    from portal.dates import saudi_today
    from portal.models import TimelineEntry
    from portal.workflow.models import OutreachTask

    ben = make_beneficiary()
    due = saudi_today() + dt.timedelta(days=7)
    auth.login("officer")
    page = client.get(f"/beneficiaries/{ben}").get_data(as_text=True)
    assert f"/interview/beneficiaries/{ben}/new" in page and f"/interview/appointments/new?ben={ben}" in page
    form = client.get(f"/interview/beneficiaries/{ben}/new").get_data(as_text=True)
    assert 'name="form_token"' in form
    r = client.post(f"/interview/beneficiaries/{ben}/new",
                    data=_form(follow_up_due=due.isoformat(), referred_to=str(users["researcher"]),
                               referral_question="شرح شروط المساعدة الموسمية"))
    assert r.status_code == 302
    record = rows(app, Interview)[0]
    assert record.questions == [{"q": "هل تغير الدخل؟", "a": "لا"}, {"q": "هل لديكم عقد إيجار؟", "a": "نعم، حتى نهاية العام"}]
    entry = rows(app, TimelineEntry, TimelineEntry.id == record.entry_id)[0]
    assert entry.channel == "interview" and entry.follow_up_due == due and entry.beneficiary_id == ben
    task = rows(app, OutreachTask)[0]
    assert task.kind == "follow_up" and task.due == due and task.key == f"follow_up:entry:{entry.id}"
    assert record.follow_up_task == task.id
    timeline = text_of(client.get(f"/beneficiaries/{ben}"))
    assert "مراجعة طلب السلة الغذائية" in timeline and "هل لديكم عقد إيجار؟" in timeline
    assert "أُحيل إلى" in timeline
    # the daily outreach run does not make a second task for the same follow-up
    from portal.db import database
    from portal.workflow.outreach import run_outreach
    from portal.db import utcnow

    with app.test_request_context(), database.connection_context():
        run_outreach(utcnow() + dt.timedelta(days=8))
    assert len([t for t in rows(app, OutreachTask) if t.kind == "follow_up"]) == 1
    # the researcher sees the referral on the dashboard and marks it explained
    auth.logout()
    auth.login("researcher")
    dash = text_of(client.get("/"))
    assert "مستفيدون أُحيلوا إليك لشرح الأنظمة" in dash and "شرح شروط المساعدة الموسمية" in dash
    client.post(f"/interview/records/{record.id}/explained", data={"next": "/"})
    assert rows(app, Interview)[0].referral_done_at is not None
    assert "مستفيدون أُحيلوا إليك" not in text_of(client.get("/"))


def test_double_submission_gives_one_record(app, client, auth, make_beneficiary):
    from plugins.interview.models import Interview
    from portal.models import TimelineEntry

    ben = make_beneficiary()
    auth.login("officer")
    first = client.post(f"/interview/beneficiaries/{ben}/new", data=_form())
    second = client.post(f"/interview/beneficiaries/{ben}/new", data=_form(), follow_redirects=True)
    assert first.status_code == 302 and second.status_code == 200
    assert "هذه المقابلة مسجلة من قبل" in text_of(second)
    assert len(rows(app, Interview)) == 1
    assert len(rows(app, TimelineEntry, TimelineEntry.channel == "interview")) == 1


def test_bad_interview_form_keeps_the_text_and_writes_nothing(app, client, auth, users, make_beneficiary):
    from plugins.interview.models import Interview
    from portal.workflow.models import OutreachTask

    ben = make_beneficiary()
    auth.login("officer")
    r = client.post(f"/interview/beneficiaries/{ben}/new",
                    data=_form(outcome="", follow_up_due="2001-01-01", referred_to=str(users["committee"])))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "اكتب نتيجة المقابلة" in html and "لا يمكن أن يكون موعد المتابعة في الماضي" in html
    assert "اختر باحثاً اجتماعياً" in html
    assert "هل لديكم عقد إيجار؟" in html and "الأم وابنها" in html and 'value="tok-123456789"' in html
    assert rows(app, Interview) == [] and rows(app, OutreachTask) == []


def test_interview_from_the_desk_ends_the_visit_and_records_the_time(app, client, auth, make_beneficiary):
    from plugins.interview.models import Interview, Visit

    ben = make_beneficiary()
    auth.login("officer")
    client.post("/interview/desk/check-in", data={"beneficiary": str(ben), "reason": "استفسار"})
    visit = rows(app, Visit)[0]
    r = client.post(f"/interview/visits/{visit.id}/start")
    form = client.get(r.headers["Location"]).get_data(as_text=True)
    assert 'value="استفسار"' in form and f'name="visit" value="{visit.id}"' in form
    client.post(f"/interview/beneficiaries/{ben}/new?visit={visit.id}", data=_form(visit=str(visit.id)))
    visit = rows(app, Visit)[0]
    record = rows(app, Interview)[0]
    assert visit.status == "done" and visit.ended_at and record.visit_id == visit.id
    assert record.started_at == visit.started_at and record.ended_at >= record.started_at


def test_summary_pdf_for_signature(app, client, auth, make_beneficiary):
    from plugins.interview.models import Interview

    ben = make_beneficiary()
    auth.login("officer")
    client.post(f"/interview/beneficiaries/{ben}/new", data=_form())
    record = rows(app, Interview)[0]
    detail = client.get(f"/interview/records/{record.id}")
    assert detail.status_code == 200 and "ملخص للتوقيع" in text_of(detail)
    r = client.get(f"/interview/records/{record.id}/summary.pdf")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/pdf"
    assert r.data.startswith(b"%PDF")
    from pypdf import PdfReader
    import io

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages)
    assert "1448" in text or "1447" in text or "1449" in text  # the Hijri date


def test_roles_that_may_not_record_an_interview(app, client, auth, make_beneficiary):
    ben = make_beneficiary()
    for role in ("committee", "delegate", "manager"):
        auth.login(role)
        assert client.post(f"/interview/beneficiaries/{ben}/new", data=_form()).status_code == 403
        auth.logout()
    # a researcher may, for the files of the requests assigned to them only
    auth.login("researcher")
    assert client.get(f"/interview/beneficiaries/{ben}/new").status_code == 403


def test_the_api_may_not_forge_an_interview_record(app, client, users, make_beneficiary, in_db):
    from portal.api import create_token
    from portal.models import User

    ben = make_beneficiary()
    with in_db():
        token = create_token(User.get_by_id(users["officer"]), "t")
    r = client.post("/api/v1/timeline", json={"beneficiary": ben, "channel": "interview", "direction": "in",
                                              "summary": "x", "data": {"purpose": "y"}},
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422


def test_privacy_export_and_erasure(app, client, auth, make_beneficiary, in_db):
    from plugins.interview import privacy
    from plugins.interview.models import Interview
    from portal.models import Beneficiary

    ben = make_beneficiary()
    auth.login("officer")
    client.post(f"/interview/beneficiaries/{ben}/new", data=_form())
    with in_db():
        b = Beneficiary.get_by_id(ben)
        data = privacy.beneficiary_data(b)
        assert data["name"] == "interview" and data["data"]["interviews"][0]["purpose"] == "مراجعة طلب السلة الغذائية"
        assert "form_token" not in data["data"]["interviews"][0]
        assert privacy.anonymise_beneficiary(b, None)["anonymised"] == 1
    record = rows(app, Interview)[0]
    assert record.outcome == "" and record.questions is None


def test_a_recorded_interview_offers_a_satisfaction_survey(app, client, auth, make_beneficiary):
    from plugins.interview.models import Interview
    from portal.satisfaction.models import Survey

    ben = make_beneficiary()
    auth.login("officer")
    assert client.post(f"/interview/beneficiaries/{ben}/new", data=_form()).status_code == 302
    record = rows(app, Interview)[0]
    surveys = rows(app, Survey)
    assert [(s.kind, s.channel, s.source, s.beneficiary_id) for s in surveys] == [
        ("meeting", "interview", f"interview:{record.id}", ben)]
