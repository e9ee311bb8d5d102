"""The seven steps through the screens, by four users (officer, researcher, committee member, chair)."""
import datetime as dt
import html
import io

import pytest
from conftest import PASSWORD
from conftest import text_of as raw_text

from portal.db import database
from portal.models import Case, TimelineEntry
from portal.workflow.models import Declaration, Delivery, Enrolment, Vote



def text_of(response) -> str:
    return html.unescape(raw_text(response))


from pdf_samples import MINIMAL_PDF as PDF  # noqa: E402  (a valid one-page PDF)


def login(client, username):
    client.post("/logout")
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, username


@pytest.fixture
def second_member(app, users):
    from portal.auth import hash_password
    from portal.models import User

    with app.app_context(), database.connection_context():
        User.create(username="member3", full_name="عضو ثالث", roles="committee", password_hash="-")
        return User.create(username="chair", full_name="رئيس اللجنة", roles="committee",
                           password_hash=hash_password(PASSWORD)).id


def test_a_request_walks_through_the_seven_steps(app, client, wf, second_member):
    ben = wf.ready_beneficiary()
    officer_id, researcher_id, member_id = (wf.user(r).id for r in ("officer", "researcher", "committee"))
    from portal.models import User

    wf_member3 = User.get(User.username == "member3").id
    database.close()

    # steps 1-2: the officer opens and submits a request received in an interview
    login(client, "officer")
    page = client.get(f"/beneficiaries/{ben.id}/cases/new?type=food_basket")
    assert page.status_code == 200 and "عدد أفراد الأسرة" in text_of(page)
    with app.app_context(), database.connection_context():
        from portal.workflow.intake import get_request_type, questions

        qid = questions(get_request_type("food_basket"))[0].id
    response = client.post(f"/beneficiaries/{ben.id}/cases/new", data={
        "request_type": "food_basket", "channel": "interview", "summary": "سلة غذائية للأسرة", f"answer_{qid}": "٥"})
    assert response.status_code == 302
    ref = response.headers["Location"].rsplit("/", 1)[-1]
    show = client.get(f"/cases/{ref}")
    assert show.status_code == 200 and "Draft" in text_of(client.get(f"/cases/{ref}?lang=en"))
    assert client.post(f"/cases/{ref}/submit", data={"version": "1"}).status_code == 302
    # the double click: the same submission again changes nothing
    again = client.post(f"/cases/{ref}/submit", data={"version": "1"}, follow_redirects=True)
    assert again.status_code == 200
    # step 4: the declaration, read out on the phone, witnessed by the officer
    assert client.post(f"/cases/{ref}/declaration", data={"method": "read_out", "channel": "phone",
                                                          "text_version": "1"}).status_code == 302
    # step 3: referral to the researcher
    assert client.post(f"/cases/{ref}/refer", data={"version": "2", "researcher": str(researcher_id),
                                                    "reason": "زيارة منزلية"}).status_code == 302

    # the researcher sees it in their queue, records the report and raises it to the committee
    login(client, "researcher")
    assert ref in text_of(client.get("/cases/research"))
    report = client.post(f"/cases/{ref}/report", content_type="multipart/form-data", data={
        "visit_date": dt.date.today().isoformat(), "household_situation": "أسرة من خمسة", "monthly_income": "١٢٠٠",
        "housing": "شقة", "needs": "غذاء", "recommendation": "approve",
        "files": (io.BytesIO(PDF), "visit.pdf")})
    assert report.status_code == 302
    assert client.post(f"/cases/{ref}/send-to-committee", data={"version": "3"}).status_code == 302
    page = text_of(client.get(f"/cases/{ref}?lang=en"))
    assert "The committee's reply is expected by" in page

    # step 5: a session chaired by "chair"; the committee member and the chair vote; the chair decides
    login(client, "chair")
    response = client.post("/committee/sessions", data={
        "held_on": dt.date.today().isoformat(), "quorum": "2", "chair": str(second_member),
        "members": [str(member_id), str(second_member), str(wf_member3)]})
    assert response.status_code == 302
    session_url = response.headers["Location"]
    assert ref in text_of(client.get(session_url))
    assert client.post(f"{session_url}/cases/{ref}/vote", data={"vote": "approve"}).status_code == 302
    # no quorum yet: one vote of two
    refused = client.post(f"{session_url}/cases/{ref}/decide?lang=en", data={"decision": "approve", "amount": "500"})
    assert refused.status_code == 422 and "No quorum" in text_of(refused)
    login(client, "committee")
    assert client.post(f"{session_url}/cases/{ref}/vote", data={"vote": "approve", "comment": "موافق"}).status_code == 302
    # a member who is not the chair cannot decide
    assert client.post(f"{session_url}/cases/{ref}/decide", data={"decision": "approve", "amount": "500"}).status_code == 422
    login(client, "chair")
    decided = client.post(f"{session_url}/cases/{ref}/decide", data={
        "decision": "approve", "quantity": "3", "conditions": "تسلم شهرياً", "version": "4"})
    assert decided.status_code == 302
    minutes = client.get(f"{session_url}/minutes?lang=en")
    assert minutes.status_code == 200 and ref in text_of(minutes) and "Approved" in text_of(minutes)

    # steps 6-7: the officer completes the registration, records two deliveries and closes
    login(client, "officer")
    assert client.post(f"/cases/{ref}/register", data={"version": "5", "starts_on": "1448-06-01"}).status_code == 302
    for n in (1, 2):
        assert client.post(f"/cases/{ref}/deliveries", content_type="multipart/form-data", data={
            "what": f"سلة غذائية {n}", "quantity": "1", "delivered_on": dt.date.today().isoformat(),
            "receipt_number": f"R-{n}", "receipt": (io.BytesIO(PDF), "receipt.pdf")}).status_code == 302
    assert client.post(f"/cases/{ref}/close", data={"version": "7", "note": "تم"}).status_code == 302

    with app.app_context(), database.connection_context():
        case = Case.get(Case.reference == ref)
        assert case.status == "closed" and case.quantity == 3
        assert Declaration.select().where(Declaration.case == case).count() == 1
        assert Vote.select().where(Vote.case == case).count() == 2
        assert Enrolment.get(Enrolment.case == case).starts_on == dt.date(2026, 11, 11)  # 1 Jumada II 1448
        assert Delivery.select().where(Delivery.case == case).count() == 2
        steps = [e.data["to"] for e in TimelineEntry.select().where(TimelineEntry.case == case)
                 .order_by(TimelineEntry.id) if (e.data or {}).get("kind") == "case_status"]
        assert steps == ["submitted", "in_research", "awaiting_committee", "approved", "registered", "served",
                         "closed"]
        actors = {e.actor.username for e in TimelineEntry.select().where(TimelineEntry.case == case) if e.actor}
        assert {"officer", "researcher", "chair"} <= actors
    # every step is on the beneficiary's timeline, in the reader's language
    timeline = text_of(client.get(f"/beneficiaries/{ben.id}/timeline?lang=en"))
    for label in ("Submitted", "In social research", "Awaiting the committee", "Approved", "Registered", "Served",
                  "Closed"):
        assert label in timeline


def test_an_expired_id_blocks_submission_with_a_clear_message(app, client, wf):
    from portal.dates import saudi_today

    ben = wf.beneficiary(branch="TAIF")
    wf.document(ben, "national_id", saudi_today() - dt.timedelta(days=10))
    wf.document(ben, "family_card")
    case = wf.case("draft", ben=ben)
    ref = case.reference
    database.close()
    login(client, "officer")
    response = client.post(f"/cases/{ref}/submit?lang=en", data={"version": "1"})
    assert response.status_code == 422
    page = text_of(response)
    assert "cannot be submitted" in page and "National ID card" in page and "Expired" in page
    with app.app_context(), database.connection_context():
        assert Case.get(Case.reference == ref).status == "draft"
    # in Arabic by default


def test_a_request_waiting_fifteen_days_is_overdue_on_the_managers_dashboard(app, client, wf):
    from portal.db import utcnow
    from portal.workflow.committee import escalate_overdue

    case = wf.case("awaiting_committee")
    late = utcnow() - dt.timedelta(days=15)
    Case.update(awaiting_committee_at=late, committee_due_at=late + dt.timedelta(days=14)).where(
        Case.id == case.id).execute()
    fresh = wf.case("awaiting_committee")
    assert escalate_overdue() == 1 and escalate_overdue() == 0
    database.close()
    login(client, "manager")
    page = client.get("/?lang=en").get_data(as_text=True)
    widget = page[page.index('id="h-overdue"'):]
    widget = widget[:widget.index("</section>")]
    assert "Overdue at the research committee" in html.unescape(widget)
    assert case.reference in widget and fresh.reference not in widget
    cases = text_of(client.get("/cases/?overdue=1&lang=en"))
    assert case.reference in cases and fresh.reference not in cases


def test_the_outreach_queue_lists_a_beneficiary_whose_id_expires_next_week(app, client, wf, runner):
    from portal.dates import saudi_today

    ben = wf.beneficiary(branch="TAIF", first_name="نورة")
    wf.document(ben, "national_id", saudi_today() + dt.timedelta(days=7))
    database.close()
    result = runner.invoke(args=["outreach", "run"])
    assert result.exit_code == 0, result.output
    assert "document_expiring: 1" in result.output
    login(client, "officer")
    page = text_of(client.get("/outreach/?lang=en"))
    assert "نورة" in page and "Document expiring" in page
    with app.app_context(), database.connection_context():
        from portal.workflow.models import OutreachTask

        task = OutreachTask.get()
    bad = client.post(f"/outreach/{task.id}/complete?lang=en", data={"outcome": "done", "channel": "phone"})
    assert bad.status_code == 422 and "required" in text_of(bad)
    done = client.post(f"/outreach/{task.id}/complete", data={"outcome": "done", "channel": "phone",
                                                              "summary": "طلبنا صورة الهوية المجددة"})
    assert done.status_code == 302
    assert "نورة" not in text_of(client.get("/outreach/"))
    assert "طلبنا صورة الهوية المجددة" in text_of(client.get(f"/beneficiaries/{ben.id}"))
