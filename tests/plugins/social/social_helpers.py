"""Helpers and fixtures for the social plugin's tests: a local stand-in for Meta's Graph API, a local SMTP server,
real-shaped webhook payloads from ``fixtures/``. The fixtures are in this folder's conftest.py, and importable
from here too (``from social_helpers import app_config, graph, ...``)."""
from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path

from fake_http import FakeHTTPServer


FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "test-app-secret-4f1c"
VERIFY_TOKEN = "verify-me-7731"
ACCESS_TOKEN = "EAAtest-token"
PHONE_NUMBER_ID = "106540352242922"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def jpeg_bytes(color=(200, 30, 30)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(out, format="JPEG")
    return out.getvalue()


from pdf_samples import MINIMAL_PDF as PDF_BYTES  # noqa: E402  (a valid one-page PDF)


class FakeGraph(FakeHTTPServer):
    """Answers like the Graph API; ``fail`` queues behaviours for the next requests on a path
    prefix: an HTTP status (500, 400 ...) or "timeout" (answers after the client gave up)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.media: dict[str, tuple[bytes, str]] = {}
        self.profiles: dict[str, dict] = {}
        self.fail: dict[str, list] = {}
        self.counter = 0
        self.lock = threading.Lock()
        super().__init__()

    def answer(self, method, path, headers, raw):
        with self.lock:
            self.requests.append({"method": method, "path": path, "headers": headers,
                                  "json": json.loads(raw) if raw else None})
            behaviour = None
            for prefix, queue in self.fail.items():
                if path.startswith(prefix) and queue:
                    behaviour = queue.pop(0)
                    break
        if behaviour == "timeout":
            time.sleep(0.6)
            return 200, b"{}", "application/json"
        if isinstance(behaviour, int):
            return _json(behaviour, {"error": {"message": "Service temporarily unavailable", "type": "OAuthException",
                                               "code": 2 if behaviour >= 500 else 100}})
        path = path.split("?")[0]
        last = path.rsplit("/", 1)[1]
        if method == "GET" and path.startswith("/files/"):
            content, mime = self.media[last]
            return 200, content, mime
        if method == "GET" and path.startswith("/v21.0/") and last in self.profiles:
            return _json(200, self.profiles[last])
        if method == "GET" and path.startswith("/v21.0/"):
            if last not in self.media:
                return _json(404, {"error": {"message": "Unknown media", "code": 100}})
            content, mime = self.media[last]
            return _json(200, {"messaging_product": "whatsapp", "url": f"{self.url}/files/{last}", "mime_type": mime,
                               "sha256": "0" * 64, "file_size": str(len(content)), "id": last})
        if method == "POST" and path == f"/v21.0/{PHONE_NUMBER_ID}/messages":
            with self.lock:
                self.counter += 1
                wamid = f"wamid.OUT{self.counter:04d}"
            to = (self.requests[-1]["json"] or {}).get("to", "")
            return _json(200, {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                               "messages": [{"id": wamid}]})
        if method == "POST" and path == "/v21.0/me/messages":
            with self.lock:
                self.counter += 1
                mid = f"m_OUT{self.counter:04d}"
            recipient = ((self.requests[-1]["json"] or {}).get("recipient") or {}).get("id", "")
            return _json(200, {"recipient_id": recipient, "message_id": mid})
        return _json(404, {"error": {"message": "no such path"}})

    def sent(self, path_end="/messages"):
        return [r for r in self.requests if r["method"] == "POST" and r["path"].endswith(path_end)]


def _json(status: int, body: dict) -> tuple[int, bytes, str]:
    return status, json.dumps(body).encode(), "application/json"


class SmtpSink:
    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                sink.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                      "data": envelope.content})
                return "250 OK"

        import socket

        with socket.socket() as probe:  # a free port: the controller checks it can connect after start
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def close(self):
        self.controller.stop()


def text_of(response) -> str:
    """Visible text of an HTML response, tags removed, whitespace collapsed."""
    import re

    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def fresh(data):
    """Put the payload's message timestamps at the present moment (the reply window counts from them)."""
    now = str(int(time.time()))
    for entry in data.get("entry", []):
        for change in entry.get("changes", []):
            for msg in change["value"].get("messages", []):
                msg["timestamp"] = now
    return data


_FIXTURES = ("app_config", "graph", "payload", "post_webhook", "smtp")


def __getattr__(name):
    """The fixtures, for the test modules that import them from here (``from social_helpers import graph``).
    Looked up when asked for: the conftest imports this module first."""
    if name in _FIXTURES:
        from social import conftest

        return getattr(conftest, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
