"""Bulk messages: recipients from filters, the count, parts and cost before sending, one confirmation that
sends once, each message through the core's routing and consent rules (here to the fake SMS gateway)."""
from __future__ import annotations

import json
import re

from portal.db import database

WIDOW = {"category": "widow"}


def _people(make_beneficiary):
    with_consent = [make_beneficiary(mobile=f"05012345{i:02d}", category="widow", consent_contact=True)
                    for i in range(3)]
    without = make_beneficiary(mobile="0501234599", category="widow")
    other = make_beneficiary(mobile="0501234598", category="orphan", consent_contact=True)
    return with_consent, without, other


def _token(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def test_preview_then_one_confirmation_sends_once_to_those_who_agreed(app, client, auth, make_beneficiary, gateway):
    from plugins.sms.models import SmsBulk
    from portal.workflow.models import Notice

    with_consent, without, other = _people(make_beneficiary)
    auth.login("officer")
    text = "مرحبًا {name}، يبدأ توزيع السلال يوم الأحد."
    preview = client.post("/sms/bulk", data=dict(WIDOW, text=text, action="preview"))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'id="bulk-estimate"' in html
    assert "4" in html and "3" in html and "0.15 SAR" in html  # 4 picked, 3 agreed, 3 × 1 part × 0.05
    assert gateway.requests == []  # nothing sent before the confirmation
    token = _token(html)
    sent = client.post("/sms/bulk", data=dict(WIDOW, text=text, action="send", token=token))
    assert sent.status_code == 302
    assert len(gateway.requests) == 3
    bodies = sorted(json.loads(r["body"])["text"] for r in gateway.requests)
    assert all(b.startswith("مرحبًا سارة،") for b in bodies)
    again = client.post("/sms/bulk", data=dict(WIDOW, text=text, action="send", token=token), follow_redirects=True)
    assert "لم تُرسل مرة أخرى" in again.get_data(as_text=True) or len(gateway.requests) == 3
    assert len(gateway.requests) == 3  # a double submission sends once
    with app.app_context(), database.connection_context():
        bulk = SmsBulk.get()
        states = {n.beneficiary_id: n.state for n in Notice.select().where(Notice.key.startswith(f"bulk:{bulk.id}:"))}
        assert states[without] == "no_consent" and other not in states
        assert {states[b] for b in with_consent} <= {"sent", "queued"}
    page = client.get(f"/sms/bulk/{bulk.id}").get_data(as_text=True)
    assert 'id="bulk-outcome"' in page


def test_a_text_of_eleven_parts_is_refused_and_kept(app, client, auth, make_beneficiary, gateway):
    _people(make_beneficiary)
    auth.login("officer")
    text = "س" * (67 * 10 + 1)  # eleven parts of Arabic
    r = client.post("/sms/bulk", data=dict(WIDOW, text=text, action="preview"))
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "11" in html and text in html and 'name="token"' not in html
    r = client.post("/sms/bulk", data=dict(WIDOW, text=text, action="send", token="x" * 20))
    assert r.status_code == 422 and gateway.requests == []


def test_bad_input_no_filter_unknown_placeholder_nobody_consenting(app, client, auth, make_beneficiary, gateway):
    make_beneficiary(mobile="0501234597", category="sick")
    auth.login("officer")
    r = client.post("/sms/bulk", data={"text": "نص", "action": "preview"})
    assert r.status_code == 422 and "اختر" in r.get_data(as_text=True)
    r = client.post("/sms/bulk", data=dict(WIDOW, text="مرحبًا {nom}", action="preview"))
    assert r.status_code == 422 and "{nom}" in r.get_data(as_text=True)
    r = client.post("/sms/bulk", data={"category": "sick", "text": "نص", "action": "preview"})
    assert r.status_code == 422
    client.post("/language", data={"lang": "en", "next": "/sms/bulk"})
    page = client.get("/sms/bulk").get_data(as_text=True)
    assert "Bulk message" in page and "Count the recipients and the cost" in page
    assert gateway.requests == []
