"""Meta webhooks with hostile bytes: a non-ASCII signature is a bad signature (403, not a TypeError),
and NUL characters in a signed message never reach the database."""
import json

from social_helpers import app_config, graph, payload, post_webhook, smtp  # noqa: F401  (fixtures)
from social_helpers import fresh

from portal.db import database
from portal.models import TimelineEntry

from plugins.social.models import WebhookDelivery


def test_non_ascii_signature_is_403_and_stores_nothing(app, post_webhook, payload):
    raw = json.dumps(payload("wa_text.json"), ensure_ascii=False).encode("utf-8")
    for signature in ("sha256=" + "é" * 64, "sha256=" + "٠" * 64, "sha256=مرحبا"):
        assert post_webhook(None, raw=raw, signature=signature).status_code == 403
    with app.app_context(), database.connection_context():
        assert WebhookDelivery.select().count() == 0


def test_nul_characters_in_a_signed_message_are_dropped(app, post_webhook, payload):
    data = fresh(payload("wa_text.json"))
    message = data["entry"][0]["changes"][0]["value"]["messages"][0]
    message["text"]["body"] = "مرحبا\u0000 بكم\u0007"
    data["entry"][0]["changes"][0]["value"]["contacts"][0]["profile"]["name"] = "أم\u0000 خالد"
    assert post_webhook(data).status_code == 200
    with app.app_context(), database.connection_context():
        assert WebhookDelivery.get().state == "processed"
        assert TimelineEntry.get().body == "مرحبا بكم"
