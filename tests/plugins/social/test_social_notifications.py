"""``send_message``: WhatsApp templates (or text inside the 24-hour window) for beneficiaries who
prefer social media, email over SMTP for those who prefer email, nothing for the others."""
import email

import pytest

from social_helpers import app_config, graph, payload, post_webhook, smtp  # noqa: F401  (fixtures)
from social_helpers import fresh

from portal.db import database
from portal.models import Beneficiary, TimelineEntry
from portal.plugins import hook

from plugins.social.models import Message


def send(app, ben_id, text, purpose, context=None, channel=None):
    with app.test_request_context(), database.connection_context():
        ben = Beneficiary.get_by_id(ben_id)
        return hook().send_message(beneficiary=ben, text=text, purpose=purpose, channel=channel,
                                   context=context or {})


def test_decision_goes_out_as_whatsapp_template(app, graph, make_beneficiary, post_webhook, payload):
    ben = make_beneficiary(mobile="0551112233", preferred_channel="social")
    result = send(app, ben, "تمت الموافقة على طلبك 1448-000042", "decision",
                  {"reference": "1448-000042", "decision": "مقبول"})
    assert result["channel"] == "social" and result["id"].startswith("whatsapp:")
    body = graph.sent()[0]["json"]
    assert body["to"] == "966551112233" and body["type"] == "template"
    assert body["template"]["name"] == "sila_decision"
    assert body["template"]["components"] == [{"type": "body", "parameters": [
        {"type": "text", "text": "1448-000042"}, {"type": "text", "text": "مقبول"}]}]
    with app.app_context(), database.connection_context():
        entry = TimelineEntry.get()
        assert (entry.beneficiary_id, entry.channel, entry.direction) == (ben, "social", "out")
        assert entry.data["state"] == "accepted" and entry.data["template"] == "sila_decision"
    post_webhook(payload("wa_status_delivered.json"))
    with app.app_context(), database.connection_context():
        assert TimelineEntry.get().data["state"] == "delivered"


def test_inside_the_window_a_plain_text_is_sent(app, graph, make_beneficiary, post_webhook, payload):
    ben = make_beneficiary(mobile="0551112233", preferred_channel="social")
    post_webhook(fresh(payload("wa_text.json")))  # they wrote a moment ago
    send(app, ben, "رقم طلبك 1448-000042", "case_reference", {"reference": "1448-000042"})
    body = graph.sent()[0]["json"]
    assert body["type"] == "text" and body["text"]["body"] == "رقم طلبك \u20681448-000042\u2069"  # isolated


def test_one_time_code_always_uses_the_authentication_template(app, graph, make_beneficiary, post_webhook, payload):
    ben = make_beneficiary(mobile="0551112233", preferred_channel="social")
    post_webhook(fresh(payload("wa_text.json")))
    send(app, ben, "رمزك 483920", "one_time_code", {"code": "483920"})
    template = graph.sent()[0]["json"]["template"]
    assert template["name"] == "sila_one_time_code"
    assert template["components"][1] == {"type": "button", "sub_type": "url", "index": "0",
                                         "parameters": [{"type": "text", "text": "483920"}]}


def test_missing_template_values_fall_back_to_the_generic_notification(app, graph, make_beneficiary):
    ben = make_beneficiary(mobile="0551112233", preferred_channel="social")
    send(app, ben, "ينقص ملفك:\nصك الإعالة\tوشهادة الراتب", "missing_documents", {"reference": "1448-000042"})
    template = graph.sent()[0]["json"]["template"]
    assert template["name"] == "sila_notification"
    # template parameters cannot hold new lines or tabs
    assert template["components"][0]["parameters"][0]["text"] == "ينقص ملفك: · صك الإعالة · وشهادة الراتب"


def test_send_failure_is_visible_on_the_timeline(app, client, auth, graph, make_beneficiary):
    ben = make_beneficiary(mobile="0551112233", preferred_channel="social")
    graph.fail["/v21.0/"] = [500, 500, 500]
    result = send(app, ben, "قرار", "decision", {"reference": "1448-000001", "decision": "مقبول"})
    # not claimed as sent: send_message answers nothing, so the next channel may try; the message is recorded,
    # the officer sees it failed (and can send it again) and has a call-back task
    assert result is None
    with app.app_context(), database.connection_context():
        assert Message.get().state == "failed"
    auth.login("officer")
    html = client.get(f"/beneficiaries/{ben}?lang=en").get_data(as_text=True)
    assert 'data-delivery-state="failed"' in html and "HTTP 500" in html


def test_email_goes_out_over_smtp(app_config, smtp, make_beneficiary, client):
    from portal import create_app

    app_config.update({"SOCIAL_SMTP_HOST": "127.0.0.1", "SOCIAL_SMTP_PORT": smtp.port,
                       "SOCIAL_SMTP_SECURITY": "none", "SOCIAL_SMTP_FROM": "notify@sila.example"})
    app = create_app(app_config)
    ben = make_beneficiary(email="huda@example.com", preferred_channel="email")
    result = send(app, ben, "تمت الموافقة على طلبك 1448-000042", "decision", {"reference": "1448-000042"})
    assert result["channel"] == "social" and result["id"].startswith("email:")
    assert len(smtp.messages) == 1
    received = smtp.messages[0]
    assert received["to"] == ["huda@example.com"] and received["from"] == "notify@sila.example"
    mail = email.message_from_bytes(received["data"], policy=email.policy.default)
    assert "1448-000042" in str(mail["Subject"]) and "قرار طلبك" in str(mail["Subject"])
    assert mail.get_content().strip() == "تمت الموافقة على طلبك \u20681448-000042\u2069"
    with app.app_context(), database.connection_context():
        entry = TimelineEntry.get()
        assert (entry.beneficiary_id, entry.channel, entry.direction) == (ben, "social", "out")
        assert entry.data["platform"] == "email" and entry.data["state"] == "sent"


def test_email_server_down_is_recorded_as_failed(app_config, make_beneficiary):
    import socket

    from portal import create_app

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app_config.update({"SOCIAL_SMTP_HOST": "127.0.0.1", "SOCIAL_SMTP_PORT": port, "SOCIAL_SMTP_SECURITY": "none"})
    app = create_app(app_config)
    ben = make_beneficiary(email="huda@example.com", preferred_channel="email")
    send(app, ben, "نص", "decision")
    with app.app_context(), database.connection_context():
        message = Message.get()
        assert message.state == "failed" and message.error


def test_other_preferences_are_left_to_other_plugins(app, graph, make_beneficiary):
    phone = make_beneficiary(preferred_channel="phone")
    no_email = make_beneficiary(preferred_channel="email")
    assert send(app, phone, "نص", "decision") is None
    assert send(app, no_email, "نص", "decision") is None  # no address, and no SMTP server configured
    assert graph.requests == []
    with app.app_context(), database.connection_context():
        assert TimelineEntry.select().count() == 0


def test_messages_left_queued_by_a_stopped_worker_are_sent_later(app, graph, make_beneficiary):
    import datetime as dt

    from plugins.social.models import Sender
    from plugins.social.outbound import requeue_stale, text_payload
    from portal.timeline import log_entry

    ben = make_beneficiary(mobile="0551112233", preferred_channel="social")
    with app.test_request_context(), database.connection_context():
        sender = Sender.create(platform="whatsapp", handle="966551112233", beneficiary=ben)
        entry = log_entry(channel="social", direction="out", beneficiary=Beneficiary.get_by_id(ben), summary="s",
                          data={"platform": "whatsapp", "state": "queued"})
        message = Message.create(platform="whatsapp", direction="out", sender=sender, entry=entry, state="queued",
                                 payload=text_payload("whatsapp", "966551112233", "مرحبا"))
        assert requeue_stale() == 0  # too recent: a worker may be on it
        Message.update(updated_at=dt.datetime(2000, 1, 1)).execute()
        assert requeue_stale() == 1
        assert Message.get_by_id(message.id).state == "accepted"
        assert TimelineEntry.get_by_id(entry.id).data["state"] == "accepted"
    assert len(graph.sent()) == 1


def test_notices_route_whatsapp_first_then_email_with_the_admins_template(app, graph, make_beneficiary):
    """The core's routing asks WhatsApp (route 10) before email (route 30); the template named for the notice
    (/admin/notices) is the one sent outside the 24-hour window."""
    from portal.workflow import notices

    ben_id = make_beneficiary(mobile="0551112233", email="sara@example.org", consent_contact=True)
    with app.test_request_context(), database.connection_context():
        notice = notices.deliver(Beneficiary.get_by_id(ben_id), "أحيل طلبك 1448-000042 إلى البحث", "research_referral",
                                 key="route-1", context={"template": "sila_research_v2", "reference": "1448-000042"})
        assert notice.state == "sent" and notice.channel == "social"
    template = graph.sent()[0]["json"]["template"]
    assert template["name"] == "sila_research_v2"


@pytest.mark.needs_plugins("email")  # the email channel (its route rank) is a plugin of its own
def test_without_whatsapp_the_routing_falls_back_to_email(app_config, smtp, make_beneficiary):
    from portal import create_app
    from portal.workflow import notices

    app_config.update({"SOCIAL_SMTP_HOST": "127.0.0.1", "SOCIAL_SMTP_PORT": smtp.port, "SOCIAL_PHONE_NUMBER_ID": "",
                       "SOCIAL_SMTP_SECURITY": "none", "SOCIAL_SMTP_FROM": "notify@sila.example", "SMS_PROVIDER": ""})
    app = create_app(app_config)
    ben_id = make_beneficiary(mobile="0551112233", email="huda@example.com", consent_contact=True)
    with app.test_request_context(), database.connection_context():
        notice = notices.deliver(Beneficiary.get_by_id(ben_id), "نص الإشعار", "research_referral", key="route-2")
        assert notice.state == "sent" and notice.channel == "social"
    assert len(smtp.messages) == 1 and smtp.messages[0]["to"] == ["huda@example.com"]
