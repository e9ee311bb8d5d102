"""Each gateway's request and the reading of its answers, against a real HTTP server."""
import json
import urllib.parse

import pytest

from sms_helpers import gateway  # noqa: F401  (fixture)
from plugins.sms.providers import Settings, provider


def settings(gateway, **kw):
    values = dict(url=gateway.url + "/send", token="tok-1", sender="Sila", username="charity", timeout=2)
    values.update(kw)
    return Settings(**values)


def test_generic_request_and_answer(gateway):
    result = provider("generic", settings(gateway)).send("+966501234567", "رقم طلبك ١٤٤٨", "42")
    assert result.accepted and result.gateway_id == "gw-1"
    sent = gateway.requests[0]
    assert sent["path"] == "/send" and sent["headers"]["Authorization"] == "Bearer tok-1"
    assert json.loads(sent["body"]) == {"to": "+966501234567", "text": "رقم طلبك ١٤٤٨", "sender": "Sila", "id": "42"}


@pytest.mark.parametrize("answer, retryable", [
    ((500, {"error": "down"}), True),
    ((503, b"busy"), True),
    ((429, {"error": "slow down"}), True),
    ((400, {"error": "bad number"}), False),
    ((401, {"error": "bad token"}), False),
    ((200, b"<html>ok</html>"), False),  # 200 with garbage: not accepted, and waiting will not help
    ((200, {"status": "ok"}), False),  # 200 without an id
    ((200, {"id": ""}), False),
    ((200, {"id": True}), False),
])
def test_generic_refusals(gateway, answer, retryable):
    gateway.answers.append(answer)
    result = provider("generic", settings(gateway)).send("+966501234567", "x", "1")
    assert not result.accepted and result.retryable is retryable and result.error


def test_timeout_and_unreachable_are_retryable(gateway):
    gateway.answers.append("hang")
    result = provider("generic", settings(gateway, timeout=0.3)).send("+966501234567", "x", "1")
    assert not result.accepted and result.retryable and "network error" in result.error
    gateway.release.set()
    closed = provider("generic", Settings(url="http://127.0.0.1:9/none", token="t", sender="s", timeout=1))
    result = closed.send("+966501234567", "x", "1")
    assert not result.accepted and result.retryable


def test_unifonic_form_fields_and_answers(gateway):
    gateway.answers.append((200, {"success": True, "message": "", "errorCode": "ER-00", "data": {
        "MessageID": 42000348806924, "CorrelationID": "7", "Status": "Sent", "NumberOfUnits": 1, "Cost": 0.05,
        "Balance": 10, "Recipient": "966501234567", "TimeCreated": "2026-11-30 14:06:25.979", "CurrencyCode": "SAR"}}))
    result = provider("unifonic", settings(gateway)).send("+966501234567", "مرحبا", "7")
    assert result.accepted and result.gateway_id == "42000348806924"
    fields = dict(urllib.parse.parse_qsl(gateway.requests[0]["body"].decode("ascii")))
    assert fields == {"AppSid": "tok-1", "SenderID": "Sila", "Recipient": "966501234567", "Body": "مرحبا",
                      "responseType": "JSON", "CorrelationID": "7"}
    gateway.answers.append((200, {"success": False, "message": "Dest num is too short", "errorCode": "ER-04", "data": {}}))
    refused = provider("unifonic", settings(gateway)).send("+966501234567", "x", "8")
    assert not refused.accepted and not refused.retryable and "ER-04" in refused.error


def test_taqnyat_request_and_answers(gateway):
    gateway.answers.append((201, {"statusCode": 201, "messageId": 5452899970, "cost": "0.05", "currency": "SAR",
                                  "totalCount": 1, "msgLength": 1, "accepted": "[966501234567,]", "rejected": "[]"}))
    result = provider("taqnyat", settings(gateway)).send("+966501234567", "مرحبا", "9")
    assert result.accepted and result.gateway_id == "5452899970"
    sent = gateway.requests[0]
    assert sent["headers"]["Authorization"] == "Bearer tok-1"
    assert json.loads(sent["body"]) == {"recipients": ["966501234567"], "body": "مرحبا", "sender": "Sila"}
    gateway.answers.append((201, {"statusCode": 201, "messageId": 1, "accepted": "[]", "rejected": "[966501234567,]"}))
    assert not provider("taqnyat", settings(gateway)).send("+966501234567", "x", "10").accepted


def test_msegat_request_and_answers(gateway):
    gateway.answers.append((200, {"code": "1", "message": "Success"}))
    result = provider("msegat", settings(gateway)).send("+966501234567", "مرحبا", "11")
    assert result.accepted
    assert json.loads(gateway.requests[0]["body"]) == {
        "userName": "charity", "apiKey": "tok-1", "numbers": "966501234567", "userSender": "Sila", "msg": "مرحبا",
        "msgEncoding": "UTF8"}
    gateway.answers.append((200, {"code": "M0002", "message": "Invalid login info"}))
    refused = provider("msegat", settings(gateway)).send("+966501234567", "x", "12")
    assert not refused.accepted and "M0002" in refused.error


def test_unknown_provider_is_refused_clearly():
    with pytest.raises(ValueError, match="unknown SMS provider 'fax'"):
        provider("fax", Settings(url="", token="", sender=""))
