"""Delivery status of texts on the timeline: each text's entry carries its state (queued, sent, delivered,
failed), written through ``portal.timeline.update_entry`` (audited) as the gateway reports it; a failed text
becomes one call-back task and counts on the officer's dashboard. Unifonic's delivery reports arrive at
``/webhooks/sms/unifonic/<secret>`` in the shape its DLR webhook documents."""
import pytest
from sms_helpers import app_config, ben, gateway, post_report  # noqa: F401  (fixtures)

from conftest import text_of
from portal.db import database

WEBHOOK_TOKEN = "dlr-secret-7f3a9c2e5b8d1f4a6c0e"


def notify(app, ben_id, text="رقم طلبك \u20681448-000101\u2069", purpose="case_reference"):
    from portal.models import Beneficiary
    from portal.workflow.notify import notify as send

    with app.app_context(), database.connection_context():
        return send(Beneficiary.get_by_id(ben_id), text, purpose)


def entry_and_message(app):
    from plugins.sms.models import SmsMessage
    from portal.models import TimelineEntry

    with app.app_context(), database.connection_context():
        message = SmsMessage.get()
        return TimelineEntry.get_by_id(message.entry_id), message


def call_backs(app):
    from portal.workflow.models import OutreachTask

    with app.app_context(), database.connection_context():
        return list(OutreachTask.select().where(OutreachTask.kind == "call_back"))


def entry_updates(app, entry_id):
    from portal.models import AuditEvent

    with app.app_context(), database.connection_context():
        return AuditEvent.select().where((AuditEvent.object_type == "timeline_entry") & (AuditEvent.action == "update")
                                         & (AuditEvent.object_id == str(entry_id))).count()


def test_the_notice_entry_follows_the_gateway(app, ben, gateway, post_report, client, auth):
    notify(app, ben)
    entry, message = entry_and_message(app)
    assert entry.data["delivery_state"] == "sent" and entry.data["sent"] is True and "queued" not in entry.data
    assert entry_updates(app, entry.id) == 1
    assert post_report({"id": "gw-1", "status": "delivered"}).get_json() == {"result": "applied"}
    entry, message = entry_and_message(app)
    assert entry.data["delivery_state"] == "delivered" and message.state == "delivered"
    assert entry_updates(app, entry.id) == 2
    # the same report twice, then a late "failed": nothing changes, nothing is written
    assert post_report({"id": "gw-1", "status": "delivered"}).get_json() == {"result": "unchanged"}
    assert post_report({"id": "gw-1", "status": "failed", "error": "late"}).get_json() == {"result": "unchanged"}
    assert entry_and_message(app)[0].data["delivery_state"] == "delivered" and entry_updates(app, entry.id) == 2
    auth.login()
    page = client.get(f"/beneficiaries/{ben}?lang=en")
    assert page.get_data(as_text=True).count('data-delivery-state="delivered"') == 1  # one chip, from the footer
    assert "Delivered" in text_of(page)


def test_a_failed_text_becomes_one_call_back_and_counts_on_the_dashboard(app, ben, gateway, post_report, client,
                                                                         auth):
    notify(app, ben)
    for _ in range(2):
        post_report({"id": "gw-1", "status": "failed", "error": "absent subscriber"})
    entry, message = entry_and_message(app)
    assert entry.data["delivery_state"] == "failed" and entry.data["delivery_error"] == "absent subscriber"
    tasks = call_backs(app)
    assert len(tasks) == 1 and tasks[0].beneficiary_id == ben and tasks[0].status == "open"
    auth.login("officer")
    page = client.get("/?lang=en")
    html = page.get_data(as_text=True)
    section = html[html.index('id="dash-undelivered"'):html.index('id="h-today"')]
    assert "رقم طلبك" in section
    auth.login()
    profile = client.get(f"/beneficiaries/{ben}?lang=ar").get_data(as_text=True)
    assert "لم تصل" in profile and "absent subscriber" in profile


def test_a_text_refused_by_the_gateway_at_once_is_not_claimed_as_sent(app, ben, gateway):
    """Refused while sending (not a later report): ``send_message`` answers nothing, so the notice is recorded as
    not sent by the core (never "sent"), and the officer gets one call-back task."""
    from plugins.sms.models import SmsMessage
    from portal.models import TimelineEntry

    gateway.answers.append((400, {"error": "blocked sender"}))
    assert notify(app, ben) is None
    with app.app_context(), database.connection_context():
        message = SmsMessage.get()
        entry = TimelineEntry.get(TimelineEntry.beneficiary == ben)
        assert message.state == "failed" and message.entry_id is None
        assert entry.channel == "system" and entry.data["sent"] is False
    assert len(call_backs(app)) == 1


def test_an_officers_text_carries_its_state(app, ben, gateway, post_report, client, auth):
    auth.login()
    client.post(f"/sms/to/{ben}", data={"text": "موعدك غداً"})
    entry, message = entry_and_message(app)
    assert entry.data["kind"] == "officer" and entry.data["delivery_state"] == "sent"
    post_report({"id": message.gateway_id, "status": "delivered"})
    assert entry_and_message(app)[0].data["delivery_state"] == "delivered"


# --- Unifonic ----------------------------------------------------------------------------------------------

UNIFONIC_ACCEPTED = {"success": True, "message": "", "errorCode": "ER-00",
                     "data": {"MessageID": 41307623841, "CorrelationID": "", "Status": "Sent", "NumberOfUnits": 1,
                              "Cost": 0.05, "Balance": 120.5, "Recipient": 966501234567, "TimeCreated": "2026-11-30 12:00:00",
                              "CurrencyCode": "SAR"}}


@pytest.fixture
def unifonic(app):
    app.config.update(SMS_PROVIDER="unifonic", SMS_WEBHOOK_TOKEN=WEBHOOK_TOKEN)
    return app


def unifonic_report(client, fields, token=WEBHOOK_TOKEN, as_json=False):
    url = f"/webhooks/sms/unifonic/{token}"
    if as_json:
        return client.post(url, json=fields)
    return client.post(url, data=fields)  # form-encoded, as Unifonic posts its DLR webhook


def dlr(status="Delivered", message_id="41307623841"):
    return {"MessageID": message_id, "DLR": status, "Recipient": "966501234567",
            "TimeCreated": "2026-11-30 12:00:00", "SCTS": "2026-11-30 12:00:04", "DLRTimestamp": "2026-11-30 12:00:05"}


def test_unifonic_delivery_reports(app, unifonic, ben, gateway, client):
    gateway.answers.append((200, UNIFONIC_ACCEPTED))
    notify(app, ben)
    assert gateway.requests[-1]["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    entry, message = entry_and_message(app)
    assert message.gateway_id == "41307623841" and entry.data["delivery_state"] == "sent"
    r = unifonic_report(client, dlr())
    assert r.status_code == 200 and r.get_json() == {"result": "applied"}
    assert entry_and_message(app)[0].data["delivery_state"] == "delivered"
    # the same report twice (Unifonic retries until it gets a 200): nothing changes
    assert unifonic_report(client, dlr()).get_json() == {"result": "unchanged"}
    assert unifonic_report(client, dlr("Undeliverable"), as_json=True).get_json() == {"result": "unchanged"}
    assert entry_and_message(app)[1].state == "delivered" and not call_backs(app)


def test_unifonic_undeliverable(app, unifonic, ben, gateway, client):
    gateway.answers.append((200, UNIFONIC_ACCEPTED))
    notify(app, ben)
    assert unifonic_report(client, dlr("Undeliverable"), as_json=True).get_json() == {"result": "applied"}
    entry, message = entry_and_message(app)
    assert message.state == "failed" and entry.data["delivery_state"] == "failed"
    assert entry.data["delivery_error"] == "Unifonic: Undeliverable" and len(call_backs(app)) == 1


def test_unifonic_report_for_an_unknown_id_is_acknowledged_and_logged(app, unifonic, ben, gateway, client, caplog):
    gateway.answers.append((200, UNIFONIC_ACCEPTED))
    notify(app, ben)
    r = unifonic_report(client, dlr(message_id="99999999"))
    assert r.status_code == 200 and r.get_json() == {"result": "unknown"}
    assert "unknown MessageID" in caplog.text
    assert entry_and_message(app)[1].state == "sent"


@pytest.mark.parametrize("token", ["not-the-secret", WEBHOOK_TOKEN[:-1], WEBHOOK_TOKEN + "x"])
def test_unifonic_report_with_a_wrong_secret_is_refused(app, unifonic, ben, gateway, client, token):
    gateway.answers.append((200, UNIFONIC_ACCEPTED))
    notify(app, ben)
    entry, _message = entry_and_message(app)
    before = entry_updates(app, entry.id)
    r = unifonic_report(client, dlr("Undeliverable"), token=token)
    assert r.status_code == 403
    entry, message = entry_and_message(app)
    assert message.state == "sent" and entry.data["delivery_state"] == "sent"
    assert entry_updates(app, entry.id) == before and not call_backs(app)


def test_unifonic_reports_refused_without_a_secret_or_for_another_provider(app, ben, gateway, client):
    app.config.update(SMS_PROVIDER="unifonic", SMS_WEBHOOK_TOKEN="")
    assert unifonic_report(client, dlr(), token="x" * 30).status_code == 403
    app.config.update(SMS_PROVIDER="generic", SMS_WEBHOOK_TOKEN=WEBHOOK_TOKEN)
    assert unifonic_report(client, dlr()).status_code == 403


@pytest.mark.parametrize("fields", [
    {"DLR": "Delivered"}, {"MessageID": "41307623841", "DLR": "Exploded"}, {"MessageID": "", "DLR": "Delivered"},
])
def test_unifonic_malformed_reports(app, unifonic, ben, gateway, client, fields):
    gateway.answers.append((200, UNIFONIC_ACCEPTED))
    notify(app, ben)
    assert unifonic_report(client, fields).status_code == 400
    assert entry_and_message(app)[1].state == "sent"
