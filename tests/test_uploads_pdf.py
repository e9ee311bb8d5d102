"""PDF active content is refused on every upload path: names resolved (``#xx`` escapes), the whole file
read (no window), object streams decoded; an unparseable PDF is refused; disguised files are refused."""
from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from pdf_samples import MINIMAL_PDF, build_pdf, build_pdf_with_object_stream
from werkzeug.datastructures import FileStorage

from portal.db import database

OPEN = b"<</Type/Catalog/Pages 2 0 R/OpenAction 4 0 R>>"
ACTIVE_EN = "active content"
ACTIVE_AR = "محتوى نشط"


def _attachment_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_attachment("payload.exe", b"MZ\x90\x00 not a document")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _clean_writer_pdf() -> bytes:
    """A PDF made by pypdf's writer with a web link: links (/URI) are fine."""
    from pypdf import PdfWriter
    from pypdf.annotations import Link

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_annotation(0, Link(rect=(10, 10, 100, 30), url="https://example.org/"))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


HOSTILE = {
    "escaped JavaScript": build_pdf({1: OPEN, 4: b"<</S/Java#53cript/#4AS(app.alert(1))>>"}),
    "escaped Launch": build_pdf({1: OPEN, 4: b"<</S/L#61unch/F(cmd.exe)>>"}),
    "JavaScript after 5 MB": build_pdf({1: OPEN, 4: b"<</S/JavaScript/JS(app.alert(1))>>"},
                                       padding=b"0" * (5 * 1024 * 1024)),
    "JavaScript in an object stream": build_pdf_with_object_stream(
        {4: b"<</S/JavaScript/JS(app.alert(1))>>"}, {1: OPEN}),
    "page action in an object stream": build_pdf_with_object_stream(
        {3: b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/AA<</O 4 0 R>>>>",
         4: b"<</S/Launch/F(calc.exe)>>"}),
    "embedded file": _attachment_pdf(),
    "AcroForm": build_pdf({1: b"<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[4 0 R]>>>>",
                           4: b"<</FT/Tx/T(name)/V(x)>>"}),
    "XFA form": build_pdf({1: b"<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[]/XFA 4 0 R>>>>",
                           4: b"<</Length 7>>stream\n<xdp/>\nendstream"}),
    "document-level script": build_pdf({1: b"<</Type/Catalog/Pages 2 0 R/Names<</JavaScript 4 0 R>>>>",
                                        4: b"<</Names[(a) 5 0 R]>>", 5: b"<</S/JavaScript/JS(app.alert(1))>>"}),
}

CLEAN = {
    "minimal": MINIMAL_PDF,
    "pypdf writer with a link": _clean_writer_pdf(),
    "open action to a web page": build_pdf({1: OPEN, 4: b"<</S/URI/URI(https://example.org/)>>"}),
    "object stream without actions": build_pdf_with_object_stream({4: b"<</S/URI/URI(https://example.org/)>>"},
                                                                   {1: OPEN}),
    "signed document (signature field only)": build_pdf(
        {1: b"<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[4 0 R]/SigFlags 3>>>>", 4: b"<</FT/Sig/T(Signature1)>>"}),
}


def _stored_files(app) -> list:
    root = app.config["UPLOAD_DIR"]
    return [f for _r, _d, files in os.walk(root) for f in files] if os.path.exists(root) else []


@pytest.mark.parametrize("name", list(HOSTILE))
@pytest.mark.parametrize(("lang", "message"), [("en", ACTIVE_EN), ("ar", ACTIVE_AR)])
def test_hostile_pdf_is_refused_in_both_languages(app, name, lang, message):
    from portal.uploads import UploadError, store_upload

    with app.test_request_context(f"/?lang={lang}"):
        with pytest.raises(UploadError) as refused:
            store_upload(FileStorage(io.BytesIO(HOSTILE[name]), filename="scan.pdf"))
        assert message in str(refused.value.message)
    assert _stored_files(app) == []


@pytest.mark.parametrize("name", list(CLEAN))
def test_clean_pdf_is_accepted(app, name):
    from portal.uploads import path_for, store_upload

    with app.test_request_context("/"):
        stored = store_upload(FileStorage(io.BytesIO(CLEAN[name]), filename="scan.pdf"))
        assert stored.kind == "pdf" and stored.pages == 1
        assert path_for(stored.sha256).read_bytes() == CLEAN[name]


def test_the_structural_check_resolves_escaped_names_by_itself():
    """The second net (raw bytes) is not what catches these: pypdf's decoded names are."""
    from pypdf import PdfReader

    from portal.uploads import active_content, raw_names

    for name, found in (("escaped JavaScript", {"JS", "JavaScript"}), ("escaped Launch", {"Launch"})):
        assert active_content(PdfReader(io.BytesIO(HOSTILE[name]))) in found
    assert active_content(PdfReader(io.BytesIO(CLEAN["open action to a web page"]))) is None
    assert {"JavaScript", "JS"} <= set(raw_names(HOSTILE["escaped JavaScript"]))
    assert "Launch" in set(raw_names(HOSTILE["escaped Launch"]))


def test_object_stream_hides_the_names_from_the_bytes():
    from pypdf import PdfReader

    from portal.uploads import ACTIVE_NAMES, active_content, raw_names

    data = HOSTILE["JavaScript in an object stream"]
    assert b"JavaScript" not in data and not set(raw_names(data)) & ACTIVE_NAMES
    assert active_content(PdfReader(io.BytesIO(data))) in ("JS", "JavaScript")


def test_the_whole_file_is_read():
    data = HOSTILE["JavaScript after 5 MB"]
    assert len(data) > 5 * 1024 * 1024 and data.index(b"/JavaScript") > 5 * 1024 * 1024


def test_binary_stream_bytes_are_not_mistaken_for_names(app):
    """Image data may hold ``/JS`` by chance: binary stream bodies are left to the structural check."""
    from portal.uploads import store_upload

    noise = b"\x89\xff\x00/JS /Launch\xfe" * 64
    data = build_pdf({3: b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Resources<</XObject<</Im0 4 0 R>>>>>>",
                      4: b"<</Type/XObject/Subtype/Image/Width 8/Height 8/BitsPerComponent 8/ColorSpace/DeviceGray"
                         b"/Length %d>>stream\n" % len(noise) + noise + b"\nendstream"})
    with app.test_request_context("/"):
        assert store_upload(FileStorage(io.BytesIO(data), filename="scan.pdf")).pages == 1


@pytest.mark.parametrize(("data", "message"), [
    (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "damaged"),  # no cross-reference, no pages
    (b"%PDF-1.7\n" + b"garbage " * 200 + b"\n%%EOF\n", "damaged"),
    (MINIMAL_PDF[:-200] + b"\n%%EOF\n", "damaged"),
])
def test_unparseable_pdf_is_refused(app, data, message):
    from portal.uploads import UploadError, store_upload

    with app.test_request_context("/?lang=en"):
        with pytest.raises(UploadError, match=message):
            store_upload(FileStorage(io.BytesIO(data), filename="scan.pdf"))
    assert _stored_files(app) == []


@pytest.mark.parametrize(("name", "data", "message"), [
    ("scan.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200, "not accepted"),  # a Windows program
    ("photo.jpg", MINIMAL_PDF, "does not match"),  # a PDF named as a photo
])
def test_disguised_uploads_are_refused(app, name, data, message):
    from portal.uploads import UploadError, store_upload

    with app.test_request_context("/?lang=en"):
        with pytest.raises(UploadError, match=message):
            store_upload(FileStorage(io.BytesIO(data), filename=name))


# --- every upload path -----------------------------------------------------------------------------

def test_beneficiary_document_refuses_active_pdf_and_keeps_the_form(client, auth, app, make_beneficiary):
    from portal.models import Document

    ben = make_beneficiary()
    auth.login()
    response = client.post(f"/beneficiaries/{ben}/documents?lang=en", content_type="multipart/form-data", data={
        "kind": "lease", "number": "LEASE-77", "file": (io.BytesIO(HOSTILE["escaped JavaScript"]), "lease.pdf")})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert ACTIVE_EN in page and "LEASE-77" in page
    response = client.post(f"/beneficiaries/{ben}/documents", content_type="multipart/form-data", data={
        "kind": "lease", "file": (io.BytesIO(HOSTILE["escaped Launch"]), "lease.pdf")})
    assert response.status_code == 422 and ACTIVE_AR in response.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        assert Document.select().count() == 0
    assert _stored_files(app) == []


def test_incoming_letter_scan_refuses_active_pdf(client, auth, app):
    auth.login("officer")
    response = client.post("/letters/incoming/new?lang=en", content_type="multipart/form-data", data={
        "sender": "جهة", "subject": "خطاب", "letter_date": "1448-05-10",
        "file": (io.BytesIO(HOSTILE["JavaScript in an object stream"]), "scan.pdf")})
    assert response.status_code == 422 and ACTIVE_EN in response.get_data(as_text=True)
    assert _stored_files(app) == []


def test_every_screen_that_accepts_files_uses_the_upload_service():
    """A new ``request.files`` must go through ``store_upload``: the CDR import alone reads a CSV it never
    stores, and the check would not apply to it."""
    root = Path(__file__).resolve().parents[1]
    readers = []
    for folder in ("portal", "plugins"):
        for path in (root / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if re.search(r"request\.files", text):
                readers.append((path.relative_to(root).as_posix(), text))
    assert readers
    exempt = {
        "plugins/phone/views.py",  # CDR CSV import: parsed as text, never stored or served
        # Beneficiary import: an XLSX or CSV checked by its content (portal.imports.detect_kind: a workbook's zip
        # or text, never an image or PDF), read into rows and never served back.
        "portal/imports_views.py",
        "portal/api.py",  # its one file reader is POST /api/v1/imports, the same import
        # A field visit's photos go to the plugin's service (store_photos), which stores each through
        # store_upload with the image kinds only (tests/plugins/delegates: disguised and oversized photos).
        "plugins/delegates/views.py",
    }
    for name, text in readers:
        if name in exempt:
            continue
        module_uses_service = "store_upload" in text or re.search(r"upload=request\.files", text)
        assert module_uses_service, f"{name} reads request.files without portal.uploads.store_upload"
