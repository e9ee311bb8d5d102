"""One expected reply date for the applicant: the tracking page, the acknowledgement letter and the
committee's deadline all read ``research.expected_reply_date``."""
from __future__ import annotations

import datetime as dt

from portal.models import Case
from portal.workflow.research import expected_reply_date


def test_before_the_committee_it_is_the_received_day_plus_the_committees_days(app):
    app.config["COMMITTEE_DAYS"] = 14
    with app.app_context():
        # received 22:30 UTC on 1 March = 2 March in Riyadh; 14 days later is the 16th in Riyadh
        case = Case(status="in_research", submitted_at=dt.datetime(2026, 3, 1, 22, 30),
                    created_at=dt.datetime(2026, 2, 20, 9, 0))
        assert expected_reply_date(case) == dt.date(2026, 3, 16)
        draft = Case(status="incomplete", submitted_at=None, created_at=dt.datetime(2026, 3, 1, 9, 0))
        assert expected_reply_date(draft) == dt.date(2026, 3, 15)  # not submitted yet: from its creation
        app.config["COMMITTEE_DAYS"] = 7
        assert expected_reply_date(draft) == dt.date(2026, 3, 8)


def test_once_the_committee_has_it_its_due_date_wins(app):
    with app.app_context():
        case = Case(status="awaiting_committee", submitted_at=dt.datetime(2026, 3, 1, 9, 0),
                    committee_due_at=dt.datetime(2026, 3, 20, 21, 0))  # 00:00 on the 21st in Riyadh
        assert expected_reply_date(case) == dt.date(2026, 3, 21)


def test_a_case_with_no_dates_has_none(app):
    with app.app_context():
        assert expected_reply_date(Case(status="draft", created_at=None, submitted_at=None)) is None


def test_the_tracking_page_shows_it_only_while_the_applicant_waits(app):
    from plugins.website.tracking import expected_reply_date as tracking_date

    with app.app_context():
        waiting = Case(status="submitted", submitted_at=dt.datetime(2026, 3, 1, 9, 0))
        assert tracking_date(waiting) == expected_reply_date(waiting)
        for status in ("draft", "approved", "rejected", "closed", "withdrawn"):
            assert tracking_date(Case(status=status, submitted_at=dt.datetime(2026, 3, 1, 9, 0))) is None
