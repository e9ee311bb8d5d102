"""Delivery status of WhatsApp messages on the timeline, from Meta's ``statuses`` webhooks (id, status
sent|delivered|read|failed, timestamp, recipient_id, errors[]): forward only, a repeat changes nothing, an
unknown id is acknowledged and noted, a bad signature is refused; written through ``update_entry``; a failed
message becomes one call-back task and counts once among the messages not delivered."""
import copy
import json

from social_helpers import app_config, graph, payload, post_webhook, smtp  # noqa: F401  (fixtures)
from social_helpers import SECRET, fresh, text_of

from portal.db import database
from portal.models import AuditEvent, TimelineEntry

from plugins.social.models import Message, StatusEvent, WebhookDelivery
from plugins.social.processing import sign


def notice(app, ben_id, text="تمت الموافقة على طلبك 1448-000042", purpose="decision"):
    """A notice through the core's ``notify`` (as every request step sends one)."""
    from portal.models import Beneficiary
    from portal.workflow.notify import notify

    with app.test_request_context(), database.connection_context():
        return notify(Beneficiary.get_by_id(ben_id), text, purpose,
                      context={"reference": "1448-000042", "decision": "مقبول"})


def status(payload, state: str, wamid="wamid.OUT0001", errors=None) -> dict:
    data = copy.deepcopy(payload("wa_status_delivered.json"))
    item = data["entry"][0]["changes"][0]["value"]["statuses"][0]
    item.update(id=wamid, status=state)
    if errors is not None:
        item["errors"] = errors
    return data


def entries(app):
    """(the message's own conversation entry, the core's notice entry, the message)."""
    with app.app_context(), database.connection_context():
        message = Message.get(Message.direction == "out")
        return (TimelineEntry.get_by_id(message.entry_id), TimelineEntry.get_by_id(message.notice_entry_id), message)


def call_backs(app):
    from portal.workflow.models import OutreachTask

    with app.app_context(), database.connection_context():
        return list(OutreachTask.select().where(OutreachTask.kind == "call_back"))


def updates(app, entry_id) -> int:
    with app.app_context(), database.connection_context():
        return AuditEvent.select().where((AuditEvent.object_type == "timeline_entry") & (AuditEvent.action == "update")
                                         & (AuditEvent.object_id == str(entry_id))).count()


def test_a_whatsapp_notice_follows_meta_statuses(app, client, auth, graph, make_beneficiary, post_webhook, payload):
    ben = make_beneficiary(mobile="0551112233", preferred_channel="social")
    result = notice(app, ben)
    assert result["channel"] == "social"
    own, notice_entry, message = entries(app)
    # the notice carries the delivery state; the conversation's own entry keeps the message's state only
    assert notice_entry.data["kind"] == "notification" and notice_entry.data["delivery_state"] == "sent"
    assert own.data["state"] == "accepted" and "delivery_state" not in own.data
    for state, shown in (("sent", "sent"), ("delivered", "delivered"), ("read", "read")):
        assert post_webhook(status(payload, state)).status_code == 200
        assert entries(app)[1].data["delivery_state"] == shown
    writes = updates(app, notice_entry.id)
    # late and repeated statuses: a "delivered" after "read", "read" twice — nothing moves, nothing is written
    post_webhook(status(payload, "delivered"))
    post_webhook(status(payload, "read"))
    own, notice_entry, message = entries(app)
    assert message.state == "read" and notice_entry.data["delivery_state"] == "read" and own.data["state"] == "read"
    assert updates(app, notice_entry.id) == writes
    auth.login()
    page = client.get(f"/beneficiaries/{ben}?lang=en")
    assert page.get_data(as_text=True).count('data-delivery-state="read"') == 2  # each entry once, one chip each
    assert "Read" in text_of(page)


def test_a_failed_whatsapp_message_becomes_one_call_back(app, client, auth, graph, make_beneficiary, post_webhook,
                                                         payload):
    ben = make_beneficiary(mobile="0551112233", preferred_channel="social")
    notice(app, ben)
    failed = payload("wa_status_failed.json")
    assert post_webhook(failed).status_code == 200
    # Meta sends it again, and a "delivered" arrives late: failed is final, still one task
    post_webhook(failed)
    post_webhook(status(payload, "delivered"))
    own, notice_entry, message = entries(app)
    assert message.state == "failed" and notice_entry.data["delivery_state"] == "failed"
    # Meta took it ("sent" stays true), the network did not deliver it
    assert "131047" in notice_entry.data["delivery_error"] and notice_entry.data["sent"] is True
    assert own.data["state"] == "failed" and "delivery_state" not in own.data
    tasks = call_backs(app)
    assert len(tasks) == 1 and tasks[0].beneficiary_id == ben and tasks[0].source["message"] == message.id
    assert "WhatsApp" in tasks[0].reason
    # the officer's dashboard lists it once (the notice entry), not once per entry
    auth.login("officer")
    html = client.get("/?lang=en").get_data(as_text=True)
    section = html[html.index('id="dash-undelivered"'):html.index('id="h-today"')]
    assert section.count("<li>") == 1 and "1448-000042" in section


def test_a_reply_that_fails_shows_on_its_own_entry(app, client, auth, graph, make_beneficiary, post_webhook, payload):
    ben = make_beneficiary(mobile="0551112233")
    post_webhook(fresh(payload("wa_text.json")))
    auth.login("officer")
    with app.app_context(), database.connection_context():
        from plugins.social.models import Sender

        sid = Sender.get().id
    client.post(f"/social/senders/{sid}/reply", data={"text": "مرحبا"})
    with app.app_context(), database.connection_context():
        message = Message.get(Message.direction == "out")
        assert TimelineEntry.get_by_id(message.entry_id).data["delivery_state"] == "sent"
    post_webhook(payload("wa_status_failed.json"))
    with app.app_context(), database.connection_context():
        entry = TimelineEntry.get_by_id(Message.get(Message.direction == "out").entry_id)
        assert entry.data["delivery_state"] == "failed" and entry.data["state"] == "failed"
    assert len(call_backs(app)) == 1
    page = client.get(f"/beneficiaries/{ben}?lang=ar").get_data(as_text=True)
    assert page.count('data-delivery-state="failed"') == 1 and "لم تصل" in page


def test_status_for_an_unknown_id_is_acknowledged_and_noted(app, graph, make_beneficiary, post_webhook, payload):
    ben = make_beneficiary(mobile="0551112233", preferred_channel="social")
    notice(app, ben)
    r = post_webhook(status(payload, "failed", wamid="wamid.NOT-OURS"))
    assert r.status_code == 200
    with app.app_context(), database.connection_context():
        delivery = WebhookDelivery.select().order_by(WebhookDelivery.id.desc()).get()
        assert delivery.state == "processed" and "status failed for unknown message wamid.NOT-OURS" in delivery.notes
    assert entries(app)[2].state == "accepted" and not call_backs(app)


def test_status_webhook_with_a_bad_signature_changes_nothing(app, graph, make_beneficiary, post_webhook, payload):
    ben = make_beneficiary(mobile="0551112233", preferred_channel="social")
    notice(app, ben)
    raw = json.dumps(payload("wa_status_failed.json")).encode("utf-8")
    with app.app_context(), database.connection_context():
        before = (WebhookDelivery.select().count(), StatusEvent.select().count())
    for signature in (sign(raw, "not-the-app-secret"), "sha256=" + "0" * 64, ""):
        assert post_webhook(None, raw=raw, signature=signature).status_code == 403
    with app.app_context(), database.connection_context():
        assert (WebhookDelivery.select().count(), StatusEvent.select().count()) == before
    own, notice_entry, message = entries(app)
    assert message.state == "accepted" and notice_entry.data["delivery_state"] == "sent" and not call_backs(app)
    assert post_webhook(None, raw=raw, signature=sign(raw, SECRET)).status_code == 200  # the real one is taken


def test_delivery_keys_cannot_be_written_through_the_api(app):
    from portal.timeline import entry_data_errors

    with app.test_request_context():
        assert entry_data_errors("phone", {"delivery_state": "delivered"})
        assert entry_data_errors("social", {"delivery_error": "x"})
