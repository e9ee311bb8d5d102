"""The unmatched inbox, linking a sender to a beneficiary, officers' replies with the 24-hour window,
delivery states from status webhooks, and untrusted text."""
import datetime as dt

import pytest
from playhouse.test_utils import count_queries
from social_helpers import app_config, graph, payload, post_webhook, smtp  # noqa: F401  (fixtures)
from social_helpers import PHONE_NUMBER_ID, fresh, jpeg_bytes, text_of

from portal.db import database
from portal.models import AuditEvent, TimelineEntry

from plugins.social.models import Message, Sender, StatusEvent


def sender_id(app):
    with app.app_context(), database.connection_context():
        return Sender.get().id


def test_done_when_text_and_image_linked_replay_adds_nothing(app, client, auth, graph, make_beneficiary,
                                                             post_webhook, payload):
    graph.media["1479537139650973"] = (jpeg_bytes(), "image/jpeg")
    text, image = fresh(payload("wa_text.json")), fresh(payload("wa_image.json"))
    post_webhook(text)
    post_webhook(image)
    auth.login("officer")
    inbox = text_of(client.get("/social/inbox?lang=en"))
    assert "أم خالد" in inbox and "2" in inbox
    ben = make_beneficiary(mobile="0500000001", first_name="هند")
    sid = sender_id(app)
    # search, then link
    found = client.get(f"/social/senders/{sid}?q=هند")
    assert "هند" in found.get_data(as_text=True)
    r = client.post(f"/social/senders/{sid}/link", data={"beneficiary_id": ben})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/beneficiaries/{ben}#timeline")
    with app.app_context(), database.connection_context():
        assert {e.beneficiary_id for e in TimelineEntry.select()} == {ben}
        assert AuditEvent.select().where(AuditEvent.action == "link").count() == 1
    profile = client.get(f"/beneficiaries/{ben}").get_data(as_text=True)
    assert "متى يصدر قرار طلبي" in profile and "/social/media/" in profile
    assert "أم خالد" not in text_of(client.get("/social/inbox"))
    # a later message from the same number goes straight to the timeline; a replay adds nothing
    later = fresh(payload("wa_text.json"))
    later["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.LATER0001"
    post_webhook(later)
    post_webhook(text)
    post_webhook(image)
    with app.app_context(), database.connection_context():
        assert TimelineEntry.select().count() == 3
        assert {e.beneficiary_id for e in TimelineEntry.select()} == {ben}


def test_link_with_wrong_or_missing_beneficiary(app, client, auth, post_webhook, payload):
    post_webhook(fresh(payload("wa_text.json")))
    auth.login("officer")
    sid = sender_id(app)
    for value in ("", "abc", "999999", "99999999999999999999999", "-1"):
        r = client.post(f"/social/senders/{sid}/link?lang=en", data={"beneficiary_id": value})
        assert r.status_code == 422
        assert "Choose a beneficiary from the search results." in text_of(r)
    with app.app_context(), database.connection_context():
        assert Sender.get().beneficiary_id is None
    assert client.post("/social/senders/99999/link", data={"beneficiary_id": "1"}).status_code == 404


def test_unmatched_conversations_are_for_officers_and_admins(app, client, auth, post_webhook, payload):
    post_webhook(fresh(payload("wa_text.json")))
    sid = sender_id(app)
    for role, status in (("officer", 200), ("admin", 200), ("researcher", 403), ("delegate", 403)):
        auth.login(role)
        assert client.get(f"/social/senders/{sid}").status_code == status, role
        auth.logout()


def test_reply_goes_out_and_shows_delivered_after_status(app, client, auth, graph, make_beneficiary,
                                                         post_webhook, payload):
    ben = make_beneficiary(mobile="0551112233")
    post_webhook(fresh(payload("wa_text.json")))
    auth.login("officer")
    sid = sender_id(app)
    r = client.post(f"/social/senders/{sid}/reply", data={"text": "وعليكم السلام، القرار خلال أسبوعين."})
    assert r.status_code == 302
    sent = graph.sent()
    assert len(sent) == 1 and sent[0]["path"] == f"/v21.0/{PHONE_NUMBER_ID}/messages"
    assert sent[0]["json"] == {"messaging_product": "whatsapp", "recipient_type": "individual",
                               "to": "966551112233", "type": "text",
                               "text": {"preview_url": False, "body": "وعليكم السلام، القرار خلال أسبوعين."}}
    with app.app_context(), database.connection_context():
        out = Message.get(Message.direction == "out")
        assert out.provider_id == "wamid.OUT0001" and out.state == "accepted"
        entry = TimelineEntry.get_by_id(out.entry_id)
        assert (entry.beneficiary_id, entry.direction, entry.channel) == (ben, "out", "social")
    status = payload("wa_status_delivered.json")
    post_webhook(status)
    post_webhook(status)  # Meta retries: nothing changes twice
    with app.app_context(), database.connection_context():
        assert Message.get(Message.direction == "out").state == "delivered"
        assert StatusEvent.select().count() == 1
    page = text_of(client.get(f"/beneficiaries/{ben}?lang=en"))
    assert "Delivered" in page
    assert "وصلت" in text_of(client.get(f"/beneficiaries/{ben}?lang=ar"))
    # "sent" arriving late does not move it back; "read" moves it forward; "failed" after delivery is ignored
    late = payload("wa_status_delivered.json")
    for state in ("sent", "read", "failed"):
        late["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = state
        post_webhook(late)
    with app.app_context(), database.connection_context():
        assert Message.get(Message.direction == "out").state == "read"


def test_failed_status_shows_the_reason(app, client, auth, graph, post_webhook, payload):
    post_webhook(fresh(payload("wa_text.json")))
    auth.login("officer")
    sid = sender_id(app)
    client.post(f"/social/senders/{sid}/reply", data={"text": "مرحبا"})
    post_webhook(payload("wa_status_failed.json"))
    page = text_of(client.get(f"/social/senders/{sid}?lang=en"))
    assert "Not delivered" in page and "131047" in page and "24 hours have passed" in page


def test_status_before_the_send_recorded_its_id_is_applied_later(app, client, auth, graph, post_webhook, payload):
    post_webhook(payload("wa_status_delivered.json"))  # overtakes the send
    post_webhook(fresh(payload("wa_text.json")))
    auth.login("officer")
    client.post(f"/social/senders/{sender_id(app)}/reply", data={"text": "مرحبا"})
    with app.app_context(), database.connection_context():
        assert Message.get(Message.direction == "out").state == "delivered"


def test_reply_outside_24_hours_is_refused_with_the_reason_and_template_offered(app, client, auth, graph,
                                                                                 post_webhook, payload):
    post_webhook(payload("wa_text.json"))  # its timestamp is long past
    auth.login("officer")
    sid = sender_id(app)
    r = client.post(f"/social/senders/{sid}/reply?lang=en", data={"text": "نص حر"})
    assert r.status_code == 422
    page = text_of(r)
    assert "More than 24 hours have passed" in page and "Send the follow-up template" in page
    assert graph.sent() == []
    with app.app_context(), database.connection_context():
        assert Message.select().where(Message.direction == "out").count() == 0
    r = client.post(f"/social/senders/{sid}/reply", data={"template": "follow_up"})
    assert r.status_code == 302
    body = graph.sent()[0]["json"]
    assert body["type"] == "template" and body["template"]["name"] == "sila_follow_up"
    assert body["template"]["language"] == {"code": "ar"}
    assert body["template"]["components"][0]["parameters"] == [{"type": "text", "text": "أم خالد"}]


def test_reply_bad_input(app, client, auth, graph, post_webhook, payload):
    post_webhook(fresh(payload("wa_text.json")))
    auth.login("officer")
    sid = sender_id(app)
    r = client.post(f"/social/senders/{sid}/reply?lang=en", data={"text": "   "})
    assert r.status_code == 422 and "Write the message first." in text_of(r)
    long_text = "ن" * 4097
    r = client.post(f"/social/senders/{sid}/reply?lang=en", data={"text": long_text})
    assert r.status_code == 422 and "too long" in text_of(r)
    assert long_text in r.get_data(as_text=True)  # what was typed is kept
    assert graph.sent() == []
    assert client.post("/social/senders/424242/reply", data={"text": "x"}).status_code == 404


@pytest.mark.parametrize("failures, attempts, state", [
    ([500, 502], 3, "accepted"),  # server errors are retried until one succeeds
    ([400], 1, "failed"),  # a refused request is not
])
def test_graph_errors_are_retried_only_when_transient(app, client, auth, graph, post_webhook, payload, failures,
                                                      attempts, state):
    post_webhook(fresh(payload("wa_text.json")))
    graph.fail[f"/v21.0/{PHONE_NUMBER_ID}/messages"] = failures
    auth.login("officer")
    client.post(f"/social/senders/{sender_id(app)}/reply", data={"text": "مرحبا"})
    assert len(graph.sent()) == attempts
    with app.app_context(), database.connection_context():
        assert Message.get(Message.direction == "out").state == state


def test_graph_timeouts_leave_failed_state_and_officer_can_retry(app, client, auth, graph, post_webhook, payload):
    post_webhook(fresh(payload("wa_text.json")))
    graph.fail[f"/v21.0/{PHONE_NUMBER_ID}/messages"] = ["timeout", "timeout", "timeout"]
    auth.login("officer")
    sid = sender_id(app)
    client.post(f"/social/senders/{sid}/reply", data={"text": "مرحبا"})
    with app.app_context(), database.connection_context():
        out = Message.get(Message.direction == "out")
        assert out.state == "failed" and "network error" in out.error and out.provider_id is None
    page = client.get(f"/social/senders/{sid}?lang=en")
    assert "Send again" in text_of(page) and "network error" in text_of(page)
    r = client.post(f"/social/messages/{out.id}/retry")
    assert r.status_code == 302
    with app.app_context(), database.connection_context():
        out = Message.get(Message.direction == "out")
        assert out.state == "accepted" and out.provider_id
    # once accepted it cannot be "retried" into a second send
    r = client.post(f"/social/messages/{out.id}/retry")
    with app.app_context(), database.connection_context():
        assert Message.select().where(Message.direction == "out").count() == 1
    assert len([s for s in graph.sent() if s["json"]]) == 4


def test_messenger_reply_uses_page_send_api(app, client, auth, graph, post_webhook, payload):
    data = payload("messenger_text.json")
    data["entry"][0]["messaging"][0]["timestamp"] = int(dt.datetime.now(dt.UTC).timestamp() * 1000) - 1000
    post_webhook(data)
    auth.login("officer")
    client.post(f"/social/senders/{sender_id(app)}/reply", data={"text": "نعم، تفضل بزيارة الفرع."})
    sent = graph.sent("/me/messages")
    assert sent[0]["json"] == {"recipient": {"id": "7200123456789012"}, "messaging_type": "RESPONSE",
                               "message": {"text": "نعم، تفضل بزيارة الفرع."}}
    with app.app_context(), database.connection_context():
        assert Message.get(Message.direction == "out").provider_id == "m_OUT0001"
    # Messenger delivery receipt by mid
    post_webhook({"object": "page", "entry": [{"id": "109876543210987", "time": 1, "messaging": [
        {"sender": {"id": "7200123456789012"}, "recipient": {"id": "109876543210987"},
         "delivery": {"mids": ["m_OUT0001"], "watermark": 1}}]}]})
    with app.app_context(), database.connection_context():
        assert Message.get(Message.direction == "out").state == "delivered"


def test_stored_xss_and_bidi_controls_are_neutralised(app, client, auth, post_webhook, payload):
    data = fresh(payload("wa_text.json"))
    value = data["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["profile"]["name"] = '<img src=x onerror=alert(1)>'
    value["messages"][0]["text"]["body"] = '<script>alert("x")</script>\u202eexe.pdf\u202c <b>bold</b>'
    post_webhook(data)
    auth.login("officer")
    sid = sender_id(app)
    for url in ("/social/inbox", f"/social/senders/{sid}"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>bold</b>" not in html
        assert "&lt;script&gt;" in html or "&lt;img" in html
        assert "\u202e" not in html
    assert "exe.pdf" in client.get(f"/social/senders/{sid}").get_data(as_text=True)


def test_inbox_runs_a_constant_number_of_queries(app, client, auth, post_webhook, payload):
    auth.login("officer")

    def queries():
        with count_queries() as counter:
            assert client.get("/social/inbox").status_code == 200
        return counter.count

    for n in range(2):
        data = fresh(payload("wa_text.json"))
        value = data["entry"][0]["changes"][0]["value"]
        value["contacts"][0]["wa_id"] = value["messages"][0]["from"] = f"96655000000{n}"
        value["messages"][0]["id"] = f"wamid.N{n}"
        post_webhook(data)
    few = queries()
    for n in range(2, 8):
        data = fresh(payload("wa_text.json"))
        value = data["entry"][0]["changes"][0]["value"]
        value["contacts"][0]["wa_id"] = value["messages"][0]["from"] = f"96655000000{n}"
        value["messages"][0]["id"] = f"wamid.N{n}"
        post_webhook(data)
    assert queries() == few


def test_timeline_with_social_entries_keeps_constant_queries(app, client, auth, make_beneficiary, post_webhook,
                                                              payload):
    ben = make_beneficiary(mobile="0551112233")
    auth.login("officer")

    def queries():
        with count_queries() as counter:
            assert client.get(f"/beneficiaries/{ben}/timeline").status_code == 200
        return counter.count

    post_webhook(fresh(payload("wa_text.json")))
    few = queries()
    for n in range(6):
        data = fresh(payload("wa_text.json"))
        data["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = f"wamid.M{n}"
        post_webhook(data)
    assert queries() == few


def test_dashboard_shows_waiting_senders_and_failed_deliveries(app, client, auth, post_webhook, payload):
    post_webhook(fresh(payload("wa_text.json")))
    post_webhook(None, raw=b"{broken")
    auth.login("officer")
    page = text_of(client.get("/?lang=en"))
    assert "1 sender(s) waiting to be linked" in page and "failed to process" not in page
    auth.logout()
    auth.login("admin")
    page = text_of(client.get("/?lang=ar"))
    assert "1 مرسل بانتظار الربط بمستفيد" in page and "1 طلب وارد من ميتا تعذّرت معالجته" in page
    auth.logout()
    auth.login("researcher")
    assert "sender(s) waiting" not in text_of(client.get("/?lang=en"))


def test_files_with_the_senders_number_are_offered_for_linking(app, client, auth, make_beneficiary, post_webhook,
                                                               payload):
    post_webhook(fresh(payload("wa_text.json")))  # nobody has this number yet: unmatched
    ben = make_beneficiary(mobile="0551112233", first_name="نوال")  # registered afterwards
    auth.login("officer")
    page = client.get(f"/social/senders/{sender_id(app)}?lang=en")
    assert "Files with this mobile number:" in text_of(page) and "نوال" in text_of(page)
    assert f'name="beneficiary_id" value="{ben}"' in page.get_data(as_text=True)
