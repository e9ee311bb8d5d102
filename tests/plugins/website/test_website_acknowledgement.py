"""The acknowledgement PDF after applying online: made by the letters plugin through ``case_document``
(an outgoing letter with its registry number, issued once), the printable page when no plugin makes it."""
from __future__ import annotations

import io

import pytest
from conftest import text_of
from website_helpers import (  # noqa: F401  (fixtures)
    app_config, apply_fully, outbox, types,
)

from portal.db import database


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _case_and_letters(app):
    from plugins.letters.models import Letter
    from portal.models import Case, TimelineEntry

    with app.app_context(), database.connection_context():
        case = Case.select().order_by(Case.id.desc()).first()
        letters = list(Letter.select().where(Letter.case == case.id))
        entries = list(TimelineEntry.select().where(TimelineEntry.case == case.id, TimelineEntry.channel == "letters"))
        return case, letters, entries


@pytest.mark.needs_plugins("letters")
def test_the_done_page_offers_the_pdf_and_it_is_an_issued_letter(app, client, types, outbox):
    apply_fully(client, app)
    done = client.get("/site/apply/done")
    assert 'href="/site/apply/acknowledgement.pdf"' in done.get_data(as_text=True)
    assert "تحميل إشعار الاستلام (PDF)" in text_of(done)

    r = client.get("/site/apply/acknowledgement.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.data.startswith(b"%PDF-")
    case, letters, entries = _case_and_letters(app)
    assert len(letters) == 1
    letter = letters[0]
    assert letter.template.purpose == "acknowledgement" and letter.issued_by is None
    assert r.headers["Content-Disposition"] == f"attachment; filename=letter-{letter.hijri_year}-{letter.sequence:06d}.pdf"
    assert "no-store" in r.headers["Cache-Control"]
    text = pdf_text(r.data)
    assert case.reference in text and letter.number.split("-", 1)[1] in text
    # the officer sees the letter on the beneficiary's timeline
    assert len(entries) == 1 and entries[0].data["number"] == letter.number

    # a second download (or a reload) gives the same letter, not a new number
    again = client.get("/site/apply/acknowledgement.pdf")
    assert again.data == r.data
    _case, letters, entries = _case_and_letters(app)
    assert len(letters) == 1 and len(entries) == 1


@pytest.mark.needs_plugins("letters")
def test_the_pdf_promises_the_same_reply_date_as_the_page(app, client, types, outbox):
    from plugins.letters.render import date_words
    from plugins.website.tracking import expected_reply_date

    apply_fully(client, app)
    pdf = client.get("/site/apply/acknowledgement.pdf").data
    case, letters, _entries = _case_and_letters(app)
    with app.test_request_context():
        expected = expected_reply_date(case)
        words = str(date_words(expected))
    assert expected is not None
    stored = letters[0].template_version.body
    assert "expected_reply_date" in stored
    # the Hijri and Gregorian years of the promised date are printed (digits survive text extraction)
    text = pdf_text(pdf)
    for year in {w for w in words.replace("<bdi>", " ").replace("</bdi>", " ").split() if w.isdigit() and len(w) == 4}:
        assert year in text


@pytest.mark.needs_plugins("letters")
def test_an_incomplete_request_still_gets_its_acknowledgement(app, client, types, outbox):
    apply_fully(client, app, documents=("national_id",))
    case, _letters, _entries = _case_and_letters(app)
    assert case.status == "incomplete" and case.submitted_at is None
    r = client.get("/site/apply/acknowledgement.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert case.reference in pdf_text(r.data)


@pytest.mark.needs_plugins("letters")
def test_the_tracking_page_offers_the_same_pdf(app, client, types, outbox):
    apply_fully(client, app)
    first = client.get("/site/apply/acknowledgement.pdf").data
    status = client.get("/site/track/status")
    assert 'href="/site/track/acknowledgement.pdf"' in status.get_data(as_text=True)
    r = client.get("/site/track/acknowledgement.pdf")
    assert r.status_code == 200 and r.data == first
    _case, letters, _entries = _case_and_letters(app)
    assert len(letters) == 1


def test_without_a_session_there_is_no_pdf(app, client, types, outbox):
    apply_fully(client, app)
    other = app.test_client()
    r = other.get("/site/apply/acknowledgement.pdf")
    assert r.status_code == 302 and r.headers["Location"].endswith("/site/apply")
    r = other.get("/site/track/acknowledgement.pdf")
    assert r.status_code == 302 and r.headers["Location"].endswith("/site/track")
    _case, letters, _entries = _case_and_letters(app)
    assert letters == []


@pytest.mark.needs_plugins("letters")
def test_a_template_that_cannot_be_filled_falls_back_to_the_printable_page(app, client, types, outbox):
    """An admin's template edit that uses a field the request has no data for must not break the
    applicant's download: the printable page answers and nothing is numbered."""
    from plugins.letters import service

    apply_fully(client, app)
    with app.app_context(), database.connection_context():
        template = service.template_for_purpose("acknowledgement")
        version = service.current_version(template)
        service.save_version(template, subject=version.subject, body=version.body + "<p>{{ amount }}</p>",
                             css=version.css, extra_fields=version.extra_fields, actor=None)
    r = client.get("/site/apply/acknowledgement.pdf")
    assert r.status_code == 302 and r.headers["Location"].endswith("/site/apply/acknowledgement")
    assert client.get(r.headers["Location"]).status_code == 200
    _case, letters, _entries = _case_and_letters(app)
    assert letters == []


@pytest.fixture
def without_letters(app_config):
    from portal.plugins import available_plugins

    app_config["PLUGINS"] = ",".join(n for n in available_plugins() if n != "letters")
    return app_config


def test_without_the_letters_plugin_the_printable_page_is_offered(without_letters, app, client, types, outbox):
    apply_fully(client, app)
    done = client.get("/site/apply/done").get_data(as_text=True)
    assert "acknowledgement.pdf" not in done and 'href="/site/apply/acknowledgement"' in done
    r = client.get("/site/apply/acknowledgement.pdf")
    assert r.status_code == 302 and r.headers["Location"].endswith("/site/apply/acknowledgement")
    assert "acknowledgement.pdf" not in client.get("/site/track/status").get_data(as_text=True)
