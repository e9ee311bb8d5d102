"""Administration of staff accounts, household members and documents on a profile."""
import io

import pytest
from conftest import text_of

from portal.db import database
from portal.models import Document, HouseholdMember, User


def test_admin_creates_and_edits_an_account(client, auth, app):
    auth.login("admin")
    response = client.post("/admin/users/new", data={
        "username": "noura", "full_name": "نورة العتيبي", "roles": ["researcher"], "password": "long-enough-pw",
        "phone": "٠١٢ ٥٥٥ ٠٠٠٠"})
    assert response.status_code == 302
    with app.app_context(), database.connection_context():
        user = User.get(User.username == "noura")
        assert user.roles == "researcher" and user.phone == "+966125550000"
    response = client.post(f"/admin/users/{user.id}", data={"full_name": "نورة", "roles": ["researcher", "committee"]})
    assert response.status_code == 302
    with app.app_context(), database.connection_context():
        user = User.get(User.username == "noura")
        assert user.role_set == {"researcher", "committee"} and not user.is_active


@pytest.mark.parametrize(("data", "field"), [
    ({"username": "officer", "full_name": "x", "roles": ["officer"], "password": "long-enough-pw"}, "taken"),
    ({"username": "a b", "full_name": "x", "roles": ["officer"], "password": "long-enough-pw"}, "lowercase"),
    ({"username": "newone", "full_name": "", "roles": ["officer"], "password": "long-enough-pw"}, "required"),
    ({"username": "newone", "full_name": "x", "roles": [], "password": "long-enough-pw"}, "at least one role"),
    ({"username": "newone", "full_name": "x", "roles": ["king"], "password": "long-enough-pw"}, "Unknown role"),
    ({"username": "newone", "full_name": "x", "roles": ["officer"], "password": "short"}, "10 characters"),
    ({"username": "newone", "full_name": "x", "roles": ["delegate"], "password": "long-enough-pw"}, "needs a branch"),
])
def test_bad_account_data_is_refused(client, auth, app, data, field):
    auth.login("admin")
    response = client.post("/admin/users/new?lang=en", data=data)
    assert response.status_code == 422 and field in response.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        assert User.select().count() == 6


def test_admin_cannot_remove_own_admin_role(client, auth, app, users):
    auth.login("admin")
    response = client.post(f"/admin/users/{users['admin']}?lang=en", data={"full_name": "x", "roles": ["officer"],
                                                                          "is_active": "1"})
    assert response.status_code == 422 and "own administrator" in response.get_data(as_text=True)


def test_household_member_added_and_validated(client, auth, app, make_beneficiary):
    ben = make_beneficiary()
    auth.login()
    bad = client.post(f"/beneficiaries/{ben}/household?lang=en", data={"name": "محمد", "relation": "son",
                                                                      "national_id": "1234"})
    assert bad.status_code == 422 and 'value="محمد"' in bad.get_data(as_text=True)
    ok = client.post(f"/beneficiaries/{ben}/household", data={"name": "محمد", "relation": "son",
                                                             "birth_date": "1440-01-01"})
    assert ok.status_code == 302
    with app.app_context(), database.connection_context():
        assert [m.name for m in HouseholdMember.select()] == ["محمد"]
    assert "محمد" in text_of(client.get(f"/beneficiaries/{ben}"))


def test_document_with_scan_expired_flag_and_download(client, auth, app, make_beneficiary):
    ben = make_beneficiary()
    auth.login()
    from pdf_samples import MINIMAL_PDF as pdf
    response = client.post(f"/beneficiaries/{ben}/documents", content_type="multipart/form-data", data={
        "kind": "national_id", "number": "1000000008", "issue_date": "1436-01-01", "expiry_date": "1446-01-01",
        "file": (io.BytesIO(pdf), "هوية.pdf")})
    assert response.status_code == 302
    page = client.get(f"/beneficiaries/{ben}?lang=en")
    assert "Expired" in text_of(page)
    with app.app_context(), database.connection_context():
        doc = Document.get()
    download = client.get(f"/beneficiaries/{ben}/documents/{doc.id}/file")
    assert download.status_code == 200 and download.data == pdf
    assert "attachment" in download.headers["Content-Disposition"]


@pytest.mark.parametrize(("data", "message"), [
    ({"kind": "passport"}, "document type"),
    ({"kind": "lease", "issue_date": "2026-05-01", "expiry_date": "2026-01-01"}, "before the issue date"),
    ({"kind": "lease", "expiry_date": "1447-02-30"}, "does not exist"),
    ({"kind": "lease", "file": (io.BytesIO(b"MZ\x90\x00 fake exe"), "contract.pdf")}, "not accepted"),
])
def test_bad_documents_are_refused(client, auth, app, make_beneficiary, data, message):
    ben = make_beneficiary()
    auth.login()
    response = client.post(f"/beneficiaries/{ben}/documents?lang=en", content_type="multipart/form-data", data=data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        assert Document.select().count() == 0
