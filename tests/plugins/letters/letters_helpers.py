"""Shared helpers of the letters tests (a module name no other test folder uses); the fixtures are in this
folder's conftest.py (``make_case`` is also importable from here, as the test modules do)."""
from __future__ import annotations

import io
import re


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def text_of(response) -> str:
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


from letters.conftest import make_case  # noqa: E402,F401  (a fixture, imported by the test modules)
