"""SMS gateways behind one small interface.

Each provider turns (to, text, sender, our message id) into one HTTP request and reads the answer
into a ``Result``: accepted (with the gateway's id), or refused — retryable (5xx, 429, a timeout, a
network error) or not (any other answer, including a 2xx whose body is not what the gateway
documents). Numbers arrive in E.164 (``+9665XXXXXXXX``); each provider writes them the way its API
wants them.

- ``generic``: the contract in ``docs/sms.md`` — JSON ``{"to", "text", "sender", "id"}`` with a bearer
  token; a 2xx JSON answer ``{"id": "<gateway id>"}`` means accepted. Our id is the idempotency key.
- ``unifonic``: ``POST {url}`` (default ``https://el.cloud.unifonic.com/rest/SMS/messages``), form fields
  ``AppSid`` (the token), ``SenderID``, ``Recipient`` (international digits, no ``+``), ``Body``,
  ``responseType=JSON``, ``CorrelationID`` (our id); the answer is ``{"success": true, "errorCode": "ER-00",
  "data": {"MessageID": ..., "Status": "Sent"|"Queued", ...}}``.
- ``taqnyat``: ``POST {url}`` (default ``https://api.taqnyat.sa/v1/messages``) with ``Authorization: Bearer``
  and JSON ``{"recipients": ["9665..."], "body", "sender"}``; a 201 answer ``{"statusCode": 201,
  "messageId": ..., "accepted": "[9665...,]", "rejected": "[]", ...}``.
- ``msegat``: ``POST {url}`` (default ``https://www.msegat.com/gw/sendsms.php``) JSON ``{"userName",
  "apiKey" (the token), "numbers" (digits), "userSender", "msg", "msgEncoding": "UTF8"}``; the answer
  ``{"code": "1", "message": "Success"}`` (``"1"`` or ``"M0000"``) means accepted.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from abc import ABC, abstractmethod
from dataclasses import dataclass

MAX_ANSWER = 64 * 1024


@dataclass(frozen=True)
class Result:
    accepted: bool
    gateway_id: str = ""
    retryable: bool = False
    error: str = ""


@dataclass(frozen=True)
class Settings:
    url: str
    token: str
    sender: str
    username: str = ""
    timeout: float = 10.0


def _post(url: str, body: bytes, headers: dict, timeout: float) -> tuple[int, bytes]:
    """POST and return (status, body); raise ``_Unreachable`` on network errors and timeouts."""
    if not url.startswith(("http://", "https://")):
        raise _Unreachable("the gateway address must start with http:// or https://")
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # nosec B310 # scheme checked above; the address is the admin's setting
            return resp.status, resp.read(MAX_ANSWER)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(MAX_ANSWER)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise _Unreachable(f"network error: {getattr(exc, 'reason', exc)}") from None


class _Unreachable(Exception):
    pass


def _json(raw: bytes):
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None


def _refused(status: int, raw: bytes, detail: str = "") -> Result:
    text = detail or raw[:300].decode("utf-8", "replace")
    return Result(False, retryable=status >= 500 or status == 429, error=f"HTTP {status}: {text}".strip())


class Provider(ABC):
    """One gateway: how to write the request (``request``) and how to read its answer (``read``)."""

    name = ""
    default_url = ""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.url = settings.url or self.default_url

    @abstractmethod
    def request(self, to: str, text: str, message_id: str) -> tuple[bytes, dict]:
        """The body and headers of the POST that sends ``text`` to ``to`` (E.164) with our id."""

    @abstractmethod
    def read(self, status: int, raw: bytes, message_id: str = "") -> Result:
        """The gateway's answer (status and at most 64 KB of body) as a ``Result``."""

    def send(self, to: str, text: str, message_id: str) -> Result:
        if not self.url:
            return Result(False, error="no gateway address is configured (PORTAL_SMS_URL)")
        body, headers = self.request(to, text, message_id)
        try:
            status, raw = _post(self.url, body, headers, self.settings.timeout)
        except _Unreachable as exc:
            return Result(False, retryable=True, error=str(exc))
        return self.read(status, raw, message_id)


class Generic(Provider):
    name = "generic"

    def request(self, to, text, message_id):
        body = json.dumps({"to": to, "text": text, "sender": self.settings.sender, "id": message_id},
                          ensure_ascii=False).encode("utf-8")
        return body, {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json",
                      "Authorization": f"Bearer {self.settings.token}"}

    def read(self, status, raw, message_id=""):
        if not 200 <= status < 300:
            return _refused(status, raw)
        answer = _json(raw)
        gateway_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(gateway_id, (str, int)) or isinstance(gateway_id, bool) or not str(gateway_id).strip():
            return Result(False, retryable=False, error=f"HTTP {status} without a message id: {raw[:200]!r}")
        return Result(True, gateway_id=str(gateway_id)[:100])


class Unifonic(Provider):
    name = "unifonic"
    default_url = "https://el.cloud.unifonic.com/rest/SMS/messages"

    def request(self, to, text, message_id):
        fields = {"AppSid": self.settings.token, "SenderID": self.settings.sender, "Recipient": to.lstrip("+"),
                  "Body": text, "responseType": "JSON", "CorrelationID": message_id}
        return (urllib.parse.urlencode(fields).encode("ascii"),
                {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})

    def read(self, status, raw, message_id=""):
        answer = _json(raw)
        if not 200 <= status < 300:
            detail = answer.get("message", "") if isinstance(answer, dict) else ""
            return _refused(status, raw, f"{answer.get('errorCode', '')} {detail}".strip()
                            if isinstance(answer, dict) else "")
        if not isinstance(answer, dict):
            return Result(False, error=f"HTTP {status}: not JSON: {raw[:200]!r}")
        data = answer.get("data") if isinstance(answer.get("data"), dict) else {}
        ok = answer.get("success") in (True, "true", "True")
        if not ok or not data.get("MessageID"):
            return Result(False, error=f"{answer.get('errorCode', '')} {answer.get('message', '')}".strip()
                          or "refused")
        if str(data.get("Status", "")).lower() in ("rejected", "failed"):
            return Result(False, error=f"Unifonic status {data.get('Status')}")
        return Result(True, gateway_id=str(data["MessageID"])[:100])


class Taqnyat(Provider):
    name = "taqnyat"
    default_url = "https://api.taqnyat.sa/v1/messages"

    def request(self, to, text, message_id):
        body = json.dumps({"recipients": [to.lstrip("+")], "body": text, "sender": self.settings.sender},
                          ensure_ascii=False).encode("utf-8")
        return body, {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json",
                      "Authorization": f"Bearer {self.settings.token}"}

    def read(self, status, raw, message_id=""):
        answer = _json(raw)
        if not 200 <= status < 300:
            detail = str(answer.get("message", "")) if isinstance(answer, dict) else ""
            return _refused(status, raw, detail)
        if not isinstance(answer, dict) or not answer.get("messageId"):
            return Result(False, error=f"HTTP {status} without a messageId: {raw[:200]!r}")
        rejected = str(answer.get("rejected", "[]")).strip("[] ,")
        if rejected:
            return Result(False, error=f"Taqnyat rejected the number: {rejected[:40]}")
        return Result(True, gateway_id=str(answer["messageId"])[:100])


class Msegat(Provider):
    name = "msegat"
    default_url = "https://www.msegat.com/gw/sendsms.php"

    def request(self, to, text, message_id):
        body = json.dumps({"userName": self.settings.username, "apiKey": self.settings.token,
                           "numbers": to.lstrip("+"), "userSender": self.settings.sender, "msg": text,
                           "msgEncoding": "UTF8"}, ensure_ascii=False).encode("utf-8")
        return body, {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}

    def read(self, status, raw, message_id=""):
        answer = _json(raw)
        if not 200 <= status < 300:
            return _refused(status, raw)
        if not isinstance(answer, dict) or str(answer.get("code")) not in ("1", "M0000"):
            code = answer.get("code") if isinstance(answer, dict) else None
            message = answer.get("message") if isinstance(answer, dict) else raw[:200]
            return Result(False, error=f"Msegat {code}: {message}")
        # Msegat's answer carries no per-message id in every account type: keep ours when it has none.
        return Result(True, gateway_id=str(answer.get("id") or f"msegat-{message_id}")[:100])


PROVIDERS = {p.name: p for p in (Generic, Unifonic, Taqnyat, Msegat)}


def provider(name: str, settings: Settings) -> Provider:
    try:
        return PROVIDERS[name](settings)
    except KeyError:
        raise ValueError(f"unknown SMS provider {name!r}; one of {', '.join(PROVIDERS)}") from None
