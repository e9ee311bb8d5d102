"""Notices by SMS through ``send_message``: queued, sent by the job, retried without sending twice,
refused when they cannot go; delivery reports and replies through the generic webhook."""
import datetime as dt

import pytest

from sms_helpers import app_config, ben, gateway, post_report  # noqa: F401  (fixtures)
from portal.db import database, utcnow


def notify(app, ben_id, text="رقم طلبك \u20681448-000101\u2069", purpose="case_reference"):
    from portal.models import Beneficiary
    from portal.workflow.notify import notify as send

    with app.app_context(), database.connection_context():
        return send(Beneficiary.get_by_id(ben_id), text, purpose)


def messages(app):
    from plugins.sms.models import SmsMessage

    with app.app_context(), database.connection_context():
        return list(SmsMessage.select().order_by(SmsMessage.id))


def test_a_notice_goes_by_sms_and_is_on_the_timeline(app, ben, gateway):
    from portal.models import TimelineEntry

    result = notify(app, ben)
    assert result["channel"] == "sms" and result["state"] == "sent"
    sent = gateway.json()
    assert sent["to"] == "+966501234567" and sent["sender"] == "Sila" and sent["text"] == "رقم طلبك \u20681448-000101\u2069"
    [message] = messages(app)
    assert sent["id"] == str(message.id) and message.state == "sent" and message.gateway_id == "gw-1"
    assert message.parts == 1 and message.encoding == "ucs2" and message.attempts == 1
    with app.app_context(), database.connection_context():
        entry = TimelineEntry.get(TimelineEntry.beneficiary == ben)
        assert entry.channel == "sms" and entry.direction == "out"
        assert entry.summary == "أُرسلت رسالة إلى المستفيد" and entry.data["delivery"] == {"channel": "sms", "id": f"sms:{message.id}"}


def test_delivery_report_updates_the_state_once(app, ben, gateway, post_report, client, auth):
    notify(app, ben)
    r = post_report({"id": "gw-1", "status": "delivered"})
    assert r.status_code == 200 and r.get_json() == {"result": "applied"}
    [message] = messages(app)
    assert message.state == "delivered" and message.delivered_at is not None
    # the same report again, then a late "failed": nothing changes
    assert post_report({"id": "gw-1", "status": "delivered"}).get_json() == {"result": "unchanged"}
    assert post_report({"id": "gw-1", "status": "failed", "error": "late"}).get_json() == {"result": "unchanged"}
    assert messages(app)[0].state == "delivered"
    # the file shows it
    auth.login()
    page = client.get(f"/beneficiaries/{ben}").get_data(as_text=True)
    assert "delivery-state st-delivered" in page


def test_failed_report_keeps_the_reason(app, ben, gateway, post_report):
    notify(app, ben)
    assert post_report({"id": "gw-1", "status": "failed", "error": "absent subscriber"}).get_json() == {"result": "applied"}
    [message] = messages(app)
    assert message.state == "failed" and message.error == "absent subscriber"


@pytest.mark.parametrize("body, token, status", [
    ({"id": "gw-1", "status": "delivered"}, "wrong-token", 403),
    ({"id": "gw-1", "status": "delivered"}, None, 403),
    ({"id": "gw-1", "status": "exploded"}, "ok", 400),
    ({"status": "delivered"}, "ok", 400),
    ({"id": "", "status": "delivered"}, "ok", 400),
    ({"id": "gw-1"}, "ok", 400),
    ([1, 2], "ok", 400),
])
def test_bad_reports_change_nothing(app, ben, gateway, post_report, body, token, status):
    notify(app, ben)
    r = post_report(body) if token == "ok" else post_report(body, token=token)
    assert r.status_code == status
    assert messages(app)[0].state == "sent"


def test_malformed_and_oversized_reports(app, ben, gateway, post_report):
    notify(app, ben)
    assert post_report(None, raw=b"{not json").status_code == 400
    assert post_report(None, raw=b'{"id": "gw-1", "status": "delivered", "pad": "' + b"x" * 70000 + b'"}').status_code == 413
    assert messages(app)[0].state == "sent"


def test_report_for_an_unknown_id_is_acknowledged(app, ben, gateway, post_report):
    assert post_report({"id": "gw-999", "status": "delivered"}).get_json() == {"result": "unknown"}


def test_gateway_down_then_retry_sends_once(app, ben, gateway):
    from plugins.sms import service

    gateway.answers.append((500, {"error": "down"}))
    result = notify(app, ben)
    assert result["state"] == "queued"
    [message] = messages(app)
    assert message.state == "queued" and message.attempts == 1 and "HTTP 500" in message.error
    assert message.next_attempt_at > utcnow()
    with app.app_context(), database.connection_context():
        assert service.send_due() == 0  # not due yet
        assert service.send_due(now=utcnow() + dt.timedelta(minutes=5)) == 1
        # the job running again on a sent message does nothing
        assert service.deliver(message.id) == "sent"
        assert service.send_due(now=utcnow() + dt.timedelta(hours=2)) == 0
    assert len(gateway.requests) == 2 and gateway.json(0)["id"] == gateway.json(1)["id"] == str(message.id)
    assert messages(app)[0].state == "sent" and messages(app)[0].attempts == 2


def test_timeline_says_waiting_not_sent_while_queued(app, ben, gateway):
    from portal.models import TimelineEntry

    gateway.answers.append((503, b"busy"))
    notify(app, ben)
    with app.app_context(), database.connection_context():
        entry = TimelineEntry.get(TimelineEntry.beneficiary == ben)
        assert entry.summary == "رسالة إلى المستفيد بانتظار الإرسال"
        assert entry.data["sent"] is False and entry.data["queued"] is True


def test_garbage_answer_fails_at_once_and_is_not_claimed(app, ben, gateway):
    gateway.answers.append((200, b"<html>maintenance</html>"))
    assert notify(app, ben) is None  # not sent: the caller records "not sent"
    [message] = messages(app)
    assert message.state == "failed" and message.attempts == 1 and len(gateway.requests) == 1


def test_retries_stop_after_the_maximum(app, ben, gateway):
    from plugins.sms import service

    app.config["SMS_MAX_ATTEMPTS"] = 2
    gateway.answers.extend([(500, b"x"), (500, b"x"), (500, b"x")])
    notify(app, ben)
    with app.app_context(), database.connection_context():
        service.send_due(now=utcnow() + dt.timedelta(hours=1))
    [message] = messages(app)
    assert message.state == "failed" and message.attempts == 2 and len(gateway.requests) == 2


def test_no_consent_no_sms_except_the_decision(app, make_beneficiary, gateway):
    ben_id = make_beneficiary(mobile="0551112222")  # consent_contact is False
    assert notify(app, ben_id, "تذكير", purpose="follow_up") is None
    assert gateway.requests == []
    assert notify(app, ben_id, "قرار اللجنة", purpose="decision")["channel"] == "sms"


def test_non_saudi_number_is_not_texted(app, make_beneficiary, gateway):
    from portal.models import Beneficiary

    ben_id = make_beneficiary(mobile="0551112223")
    with app.app_context(), database.connection_context():
        Beneficiary.update(consent_contact=True, mobile="+971501234567").where(Beneficiary.id == ben_id).execute()
    assert notify(app, ben_id) is None and gateway.requests == []
    app.config["SMS_INTERNATIONAL"] = True
    assert notify(app, ben_id)["channel"] == "sms"
    assert gateway.json()["to"] == "+971501234567"


def test_a_text_of_eleven_parts_is_refused(app, ben, gateway):
    assert notify(app, ben, "ب" * 671) is None and gateway.requests == []
    assert notify(app, ben, "ب" * 670)["channel"] == "sms"
    assert messages(app)[-1].parts == 10


def test_without_a_gateway_nothing_is_claimed(app_config, ben, gateway):
    from portal import create_app

    plain = create_app(dict(app_config, SMS_PROVIDER=""))
    result = notify(plain, ben)
    assert result is None and gateway.requests == []


@pytest.mark.parametrize("sender", ["+966501234567", "00966501234567", "0501234567", "٠٥٠١٢٣٤٥٦٧"])
def test_a_reply_from_a_known_number_lands_on_the_file(app, ben, post_report, sender):
    from portal.models import TimelineEntry

    r = post_report({"from": sender, "text": "شكراً لكم", "id": "in-1"})
    assert r.get_json() == {"result": "stored"}
    assert post_report({"from": sender, "text": "شكراً لكم", "id": "in-1"}).get_json() == {"result": "unchanged"}
    with app.app_context(), database.connection_context():
        [entry] = TimelineEntry.select().where(TimelineEntry.beneficiary == ben)
        assert entry.channel == "sms" and entry.direction == "in" and entry.body == "شكراً لكم"


def test_a_reply_from_a_number_on_two_files_reaches_no_file(app, make_beneficiary, post_report, client, auth):
    from plugins.sms.models import SmsInbound
    from portal.models import Beneficiary, TimelineEntry

    a = make_beneficiary(mobile="0507654321")
    b = make_beneficiary(mobile="0509999999")
    with app.app_context(), database.connection_context():
        Beneficiary.update(mobile="+966507654321").where(Beneficiary.id == b).execute()
    assert post_report({"from": "+966507654321", "text": "أريد موعداً", "id": "in-2"}).get_json() == {"result": "stored"}
    with app.app_context(), database.connection_context():
        assert TimelineEntry.select().where(TimelineEntry.beneficiary.in_([a, b])).count() == 0
        inbound = SmsInbound.get()
        assert inbound.beneficiary is None and inbound.matches == 2
    auth.login()
    page = client.get("/sms/messages").get_data(as_text=True)
    assert "أريد موعداً" in page and "الرقم مسجّل في أكثر من ملف" in page


def test_a_text_that_did_not_arrive_becomes_a_call_back_task(app, ben, gateway, post_report):
    from portal.workflow.models import OutreachTask

    notify(app, ben)
    post_report({"id": "gw-1", "status": "failed", "error": "absent subscriber"})
    post_report({"id": "gw-1", "status": "failed", "error": "absent subscriber"})
    gateway.answers.append((400, {"error": "blocked"}))
    notify(app, ben, "نص آخر", purpose="follow_up")
    with app.app_context(), database.connection_context():
        tasks = list(OutreachTask.select().where(OutreachTask.beneficiary == ben).order_by(OutreachTask.id))
    assert [t.kind for t in tasks] == ["call_back", "call_back"]
    assert "absent subscriber" in tasks[0].reason and "لم تصل رسالة نصية" in tasks[0].reason
    assert tasks[0].source == {"channel": "sms", "message": messages(app)[0].id}


def test_a_notice_at_half_past_eleven_waits_for_the_morning(app, ben, gateway):
    from plugins.sms import service
    from portal.models import Beneficiary

    app.config["QUIET_HOURS"] = "22:00-08:00"
    night = dt.datetime(2026, 11, 30, 20, 30)  # 23:30 in Riyadh
    with app.app_context(), database.connection_context():
        b = Beneficiary.get_by_id(ben)
        message = service.queue(b, "تذكير بموعدك", "follow_up", now=night)
        assert message.state == "queued" and message.next_attempt_at == dt.datetime(2026, 12, 1, 5, 0)
        assert gateway.requests == []
        assert service.send_due(now=dt.datetime(2026, 12, 1, 4, 0)) == 0  # 07:00: still quiet
        assert service.send_due(now=dt.datetime(2026, 12, 1, 5, 2)) == 1  # just after 08:00
        # a one-time code asked for at night goes at once
        code = service.queue(b, "رمز التحقق 123456", "one_time_code", now=night)
    assert [r for r in gateway.requests] and len(gateway.requests) == 2
    assert messages(app)[-1].id == code.id and messages(app)[-1].state == "sent"
