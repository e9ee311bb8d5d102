"""Incoming letters: hostile uploads, numbering, page images, OCR and search, registry, status page."""
from __future__ import annotations

import io
import shutil

import pytest
from letters_helpers import make_case, text_of  # noqa: F401  (make_case is a fixture)
from PIL import Image, ImageDraw, ImageFont

from portal.db import database


def _png(width=400, height=560, text=None) -> bytes:
    img = Image.new("L", (width, height), 255)
    if text:
        import fontpkg

        font = ImageFont.truetype(str(fontpkg.path("noto-sans", 400)), 48)
        ImageDraw.Draw(img).text((40, 60), text, fill=0, font=font)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def _tiff_pages(n=3) -> bytes:
    frames = [Image.new("L", (300, 400), 255) for _ in range(n)]
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:])
    return out.getvalue()


def _arabic_pdf(app, words: str) -> bytes:
    """A one-page scan-like PDF with Arabic text, drawn by WeasyPrint with the Amiri font."""
    from plugins.letters.render import font_faces, html_to_pdf

    with app.app_context():
        html = (f"<html dir='rtl'><style>{font_faces()} body {{ font-family: Amiri; font-size: 28pt; }}</style>"
                f"<body><p>{words}</p></body></html>")
        return html_to_pdf(html)[0]


def post(client, data: bytes | None, name="scan.pdf", **form):
    values = {"sender": "مستشفى الملك فيصل", "subject": "تقرير طبي", "letter_date": "1448-05-10"}
    values.update(form)
    if data is not None:
        values["file"] = (io.BytesIO(data), name)
    return client.post("/letters/incoming/new?lang=en", data=values, content_type="multipart/form-data")


def _count():
    from plugins.letters.models import IncomingLetter

    return IncomingLetter.select().count()


def _files(app):
    from pathlib import Path

    root = Path(app.config["UPLOAD_DIR"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


ENCRYPTED_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
                 b"trailer<</Root 1 0 R/Encrypt<</Filter/Standard/V 1/R 2>>>>\n%%EOF\n")


@pytest.mark.parametrize("name,data,message", [
    ("scan.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "not accepted"),
    ("scan.pdf", b"<!doctype html><html><script>alert(1)</script></html>", "not accepted"),
    ("scan.pdf", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "not accepted"),
    ("scan.pdf", ENCRYPTED_PDF, "password"),
    ("scan.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "damaged"),
    ("scan.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\n", "damaged"),
    ("scan.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "damaged"),
    ("scan.jpg", _png(), "does not match"),
])
def test_hostile_uploads_are_refused_and_nothing_is_stored(app, client, auth, name, data, message):
    auth.login("officer")
    response = post(client, data, name=name)
    assert response.status_code == 422
    text = text_of(response)
    assert message in text, text
    assert "مستشفى الملك فيصل" in response.get_data(as_text=True)  # the form keeps what was typed
    with app.app_context(), database.connection_context():
        assert _count() == 0
    assert _files(app) == []


def test_decompression_bomb_png_is_refused(app, client, auth):
    img = Image.new("1", (12000, 12000), 1)
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    assert len(out.getvalue()) < 2 * 1024 * 1024
    auth.login("officer")
    response = post(client, out.getvalue(), name="bomb.png")
    assert response.status_code == 422 and "too large" in text_of(response)
    assert _files(app) == []


def test_oversized_file_refused_while_streaming(app, client, auth):
    app.config["LETTERS_MAX_SCAN_MB"] = 0.05
    auth.login("officer")
    response = post(client, _png(2000, 2000, None) + b"\x00" * 100_000, name="big.png")
    assert response.status_code == 422 and "larger than" in text_of(response)
    with app.app_context(), database.connection_context():
        assert _count() == 0
    assert _files(app) == []


def test_register_multipage_tiff_numbered_with_pages(app, client, auth, make_beneficiary):
    from plugins.letters.models import IncomingLetter
    from portal.models import Beneficiary, TimelineEntry

    ben_id = make_beneficiary()
    with app.app_context(), database.connection_context():
        file_number = Beneficiary.get_by_id(ben_id).file_number
    auth.login("officer")
    response = post(client, _tiff_pages(3), name="scan.tiff", ref=file_number)
    assert response.status_code == 303, text_of(response)
    response = post(client, _png(), name="second.png")
    assert response.status_code == 303
    with app.app_context(), database.connection_context():
        first, second = IncomingLetter.select().order_by(IncomingLetter.id)
        assert first.number.startswith("و-") and first.number.endswith("-000001")
        assert second.number.endswith("-000002")
        assert first.page_count == 3 and first.beneficiary_id == ben_id
        entry = TimelineEntry.get((TimelineEntry.channel == "letters") & (TimelineEntry.beneficiary == ben_id))
        assert entry.direction == "in" and entry.data["number"] == first.number
    page = client.get(f"/letters/incoming/{first.id}")
    assert page.status_code == 200 and "/pages/3.png" in page.get_data(as_text=True)
    thumb = client.get(f"/letters/incoming/{first.id}/pages/1.png?size=thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/png"
    assert Image.open(io.BytesIO(thumb.data)).width == 240
    assert thumb.headers["Cache-Control"] == "no-store"  # a scan is personal data: the browser keeps no copy
    assert client.get(f"/letters/incoming/{first.id}/pages/4.png").status_code == 404
    profile = client.get(f"/beneficiaries/{ben_id}").get_data(as_text=True)
    assert f"/letters/incoming/{first.id}/pages/1.png" in profile  # the thumbnail on the timeline
    download = client.get(f"/letters/incoming/{first.id}/file")
    assert download.status_code == 200 and download.data[:4] == b"II*\x00"
    auth.logout()
    auth.login("committee")
    assert client.get(f"/letters/incoming/{first.id}/file").status_code == 403


@pytest.mark.skipif(not shutil.which("tesseract"), reason="Tesseract is not installed")
def test_ocr_makes_scanned_pdf_searchable(app, client, auth):
    from plugins.letters.models import IncomingLetter

    pdf = _arabic_pdf(app, "نفيدكم بأن المستفيدة تراجع العيادة الخارجية للعلاج الطبيعي")
    auth.login("officer")
    response = post(client, pdf, name="scan.pdf", subject="خطاب")
    assert response.status_code == 303, text_of(response)
    with app.app_context(), database.connection_context():
        letter = IncomingLetter.get()
        assert letter.ocr_status == "done", letter.ocr_status
        assert "العيادة" in letter.ocr_text
    # found by a word inside it, written with other alef/ta marbuta forms
    found = client.get("/letters/incoming?q=العياده")
    assert letter.number in text_of(found)
    assert letter.number not in text_of(client.get("/letters/incoming?q=مدرسة"))


def test_without_tesseract_status_page_says_so_and_registering_works(app, client, auth, monkeypatch):
    from plugins.letters.models import IncomingLetter

    app.config["LETTERS_TESSERACT"] = "tesseract-not-installed"
    auth.login("admin")
    status = client.get("/letters/status")
    assert status.status_code == 200 and "برنامج Tesseract غير مثبت" in text_of(status)
    assert post(client, _png(), name="a.png").status_code == 303
    with app.app_context(), database.connection_context():
        assert IncomingLetter.get().ocr_status == "unavailable"


def test_incoming_registry_filters_and_csv(app, client, auth):
    auth.login("officer")
    post(client, _png(), name="a.png", sender="=HYPERLINK(1)", subject="أول")
    post(client, _png(), name="b.png", sender="مدرسة", subject="ثاني")
    assert "ثاني" in text_of(client.get("/letters/incoming?q=مدرسه"))
    assert "أول" not in text_of(client.get("/letters/incoming?q=مدرسه"))
    csv = client.get("/letters/incoming.csv").get_data(as_text=True)
    assert "'=HYPERLINK(1)" in csv and csv.count("\n") == 3
    assert client.get("/letters/incoming?to=2026-02-30").status_code == 422


def test_missing_fields_are_reported(client, auth):
    auth.login("officer")
    response = post(client, None, sender="", subject="")
    assert response.status_code == 422


def test_registry_pages_run_a_constant_number_of_queries(app, client, auth, make_beneficiary):
    from playhouse.test_utils import count_queries

    from plugins.letters import service
    from portal.models import Beneficiary
    from portal.uploads import store_bytes

    auth.login("officer")

    def add(n):
        with app.test_request_context(), database.connection_context():
            stored = store_bytes(_png(), "a.png", "png")
            for _ in range(n):
                ben = Beneficiary.get_by_id(make_beneficiary())
                service.register_incoming(stored=stored, sender="جهة", subject="موضوع", beneficiary=ben)

    def queries(url):
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    add(2)
    few = (queries("/letters/incoming"), queries("/letters/"))
    add(8)
    assert (queries("/letters/incoming"), queries("/letters/")) == few
