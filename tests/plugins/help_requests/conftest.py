"""Fixtures of the self-service menu's tests: the fake Graph API of the social plugin's tests and the fake SMS
gateway of the SMS plugin's tests (both real HTTP servers on 127.0.0.1), the app configured for both, and posters
of their webhooks."""
import json
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent
for folder in (HERE, HERE.parent / "social", HERE.parent / "sms"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from social_helpers import ACCESS_TOKEN, PHONE_NUMBER_ID, SECRET, VERIFY_TOKEN, FakeGraph  # noqa: E402
from sms_helpers import TOKEN, FakeGateway  # noqa: E402

from fake_http import running  # noqa: E402


@pytest.fixture
def graph():
    yield from running(FakeGraph())


@pytest.fixture
def gateway():
    yield from running(FakeGateway())


@pytest.fixture
def app_config(app_config, graph, gateway):
    app_config.update({
        "SOCIAL_APP_SECRET": SECRET, "SOCIAL_VERIFY_TOKEN": VERIFY_TOKEN, "SOCIAL_GRAPH_URL": graph.url + "/v21.0",
        "SOCIAL_ACCESS_TOKEN": ACCESS_TOKEN, "SOCIAL_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "SOCIAL_HTTP_TIMEOUT": 0.5, "SOCIAL_HTTP_ATTEMPTS": 2, "SOCIAL_HTTP_BACKOFF": 0.01,
        "SMS_PROVIDER": "generic", "SMS_URL": gateway.url + "/send", "SMS_TOKEN": TOKEN, "SMS_SENDER": "Sila",
        "SMS_TIMEOUT": 2, "QUIET_HOURS": "",
    })
    return app_config


@pytest.fixture
def sms_in(client):
    """Post an incoming SMS to the generic gateway's webhook, as the gateway does."""
    counter = {"n": 0}

    def post(sender: str, text: str, msg_id: str | None = None):
        counter["n"] += 1
        body = {"from": sender, "text": text, "id": msg_id or f"in-{counter['n']}-{time.monotonic_ns()}"}
        r = client.post("/webhooks/sms/generic", data=json.dumps(body, ensure_ascii=False),
                        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200, r.get_data(as_text=True)
        return r

    return post


@pytest.fixture
def wa_in(client):
    """Post a WhatsApp Cloud API webhook with one message (text, or an interactive reply), signed."""
    from plugins.social.processing import sign

    counter = {"n": 0}

    def post(wa_id: str, text: str = "", reply: tuple[str, str] | None = None, msg_id: str | None = None,
             name: str = "أم خالد"):
        counter["n"] += 1
        message = {"from": wa_id, "id": msg_id or f"wamid.HR{counter['n']}{time.monotonic_ns()}",
                   "timestamp": str(int(time.time()))}
        if reply:
            message.update(type="interactive", interactive={
                "type": "list_reply", "list_reply": {"id": reply[0], "title": reply[1]}})
        else:
            message.update(type="text", text={"body": text})
        payload = {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
            "field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "966920000123", "phone_number_id": PHONE_NUMBER_ID},
                "contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [message]}}]}]}
        raw = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        r = client.post("/webhooks/meta", data=raw, headers={"Content-Type": "application/json",
                                                             "X-Hub-Signature-256": sign(raw, SECRET)})
        assert r.status_code == 200
        return r

    return post
