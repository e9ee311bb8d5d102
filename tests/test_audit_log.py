"""The audit log: every read of personal data is recorded; the screen filters, pages and exports."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from conftest import text_of
from portal.db import database


def _events(app, **where):
    from portal.models import AuditEvent

    with app.app_context(), database.connection_context():
        query = AuditEvent.select().order_by(AuditEvent.id)
        for key, value in where.items():
            query = query.where(getattr(AuditEvent, key) == value)
        return [(e.action, e.object_type, e.object_id, e.details) for e in query]


def _add_events(app, users, n, **fields):
    from portal.models import AuditEvent, User

    with app.app_context(), database.connection_context():
        actor = User.get_by_id(users[fields.pop("actor", "officer")])
        for i in range(n):
            AuditEvent.create(actor=actor, action=fields.get("action", "read"),
                              object_type=fields.get("object_type", "beneficiary"),
                              object_id=str(fields.get("object_id", i)), at=fields.get("at", dt.datetime(2026, 11, 20, 9, 0)))


# ---------------------------------------------------------------- reads are audited

def test_timeline_page_read_is_audited(app, client, auth, make_beneficiary):
    ben = make_beneficiary()
    auth.login("officer")
    assert client.get(f"/beneficiaries/{ben}/timeline").status_code == 200
    assert ("read", "timeline", str(ben), None) in _events(app, action="read")


def test_api_list_lookup_and_timeline_reads_are_audited(app, client, users, make_beneficiary):
    from portal.api import create_token
    from portal.models import User

    ben = make_beneficiary()
    with app.app_context(), database.connection_context():
        token = create_token(User.get_by_id(users["officer"]), "test")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/beneficiaries?q=سارة", headers=headers).status_code == 200
    assert client.get(f"/api/v1/beneficiaries/{ben}/timeline", headers=headers).status_code == 200
    events = _events(app, action="read")
    listed = [e for e in events if e[1] == "beneficiary_list"]
    assert listed and listed[0][3]["via"] == "api" and listed[0][3]["q"] == "سارة"
    assert listed[0][3]["results"] == [ben]
    assert ("read", "timeline", str(ben), {"via": "api"}) in events


def test_search_lookup_is_audited(app, client, auth, make_beneficiary):
    ben = make_beneficiary()
    auth.login("officer")
    client.get("/beneficiaries/?q=الحربي")
    client.get("/beneficiaries/")  # the plain list without a query is not a look-up
    lookups = [e for e in _events(app, action="read") if e[1] == "beneficiary_list"]
    assert len(lookups) == 1 and lookups[0][3] == {"q": "الحربي", "results": [ben]}


# ---------------------------------------------------------------- the screen

def test_audit_screen_filters_and_pages(app, client, auth, users, monkeypatch):
    app.config["AUDIT_PAGE_SIZE"] = 5
    _add_events(app, users, 12, action="read", object_type="beneficiary")
    _add_events(app, users, 2, actor="admin", action="erase", object_type="beneficiary", object_id=77,
                at=dt.datetime(2026, 11, 25, 23, 0))  # 26 November in Riyadh
    auth.login("manager")
    first = client.get("/admin/audit?lang=en")
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert html.count("<tr>") == 6  # header + 5 rows
    assert "before=" in html and "Older" in text_of(first)
    import re

    before = re.search(r"before=(\d+)", html).group(1)
    second = client.get(f"/admin/audit?before={before}")
    assert second.status_code == 200 and second.get_data(as_text=True).count("<tr>") == 6
    only = client.get("/admin/audit?user=admin&action=erase&lang=en")
    assert only.get_data(as_text=True).count("<tr>") == 3
    by_record = client.get("/admin/audit?object_type=beneficiary&object_id=77")
    assert by_record.get_data(as_text=True).count("<tr>") == 3
    # Saudi days: 23:00 UTC on the 25th is the 26th in Riyadh; Hijri or Gregorian both work.
    assert client.get("/admin/audit?action=erase&date_from=2026-11-26&date_to=2026-11-26") \
        .get_data(as_text=True).count("<tr>") == 3
    assert client.get("/admin/audit?action=erase&date_to=2026-11-25").get_data(as_text=True).count("<tr>") == 0
    hijri = client.get("/admin/audit?action=erase&date_from=1448-06-16&date_to=1448-06-16")
    assert hijri.status_code == 200 and hijri.get_data(as_text=True).count("<tr>") == 3


@pytest.mark.parametrize(("query", "field", "message"), [
    ("date_from=2026-13-40", "date_from", ""),
    ("date_from=1447-02-30", "date_from", ""),
    ("date_to=yesterday", "date_to", ""),
    ("date_from=2026-11-20&date_to=2026-11-01", "date_to", "before the start date"),
    ("user=nobody", "user", "No account has this username"),
    ("action=" + "x" * 31, "action", "Too long"),
])
def test_audit_filters_with_bad_input(app, client, auth, users, query, field, message):
    auth.login("admin")
    response = client.get(f"/admin/audit?{query}&lang=en")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="e-{field}"' in html and message in text_of(response)
    export = client.get(f"/admin/audit.csv?{query}")
    assert export.status_code == 422


@pytest.mark.parametrize("before", ["abc", "-5", "99999999999999999999999999", "١٢", "0"])
def test_audit_bad_page_cursor_shows_the_first_page(app, client, auth, users, before):
    _add_events(app, users, 3)
    auth.login("admin")
    response = client.get(f"/admin/audit?before={before}")
    assert response.status_code == 200 and response.get_data(as_text=True).count("<tr>") == 5  # 3 + the sign-in


def test_audit_export_csv(app, client, auth, users):
    _add_events(app, users, 3, action="read", object_type="beneficiary")
    _add_events(app, users, 1, actor="admin", action="=cmd|' /C calc'!A0", object_type="beneficiary")
    auth.login("admin")
    response = client.get("/admin/audit.csv?user=officer")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["id", "at_utc", "at_riyadh", "user", "action"]
    assert len(rows) == 4 and {r[3] for r in rows[1:]} == {"officer"}
    everything = client.get("/admin/audit.csv").get_data(as_text=True)
    assert "'=cmd" in everything  # a formula is written as text
    exports = [e for e in _events(app, action="export") if e[1] == "audit_log"]
    assert exports[0][3] == {"user": "officer"} and len(exports) == 2


@pytest.mark.parametrize("role", ["officer", "researcher", "committee", "delegate"])
def test_audit_screen_refused_to_other_roles(client, auth, role):
    auth.login(role)
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403


def test_audit_link_in_menu_for_managers_only(client, auth):
    auth.login("manager")
    assert 'href="/admin/audit"' in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login("officer")
    assert 'href="/admin/audit"' not in client.get("/").get_data(as_text=True)


def test_plugin_and_workflow_reads_are_audited(app, client, auth, users, make_beneficiary):
    """Media downloads, a social conversation, the phone screen-pop, a call, the printable request form."""
    from plugins.social.models import Sender
    from portal.models import Attachment, TimelineEntry
    from portal.uploads import store_bytes

    ben = make_beneficiary()
    with app.app_context(), database.connection_context():
        entry = TimelineEntry.create(beneficiary=ben, channel="social", summary="صورة")
        png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15"
               b"\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00"
               b"\x00IEND\xaeB`\x82")
        stored = store_bytes(png, "photo.png", "png")
        att = Attachment.create(entry=entry, sha256=stored.sha256, file_name="photo.png", content_type="image/png",
                                size=stored.size)
        sender = Sender.create(platform="whatsapp", handle="966550000001", beneficiary=ben)
    auth.login("officer")
    assert client.get(f"/social/media/{att.id}").status_code == 200
    assert client.get(f"/social/senders/{sender.id}").status_code == 200
    assert client.get("/phone/lookup?number=0550000001").status_code == 200
    assert client.get(f"/beneficiaries/{ben}/request-form").status_code == 200
    events = _events(app, action="read")
    kinds = {e[1] for e in events}
    assert {"media", "social_sender", "phone_lookup", "request_form"} <= kinds
    assert ("read", "media", str(att.id), {"entry": entry.id, "beneficiary": ben}) in events
    assert any(e[1] == "phone_lookup" and e[3] == {"number": "+966550000001"} for e in events)
