"""The state machine exhaustively: every status x every action, refusals change nothing, double
transitions happen once, every change writes a timeline entry, an audit event and calls the hook."""
import pytest

from portal.models import AuditEvent, Case, TimelineEntry
from portal.plugins import get_pm
from portal.workflow import machine
from portal.workflow.errors import StaleCase, TransitionNotAllowed

PAIRS = [(s, a) for s in machine.STATUSES for a in machine.TRANSITIONS]


def test_the_table_covers_the_design():
    assert machine.TRANSITIONS["submit"] == (("draft", "incomplete"), "submitted")
    assert machine.TRANSITIONS["mark_incomplete"][1] == "incomplete"
    assert set(machine.TRANSITIONS["withdraw"][0]) == {
        "draft", "submitted", "incomplete", "in_research", "awaiting_committee", "approved", "registered"}
    for final in ("closed", "withdrawn"):
        assert machine.allowed_actions(final) == []


@pytest.mark.parametrize(("status", "action"), PAIRS)
def test_every_status_and_action(wf, db_snapshot, status, action):
    # a request in ``status``, built once for the 13 actions tried on it
    case = Case.get_by_id(db_snapshot(f"a request {status}", lambda: wf.case(status).id))
    assert case.status == status
    sources, target = machine.TRANSITIONS[action]
    # Entries of the workflow itself; plugins (the letters plugin's decision letters) may add their own, and
    # the status change's notice to the beneficiary is an outgoing entry (tests/workflow/test_notices.py).
    core_entries = TimelineEntry.select().where((TimelineEntry.channel != "letters") & (TimelineEntry.direction != "out"))
    before = (Case.get_by_id(case.id).version, core_entries.count(), AuditEvent.select().count())
    if status in sources:
        outcome = machine.transition(case, action, actor=wf.user("officer"))
        assert outcome.changed and outcome.case.status == target and outcome.old == status
        fresh = Case.get_by_id(case.id)
        assert (fresh.status, fresh.version) == (target, before[0] + 1)
        assert core_entries.count() == before[1] + 1
        entry = core_entries.order_by(TimelineEntry.id.desc()).first()
        assert entry.data["kind"] == "case_status" and (entry.data["from"], entry.data["to"]) == (status, target)
    else:
        with pytest.raises(TransitionNotAllowed):
            machine.transition(case, action, actor=wf.user("officer"))
        fresh = Case.get_by_id(case.id)
        assert (fresh.status, fresh.version) == (status, before[0])
        assert (core_entries.count(), AuditEvent.select().count()) == before[1:]


def test_hook_case_status_changed(wf):
    """The hook is called inside the transition, with the new status already written."""
    seen = []

    class Plugin:
        @staticmethod
        def case_status_changed(case, old, new, actor):
            seen.append((case.reference, old, new, actor.username if actor else None,
                         Case.get_by_id(case.id).status))

    from portal import hookimpl

    Plugin.case_status_changed = hookimpl(Plugin.case_status_changed)
    pm = get_pm()
    pm.register(Plugin, name="probe")
    try:
        case = wf.case("draft")
        machine.transition(case, "withdraw", actor=wf.user("officer"))
    finally:
        pm.unregister(name="probe")
    assert seen == [(case.reference, "draft", "withdrawn", "officer", "withdrawn")]


def test_a_failing_hook_rolls_back_the_whole_transition(wf):
    from portal import hookimpl

    class Broken:
        @staticmethod
        @hookimpl
        def case_status_changed(case, old, new, actor):
            raise RuntimeError("letter printer on fire")

    case = wf.case("draft")
    before = (TimelineEntry.select().count(), AuditEvent.select().count())
    pm = get_pm()
    pm.register(Broken, name="broken")
    try:
        with pytest.raises(RuntimeError):
            machine.transition(case, "withdraw", actor=wf.user("officer"))
    finally:
        pm.unregister(name="broken")
    assert Case.get_by_id(case.id).status == "draft"
    assert (TimelineEntry.select().count(), AuditEvent.select().count()) == before


def test_same_transition_twice_with_the_seen_version_happens_once(wf):
    case = wf.case("draft")
    first = machine.transition(case, "withdraw", actor=wf.user("officer"), expected_version=1)
    second = machine.transition(case, "withdraw", actor=wf.user("officer"), expected_version=1)
    assert (first.changed, second.changed) == (True, False)
    assert AuditEvent.select().where(AuditEvent.action == "transition").count() == 1


def test_a_different_change_in_between_is_a_conflict(wf):
    case = wf.case("submitted")
    seen_version = Case.get_by_id(case.id).version
    machine.transition(case, "withdraw", actor=wf.user("officer"))
    with pytest.raises(StaleCase):
        machine.transition(case, "refer", actor=wf.user("officer"), expected_version=seen_version)
