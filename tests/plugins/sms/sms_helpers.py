"""Helpers and fixtures of the SMS channel (imported by the test modules): a fake SMS gateway (a real HTTP server on 127.0.0.1) and an app
configured to use it through the generic gateway contract."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

TOKEN = "gateway-token-0123456789"


class FakeGateway:
    """Answers each POST with the next scripted answer (default: 200 ``{"id": "gw-<n>"}``) and keeps
    every request (path, headers, raw body). An answer may be ``"hang"``: the handler waits until the
    test releases it (for timeouts)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list = []
        self.release = threading.Event()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                gateway.requests.append({"path": self.path, "headers": dict(self.headers), "body": raw})
                answer = gateway.answers.pop(0) if gateway.answers else None
                if answer == "hang":
                    gateway.release.wait(10)
                    return
                if answer is None:
                    answer = (200, {"id": f"gw-{len(gateway.requests)}"})
                status, body = answer
                data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def json(self, i=-1) -> dict:
        return json.loads(self.requests[i]["body"].decode("utf-8"))

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    fake = FakeGateway()
    yield fake
    fake.close()


@pytest.fixture
def app_config(app_config, gateway):
    return dict(app_config, SMS_PROVIDER="generic", SMS_URL=gateway.url + "/send", SMS_TOKEN=TOKEN,
                SMS_SENDER="Sila", SMS_TIMEOUT=2,
                QUIET_HOURS="",  # the quiet hours have their own tests
                HELP_REQUESTS_CHANNELS=[])  # the self-service menu would answer the replies: it has its own tests


@pytest.fixture
def post_report(client):
    def post(body, token=TOKEN, raw: bytes | None = None):
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return client.post("/webhooks/sms/generic", data=raw if raw is not None else json.dumps(body),
                           headers=headers)

    return post


@pytest.fixture
def ben(app, make_beneficiary):
    """A beneficiary with a Saudi mobile who agreed to be contacted."""
    from portal.db import database
    from portal.models import Beneficiary

    ben_id = make_beneficiary(mobile="0501234567")
    with app.app_context(), database.connection_context():
        Beneficiary.update(consent_contact=True).where(Beneficiary.id == ben_id).execute()
    return ben_id
