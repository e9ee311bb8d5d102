"""Helpers of the website plugin's tests (imported by each test module); the fixtures are in this folder's
conftest.py, and importable from here too (``from website_helpers import app_config, types, ...``)."""
from __future__ import annotations

import io
import re
import struct
import zlib

from portal.db import database


def png_bytes(width=8, height=8) -> bytes:
    """A real, small PNG image."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


from pdf_samples import MINIMAL_PDF as PDF  # noqa: E402  (a valid one-page PDF)


def upload(data: bytes, name: str):
    return (io.BytesIO(data), name)


APPLICANT = {
    "first_name": "فاطمة", "father_name": "سعيد", "grandfather_name": "حسن", "family_name": "الزهراني",
    "national_id": "1000000008", "mobile": "0551234567", "gender": "f", "birth_date": "1405-03-14",
    "city": "مكة المكرمة", "district": "الشوقية",
}
HOUSEHOLD = {"category": "widow", "housing": "rented", "monthly_income": "1200",
             "m0_name": "سارة", "m0_relation": "daughter", "m0_birth_date": "2012-05-01"}


def food_basket_answers(app) -> dict:
    from portal.workflow.intake import get_request_type, questions

    with app.app_context(), database.connection_context():
        return {f"answer_{q.id}": "5" for q in questions(get_request_type("food_basket"))}


def stamp(client, url: str) -> dict:
    """The signed form stamp a visitor gets with the form (anti-abuse minimum fill time)."""
    html = client.get(url).get_data(as_text=True)
    return {"form_stamp": re.search(r'name="form_stamp" value="([^"]+)"', html).group(1)}


def start_application(client, applicant=None):
    return client.post("/site/apply/applicant",
                       data={**APPLICANT, **(applicant or {}), **stamp(client, "/site/apply/applicant")})


def apply_until_documents(client, app, applicant=None):
    """Fill the first three steps; returns the response of the request step."""
    r = start_application(client, applicant)
    assert r.status_code == 302 and r.headers["Location"].endswith("/site/apply/household"), r.status_code
    r = client.post("/site/apply/household", data=HOUSEHOLD)
    assert r.status_code == 302, r.status_code
    r = client.post("/site/apply/request", data={"request_type": "food_basket", "summary": "نحتاج سلة غذائية",
                                                 **food_basket_answers(app)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/site/apply/documents"), r.status_code
    return r


def apply_fully(client, app, documents=("national_id", "family_card"), applicant=None, contact=True):
    apply_until_documents(client, app, applicant)
    files = {}
    for kind in documents:
        files[f"doc_{kind}"] = upload(png_bytes(), f"{kind}.png")
    r = client.post("/site/apply/documents", data=files, content_type="multipart/form-data")
    assert r.status_code == 302 and r.headers["Location"].endswith("/site/apply/declaration"), r.status_code
    r = client.post("/site/apply/declaration", data={"accepted": "1", "consent": "1", **({"contact": "1"} if contact else {})})
    assert r.status_code == 302 and r.headers["Location"].endswith("/site/apply/review"), r.status_code
    return client.post("/site/apply/review", data={"action": "submit"})


def error_ids(html: str) -> list[str]:
    return re.findall(r'id="e-([\w]+)"', html)


from website.conftest import Outbox, app_config, outbox, types  # noqa: E402,F401  (fixtures)
