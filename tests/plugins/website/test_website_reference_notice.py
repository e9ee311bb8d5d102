"""The done page says the reference went to the applicant's mobile only when a transport took it."""
import pytest
from conftest import registered

from website_helpers import app_config, apply_fully, outbox, types  # noqa: F401  (fixtures)
from portal import hookimpl


def test_sent_when_a_transport_accepted(app, client, types, outbox):
    apply_fully(client, app)
    page = client.get("/site/apply/done").get_data(as_text=True)
    assert 'id="reference-sent"' in page and "reference-not-sent" not in page


def test_not_claimed_when_nothing_could_send(app, client, types):
    app.config["SMS_PROVIDER"] = ""
    if app.extensions["portal_pm"].has_plugin("letters"):  # no letter template: no printed letter either
        from plugins.letters import service
        from plugins.letters.models import LetterTemplate
        from portal.db import database

        with app.app_context(), database.connection_context():
            service.ensure_builtins()
            LetterTemplate.update(active=False).execute()
    apply_fully(client, app)
    page = client.get("/site/apply/done").get_data(as_text=True)
    assert 'id="reference-not-sent"' in page and 'id="reference-sent"' not in page
    assert "لم نتمكن من إرسال رقم الطلب إلى جوالك" in page


@pytest.fixture
def slow_channel(app):
    class Queued:
        @hookimpl(tryfirst=True)
        def send_message(self, beneficiary, text, purpose):
            return {"channel": "phone", "id": "q-1", "state": "queued"}

    with registered(app, Queued(), "test-queued"):
        yield


def test_on_its_way_when_a_channel_queued_it(app, client, types, slow_channel):
    apply_fully(client, app)
    page = client.get("/site/apply/done").get_data(as_text=True)
    assert 'id="reference-queued"' in page and 'id="reference-sent"' not in page
