"""The register's screens, API, escalation and dashboard count: roles, bad input, the 'sent only when accepted'
rule, the complainant's satisfaction."""
import datetime as dt

import pytest

from conftest import text_of
from portal import create_app, hookimpl
from portal.complaints import Complaint, open_complaint
from portal.complaints import service
from portal.db import database, utcnow
from portal.models import AuditEvent, Beneficiary, TimelineEntry
from portal.workflow.models import OutreachTask


def make(app, **kwargs):
    args = {"kind": "complaint", "channel": "phone", "text": "تأخر الرد على طلبي"}
    args.update(kwargs)
    with app.app_context(), database.connection_context():
        if isinstance(args.get("beneficiary"), int):
            args["beneficiary"] = Beneficiary.get_by_id(args["beneficiary"])
        return open_complaint(**args).id


def get(app, cid) -> Complaint:
    with app.app_context(), database.connection_context():
        return Complaint.get_by_id(cid)


def test_officer_records_a_phone_complaint_from_the_register(app, client, auth):
    auth.login("officer")
    page = client.get("/complaints/new")
    assert page.status_code == 200 and 'name="channel"' in page.get_data(as_text=True)
    form = {"kind": "complaint", "channel": "phone", "text": "الموظف لم يرد", "contact_name": "سعاد",
            "contact_mobile": "0551234567", "contact_requested": "1", "nonce": "abc123"}
    r = client.post("/complaints/new", data=form)
    assert r.status_code == 302
    again = client.post("/complaints/new", data=form)  # the same form sent twice
    assert again.status_code == 302 and again.headers["Location"] == r.headers["Location"]
    with app.app_context(), database.connection_context():
        assert Complaint.select().count() == 1
        c = Complaint.get()
        assert c.contact_mobile == "+966551234567" and c.contact_requested and c.source == "staff"
    shown = client.get(r.headers["Location"])
    text = text_of(shown)
    assert c.reference in text and "الموظف لم يرد" in text and "ربط بملف" in text and "ربط بطلب" in text


def test_bad_input_keeps_what_was_typed(app, client, auth):
    auth.login("officer")
    r = client.post("/complaints/new", data={"kind": "grievance", "channel": "phone", "text": "نص مكتوب بعناية"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "نص مكتوب بعناية" in html and "اختر: شكوى أو اقتراح أو شكر أو استفسار." in html
    r = client.post("/complaints/new", data={"kind": "complaint", "channel": "phone", "text": "نص",
                                             "file": "9999999999"})
    assert r.status_code == 422 and "لا يوجد ملف بهذا الرقم." in r.get_data(as_text=True)
    r = client.post("/complaints/new", data={"kind": "complaint", "channel": "phone", "text": "نص",
                                             "contact_mobile": "12"})
    assert r.status_code == 422
    with app.app_context(), database.connection_context():
        assert Complaint.select().count() == 0


def test_from_the_file_the_file_is_linked(app, client, auth, make_beneficiary):
    ben = make_beneficiary()
    auth.login("officer")
    profile = client.get(f"/beneficiaries/{ben}").get_data(as_text=True)
    assert f"/complaints/new?ben_id={ben}" in profile
    r = client.post("/complaints/new", data={"ben_id": ben, "kind": "suggestion", "channel": "interview",
                                             "text": "افتحوا المكتب مساءً"})
    assert r.status_code == 302
    with app.app_context(), database.connection_context():
        c = Complaint.get()
        assert c.beneficiary_id == ben and c.kind == "suggestion" and c.task_id is None
    assert c.reference in client.get(f"/beneficiaries/{ben}").get_data(as_text=True)


@pytest.mark.parametrize("role", ["researcher", "committee", "delegate"])
def test_roles_that_may_not_see_the_register(app, client, auth, role):
    cid = make(app)
    auth.login(role)
    assert client.get("/complaints/").status_code == 403
    assert client.get(f"/complaints/{cid}").status_code == 403
    assert client.post(f"/complaints/{cid}/answer", data={"answer": "x"}).status_code == 403
    assert get(app, cid).state == "open"


def test_script_and_direction_overrides_in_the_text(app, client, auth):
    cid = make(app, text="<script>alert('x')</script> \u202eمرحبا\u202c")
    auth.login("officer")
    html = client.get(f"/complaints/{cid}").get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "\u202e" not in html


def test_link_to_file_and_request(app, client, auth, make_beneficiary):
    from portal.models import Case

    ben = make_beneficiary()
    other = make_beneficiary()
    cid = make(app)
    auth.login("officer")
    r = client.post(f"/complaints/{cid}/link-file", data={"file": "1234"})
    assert r.status_code == 422 and "لا يوجد ملف بهذا الرقم." in r.get_data(as_text=True)
    assert client.post(f"/complaints/{cid}/link-request", data={"reference": "1448-999999"}).status_code == 422
    assert client.post("/complaints/424242/link-file", data={"file": "1"}).status_code == 404
    with app.app_context(), database.connection_context():
        number = Beneficiary.get_by_id(ben).file_number
        case = Case.create(reference="1448-000777", beneficiary=other, channel="phone")
    assert client.post(f"/complaints/{cid}/link-file", data={"file": number}).status_code == 302
    c = get(app, cid)
    assert c.beneficiary_id == ben
    with app.app_context(), database.connection_context():
        assert TimelineEntry.get_by_id(c.entry_id).beneficiary_id == ben
        assert OutreachTask.get_by_id(c.task_id).beneficiary_id == ben
    # a request of another file is refused
    r = client.post(f"/complaints/{cid}/link-request", data={"reference": case.reference})
    assert r.status_code == 422 and get(app, cid).case_id is None
    cid2 = make(app)
    assert client.post(f"/complaints/{cid2}/link-request", data={"reference": "000777-1448"}).status_code == 302
    c2 = get(app, cid2)
    assert c2.case_id == case.id and c2.beneficiary_id == other


def test_answer_not_sent_without_a_transport(app, client, auth, make_beneficiary):
    app.config["SMS_PROVIDER"] = ""
    cid = make(app, beneficiary=make_beneficiary())
    auth.login("officer")
    r = client.post(f"/complaints/{cid}/answer", data={"answer": "نعتذر، تم حل المشكلة"}, follow_redirects=True)
    text = text_of(r)
    assert "لم تُرسل" in text and "أُرسل الرد" not in text
    c = get(app, cid)
    assert c.state == "answered" and service.delivery_state(c) == "not_sent"
    with app.app_context(), database.connection_context():
        assert OutreachTask.get_by_id(c.task_id).status == "done"
    again = client.post(f"/complaints/{cid}/answer", data={"answer": "مرة أخرى"})
    assert again.status_code == 422 and get(app, cid).answer == "نعتذر، تم حل المشكلة"


def test_answer_sent_when_a_transport_accepted_it(app_config, make_beneficiary, users):
    class Courier:
        @hookimpl(tryfirst=True)
        def send_message(self, beneficiary, text):
            return {"channel": "phone", "id": "c-9"}

    # the notices' delivery sends only with contact consent and outside the quiet hours
    app = create_app(dict(app_config, EXTRA_PLUGINS=(Courier(),), QUIET_HOURS=""))
    cid = make(app, beneficiary=make_beneficiary(consent_contact=True))
    client = app.test_client()
    client.post("/login", data={"username": "officer", "password": "correct-horse-battery"})
    r = client.post(f"/complaints/{cid}/answer", data={"answer": "تم"}, follow_redirects=True)
    assert "أُرسل الرد" in text_of(r)
    assert service.delivery_state(get(app, cid)) == "sent"


def test_close_with_outcome_and_satisfaction(app, client, auth):
    cid = make(app)
    auth.login("officer")
    r = client.post(f"/complaints/{cid}/close", data={"outcome": "upheld", "satisfaction": "9", "note": "ملاحظة"})
    assert r.status_code == 422 and "ملاحظة" in r.get_data(as_text=True) and get(app, cid).state == "open"
    assert client.post(f"/complaints/{cid}/close", data={"outcome": "?"}).status_code == 422
    assert client.post(f"/complaints/{cid}/close", data={"outcome": "upheld", "satisfaction": "٤"}).status_code == 302
    c = get(app, cid)
    assert c.state == "closed" and c.outcome == "upheld" and c.satisfaction == 4
    assert "4" in text_of(client.get(f"/complaints/{cid}"))
    assert client.post(f"/complaints/{cid}/close", data={"outcome": "upheld"}).status_code == 422


def test_assignment_rules(app, client, auth, users):
    cid = make(app)
    auth.login("officer")
    assert client.post(f"/complaints/{cid}/assign", data={"assignee": str(users["manager"])}).status_code == 422
    assert client.post(f"/complaints/{cid}/assign", data={"assignee": "me"}).status_code == 302
    assert get(app, cid).assigned_to_id == users["officer"]
    auth.logout()
    auth.login("manager")
    assert client.post(f"/complaints/{cid}/assign", data={"assignee": str(users["researcher"])}).status_code == 422
    assert client.post(f"/complaints/{cid}/assign", data={"assignee": str(users["admin"])}).status_code == 302
    assert get(app, cid).assigned_to_id == users["admin"]
    with app.app_context(), database.connection_context():
        assert OutreachTask.get_by_id(get(app, cid).task_id).assigned_to_id == users["admin"]
    mine = client.get("/complaints/?assignee=me")
    assert get(app, cid).reference not in text_of(mine)


def test_list_filters(app, client, auth):
    a = make(app, kind="complaint")
    b = make(app, kind="praise", channel="letters")
    with app.app_context(), database.connection_context():
        Complaint.update(deadline=dt.date(2020, 1, 1)).where(Complaint.id == a).execute()
    auth.login("officer")
    ra, rb = get(app, a).reference, get(app, b).reference
    assert ra in text_of(client.get("/complaints/")) and rb in text_of(client.get("/complaints/"))
    only_praise = text_of(client.get("/complaints/?kind=praise"))
    assert rb in only_praise and ra not in only_praise
    overdue = text_of(client.get("/complaints/?overdue=1"))
    assert ra in overdue and rb not in overdue
    by_channel = text_of(client.get("/complaints/?channel=letters"))
    assert rb in by_channel and ra not in by_channel
    assert ra not in text_of(client.get("/complaints/?state=closed"))
    r = client.get("/complaints/?state=open", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<html" not in r.get_data(as_text=True)


def test_overdue_escalation_once_and_manager_dashboard(app, client, auth):
    late = make(app)
    make(app)
    with app.app_context(), database.connection_context():
        Complaint.update(deadline=dt.date(2020, 1, 1)).where(Complaint.id == late).execute()
        assert service.escalate_overdue() == 1
        assert service.escalate_overdue() == 0  # notified once
        assert get(app, late).escalated_at is not None
        assert AuditEvent.select().where((AuditEvent.action == "escalate")
                                         & (AuditEvent.object_type == "complaint")).count() == 1
        from portal.workflow.hooks import run_daily

        assert run_daily(utcnow())["complaints_escalated"] == 0
    auth.login("manager")
    html = client.get("/").get_data(as_text=True)
    assert "الشكاوى والاقتراحات المتأخرة عن موعدها" in html and "?overdue=1" in html
    auth.logout()
    auth.login("officer")
    assert "الشكاوى والاقتراحات المتأخرة عن موعدها" not in client.get("/").get_data(as_text=True)


def test_api_lists_the_register(app, client, users):
    from portal.api import create_token
    from portal.models import User

    late = make(app)
    make(app, kind="suggestion")
    with app.app_context(), database.connection_context():
        Complaint.update(deadline=dt.date(2020, 1, 1)).where(Complaint.id == late).execute()
        tokens = {r: create_token(User.get_by_id(users[r]), "t") for r in ("officer", "researcher")}

    def call(query, role="officer"):
        return client.get(f"/api/v1/complaints{query}", headers={"Authorization": f"Bearer {tokens[role]}"})

    body = call("").get_json()
    assert len(body["complaints"]) == 2 and body["next"] is None
    over = call("?overdue=true").get_json()["complaints"]
    assert [c["id"] for c in over] == [late] and over[0]["overdue"] is True
    assert [c["kind"] for c in call("?kind=suggestion").get_json()["complaints"]] == ["suggestion"]
    assert call("?state=closed").get_json()["complaints"] == []
    bad = call("?kind=grievance&state=x&overdue=maybe")
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"kind", "state", "overdue"}
    assert call("", "researcher").status_code == 403
    page = call("?limit=1").get_json()
    assert len(page["complaints"]) == 1 and page["next"]
    assert len(call(f"?limit=1&after={page['next']}").get_json()["complaints"]) == 1


def test_api_in_the_openapi_document(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    params = {p["name"] for p in doc["paths"]["/complaints"]["get"]["parameters"]}
    assert {"state", "kind", "overdue"} <= params


def test_themes_and_you_said_we_did(app, client, auth):
    auth.login("officer")
    assert client.get("/complaints/themes").status_code == 403
    auth.logout()
    auth.login("manager")
    assert client.post("/complaints/themes", data={"name_ar": ""}).status_code == 422
    assert client.post("/complaints/themes", data={"name_ar": "وقت الانتظار", "name_en": "Waiting"}).status_code == 302
    assert client.post("/complaints/themes", data={"name_ar": "وقت الانتظار"}).status_code == 422
    from portal.complaints.models import FeedbackTheme, Improvement

    with app.app_context(), database.connection_context():
        theme = FeedbackTheme.get()
    cid = make(app)
    assert client.post(f"/complaints/{cid}/theme", data={"theme": "999"}).status_code == 422
    assert client.post(f"/complaints/{cid}/theme", data={"theme": theme.id}).status_code == 302
    assert get(app, cid).theme_id == theme.id
    r = client.post("/complaints/improvements/new", data={"said_ar": "الانتظار طويل", "did_ar": "",
                                                          "done_on": "2026-02-30"})
    assert r.status_code == 422 and "الانتظار طويل" in r.get_data(as_text=True)
    r = client.post("/complaints/improvements/new", data={"said_ar": "الانتظار طويل", "did_ar": "أضفنا موظفًا",
                                                          "theme": theme.id, "published": "1"})
    assert r.status_code == 302
    with app.app_context(), database.connection_context():
        item = Improvement.get()
        assert item.published and item.theme_id == theme.id
        assert [i.id for i in service.published_improvements()] == [item.id]
    assert "أضفنا موظفًا" in text_of(client.get("/complaints/improvements"))
    assert client.post(f"/complaints/improvements/{item.id}", data={"said_ar": "الانتظار طويل",
                                                                   "did_ar": "أضفنا موظفًا"}).status_code == 302
    with app.app_context(), database.connection_context():
        assert service.published_improvements() == []


def test_hook_complaint_updated(app_config, users):
    """Every change of an entry tells the plugins, inside the change's transaction: raising rolls it back."""
    from portal.models import User

    seen = []

    class Listener:
        @hookimpl
        def complaint_updated(self, complaint, change):
            seen.append((complaint.id, change, complaint.state))
            if complaint.outcome == "not_upheld":
                raise RuntimeError("refused")

    app = create_app(dict(app_config, EXTRA_PLUGINS=(Listener(),)))
    app.config["SMS_PROVIDER"] = ""
    cid = make(app)
    with app.test_request_context(), database.connection_context():
        officer = User.get_by_id(users["officer"])
        c = service.assign(get(app, cid), officer.id, officer)
        service.answer(c, "تم", officer)
        with pytest.raises(RuntimeError):
            service.close(c, outcome="not_upheld", actor=officer)
        assert Complaint.get_by_id(cid).state == "answered"
        service.close(c, outcome="resolved", actor=officer)
    assert seen == [(cid, "assigned", "open"), (cid, "answered", "answered"), (cid, "closed", "closed"),
                    (cid, "closed", "closed")]


def test_demo_fills_the_register(runner, app, client, auth):
    from portal.complaints.models import FeedbackTheme, Improvement

    result = runner.invoke(args=["demo", "--beneficiaries", "20", "--entries", "40"])
    assert result.exit_code == 0, result.output
    with app.app_context(), database.connection_context():
        # the register's own demo entries (low survey ratings of the demo open theirs too, source "survey")
        assert Complaint.select().where(Complaint.source != "survey").count() == 24
        assert {c.kind for c in Complaint.select()} == {"complaint", "suggestion", "praise", "inquiry"}
        assert Complaint.select().where(Complaint.beneficiary.is_null()).exists()
        assert Complaint.select().where(Complaint.satisfaction.is_null(False)).exists()
        assert service.overdue_count() > 0
        assert FeedbackTheme.select().count() == 4 and Improvement.select().count() == 2
    auth.login("manager")
    assert client.get("/complaints/?state=all").status_code == 200


def test_english_pages_and_the_outreach_task(app, client, auth, make_beneficiary):
    cid = make(app, beneficiary=make_beneficiary(), text="تأخر الرد 1448-000123")
    auth.login("officer")
    en = text_of(client.get("/complaints/?lang=en"))
    assert "Complaints and suggestions" in en and "Deadline" in en
    detail = client.get(f"/complaints/{cid}?lang=en").get_data(as_text=True)
    assert "Link to request" in detail and "How satisfied" not in detail and "Ask the person" in detail
    ar = client.get(f"/complaints/{cid}?lang=ar").get_data(as_text=True)
    assert 'dir="rtl"' in ar and "<bdi>" in ar
    queue = text_of(client.get("/outreach/?kind=complaint"))
    assert get(app, cid).reference in queue and "متابعة شكوى" in queue


def test_export_and_erasure_of_a_file_cover_the_register(app, db, make_beneficiary, users):
    from portal.plugins import hook

    ben = Beneficiary.get_by_id(make_beneficiary())
    with app.test_request_context():
        c = open_complaint(kind="complaint", channel="phone", text="اسمي وجوالي في النص", beneficiary=ben)
        other = open_complaint(kind="praise", channel="phone", text="شكرًا")
        exported = [r for r in hook().beneficiary_data(beneficiary=ben) if r and r["name"] == "complaints"]
        assert [row["reference"] for row in exported[0]["data"]] == [c.reference]
        done = [r for r in hook().anonymise_beneficiary(beneficiary=ben, retain_until=None, actor=None)
                if r and r["name"] == "complaints"]
    assert done[0]["anonymised"] == 1
    kept = Complaint.get_by_id(c.id)
    assert kept.text == "" and kept.reference == c.reference and kept.kind == "complaint"
    assert Complaint.get_by_id(other.id).text == "شكرًا"
