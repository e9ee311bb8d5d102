"""The letters registry answers the data-protection hooks: export of letters and scans, erasure keeping numbers."""
import io
import json
import zipfile

from portal.db import database

from pdf_samples import MINIMAL_PDF as PDF  # noqa: E402  (a valid one-page PDF)


def _letters(app, ben, pdf=PDF):
    from plugins.letters.models import IncomingLetter, Letter
    from portal.uploads import store_bytes

    with app.test_request_context(), database.connection_context():
        out = store_bytes(pdf, "l.pdf", "pdf")
        scan = store_bytes(pdf + b"scan", "s.pdf", "pdf")
        Letter.create(number="OUT-1448-000001", hijri_year=1448, sequence=1, beneficiary=ben, recipient="سارة الحربي",
                      subject="إفادة", fields={"x": "سارة"}, pdf_sha256=out.sha256, pdf_size=out.size, verify_code="abc")
        IncomingLetter.create(number="IN-1448-000001", hijri_year=1448, sequence=1, beneficiary=ben,
                              sender="سارة الحربي", subject="طلب", notes="تسكن في العزيزية", ocr_text="سارة",
                              file_sha256=scan.sha256, file_name="scan.pdf", content_type="application/pdf",
                              size=scan.size)
        return out.sha256, scan.sha256


def _number(app, ben):
    from portal.models import Beneficiary

    with app.app_context(), database.connection_context():
        return Beneficiary.get_by_id(ben).file_number


def test_letters_export_and_erasure(app, client, auth, make_beneficiary):
    from plugins.letters.models import IncomingLetter, Letter
    from portal.uploads import path_for

    ben = make_beneficiary()
    out_sha, scan_sha = _letters(app, ben)
    auth.login("admin")
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/beneficiaries/{ben}/export.zip").data))
    doc = json.loads(archive.read("beneficiary.json"))
    assert [r["number"] for r in doc["plugins"]["letters"]["outgoing"]] == ["OUT-1448-000001"]
    assert "verify_code" not in doc["plugins"]["letters"]["outgoing"][0]
    assert {n.rsplit("-", 1)[-1] for n in archive.namelist() if n.startswith("files/letters/")} == {
        "000001.pdf"} and len([n for n in archive.namelist() if n.startswith("files/letters/")]) == 2
    assert client.post(f"/beneficiaries/{ben}/erase", data={"confirm": _number(app, ben)}).status_code == 302
    with app.app_context(), database.connection_context():
        letter, scan = Letter.get(), IncomingLetter.get()
        assert (letter.number, letter.recipient, letter.fields, letter.pdf_sha256) == ("OUT-1448-000001", "", None, "")
        assert (scan.number, scan.sender, scan.notes, scan.ocr_text, scan.file_sha256) == (
            "IN-1448-000001", "", "", "", "")
        assert not path_for(out_sha).exists() and not path_for(scan_sha).exists()
    # The registry still answers; the deleted copies are 404, not errors.
    assert client.get(f"/letters/out/{letter.id}/pdf").status_code == 404
    assert client.get(f"/letters/incoming/{scan.id}/file").status_code == 404
    assert client.get(f"/letters/incoming/{scan.id}/pages/1.png").status_code == 404
    assert client.get(f"/letters/out/{letter.id}").status_code == 200
    assert client.get(f"/beneficiaries/{ben}").status_code == 200
    from portal.models import AuditEvent

    with app.app_context(), database.connection_context():
        reads = [(e.object_type, e.details) for e in AuditEvent.select().where(AuditEvent.action == "read")]
        assert ("letter", {"number": "OUT-1448-000001", "page": True}) in reads


def test_letter_copies_stay_while_decisions_are_retained(app, client, auth, make_beneficiary):
    import datetime as dt

    from plugins.letters.models import Letter
    from portal.models import Case
    from portal.uploads import path_for

    ben = make_beneficiary()
    out_sha, _scan = _letters(app, ben)
    with app.app_context(), database.connection_context():
        Case.create(reference="1448-000009", beneficiary=ben, status="approved", decision="approved",
                    decided_at=dt.datetime.now(dt.UTC).replace(tzinfo=None))
    auth.login("admin")
    assert client.post(f"/beneficiaries/{ben}/erase", data={"confirm": _number(app, ben)}).status_code == 302
    with app.app_context(), database.connection_context():
        assert Letter.get().pdf_sha256 == out_sha and path_for(out_sha).exists()
