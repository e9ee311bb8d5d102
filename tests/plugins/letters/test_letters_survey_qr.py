"""The service receipt and the decision letter carry the satisfaction survey's link as a QR code (the core's
``document_extras``), so a beneficiary served at the office can rate the service from the paper."""
from __future__ import annotations

import pytest
from letters_helpers import make_case, pdf_text  # noqa: F401  (make_case is a fixture)

from portal.db import database


@pytest.fixture
def app_config(app_config):
    app_config["LETTERS_AUTO_STATUSES"] = ["rejected"]
    return app_config


def test_the_decision_letter_prints_the_survey_link(app, client, auth, users, make_case):
    from plugins.letters.models import Letter
    from portal.models import Case
    from portal.satisfaction import service
    from portal.satisfaction.models import Survey
    from portal.workflow import machine

    case_id = make_case(status="awaiting_committee", reasons="دخل الأسرة يزيد على الحد المعتمد")
    with app.test_request_context(), database.connection_context():
        machine.transition(Case.get_by_id(case_id), "reject")
        letter = Letter.get(Letter.case == case_id)
        assert letter.template.purpose == "decision_rejected"
        token = service.token_for(Survey.get(Survey.case == case_id))
    auth.login("officer")
    text = pdf_text(client.get(f"/letters/out/{letter.id}/pdf").data)
    assert "قيّم خدمتنا" in text and token[:8] in text.replace("\n", "")


def test_no_survey_no_code(app, client, auth, users, make_case):
    """A beneficiary who opted out gets no survey, and so no code on the letter."""
    from plugins.letters.models import Letter
    from portal.models import Beneficiary, Case
    from portal.satisfaction import service
    from portal.workflow import machine

    case_id = make_case(status="awaiting_committee", reasons="دخل الأسرة يزيد على الحد المعتمد")
    with app.test_request_context(), database.connection_context():
        case = Case.get_by_id(case_id)
        service.opt_out(Beneficiary.get_by_id(case.beneficiary_id), via="desk")
        machine.transition(case, "reject")
        letter = Letter.get(Letter.case == case_id)
    auth.login("officer")
    assert "قيّم خدمتنا" not in pdf_text(client.get(f"/letters/out/{letter.id}/pdf").data)
