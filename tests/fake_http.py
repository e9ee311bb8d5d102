"""A real HTTP server on 127.0.0.1 (a free port) standing in for an outside service in tests: the SMS gateway,
Meta's Graph API. A subclass answers each request in ``answer``; the server records nothing by itself."""
from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeHTTPServer(ABC):
    """``answer(method, path, headers, raw)`` returns ``(status, body bytes, content type)``, or None to send
    nothing (e.g. after waiting past the client's timeout). ``url``: the server's base address."""

    def __init__(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                answer = fake.answer(self.command, self.path, dict(self.headers), raw)
                if answer is None:
                    return
                status, body, ctype = answer
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client gave up (a timeout test)
                    pass

            do_GET = do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @abstractmethod
    def answer(self, method: str, path: str, headers: dict, raw: bytes):
        """What to send back for one request (each stand-in answers as the service it replaces)."""

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def running(fake: FakeHTTPServer):
    """For a fixture: ``yield from running(FakeX())`` gives the test the started server and closes it after."""
    try:
        yield fake
    finally:
        fake.close()
