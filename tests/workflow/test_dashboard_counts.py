"""The managers' requests-by-month charts read ``case_month`` (``portal.stats``), kept by the workflow in the
same transaction as each request's creation and transition: the counts equal a recount from the requests."""
from __future__ import annotations

from flask import current_app

from portal import stats
from portal.dates import saudi_today
from portal.models import Case, CaseMonth


def _counts():
    return {(r.month, r.kind, r.key): r.count for r in CaseMonth.select() if r.count}


def _from_requests():
    """The same figures counted from the requests themselves."""
    return dict(stats.case_tally(stats.case_row(c) for c in Case.select()))


def test_request_counts_follow_every_transition_and_equal_a_recount(wf):
    for status in ("draft", "submitted", "incomplete", "approved", "rejected", "withdrawn"):
        wf.case(status)
    kept = _counts()
    month = stats.month_key(saudi_today())
    assert kept == _from_requests()
    assert kept[(month, "opened", "approved")] == 1 and kept[(month, "opened", "withdrawn")] == 1
    assert sum(n for (m, kind, _key), n in kept.items() if kind == "decided") == 2  # approved and rejected
    assert kept[(month, "opened", "draft")] == 1 and kept[(month, "opened", "incomplete")] == 1
    stats.recount_cases()
    assert _counts() == kept


def test_recount_repairs_drift_in_the_months_shown_and_keeps_older_ones(wf):
    case = wf.case("submitted")
    month = stats.month_key(case.created_at)
    stats.add_cases({("2019-01", "opened", "closed"): 3})  # older than the recount's months: kept
    CaseMonth.update(count=40).where(CaseMonth.month == month).execute()  # a count that drifted
    Case.update(status="withdrawn").where(Case.id == case.id).execute()  # a change behind the workflow's back
    stats.recount_cases()
    assert _counts() == {(month, "opened", "withdrawn"): 1, ("2019-01", "opened", "closed"): 3}


def test_manager_dashboard_figures_equal_the_requests(wf):
    from flask_login import login_user

    from portal.dashboard import _indicators_section
    from portal.db import utcnow

    for status in ("submitted", "approved", "rejected"):
        wf.case(status)
    now = utcnow()
    with current_app.test_request_context("/"):
        login_user(wf.user("manager"))
        section = _indicators_section(now, saudi_today(now))
    key = (saudi_today(now).year, saudi_today(now).month)
    assert sum(section["by_month"][key].values()) == Case.select().count() == 3
    assert section["by_month"][key]["approved"] == 1 and section["by_month"][key]["rejected"] == 1
    decided = Case.select().where(Case.decided_at.is_null(False)).count()
    assert sum(section["deadline"][key].values()) == decided == 2

