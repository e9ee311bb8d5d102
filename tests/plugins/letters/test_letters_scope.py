"""A researcher sees the letters of the requests assigned to them only (registries, CSV, pages, PDFs,
the API); the pages of a scanned incoming letter follow the scan file's rule."""
from __future__ import annotations

import io

import pytest
from letters_helpers import make_case  # noqa: F401  (make_case is a fixture)
from PIL import Image

from portal.db import database


@pytest.fixture
def letters(app, users, make_case, make_beneficiary):
    """Outgoing and incoming letters of an assigned request, of a request not assigned to the researcher
    and of no request."""
    from werkzeug.datastructures import FileStorage

    from plugins.letters import service
    from portal.api import create_token
    from portal.models import Beneficiary, Case, User
    from portal.uploads import store_upload

    ben_id = make_beneficiary(family_name="العتيبي")
    assigned = make_case(ben_id=ben_id)
    unassigned = make_case(ben_id=ben_id, assigned_researcher=None)
    buffer = io.BytesIO()
    Image.new("L", (200, 280), 255).save(buffer, "PNG")
    with app.test_request_context(), database.connection_context():
        ben = Beneficiary.get_by_id(ben_id)
        general = service.template_by_key("general")
        out, inc = {}, {}
        for key, case_id in (("assigned", assigned), ("unassigned", unassigned), ("none", None)):
            case = Case.get_by_id(case_id) if case_id else None
            out[key] = service.issue_letter(template=general, beneficiary=ben, case=case,
                                            extra={"subject_text": f"خطاب {key}", "body_text": "نص"})
            stored = store_upload(FileStorage(io.BytesIO(buffer.getvalue()), filename=f"{key}.png"))
            inc[key] = service.register_incoming(stored=stored, sender=f"جهة {key}", subject="تقرير",
                                                 beneficiary=ben, case=case)
        tokens = {r: create_token(User.get_by_id(users[r]), "t") for r in ("researcher", "officer")}
    return {"out": out, "in": inc, "ben": ben_id, "tokens": tokens}


def test_the_outgoing_registry_and_letters(client, auth, letters):
    out = letters["out"]
    auth.login("researcher")
    page = client.get("/letters/").get_data(as_text=True)
    assert out["assigned"].number in page
    assert out["unassigned"].number not in page and out["none"].number not in page
    csv = client.get("/letters/outgoing.csv").get_data(as_text=True)
    assert out["assigned"].number in csv and out["unassigned"].number not in csv and out["none"].number not in csv
    xlsx = client.get("/letters/outgoing.xlsx")
    from openpyxl import load_workbook

    numbers = {r[0] for r in load_workbook(io.BytesIO(xlsx.get_data())).active.values}
    assert out["assigned"].number in numbers and out["unassigned"].number not in numbers
    assert client.get(f"/letters/out/{out['assigned'].id}").status_code == 200
    assert client.get(f"/letters/out/{out['assigned'].id}/pdf").status_code == 200
    for key in ("unassigned", "none"):
        assert client.get(f"/letters/out/{out[key].id}").status_code == 403
        assert client.get(f"/letters/out/{out[key].id}/pdf").status_code == 403
    auth.logout()
    auth.login("officer")
    page = client.get("/letters/").get_data(as_text=True)
    assert all(row.number in page for row in out.values())


def test_the_api_pdf(client, letters):
    def get(role, key):
        return client.get(f"/api/v1/letters/{letters['out'][key].number}.pdf",
                          headers={"Authorization": f"Bearer {letters['tokens'][role]}"})

    assert get("researcher", "assigned").status_code == 200
    assert get("researcher", "unassigned").status_code == 404
    assert get("researcher", "none").status_code == 404
    assert get("officer", "none").status_code == 200


def test_the_incoming_registry(client, auth, letters):
    inc = letters["in"]
    auth.login("researcher")
    page = client.get("/letters/incoming").get_data(as_text=True)
    assert inc["assigned"].number in page and inc["unassigned"].number not in page and inc["none"].number not in page
    csv = client.get("/letters/incoming.csv").get_data(as_text=True)
    assert inc["assigned"].number in csv and inc["unassigned"].number not in csv
    shown = client.get(f"/letters/incoming/{inc['assigned'].id}?lang=en")
    assert shown.status_code == 200
    assert "/pages/1.png" not in shown.get_data(as_text=True)
    assert "officers, managers and administrators only" in shown.get_data(as_text=True)
    assert client.get(f"/letters/incoming/{inc['unassigned'].id}").status_code == 403


@pytest.mark.parametrize(("role", "status"), [("researcher", 403), ("committee", 403), ("delegate", 403),
                                              ("officer", 200), ("manager", 200), ("admin", 200)])
def test_scan_pages_follow_the_scan_files_rule(client, auth, letters, role, status):
    inc = letters["in"]["assigned"]
    auth.login(role)
    assert client.get(f"/letters/incoming/{inc.id}/pages/1.png").status_code == status
    assert client.get(f"/letters/incoming/{inc.id}/file").status_code == status


def test_the_timeline_shows_the_scan_thumbnail_only_to_who_may_open_it(client, auth, letters):
    auth.login("researcher")
    profile = client.get(f"/beneficiaries/{letters['ben']}").get_data(as_text=True)
    assert letters["in"]["assigned"].number in profile and "/pages/1.png" not in profile
    assert letters["in"]["unassigned"].number not in profile and letters["out"]["unassigned"].number not in profile
    auth.logout()
    auth.login("officer")
    profile = client.get(f"/beneficiaries/{letters['ben']}").get_data(as_text=True)
    assert "/pages/1.png" in profile and letters["in"]["unassigned"].number in profile


def test_a_delegate_sees_the_letter_entries_of_a_file_in_their_branch_without_links(app, client, auth, letters):
    """A delegate reads the timeline of a file of their branch but may not open letters: the entries name the
    letters (number, subject, sender) and link to nothing that would answer 403."""
    from portal.models import Beneficiary, Branch

    with app.app_context(), database.connection_context():
        Beneficiary.update(branch=Branch.get(Branch.code == "TAIF")).where(
            Beneficiary.id == letters["ben"]).execute()
    auth.login("delegate")
    html = client.get(f"/beneficiaries/{letters['ben']}/timeline").get_data(as_text=True)
    assert letters["out"]["none"].number in html and "جهة none" in html
    assert "/letters/out/" not in html and "/letters/incoming/" not in html
    assert client.get(f"/letters/out/{letters['out']['none'].id}").status_code == 403
    auth.login("officer")
    html = client.get(f"/beneficiaries/{letters['ben']}/timeline").get_data(as_text=True)
    assert f"/letters/out/{letters['out']['none'].id}" in html and "/letters/incoming/" in html
