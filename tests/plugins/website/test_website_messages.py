"""Inquiries, complaints and suggestions (the officers' queue with a deadline and the answer) and
volunteer sign-up: anti-abuse, untrusted text, CSRF."""
from __future__ import annotations

import datetime as dt
import os

import pytest
from conftest import text_of
from playhouse.test_utils import count_queries
from website_helpers import app_config, outbox, stamp, types  # noqa: F401

from portal.db import database
from portal.plugins import available_plugins

RLO = "\u202e"
EVIL = f"<script>alert('x')</script>{RLO}txt.exe"


def ask(client, **fields):
    data = {"kind": "complaint", "name": "خالد", "mobile": "0561234567", "subject": "تأخر الرد",
            "body": "لم يصلني رد على طلبي", **stamp(client, "/site/ask")}
    data.update(fields)
    return client.post("/site/ask", data=data)


def test_complaint_goes_to_the_timeline_and_the_queue(app, client, auth, make_beneficiary):
    from plugins.website.models import Inquiry
    from portal.models import TimelineEntry

    ben_id = make_beneficiary(national_id="1000000008")
    r = ask(client, national_id="1000000008")
    assert r.status_code == 302
    sent = client.get(r.headers["Location"])
    with app.app_context(), database.connection_context():
        inquiry = Inquiry.get()
        assert inquiry.reference in text_of(sent)
        assert inquiry.beneficiary_id == ben_id and inquiry.status == "open"
        from portal.complaints import Complaint
        from portal.dates import add_working_days, saudi_date, saudi_day_bounds

        entry_in_register = Complaint.get((Complaint.source == "website") & (Complaint.source_id == str(inquiry.id)))
        assert entry_in_register.kind == "complaint" and entry_in_register.channel == "website"
        assert entry_in_register.beneficiary_id == ben_id and entry_in_register.task_id
        assert entry_in_register.deadline == add_working_days(saudi_date(inquiry.created_at), 5)
        assert inquiry.due_at == saudi_day_bounds(entry_in_register.deadline)[1]
        entry = TimelineEntry.get_by_id(inquiry.entry_id)
        assert entry.channel == "website" and entry.beneficiary_id == ben_id
        assert entry.summary.startswith("شكوى")  # stored in Arabic whatever the visitor's language
    auth.login("officer")
    inbox = client.get("/website/inbox")
    assert inquiry.reference in text_of(inbox)


def test_answer_is_sent_and_shown_on_tracking(app, client, auth, outbox, make_beneficiary, types, users):
    from plugins.website.models import Inquiry
    from portal.models import Beneficiary, TimelineEntry, User
    from portal.workflow import intake

    ben_id = make_beneficiary(national_id="1000000008", mobile="0551234567")
    with app.app_context(), database.connection_context():
        case = intake.open_request(Beneficiary.get_by_id(ben_id), "medical", channel="website",
                                   actor=User.get_by_id(users["officer"]), answers={
                                       str(q.id): "جهاز" for q in intake.questions(intake.get_request_type("medical"))})
    ask(client, national_id="1000000008", reference=case.reference, kind="inquiry")
    with app.app_context(), database.connection_context():
        inquiry = Inquiry.get()
        assert inquiry.case_id == case.id
    auth.login("officer")
    empty = client.post(f"/website/inbox/{inquiry.id}", data={"answer": "  "})
    assert empty.status_code == 422
    r = client.post(f"/website/inbox/{inquiry.id}", data={"answer": "سيتم التواصل معك خلال يومين"})
    assert r.status_code == 302
    again = client.post(f"/website/inbox/{inquiry.id}", data={"answer": "مرة ثانية"})
    assert again.status_code == 422
    assert len(outbox.by_purpose("inquiry_answer")) == 1
    with app.app_context(), database.connection_context():
        inquiry = Inquiry.get_by_id(inquiry.id)
        assert inquiry.status == "answered" and inquiry.answer_delivery == "phone:m1"
        # the answer goes through the complaints register: one outgoing entry on the channel that sent it
        out = TimelineEntry.select().where(TimelineEntry.direction == "out").order_by(TimelineEntry.id.desc()).get()
        assert out.beneficiary_id == ben_id and out.data["delivery"]["channel"] == "phone"
        assert out.data["purpose"] == "inquiry_answer"
        assert out.data["sent"] is True
    auth.logout()
    visitor = client.application.test_client()
    r = visitor.post("/site/track", data={"reference": case.reference, "national_id": "1000000008"})
    assert r.headers["Location"].endswith("/site/track/code")  # a sender exists: the code to the registered mobile
    visitor.post("/site/track/code", data={"code": outbox.by_purpose("one_time_code")[-1]["context"]["code"]})
    assert "سيتم التواصل معك خلال يومين" in text_of(visitor.get("/site/track/status"))


def test_unmatched_asker_reads_the_answer_with_the_inquiry_number(app, client, auth):
    from plugins.website.models import Inquiry

    ask(client, kind="suggestion")
    with app.app_context(), database.connection_context():
        inquiry = Inquiry.get()
    auth.login("officer")
    client.post(f"/website/inbox/{inquiry.id}", data={"answer": "شكراً على اقتراحك"})
    page = text_of(client.get(f"/website/inbox/{inquiry.id}"))
    assert "not sent" in page or "لم ترسل" in page or "لم يُرسل" in page
    auth.logout()
    visitor = app.test_client()
    assert visitor.post("/site/track", data={"reference": inquiry.reference, "proof": "4567"}).status_code == 422
    assert visitor.post("/site/track", data={"reference": inquiry.reference,
                                             "national_id": "0561234568"}).status_code == 404
    r = visitor.post("/site/track", data={"reference": inquiry.reference.lower(), "national_id": "0561234567"})
    assert r.status_code == 302
    assert "شكراً على اقتراحك" in text_of(visitor.get("/site/track/status"))


@pytest.mark.parametrize("field", ["name", "subject", "body", "email"])
def test_script_and_direction_overrides_are_harmless(app, client, auth, field):
    from plugins.website.models import Inquiry

    value = EVIL if field != "email" else f"a@b.c{RLO}<script>"
    r = ask(client, **{field: value})
    assert r.status_code == 302
    with app.app_context(), database.connection_context():
        inquiry = Inquiry.get()
        assert RLO not in getattr(inquiry, field)
    auth.login("officer")
    for url in ("/website/inbox", f"/website/inbox/{inquiry.id}"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<script>" not in html.split("</head>")[1]
        assert RLO not in html


def test_bad_input_keeps_the_form(app, client):
    from plugins.website.models import Inquiry

    r = ask(client, national_id="1000000009", mobile="12345", subject="")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    for name in ("national_id", "mobile", "subject"):
        assert f'id="e-{name}"' in html
    assert 'value="1000000009"' in html and "لم يصلني رد على طلبي" in html
    assert r.get_data(as_text=True).count("autofocus") == 1
    with app.app_context(), database.connection_context():
        assert Inquiry.select().count() == 0


def test_honeypot_and_too_fast(app, client):
    from plugins.website.models import Inquiry

    assert ask(client, website_url="http://spam").status_code == 422
    app.config["WEBSITE_MIN_FILL_SECONDS"] = 30
    r = ask(client)
    assert r.status_code == 422 and "لم يصلني رد على طلبي" in r.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        assert Inquiry.select().count() == 0


def test_form_posted_twice_gives_one_message_per_post_and_csrf_is_required(app_config, tmp_path, monkeypatch):
    from portal import create_app

    app_config["WTF_CSRF_ENABLED"] = True
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "inst"))
    app = create_app(app_config)
    client = app.test_client()
    r = client.post("/site/ask", data={"kind": "inquiry", "name": "x", "mobile": "0561234567", "subject": "s",
                                       "body": "b"})
    assert r.status_code == 400
    for url, data in (("/site/track", {"reference": "1448-000001", "national_id": "1000000008"}),
                      ("/site/volunteer", {}), ("/site/apply/applicant", {}), ("/site/apply/resume", {})):
        assert client.post(url, data=data).status_code == 400


def test_inbox_flags_overdue_and_runs_constant_queries(app, client, auth, make_beneficiary):
    from plugins.website.models import Inquiry

    auth.login("officer")

    def queries():
        with count_queries() as counter:
            client.get("/website/inbox")
        return counter.count

    for n in range(3):
        make_beneficiary(national_id=None) if False else None
        ask(client, name=f"شخص {n}")
    few = queries()
    for n in range(10):
        ask(client, name=f"آخر {n}")
    assert queries() == few
    with app.app_context(), database.connection_context():
        Inquiry.update(due_at=dt.datetime(2020, 1, 1)).where(Inquiry.id == 1).execute()
    assert "Overdue" in text_of(client.get("/website/inbox")) or "متأخر" in text_of(client.get("/website/inbox"))


def test_researcher_cannot_answer(app, client, auth):
    from plugins.website.models import Inquiry

    ask(client)
    with app.app_context(), database.connection_context():
        inquiry = Inquiry.get()
    auth.login("manager")
    assert client.get(f"/website/inbox/{inquiry.id}").status_code == 200
    assert client.post(f"/website/inbox/{inquiry.id}", data={"answer": "x"}).status_code == 403
    auth.logout()
    auth.login("researcher")
    assert client.get(f"/website/inbox/{inquiry.id}").status_code == 403


def _volunteer_entry_channel(app, client) -> str:
    from plugins.website.models import Volunteer
    from portal.models import TimelineEntry

    data = {"name": "منيرة", "mobile": "0581234567", "skills": "تمريض وإسعافات أولية", "availability": "weekends",
            "consent": "1", **stamp(client, "/site/volunteer")}
    bad = client.post("/site/volunteer", data={**data, "mobile": "+12025550123", "consent": ""})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'id="e-mobile"' in html and 'id="e-consent"' in html and "تمريض" in html
    ok = client.post("/site/volunteer", data={**data, "notes": EVIL})
    assert ok.status_code == 302
    with app.app_context(), database.connection_context():
        v = Volunteer.get()
        assert v.mobile == "+966581234567"
        return TimelineEntry.get_by_id(v.entry_id).channel


@pytest.mark.needs_plugins("volunteering")
def test_volunteer_sign_up_reaches_the_volunteering_channel(app, client):
    assert _volunteer_entry_channel(app, client) == "volunteering"
    # and the volunteering service's registry, pending vetting (hook ``volunteer_signed_up``)
    from plugins.volunteering.models import Volunteer as Registered

    with app.app_context(), database.connection_context():
        [row] = list(Registered.select())
    assert row.state == "pending" and row.source == "site" and row.mobile == "+966581234567"
    assert row.weekdays == (1 << 4) | (1 << 5) and "تمريض" in row.notes


@pytest.fixture
def without_volunteering(app_config):
    enabled = os.environ.get("PORTAL_PLUGINS", "all")
    names = available_plugins() if enabled in ("", "all") else enabled.split(",")
    app_config["PLUGINS"] = ",".join(n for n in names if n != "volunteering")
    return app_config


def test_volunteer_sign_up(without_volunteering, app, client, auth):
    """Without the volunteering plugin the offer is still taken, on the website's own channel."""
    assert _volunteer_entry_channel(app, client) == "website"
    auth.login("officer")
    listing = client.get("/website/volunteers").get_data(as_text=True)
    assert "منيرة" in listing and "<script>alert" not in listing and RLO not in listing


def test_the_same_form_posted_twice_is_one_message(app, client):
    from plugins.website.models import Inquiry, Volunteer
    from portal.models import TimelineEntry

    data = {"kind": "inquiry", "name": "خالد", "mobile": "0561234567", "subject": "سؤال", "body": "نص",
            **stamp(client, "/site/ask")}
    first = client.post("/site/ask", data=data)
    second = client.post("/site/ask", data=data)
    assert first.status_code == second.status_code == 302
    volunteer = {"name": "منيرة", "mobile": "0581234567", "skills": "تمريض", "availability": "any", "consent": "1",
                 **stamp(client, "/site/volunteer")}
    assert client.post("/site/volunteer", data=volunteer).status_code == 302
    assert client.post("/site/volunteer", data=volunteer).status_code == 302
    with app.app_context(), database.connection_context():
        assert Inquiry.select().count() == 1 and Volunteer.select().count() == 1
        assert TimelineEntry.select().count() == 2
    # a fresh form is a new message
    assert ask(client, subject="سؤال آخر").status_code == 302
    with app.app_context(), database.connection_context():
        assert Inquiry.select().count() == 2
