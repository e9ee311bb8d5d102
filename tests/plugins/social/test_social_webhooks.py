"""Meta webhooks: handshake, signatures over the raw body, storage before processing, idempotency,
every message type, unknown objects and malformed bodies."""
import json

from social_helpers import app_config, graph, payload, post_webhook, smtp  # noqa: F401  (fixtures)
from social_helpers import PDF_BYTES, SECRET, VERIFY_TOKEN, fresh, jpeg_bytes, text_of

from portal.db import database
from portal.models import Attachment, TimelineEntry

from plugins.social.models import Message, Sender, StatusEvent, WebhookDelivery
from plugins.social.processing import sign


def counts(app):
    with app.app_context(), database.connection_context():
        return (WebhookDelivery.select().count(), Message.select().count(), TimelineEntry.select().count())


def test_handshake_echoes_challenge(client):
    r = client.get("/webhooks/meta", query_string={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                                                   "hub.challenge": "1158201444"})
    assert r.status_code == 200
    assert r.get_data(as_text=True) == "1158201444"


def test_handshake_refuses_wrong_token_or_mode(client):
    for params in ({"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
                   {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
                   {"hub.challenge": "1"}):
        r = client.get("/webhooks/meta", query_string=params)
        assert r.status_code == 403
        assert "1" != r.get_data(as_text=True)


def test_handshake_refused_when_no_token_configured(app_config, client):
    from portal import create_app

    app_config["SOCIAL_VERIFY_TOKEN"] = ""
    other = create_app(app_config).test_client()
    r = other.get("/webhooks/meta", query_string={"hub.mode": "subscribe", "hub.verify_token": "",
                                                  "hub.challenge": "1"})
    assert r.status_code == 403


def test_bad_missing_or_reencoded_signature_stores_nothing(app, post_webhook, payload):
    data = payload("wa_text.json")
    raw = json.dumps(data, ensure_ascii=False).encode("utf-8")
    assert post_webhook(None, raw=raw, signature="").status_code == 403
    assert post_webhook(None, raw=raw, signature="sha256=" + "0" * 64).status_code == 403
    assert post_webhook(None, raw=raw, signature=sign(raw, "another-secret")).status_code == 403
    assert post_webhook(None, raw=raw, signature=sign(raw, SECRET)[7:]).status_code == 403  # no "sha256="
    # Signed over a re-encoded body (ASCII escapes, other spacing) while the raw bytes differ.
    reencoded = json.dumps(data).encode("ascii")
    assert post_webhook(None, raw=raw, signature=sign(reencoded, SECRET)).status_code == 403
    assert counts(app) == (0, 0, 0)


def test_text_from_unknown_number_lands_in_unmatched_inbox(app, client, auth, post_webhook, payload):
    r = post_webhook(fresh(payload("wa_text.json")))
    assert r.status_code == 200 and r.get_data(as_text=True) == "EVENT_RECEIVED"
    with app.app_context(), database.connection_context():
        delivery = WebhookDelivery.get()
        assert delivery.state == "processed" and delivery.object_type == "whatsapp_business_account"
        assert "متى يصدر قرار طلبي" in delivery.body  # raw body kept as received
        entry = TimelineEntry.get()
        assert entry.beneficiary_id is None and entry.channel == "social" and entry.direction == "in"
        assert entry.body == "السلام عليكم، متى يصدر قرار طلبي؟"
        sender = Sender.get()
        assert (sender.platform, sender.handle, sender.phone, sender.display_name) == (
            "whatsapp", "966551112233", "+966551112233", "أم خالد")
    auth.login("officer")
    page = text_of(client.get("/social/inbox?lang=en"))
    assert "أم خالد" in page and "متى يصدر قرار طلبي" in page


def test_known_mobile_goes_straight_to_the_timeline(app, make_beneficiary, post_webhook, payload):
    ben = make_beneficiary(mobile="0551112233")
    post_webhook(fresh(payload("wa_text.json")))
    with app.app_context(), database.connection_context():
        assert TimelineEntry.get().beneficiary_id == ben
        assert Sender.get().beneficiary_id == ben


def test_same_message_three_times_gives_one_entry(app, post_webhook, payload):
    data = fresh(payload("wa_text.json"))
    for _ in range(3):
        assert post_webhook(data).status_code == 200
    with app.app_context(), database.connection_context():
        assert WebhookDelivery.select().count() == 3  # every delivery is kept
        assert Message.select().count() == 1
        assert TimelineEntry.select().count() == 1
        notes = [d.notes for d in WebhookDelivery.select().order_by(WebhookDelivery.id)]
        assert notes[0] is None and "duplicate message" in notes[1][0] and "duplicate message" in notes[2][0]


def test_image_is_downloaded_through_graph_and_stored(app, client, auth, graph, post_webhook, payload):
    image = jpeg_bytes()
    graph.media["1479537139650973"] = (image, "image/jpeg")
    post_webhook(fresh(payload("wa_image.json")))
    with app.app_context(), database.connection_context():
        entry = TimelineEntry.get()
        att = Attachment.get()
        assert att.entry_id == entry.id and att.content_type == "image/jpeg" and att.size == len(image)
        assert entry.data["media"]["state"] == "stored" and entry.body == "صورة الهوية"
    lookups = [r for r in graph.requests if r["method"] == "GET"]
    assert [r["path"] for r in lookups] == ["/v21.0/1479537139650973", "/files/1479537139650973"]
    assert lookups[0]["headers"]["Authorization"] == "Bearer EAAtest-token"
    auth.login("officer")
    with app.app_context(), database.connection_context():
        sender_id = Sender.get().id
    page = client.get(f"/social/senders/{sender_id}").get_data(as_text=True)
    assert f'src="/social/media/{att.id}"' in page
    r = client.get(f"/social/media/{att.id}")
    assert r.status_code == 200 and r.data == image and r.mimetype == "image/jpeg"


def test_document_shows_as_a_link(app, client, auth, graph, post_webhook, payload):
    graph.media["2734910023371119"] = (PDF_BYTES, "application/pdf")
    post_webhook(fresh(payload("wa_document.json")))
    with app.app_context(), database.connection_context():
        att = Attachment.get()
        assert att.file_name == "sak.pdf" and att.content_type == "application/pdf"
        sender_id = Sender.get().id
    auth.login("officer")
    page = client.get(f"/social/senders/{sender_id}").get_data(as_text=True)
    assert f'href="/social/media/{att.id}"' in page and "sak.pdf" in page
    r = client.get(f"/social/media/{att.id}")
    assert r.data == PDF_BYTES and "attachment" in r.headers["Content-Disposition"]


def test_disguised_media_is_refused_not_stored(app, graph, post_webhook, payload):
    graph.media["1479537139650973"] = (b"<html><script>alert(1)</script></html>", "image/jpeg")
    post_webhook(fresh(payload("wa_image.json")))
    with app.app_context(), database.connection_context():
        assert Attachment.select().count() == 0
        entry = TimelineEntry.get()
        assert entry.data["media"]["state"] == "refused"
        assert WebhookDelivery.get().state == "processed"  # nothing to retry: the file is bad


def test_media_500_then_success_is_retried_with_backoff(app, graph, post_webhook, payload):
    graph.media["1479537139650973"] = (jpeg_bytes(), "image/jpeg")
    graph.fail["/v21.0/1479537139650973"] = [500, 500]
    post_webhook(fresh(payload("wa_image.json")))
    with app.app_context(), database.connection_context():
        assert TimelineEntry.get().data["media"]["state"] == "stored"
    assert len([r for r in graph.requests if r["path"] == "/v21.0/1479537139650973"]) == 3


def test_media_timeouts_leave_delivery_failed_then_retry_fetches_it(app, client, auth, graph, post_webhook, payload):
    graph.media["1479537139650973"] = (jpeg_bytes(), "image/jpeg")
    graph.fail["/v21.0/1479537139650973"] = ["timeout", "timeout", "timeout"]
    post_webhook(fresh(payload("wa_image.json")))
    with app.app_context(), database.connection_context():
        delivery = WebhookDelivery.get()
        assert delivery.state == "failed" and "network error" in delivery.error
        assert delivery.next_attempt_at is not None and delivery.attempts == 1
        entry = TimelineEntry.get()
        assert entry.body == "صورة الهوية"  # the message is not lost while its file is missing
        assert entry.data["media"]["state"] == "failed"
    auth.login("admin")
    page = text_of(client.get("/social/deliveries?lang=en"))
    assert "network error" in page and "Failed" in page
    r = client.post(f"/social/deliveries/{delivery.id}/retry")
    assert r.status_code == 302
    with app.app_context(), database.connection_context():
        assert WebhookDelivery.get().state == "processed"
        assert TimelineEntry.select().count() == 1
        assert TimelineEntry.get().data["media"]["state"] == "stored"


def test_periodic_retry_picks_up_due_deliveries(app, graph, post_webhook, payload):
    import datetime as dt

    from plugins.social.inbound import retry_due

    graph.media["1479537139650973"] = (jpeg_bytes(), "image/jpeg")
    graph.fail["/v21.0/1479537139650973"] = [503, 503, 503]
    post_webhook(fresh(payload("wa_image.json")))
    with app.app_context(), database.connection_context():
        assert retry_due() == 0  # its backoff has not passed yet
        WebhookDelivery.update(next_attempt_at=dt.datetime(2000, 1, 1)).execute()
        assert retry_due() == 1
        delivery = WebhookDelivery.get()
        assert delivery.state == "processed" and delivery.attempts == 2
        assert TimelineEntry.get().data["media"]["state"] == "stored"


def test_location_interactive_and_button_replies(app, client, auth, post_webhook, payload):
    for name in ("wa_location.json", "wa_interactive.json", "wa_button.json"):
        assert post_webhook(fresh(payload(name))).status_code == 200
    with app.app_context(), database.connection_context():
        kinds = {e.data["kind"]: e for e in TimelineEntry.select()}
        assert kinds["location"].data["location"]["lat"] == 21.3891
        assert kinds["interactive"].body == "نعم، أؤكد الموعد"
        assert kinds["button"].body == "اتصلوا بي"
        sender_id = Sender.get().id
    auth.login("officer")
    page = text_of(client.get(f"/social/senders/{sender_id}?lang=en"))
    assert "منزلي" in page and "21.38910, 39.85790" in page and "Button reply" in page


def test_unknown_message_type_is_kept_and_shown(app, client, auth, post_webhook, payload):
    data = fresh(payload("wa_text.json"))
    msg = data["entry"][0]["changes"][0]["value"]["messages"][0]
    msg["type"] = "hologram"
    msg["hologram"] = {"id": "x"}
    post_webhook(data)
    post_webhook(fresh(payload("wa_unsupported.json")))
    with app.app_context(), database.connection_context():
        assert {e.data["unsupported"] for e in TimelineEntry.select()} == {"hologram", "unsupported"}
        sender_id = Sender.get().id
    auth.login("officer")
    page = text_of(client.get(f"/social/senders/{sender_id}?lang=en"))
    assert page.count("Unsupported message type") == 2 and "hologram" in page
    page_ar = text_of(client.get(f"/social/senders/{sender_id}?lang=ar"))
    assert "نوع رسالة غير مدعوم" in page_ar


def test_sender_with_user_id_only_is_kept_as_handle(app, post_webhook, payload):
    post_webhook(fresh(payload("wa_user_id.json")))
    with app.app_context(), database.connection_context():
        sender = Sender.get()
        assert (sender.handle, sender.phone, sender.display_name) == ("SA.1122334455667788", "", "Nora")
        assert TimelineEntry.get().beneficiary_id is None


def test_unknown_object_type_is_acknowledged_stored_and_flagged(app, client, auth, post_webhook, payload):
    r = post_webhook(payload("unknown_object.json"))
    assert r.status_code == 200
    with app.app_context(), database.connection_context():
        delivery = WebhookDelivery.get()
        assert delivery.state == "ignored" and "unknown object type 'user'" in delivery.notes[0]
        assert TimelineEntry.select().count() == 0
    auth.login("admin")
    assert "unknown object type" in text_of(client.get("/social/deliveries"))


def test_malformed_json_is_stored_with_its_error(app, post_webhook):
    raw = b'{"object": "whatsapp_business_account", "entry": [}'
    r = post_webhook(None, raw=raw)
    assert r.status_code == 400
    with app.app_context(), database.connection_context():
        delivery = WebhookDelivery.get()
        assert delivery.state == "failed" and "malformed JSON" in delivery.error
        assert delivery.next_attempt_at is None  # retrying cannot help
        assert delivery.body == raw.decode()


def test_json_that_is_not_an_object(app, post_webhook):
    assert post_webhook(None, raw=b"[1, 2]").status_code == 400
    with app.app_context(), database.connection_context():
        assert WebhookDelivery.get().state == "failed"


def test_oversized_body_is_refused(app, post_webhook):
    raw = b'{"object": "page", "pad": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    assert post_webhook(None, raw=raw).status_code == 413
    assert counts(app) == (0, 0, 0)


def test_messenger_and_instagram_messages(app, graph, post_webhook, payload):
    graph.media["photo"] = (jpeg_bytes(), "image/jpeg")
    graph.profiles["7200123456789012"] = {"first_name": "فاطمة", "last_name": "الزهراني", "id": "7200123456789012"}
    image = payload("messenger_image.json")
    image["entry"][0]["messaging"][0]["message"]["attachments"][0]["payload"]["url"] = graph.url + "/files/photo"
    for data in (payload("messenger_text.json"), image, payload("instagram_text.json")):
        assert post_webhook(data).status_code == 200
    with app.app_context(), database.connection_context():
        senders = {(s.platform, s.handle) for s in Sender.select()}
        assert senders == {("messenger", "7200123456789012"), ("instagram", "1234567890123456")}
        names = {s.platform: s.display_name for s in Sender.select()}
        assert names == {"messenger": "فاطمة الزهراني", "instagram": ""}  # Instagram lookup answered 404
    profile_lookups = [r for r in graph.requests if "fields=" in r["path"]]
    assert [r["path"] for r in profile_lookups] == ["/v21.0/7200123456789012?fields=first_name,last_name",
                                                    "/v21.0/1234567890123456?fields=name,username"]
    with app.app_context(), database.connection_context():
        assert Message.select().count() == 3
        assert Attachment.select().count() == 1
        assert all(e.beneficiary_id is None for e in TimelineEntry.select())


def test_messenger_echo_is_not_a_new_message(app, post_webhook, payload):
    data = payload("messenger_text.json")
    data["entry"][0]["messaging"][0]["message"]["is_echo"] = True
    post_webhook(data)
    with app.app_context(), database.connection_context():
        assert Message.select().count() == 0 and WebhookDelivery.get().state == "processed"


def test_status_for_unknown_message_is_stored_not_an_error(app, post_webhook, payload):
    assert post_webhook(payload("wa_status_delivered.json")).status_code == 200
    with app.app_context(), database.connection_context():
        delivery = WebhookDelivery.get()
        assert delivery.state == "processed" and "unknown message wamid.OUT0001" in delivery.notes[0]
        event = StatusEvent.get()
        assert event.message_id is None and event.status == "delivered"


def test_long_text_is_cut_to_the_documented_limit(app, post_webhook, payload):
    data = fresh(payload("wa_text.json"))
    data["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = "ب" * 5000
    post_webhook(data)
    with app.app_context(), database.connection_context():
        entry = TimelineEntry.get()
        assert len(entry.body) == 4096 and len(entry.summary) <= 300
