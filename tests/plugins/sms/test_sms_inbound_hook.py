"""The SMS channel offers each new text to the ``inbound_message`` hook once it is stored."""
import pytest

from sms_helpers import app_config as _sms_config, ben, gateway, post_report  # noqa: F401  (fixtures)

from inbound_listener import InboundListener
from portal.db import database
from portal.models import Beneficiary, TimelineEntry


LISTENER = InboundListener()


@pytest.fixture
def app_config(_sms_config):
    LISTENER.seen.clear()
    return dict(_sms_config, EXTRA_PLUGINS=(LISTENER,))


def test_a_text_is_offered_once_with_its_file_and_entry(app, ben, post_report):
    body = {"from": "0501234567", "text": "١", "id": "in-7"}
    assert post_report(body).get_json() == {"result": "stored"}
    assert post_report(body).get_json() == {"result": "unchanged"}  # the gateway's repeat: not offered again
    assert len(LISTENER.seen) == 1
    message = LISTENER.seen[0]
    assert (message.channel, message.sender, message.text, message.provider_id, message.reply_id) == (
        "sms", "+966501234567", "١", "in-7", None)
    assert message.beneficiary_ids == (ben,)
    with app.app_context(), database.connection_context():
        assert message.entry.id == TimelineEntry.get().id and TimelineEntry.get().beneficiary_id == ben


def test_a_number_on_two_files_is_offered_with_both_and_no_entry(app, make_beneficiary, post_report):
    first = make_beneficiary(mobile="0507654321")
    second = make_beneficiary(mobile="0507654321")
    post_report({"from": "+966507654321", "text": "حالة طلبي", "id": "in-8"})
    message = LISTENER.seen[-1]
    assert message.beneficiary_ids == (first, second) and message.beneficiary_id is None and message.entry is None


def test_an_unreadable_sender_is_not_offered(app, post_report):
    assert post_report({"from": "not-a-number", "text": "1", "id": "in-9"}).get_json() == {"result": "stored"}
    assert LISTENER.seen == []
    with app.app_context(), database.connection_context():
        assert Beneficiary.select().count() == 0
