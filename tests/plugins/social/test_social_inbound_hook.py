"""The social plugin offers each new WhatsApp message to the ``inbound_message`` hook once it is stored; a
message a plugin handled opens no conversation in the unmatched inbox."""
import pytest

from social_helpers import app_config as _social_config, graph, payload, post_webhook, smtp  # noqa: F401  (fixtures)
from social_helpers import fresh, text_of

from inbound_listener import InboundListener
from portal.db import database
from portal.models import TimelineEntry

from plugins.social.models import Message


# Handles "1" and the button "confirm-visit"; lets everything else through.
LISTENER = InboundListener(lambda message: True if message.text == "1" or message.reply_id == "confirm-visit" else None)


@pytest.fixture
def app_config(_social_config):
    LISTENER.seen.clear()
    return dict(_social_config, EXTRA_PLUGINS=(LISTENER,))


def _text(data, body):
    data["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = body
    return data


def test_handled_message_is_stored_offered_once_and_kept_out_of_the_inbox(app, client, auth, post_webhook, payload):
    data = fresh(_text(payload("wa_text.json"), "1"))
    for _ in range(2):  # the same delivery twice: offered once
        assert post_webhook(data).status_code == 200
    assert len(LISTENER.seen) == 1
    message = LISTENER.seen[0]
    assert (message.channel, message.sender, message.text, message.reply_id, message.platform) == (
        "social", "+966551112233", "1", None, "whatsapp")
    assert message.beneficiary_ids == () and message.beneficiary_id is None
    with app.app_context(), database.connection_context():
        entry = TimelineEntry.get()
        assert message.entry.id == entry.id and entry.body == "1"
        assert Message.get().state == "automated"
    auth.login("officer")
    assert "أم خالد" not in text_of(client.get("/social/inbox"))


def test_unhandled_message_opens_the_inbox_and_carries_the_matching_files(app, client, auth, make_beneficiary,
                                                                           post_webhook, payload):
    first = make_beneficiary(mobile="0551112233")
    second = make_beneficiary(mobile="0551112233")
    post_webhook(fresh(payload("wa_text.json")))
    message = LISTENER.seen[-1]
    assert message.beneficiary_ids == (first, second) and message.beneficiary_id is None
    with app.app_context(), database.connection_context():
        assert Message.get().state == "received"
    auth.login("officer")
    assert "أم خالد" in text_of(client.get("/social/inbox"))


def test_button_reply_id_and_linked_file(app, make_beneficiary, post_webhook, payload):
    ben = make_beneficiary(mobile="0551112233")
    post_webhook(fresh(payload("wa_interactive.json")))
    message = LISTENER.seen[-1]
    assert message.reply_id == "confirm-visit" and message.text == "نعم، أؤكد الموعد"
    assert message.beneficiary_ids == (ben,) and message.entry.beneficiary_id == ben
    with app.app_context(), database.connection_context():
        assert Message.get().state == "automated"
