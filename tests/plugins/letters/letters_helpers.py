"""Shared helpers of the letters tests (a module name no other test folder uses)."""
from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest

from portal.db import database


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def text_of(response) -> str:
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()



@pytest.fixture
def make_case(app, make_beneficiary, users):
    from portal.models import Beneficiary, Case, User

    counter = {"n": 0}

    def make(ben_id=None, status="approved", reasons="", amount="1500", **overrides):
        counter["n"] += 1
        ben_id = ben_id or make_beneficiary()
        with app.app_context(), database.connection_context():
            values = dict(
                reference=f"1448-{counter['n']:06d}", beneficiary=Beneficiary.get_by_id(ben_id),
                request_type="financial_aid", status=status, decision_reasons=reasons,
                amount=Decimal(amount) if amount else None,
                submitted_at=dt.datetime(2026, 11, 10, 9, 0),
                assigned_researcher=User.get_by_id(users["researcher"]),
            )
            values.update(overrides)
            return Case.create(**values).id

    return make
