"""The request page shows the policy's seven steps as a progress line, and the actions not possible now as
disabled buttons with the reason."""
from __future__ import annotations

import re

import pytest
from conftest import PASSWORD

from portal.db import database
from portal.workflow import progress


def _states(case, declared=False, reported=False):
    return [s.state for s in progress.steps(case, declared=declared, reported=reported)]


@pytest.mark.parametrize("status, expected", [
    ("draft", ["done", "current", "todo", "todo", "todo", "todo", "todo"]),
    ("submitted", ["done", "done", "current", "todo", "todo", "todo", "todo"]),
    ("in_research", ["done", "done", "current", "todo", "todo", "todo", "todo"]),
    ("awaiting_committee", ["done", "done", "done", "done", "current", "todo", "todo"]),
    ("approved", ["done"] * 5 + ["current", "todo"]),
    ("rejected", ["done"] * 5 + ["skipped", "skipped"]),
    ("served", ["done"] * 7),
    ("closed", ["done"] * 7),
    ("withdrawn", ["done"] + ["stopped"] * 6),
])
def test_steps_follow_the_status(wf, status, expected):
    case = wf.case(status)
    declared = status not in ("draft", "submitted", "in_research", "withdrawn")
    reported = declared
    assert _states(case, declared, reported) == expected


def test_incomplete_request_is_at_the_documents_step(wf):
    case = wf.case("incomplete")
    assert _states(case) == ["done", "current", "todo", "todo", "todo", "todo", "todo"]


def test_declaration_and_report_mark_their_steps_done_before_the_committee(wf):
    case = wf.case("in_research")
    assert _states(case, declared=True) == ["done", "done", "current", "done", "todo", "todo", "todo"]
    assert _states(case, declared=True, reported=True) == ["done", "done", "done", "done", "current", "todo", "todo"]


def _login(client, username):
    client.post("/logout")
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302


def test_the_page_draws_the_line_with_the_committee_due_date(app, client, wf):
    case = wf.case("awaiting_committee")
    due = case.committee_due_at
    database.close()
    _login(client, "officer")
    html = client.get(f"/cases/{case.reference}?lang=en").get_data(as_text=True)
    line = re.search(r'<ol class="progress-line".*?</ol>', html, re.S).group(0)
    assert line.count('<li class="step ') == 7
    assert line.count("step-done") == 4
    current = re.search(r'<li class="step step-current" aria-current="step">.*?</li>', line, re.S).group(0)
    assert "Research committee" in current and "due" in current and str(due.year) in current
    assert line.count("step-todo") == 2


def _blocked(html):
    block = re.search(r'<div class="blocked-actions".*?</div>', html, re.S)
    if not block:
        return {}
    return {m.group(1): m.group(2) for m in re.finditer(
        r'<li id="blocked-(\w+)"><button type="button" disabled aria-describedby="why-\1">.*?</button>\s*'
        r'<span id="why-\1" class="muted">(.*?)</span>', block.group(0), re.S)}


def test_blocked_actions_are_disabled_with_the_reason(app, client, wf):
    case = wf.case("in_research")  # no report, no declaration yet
    database.close()
    _login(client, "officer")
    html = client.get(f"/cases/{case.reference}?lang=en").get_data(as_text=True)
    blocked = _blocked(html)
    assert "still missing" in blocked["send_to_committee"]
    assert "research report" in blocked["send_to_committee"] and "declaration" in blocked["send_to_committee"]
    assert "researcher assigned" in blocked["report"]
    assert "After the committee approves" in blocked["register"]
    assert "close" in blocked
    # the send form is not offered with a live button while something is missing
    assert f'action="/cases/{case.reference}/committee"' not in html
    assert "refer" not in blocked and "submit" not in blocked  # steps already done are not listed


def test_a_researcher_sees_intake_actions_disabled_for_their_role(app, client, wf):
    case = wf.case("submitted")
    database.close()
    _login(client, "admin")  # admins see every request; use the researcher only where assigned
    html = client.get(f"/cases/{case.reference}?lang=en").get_data(as_text=True)
    assert "refer" not in _blocked(html)  # the admin may refer: offered as a form
    _login(client, "manager")
    blocked = _blocked(client.get(f"/cases/{case.reference}?lang=en").get_data(as_text=True))
    assert "Officers, delegates and administrators" in blocked["refer"]


def test_submit_is_disabled_while_documents_are_missing(app, client, wf):
    ben = wf.beneficiary(branch="TAIF")  # no documents at all
    from portal.workflow import intake

    case = intake.open_request(ben, "food_basket", channel="interview", actor=wf.user("officer"), summary="طلب",
                               answers=wf.answers("food_basket"))
    database.close()
    _login(client, "officer")
    html = client.get(f"/cases/{case.reference}?lang=en").get_data(as_text=True)
    assert "missing or expired" in _blocked(html)["submit"]
    assert 'name="incomplete" value="0"' not in html  # no live Submit button
    assert 'name="incomplete" value="1"' in html  # marking it incomplete stays possible


def test_a_finished_request_lists_no_blocked_actions(app, client, wf):
    case = wf.case("closed")
    database.close()
    _login(client, "officer")
    html = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert 'id="blocked-actions"' not in html
    assert html.count("step-done") == 7
