"""The certificate as a numbered letter of the letters plugin (hook ``volunteer_document``)."""
import datetime as dt

import pytest

from volunteering_helpers import rows, text_of


@pytest.mark.needs_plugins("letters")
def test_hook_volunteer_document(app, client, users):
    """The letters plugin answers with an outgoing letter, and gives the same letter back for the same key."""
    from portal.db import database

    hook = app.extensions["portal_pm"].hook
    volunteer = {"id": 1, "name": "سعد المتطوع", "national_id": "", "mobile": "+966551234567"}
    hours = {"total": "12.5", "first_day": dt.date(2026, 11, 1), "last_day": dt.date(2026, 11, 20),
             "tasks": ["توصيل السلال الغذائية"], "key": "volunteering-certificate-test"}
    with app.test_request_context(), database.connection_context():
        first = hook.volunteer_document(volunteer=volunteer, hours=hours, actor=None)
        again = hook.volunteer_document(volunteer=volunteer, hours=hours, actor=None)
    assert first["pdf"].startswith(b"%PDF") and first["number"].startswith("ص-")
    assert again["number"] == first["number"]


@pytest.mark.needs_plugins("letters")
def test_certificate_is_a_numbered_letter(app, client, approved_hours):
    from plugins.letters.models import Letter
    from plugins.volunteering.models import Certificate

    vol, token = approved_hours("3")
    r = client.post(f"/volunteering/volunteers/{vol}/certificate", follow_redirects=True)
    [cert] = rows(app, Certificate)
    [letter] = rows(app, Letter)
    assert cert.by_letters and cert.number == letter.number and letter.recipient == "سعد المتطوع"
    assert letter.number in text_of(r)
    pdf = client.get(f"/volunteering/certificates/{cert.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert len(rows(app, Letter)) == 1  # downloading again does not issue a second letter
