"""Fixtures for the support-request workflow: request types, a beneficiary with documents, cases
moved to a given status through the real services."""
from __future__ import annotations

import datetime as dt

import pytest

from portal.db import database


@pytest.fixture
def wf(app, users, make_beneficiary):
    """Helpers bound to an open connection: ``wf.ben`` (a beneficiary of branch TAIF with a valid ID
    and family card), ``wf.user(role)``, ``wf.case(status)`` builds a case up to that status."""
    from portal.models import Beneficiary, Document, User
    from portal.workflow.defaults import ensure_default_request_types

    class Helpers:
        def user(self, role):
            return User.get_by_id(users[role])

        def beneficiary(self, **overrides):
            return Beneficiary.get_by_id(make_beneficiary(**overrides))

        def document(self, ben, kind, expiry=None, issue=None):
            return Document.create(beneficiary=ben, kind=kind, number="123", expiry_date=expiry, issue_date=issue)

        def ready_beneficiary(self, **overrides):
            overrides.setdefault("branch", "TAIF")
            ben = self.beneficiary(**overrides)
            today = dt.date.today()
            self.document(ben, "national_id", today + dt.timedelta(days=400))
            self.document(ben, "family_card")
            return ben

        def case(self, status="draft", ben=None, request_type="food_basket"):
            from portal.workflow import intake, machine

            ben = ben or self.ready_beneficiary()
            officer = self.user("officer")
            case = intake.open_request(ben, request_type, channel="interview", actor=officer,
                                       summary="طلب", answers=self.answers(request_type))
            path = PATHS[status]
            for step in path:
                case = STEPS[step](self, case)
            return case

        def answers(self, code):
            from portal.workflow.intake import get_request_type, questions

            out = {}
            for q in questions(get_request_type(code)):
                out[str(q.id)] = {"yes_no": "no", "number": "4", "text": "نص"}[q.answer_kind]
            return out

    # This fixture keeps one app context open for the whole test, and a request reuses an open app context
    # (and its ``g``): the app's own ``before_request`` (``create_app``) makes Flask-Babel forget the language
    # of an earlier request. (Adding a handler here would fail: the app is shared and has served requests.)
    with app.app_context():
        database.connect(reuse_if_open=True)
        ensure_default_request_types()
        yield Helpers()
        if not database.is_closed():
            database.close()


def _submit(h, case):
    from portal.workflow import intake

    return intake.submit(case, actor=h.user("officer")).case


def _incomplete(h, case):
    from portal.workflow import intake

    return intake.mark_incomplete(case, actor=h.user("officer"), note="صورة غير واضحة").case


def _declare(h, case):
    from portal.workflow import intake

    intake.record_declaration(case, method="read_out", channel="phone", witness=h.user("officer"),
                              actor=h.user("officer"))
    return case


def _refer(h, case):
    from portal.workflow import research

    return research.refer(case, researcher=h.user("researcher"), reason="دراسة الحالة",
                          actor=h.user("officer")).case


def _report(h, case):
    from portal.workflow import research

    research.record_report(case, actor=h.user("researcher"), data={
        "visit_date": dt.date.today().isoformat(), "household_situation": "أسرة من خمسة أفراد",
        "monthly_income": "1500", "housing": "شقة مستأجرة", "needs": "سلة غذائية", "recommendation": "approve"})
    return case


def _to_committee(h, case):
    from portal.workflow import research

    return research.send_to_committee(case, actor=h.user("researcher")).case


def _decide(decision):
    def step(h, case):
        from committee_helpers import committee_trio, open_trio_session

        from portal.workflow import committee

        session = open_trio_session()
        for member in committee_trio()[:2]:
            committee.cast_vote(session, case, member=member, vote=decision)
        data = {"amount": "500"} if decision == "approve" else {"reasons": "لا تنطبق الشروط"}
        return committee.decide(session, case, decision=decision, actor=h.user("committee"), **data).case
    return step


def _register(h, case):
    from portal.workflow import service

    return service.register(case, actor=h.user("officer"), starts_on=dt.date.today()).case


def _serve(h, case):
    from portal.workflow import service

    return service.record_delivery(case, actor=h.user("officer"), what="سلة غذائية", quantity=1,
                                   delivered_on=dt.date.today()).case


def _close(h, case):
    from portal.workflow import machine

    return machine.transition(case, "close", actor=h.user("officer")).case


def _withdraw(h, case):
    from portal.workflow import service

    return service.withdraw(case, actor=h.user("officer"), reason="بطلب المستفيد").case


STEPS = {"submit": _submit, "incomplete": _incomplete, "declare": _declare, "refer": _refer, "report": _report,
         "to_committee": _to_committee, "approve": _decide("approve"), "reject": _decide("reject"),
         "register": _register, "serve": _serve, "close": _close, "withdraw": _withdraw}
_COMMITTEE = ["submit", "declare", "refer", "report", "to_committee"]
PATHS = {
    "draft": [], "submitted": ["submit"], "incomplete": ["submit", "incomplete"],
    "in_research": ["submit", "refer"], "awaiting_committee": _COMMITTEE,
    "approved": _COMMITTEE + ["approve"], "rejected": _COMMITTEE + ["reject"],
    "registered": _COMMITTEE + ["approve", "register"], "served": _COMMITTEE + ["approve", "register", "serve"],
    "closed": _COMMITTEE + ["approve", "register", "serve", "close"], "withdrawn": ["withdraw"],
}
