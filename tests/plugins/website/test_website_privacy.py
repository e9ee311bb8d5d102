"""The website answers the data-protection hooks: inquiries and drafts exported, then anonymised or deleted."""
import datetime as dt
import io
import json
import zipfile

from portal.db import database


def test_website_inquiries_exported_and_erased(app, client, auth, make_beneficiary):
    from plugins.website.models import ApplicationDraft, Inquiry
    from portal.models import Beneficiary

    ben = make_beneficiary()
    now = dt.datetime(2026, 11, 20, 9, 0)
    with app.app_context(), database.connection_context():
        row = Beneficiary.get_by_id(ben)
        Inquiry.create(reference="Q-1448-000001", kind="complaint", name="سارة", mobile="+966550000001",
                       national_id=row.national_id, subject="تأخر", body="لم يصلني رد", due_at=now)
        ApplicationDraft.create(code_hash="a" * 64, data={"first_name": "سارة"}, national_id=row.national_id,
                                expires_at=now + dt.timedelta(days=7))
        number = row.file_number
    auth.login("admin")
    doc = json.loads(zipfile.ZipFile(io.BytesIO(client.get(f"/beneficiaries/{ben}/export.zip").data))
                     .read("beneficiary.json"))
    assert doc["plugins"]["website"]["inquiries"][0]["body"] == "لم يصلني رد"
    assert "code_hash" not in doc["plugins"]["website"]["application_drafts"][0]
    assert client.post(f"/beneficiaries/{ben}/erase", data={"confirm": number}).status_code == 302
    with app.app_context(), database.connection_context():
        inquiry = Inquiry.get()
        assert (inquiry.reference, inquiry.name, inquiry.national_id, inquiry.body) == ("Q-1448-000001", "", "", "")
        assert not ApplicationDraft.select().exists()
