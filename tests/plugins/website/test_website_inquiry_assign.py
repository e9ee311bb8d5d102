"""Website messages have an assignee: "assign to me", "give back", the "mine" filter, and nobody takes a
message another officer holds."""
import pytest

from website_helpers import app_config  # noqa: F401  (fixture)
from portal.db import database, utcnow


@pytest.fixture
def inquiry(app):
    from plugins.website.models import Inquiry

    with app.app_context(), database.connection_context():
        return Inquiry.create(reference="Q-1448-000031", kind="inquiry", name="سائل", subject="موعد الصرف",
                              body="متى موعد صرف السلال؟", due_at=utcnow()).id


def holder(app, inquiry_id):
    from plugins.website.models import Inquiry

    with app.app_context(), database.connection_context():
        return Inquiry.get_by_id(inquiry_id).assigned_to_id


def test_take_and_give_back(app, client, auth, users, inquiry):
    from portal.models import AuditEvent

    auth.login("officer")
    r = client.post(f"/website/inbox/{inquiry}/assign", data={"next": "/website/inbox?assignee=none"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/website/inbox?assignee=none")
    assert holder(app, inquiry) == users["officer"]
    mine = client.get("/website/inbox?assignee=me").get_data(as_text=True)
    assert "Q-1448-000031" in mine and "مستخدم officer" in mine and "إعادتها للفريق" in mine
    assert "Q-1448-000031" not in client.get("/website/inbox?assignee=none").get_data(as_text=True)
    client.post(f"/website/inbox/{inquiry}/assign", data={"take": "0"})
    assert holder(app, inquiry) is None
    with app.app_context(), database.connection_context():
        assert AuditEvent.select().where(AuditEvent.object_type == "website_inquiry",
                                         AuditEvent.action == "update").count() == 2


def test_nobody_takes_a_message_another_officer_holds(app, client, auth, users, inquiry):
    from plugins.website.models import Inquiry
    from portal.models import User

    with app.app_context(), database.connection_context():
        other = User.create(username="officer2", full_name="موظف آخر", roles="officer", password_hash="x")
        Inquiry.update(assigned_to=other.id).where(Inquiry.id == inquiry).execute()
    auth.login("officer")
    page = client.post(f"/website/inbox/{inquiry}/assign", follow_redirects=True).get_data(as_text=True)
    assert "تولّى موظف آخر هذه الرسالة." in page
    client.post(f"/website/inbox/{inquiry}/assign", data={"take": "0"})
    assert holder(app, inquiry) == other.id  # not theirs to give back
    auth.logout()
    auth.login("admin")
    client.post(f"/website/inbox/{inquiry}/assign", data={"take": "0"})
    assert holder(app, inquiry) is None  # an admin may hand it back to the team


def test_an_answered_message_is_not_taken_and_a_manager_cannot_take(app, client, auth, users, inquiry):
    from plugins.website.models import Inquiry

    auth.login("manager")
    assert client.post(f"/website/inbox/{inquiry}/assign").status_code == 403
    assert holder(app, inquiry) is None
    auth.logout()
    with app.app_context(), database.connection_context():
        Inquiry.update(status="answered").where(Inquiry.id == inquiry).execute()
    auth.login("officer")
    page = client.post(f"/website/inbox/{inquiry}/assign", follow_redirects=True).get_data(as_text=True)
    assert "أُجيب عن هذه الرسالة من قبل." in page and holder(app, inquiry) is None
    assert client.post("/website/inbox/999999/assign").status_code == 404


def test_the_redirect_never_leaves_the_inbox(app, client, auth, users, inquiry):
    auth.login("officer")
    r = client.post(f"/website/inbox/{inquiry}/assign", data={"next": "https://evil.example/"})
    assert r.headers["Location"].endswith("/website/inbox")


def test_taking_a_complaint_from_the_inbox_gives_its_follow_up_task_too(app, client, auth, users):
    """A complaint from the website has a follow-up task in the outreach queue: whoever takes the message in the
    website inbox is the one its task asks to call, and giving it back returns the task to the team."""
    from portal.complaints.models import Complaint
    from portal.workflow.models import OutreachTask

    from plugins.website import inquiries

    with app.test_request_context(), database.connection_context():
        values, errors = inquiries.validate({"kind": "complaint", "name": "مراجع", "mobile": "0551234567",
                                             "subject": "تأخر الرد", "body": "تأخر الرد على طلبي أسبوعين"})
        assert not errors, errors
        inquiry = inquiries.create(values).id
        complaint = inquiries.register_entry(inquiries.Inquiry.get_by_id(inquiry))
        task_id = complaint.task_id
        assert task_id and OutreachTask.get_by_id(task_id).assigned_to_id is None

    def holders():
        with app.app_context(), database.connection_context():
            complaint = Complaint.get(Complaint.task_id == task_id)
            return complaint.assigned_to_id, OutreachTask.get_by_id(task_id).assigned_to_id

    auth.login("officer")
    assert client.post(f"/website/inbox/{inquiry}/assign").status_code == 303
    assert holders() == (users["officer"], users["officer"])
    client.post(f"/website/inbox/{inquiry}/assign", data={"take": "0"})
    assert holders() == (None, None)
