"""The website's inquiries are entries of the core's one complaints register: sent from the site they land in
it, what is done in the register shows on the public tracking, existing inquiries are moved into it by a
migration, and the public "You said, we did" page shows the published improvements."""
import importlib.util
from pathlib import Path

from conftest import text_of
from website_helpers import app_config, stamp  # noqa: F401

from portal.db import database, utcnow


def ask(client, **fields):
    data = {"kind": "suggestion", "name": "منى", "mobile": "0561234567", "subject": "ساعات الدوام",
            "body": "افتحوا المكتب مساءً", "reference": "1448-000123", **stamp(client, "/site/ask")}
    data.update(fields)
    return client.post("/site/ask", data=data)


def test_site_inquiry_lands_in_the_register_and_the_register_answer_shows_on_tracking(app, client, auth):
    from plugins.website.models import Inquiry
    from portal.complaints import Complaint

    assert ask(client, national_id="1000000008").status_code == 302
    assert ask(client, national_id="1000000008").status_code in (200, 302, 422)  # a second post of the page
    with app.app_context(), database.connection_context():
        inquiry = Inquiry.select().order_by(Inquiry.id).first()
        c = Complaint.get((Complaint.source == "website") & (Complaint.source_id == str(inquiry.id)))
        assert Complaint.select().where(Complaint.source == "website").count() == Inquiry.select().count()
        assert c.kind == "suggestion" and c.channel == "website" and c.beneficiary_id is None
        assert c.contact_mobile == "+966561234567" and c.contact_reference == "1448-000123"
        assert c.contact_national_id == "1000000008" and "افتحوا المكتب مساءً" in c.text
    auth.login("officer")
    page = text_of(client.get(f"/complaints/{c.id}"))
    assert "1448-000123" in page and "1000000008" in page and "ربط بملف" in page
    assert client.post(f"/complaints/{c.id}/assign", data={"assignee": "me"}).status_code == 302
    assert client.post(f"/complaints/{c.id}/answer", data={"answer": "سندرس ذلك في الاجتماع القادم"}).status_code == 302
    with app.app_context(), database.connection_context():
        mirrored = Inquiry.get_by_id(inquiry.id)
        assert mirrored.status == "answered" and mirrored.answer == "سندرس ذلك في الاجتماع القادم"
        assert mirrored.assigned_to_id is not None
    auth.logout()
    visitor = app.test_client()
    r = visitor.post("/site/track", data={"reference": inquiry.reference, "national_id": "0561234567"})
    assert r.status_code == 302
    assert "سندرس ذلك في الاجتماع القادم" in text_of(visitor.get("/site/track/status"))


def test_inquiries_received_before_the_register_are_moved_into_it(app, db):
    from plugins.website.models import Inquiry
    from portal.complaints import Complaint

    now = utcnow()
    old_open = Inquiry.create(reference="Q1447-000001", kind="complaint", name="قديم", mobile="+966561234567",
                              subject="تأخر", body="لم يصلني رد", due_at=now, created_at=now)
    old_answered = Inquiry.create(reference="Q1447-000002", kind="inquiry", name="سائل", subject="سؤال",
                                  body="متى؟", due_at=now, created_at=now, status="answered", answer="غدًا",
                                  answered_at=now, answer_delivery="phone:m7")
    path = Path(__file__).resolve().parents[3] / "plugins/website/migrations/0005_inquiries_in_the_register.py"
    spec = importlib.util.spec_from_file_location("m0005", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.up(None, database.obj)
    module.up(None, database.obj)  # run twice: nothing doubled
    rows = {c.source_id: c for c in Complaint.select().where(Complaint.source == "website")}
    assert set(rows) == {str(old_open.id), str(old_answered.id)}
    first, second = rows[str(old_open.id)], rows[str(old_answered.id)]
    assert first.reference == "Q1447-000001" and first.state == "open" and first.kind == "complaint"
    assert first.text == "تأخر\n\nلم يصلني رد" and first.contact_mobile == "+966561234567"
    assert second.state == "answered" and second.answer == "غدًا" and second.answer_delivery == "sent|phone:m7"


def test_you_said_we_did_on_the_public_site(app, client, db):
    import datetime as dt

    from portal.complaints.models import FeedbackTheme, Improvement

    theme = FeedbackTheme.create(name_ar="وقت الانتظار")
    Improvement.create(theme=theme, said_ar="الانتظار في المكتب طويل", did_ar="أضفنا موظف استقبال ثانيًا",
                       said_en="Waiting at the office is long", did_en="We added a second receptionist",
                       done_on=dt.date(2026, 11, 1), published=True)
    Improvement.create(said_ar="مسودة", did_ar="لم تنشر <script>", done_on=dt.date(2026, 11, 2), published=False)
    page = client.get("/site/you-said-we-did")
    text = text_of(page)
    assert page.status_code == 200 and "أضفنا موظف استقبال ثانيًا" in text and "مسودة" not in text
    assert "We added a second receptionist" in text_of(client.get("/site/you-said-we-did?lang=en"))
    assert "/site/you-said-we-did" in client.get("/site/faq").get_data(as_text=True)
