"""A small client for Meta's Graph API (base address from ``PORTAL_SOCIAL_GRAPH_URL``): sending
messages and fetching media, with a timeout and retries with exponential backoff on 5xx, 429 and
network errors. Other 4xx answers are not retried: they will not get better by waiting."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from flask import current_app


class GraphError(Exception):
    """The Graph API could not be reached or refused the request."""

    def __init__(self, message: str, status: int | None = None, retryable: bool = False, code=None):
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.code = code


def _config(name: str):
    return current_app.config[f"SOCIAL_{name}"]


def _url(path: str) -> str:
    return _config("GRAPH_URL").rstrip("/") + "/" + path.lstrip("/")


def _error_text(raw: bytes) -> tuple[str, object]:
    try:
        err = json.loads(raw.decode("utf-8")).get("error") or {}
        return str(err.get("message") or "")[:500], err.get("code")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return raw[:200].decode("utf-8", "replace"), None


def _once(method: str, url: str, body: bytes | None, headers: dict, max_bytes: int) -> tuple[bytes, str]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=float(_config("HTTP_TIMEOUT"))) as resp:  # nosec B310 # url is the configured Graph base or a media URL checked to be http(s)
            declared = resp.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise GraphError(f"response larger than {max_bytes} bytes", status=resp.status)
            data = resp.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise GraphError(f"response larger than {max_bytes} bytes", status=resp.status)
            return data, resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        message, code = _error_text(exc.read(4096))
        retryable = exc.code >= 500 or exc.code == 429
        raise GraphError(f"HTTP {exc.code}: {message}".strip(), status=exc.code, retryable=retryable,
                         code=code) from None
    except GraphError:
        raise
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise GraphError(f"network error: {reason}", retryable=True) from None


def request(method: str, url: str, payload=None, max_bytes: int = 1024 * 1024, auth: bool = True):
    """Call ``url`` and return ``(body bytes, content type)``, retrying transient failures.

    Attempts and backoff come from ``SOCIAL_HTTP_ATTEMPTS`` and ``SOCIAL_HTTP_BACKOFF`` (seconds,
    doubled after each failure)."""
    headers = {"Accept": "application/json"}
    if auth and _config("ACCESS_TOKEN"):
        headers["Authorization"] = f"Bearer {_config('ACCESS_TOKEN')}"
    body = None
    if payload is not None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers["Content-Type"] = "application/json"
    attempts = max(1, int(_config("HTTP_ATTEMPTS")))
    delay = float(_config("HTTP_BACKOFF"))
    for attempt in range(1, attempts + 1):
        try:
            return _once(method, url, body, headers, max_bytes)
        except GraphError as exc:
            if not exc.retryable or attempt == attempts:
                raise
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def call(method: str, path: str, payload=None) -> dict:
    data, _ctype = request(method, _url(path), payload)
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise GraphError("the Graph API answered with something that is not JSON") from None


def send_whatsapp(payload: dict) -> str:
    """POST /{phone-number-id}/messages; returns the new message id (``wamid...``)."""
    answer = call("POST", f"{_config('PHONE_NUMBER_ID')}/messages", payload)
    try:
        return str(answer["messages"][0]["id"])
    except (KeyError, IndexError, TypeError):
        raise GraphError("the Graph API did not return a message id") from None


def send_page_message(payload: dict) -> str:
    """POST /me/messages (Messenger and Instagram through the Page); returns the message id."""
    answer = call("POST", "me/messages", payload)
    if not answer.get("message_id"):
        raise GraphError("the Graph API did not return a message id")
    return str(answer["message_id"])


def profile_name(platform: str, user_id: str) -> str:
    """The display name of a Messenger (PSID) or Instagram (IGSID) user; "" when not available."""
    fields = "first_name,last_name" if platform == "messenger" else "name,username"
    if not user_id.isdigit():
        return ""
    info = call("GET", f"{user_id}?fields={fields}")
    if platform == "messenger":
        return " ".join(p for p in (info.get("first_name"), info.get("last_name")) if p)
    return str(info.get("name") or info.get("username") or "")


def fetch_media(media_id: str, max_bytes: int) -> tuple[bytes, str]:
    """Look up a WhatsApp media id (GET /{media-id} gives a short-lived URL), then download it."""
    if not media_id or not media_id.replace("_", "").replace("-", "").isalnum():
        raise GraphError("not a media id")
    info = call("GET", media_id)
    url = info.get("url")
    if not url or not str(url).startswith(("https://", "http://")):
        raise GraphError("the media lookup did not give a download address")
    declared = info.get("file_size")
    if declared and str(declared).isdigit() and int(declared) > max_bytes:
        raise GraphError(f"media larger than {max_bytes} bytes")
    return request("GET", str(url), max_bytes=max_bytes)


def fetch_url(url: str, max_bytes: int) -> tuple[bytes, str]:
    """Download an attachment address given in a Messenger / Instagram webhook."""
    if not url.startswith(("https://", "http://")):
        raise GraphError("not a web address")
    return request("GET", url, max_bytes=max_bytes, auth=False)
