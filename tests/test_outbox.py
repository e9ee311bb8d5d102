"""The outbox: what no channel delivered is kept, shown as the beneficiary would have read it, never
claimed as sent, and can be marked handled."""
from portal import create_app, hookimpl
from portal.db import database


def notify(app, ben_id, text="رقم طلبك \u20681448-000101\u2069", purpose="case_reference"):
    from portal.models import Beneficiary
    from portal.workflow.notify import notify as send

    with app.app_context(), database.connection_context():
        return send(Beneficiary.get_by_id(ben_id), text, purpose)


def test_a_notice_no_channel_delivered_is_kept(app, make_beneficiary):
    from portal.models import OutboxMessage, TimelineEntry

    app.config["SMS_PROVIDER"] = ""
    ben = make_beneficiary()
    assert notify(app, ben) is None
    with app.app_context(), database.connection_context():
        message = OutboxMessage.get()
        entry = TimelineEntry.get(TimelineEntry.beneficiary == ben)
        assert message.beneficiary_id == ben and message.entry_id == entry.id and message.purpose == "case_reference"
        assert message.text == "رقم طلبك \u20681448-000101\u2069" and message.handled_at is None
        assert entry.data["sent"] is False and entry.summary.startswith("لم تُرسل")


def test_one_time_codes_are_never_kept(app, make_beneficiary):
    from portal.models import OutboxMessage

    app.config["SMS_PROVIDER"] = ""
    ben = make_beneficiary()
    notify(app, ben, "رمز التحقق 123456", purpose="one_time_code")
    with app.app_context(), database.connection_context():
        assert OutboxMessage.select().count() == 0


def test_a_delivered_notice_is_not_kept(app_config, make_beneficiary):
    from portal.models import OutboxMessage

    class Courier:
        @hookimpl(tryfirst=True)
        def send_message(self, beneficiary, text):
            return {"channel": "phone", "id": "c-1"}

    app = create_app(dict(app_config, EXTRA_PLUGINS=(Courier(),)))
    ben = make_beneficiary()
    assert notify(app, ben)["id"] == "c-1"
    with app.app_context(), database.connection_context():
        assert OutboxMessage.select().count() == 0


def test_officer_reads_and_handles_the_outbox(app, client, auth, make_beneficiary):
    from portal.models import AuditEvent, OutboxMessage

    app.config["SMS_PROVIDER"] = ""
    ben = make_beneficiary()
    notify(app, ben)
    auth.login()
    page = client.get("/outbox").get_data(as_text=True)
    assert "لم تُرسل" in page and 'class="phone-bubble"' in page and "رقم طلبك" in page
    assert f'href="/beneficiaries/{ben}"' in page
    with app.app_context(), database.connection_context():
        message_id = OutboxMessage.get().id
    r = client.post(f"/outbox/{message_id}/handled")
    assert r.status_code == 302
    assert "رقم طلبك" not in client.get("/outbox").get_data(as_text=True)
    assert "رقم طلبك" in client.get("/outbox?show=handled").get_data(as_text=True)
    again = client.post(f"/outbox/{message_id}/handled", follow_redirects=True).get_data(as_text=True)
    assert "سبق" in again
    with app.app_context(), database.connection_context():
        assert AuditEvent.select().where((AuditEvent.object_type == "outbox_message")).count() == 1
    assert client.post("/outbox/999999/handled").status_code == 404


def test_outbox_is_for_officers_and_admins(client, auth, users):
    for role, status in (("manager", 403), ("researcher", 403), ("delegate", 403), ("admin", 200)):
        auth.login(role)
        assert client.get("/outbox").status_code == status, role
        auth.logout()


def test_outbox_pages_in_english(app, client, auth, make_beneficiary):
    app.config["SMS_PROVIDER"] = ""
    notify(app, make_beneficiary())
    auth.login()
    client.post("/language", data={"lang": "en", "next": "/outbox"})
    page = client.get("/outbox").get_data(as_text=True)
    assert "Outbox — not sent" in page and "Mark as handled" in page


def test_the_demo_fills_the_outbox_with_its_requests_notices(runner, app, client, auth):
    from portal.models import Case, OutboxMessage

    result = runner.invoke(args=["demo", "--beneficiaries", "60", "--entries", "100"])
    assert result.exit_code == 0, result.output
    with app.app_context(), database.connection_context():
        kept = list(OutboxMessage.select())
        cases = {c.id: c for c in Case.select()}
        assert kept and all(m.case_id in cases and m.beneficiary_id == cases[m.case_id].beneficiary_id for m in kept)
        assert all(cases[m.case_id].reference in m.text for m in kept)
        # the texts the notices send: the reference isolated so that it never shows reversed in Arabic
        assert all(f"\u2068{cases[m.case_id].reference}\u2069" in m.text for m in kept)
        assert all(cases[m.case_id].status == "awaiting_committee" or cases[m.case_id].decision for m in kept)
    auth.login()
    page = client.get("/outbox").get_data(as_text=True)
    assert kept[0].text.split()[0] in page
