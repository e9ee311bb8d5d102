"""Issuing in three steps (number and "issuing" row, PDF drawn outside any transaction, stored and made
valid): a failure after the number was taken leaves it recorded as spoiled, a stopped process's number is
settled, neither verifies, a form sent twice still gets one letter, and a batch drawn by a pool of processes
gives the letters one process gives."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from letters_helpers import make_case, pdf_text, text_of  # noqa: F401  (make_case is a fixture)

from portal.db import database
from portal.text import strip_bidi_controls

GENERAL = {"subject_text": "إفادة", "body_text": "نص الخطاب."}


def _issue(**kwargs):
    from plugins.letters import service

    return service.issue_letter(template=service.template_by_key("general"), recipient="جهة حكومية",
                                extra=dict(GENERAL), **kwargs)


def _counter():
    from portal.models import Counter

    return [v for (v,) in Counter.select(Counter.value).where(Counter.name.startswith("letters_out")).tuples()]


@pytest.mark.parametrize("where", ["render", "store"])
def test_a_failure_after_the_number_leaves_it_spoiled_with_its_reason(app, monkeypatch, where):
    from plugins.letters import render, service
    from plugins.letters.models import Letter
    from portal.models import AuditEvent, TimelineEntry

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(render if where == "render" else service,
                        "html_to_pdf" if where == "render" else "store_bytes", broken)
    with app.app_context(), database.connection_context():
        with pytest.raises(service.IssueError) as failure:
            _issue(token="a-form-token-0123456789")
        spoiled = Letter.get()
        message = strip_bidi_controls(str(failure.value.message))
        assert spoiled.number in message and "تالفًا في السجل" in message and "disk full" in message
        assert (spoiled.status, spoiled.sequence, spoiled.pdf_sha256) == ("spoiled", 1, "")
        assert "OSError: disk full" in spoiled.revoked_reason and spoiled.revoked_at is not None
        assert spoiled.issue_token is None  # the form sent again issues a new letter
        assert TimelineEntry.select().where(TimelineEntry.channel == "letters").count() == 0  # nothing half-written
        audited = AuditEvent.get((AuditEvent.object_type == "letter") & (AuditEvent.object_id == str(spoiled.id)))
        assert audited.details["status"] == "spoiled" and "disk full" in audited.details["reason"]
        monkeypatch.undo()
        again = _issue(token="a-form-token-0123456789")
        assert (again.status, again.sequence) == ("valid", 2) and again.pdf_sha256
        assert _counter() == [2]  # gap-free: 1 spoiled (recorded), 2 issued


def test_spoiled_and_issuing_numbers_never_verify_and_show_in_the_registry(app, client, auth, monkeypatch):
    from plugins.letters import render, service
    from plugins.letters.models import Letter

    monkeypatch.setattr(render, "html_to_pdf", lambda html: 1 / 0)
    with app.app_context(), database.connection_context():
        with pytest.raises(service.IssueError):
            _issue()
        spoiled = Letter.get()
        plan = service._plan(template=service.template_by_key("general"), beneficiary=None, case=None, actor=None,
                             extra=dict(GENERAL), recipient="جهة", replaces=None, batch=None, base_url=None,
                             token=None)
        issuing, fresh = service._reserve(plan)
        assert fresh and issuing.status == "issuing"
        for row in (spoiled, issuing):
            assert service.find_for_verification(row.number, row.verify_code) is None
            with pytest.raises(service.IssueError):
                service.revoke_letter(row, reason="x")
            with pytest.raises(service.IssueError):
                service.reissue_letter(row)
    for row in (spoiled, issuing):
        short = row.number.split("-", 1)[1]
        assert client.get(f"/letters/verify/{short}?c={row.verify_code}").status_code == 404
    auth.login("officer")
    page = text_of(client.get("/letters/?status=spoiled"))
    assert spoiled.number in page and issuing.number not in page and "ZeroDivisionError" in page
    assert issuing.number in text_of(client.get("/letters/?status=issuing"))
    shown = client.get(f"/letters/out/{issuing.id}")
    assert shown.status_code == 200 and f"/letters/out/{issuing.id}/pdf" not in shown.get_data(as_text=True)
    assert client.get(f"/letters/out/{spoiled.id}/pdf").status_code == 404


def test_a_number_left_issuing_by_a_stopped_process_is_settled_as_spoiled(app, monkeypatch):
    from plugins.letters import service
    from plugins.letters.models import Letter
    from portal.db import utcnow
    from portal.uploads import path_for

    with app.app_context(), database.connection_context():
        plan = service._plan(template=service.template_by_key("general"), beneficiary=None, case=None, actor=None,
                             extra=dict(GENERAL), recipient="جهة", replaces=None, batch=None, base_url=None,
                             token=None)
        stalled, _fresh = service._reserve(plan)  # the process stops here
        assert service.settle_stalled() == []  # not yet: it may still be drawing its PDF
        Letter.update(issued_at=utcnow() - dt.timedelta(minutes=11)).where(Letter.id == stalled.id).execute()
        assert service.settle_stalled() == [stalled.number]
        row = Letter.get_by_id(stalled.id)
        assert row.status == "spoiled" and row.revoked_reason == service.STALLED_REASON
        # the process was only slow: its PDF arrives after the number was settled, and is not kept
        pdf, pages = service.render.html_to_pdf(service._final_html(plan, stalled))
        stored = []
        original = service.store_bytes
        monkeypatch.setattr(service, "store_bytes", lambda *a, **k: stored.append(original(*a, **k)) or stored[-1])
        with pytest.raises(service.IssueError) as late:
            service._complete(plan, stalled, pdf, pages)
        assert service.STALLED_REASON in str(late.value.message)
        assert Letter.get_by_id(stalled.id).status == "spoiled"
        assert len(stored) == 1 and not path_for(stored[0].sha256).exists()  # the late PDF is not kept
        monkeypatch.undo()
        assert _issue().sequence == 2


def test_the_same_token_while_the_first_is_being_issued_waits_for_it(app):
    """A form sent again while its letter is being drawn gets that letter once it is valid, no second number."""
    import threading

    from plugins.letters import render, service
    from plugins.letters.models import Letter

    token = "same-form-token-0123456789"
    started, release = threading.Event(), threading.Event()
    original = render.html_to_pdf

    def slow(html):
        started.set()
        release.wait(30)
        return original(html)

    results = {}

    def first():
        with app.app_context(), database.connection_context():
            results["first"] = _issue(token=token).number

    render.html_to_pdf = slow
    try:
        thread = threading.Thread(target=first)
        thread.start()
        assert started.wait(60)
        render.html_to_pdf = original
        with app.app_context(), database.connection_context():
            assert Letter.get().status == "issuing"
            threading.Timer(0.3, release.set).start()
            second = _issue(token=token)
        thread.join(60)
    finally:
        render.html_to_pdf = original
        release.set()
    assert second.number == results["first"] and second.status == "valid"
    with app.app_context(), database.connection_context():
        assert Letter.select().count() == 1 and _counter() == [1]


def _run(app, case_ids, processes, by_decision=False):
    from plugins.letters import service
    from plugins.letters.models import Letter, LetterBatch

    app.config["LETTERS_BATCH_PROCESSES"] = processes
    with app.app_context(), database.connection_context():
        batch = LetterBatch.create(template=service.template_by_key("decision_approved"), case_ids=case_ids,
                                   total=len(case_ids), by_decision=by_decision)
        service.run_batch(batch.id)
        batch = LetterBatch.get_by_id(batch.id)
        letters = list(Letter.select().where(Letter.batch == batch).order_by(Letter.sequence))
        merged = service.read_stored(batch.pdf_sha256) if batch.pdf_sha256 else b""
        return batch, letters, merged


def test_a_batch_drawn_by_a_pool_gives_the_letters_one_process_gives(app, make_case):
    from pypdf import PdfReader

    cases = {}
    for processes in (1, 2):
        ids = [make_case(status="approved", reasons="مستوفٍ"), make_case(status="rejected", reasons=""),
               make_case(status="approved", reasons="مستوفٍ"), make_case(status="rejected", reasons="الدخل"),
               make_case(status="approved", reasons="مستوفٍ")]
        cases[processes] = _run(app, ids, processes, by_decision=True)
    one, pool = cases[1], cases[2]
    for batch, letters, merged in (one, pool):
        assert (batch.status, batch.total, batch.done, batch.failed) == ("done", 5, 4, 1)
        assert [e["message"] for e in batch.errors] and "decision_reasons" in batch.errors[0]["message"]
        assert [r.status for r in letters] == ["valid"] * 4
        sequences = [r.sequence for r in letters]
        assert sequences == list(range(sequences[0], sequences[0] + 4))  # consecutive, in the batch's order
        pages = PdfReader(io.BytesIO(merged)).pages
        assert len(pages) == 4
        # each letter's page, in the batch's order, carries its own number and request
        for page, letter in zip(pages, letters):
            text = pdf_text_of(page)
            assert letter.number.split("-", 1)[1] in text and letter.case.reference in text
    assert [r.template.key for r in one[1]] == [r.template.key for r in pool[1]]
    assert [r.page_count for r in one[1]] == [r.page_count for r in pool[1]]
    assert one[0].errors[0]["message"] == pool[0].errors[0]["message"]
    assert one[1][-1].sequence + 1 == pool[1][0].sequence  # the spoiled-free registry runs on without a gap


def pdf_text_of(page) -> str:
    return strip_bidi_controls(page.extract_text())


def test_the_qr_codes_drawn_by_the_pool_are_the_ones_drawn_in_the_worker(app):
    """A batch's pool gets the HTML with QR placeholders and draws the codes itself: the same page."""
    from pypdf import PdfReader

    from plugins.letters import pdfwork, render, service

    with app.app_context(), database.connection_context():
        plan = service._plan(template=service.template_by_key("general"), beneficiary=None, case=None, actor=None,
                             extra=dict(GENERAL), recipient="جهة", replaces=None, batch=None, base_url=None,
                             token=None)
        letter, _fresh = service._reserve(plan)
        inline = service._final_html(plan, letter)
        codes = {}
        deferred = service._final_html(plan, letter, codes)
        allowed = render._allowed_urls()
        assert list(codes.values()) == [service.verify_url(letter.number, letter.verify_code, None)]
    assert pdfwork.QR_PLACEHOLDER in deferred and pdfwork.QR_PLACEHOLDER not in inline
    pages = [PdfReader(io.BytesIO(pdfwork.render_pdf(html, allowed, qr)[0])).pages[0].get_contents().get_data()
             for html, qr in ((inline, None), (deferred, codes))]
    assert pages[0] == pages[1] and len(pages[0]) > 5000  # the QR code's modules are drawn on the page


def test_a_file_erased_while_its_letter_is_being_issued_keeps_no_pdf(app, make_beneficiary):
    import hashlib

    from plugins.letters import privacy, service
    from plugins.letters.models import Letter
    from portal.models import Beneficiary
    from portal.uploads import path_for

    ben_id = make_beneficiary()
    with app.app_context(), database.connection_context():
        ben = Beneficiary.get_by_id(ben_id)
        plan = service._plan(template=service.template_by_key("general"), beneficiary=ben, case=None, actor=None,
                             extra=dict(GENERAL), recipient="", replaces=None, batch=None, base_url=None, token=None)
        letter, _fresh = service._reserve(plan)
        pdf, pages = service.render.html_to_pdf(service._final_html(plan, letter))
        with database.atomic():
            answer = privacy.anonymise_beneficiary(ben, None)  # the erasure, between the PDF and its storing
        assert answer["kept"] == [letter.number]
        row = Letter.get_by_id(letter.id)
        assert (row.status, row.revoked_reason, row.recipient) == ("spoiled", privacy.ERASED_WHILE_ISSUING, "")
        with pytest.raises(service.IssueError):
            service._complete(plan, letter, pdf, pages)
        row = Letter.get_by_id(letter.id)
        assert row.status == "spoiled" and row.pdf_sha256 == ""
        assert not path_for(hashlib.sha256(pdf).hexdigest()).exists()  # stored unsigned as drawn, then deleted
