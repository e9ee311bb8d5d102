"""``case_document``: the letters plugin answers with the request's letter of a purpose; an
acknowledgement is issued on first demand, once, even when two downloads race."""
from __future__ import annotations

import threading

from letters_helpers import make_case, pdf_text  # noqa: F401  (fixture)

from portal.db import database


def _ask(app, case_id, kind, actor=None):
    from portal.models import Case

    with app.test_request_context(), database.connection_context():
        case = Case.get_by_id(case_id)
        return app.extensions["portal_pm"].hook.case_document(case=case, kind=kind, actor=actor)


def _letters(app, case_id):
    from plugins.letters.models import Letter

    with app.app_context(), database.connection_context():
        return list(Letter.select().where(Letter.case == case_id).order_by(Letter.id))


def test_an_acknowledgement_is_issued_once_on_demand(app, make_case):
    case_id = make_case(status="submitted", amount=None)
    first = _ask(app, case_id, "acknowledgement")
    assert first["pdf"].startswith(b"%PDF-") and first["number"].startswith("ص-1448-")
    assert first["filename"] == "letter-" + first["number"].split("-", 1)[1] + ".pdf"  # ASCII, for any browser
    text = pdf_text(first["pdf"])
    assert "1448-000001" in text
    second = _ask(app, case_id, "acknowledgement")
    assert second == first
    letters = _letters(app, case_id)
    assert [lt.number for lt in letters] == [first["number"]]
    assert letters[0].template.purpose == "acknowledgement" and letters[0].entry_id is not None


def test_a_revoked_acknowledgement_is_replaced_by_a_new_number(app, make_case):
    from plugins.letters import service
    from plugins.letters.models import Letter

    case_id = make_case(status="submitted", amount=None)
    first = _ask(app, case_id, "acknowledgement")
    with app.app_context(), database.connection_context():
        service.revoke_letter(Letter.get(Letter.number == first["number"]), reason="خطأ في الاسم")
    second = _ask(app, case_id, "acknowledgement")
    assert second["number"] != first["number"]
    assert [lt.status for lt in _letters(app, case_id)] == ["revoked", "valid"]


def test_other_purposes_are_only_returned_once_issued(app, make_case, users):
    from plugins.letters import service
    from portal.models import Case, User

    case_id = make_case(status="approved")
    assert _ask(app, case_id, "decision_approved") is None
    assert _letters(app, case_id) == []  # asking issued nothing
    with app.test_request_context(), database.connection_context():
        letter = service.issue_letter(template=service.template_for_purpose("decision_approved"),
                                      case=Case.get_by_id(case_id), actor=User.get_by_id(users["officer"]))
    found = _ask(app, case_id, "decision_approved")
    assert found["number"] == letter.number
    assert _ask(app, case_id, "no_such_purpose") is None


def test_two_downloads_racing_get_one_letter(app, make_case):
    case_id = make_case(status="submitted", amount=None)
    _ask(app, make_case(status="submitted", amount=None), "acknowledgement")  # fonts loaded, templates seeded
    barrier = threading.Barrier(2)
    results, errors = [], []

    def download():
        try:
            barrier.wait(timeout=10)
            results.append(_ask(app, case_id, "acknowledgement")["number"])
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(repr(exc))

    threads = [threading.Thread(target=download) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(results) == 2 and results[0] == results[1]
    assert len(_letters(app, case_id)) == 1
